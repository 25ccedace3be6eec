// The Sync page of the merchant admin (issue 13): the history import's progress per object
// type, the last reconciliation and what it repaired, webhooks received per topic in the last
// 24 hours, processing lag, dead letters and the cross-check's mismatches. Everything comes
// from PostgreSQL (the page never calls Shopify): the cross-check compares the CRM with the
// Shopify totals the import read per customer (customer_shopify_totals), with the same rule
// and explanations as `crm sync check` (app/domain/sync/reconcile.ts). The actions start an
// import (the worker's import job picks it up) and ask for a reconciliation (a queued job).
import { getPool } from "../db.server";
import { logger } from "../logger.server";
import { createFormatter, type Formatter } from "../domain/format";
import { crossCheckCustomer, type CrossCheckOrder } from "../domain/sync/reconcile";
import { importProgressRows, type CrossCheckRow, type ImportObjectFacts, type SyncOverview } from "../domain/admin/sync-view-models";
import { requestReconcile } from "../queues.server";
import { displayDuration, displayEnum, legacyIdOf } from "./admin-format.server";
import { getPipelineOverview } from "./admin-pipeline.server";
import { getLatestRun } from "./history-import/runs.server";
import { startImport } from "./history-import/import.server";
import { writeAudit } from "./crm-store.server";

export const CROSS_CHECK_PAGE_SIZE = 25;
export const REPAIRS_SHOWN = 50;

const STATE_LABELS = { running: "Importing", done: "Imported", failed: "Failed" } as const;

function progressFormat(fmt: Formatter) {
  return { count: (n: number) => fmt.count(n), decimal: (n: number) => fmt.decimal(n), duration: (s: number) => displayDuration(s) };
}

async function importView(shop: string, now: Date, fmt: Formatter): Promise<{ view: SyncOverview["import"]; warning: string | null }> {
  const run = await getLatestRun(getPool(), shop);
  if (!run) return { view: null, warning: null };
  const end = run.finishedAt ?? now;
  const elapsed = Math.max(0, (end.getTime() - run.startedAt.getTime()) / 1000);
  const objects: ImportObjectFacts[] = Object.values(run.objects).map((o) => ({ objectType: o.objectType, status: o.status, total: o.total, staged: o.staged, merged: o.merged }));
  return {
    view: {
      state: run.state,
      stateLabel: STATE_LABELS[run.state],
      startedAt: fmt.dateTime(run.startedAt) ?? "",
      finishedAt: fmt.dateTime(run.finishedAt),
      duration: run.finishedAt ? displayDuration(elapsed) : null,
      error: run.error,
      rows: importProgressRows(objects, elapsed, progressFormat(fmt), run.state === "running"),
    },
    warning: run.warning,
  };
}

async function reconcileView(shop: string, fmt: Formatter): Promise<SyncOverview["reconcile"]> {
  const pool = getPool();
  const { rows } = await pool.query<{ id: string; trigger: string; state: string; checked: number; repaired: number; error: string | null; started_at: Date; finished_at: Date | null }>(
    `SELECT id::text, "trigger", state, checked, repaired, error, started_at, finished_at
       FROM reconciliation_runs WHERE shop = $1 ORDER BY started_at DESC, id DESC LIMIT 1`,
    [shop],
  );
  const run = rows[0];
  if (!run) return null;
  const { rows: repairs } = await pool.query<{ id: string; object_type: string; gid: string; action: string; reason: string; created_at: Date }>(
    `SELECT id::text, object_type, gid, action, reason, created_at FROM reconciliation_repairs WHERE run_id = $1 ORDER BY id LIMIT $2`,
    [run.id, REPAIRS_SHOWN],
  );
  return {
    state: displayEnum(run.state) ?? run.state,
    trigger: run.trigger === "manual" ? "On demand" : "Scheduled",
    startedAt: fmt.dateTime(run.started_at) ?? "",
    finishedAt: fmt.dateTime(run.finished_at),
    checked: fmt.count(run.checked),
    repaired: fmt.count(run.repaired),
    error: run.error,
    repairs: repairs.map((r) => ({
      id: r.id,
      objectType: displayEnum(r.object_type) ?? r.object_type,
      gid: legacyIdOf(r.gid),
      action: displayEnum(r.action) ?? r.action,
      reason: r.reason,
      at: fmt.dateTime(r.created_at) ?? "",
    })),
  };
}

