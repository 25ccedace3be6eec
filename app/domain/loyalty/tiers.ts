// Tiers: which tier a customer's points earned or net spend over a window qualifies for.
// Pure: no I/O, no clock.
import { TZDate } from "@date-fns/tz";
import { startOfYear, subMonths } from "date-fns";
import type { TierDefinition, TierWindow } from "./program";

/**
 * The start of the window at `now` (inclusive), or null for lifetime.
 * rolling_12_months: the same instant 12 calendar months earlier, in the program's time zone;
 * calendar_year: midnight on 1 January of the current year in the program's time zone.
 */
export function tierWindowStart({ window, timeZone, now }: { window: TierWindow; timeZone: string; now: Date }): Date | null {
  const local = new TZDate(now.getTime(), timeZone);
  if (window === "lifetime") return null;
  if (window === "rolling_12_months") return new Date(subMonths(local, 12).getTime());
  return new Date(startOfYear(local).getTime());
}

/** The highest tier whose threshold the value reaches, or null (below the first). */
export function tierFor({ levels, value }: { levels: readonly TierDefinition[]; value: bigint }): TierDefinition | null {
  let found: TierDefinition | null = null;
  for (const level of levels) if (value >= BigInt(level.threshold)) found = level;
  return found;
}

export type TierFact = { at: Date; value: bigint };

/**
 * The tier at `now` from dated facts: points earned (earn, bonus and their reversals, each
 * dated by its order) or net spend (each order's total minus refunds, dated by the order).
 */
export function evaluateTier({
  levels,
  window,
  timeZone,
  facts,
  now,
}: {
  levels: readonly TierDefinition[];
  window: TierWindow;
  timeZone: string;
  facts: readonly TierFact[];
  now: Date;
}): { tier: string | null; value: bigint; windowStart: Date | null } {
  const windowStart = tierWindowStart({ window, timeZone, now });
  let value = 0n;
  for (const fact of facts) {
    if (fact.at.getTime() > now.getTime()) continue;
    if (windowStart && fact.at.getTime() < windowStart.getTime()) continue;
    value += fact.value;
  }
  return { tier: tierFor({ levels, value })?.name ?? null, value, windowStart };
}
