// What the ledger should contain for one order, given what it already contains: the earn, the
// first-order bonus, reversals for its refunds and its cancellation. Only the missing entries
// are returned, so planning again (a duplicate or replayed event, a refund before its order)
// never awards or reverses twice. Pure: no I/O, no clock. See docs/loyalty.md.
import { buildBonusEntry } from "./bonuses";
import { buildEarnEntry, earnability, EarnRuleSchema, merchandiseLines, type EarnMultiplier, type EarnRule, type LoyaltyOrder } from "./earning";
import { addToWallet, debitEntries, ledgerKeys, takeDebit, type LedgerEntry, type NewLedgerEntry, type Wallet } from "./ledger";
import type { NegativeBalancePolicy, ProgramVersion } from "./program";

export type LoyaltyRefund = { gid: string; refundedAt: Date; lines: readonly { lineItemGid: string; quantity: number }[] };

export type ReversalLine = { lineItemGid: string; quantity: number; points: number };

export type OrderPlanInput = {
  order: LoyaltyOrder;
  /** Every stored refund of the order (any arrival order; those already reversed are recognised by key). */
  refunds: readonly LoyaltyRefund[];
  /** The ledger entries already written for this order (order_gid = order.gid). */
  existing: readonly LedgerEntry[];
  /** The program version in force when the order was placed (earning). */
  program: ProgramVersion | null;
  /** The negative-balance policy in force now (reversals). */
  policy: NegativeBalancePolicy;
  multiplier: EarnMultiplier;
  /** True when this is the customer's first order and no first-order bonus was given yet. */
  firstOrder: boolean;
  /** The wallet of the customer the order's points belong to; updated in place. */
  wallet: Wallet;
  now: Date;
};

const REVERSAL_PREFIXES = ["reverse:refund:", "reverse:cancel:"];

