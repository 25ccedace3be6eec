// The points ledger as data: entry kinds, idempotency keys, the wallet (what is spendable now
// and what is pending until when), and how a debit is taken from it under the program's
// negative-balance policy. Pure: no I/O, no clock (`now` is an argument).
import type { NegativeBalancePolicy } from "./program";

export const LEDGER_KINDS = ["earn", "reverse", "redeem", "refund_redeem", "expire", "adjust", "bonus"] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

export type BonusKind = "first_order" | "birthday" | "signup" | "feedback";

/** An entry to insert. `points` is a signed integer; `rule` is the JSON snapshot stored with it. */
export type NewLedgerEntry = {
  customerGid: string;
  points: number;
  kind: LedgerKind;
  status: "pending" | "available";
  availableAt: Date;
  occurredAt: Date;
  source: string;
  orderGid: string | null;
  reason: string;
  rule: Record<string, unknown>;
  idempotencyKey: string;
};

/** A stored entry, as the planning functions need it. */
export type LedgerEntry = {
  customerGid: string;
  points: number;
  kind: LedgerKind;
  availableAt: Date;
  occurredAt: Date;
  orderGid: string | null;
  reason: string;
  rule: unknown;
  idempotencyKey: string;
};

/**
 * Idempotency keys: unique per shop, derived from what caused the entry, so a duplicate or
 * replayed event finds its entry already written. Redemptions (a later increment) use
 * `redeem:<redemptionId>` for the debit and `refund_redeem:<redemptionId>` when it fails.
 */
export const ledgerKeys = {
  earn: (orderGid: string) => `earn:${orderGid}`,
  refundReversal: (refundGid: string) => `reverse:refund:${refundGid}`,
  cancelReversal: (orderGid: string) => `reverse:cancel:${orderGid}`,
  bonus: (kind: BonusKind, subject: string) => `bonus:${kind}:${subject}`,
  bonusReversal: (kind: BonusKind, subject: string) => `reverse:bonus:${kind}:${subject}`,
  expire: (customerGid: string, expiresAt: Date) => `expire:${customerGid}:${expiresAt.toISOString()}`,
  adjust: (requestKey: string) => `adjust:${requestKey}`,
  redeem: (redemptionId: string) => `redeem:${redemptionId}`,
  refundRedeem: (redemptionId: string) => `refund_redeem:${redemptionId}`,
  /** Further parts of one debit taken from several places (see takeDebit): written with the first. */
  part: (key: string, index: number) => (index === 0 ? key : `${key}#${index}`),
};

export const statusFor = (availableAt: Date, now: Date): "pending" | "available" => (availableAt.getTime() > now.getTime() ? "pending" : "available");

/**
 * What a customer holds at `now`: the spendable balance and the pending points grouped by the
 * instant they become available (a "lot"). Pending lots are never negative by construction.
 */
export type Wallet = { available: number; pending: { availableAt: Date; points: number }[] };

export function emptyWallet(): Wallet {
  return { available: 0, pending: [] };
}

export function walletFromEntries(entries: readonly Pick<LedgerEntry, "points" | "availableAt">[], now: Date): Wallet {
  const wallet = emptyWallet();
  for (const entry of entries) addToWallet(wallet, entry, now);
  return wallet;
}

/** Adds one entry's points to the wallet (in place). */
export function addToWallet(wallet: Wallet, entry: Pick<LedgerEntry, "points" | "availableAt">, now: Date): void {
  if (entry.availableAt.getTime() <= now.getTime()) {
    wallet.available += entry.points;
    return;
  }
  const lot = wallet.pending.find((l) => l.availableAt.getTime() === entry.availableAt.getTime());
  if (lot) lot.points += entry.points;
  else {
    wallet.pending.push({ availableAt: entry.availableAt, points: entry.points });
    wallet.pending.sort((a, b) => a.availableAt.getTime() - b.availableAt.getTime());
  }
}

export const pendingTotal = (wallet: Wallet) => wallet.pending.reduce((sum, lot) => sum + lot.points, 0);

