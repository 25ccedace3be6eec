// Earning: which part of an order earns points, how many, and the earn entry with the rule
// snapshot that later reversals use. Pure: no I/O, no clock. See docs/loyalty.md.
import { z } from "zod";
import { currencyExponent } from "../money";
import { ledgerKeys, statusFor, type NewLedgerEntry } from "./ledger";
import { DECIMAL_SCALE, toScaled, type LoyaltyProgramSettings, type ProgramVersion } from "./program";

export const DAY_MS = 24 * 60 * 60 * 1000;

export type LoyaltyOrderLine = { gid: string; quantity: number; priceMinor: bigint; totalDiscountMinor: bigint; giftCard: boolean };

export type LoyaltyOrder = {
  gid: string;
  name: string | null;
  customerGid: string | null;
  currency: string;
  /** Shopify's subtotal_price: line items after every discount, before shipping and tax (shop money). */
  subtotalMinor: bigint;
  createdAt: Date;
  cancelledAt: Date | null;
  test: boolean;
  financialStatus: string | null;
  lines: readonly LoyaltyOrderLine[];
};

export type MerchandiseLine = { lineItemGid: string; quantity: number; netMinor: bigint };

/** Financial statuses of an order that was paid (a refunded order was paid first). */
const PAID = new Set(["paid", "partially_refunded", "refunded"]);

/**
 * Splits `total` in proportion to `weights` so the parts add up exactly: each part is rounded
 * down, then the units left go to the largest remainders (ties: the earlier weight).
 */
export function allocateProportionally(total: bigint, weights: readonly bigint[]): bigint[] {
  const sum = weights.reduce((a, b) => a + b, 0n);
  if (sum <= 0n || total === 0n) return weights.map(() => 0n);
  const parts = weights.map((w) => (total * w) / sum);
  let left = total - parts.reduce((a, b) => a + b, 0n);
  const order = weights
    .map((w, index) => ({ index, remainder: (total * w) % sum }))
    .sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
  for (const { index } of order) {
    if (left <= 0n) break;
    parts[index]! += 1n;
    left -= 1n;
  }
  return parts;
}

/**
 * The merchandise that earns points, line by line: gift cards and empty lines excluded.
 * `gross_merchandise`: price x quantity. `net_merchandise`: minus the line's own discount and
 * its share of the order's other discounts. Shopify reports order-level discounts per line
 * only in `discount_allocations`, which the CRM does not store, so the order's discounts are
 * recovered as (lines after line discounts) - subtotal_price and shared out in proportion to
 * each line's amount (gift cards cannot be discounted and take no share).
 */
export function merchandiseLines({ order, basis }: { order: LoyaltyOrder; basis: LoyaltyProgramSettings["earn"]["basis"] }): MerchandiseLine[] {
  const lineAmount = (l: LoyaltyOrderLine) => BigInt(l.quantity) * l.priceMinor - (basis === "net_merchandise" ? l.totalDiscountMinor : 0n);
  const eligible = order.lines.filter((l) => !l.giftCard && l.quantity > 0);
  const gross = eligible.map((l) => (lineAmount(l) > 0n ? lineAmount(l) : 0n));
  let shares = gross.map(() => 0n);
  if (basis === "net_merchandise") {
    const allLines = order.lines.filter((l) => l.quantity > 0).reduce((sum, l) => sum + lineAmount(l), 0n);
    const grossEligible = gross.reduce((a, b) => a + b, 0n);
    let orderDiscount = allLines - order.subtotalMinor;
    if (orderDiscount < 0n) orderDiscount = 0n; // subtotal above the lines: nothing more was discounted
    if (orderDiscount > grossEligible) orderDiscount = grossEligible;
    shares = allocateProportionally(orderDiscount, gross);
  }
  return eligible.map((l, index) => ({ lineItemGid: l.gid, quantity: l.quantity, netMinor: gross[index]! - shares[index]! }));
}

/** Whether the order earns now, and why not. */
export function earnability({ order, settings }: { order: LoyaltyOrder; settings: LoyaltyProgramSettings }): { earns: true } | { earns: false; reason: string } {
  if (!settings.enabled) return { earns: false, reason: "program disabled when the order was placed" };
  if (!order.customerGid) return { earns: false, reason: "guest order" };
  if (order.test) return { earns: false, reason: "test order" };
  if (order.cancelledAt) return { earns: false, reason: "cancelled" };
  if (settings.earn.on === "paid" && !PAID.has(order.financialStatus ?? "")) return { earns: false, reason: `not paid (${order.financialStatus ?? "unknown"})` };
  return { earns: true };
}

