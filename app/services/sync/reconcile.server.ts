// Reconciliation (decision 048): Shopify stops retrying a webhook after 8 failures over about
// 4 hours, so the CRM pages through the customers and orders updated since its last run
// (search `updated_at:>'<watermark>'`, paced on the shop's cost bucket), compares each with
// its local row and repairs what webhooks missed by feeding the same apply path as webhooks:
// each repair is an inbox row (webhook_events, source 'reconcile') with the payload the
// missed webhook would have carried (app/shopify/reconcile-payloads.ts), applied by
// processInboxEvent like a delivery, and recorded in reconciliation_repairs. Customers that
// no longer exist in Shopify (a missed customers/delete) are found when the local count of
// live customers exceeds Shopify's customersCount, and applied as deletes.
//
// One run per shop at a time (a session advisory lock); each run is a row in
// reconciliation_runs, and the next run starts WATERMARK_OVERLAP_MS before the last finished
// run's end (Shopify's search index trails writes by a little).
import { setTimeout as sleep } from "node:timers/promises";
import { getPool } from "../../db.server";
import { logger } from "../../logger.server";
import { reconcileChecked, reconcileRepaired } from "../../metrics.server";
import { SHOPIFY_API_VERSION } from "../../shopify.server";
import { customerDrift, orderDrift, tagDifference, type CustomerDrift, type OrderDrift } from "../../domain/sync/reconcile";
import { classifyAdminError, getShopifyAdmin, type AdminResult, type RemoteCustomer, type RemoteOrder, type ShopifyAdmin } from "../../shopify/admin-api.server";
import { CostPacer } from "../../shopify/cost-pacer";
import { customerDeletePayload, customerTagsPayload, customerUpdatePayload, emailConsentPayload, orderUpdatePayload } from "../../shopify/reconcile-payloads";
import { processInboxEvent } from "../process-inbox-event.server";

export const WATERMARK_OVERLAP_MS = 5 * 60_000;
const PAGE_SIZE = 100;
const ADMIN_MAX_AGE_MS = 10 * 60_000;

export class ReconcileBusyError extends Error {
  constructor(shop: string, message = `a reconciliation of ${shop} is already running`) {
    super(message);
    this.name = "ReconcileBusyError";
  }
}

export type ReconcileReport = {
  runId: string;
  checked: number;
  repaired: number;
  customers: { checked: number; repaired: number; deleted: number };
  orders: { checked: number; repaired: number };
  watermarkFrom: string | null;
  watermarkTo: string;
};

/**
 * Admin calls paced on the cost bucket (app/shopify/cost-pacer.ts, like the tag writer):
 * sequential, each waits until the modelled bucket covers its expected cost (the last
 * requested cost of the same operation), THROTTLED answers wait and retry, transient
 * failures retry three times with backoff.
 */
export class PacedAdmin {
  private readonly pacer = new CostPacer();
  private readonly expected = new Map<string, number>();
  private admin: { client: ShopifyAdmin; at: number } | undefined;
  requests = 0;
  throttled = 0;

  constructor(readonly shop: string) {}

  private async client(): Promise<ShopifyAdmin> {
    if (!this.admin || Date.now() - this.admin.at > ADMIN_MAX_AGE_MS) this.admin = { client: await getShopifyAdmin(this.shop), at: Date.now() };
    return this.admin.client;
  }

  async call<T>(operation: string, fn: (admin: ShopifyAdmin) => Promise<AdminResult<T>>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const cost = this.expected.get(operation) ?? 50;
      const admin = await this.client();
      for (let wait = this.pacer.delayFor(cost); wait > 0; wait = this.pacer.delayFor(cost)) await sleep(Math.min(wait, 250));
      this.pacer.sent(cost);
      this.requests++;
      try {
        const result = await fn(admin);
        this.pacer.answered(cost, result.cost?.throttleStatus);
        if (result.cost) this.expected.set(operation, result.cost.requestedQueryCost);
        return result.data;
      } catch (e) {
        const error = classifyAdminError(this.shop, e);
        this.pacer.answered(cost, error.details.cost?.throttleStatus);
        if (error.details.cost) this.expected.set(operation, error.details.cost.requestedQueryCost);
        if (error.kind === "throttled" && attempt < 50) {
          this.throttled++;
          if (error.details.retryAfterMs) this.pacer.pause(Date.now() + error.details.retryAfterMs);
          continue;
        }
        if (error.kind === "transient" && attempt < 3) {
          await sleep(Math.round(1_000 * 2 ** attempt * (0.5 + Math.random() * 0.5)));
          continue;
        }
        throw error;
      }
    }
  }
}

