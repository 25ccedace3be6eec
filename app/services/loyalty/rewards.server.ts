// Rewards and redemption: a customer spends points on a reward from the program's catalogue
// and gets a single-use Shopify discount code limited to them. Exactly one outcome per
// redemption (docs/loyalty.md, "Rewards and redemption"):
//
// 1. One transaction: lock the customer's row (lockLoyaltyCustomers, the worker's lock order),
//    check the spendable balance (pending points are not spendable), insert the redemption
//    (pending, with the code it will try) and its debit `redeem:<id>`; commit. Twenty
//    simultaneous redemptions of one customer queue on that lock: each sees the debits of
//    the ones before it.
// 2. Create the code in Shopify through the Admin adapter (discountCodeBasicCreate or
//    discountCodeFreeShippingCreate), paced on the shop's cost bucket; THROTTLED waits,
//    transient failures are retried with backoff, with the same code (so a request that did
//    reach Shopify is recognised by its title: it names the redemption).
// 3. Settle: issued (code, discount gid), or failed (userErrors, a permanent failure) with
//    the points credited back (`refund_redeem:<id>`), under the customer's lock and only
//    while the row is still pending.
//
// When the outcome cannot be known (Shopify unreachable, or the process died between 1 and 3)
// the row stays pending and recoverPendingRedemptions settles it later by asking Shopify
// whether the code exists (codeDiscountNodeByCode).
import { randomBytes, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { getPool, withTransaction, type Queryable } from "../../db.server";
import { reevaluateSegmentsForCustomers } from "../segments/reevaluate.server";
import { logger } from "../../logger.server";
import { ledgerKeys, type NewLedgerEntry, type Wallet } from "../../domain/loyalty/ledger";
import { latestVersion, RewardSchema, type Reward } from "../../domain/loyalty/program";
import {
  buildDiscountCode,
  buildDiscountInput,
  codeWindow,
  describeUserErrors,
  discountTitle,
  isCodeTaken,
  isOwnDiscount,
  markAffordable,
  type AffordableReward,
  type Redemption,
  type RedemptionStatus,
} from "../../domain/loyalty/rewards";
import { ShopifyAdmin, ShopifyAdminError, classifyAdminError, getShopifyAdmin, type AdminResult, type CodeDiscountInfo } from "../../shopify/admin-api.server";
import { CostPacer } from "../../shopify/cost-pacer";
import { isShopDomain } from "../../shopify/shop-domain";
import { LoyaltyError } from "./errors";
import { insertEntries, loadProgramVersions, loadWallets, lockLoyaltyCustomers } from "./store.server";

export type { Reward } from "../../domain/loyalty/program";
export type { AffordableReward, Redemption, RedemptionStatus } from "../../domain/loyalty/rewards";

// ---------------------------------------------------------------- catalogue

/** The rewards of the shop's program in force ([] when the shop has no program or it is disabled). */
export async function listRewards(shop: string, db: Queryable = getPool()): Promise<Reward[]> {
  const current = latestVersion(await loadProgramVersions(db, shop));
  if (!current || !current.settings.enabled) return [];
  return current.settings.rewards;
}

/**
 * The customer's spendable balance (points available now; pending points are not spendable)
 * and the catalogue with `affordable` per reward. A customer the CRM does not know yet has a
 * balance of 0.
 */
export async function affordableRewards(shop: string, customerGid: string, now: Date = new Date()): Promise<{ balance: number; rewards: AffordableReward[] }> {
  const db = getPool();
  const rewards = await listRewards(shop, db);
  const balance = spendable((await loadWallets(db, shop, [customerGid], now)).get(customerGid)!);
  return { balance, rewards: markAffordable({ rewards, balance }) };
}

// ---------------------------------------------------------------- redemption

/**
 * Points that can be spent now: the available balance, less any debit dated in the future
 * (a negative pending lot): points already promised elsewhere are never spent twice, whatever
 * instant they were written at. Pending points (positive lots) are not spendable.
 */
function spendable(wallet: Wallet): number {
  return wallet.available + wallet.pending.reduce((sum, lot) => sum + Math.min(0, lot.points), 0);
}

const RedeemInputSchema = z.object({
  shop: z.string().refine(isShopDomain, "shop must be a *.myshopify.com domain"),
  customerGid: z.string().regex(/^gid:\/\/shopify\/Customer\/\d+$/, "customer must be a customer gid"),
  rewardId: z.string().trim().min(1, "rewardId is required").max(64, "rewardId has at most 64 characters"),
  /** Makes a retried request (a double-clicked button, a network retry) return the same redemption. */
  requestKey: z.string().trim().min(1, "requestKey cannot be blank").max(200, "requestKey has at most 200 characters").optional(),
  now: z.date().optional(),
});

export type RedeemInput = z.input<typeof RedeemInputSchema>;

/** How the Shopify call is retried. */
export type RetryPolicy = {
  /** Retries after a transient failure (network, timeout, 5xx), with exponential backoff from backoffMs. */
  transientRetries: number;
  backoffMs: number;
  /** Retries after THROTTLED / HTTP 429 (waiting for the bucket; these do not count as transient retries). */
  throttleRetries: number;
  /** New codes tried when Shopify says a code is taken by another discount. */
  codeRetries: number;
  /** How long a repeated requestKey waits for a redemption still in progress before answering `unavailable`. */
  pendingWaitMs: number;
};

export const DEFAULT_RETRY: RetryPolicy = { transientRetries: 3, backoffMs: 250, throttleRetries: 30, codeRetries: 5, pendingWaitMs: 20_000 };

export type RedeemOptions = { retry?: Partial<RetryPolicy> };

type RedemptionRow = {
  id: string;
  shop: string;
  customer_gid: string;
  reward_id: string;
  reward: unknown;
  points: number;
  status: RedemptionStatus;
  code: string | null;
  discount_gid: string | null;
  starts_at: Date;
  expires_at: Date;
  attempts: number;
  failure_reason: string | null;
  created_at: Date;
};

const ROW_COLUMNS = "id, shop, customer_gid, reward_id, reward, points, status::text AS status, code, discount_gid, starts_at, expires_at, attempts, failure_reason, created_at";

function toRedemption(row: RedemptionRow): Redemption {
  const issued = row.status === "issued";
  return {
    id: row.id,
    status: row.status,
    rewardId: row.reward_id,
    points: row.points,
    code: issued ? row.code : null,
    expiresAt: issued ? row.expires_at : null,
    failureReason: row.failure_reason,
  };
}

const newCode = () => buildDiscountCode(randomBytes(12));

/**
 * Spends the reward's points and issues its discount code. Returns the redemption, issued or
 * failed (the points given back, the reason recorded). Throws LoyaltyError: `invalid` (bad
 * input, no program, program disabled, unknown reward), `not_found` (customer unknown,
 * deleted or redacted), `conflict` (not enough spendable points), `unavailable` (Shopify could
 * not be reached and the outcome is not known yet: the redemption stays pending, the points
 * held, until recovery settles it).
 */
export async function redeemReward(input: RedeemInput, options: RedeemOptions = {}): Promise<Redemption> {
  const parsed = RedeemInputSchema.safeParse(input);
  if (!parsed.success) throw new LoyaltyError("invalid", parsed.error.issues.map((i) => i.message).join("; "));
  const { shop, customerGid, rewardId } = parsed.data;
  const requestKey = parsed.data.requestKey ?? randomUUID();
  const retry = { ...DEFAULT_RETRY, ...options.retry };

  const begun = await withTransaction(async (db) => {
    const current = latestVersion(await loadProgramVersions(db, shop));
    if (!current) throw new LoyaltyError("invalid", `${shop} has no loyalty program`);
    if (!current.settings.enabled) throw new LoyaltyError("invalid", `the loyalty program of ${shop} is disabled: rewards cannot be redeemed`);
    const reward = current.settings.rewards.find((r) => r.id === rewardId);
    if (!reward) throw new LoyaltyError("invalid", `unknown reward "${rewardId}" (not in the program's rewards)`);
    const live = await lockLoyaltyCustomers(db, shop, [customerGid]);
    if (!live.has(customerGid)) throw new LoyaltyError("not_found", `customer ${customerGid} not found in ${shop} (unknown, deleted or redacted)`);
    // The clock is read once the lock is held: a redemption that waited for the lock must see
    // the debit of the one before it as already in effect (a `now` taken before waiting could
    // be earlier than that debit's instant and leave it out of the balance).
    const now = parsed.data.now ?? new Date();
    const { rows: prior } = await db.query<RedemptionRow>({
      name: "loyalty-redemption-by-key",
      text: `SELECT ${ROW_COLUMNS} FROM loyalty_redemptions WHERE shop = $1 AND customer_gid = $2 AND request_key = $3`,
      values: [shop, customerGid, requestKey],
    });
    if (prior[0]) {
      if (prior[0].reward_id !== rewardId) throw new LoyaltyError("conflict", `requestKey ${requestKey} was used for another reward ("${prior[0].reward_id}")`);
      return { row: prior[0], created: false };
    }
    const wallet = (await loadWallets(db, shop, [customerGid], now)).get(customerGid)!;
    const balance = spendable(wallet);
    if (balance < reward.pointsCost) {
      const pending = wallet.pending.reduce((sum, lot) => sum + Math.max(0, lot.points), 0);
      throw new LoyaltyError(
        "conflict",
        `not enough points for "${reward.name}": ${balance} spendable, ${reward.pointsCost} needed` + (pending > 0 ? ` (${pending} more pending, not spendable yet)` : ""),
      );
    }
    const { startsAt, endsAt } = codeWindow({ reward, now });
    const { rows } = await db.query<RedemptionRow>({
      name: "loyalty-redemption-insert",
      text: `INSERT INTO loyalty_redemptions (shop, customer_gid, reward_id, reward, points, status, code, starts_at, expires_at, request_key)
             VALUES ($1, $2, $3, $4::jsonb, $5, 'pending', $6, $7, $8, $9)
             RETURNING ${ROW_COLUMNS}`,
      values: [shop, customerGid, reward.id, JSON.stringify(reward), reward.pointsCost, newCode(), startsAt, endsAt, requestKey],
    });
    const row = rows[0]!;
    const debit: NewLedgerEntry = {
      customerGid,
      points: -reward.pointsCost,
      kind: "redeem",
      status: "available",
      availableAt: now,
      occurredAt: now,
      source: `redemption:${row.id}`,
      orderGid: null,
      reason: `Redeemed: ${reward.name}`,
      rule: { redemptionId: row.id, rewardId: reward.id, kind: reward.kind, value: reward.value, balanceBefore: balance },
      idempotencyKey: ledgerKeys.redeem(row.id),
    };
    const written = await insertEntries(db, shop, [debit]);
    if (!written.has(debit.idempotencyKey)) throw new Error(`redemption ${row.id}: its debit ${debit.idempotencyKey} already exists`);
    // Segments on loyalty_points follow the spent points in this transaction.
    await reevaluateSegmentsForCustomers(db, shop, [customerGid], { kind: "event" }, { now });
    return { row, created: true };
  });

  if (!begun.created) return awaitOutcome(begun.row, retry);
  logger.info({ shop, redemptionId: begun.row.id, rewardId, points: begun.row.points }, "loyalty.redemption_started");
  return issueCode(begun.row, retry);
}

/** A repeated requestKey: the redemption as it is, waiting a little for one still in progress. */
async function awaitOutcome(row: RedemptionRow, retry: RetryPolicy): Promise<Redemption> {
  const deadline = Date.now() + retry.pendingWaitMs;
  let current = row;
  while (current.status === "pending") {
    if (Date.now() > deadline) throw new LoyaltyError("unavailable", `redemption ${row.id} is still in progress; try again shortly`);
    await sleep(100);
    current = (await loadRedemption(getPool(), row.id))!;
  }
  return toRedemption(current);
}

async function loadRedemption(db: Queryable, id: string): Promise<RedemptionRow | null> {
  const { rows } = await db.query<RedemptionRow>({ name: "loyalty-redemption-by-id", text: `SELECT ${ROW_COLUMNS} FROM loyalty_redemptions WHERE id = $1`, values: [id] });
  return rows[0] ?? null;
}

/** The customer's redemptions, newest first (pending ones included: their points are held). */
export async function listRedemptions(shop: string, customerGid: string, db: Queryable = getPool()): Promise<Redemption[]> {
  const { rows } = await db.query<RedemptionRow>({
    name: "loyalty-redemptions-of-customer",
    text: `SELECT ${ROW_COLUMNS} FROM loyalty_redemptions WHERE shop = $1 AND customer_gid = $2 ORDER BY id DESC`,
    values: [shop, customerGid],
  });
  return rows.map(toRedemption);
}

// ---------------------------------------------------------------- talking to Shopify

/**
 * Admin access per shop, reused for a minute (loading the offline session costs a query and
 * the library's setup, about as much as the Shopify call itself); dropped when Shopify refuses
 * the shop's token or access, so the next call loads the session again.
 */
const ADMIN_MAX_AGE_MS = 60_000;
const admins = new Map<string, { admin: Promise<ShopifyAdmin>; at: number }>();
export function adminFor(shop: string): Promise<ShopifyAdmin> {
  const cached = admins.get(shop);
  if (cached && Date.now() - cached.at < ADMIN_MAX_AGE_MS) return cached.admin;
  const admin = getShopifyAdmin(shop);
  admins.set(shop, { admin, at: Date.now() });
  admin.catch(() => admins.delete(shop));
  return admin;
}

/** One cost bucket model per shop in this process (app/shopify/cost-pacer.ts), shared by concurrent redemptions. */
const pacers = new Map<string, CostPacer>();
const pacerFor = (shop: string) => {
  let pacer = pacers.get(shop);
  if (!pacer) pacers.set(shop, (pacer = new CostPacer()));
  return pacer;
};

/** Requested cost of the create mutation (10) and its selection; of the lookup. */
const CREATE_COST = 12;
const LOOKUP_COST = 3;

const backoff = (policy: RetryPolicy, attempt: number) => policy.backoffMs * 2 ** attempt * (0.75 + Math.random() * 0.5);

/** One Admin call, paced on the shop's bucket, retried on THROTTLED and (a few times) on transient failures. Throws ShopifyAdminError. */
export async function callShopify<T>(admin: ShopifyAdmin, cost: number, policy: RetryPolicy, fn: (admin: ShopifyAdmin) => Promise<AdminResult<T>>): Promise<AdminResult<T>> {
  const pacer = pacerFor(admin.shop);
  let transient = 0;
  let throttled = 0;
  for (;;) {
    for (let wait = pacer.delayFor(cost); wait > 0; wait = pacer.delayFor(cost)) await sleep(Math.min(wait, 250));
    pacer.sent(cost);
    try {
      const result = await fn(admin);
      pacer.answered(cost, result.cost?.throttleStatus);
      return result;
    } catch (e) {
      const error = classifyAdminError(admin.shop, e);
      pacer.answered(cost, error.details.cost?.throttleStatus);
      if (error.haltsShop) admins.delete(admin.shop);
      if (error.kind === "throttled" && throttled++ < policy.throttleRetries) {
        if (error.details.retryAfterMs) pacer.pause(Date.now() + error.details.retryAfterMs);
        else if (!error.details.cost) await sleep(backoff(policy, Math.min(throttled, 4)));
        continue;
      }
      if (error.kind === "transient" && transient < policy.transientRetries) {
        await sleep(backoff(policy, transient++));
        continue;
      }
      throw error;
    }
  }
}

type Outcome = { kind: "issued"; discount: CodeDiscountInfo; code: string } | { kind: "failed"; reason: string };

function rewardOf(row: RedemptionRow): Reward {
  return RewardSchema.parse(row.reward);
}

/** Creates the code in Shopify and settles the redemption. */
async function issueCode(row: RedemptionRow, policy: RetryPolicy): Promise<Redemption> {
  const log = logger.child({ shop: row.shop, redemptionId: row.id });
  const reward = rewardOf(row);
  const title = discountTitle({ reward, redemptionId: row.id });
  let code = row.code!;
  let attempts = row.attempts;
  let outcome: Outcome | null = null;
  try {
    const admin = await adminFor(row.shop);
    for (let codeTries = 0; !outcome; codeTries++) {
      const { mutation, input } = buildDiscountInput({ reward, customerGid: row.customer_gid, code, title, startsAt: row.starts_at, endsAt: row.expires_at });
      attempts++;
      const { data } = await callShopify(admin, CREATE_COST, policy, (a) => (mutation === "discountCodeBasicCreate" ? a.discountCodeBasicCreate(input) : a.discountCodeFreeShippingCreate(input)));
      if (data.codeDiscountNode && data.userErrors.length === 0) {
        outcome = { kind: "issued", discount: data.codeDiscountNode, code };
      } else if (isCodeTaken(data.userErrors)) {
        // Ours from an earlier attempt whose answer was lost, or another discount's code.
        const { data: existing } = await callShopify(admin, LOOKUP_COST, policy, (a) => a.codeDiscountNodeByCode(code));
        if (existing && isOwnDiscount({ title: existing.title, redemptionId: row.id })) outcome = { kind: "issued", discount: existing, code };
        else if (codeTries >= policy.codeRetries) outcome = { kind: "failed", reason: `Shopify refused ${policy.codeRetries + 1} generated codes as taken` };
        else {
          code = newCode();
          await getPool().query(`UPDATE loyalty_redemptions SET code = $2, attempts = $3, updated_at = now() WHERE id = $1 AND status = 'pending'`, [row.id, code, attempts]);
          log.info("loyalty.redemption_code_taken");
        }
      } else {
        outcome = { kind: "failed", reason: `Shopify refused the discount: ${describeUserErrors(data.userErrors)}` };
      }
    }
  } catch (e) {
    if (!(e instanceof ShopifyAdminError)) throw e; // unknown state: the row stays pending for recovery
    outcome = await outcomeAfterFailure(e, row, code, policy);
    if (!outcome) {
      log.warn({ kind: e.kind, err: e.message }, "loyalty.redemption_outcome_unknown");
      throw new LoyaltyError("unavailable", `Shopify could not be reached (${e.message}); the redemption ${row.id} will be settled when it can be checked`);
    }
  }
  const settled = await settle(row, outcome, attempts);
  if (!settled) throw new LoyaltyError("not_found", `redemption ${row.id} voided: the customer was redacted while it was in progress, and nothing about them was kept`);
  return settled;
}

/**
 * After the create call failed for good: a permanent failure means nothing was created. A
 * transient one may have reached Shopify, so the code is looked up; when even that fails the
 * outcome is unknown (null).
 */
async function outcomeAfterFailure(error: ShopifyAdminError, row: RedemptionRow, code: string, policy: RetryPolicy): Promise<Outcome | null> {
  if (error.kind !== "transient" && error.kind !== "throttled") return { kind: "failed", reason: `Shopify ${error.kind.replace("_", " ")}: ${error.message}` };
  try {
    const admin = await adminFor(row.shop);
    const { data: existing } = await callShopify(admin, LOOKUP_COST, { ...policy, transientRetries: 1 }, (a) => a.codeDiscountNodeByCode(code));
    if (existing && isOwnDiscount({ title: existing.title, redemptionId: row.id })) return { kind: "issued", discount: existing, code };
    return { kind: "failed", reason: `Shopify unavailable: ${error.message}` };
  } catch {
    return null;
  }
}

/**
 * Records the outcome once: under the customer's lock, only while the row is pending; a failure
 * credits the points back. Null when the row is gone: customers/redact deleted it (and
 * anonymised its debit) while Shopify was answering, so the redemption is void and nothing
 * more is recorded about the person (decisions 038, 041).
 */
async function settle(row: RedemptionRow, outcome: Outcome, attempts: number): Promise<Redemption | null> {
  const settled = await withTransaction(async (db) => {
    await lockLoyaltyCustomers(db, row.shop, [row.customer_gid]);
    const { rows } =
      outcome.kind === "issued"
        ? await db.query<RedemptionRow>({
            name: "loyalty-redemption-issued",
            text: `UPDATE loyalty_redemptions SET status = 'issued', code = $2, discount_gid = $3, attempts = GREATEST(attempts, $4), updated_at = now()
                    WHERE id = $1 AND status = 'pending' RETURNING ${ROW_COLUMNS}`,
            values: [row.id, outcome.code, outcome.discount.id, attempts],
          })
        : await db.query<RedemptionRow>({
            name: "loyalty-redemption-failed",
            text: `UPDATE loyalty_redemptions SET status = 'failed', failure_reason = $2, attempts = GREATEST(attempts, $3), updated_at = now()
                    WHERE id = $1 AND status = 'pending' RETURNING ${ROW_COLUMNS}`,
            values: [row.id, outcome.reason, attempts],
          });
    const updated = rows[0];
    if (!updated) {
      const current = await loadRedemption(db, row.id);
      return current ? { row: current, changed: false } : null;
    }
    if (outcome.kind === "failed") {
      const now = new Date();
      await insertEntries(db, row.shop, [
        {
          customerGid: row.customer_gid,
          points: row.points,
          kind: "refund_redeem",
          status: "available",
          availableAt: now,
          occurredAt: now,
          source: `redemption:${row.id}`,
          orderGid: null,
          reason: `Reward not issued: ${outcome.reason}`.slice(0, 500),
          rule: { redemptionId: row.id, rewardId: row.reward_id },
          idempotencyKey: ledgerKeys.refundRedeem(row.id),
        },
      ]);
      await reevaluateSegmentsForCustomers(db, row.shop, [row.customer_gid], { kind: "event" }, { now });
    }
    return { row: updated, changed: true };
  });
  const log = logger.child({ shop: row.shop, redemptionId: row.id });
  if (!settled) {
    log.warn({ outcome: outcome.kind }, "loyalty.redemption_voided_redacted");
    return null;
  }
  if (!settled.changed) {
    // Settled meanwhile (recovery ran on a row it thought abandoned): keep the first outcome.
    if (settled.row.status !== outcome.kind) log.error({ recorded: settled.row.status, seen: outcome.kind }, "loyalty.redemption_outcome_conflict");
  } else if (outcome.kind === "issued") log.info({ discountGid: outcome.discount.id }, "loyalty.redemption_issued");
  else log.warn({ reason: outcome.reason }, "loyalty.redemption_failed");
  return toRedemption(settled.row);
}

// ---------------------------------------------------------------- recovery

/** `voided`: the customer was redacted while the row was being settled (nothing is recorded about them). */
export type RecoveryReport = { checked: number; issued: number; failed: number; stillPending: number; voided: number };

/**
 * Settles redemptions left pending for more than `olderThanMs` (the process died between the
 * debit and the outcome, or Shopify was unreachable): the code exists in Shopify and is ours
 * -> issued; it does not -> failed and the points credited back. A shop whose Admin API cannot
 * be reached (no session, token refused, outage) keeps its rows pending for the next run.
 * `olderThanMs` must exceed the longest live attempt (retries included), so a redemption in
 * progress is never settled from under its caller (default 10 minutes).
 */
export async function recoverPendingRedemptions(shop?: string, olderThanMs = 10 * 60_000, options: RedeemOptions = {}): Promise<RecoveryReport> {
  const policy = { ...DEFAULT_RETRY, ...options.retry };
  const { rows } = await getPool().query<RedemptionRow>({
    name: "loyalty-redemptions-pending",
    text: `SELECT ${ROW_COLUMNS} FROM loyalty_redemptions
            WHERE status = 'pending' AND created_at < now() - make_interval(secs => $1::double precision / 1000) AND ($2::text IS NULL OR shop = $2)
            ORDER BY id LIMIT 1000`,
    values: [olderThanMs, shop ?? null],
  });
  const report: RecoveryReport = { checked: rows.length, issued: 0, failed: 0, stillPending: 0, voided: 0 };
  const reachable = new Map<string, ShopifyAdmin | null>();
  for (const row of rows) {
    if (!reachable.has(row.shop)) reachable.set(row.shop, await adminFor(row.shop).catch(() => null));
    const admin = reachable.get(row.shop);
    let outcome: Outcome | null = null;
    if (admin && row.code) {
      try {
        const { data: existing } = await callShopify(admin, LOOKUP_COST, policy, (a) => a.codeDiscountNodeByCode(row.code!));
        outcome =
          existing && isOwnDiscount({ title: existing.title, redemptionId: row.id })
            ? { kind: "issued", discount: existing, code: row.code }
            : { kind: "failed", reason: "the discount code was not created in Shopify (settled by recovery after an interruption)" };
      } catch (e) {
        const error = classifyAdminError(row.shop, e);
        if (error.haltsShop) reachable.set(row.shop, null);
        logger.warn({ shop: row.shop, redemptionId: row.id, kind: error.kind, err: error.message }, "loyalty.redemption_recovery_deferred");
      }
    }
    if (!outcome) {
      report.stillPending++;
      continue;
    }
    const settled = await settle(row, outcome, row.attempts);
    if (!settled) report.voided++;
    else if (settled.status === "issued") report.issued++;
    else if (settled.status === "failed") report.failed++;
  }
  if (report.checked) logger.info({ shop: shop ?? null, ...report }, "loyalty.redemptions_recovered");
  return report;
}