export type DebitPart = { points: number; availableAt: Date; from: "own_pending" | "available" | "other_pending" | "shortfall" };

/**
 * Where a reversal of `amount` points comes from, under the negative-balance policy.
 * `ownAvailableAt` is when the points being reversed become (or became) available.
 *
 * 1. Points still pending come out of their own pending lot (refunds inside the return window
 *    reduce pending points).
 * 2. Then out of the spendable balance, as far as it goes.
 * 3. The shortfall (points already spent): `allow` takes it from the balance anyway, which goes
 *    negative; `pending_first` takes it from other pending points (soonest first), then goes
 *    negative; `never` takes it from other pending points and forgives the rest.
 *
 * Returns the parts (each a negative entry at its availableAt; parts at one instant are
 * merged), the points that made the balance negative (`shortfall`) and the points forgiven;
 * the wallet is updated in place.
 */
export function takeDebit({
  wallet,
  amount,
  ownAvailableAt,
  policy,
  now,
}: {
  wallet: Wallet;
  amount: number;
  ownAvailableAt: Date;
  policy: NegativeBalancePolicy;
  now: Date;
}): { parts: DebitPart[]; forgiven: number; shortfall: number } {
  const parts: DebitPart[] = [];
  let remaining = amount;
  let shortfall = 0;
  const take = (points: number, availableAt: Date, from: DebitPart["from"]) => {
    if (points <= 0) return;
    const last = parts[parts.length - 1];
    // One entry per instant: a shortfall taken at the same instant as the balance part joins it.
    if (last && last.availableAt.getTime() === availableAt.getTime()) last.points += points;
    else parts.push({ points, availableAt, from });
    if (from === "shortfall") shortfall += points;
    addToWallet(wallet, { points: -points, availableAt }, now);
    remaining -= points;
  };
  const ownPending = ownAvailableAt.getTime() > now.getTime();
  if (ownPending) {
    const lot = wallet.pending.find((l) => l.availableAt.getTime() === ownAvailableAt.getTime());
    take(Math.min(remaining, Math.max(0, lot?.points ?? 0)), ownAvailableAt, "own_pending");
  }
  // Taken from the balance: at the points' own instant when already available, else now.
  const spendableAt = ownPending ? now : ownAvailableAt;
  take(Math.min(remaining, Math.max(0, wallet.available)), spendableAt, "available");
  if (remaining > 0 && policy !== "allow") {
    for (const lot of [...wallet.pending]) {
      if (remaining <= 0) break;
      take(Math.min(remaining, Math.max(0, lot.points)), lot.availableAt, "other_pending");
    }
  }
  let forgiven = 0;
  if (remaining > 0) {
    if (policy === "never") forgiven = remaining;
    else take(remaining, spendableAt, "shortfall");
  }
  return { parts, forgiven, shortfall };
}

/** The entries of a debit: the first part under `key`, the others under `key#n` (written together). */
export function debitEntries(
  base: Omit<NewLedgerEntry, "points" | "availableAt" | "status" | "idempotencyKey"> & { idempotencyKey: string },
  { parts, forgiven, shortfall }: { parts: readonly DebitPart[]; forgiven: number; shortfall: number },
  now: Date,
): NewLedgerEntry[] {
  const rule = { ...base.rule, forgiven, shortfall, parts: parts.map((p) => ({ points: p.points, from: p.from, availableAt: p.availableAt.toISOString() })) };
  if (parts.length === 0) {
    // Nothing could be taken (all forgiven): a 0-point record, so the reversal is never planned again.
    return [{ ...base, rule, points: 0, availableAt: now, status: "available" }];
  }
  return parts.map((part, index) => ({
    ...base,
    rule: index === 0 ? rule : { partOf: base.idempotencyKey },
    points: -part.points,
    availableAt: part.availableAt,
    status: statusFor(part.availableAt, now),
    idempotencyKey: ledgerKeys.part(base.idempotencyKey, index),
  }));
}
