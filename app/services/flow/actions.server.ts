// Shopify Flow actions served by the app (decision 058; extensions/crm-flow-award-points,
// extensions/crm-flow-add-tag). Flow POSTs each action run to the extension's runtime_url with
// the body signed by the app's secret (x-shopify-hmac-sha256: base64 HMAC-SHA256 of the raw
// body). The route checks the signature, then the body (zod), then performs the action once
// per action_run_id: the run's row in flow_action_runs is written in the transaction that
// performs it, so a run Flow sends again (it retries on 5xx, timeouts and 429) is answered
// from that row. Answers: 200 done (or already done), 401 bad signature, 400 bad body, 404
// unknown shop or customer, 422 the action cannot be done (Flow shows it as failed and does
// not retry 4xx).
import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { withTransaction, type Queryable } from "../../db.server";
import { getEnv } from "../../env.server";
import { logger } from "../../logger.server";
import { FLOW_ACTIONS } from "../../domain/flow/definitions";
import { TAG_NAMESPACE } from "../../domain/automations/rules";
import { latestVersion } from "../../domain/loyalty/program";
import type { NewLedgerEntry } from "../../domain/loyalty/ledger";
import { isShopDomain } from "../../shopify/shop-domain";
import { insertEntries, loadProgramVersions, loadWallets, lockLoyaltyCustomers } from "../loyalty/store.server";
import { reevaluateSegmentsForCustomers } from "../segments/reevaluate.server";

/** Flow's request bodies are small; anything larger is refused before it is parsed. */
export const FLOW_ACTION_MAX_BYTES = 64 * 1024;
export const FLOW_SIGNATURE_HEADER = "x-shopify-hmac-sha256";

/** The signature Flow sends: base64 HMAC-SHA256 of the raw body with the app's secret. */
export function signFlowBody(secret: string, body: string): string {
  return createHmac("sha256", secret).update(body, "utf8").digest("base64");
}

