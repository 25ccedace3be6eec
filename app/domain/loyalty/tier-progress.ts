// Progress to the next tier, as the storefront block shows it: the customer's tier, the next
// one, how much is left (points, or net spend in minor units) and how far along the customer
// is between the two thresholds. Pure: no I/O, no clock; the caller measures the value over
// the program's window (the same metric and window the worker evaluates tiers with).
import type { TierDefinition, TierMetric } from "./program";
import { tierFor } from "./tiers";

export type TierProgress = {
  metric: TierMetric;
  /** The tier shown: the one recorded for the customer when it is still a level of the program, else the one the value reaches. */
  current: string | null;
  /** The value over the window: points earned, or net spend in minor units. */
  value: bigint;
  /** The next level above `current`, or null at the top. */
  next: { name: string; threshold: bigint; remaining: bigint } | null;
  /**
   * How far from the current tier's threshold (0 without a tier) to the next one, in
   * thousandths (0..1000, floored), so the block draws a bar without floating point
   * surprises; 1000 at the top.
   */
  permille: number;
};

/**
 * Builds the progress from the program's levels (thresholds increasing, as the settings
 * schema enforces), the value and the recorded tier. The recorded tier wins for `current`
 * because it is the one tags and earn multipliers use; when the value has already passed the
 * next threshold (the tier is re-evaluated with the next order or maintenance run),
 * `remaining` is 0 and `permille` 1000.
 */
export function buildTierProgress({
  levels,
  metric,
  value,
  recordedTier,
}: {
  levels: readonly TierDefinition[];
  metric: TierMetric;
  value: bigint;
  recordedTier: string | null;
}): TierProgress {
  const recordedIndex = recordedTier === null ? -1 : levels.findIndex((level) => level.name === recordedTier);
  const reached = tierFor({ levels, value });
  const currentIndex = recordedIndex >= 0 ? recordedIndex : reached ? levels.indexOf(reached) : -1;
  const current = currentIndex >= 0 ? levels[currentIndex]! : null;
  const nextLevel = levels[currentIndex + 1] ?? null;
  if (!nextLevel) return { metric, current: current?.name ?? null, value, next: null, permille: 1000 };

  const from = current ? BigInt(current.threshold) : 0n;
  const to = BigInt(nextLevel.threshold);
  const remaining = value >= to ? 0n : to - value;
  const span = to - from;
  const done = value <= from ? 0n : value >= to ? span : value - from;
  const permille = span <= 0n ? 1000 : Number((done * 1000n) / span);
  return { metric, current: current?.name ?? null, value, next: { name: nextLevel.name, threshold: to, remaining }, permille };
}