/** Order points: basis (minor units) x points per unit x multiplier, rounded once per order. */
export function orderPoints({ basisMinor, currency, pointsPerUnit, multiplier, rounding }: { basisMinor: bigint; currency: string; pointsPerUnit: number; multiplier: number; rounding: "floor" | "nearest" }): number {
  const numerator = basisMinor * toScaled(pointsPerUnit) * toScaled(multiplier);
  const denominator = 10n ** BigInt(currencyExponent(currency)) * DECIMAL_SCALE * DECIMAL_SCALE;
  const points = rounding === "floor" ? numerator / denominator : (2n * numerator + denominator) / (2n * denominator);
  if (points > 2_000_000_000n) throw new RangeError(`an order would earn ${points} points: above the ledger's limit`);
  return Number(points);
}

export type EarnMultiplier = { multiplier: number; source: string | null };

/**
 * The multiplier an order earns with: the highest of the customer's tier multiplier and the
 * multipliers of the segments the customer belongs to; 1 when none applies.
 */
export function earnMultiplier({ settings, tier, segmentIds }: { settings: LoyaltyProgramSettings; tier: string | null; segmentIds: ReadonlySet<string> }): EarnMultiplier {
  let best: EarnMultiplier | null = null;
  const consider = (multiplier: number, source: string) => {
    if (!best || multiplier > best.multiplier) best = { multiplier, source };
  };
  const level = tier === null ? undefined : settings.tiers?.levels.find((l) => l.name === tier);
  if (level) consider(level.multiplier, `tier:${level.name}`);
  for (const rule of settings.segmentMultipliers) if (segmentIds.has(rule.segmentId)) consider(rule.multiplier, `segment:${rule.segmentId}`);
  return best ?? { multiplier: 1, source: null };
}

/** The snapshot stored on an earn entry: everything a reversal needs, whatever the rules are by then. */
export const EarnRuleSchema = z.object({
  programVersion: z.number().int(),
  pointsPerUnit: z.number(),
  basis: z.enum(["net_merchandise", "gross_merchandise"]),
  rounding: z.enum(["floor", "nearest"]),
  multiplier: z.number(),
  multiplierSource: z.string().nullable(),
  currency: z.string(),
  basisMinor: z.string(),
  pendingDays: z.number().int(),
  lines: z.array(z.object({ lineItemGid: z.string(), quantity: z.number().int(), netMinor: z.string(), points: z.number().int() })),
});
export type EarnRule = z.output<typeof EarnRuleSchema>;

/**
 * The earn entry for an order under the program version in force when it was placed, or null
 * when it earns nothing (not earnable, or 0 points). Points are rounded once for the order, then
 * shared out to its lines in proportion to their amounts (the shares add up to the order's
 * points), so refunds can reverse them line by line.
 */
export function buildEarnEntry({ order, program, multiplier, now }: { order: LoyaltyOrder; program: ProgramVersion; multiplier: EarnMultiplier; now: Date }): NewLedgerEntry | null {
  const { settings } = program;
  if (!earnability({ order, settings }).earns || !order.customerGid) return null;
  const lines = merchandiseLines({ order, basis: settings.earn.basis });
  const basisMinor = lines.reduce((sum, l) => sum + l.netMinor, 0n);
  const points = orderPoints({ basisMinor, currency: order.currency, pointsPerUnit: settings.earn.pointsPerUnit, multiplier: multiplier.multiplier, rounding: settings.earn.rounding });
  if (points <= 0) return null;
  const linePoints = allocateProportionally(BigInt(points), lines.map((l) => l.netMinor));
  const rule: EarnRule = {
    programVersion: program.version,
    pointsPerUnit: settings.earn.pointsPerUnit,
    basis: settings.earn.basis,
    rounding: settings.earn.rounding,
    multiplier: multiplier.multiplier,
    multiplierSource: multiplier.source,
    currency: order.currency,
    basisMinor: basisMinor.toString(),
    pendingDays: settings.pendingDays,
    lines: lines.map((l, index) => ({ lineItemGid: l.lineItemGid, quantity: l.quantity, netMinor: l.netMinor.toString(), points: Number(linePoints[index]) })),
  };
  const availableAt = new Date(order.createdAt.getTime() + settings.pendingDays * DAY_MS);
  return {
    customerGid: order.customerGid,
    points,
    kind: "earn",
    status: statusFor(availableAt, now),
    availableAt,
    occurredAt: order.createdAt,
    source: order.gid,
    orderGid: order.gid,
    reason: `Order ${order.name ?? order.gid}`,
    rule,
    idempotencyKey: ledgerKeys.earn(order.gid),
  };
}