type Repair = { objectType: "customer" | "order"; gid: string; action: "created" | "updated" | "deleted"; reason: string; events: { topic: string; payload: unknown }[] };

/** Feeds a repair's synthesised events through the inbox and the apply path, and records it. Returns whether it was applied. */
async function applyRepair(shop: string, runId: string, repair: Repair, seq: { n: number }): Promise<boolean> {
  const pool = getPool();
  let firstInbox: string | null = null;
  const problems: string[] = [];
  for (const event of repair.events) {
    const webhookId = `reconcile-${runId}-${++seq.n}`;
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO webhook_events (shop, webhook_id, topic, api_version, triggered_at, payload, source)
       VALUES ($1, $2, $3, $4, now(), $5, 'reconcile') RETURNING id`,
      [shop, webhookId, event.topic, SHOPIFY_API_VERSION, JSON.stringify(event.payload)],
    );
    const inboxId = rows[0]!.id;
    firstInbox ??= inboxId;
    // A worker may take the row first (it is a waiting inbox row of this shop): then it is applied already.
    const outcome = await processInboxEvent(inboxId);
    if (outcome.outcome === "ignored") problems.push(`${event.topic} ignored: ${outcome.reason}`);
  }
  await pool.query(
    `INSERT INTO reconciliation_repairs (run_id, shop, object_type, gid, action, reason, inbox_id) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [runId, shop, repair.objectType, repair.gid, problems.length > 0 ? "failed" : repair.action, [repair.reason, ...problems].join("; "), firstInbox],
  );
  if (problems.length > 0) logger.warn({ shop, runId, gid: repair.gid, problems }, "sync.repair_failed");
  return problems.length === 0;
}

function customerRepair(remote: RemoteCustomer, drift: CustomerDrift[], localTags: readonly string[]): Repair {
  const events: Repair["events"] = [];
  if (drift.includes("missing") || drift.includes("stale")) events.push({ topic: "customers/update", payload: customerUpdatePayload(remote) });
  if (drift.includes("missing") || drift.includes("tags")) {
    const { added, removed } = tagDifference(localTags, remote.tags);
    if (added.length > 0) events.push({ topic: "customer.tags_added", payload: customerTagsPayload(remote.id, added, remote.updatedAt) });
    if (removed.length > 0) events.push({ topic: "customer.tags_removed", payload: customerTagsPayload(remote.id, removed, remote.updatedAt) });
  }
  if ((drift.includes("missing") || drift.includes("consent")) && remote.defaultEmailAddress?.marketingState)
    events.push({ topic: "customers_email_marketing_consent/update", payload: emailConsentPayload(remote) });
  return {
    objectType: "customer",
    gid: remote.id,
    action: drift.includes("missing") ? "created" : "updated",
    reason: drift.map((d) => (d === "missing" ? "not in the CRM" : d === "stale" ? `Shopify's copy is newer (updated ${remote.updatedAt})` : d === "tags" ? "tags differ" : "email consent differs")).join("; "),
    events,
  };
}

function orderRepair(remote: RemoteOrder, drift: OrderDrift[]): Repair {
  return {
    objectType: "order",
    gid: remote.id,
    action: drift.includes("missing") ? "created" : "updated",
    reason: drift.map((d) => (d === "missing" ? "not in the CRM" : d === "stale" ? `Shopify's copy is newer (updated ${remote.updatedAt})` : "refunds missing")).join("; "),
    events: [{ topic: "orders/updated", payload: orderUpdatePayload(remote) }],
  };
}

const searchAfter = (from: Date | null) => (from ? `updated_at:>'${from.toISOString()}'` : null);

