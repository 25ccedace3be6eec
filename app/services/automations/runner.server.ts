// Executes automation firings (jobs/automation-runner.ts runs it every
// AUTOMATION_RUNNER_INTERVAL_MS; decision 049). PostgreSQL holds the schedule: a firing is due
// when its due_at has passed; the runner claims due firings with a lease (status running,
// due_at = lease end, a fresh lease token), so a runner that dies mid-firing leaves it to be
// claimed again when the lease ends, and every later write is guarded by the token (a runner
// whose lease was taken over changes nothing).
//
// A firing's life: the first claim checks the customer (still there), re-entry and the rule's
// condition on the customer now (condition_result); then its steps run in order. Actions that
// write to PostgreSQL (tag outbox, loyalty ledger, email outbox) happen in the
// same transaction that records them done and moves the firing on: exactly once. Actions that
// call out (the Shopify discount, the outgoing webhook, the Flow trigger) keep an idempotency handle recorded
// before the call (the code and its title, the delivery id) so a retry after a lost answer
// finds its own work. A wait sets the firing `waiting` until its end; when claimed again the
// wait's `until` condition is checked. A failing action is retried with backoff up to
// MAX_ATTEMPTS times, each failure recorded on its result row; then the firing is `failed`.
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { getPool, withTransaction, type Queryable } from "../../db.server";
import { logger } from "../../logger.server";
import { automationKeys, DEFAULT_MESSAGES_PER_WEEK, fillTemplate, reentryAllows, underMessageCap, waitMs, type Step } from "../../domain/automations/rules";
import { buildDiscountCode, buildDiscountInput, codeWindow, describeUserErrors, isCodeTaken } from "../../domain/loyalty/rewards";
import type { Reward } from "../../domain/loyalty/program";
import { latestVersion } from "../../domain/loyalty/program";
import type { NewLedgerEntry } from "../../domain/loyalty/ledger";
import { renderAutomationMessage } from "../../emails/automation-message";
import { queueEmail, wakeEmailSender } from "../email/outbox.server";
import { getShopEmailSettings } from "../email/settings.server";
import { insertEntries, loadProgramVersions, loadWallets, lockLoyaltyCustomers } from "../loyalty/store.server";
import { adminFor, callShopify, DEFAULT_RETRY } from "../loyalty/rewards.server";
import { reevaluateSegmentsForCustomers } from "../segments/reevaluate.server";
import { customerMatches } from "./condition.server";
import { loadRuleById, messagesPerWeek, type StoredRule } from "./rules.server";
import { scanTimeTriggers } from "./scans.server";
import { expandMoments } from "./moments.server";
import { buildFlowTriggerPayload } from "../../domain/flow/definitions";

/** Requested cost of flowTriggerReceive (a mutation: 10). */
const FLOW_TRIGGER_COST = 10;

export const MAX_ATTEMPTS = 5;
const BACKOFF_BASE_MS = 30_000;
const WEBHOOK_TIMEOUT_MS = 10_000;

export type RunnerReport = { fired: number; claimed: number; done: number; skipped: number; waiting: number; retrying: number; failed: number; scanned: number };

export type ClaimedFiring = {
  id: string;
  shop: string;
  rule_id: string;
  rule_version: number;
  customer_gid: string;
  event_key: string;
  trigger: Record<string, unknown>;
  occurred_at: Date;
  status: string;
  condition_result: boolean | null;
  next_step: number;
  attempts: number;
  lease_token: string;
};

const CLAIMED = `id::text AS id, shop, rule_id::text AS rule_id, rule_version, customer_gid, event_key, trigger, occurred_at, status, condition_result, next_step, attempts, lease_token`;