async function webhooksByTopic(shop: string, now: Date, fmt: Formatter): Promise<{ rows: SyncOverview["webhooks24h"]; total: string }> {
  // Deliveries from Shopify only (reconciliation's synthesised rows have source 'reconcile').
  const { rows } = await getPool().query<{ topic: string; n: number }>(
    `SELECT topic, count(*)::int AS n FROM webhook_events
      WHERE shop = $1 AND source = 'shopify' AND received_at >= $2::timestamptz - interval '24 hours'
      GROUP BY topic ORDER BY count(*) DESC, topic`,
    [shop, now],
  );
  return { rows: rows.map((r) => ({ topic: r.topic, count: fmt.count(r.n) })), total: fmt.count(rows.reduce((sum, r) => sum + r.n, 0)) };
}

/**
 * The customers whose CRM order count or net spent differs from the Shopify totals the import
 * read, a page at a time, with both values and the explanation where a documented choice
 * accounts for the difference (decision 048). Deleted and redacted customers are left out.
 */
export async function crossCheckFromStored({ shop, page = 1, pageSize = CROSS_CHECK_PAGE_SIZE, fmt = createFormatter() }: { shop: string; page?: number; pageSize?: number; fmt?: Formatter }): Promise<SyncOverview["crossCheck"]> {
  const pool = getPool();
  const where = `t.shop = $1 AND c.deleted_at IS NULL AND c.redacted_at IS NULL
     AND t.number_of_orders IS NOT NULL AND t.amount_spent_minor IS NOT NULL
     AND (c.orders_count IS DISTINCT FROM t.number_of_orders::int OR c.total_spent_minor IS DISTINCT FROM t.amount_spent_minor)`;
  const { rows: countRows } = await pool.query<{ n: number; read_at: Date | null }>(
    `SELECT count(*)::int AS n, max(t.read_at) AS read_at FROM customer_shopify_totals t JOIN customers c ON c.shop = t.shop AND c.gid = t.customer_gid WHERE ${where}`,
    [shop],
  );
  const total = countRows[0]?.n ?? 0;
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const current = Math.min(Math.max(1, page), pages);
  const { rows } = await pool.query<{
    gid: string;
    name: string | null;
    email: string | null;
    orders_count: number;
    spent: string;
    shopify_orders: string;
    shopify_spent: string;
    currency: string | null;
  }>(
    `SELECT c.gid, nullif(trim(concat_ws(' ', c.first_name, c.last_name)), '') AS name, c.email, c.orders_count, c.total_spent_minor::text AS spent,
            t.number_of_orders::text AS shopify_orders, t.amount_spent_minor::text AS shopify_spent, t.amount_spent_currency AS currency
       FROM customer_shopify_totals t JOIN customers c ON c.shop = t.shop AND c.gid = t.customer_gid
      WHERE ${where}
      ORDER BY t.customer_gid LIMIT $2 OFFSET $3`,
    [shop, pageSize, (current - 1) * pageSize],
  );
  const gids = rows.map((r) => r.gid);
  const { rows: orders } = gids.length
    ? await pool.query<{ customer_gid: string; total: string; refunded: string; cancelled: boolean; test: boolean; voided: boolean }>(
        `SELECT customer_gid, total_price_minor::text AS total, refunded_minor::text AS refunded, cancelled_at IS NOT NULL AS cancelled, test,
                lower(coalesce(financial_status, '')) = 'voided' AS voided
           FROM orders WHERE shop = $1 AND customer_gid = ANY($2::text[])`,
        [shop, gids],
      )
    : { rows: [] };
  const byCustomer = new Map<string, CrossCheckOrder[]>();
  for (const o of orders) {
    const list = byCustomer.get(o.customer_gid) ?? [];
    list.push({ totalPriceMinor: BigInt(o.total), refundedMinor: BigInt(o.refunded), cancelled: o.cancelled, test: o.test, voided: o.voided });
    byCustomer.set(o.customer_gid, list);
  }
  const result: CrossCheckRow[] = [];
  for (const r of rows) {
    const currency = r.currency ?? fmt.currency;
    const mismatch = crossCheckCustomer({
      customerGid: r.gid,
      local: { ordersCount: r.orders_count, netSpentMinor: BigInt(r.spent) },
      orders: byCustomer.get(r.gid) ?? [],
      shopify: { numberOfOrders: Number(r.shopify_orders), amountSpentMinor: BigInt(r.shopify_spent) },
      currency,
    });
    result.push({
      customerGid: r.gid,
      customerId: legacyIdOf(r.gid),
      customerName: r.name ?? r.email ?? `Customer ${legacyIdOf(r.gid)}`,
      localOrders: fmt.count(r.orders_count),
      shopifyOrders: fmt.count(Number(r.shopify_orders)),
      localSpent: fmt.money(r.spent, currency),
      shopifySpent: fmt.money(r.shopify_spent, currency),
      explanation: mismatch?.explanation ?? null,
    });
  }
  return { rows: result, total, page: current, pages, readAt: fmt.dateTime(countRows[0]?.read_at ?? null) };
}