async function reconcileCustomers(shop: string, runId: string, admin: PacedAdmin, from: Date | null, seq: { n: number }, report: ReconcileReport) {
  for (let after: string | null = null; ; ) {
    const page: { nodes: RemoteCustomer[]; next: string | null } = await admin.call("customers", (a) => a.reconcileCustomers(PAGE_SIZE, after, searchAfter(from)));
    const gids = page.nodes.map((n) => n.id);
    const { rows } = await getPool().query<{ gid: string; updated: Date | null; gone: boolean; tags: string[]; consent: string | null }>(
      `SELECT gid, shopify_updated_at AS updated, (deleted_at IS NOT NULL OR redacted_at IS NOT NULL) AS gone, tags, email_marketing_state AS consent
         FROM customers WHERE shop = $1 AND gid = ANY($2::text[])`,
      [shop, gids],
    );
    const local = new Map(rows.map((r) => [r.gid, r]));
    for (const remote of page.nodes) {
      report.customers.checked++;
      const row = local.get(remote.id);
      const drift = customerDrift({
        local: row ? { shopifyUpdatedAt: row.updated, gone: row.gone, tags: row.tags, emailMarketingState: row.consent } : null,
        remote: { updatedAt: new Date(remote.updatedAt), tags: remote.tags, emailMarketingState: remote.defaultEmailAddress?.marketingState ?? null },
      });
      if (drift.length === 0) continue;
      if (await applyRepair(shop, runId, customerRepair(remote, drift, row?.tags ?? []), seq)) report.customers.repaired++;
    }
    if (!page.next) return;
    after = page.next;
  }
}

async function reconcileOrders(shop: string, runId: string, admin: PacedAdmin, from: Date | null, seq: { n: number }, report: ReconcileReport) {
  for (let after: string | null = null; ; ) {
    const page: { nodes: RemoteOrder[]; next: string | null } = await admin.call("orders", (a) => a.reconcileOrders(PAGE_SIZE, after, searchAfter(from)));
    const gids = page.nodes.map((n) => n.id);
    const { rows } = await getPool().query<{ gid: string; updated: Date; redacted: boolean; refunds: number }>(
      `SELECT o.gid, o.shopify_updated_at AS updated, o.redacted_at IS NOT NULL AS redacted,
              (SELECT count(*)::int FROM refunds r WHERE r.shop = o.shop AND r.order_legacy_id = o.legacy_id) AS refunds
         FROM orders o WHERE o.shop = $1 AND o.gid = ANY($2::text[])`,
      [shop, gids],
    );
    const local = new Map(rows.map((r) => [r.gid, r]));
    for (const remote of page.nodes) {
      report.orders.checked++;
      const row = local.get(remote.id);
      const drift = orderDrift({
        local: row ? { shopifyUpdatedAt: row.updated, refunds: row.refunds, redacted: row.redacted } : null,
        remote: { updatedAt: new Date(remote.updatedAt), refunds: remote.refunds.length },
      });
      if (drift.length === 0) continue;
      if (await applyRepair(shop, runId, orderRepair(remote, drift), seq)) report.orders.repaired++;
    }
    if (!page.next) return;
    after = page.next;
  }
}

/** Customers deleted in Shopify whose customers/delete never arrived: only looked for when the CRM holds more live customers than Shopify has. */
async function reconcileDeletedCustomers(shop: string, runId: string, admin: PacedAdmin, seq: { n: number }, report: ReconcileReport) {
  const remoteCount = await admin.call("customersCount", (a) => a.customersCount());
  const pool = getPool();
  const { rows: counted } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM customers WHERE shop = $1 AND deleted_at IS NULL AND redacted_at IS NULL`,
    [shop],
  );
  if (counted[0]!.n <= remoteCount) return;
  let last = "";
  for (;;) {
    const { rows } = await pool.query<{ gid: string }>(
      `SELECT gid FROM customers WHERE shop = $1 AND deleted_at IS NULL AND redacted_at IS NULL AND gid > $2 ORDER BY gid LIMIT 250`,
      [shop, last],
    );
    if (rows.length === 0) return;
    last = rows[rows.length - 1]!.gid;
    const ids = rows.map((r) => r.gid);
    const existing = await admin.call("nodes", (a) => a.existingIds(ids));
    for (const gid of ids) {
      if (existing.has(gid)) continue;
      const repaired = await applyRepair(
        shop,
        runId,
        { objectType: "customer", gid, action: "deleted", reason: "no longer in Shopify (customers/delete missed)", events: [{ topic: "customers/delete", payload: customerDeletePayload(gid) }] },
        seq,
      );
      if (repaired) report.customers.deleted++;
    }
  }
}

/**
 * One reconciliation of a shop (the scheduled job and `crm sync reconcile`). Throws
 * ReconcileBusyError when another run of the shop holds the lock, ShopifyAdminError when
 * Shopify cannot be reached (the run is recorded as failed; the watermark does not move).
 */
export async function reconcileShop({ shop, trigger = "manual", now = new Date() }: { shop: string; trigger?: "schedule" | "manual"; now?: Date }): Promise<ReconcileReport> {
  const lock = await getPool().connect();
  try {
    const { rows: got } = await lock.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtext('crm-reconcile'), hashtext($1)) AS ok`, [shop]);
    if (!got[0]?.ok) throw new ReconcileBusyError(shop);
    try {
      return await runLocked(shop, trigger, now);
    } finally {
      await lock.query(`SELECT pg_advisory_unlock(hashtext('crm-reconcile'), hashtext($1))`, [shop]);
    }
  } finally {
    lock.release();
  }
}