function parseEarnRule(entry: LedgerEntry): EarnRule {
  const parsed = EarnRuleSchema.safeParse(entry.rule);
  if (!parsed.success) throw new Error(`ledger entry ${entry.idempotencyKey} has an unreadable rule snapshot: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** Points of each line already reversed (or forgiven) by the order's recorded reversals. */
function accountedByLine(existing: readonly LedgerEntry[]): Map<string, number> {
  const accounted = new Map<string, number>();
  for (const entry of existing) {
    if (!REVERSAL_PREFIXES.some((p) => entry.idempotencyKey.startsWith(p)) || entry.idempotencyKey.includes("#")) continue;
    const lines = (entry.rule as { lines?: ReversalLine[] } | null)?.lines ?? [];
    for (const line of lines) accounted.set(line.lineItemGid, (accounted.get(line.lineItemGid) ?? 0) + line.points);
  }
  return accounted;
}

const byTimeThenGid = (a: LoyaltyRefund, b: LoyaltyRefund) => a.refundedAt.getTime() - b.refundedAt.getTime() || (a.gid < b.gid ? -1 : a.gid > b.gid ? 1 : 0);

/**
 * The missing entries for `order`, in the order they apply.
 *
 * Reversals work line by line on the earn's own snapshot (the rule and rate in force when the
 * points were earned): after the refunds so far, a line has had `floor(points x refunded units /
 * units)` reversed; each refund reverses what that adds, never more than the line earned, so
 * a second refund reverses only the rest and a full refund reverses exactly what was earned. A
 * cancellation reverses whatever is left. Only refunded line items count: refunds of shipping
 * or amounts without line items do not touch points (the basis is merchandise).
 */
export function planOrderLoyalty(input: OrderPlanInput): NewLedgerEntry[] {
  const { order, refunds, existing, program, policy, multiplier, wallet, now } = input;
  const out: NewLedgerEntry[] = [];
  const has = new Set(existing.map((e) => e.idempotencyKey));
  const write = (entries: NewLedgerEntry[]) => {
    for (const entry of entries) {
      out.push(entry);
      has.add(entry.idempotencyKey);
      addToWallet(wallet, entry, now);
    }
  };

  let earn: LedgerEntry | NewLedgerEntry | undefined = existing.find((e) => e.idempotencyKey === ledgerKeys.earn(order.gid));
  const earnsNow = program ? earnability({ order, settings: program.settings }).earns : false;
  if (!earn && program && earnsNow) {
    const entry = buildEarnEntry({ order, program, multiplier, now });
    if (entry) {
      write([entry]);
      earn = entry;
    }
  }
  const customerGid = earn?.customerGid ?? order.customerGid;
  if (!customerGid) return out;

  // First-order bonus: once per customer, pending with the order's points.
  const bonusKey = ledgerKeys.bonus("first_order", customerGid);
  if (input.firstOrder && !has.has(bonusKey) && program && earnsNow && merchandiseLines({ order, basis: "gross_merchandise" }).length > 0) {
    const availableAt = earn?.availableAt ?? new Date(order.createdAt.getTime() + program.settings.pendingDays * 24 * 60 * 60 * 1000);
    const bonus = buildBonusEntry({ kind: "first_order", customerGid, subject: customerGid, program, occurredAt: order.createdAt, availableAt, source: order.gid, orderGid: order.gid, now });
    if (bonus) write([bonus]);
  }

  if (earn) {
    const rule = parseEarnRule(earn as LedgerEntry);
    const accounted = accountedByLine(existing);
    const earnKey = earn.idempotencyKey;
    const reversal = (method: "refund" | "cancel", lines: ReversalLine[], key: string, occurredAt: Date, source: string, reason: string) => {
      const total = lines.reduce((sum, l) => sum + l.points, 0);
      if (total <= 0) return;
      for (const line of lines) accounted.set(line.lineItemGid, (accounted.get(line.lineItemGid) ?? 0) + line.points);
      const debit = takeDebit({ wallet, amount: total, ownAvailableAt: earn!.availableAt, policy, now });
      const entries = debitEntries(
        {
          customerGid,
          kind: "reverse",
          occurredAt,
          source,
          orderGid: order.gid,
          reason,
          rule: { reversalOf: earnKey, method, programVersion: rule.programVersion, pointsPerUnit: rule.pointsPerUnit, multiplier: rule.multiplier, policy, reversed: total, lines },
          idempotencyKey: key,
        },
        debit,
        now,
      );
      // The wallet already reflects the debit (takeDebit); record the entries without adding them again.
      for (const entry of entries) {
        out.push(entry);
        has.add(entry.idempotencyKey);
      }
    };

    // Refunds: recorded ones count first (their units are already reversed), the others in time order.
    const refundedUnits = new Map<string, number>();
    const addUnits = (refund: LoyaltyRefund) => {
      for (const line of refund.lines) refundedUnits.set(line.lineItemGid, (refundedUnits.get(line.lineItemGid) ?? 0) + Math.max(0, line.quantity));
    };
    const recorded = refunds.filter((r) => has.has(ledgerKeys.refundReversal(r.gid)));
    const waiting = refunds.filter((r) => !has.has(ledgerKeys.refundReversal(r.gid))).sort(byTimeThenGid);
    recorded.forEach(addUnits);
    for (const refund of waiting) {
      addUnits(refund);
      const touched = new Set(refund.lines.map((l) => l.lineItemGid));
      const lines: ReversalLine[] = [];
      for (const line of rule.lines) {
        if (!touched.has(line.lineItemGid) || line.quantity <= 0) continue;
        const units = Math.min(refundedUnits.get(line.lineItemGid) ?? 0, line.quantity);
        const target = Math.floor((line.points * units) / line.quantity);
        const done = accounted.get(line.lineItemGid) ?? 0;
        const points = Math.max(0, Math.min(line.points, target) - done);
        if (points > 0) lines.push({ lineItemGid: line.lineItemGid, quantity: refund.lines.filter((l) => l.lineItemGid === line.lineItemGid).reduce((s, l) => s + l.quantity, 0), points });
      }
      reversal("refund", lines, ledgerKeys.refundReversal(refund.gid), refund.refundedAt, refund.gid, `Refund of order ${order.name ?? order.gid}`);
    }

    // Cancellation: whatever the refunds left.
    if (order.cancelledAt && !has.has(ledgerKeys.cancelReversal(order.gid))) {
      const lines = rule.lines
        .map((line) => ({ lineItemGid: line.lineItemGid, quantity: line.quantity, points: Math.max(0, line.points - (accounted.get(line.lineItemGid) ?? 0)) }))
        .filter((l) => l.points > 0);
      reversal("cancel", lines, ledgerKeys.cancelReversal(order.gid), order.cancelledAt, order.gid, `Order ${order.name ?? order.gid} cancelled`);
    }
  }

  // The first-order bonus goes back when its order is cancelled or every unit of it refunded (and is not given again).
  const bonus = [...existing, ...out].find((e) => e.idempotencyKey === bonusKey && e.orderGid === order.gid);
  const bonusReversalKey = ledgerKeys.bonusReversal("first_order", customerGid);
  if (bonus && !has.has(bonusReversalKey) && (order.cancelledAt || fullyRefunded(order, refunds))) {
    const debit = takeDebit({ wallet, amount: bonus.points, ownAvailableAt: bonus.availableAt, policy, now });
    const entries = debitEntries(
      {
        customerGid,
        kind: "reverse",
        occurredAt: order.cancelledAt ?? latestRefund(refunds) ?? now,
        source: order.gid,
        orderGid: order.gid,
        reason: `First order bonus reversed: order ${order.name ?? order.gid} ${order.cancelledAt ? "cancelled" : "refunded"}`,
        rule: { reversalOf: bonusKey, method: order.cancelledAt ? "cancel" : "refund", policy, reversed: bonus.points },
        idempotencyKey: bonusReversalKey,
      },
      debit,
      now,
    );
    out.push(...entries);
  }
  return out;
}

/** Every unit of every merchandise line refunded. */
function fullyRefunded(order: LoyaltyOrder, refunds: readonly LoyaltyRefund[]): boolean {
  const lines = merchandiseLines({ order, basis: "gross_merchandise" });
  if (lines.length === 0) return false;
  const units = new Map<string, number>();
  for (const refund of refunds) for (const l of refund.lines) units.set(l.lineItemGid, (units.get(l.lineItemGid) ?? 0) + l.quantity);
  return lines.every((l) => (units.get(l.lineItemGid) ?? 0) >= l.quantity);
}

function latestRefund(refunds: readonly LoyaltyRefund[]): Date | null {
  return refunds.reduce<Date | null>((latest, r) => (!latest || r.refundedAt > latest ? r.refundedAt : latest), null);
}