export async function getSyncOverview({ shop, now = new Date(), fmt = createFormatter(), crossCheckPage = 1 }: { shop: string; now?: Date; fmt?: Formatter; crossCheckPage?: number }): Promise<SyncOverview> {
  // Sequential on purpose: a handful of indexed queries, and the pool stays free for others.
  const imported = await importView(shop, now, fmt);
  const reconcile = await reconcileView(shop, fmt);
  const webhooks = await webhooksByTopic(shop, now, fmt);
  const pipeline = await getPipelineOverview({ shop, now, fmt });
  const crossCheck = await crossCheckFromStored({ shop, page: crossCheckPage, fmt });
  return {
    import: imported.view,
    importWarning: imported.warning,
    reconcile,
    webhooks24h: webhooks.rows,
    webhooksTotal24h: webhooks.total,
    lag: {
      samples: pipeline.applyLag.samples,
      average: pipeline.applyLag.average,
      max: pipeline.applyLag.max,
      pending: fmt.count(pipeline.pending.count),
      oldestPending: pipeline.pending.oldestAge,
    },
    deadLetters: { count: pipeline.deadTotal, text: fmt.countOf(pipeline.deadTotal, "dead letter") },
    crossCheck,
    generatedAt: fmt.dateTime(now) ?? "",
  };
}

/** The latest import's warning (a missing read_all_orders scope), for the Home page's banner. */
export async function getImportWarning(shop: string): Promise<string | null> {
  const { rows } = await getPool().query<{ warning: string | null }>(`SELECT warning FROM import_runs WHERE shop = $1 ORDER BY id DESC LIMIT 1`, [shop]);
  return rows[0]?.warning ?? null;
}

/** "Start import" / "Re-import": a new run unless one is running (the worker's import job runs it). */
export async function startImportFromAdmin({ shop, actor }: { shop: string; actor: string }): Promise<{ runId: string; created: boolean }> {
  const result = await startImport(shop);
  await writeAudit(getPool(), { shop, actor, action: "import.start", subject: `import_run:${result.runId}`, details: { created: result.created } });
  return result;
}

/** "Reconcile now": queues a reconciliation of the shop (collapses with one already waiting). */
export async function reconcileNowFromAdmin({ shop, actor }: { shop: string; actor: string }): Promise<{ jobId: string | null }> {
  const jobId = await requestReconcile(shop, "manual");
  await writeAudit(getPool(), { shop, actor, action: "sync.reconcile_requested", subject: null, details: { jobId: jobId ?? null } });
  logger.info({ shop, jobId }, "sync.reconcile_requested");
  return { jobId: jobId ?? null };
}
