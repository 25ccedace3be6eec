// Expiry after a period of inactivity, with the expiring amount known in advance (so an email
// can warn the customer). Pure: no I/O, no clock.
import { DAY_MS } from "./earning";
import { ledgerKeys, type LedgerEntry, type NewLedgerEntry } from "./ledger";
import type { LoyaltyProgramSettings } from "./program";

/**
 * Activity that keeps points alive: an order that earned points, a redemption, a bonus the
 * customer did something for (first order, account creation, feedback). Not: reversals,
 * expiry itself, staff adjustments, the automatic birthday bonus.
 */
export function isActivity(entry: Pick<LedgerEntry, "kind" | "idempotencyKey">): boolean {
  if (entry.kind === "earn" || entry.kind === "redeem") return true;
  return entry.kind === "bonus" && !entry.idempotencyKey.startsWith(ledgerKeys.bonus("birthday", ""));
}

export type ExpiryOutlook = {
  lastActivityAt: Date;
  /** lastActivityAt + inactivityDays x 24 h. */
  expiresAt: Date;
  /** What expires then if nothing happens before: the balance available at expiresAt (pending points that mature later are kept). */
  points: number;
};

/** When the customer's points expire and how many, or null (no expiry configured, no activity yet). */
export function expiryOutlook({ entries, settings }: { entries: readonly Pick<LedgerEntry, "kind" | "idempotencyKey" | "points" | "availableAt" | "occurredAt">[]; settings: LoyaltyProgramSettings }): ExpiryOutlook | null {
  if (!settings.expiry) return null;
  let lastActivityAt: Date | null = null;
  for (const entry of entries) if (isActivity(entry) && (!lastActivityAt || entry.occurredAt > lastActivityAt)) lastActivityAt = entry.occurredAt;
  if (!lastActivityAt) return null;
  const expiresAt = new Date(lastActivityAt.getTime() + settings.expiry.inactivityDays * DAY_MS);
  const points = entries.reduce((sum, e) => (e.availableAt.getTime() <= expiresAt.getTime() ? sum + e.points : sum), 0);
  return { lastActivityAt, expiresAt, points: Math.max(0, points) };
}

/**
 * The expiry entry due at `now`, or null. Keyed by customer and expiry instant: a second run
 * finds it written, and new activity moves the expiry date (a new key).
 */
export function planExpiry({ customerGid, entries, settings, now }: { customerGid: string; entries: readonly Pick<LedgerEntry, "kind" | "idempotencyKey" | "points" | "availableAt" | "occurredAt">[]; settings: LoyaltyProgramSettings; now: Date }): NewLedgerEntry | null {
  const outlook = expiryOutlook({ entries, settings });
  if (!outlook || outlook.expiresAt.getTime() > now.getTime() || outlook.points <= 0) return null;
  const key = ledgerKeys.expire(customerGid, outlook.expiresAt);
  if (entries.some((e) => e.idempotencyKey === key)) return null;
  return {
    customerGid,
    points: -outlook.points,
    kind: "expire",
    status: "available",
    availableAt: outlook.expiresAt,
    occurredAt: outlook.expiresAt,
    source: customerGid,
    orderGid: null,
    reason: `Points expired after ${settings.expiry!.inactivityDays} days without activity`,
    rule: { inactivityDays: settings.expiry!.inactivityDays, lastActivityAt: outlook.lastActivityAt.toISOString() },
    idempotencyKey: key,
  };
}
