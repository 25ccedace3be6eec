// Points that do not come from orders: staff adjustments (with a reason, audited) and the
// bonus hooks (feedback submitted, birthdays). Each write locks the customer's row first, the
// same lock the worker takes, so it is serialised with reversals and expiry.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { getPool, withTransaction, type Queryable } from "../../db.server";
import { logger } from "../../logger.server";
import { buildBirthdayBonus, buildFeedbackBonus } from "../../domain/loyalty/bonuses";
import { ledgerKeys, type NewLedgerEntry } from "../../domain/loyalty/ledger";
import { latestVersion } from "../../domain/loyalty/program";
import { reevaluateSegmentsForCustomers } from "../segments/reevaluate.server";
import { writeAudit } from "../crm-store.server";
import { LoyaltyError } from "./errors";
import { insertEntries, loadProgramVersions, loadWallets, lockLoyaltyCustomers } from "./store.server";

const AdjustmentSchema = z.object({
  shop: z.string().min(1),
  customerGid: z.string().regex(/^gid:\/\/shopify\/Customer\/\d+$/, "customer must be a customer gid"),
  points: z
    .number()
    .int("points must be a whole number")
    .refine((p) => p !== 0, "an adjustment of 0 points changes nothing")
    .refine((p) => Math.abs(p) <= 1_000_000, "an adjustment is at most 1,000,000 points either way"),
  reason: z.string().trim().min(1, "a reason is required").max(500, "the reason has at most 500 characters"),
  actor: z.string().trim().min(1, "the staff member (actor) is required").max(200),
  /** Makes a retried request (a double-clicked button) write once. */
  idempotencyKey: z.string().trim().min(1).max(200).optional(),
});

export type Adjustment = z.input<typeof AdjustmentSchema>;
export type AdjustmentResult = { created: boolean; idempotencyKey: string; points: number; balance: number };

/**
 * Adds or removes points by hand. A removal that would take the spendable balance below zero
 * is refused unless the program's negative-balance policy is `allow`.
 */
export async function adjustPoints(input: Adjustment, { now: fixedNow }: { now?: Date } = {}): Promise<AdjustmentResult> {
  const parsed = AdjustmentSchema.safeParse(input);
  if (!parsed.success) throw new LoyaltyError("invalid", parsed.error.issues.map((i) => i.message).join("; "));
  const { shop, customerGid, points, reason, actor } = parsed.data;
  const key = ledgerKeys.adjust(parsed.data.idempotencyKey ?? randomUUID());
  const result = await withTransaction(async (db) => {
    const current = latestVersion(await loadProgramVersions(db, shop));
    if (!current) throw new LoyaltyError("not_found", `${shop} has no loyalty program`);
    const live = await lockLoyaltyCustomers(db, shop, [customerGid]);
    if (!live.has(customerGid)) throw new LoyaltyError("not_found", `customer ${customerGid} not found in ${shop} (unknown, deleted or redacted)`);
    // The clock is read under the customer's lock: a debit committed while this call waited
    // is then never dated after "now" and always counted in the wallet below.
    const now = fixedNow ?? new Date();
    const wallet = (await loadWallets(db, shop, [customerGid], now)).get(customerGid)!;
    const { rows: prior } = await db.query<{ points: number; customer_gid: string }>(`SELECT points, customer_gid FROM loyalty_ledger WHERE shop = $1 AND idempotency_key = $2`, [shop, key]);
    if (prior[0]) {
      if (prior[0].customer_gid !== customerGid || prior[0].points !== points) throw new LoyaltyError("conflict", `idempotency key ${parsed.data.idempotencyKey} was used for a different adjustment`);
      return { created: false, idempotencyKey: key, points, balance: wallet.available };
    }
    if (points < 0 && wallet.available + points < 0 && current.settings.negativeBalance !== "allow") {
      throw new LoyaltyError("conflict", `removing ${-points} points would leave a balance of ${wallet.available + points}; the program does not allow a negative balance`);
    }
    const entry: NewLedgerEntry = {
      customerGid,
      points,
      kind: "adjust",
      status: "available",
      availableAt: now,
      occurredAt: now,
      source: `staff:${actor}`,
      orderGid: null,
      reason,
      rule: { actor },
      idempotencyKey: key,
    };
    await insertEntries(db, shop, [entry]);
    // Segments on loyalty_points follow the new balance in this transaction.
    await reevaluateSegmentsForCustomers(db, shop, [customerGid], { kind: "event" }, { now });
    await writeAudit(db, { shop, actor, action: "loyalty.points_adjusted", subject: customerGid, details: { points, reason, idempotencyKey: key, balanceAfter: wallet.available + points } });
    return { created: true, idempotencyKey: key, points, balance: wallet.available + points };
  });
  if (result.created) logger.info({ shop, points, idempotencyKey: key }, "loyalty.points_adjusted");
  return result;
}

async function insertBonus(db: Queryable, shop: string, entry: NewLedgerEntry | null): Promise<NewLedgerEntry | null> {
  if (!entry) return null;
  const live = await lockLoyaltyCustomers(db, shop, [entry.customerGid]);
  if (!live.has(entry.customerGid)) return null;
  const written = await insertEntries(db, shop, [entry]);
  return written.has(entry.idempotencyKey) ? entry : null;
}

/**
 * The feedback hook: the feedback bonus for a submitted feedback (once per feedback id).
 * Runs in the caller's transaction when `db` is a transaction client. Returns the entry
 * written, or null (no program, no feedback bonus, unknown customer, already awarded).
 */
export async function awardFeedbackBonus(args: { shop: string; customerGid: string; feedbackId: string; submittedAt: Date; now?: Date }, db?: Queryable): Promise<NewLedgerEntry | null> {
  const now = args.now ?? new Date();
  const run = async (q: Queryable) => {
    const versions = await loadProgramVersions(q, args.shop);
    return insertBonus(q, args.shop, buildFeedbackBonus({ customerGid: args.customerGid, feedbackId: args.feedbackId, submittedAt: args.submittedAt, versions, now }));
  };
  return db ? run(db) : withTransaction(run);
}

/**
 * Birthday bonuses for the customers whose birthday (the customer metafield's date, "YYYY-MM-DD"
 * or "MM-DD") is today or within the grace week, once a year each. The daily job reads the dates
 * from Shopify (runBirthdayBonuses in birthdays.server.ts).
 */
export async function awardBirthdayBonuses(args: { shop: string; birthdays: readonly { customerGid: string; birthday: string }[]; now?: Date }): Promise<{ awarded: number }> {
  const now = args.now ?? new Date();
  const versions = await loadProgramVersions(getPool(), args.shop);
  if (versions.length === 0) return { awarded: 0 };
  let awarded = 0;
  for (const { customerGid, birthday } of args.birthdays) {
    let entry: NewLedgerEntry | null;
    try {
      entry = buildBirthdayBonus({ customerGid, birthday, versions, now });
    } catch (error) {
      throw new LoyaltyError("invalid", `customer ${customerGid}: ${(error as Error).message}`);
    }
    if (!entry) continue;
    const given = await withTransaction(async (db) => {
      const written = await insertBonus(db, args.shop, entry);
      // Segments on loyalty_points follow the bonus in this transaction.
      if (written) await reevaluateSegmentsForCustomers(db, args.shop, [written.customerGid], { kind: "event" }, { now });
      return written;
    });
    if (given) awarded += 1;
  }
  return { awarded };
}