async function runLocked(shop: string, trigger: string, now: Date): Promise<ReconcileReport> {
  const pool = getPool();
  const { rows: lastRows } = await pool.query<{ to: Date }>(
    `SELECT watermark_to AS to FROM reconciliation_runs WHERE shop = $1 AND state = 'done' ORDER BY watermark_to DESC LIMIT 1`,
    [shop],
  );
  // The history import covers everything updated before it started (decision 045): while it
  // runs, a reconciliation would page through the same history and "repair" what the import is
  // about to merge, so it waits (busy); after it, the first watermark is the import's start.
  const { rows: importRows } = await pool.query<{ running: boolean; done_from: Date | null }>(
    `SELECT bool_or(state = 'running') AS running, max(started_at) FILTER (WHERE state = 'done') AS done_from FROM import_runs WHERE shop = $1`,
    [shop],
  );
  if (importRows[0]?.running) throw new ReconcileBusyError(shop, `the history import of ${shop} is running: reconciliation waits until it is done`);
  const floor = Math.max(lastRows[0]?.to.getTime() ?? -Infinity, importRows[0]?.done_from?.getTime() ?? -Infinity);
  const from = Number.isFinite(floor) ? new Date(floor - WATERMARK_OVERLAP_MS) : null;
  const { rows: runRows } = await pool.query<{ id: string }>(
    `INSERT INTO reconciliation_runs (shop, "trigger", watermark_from, watermark_to) VALUES ($1, $2, $3, $4) RETURNING id`,
    [shop, trigger, from, now],
  );
  const runId = runRows[0]!.id;
  const report: ReconcileReport = {
    runId,
    checked: 0,
    repaired: 0,
    customers: { checked: 0, repaired: 0, deleted: 0 },
    orders: { checked: 0, repaired: 0 },
    watermarkFrom: from?.toISOString() ?? null,
    watermarkTo: now.toISOString(),
  };
  const log = logger.child({ shop, runId });
  const admin = new PacedAdmin(shop);
  const seq = { n: 0 };
  const started = performance.now();
  try {
    await reconcileCustomers(shop, runId, admin, from, seq, report);
    await reconcileOrders(shop, runId, admin, from, seq, report);
    await reconcileDeletedCustomers(shop, runId, admin, seq, report);
  } catch (error) {
    await pool.query(
      `UPDATE reconciliation_runs SET state = 'failed', error = $2, checked = $3, repaired = $4, finished_at = now() WHERE id = $1`,
      [runId, (error as Error).message.slice(0, 1_000), report.customers.checked + report.orders.checked, report.customers.repaired + report.customers.deleted + report.orders.repaired],
    );
    log.error({ err: error instanceof Error ? { name: error.name, message: error.message } : String(error) }, "sync.reconcile_failed");
    throw error;
  } finally {
    reconcileChecked.inc({ object: "customer" }, report.customers.checked);
    reconcileChecked.inc({ object: "order" }, report.orders.checked);
    reconcileRepaired.inc({ object: "customer" }, report.customers.repaired + report.customers.deleted);
    reconcileRepaired.inc({ object: "order" }, report.orders.repaired);
  }
  report.checked = report.customers.checked + report.orders.checked;
  report.repaired = report.customers.repaired + report.customers.deleted + report.orders.repaired;
  await pool.query(`UPDATE reconciliation_runs SET state = 'done', checked = $2, repaired = $3, finished_at = now() WHERE id = $1`, [runId, report.checked, report.repaired]);
  log.info({ ...report, requests: admin.requests, throttled: admin.throttled, ms: Math.round(performance.now() - started) }, "sync.reconciled");
  return report;
}

/** Shops to reconcile on schedule: installed (not uninstalled) and reachable through a stored offline session. */
export async function shopsToReconcile(): Promise<string[]> {
  const { rows } = await getPool().query<{ domain: string }>(
    `SELECT s.domain FROM shops s WHERE s.uninstalled_at IS NULL AND EXISTS (SELECT 1 FROM "Session" x WHERE x.shop = s.domain AND x."isOnline" = false) ORDER BY s.domain`,
  );
  return rows.map((r) => r.domain);
}