/** Claims up to `limit` due firings (pending, waiting whose wait ended, or running whose lease ended) for `leaseMs`. */
export async function claimDueFirings({ now, limit, leaseMs }: { now: Date; limit: number; leaseMs: number }): Promise<ClaimedFiring[]> {
  const token = randomUUID();
  const { rows } = await getPool().query<ClaimedFiring>({
    name: "automation-claim",
    text: `UPDATE automation_firings f SET status = 'running', lease_token = $3, lease_until = $4, due_at = $4, updated_at = now()
            WHERE f.id IN (SELECT id FROM automation_firings WHERE status IN ('pending', 'waiting', 'running') AND due_at <= $1 ORDER BY due_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
            RETURNING ${CLAIMED}`,
    values: [now, limit, token, new Date(now.getTime() + leaseMs)],
  });
  // UPDATE ... RETURNING keeps no order: earliest moments first (re-entry "once" keeps the first).
  return rows.sort((a, b) => a.occurred_at.getTime() - b.occurred_at.getTime() || (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
}

class StepError extends Error {
  constructor(
    message: string,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "StepError";
  }
}

/** The firing row, locked, if this runner still holds its lease. */
async function lockOwn(db: Queryable, firing: ClaimedFiring): Promise<boolean> {
  const { rows } = await db.query({ name: "automation-lock-own", text: `SELECT 1 FROM automation_firings WHERE id = $1 AND lease_token = $2 AND status = 'running' FOR UPDATE`, values: [firing.id, firing.lease_token] });
  return rows.length > 0;
}

async function finish(db: Queryable, firing: ClaimedFiring, status: "done" | "skipped" | "failed", reason: string | null, error: string | null = null): Promise<void> {
  await db.query({
    name: "automation-finish",
    text: `UPDATE automation_firings SET status = $3, skip_reason = $4, last_error = COALESCE($5, last_error), lease_token = NULL, lease_until = NULL, completed_at = now(), updated_at = now()
            WHERE id = $1 AND lease_token = $2`,
    values: [firing.id, firing.lease_token, status, reason, error],
  });
}

async function recordResult(db: Queryable, firingId: string, step: number, kind: string, status: string, detail: Record<string, unknown>, error: string | null = null): Promise<void> {
  await db.query({
    name: "automation-record-result",
    text: `INSERT INTO automation_action_results (firing_id, step, kind, status, attempts, detail, error) VALUES ($1, $2, $3, $4, 1, $5::jsonb, $6)
           ON CONFLICT (firing_id, step) DO UPDATE SET status = EXCLUDED.status, attempts = automation_action_results.attempts + 1,
                  detail = automation_action_results.detail || EXCLUDED.detail, error = EXCLUDED.error, updated_at = now()`,
    values: [firingId, step, kind, status, JSON.stringify(detail), error],
  });
}

async function resultOf(db: Queryable, firingId: string, step: number): Promise<{ status: string; detail: Record<string, unknown> } | null> {
  const { rows } = await db.query<{ status: string; detail: Record<string, unknown> }>({ name: "automation-result-of", text: `SELECT status, detail FROM automation_action_results WHERE firing_id = $1 AND step = $2`, values: [firingId, step] });
  return rows[0] ?? null;
}

async function advance(db: Queryable, firing: ClaimedFiring, step: number): Promise<void> {
  await db.query({ name: "automation-advance", text: `UPDATE automation_firings SET next_step = $3, attempts = 0, updated_at = now() WHERE id = $1 AND lease_token = $2`, values: [firing.id, firing.lease_token, step + 1] });
  firing.next_step = step + 1;
}

type ShopInfo = { name: string; currency: string | null };
async function shopInfo(db: Queryable, shop: string): Promise<ShopInfo> {
  const { rows } = await db.query<{ name: string | null; currency: string | null }>({ name: "automation-shop-info", text: `SELECT name, "currencyCode" AS currency FROM shops WHERE domain = $1`, values: [shop] });
  return { name: rows[0]?.name ?? shop.replace(/\.myshopify\.com$/, ""), currency: rows[0]?.currency ?? null };
}

type Customer = { email: string | null; first_name: string | null };
async function liveCustomer(db: Queryable, shop: string, gid: string): Promise<Customer | null> {
  const { rows } = await db.query<Customer>({ name: "automation-customer", text: `SELECT email, first_name FROM customers WHERE shop = $1 AND gid = $2 AND deleted_at IS NULL AND redacted_at IS NULL`, values: [shop, gid] });
  return rows[0] ?? null;
}

/** First claim: customer still there, re-entry, the rule's condition now. Returns whether the firing goes on. */
async function precheck(firing: ClaimedFiring, stored: StoredRule, now: Date): Promise<boolean> {
  return withTransaction(async (db) => {
    if (!(await lockOwn(db, firing))) return false;
    // Serialises the re-entry decision of one rule and customer across runners.
    await db.query(`SELECT pg_advisory_xact_lock(hashtextextended('crm-automation:' || $1 || ':' || $2, 0))`, [firing.rule_id, firing.customer_gid]);
    if (!(await liveCustomer(db, firing.shop, firing.customer_gid))) {
      await finish(db, firing, "skipped", "customer_gone");
      return false;
    }
    const { rows: earlier } = await db.query<{ occurred_at: Date }>({
      name: "automation-earlier-firings",
      text: `SELECT occurred_at FROM automation_firings WHERE shop = $1 AND customer_gid = $2 AND rule_id = $3 AND id <> $4 AND condition_result`,
      values: [firing.shop, firing.customer_gid, firing.rule_id, firing.id],
    });
    if (!reentryAllows({ reentry: stored.rule.reentry, earlier: earlier.map((r) => r.occurred_at), occurredAt: firing.occurred_at })) {
      await finish(db, firing, "skipped", "reentry");
      return false;
    }
    const passes = stored.rule.condition === null || (await customerMatches(db, firing.shop, firing.customer_gid, stored.rule.condition, now));
    await db.query({ name: "automation-condition", text: `UPDATE automation_firings SET condition_result = $3, updated_at = now() WHERE id = $1 AND lease_token = $2`, values: [firing.id, firing.lease_token, passes] });
    if (!passes) {
      await finish(db, firing, "skipped", "condition_false");
      return false;
    }
    firing.condition_result = true;
    return true;
  });
}

/** Counts the customer's automation emails of the last 7 days under a per-customer lock (held until the transaction ends). */
async function capAllows(db: Queryable, shop: string, customerGid: string, now: Date): Promise<boolean> {
  await db.query(`SELECT pg_advisory_xact_lock(hashtextextended('crm-automation-cap:' || $1 || ':' || $2, 0))`, [shop, customerGid]);
  const perWeek = await messagesPerWeek(db, shop, DEFAULT_MESSAGES_PER_WEEK);
  const { rows } = await db.query<{ n: number }>({
    name: "automation-cap-count",
    text: `SELECT count(*)::int AS n FROM email_outbox WHERE shop = $1 AND customer_gid = $2 AND category = 'automation' AND status IN ('pending', 'sending', 'sent') AND created_at > $3`,
    values: [shop, customerGid, new Date(now.getTime() - 7 * 86_400_000)],
  });
  return underMessageCap({ sentThisWeek: rows[0]!.n, perWeek });
}

/** Queues an automation email (key derived from firing and step). Returns what happened, for the result row. */
async function sendMessage(db: Queryable, firing: ClaimedFiring, step: number, text: { subject: string; body: string }, values: Record<string, string | null>, now: Date): Promise<Record<string, unknown>> {
  const customer = await liveCustomer(db, firing.shop, firing.customer_gid);
  if (!customer?.email) return { email: "skipped", emailReason: "no_email" };
  if (!(await capAllows(db, firing.shop, firing.customer_gid, now))) return { email: "skipped", emailReason: "capped" };
  const shop = await shopInfo(db, firing.shop);
  const settings = await getShopEmailSettings(db, firing.shop);
  const fill = { first_name: customer.first_name ?? "there", shop_name: shop.name, ...values };
  const result = await queueEmail(db, {
    shop: firing.shop,
    customerGid: firing.customer_gid,
    to: customer.email,
    category: "automation",
    idempotencyKey: automationKeys.effect(firing.id, step),
    render: ({ unsubscribeUrl }) => renderAutomationMessage({ shopName: shop.name, settings, subject: fillTemplate(text.subject, fill), body: fillTemplate(text.body, fill), unsubscribeUrl }),
  });
  if (result.status === "queued" || result.status === "duplicate") return { email: "queued", emailId: result.id };
  return { email: "skipped", emailReason: result.status === "suppressed" ? result.reason : result.status };
}

/** Actions done entirely in PostgreSQL: effect, result and the firing's next step in one transaction. */
async function runLocalStep(firing: ClaimedFiring, stored: StoredRule, step: number, action: Step, now: Date): Promise<{ queuedEmail: boolean } | null> {
  return withTransaction(async (db) => {
    if (!(await lockOwn(db, firing))) return null;
    const prior = await resultOf(db, firing.id, step);
    if (prior && (prior.status === "done" || prior.status === "skipped" || prior.status === "recorded")) {
      await advance(db, firing, step);
      return { queuedEmail: false };
    }
    let status = "done";
    let detail: Record<string, unknown> = {};
    let queuedEmail = false;
    switch (action.kind) {
      case "add_tag":
      case "remove_tag": {
        const tagKey = action.tag.toLowerCase();
        const written = await db.query(
          action.kind === "add_tag"
            ? `INSERT INTO tag_writes (shop, customer_gid, tag, tag_key, action, source)
               SELECT $1, $2, $3, $4, 'add', 'automation'
                WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.shop = $1 AND c.gid = $2 AND $4 = ANY(SELECT lower(t) FROM unnest(c.tags) t))
               ON CONFLICT DO NOTHING`
            : `INSERT INTO tag_writes (shop, customer_gid, tag, tag_key, action, source)
               SELECT $1, $2, $3, $4, 'remove', 'automation'
                WHERE EXISTS (SELECT 1 FROM customers c WHERE c.shop = $1 AND c.gid = $2 AND $4 = ANY(SELECT lower(t) FROM unnest(c.tags) t))
               ON CONFLICT DO NOTHING`,
          [firing.shop, firing.customer_gid, action.tag, tagKey],
        );
        detail = { tag: action.tag, queued: (written.rowCount ?? 0) > 0 };
        if (!detail.queued) detail.note = action.kind === "add_tag" ? "the customer already has the tag (or a write is open)" : "the customer does not have the tag";
        break;
      }
      case "points": {
        const program = latestVersion(await loadProgramVersions(db, firing.shop));
        if (!program) {
          status = "skipped";
          detail = { reason: "no loyalty program" };
          break;
        }
        const live = await lockLoyaltyCustomers(db, firing.shop, [firing.customer_gid]);
        if (!live.has(firing.customer_gid)) {
          status = "skipped";
          detail = { reason: "customer gone" };
          break;
        }
        if (action.points < 0 && program.settings.negativeBalance !== "allow") {
          const wallet = (await loadWallets(db, firing.shop, [firing.customer_gid], now)).get(firing.customer_gid)!;
          if (wallet.available + action.points < 0) {
            status = "skipped";
            detail = { reason: `deducting ${-action.points} points would leave ${wallet.available + action.points}; the program does not allow a negative balance` };
            break;
          }
        }
        const key = automationKeys.effect(firing.id, step);
        const entry: NewLedgerEntry = {
          customerGid: firing.customer_gid,
          points: action.points,
          kind: "adjust",
          status: "available",
          availableAt: now,
          occurredAt: now,
          source: `automation:${stored.id}`,
          orderGid: null,
          reason: action.reason,
          rule: { automationRuleId: stored.id, firingId: firing.id, step },
          idempotencyKey: key,
        };
        const written = await insertEntries(db, firing.shop, [entry]);
        if (written.has(key)) await reevaluateSegmentsForCustomers(db, firing.shop, [firing.customer_gid], { kind: "event" }, { now });
        detail = { points: action.points, ledgerKey: key };
        break;
      }
      case "email": {
        detail = await sendMessage(db, firing, step, action, {}, now);
        queuedEmail = detail.email === "queued";
        if (!queuedEmail) status = "skipped";
        break;
      }
      default:
        throw new Error(`not a local step: ${action.kind}`);
    }
    await recordResult(db, firing.id, step, action.kind, status, detail);
    await advance(db, firing, step);
    return { queuedEmail };
  });
}

/** The signature of an outgoing webhook body: hex HMAC-SHA256 with the rule's secret. */
export function signWebhookBody(secret: string, body: string): string {
  return createHmac("sha256", secret).update(body, "utf8").digest("hex");
}

async function runWebhookStep(firing: ClaimedFiring, stored: StoredRule, step: number, action: Extract<Step, { kind: "webhook" }>): Promise<void> {
  const deliveryId = automationKeys.effect(firing.id, step);
  const customer = await liveCustomer(getPool(), firing.shop, firing.customer_gid);
  const body = JSON.stringify({
    id: deliveryId,
    shop: firing.shop,
    rule: { id: stored.id, name: stored.name },
    customer: { gid: firing.customer_gid, email: customer?.email ?? null, firstName: customer?.first_name ?? null },
    trigger: firing.trigger,
    occurredAt: firing.occurred_at.toISOString(),
  });
  let response: Response;
  try {
    response = await fetch(action.url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-crm-signature": `sha256=${signWebhookBody(stored.webhookSecret, body)}`, "x-crm-delivery-id": deliveryId },
      body,
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
  } catch (error) {
    throw new StepError(`webhook not delivered: ${(error as Error).message}`, { url: action.url });
  }
  if (!response.ok) throw new StepError(`webhook answered HTTP ${response.status}`, { url: action.url, status: response.status });
  await withTransaction(async (db) => {
    if (!(await lockOwn(db, firing))) return;
    await recordResult(db, firing.id, step, "webhook", "done", { url: action.url, status: response.status, deliveryId });
    await advance(db, firing, step);
  });
}

/**
 * Sends the rule's Flow trigger with flowTriggerReceive (decision 058): the payload carries the
 * fields the trigger's extension declares, built from the firing's moment; paced and retried
 * like the discount calls. A refused payload (userErrors) or a handle that does not fit the
 * moment fails the attempt (retried within MAX_ATTEMPTS, recorded). The result row keeps the
 * handle and payload sent. Flow has no idempotency key: a runner that dies between Shopify's
 * answer and the result row sends the trigger again when its lease ends (at least once).
 */
async function runFlowTriggerStep(firing: ClaimedFiring, stored: StoredRule, step: number, action: Extract<Step, { kind: "flow_trigger" }>): Promise<void> {
  let payload: Record<string, string | number>;
  try {
    payload = buildFlowTriggerPayload({ handle: action.handle, customerGid: firing.customer_gid, moment: firing.trigger, ruleName: stored.name });
  } catch (error) {
    throw new StepError((error as Error).message, { handle: action.handle });
  }
  const done = await withTransaction(async (db) => {
    if (!(await lockOwn(db, firing))) return true;
    const prior = await resultOf(db, firing.id, step);
    if (prior && (prior.status === "done" || prior.status === "skipped")) {
      await advance(db, firing, step);
      return true;
    }
    return false;
  });
  if (done) return;
  const admin = await adminFor(firing.shop).catch((error: unknown) => {
    throw new StepError(`Shopify not reachable: ${(error as Error).message}`, { handle: action.handle });
  });
  let userErrors;
  try {
    ({ data: { userErrors } } = await callShopify(admin, FLOW_TRIGGER_COST, DEFAULT_RETRY, (a) => a.flowTriggerReceive(action.handle, payload)));
  } catch (error) {
    throw new StepError(`Shopify: ${(error as Error).message}`, { handle: action.handle, payload });
  }
  if (userErrors.length > 0) throw new StepError(`Shopify refused the Flow trigger: ${describeUserErrors(userErrors)}`, { handle: action.handle, payload });
  await withTransaction(async (db) => {
    if (!(await lockOwn(db, firing))) return;
    await recordResult(db, firing.id, step, "flow_trigger", "done", { handle: action.handle, payload });
    await advance(db, firing, step);
  });
}

const newCode = () => buildDiscountCode(randomBytes(12));
const ownTitle = (firingId: string, step: number) => `[automation ${firingId}:${step}]`;

async function runDiscountStep(firing: ClaimedFiring, stored: StoredRule, step: number, action: Extract<Step, { kind: "discount_code" }>, now: Date): Promise<{ queuedEmail: boolean }> {
  const reward: Reward = { id: "automation", name: stored.name.slice(0, 100), pointsCost: 1, ...action.discount } as Reward;
  // The code, its window and title are recorded before Shopify is asked, so a retry (or a
  // runner that took over) asks for the same code and recognises it when it was created.
  const prepared = await withTransaction(async (db) => {
    if (!(await lockOwn(db, firing))) return null;
    const prior = await resultOf(db, firing.id, step);
    if (prior && (prior.status === "done" || prior.status === "skipped")) return { done: true as const };
    if (prior?.detail.code && prior.detail.discountGid) return { done: false as const, issued: true as const, ...(prior.detail as { code: string; startsAt: string; endsAt: string; discountGid: string }) };
    if (prior?.detail.code) return { done: false as const, issued: false as const, ...(prior.detail as { code: string; startsAt: string; endsAt: string }) };
    const { startsAt, endsAt } = codeWindow({ reward, now });
    const detail = { code: newCode(), startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString() };
    await recordResult(db, firing.id, step, "discount_code", "in_progress", detail);
    return { done: false as const, issued: false as const, ...detail };
  });
  if (!prepared) return { queuedEmail: false };
  if (prepared.done) {
    await withTransaction(async (db) => {
      if (await lockOwn(db, firing)) await advance(db, firing, step);
    });
    return { queuedEmail: false };
  }
  let code = prepared.code;
  let discountGid = prepared.issued ? (prepared as { discountGid: string }).discountGid : null;
  const title = `Automation: ${stored.name.slice(0, 100)} ${ownTitle(firing.id, step)}`;
  if (!discountGid) {
    const admin = await adminFor(firing.shop).catch((error: unknown) => {
      throw new StepError(`Shopify not reachable: ${(error as Error).message}`);
    });
    for (let tries = 0; !discountGid; tries++) {
      const { mutation, input } = buildDiscountInput({ reward, customerGid: firing.customer_gid, code, title, startsAt: new Date(prepared.startsAt), endsAt: new Date(prepared.endsAt) });
      let data;
      try {
        ({ data } = await callShopify(admin, 12, { ...DEFAULT_RETRY, transientRetries: 1 }, (a) => (mutation === "discountCodeBasicCreate" ? a.discountCodeBasicCreate(input) : a.discountCodeFreeShippingCreate(input))));
      } catch (error) {
        throw new StepError(`Shopify: ${(error as Error).message}`, { code });
      }
      if (data.codeDiscountNode && data.userErrors.length === 0) discountGid = data.codeDiscountNode.id;
      else if (isCodeTaken(data.userErrors)) {
        const { data: existing } = await callShopify(admin, 3, DEFAULT_RETRY, (a) => a.codeDiscountNodeByCode(code)).catch((error: unknown) => {
          throw new StepError(`Shopify: ${(error as Error).message}`, { code });
        });
        if (existing?.title?.endsWith(ownTitle(firing.id, step))) discountGid = existing.id;
        else if (tries >= 3) throw new StepError("Shopify refused 4 generated codes as taken");
        else {
          code = newCode();
          await getPool().query(`UPDATE automation_action_results SET detail = detail || jsonb_build_object('code', $3::text), updated_at = now() WHERE firing_id = $1 AND step = $2`, [firing.id, step, code]);
        }
      } else throw new StepError(`Shopify refused the discount: ${describeUserErrors(data.userErrors)}`, { code });
    }
  }
  return withTransaction(async (db) => {
    if (!(await lockOwn(db, firing))) return { queuedEmail: false };
    let detail: Record<string, unknown> = { code, discountGid, startsAt: prepared.startsAt, endsAt: prepared.endsAt };
    if (action.email) {
      const expires = prepared.endsAt.slice(0, 10);
      detail = { ...detail, ...(await sendMessage(db, firing, step, action.email, { code, code_expires: expires }, now)) };
    } else detail.email = "none (the code is recorded for the merchant)";
    await recordResult(db, firing.id, step, "discount_code", "done", detail);
    await advance(db, firing, step);
    return { queuedEmail: detail.email === "queued" };
  });
}

/** A failed attempt: recorded on the step's result; retried with backoff, or the firing fails after MAX_ATTEMPTS. */
async function recordFailure(firing: ClaimedFiring, step: number, kind: string, error: unknown, now: Date): Promise<"retrying" | "failed"> {
  const message = (error instanceof Error ? error.message : String(error)).slice(0, 1000);
  const detail = error instanceof StepError ? error.detail : {};
  const attempts = firing.attempts + 1;
  const final = attempts >= MAX_ATTEMPTS;
  await withTransaction(async (db) => {
    if (!(await lockOwn(db, firing))) return;
    await recordResult(db, firing.id, step, kind, final ? "failed" : "retrying", detail, message);
    if (final) {
      await db.query(`UPDATE automation_firings SET attempts = $3 WHERE id = $1 AND lease_token = $2`, [firing.id, firing.lease_token, attempts]);
      await finish(db, firing, "failed", `step ${step} (${kind}) failed`, message);
    } else {
      await db.query({
        name: "automation-retry-later",
        text: `UPDATE automation_firings SET status = 'pending', attempts = $3, last_error = $4, due_at = $5, lease_token = NULL, lease_until = NULL, updated_at = now() WHERE id = $1 AND lease_token = $2`,
        values: [firing.id, firing.lease_token, attempts, message, new Date(now.getTime() + BACKOFF_BASE_MS * 2 ** (attempts - 1))],
      });
    }
  });
  logger[final ? "error" : "warn"]({ shop: firing.shop, firingId: firing.id, step, kind, attempts, err: message }, final ? "automation.action_failed" : "automation.action_retrying");
  return final ? "failed" : "retrying";
}

type Outcome = "done" | "skipped" | "waiting" | "retrying" | "failed" | "lost";

/** Runs one claimed firing as far as it goes now. */
export async function executeFiring(firing: ClaimedFiring, now: Date, rules: Map<string, StoredRule | null> = new Map()): Promise<{ outcome: Outcome; queuedEmail: boolean }> {
  if (!rules.has(firing.rule_id)) rules.set(firing.rule_id, await loadRuleById(getPool(), firing.rule_id));
  const stored = rules.get(firing.rule_id)!;
  let queuedEmail = false;
  const stop = async (status: "skipped" | "done", reason: string | null): Promise<{ outcome: Outcome; queuedEmail: boolean }> => {
    const ok = await withTransaction(async (db) => {
      if (!(await lockOwn(db, firing))) return false;
      await finish(db, firing, status, reason);
      return true;
    });
    return { outcome: ok ? status : "lost", queuedEmail };
  };
  if (!stored || !stored.enabled) return stop(firing.condition_result ? "done" : "skipped", stored ? "rule_disabled" : "rule_removed");
  // Steps already taken belong to the version that fired: a changed rule stops a firing under way.
  if (firing.next_step > 0 && stored.version !== firing.rule_version) return stop("done", "rule_changed");
  if (firing.condition_result === null && !(await precheck(firing, stored, now))) return { outcome: "skipped", queuedEmail };
  const steps = stored.rule.steps;
  while (firing.next_step < steps.length) {
    const index = firing.next_step;
    const step = steps[index]!;
    try {
      if (step.kind === "wait") {
        const waited = await withTransaction(async (db) => {
          if (!(await lockOwn(db, firing))) return "lost" as const;
          const prior = await resultOf(db, firing.id, index);
          if (!prior) {
            const until = new Date(now.getTime() + waitMs(step));
            await recordResult(db, firing.id, index, "wait", "in_progress", { until: until.toISOString() });
            await db.query({
              name: "automation-wait",
              text: `UPDATE automation_firings SET status = 'waiting', due_at = $3, lease_token = NULL, lease_until = NULL, updated_at = now() WHERE id = $1 AND lease_token = $2`,
              values: [firing.id, firing.lease_token, until],
            });
            return "waiting" as const;
          }
          // The wait has ended (the firing was due again): check its condition on the customer now.
          const holds = step.until === null || (await customerMatches(db, firing.shop, firing.customer_gid, step.until, now));
          await recordResult(db, firing.id, index, "wait", "done", { conditionHeld: holds });
          if (!holds) {
            await finish(db, firing, "done", "wait_condition_false");
            return "stopped" as const;
          }
          await advance(db, firing, index);
          return "next" as const;
        });
        if (waited === "waiting") return { outcome: "waiting", queuedEmail };
        if (waited === "lost") return { outcome: "lost", queuedEmail };
        if (waited === "stopped") return { outcome: "done", queuedEmail };
      } else if (step.kind === "webhook") {
        await runWebhookStep(firing, stored, index, step);
      } else if (step.kind === "flow_trigger") {
        await runFlowTriggerStep(firing, stored, index, step);
      } else if (step.kind === "discount_code") {
        queuedEmail = (await runDiscountStep(firing, stored, index, step, now)).queuedEmail || queuedEmail;
      } else {
        const result = await runLocalStep(firing, stored, index, step, now);
        if (!result) return { outcome: "lost", queuedEmail };
        queuedEmail ||= result.queuedEmail;
      }
      if (firing.next_step === index) return { outcome: "lost", queuedEmail }; // the lease was taken over meanwhile
    } catch (error) {
      return { outcome: await recordFailure(firing, index, step.kind, error, now), queuedEmail };
    }
  }
  return stop("done", null);
}

/**
 * One run: the time-based triggers' scans, then due firings in batches of `batchSize` (at most
 * `maxBatches`). Wakes the email sender once if something was queued.
 */
export async function runAutomations({ now = new Date(), batchSize = 100, maxBatches = 20, leaseMs = 120_000, scan = true }: { now?: Date; batchSize?: number; maxBatches?: number; leaseMs?: number; scan?: boolean } = {}): Promise<RunnerReport> {
  const report: RunnerReport = { fired: 0, claimed: 0, done: 0, skipped: 0, waiting: 0, retrying: 0, failed: 0, scanned: 0 };
  if (scan) report.scanned = await scanTimeTriggers(now);
  for (let i = 0; i < maxBatches; i++) {
    const expanded = await expandMoments({ now });
    report.fired += expanded.fired;
    if (expanded.moments < 2_000) break;
  }
  let queued = false;
  const rules = new Map<string, StoredRule | null>();
  for (let i = 0; i < maxBatches; i++) {
    const claimed = await claimDueFirings({ now, limit: batchSize, leaseMs });
    report.claimed += claimed.length;
    for (const firing of claimed) {
      const { outcome, queuedEmail } = await executeFiring(firing, now, rules);
      queued ||= queuedEmail;
      if (outcome !== "lost") report[outcome] += 1;
    }
    if (claimed.length < batchSize) break;
  }
  if (queued) await wakeEmailSender();
  if (report.fired + report.claimed + report.scanned > 0) logger.info(report, "automation.runner_ran");
  return report;
}
