// Plain-data builders for the loyalty unit tests, and a tiny in-memory ledger that stores what
// the planners return (refusing a duplicate idempotency key, as the database does).
import type { LoyaltyOrder } from "../../app/domain/loyalty/earning";
import { earnMultiplier } from "../../app/domain/loyalty/earning";
import { walletFromEntries, type LedgerEntry, type NewLedgerEntry } from "../../app/domain/loyalty/ledger";
import { planOrderLoyalty, type LoyaltyRefund } from "../../app/domain/loyalty/plan-order";
import { LoyaltyProgramSettingsSchema, latestVersion, programInForce, type ProgramVersion } from "../../app/domain/loyalty/program";

export const at = (iso: string) => new Date(iso);
export const DAY = 24 * 60 * 60 * 1000;
export const days = (from: Date, n: number) => new Date(from.getTime() + n * DAY);

export function version(settings: Record<string, unknown>, v = 1, effectiveFrom = at("2026-01-01T00:00:00Z")): ProgramVersion {
  return { version: v, effectiveFrom, settings: LoyaltyProgramSettingsSchema.parse({ earn: { pointsPerUnit: 1 }, pendingDays: 0, ...settings }) };
}

export type LineSpec = { gid: string; quantity: number; price: number; discount?: number; giftCard?: boolean };

export function order(spec: { gid?: string; customer?: string | null; lines: LineSpec[]; subtotal?: number; createdAt?: Date; cancelledAt?: Date | null; status?: string; test?: boolean; currency?: string }): LoyaltyOrder {
  const lines = spec.lines.map((l) => ({ gid: l.gid, quantity: l.quantity, priceMinor: BigInt(l.price), totalDiscountMinor: BigInt(l.discount ?? 0), giftCard: l.giftCard ?? false }));
  const subtotal = spec.subtotal ?? spec.lines.reduce((s, l) => s + l.quantity * l.price - (l.discount ?? 0), 0);
  return {
    gid: spec.gid ?? "gid://shopify/Order/1",
    name: "#1001",
    customerGid: spec.customer === undefined ? "gid://shopify/Customer/7" : spec.customer,
    currency: spec.currency ?? "USD",
    subtotalMinor: BigInt(subtotal),
    createdAt: spec.createdAt ?? at("2026-03-01T12:00:00Z"),
    cancelledAt: spec.cancelledAt ?? null,
    test: spec.test ?? false,
    financialStatus: spec.status ?? "paid",
    lines,
  };
}

export function refund(gid: string, refundedAt: Date, lines: [string, number][]): LoyaltyRefund {
  return { gid: `gid://shopify/Refund/${gid}`, refundedAt, lines: lines.map(([lineItemGid, quantity]) => ({ lineItemGid, quantity })) };
}

/** The ledger as the database holds it: append-only, unique keys. */
export class MemoryLedger {
  entries: LedgerEntry[] = [];

  insert(entries: readonly NewLedgerEntry[]): void {
    for (const e of entries) {
      if (this.entries.some((x) => x.idempotencyKey === e.idempotencyKey)) throw new Error(`duplicate key ${e.idempotencyKey}`);
      this.entries.push({ customerGid: e.customerGid, points: e.points, kind: e.kind, availableAt: e.availableAt, occurredAt: e.occurredAt, orderGid: e.orderGid, reason: e.reason, rule: JSON.parse(JSON.stringify(e.rule)), idempotencyKey: e.idempotencyKey });
    }
  }

  of(customerGid = "gid://shopify/Customer/7") {
    return this.entries.filter((e) => e.customerGid === customerGid);
  }

  balance(now: Date, customerGid?: string) {
    return this.of(customerGid).reduce((s, e) => (e.availableAt <= now ? s + e.points : s), 0);
  }

  pending(now: Date, customerGid?: string) {
    return this.of(customerGid).reduce((s, e) => (e.availableAt > now ? s + e.points : s), 0);
  }

  sum(prefix: string) {
    return this.entries.filter((e) => e.idempotencyKey.startsWith(prefix)).reduce((s, e) => s + e.points, 0);
  }

  /** A redemption as the later increment will write it: a debit of available points. */
  redeem(id: string, points: number, now: Date, customerGid = "gid://shopify/Customer/7") {
    this.insert([{ customerGid, points: -points, kind: "redeem", status: "available", availableAt: now, occurredAt: now, source: id, orderGid: null, reason: "reward", rule: {}, idempotencyKey: `redeem:${id}` }]);
  }

  /** What the service does for one order: plan against what is stored, then store the plan. */
  applyOrder(args: { order: LoyaltyOrder; refunds?: LoyaltyRefund[]; versions: ProgramVersion[]; now: Date; firstOrder?: boolean; tier?: string | null }): NewLedgerEntry[] {
    const { order: o, versions, now } = args;
    const program = programInForce({ versions, at: o.createdAt });
    const current = latestVersion(versions)!;
    const existing = this.entries.filter((e) => e.orderGid === o.gid);
    const customer = existing.find((e) => e.kind === "earn")?.customerGid ?? o.customerGid;
    const wallet = walletFromEntries(customer ? this.of(customer) : [], now);
    const planned = planOrderLoyalty({
      order: o,
      refunds: args.refunds ?? [],
      existing,
      program,
      policy: current.settings.negativeBalance,
      multiplier: program ? earnMultiplier({ settings: program.settings, tier: args.tier ?? null, segmentIds: new Set() }) : { multiplier: 1, source: null },
      // As the service decides it: the customer's first order, and no first-order bonus yet.
      firstOrder: (args.firstOrder ?? false) && !this.entries.some((e) => e.idempotencyKey === `bonus:first_order:${customer}`),
      wallet,
      now,
    });
    this.insert(planned);
    return planned;
  }
}