export function verifyFlowSignature(secret: string, body: string, header: string | null): boolean {
  if (!header) return false;
  const given = Buffer.from(header, "base64");
  const expected = Buffer.from(signFlowBody(secret, body), "base64");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const customerId = z.union([z.number().int().positive(), z.string().regex(/^\d{1,20}$/)]).transform((v) => String(v));

const envelope = <P extends z.ZodTypeAny>(handle: string, properties: P) =>
  z.object({
    shop_id: z.union([z.string(), z.number()]).optional(),
    shopify_domain: z.string().refine(isShopDomain, "shopify_domain must be a {name}.myshopify.com domain"),
    action_run_id: z.string().trim().min(1).max(200),
    action_definition_id: z.string().optional(),
    handle: z.literal(handle).optional(),
    properties,
  });

export const AwardPointsBodySchema = envelope(
  FLOW_ACTIONS.awardPoints.handle,
  z.object({
    customer_id: customerId,
    points: z.coerce.number().int("points must be a whole number").refine((n) => n !== 0 && Math.abs(n) <= 1_000_000, "points must be non-zero and at most 1,000,000 either way"),
    reason: z.string().trim().max(200).nullish(),
  }),
);

export const AddTagBodySchema = envelope(
  FLOW_ACTIONS.addTag.handle,
  z.object({
    customer_id: customerId,
    tag: z
      .string()
      .trim()
      .max(255)
      .refine((t) => t.toLowerCase().startsWith(TAG_NAMESPACE) && t.length > TAG_NAMESPACE.length, `tag must start with "${TAG_NAMESPACE}" (the app's namespace) and name something`)
      .refine((t) => !t.includes(","), "tag must not contain a comma"),
  }),
);

export type FlowActionAnswer = { status: 200 | 400 | 401 | 404 | 413 | 422; body: Record<string, unknown> };

type RunOutcome = { outcome: "done" | "skipped" | "refused"; detail: Record<string, unknown>; customerGid: string | null };

/** A run already served: its recorded outcome. */
async function priorRun(db: Queryable, shop: string, runId: string): Promise<RunOutcome | null> {
  const { rows } = await db.query<{ outcome: RunOutcome["outcome"]; detail: Record<string, unknown>; customer_gid: string | null }>(
    `SELECT outcome, detail, customer_gid FROM flow_action_runs WHERE shop = $1 AND action_run_id = $2`,
    [shop, runId],
  );
  return rows[0] ? { outcome: rows[0].outcome, detail: rows[0].detail, customerGid: rows[0].customer_gid } : null;
}

async function shopKnown(db: Queryable, shop: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM shops WHERE domain = $1`, [shop]);
  return rows.length > 0;
}

/**
 * Runs one action in a transaction under a per-run advisory lock: an earlier outcome is
 * returned as it was; otherwise `perform` acts and its outcome is recorded with the run.
 */
async function oncePerRun(shop: string, runId: string, handle: string, perform: (db: Queryable) => Promise<RunOutcome | "not_found">): Promise<{ run: RunOutcome | "not_found"; replay: boolean }> {
  return withTransaction(async (db) => {
    await db.query(`SELECT pg_advisory_xact_lock(hashtextextended('crm-flow-run:' || $1 || ':' || $2, 0))`, [shop, runId]);
    const prior = await priorRun(db, shop, runId);
    if (prior) return { run: prior, replay: true };
    const run = await perform(db);
    if (run === "not_found") return { run, replay: false };
    await db.query(`INSERT INTO flow_action_runs (shop, action_run_id, handle, customer_gid, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6::jsonb)`, [
      shop,
      runId,
      handle,
      run.customerGid,
      run.outcome,
      JSON.stringify(run.detail),
    ]);
    return { run, replay: false };
  });
}

function answerRun(result: { run: RunOutcome | "not_found"; replay: boolean }, runId: string): FlowActionAnswer {
  if (result.run === "not_found") return { status: 404, body: { error: "not_found", message: "the customer is not known to the CRM" } };
  const { outcome, detail } = result.run;
  if (outcome === "refused") return { status: 422, body: { error: "refused", message: String(detail.reason ?? "the action cannot be done"), actionRunId: runId } };
  return { status: 200, body: { outcome, actionRunId: runId, replay: result.replay, ...detail } };
}

type Parsed<T> = { ok: true; body: T } | { ok: false; answer: FlowActionAnswer };

function parseSigned<S extends z.ZodTypeAny>(schema: S, raw: string, signature: string | null, secret: string): Parsed<z.output<S>> {
  if (Buffer.byteLength(raw) > FLOW_ACTION_MAX_BYTES) return { ok: false, answer: { status: 413, body: { error: "payload_too_large" } } };
  if (!verifyFlowSignature(secret, raw, signature)) return { ok: false, answer: { status: 401, body: { error: "unauthorized", message: "the request signature is missing or wrong" } } };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, answer: { status: 400, body: { error: "invalid", message: "the body is not JSON" } } };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, answer: { status: 400, body: { error: "invalid", issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })) } } };
  return { ok: true, body: parsed.data };
}

/** POST /flow/actions/award-points: adds (or deducts) points through the loyalty ledger, once per action run. */
export async function serveAwardPoints({ raw, signature, now = new Date(), secret = getEnv().SHOPIFY_API_SECRET }: { raw: string; signature: string | null; now?: Date; secret?: string }): Promise<FlowActionAnswer> {
  const parsed = parseSigned(AwardPointsBodySchema, raw, signature, secret);
  if (!parsed.ok) return parsed.answer;
  const { shopify_domain: shop, action_run_id: runId, properties } = parsed.body;
  const customerGid = `gid://shopify/Customer/${properties.customer_id}`;
  const handle = FLOW_ACTIONS.awardPoints.handle;
  const result = await oncePerRun(shop, runId, handle, async (db) => {
    if (!(await shopKnown(db, shop))) return "not_found";
    const program = latestVersion(await loadProgramVersions(db, shop));
    if (!program) return { outcome: "refused", customerGid, detail: { reason: "the shop has no loyalty program" } };
    const live = await lockLoyaltyCustomers(db, shop, [customerGid]);
    if (!live.has(customerGid)) return "not_found";
    if (properties.points < 0 && program.settings.negativeBalance !== "allow") {
      const wallet = (await loadWallets(db, shop, [customerGid], now)).get(customerGid)!;
      if (wallet.available + properties.points < 0)
        return { outcome: "refused", customerGid, detail: { reason: `deducting ${-properties.points} points would leave ${wallet.available + properties.points}; the program does not allow a negative balance` } };
    }
    const key = `flow:${shop}:${runId}`;
    const entry: NewLedgerEntry = {
      customerGid,
      points: properties.points,
      kind: "adjust",
      status: "available",
      availableAt: now,
      occurredAt: now,
      source: "flow",
      orderGid: null,
      reason: properties.reason?.trim() || "Shopify Flow",
      rule: { flowActionRunId: runId, flowHandle: handle },
      idempotencyKey: key,
    };
    const written = await insertEntries(db, shop, [entry]);
    if (written.has(key)) await reevaluateSegmentsForCustomers(db, shop, [customerGid], { kind: "event" }, { now });
    return { outcome: "done", customerGid, detail: { points: properties.points, ledgerKey: key } };
  });
  logger.info({ shop, actionRunId: runId, handle, outcome: result.run === "not_found" ? "not_found" : result.run.outcome, replay: result.replay }, "flow.action_served");
  return answerRun(result, runId);
}

/** POST /flow/actions/add-tag: queues the tag on the tag outbox (the tag writer adds it in Shopify), once per action run. */
export async function serveAddTag({ raw, signature, secret = getEnv().SHOPIFY_API_SECRET }: { raw: string; signature: string | null; secret?: string }): Promise<FlowActionAnswer> {
  const parsed = parseSigned(AddTagBodySchema, raw, signature, secret);
  if (!parsed.ok) return parsed.answer;
  const { shopify_domain: shop, action_run_id: runId, properties } = parsed.body;
  const customerGid = `gid://shopify/Customer/${properties.customer_id}`;
  const handle = FLOW_ACTIONS.addTag.handle;
  const result = await oncePerRun(shop, runId, handle, async (db) => {
    const { rows } = await db.query<{ has: boolean }>(
      `SELECT $3 = ANY(SELECT lower(t) FROM unnest(tags) t) AS has FROM customers WHERE shop = $1 AND gid = $2 AND deleted_at IS NULL AND redacted_at IS NULL`,
      [shop, customerGid, properties.tag.toLowerCase()],
    );
    if (!rows[0]) return "not_found";
    if (rows[0].has) return { outcome: "skipped", customerGid, detail: { tag: properties.tag, queued: false, note: "the customer already has the tag" } };
    const written = await db.query(
      `INSERT INTO tag_writes (shop, customer_gid, tag, tag_key, action, source) VALUES ($1, $2, $3, $4, 'add', 'flow') ON CONFLICT DO NOTHING`,
      [shop, customerGid, properties.tag, properties.tag.toLowerCase()],
    );
    return { outcome: "done", customerGid, detail: { tag: properties.tag, queued: (written.rowCount ?? 0) > 0 } };
  });
  logger.info({ shop, actionRunId: runId, handle, outcome: result.run === "not_found" ? "not_found" : result.run.outcome, replay: result.replay }, "flow.action_served");
  return answerRun(result, runId);
}
