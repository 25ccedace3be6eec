// The admin's Sync page service (issue 13) on real PostgreSQL and Redis, with the Shopify twin
// as the store: a history import records Shopify's totals at its start and the page's progress
// bars end at them; a reconciliation's repairs are listed with their reasons; webhooks per topic
// in the last 24 hours, lag and dead letters are counted for this shop only; the cross-check
// from stored data lists the same customers as the live cross-check through the Admin API, with
// both values; "Reconcile now" queues the same job the CLI's job path runs; /metrics gains the
// import figures; and the Home page carries the read_all_orders warning.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { closeQueues, closeSyncReconcileQueue, getSyncReconcileQueue } from "../../app/queues.server";
import { createFormatter } from "../../app/domain/format";
import { crossCheckFromStored, getSyncOverview, reconcileNowFromAdmin, startImportFromAdmin } from "../../app/services/admin-sync.server";
import { getHomeOverview } from "../../app/services/admin-home.server";
import { READ_ALL_ORDERS_WARNING, runImport } from "../../app/services/history-import/import.server";
import { reconcileShop } from "../../app/services/sync/reconcile.server";
import { crossCheckShop } from "../../app/services/sync/cross-check.server";
import { renderMetrics } from "../../app/services/operations.server";
import { useIntegrationEnv } from "../support/env";
import { startAdminTwin, type AdminTwin } from "../twin/admin-graphql";
import { generateStore, type SyntheticStore } from "../twin/store-generator";
import { TOKEN, loadTwinStore, storeSession } from "./history-import.support";

const SHOP = "admin-sync.myshopify.com";
const LIMITED = "admin-sync-limited.myshopify.com";
const OTHER = "admin-sync-other.myshopify.com";
const NOISE = "admin-sync-noise.myshopify.com";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let twin: AdminTwin;
let store: SyntheticStore;
const fmt = createFormatter({ locale: "en", timeZone: "UTC", currency: "USD" });

beforeAll(async () => {
  twin = await startAdminTwin({ accessTokens: { [SHOP]: TOKEN, [LIMITED]: TOKEN }, bulkDelayMs: 20 });
  store = generateStore({ seed: 1313, customers: 40, shopDomain: SHOP });
  loadTwinStore(twin, SHOP, store);
  loadTwinStore(twin, LIMITED, generateStore({ seed: 1314, customers: 10, shopDomain: LIMITED }));
  env = await useIntegrationEnv({ SHOPIFY_TWIN_URL: twin.url });
  await storeSession(SHOP);
  await storeSession(LIMITED, "read_customers,read_orders,read_products");
});

afterAll(async () => {
  await twin?.close();
  await closeSyncReconcileQueue();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

describe("the Sync page's service", () => {
  it("shows nothing imported before the first import", async () => {
    const overview = await getSyncOverview({ shop: SHOP, fmt });
    expect(overview.import).toBeNull();
    expect(overview.reconcile).toBeNull();
    expect(overview.crossCheck).toMatchObject({ rows: [], total: 0, readAt: null });
  });

  it("records Shopify's totals at the start and shows every object type done against them", async () => {
    const started = await startImportFromAdmin({ shop: SHOP, actor: "test" });
    expect(started.created).toBe(true);
    const running = await getSyncOverview({ shop: SHOP, fmt });
    expect(running.import?.state).toBe("running");
    expect(running.import?.rows.map((r) => [r.objectType, r.done, r.total])).toEqual([
      ["customers", 0, null],
      ["orders", 0, null],
      ["products", 0, null],
    ]);
    // A second start while one runs creates nothing.
    expect((await startImportFromAdmin({ shop: SHOP, actor: "test" })).created).toBe(false);

    const totals: number[][] = [];
    const result = await runImport(SHOP, {
      pollMs: 50,
      beforeStep: async (step) => {
        if (step !== "start:products") return;
        // The totals are stored before the first bulk query starts.
        const { rows } = await getPool().query<{ object_type: string; total: string | null }>(
          `SELECT object_type, total::text FROM import_run_objects WHERE run_id = $1 ORDER BY object_type`,
          [started.runId],
        );
        totals.push(rows.map((r) => Number(r.total)));
      },
    });
    expect(result.outcome).toBe("done");
    const shop = twin.shop(SHOP);
    // customers, orders, products (alphabetical): Shopify's own counts from the twin.
    expect(totals[0]).toEqual([shop.customers.size, shop.orders.size, shop.products.size]);

    const overview = await getSyncOverview({ shop: SHOP, fmt });
    expect(overview.import).toMatchObject({ state: "done", stateLabel: "Imported", error: null });
    expect(overview.import?.duration).not.toBeNull();
    const rows = Object.fromEntries(overview.import!.rows.map((r) => [r.objectType, r]));
    expect(rows.customers).toMatchObject({ done: shop.customers.size, total: shop.customers.size, percent: 100, step: "Done", timeLeft: null });
    expect(rows.orders).toMatchObject({ done: shop.orders.size, total: shop.orders.size, percent: 100 });
    expect(rows.products).toMatchObject({ done: shop.products.size, percent: 100 });
    expect(rows.orders!.doneText).toBe(`${fmt.count(shop.orders.size)} of ${fmt.count(shop.orders.size)} saved`);
    expect(rows.customers!.rate).toMatch(/per second$/);
    expect(overview.importWarning).toBeNull();
  });

  it("lists the stored cross-check's mismatches exactly as the live cross-check through the Admin API finds them", async () => {
    // Make two customers' stored figures wrong, as a missed webhook would.
    const { rows: victims } = await getPool().query<{ gid: string }>(
      `SELECT gid FROM customers WHERE shop = $1 AND orders_count > 0 ORDER BY gid LIMIT 2`,
      [SHOP],
    );
    await getPool().query(`UPDATE customers SET orders_count = orders_count + 3, total_spent_minor = total_spent_minor + 777 WHERE shop = $1 AND gid = ANY($2::text[])`, [
      SHOP,
      victims.map((v) => v.gid),
    ]);
    const live = [];
    for await (const m of crossCheckShop(SHOP)) live.push(m);
    expect(live.length).toBeGreaterThanOrEqual(2);

    const stored = await crossCheckFromStored({ shop: SHOP, pageSize: 1_000, fmt });
    expect(stored.total).toBe(live.length);
    expect(stored.readAt).not.toBeNull();
    const byGid = new Map(stored.rows.map((r) => [r.customerGid, r]));
    for (const m of live) {
      const row = byGid.get(m.customerGid);
      expect(row, m.customerGid).toBeDefined();
      expect(row).toMatchObject({
        localOrders: fmt.count(m.local.ordersCount),
        shopifyOrders: fmt.count(m.shopify.numberOfOrders),
        localSpent: fmt.money(m.local.netSpentMinor, m.currency),
        shopifySpent: fmt.money(m.shopify.amountSpentMinor, m.currency),
        explanation: m.explanation,
      });
    }
    for (const v of victims) expect(byGid.get(v.gid)?.explanation).toMatch(/out of date/);

    // Paged: two per page, the pages cover every mismatch once.
    const seen: string[] = [];
    const first = await crossCheckFromStored({ shop: SHOP, pageSize: 2, fmt });
    expect(first.pages).toBe(Math.ceil(live.length / 2));
    for (let page = 1; page <= first.pages; page++) seen.push(...(await crossCheckFromStored({ shop: SHOP, page, pageSize: 2, fmt })).rows.map((r) => r.customerGid));
    expect(seen.sort()).toEqual([...byGid.keys()].sort());
    // A page past the end shows the last page.
    expect((await crossCheckFromStored({ shop: SHOP, page: 999, pageSize: 2, fmt })).page).toBe(first.pages);
  });

  it("shows the last reconciliation with what it checked and the repairs with their reasons", async () => {
    // A webhook that never came: an order changed in Shopify after the import (reconciliation
    // reads what changed since the import started), and the CRM never heard of it.
    const { rows } = await getPool().query<{ gid: string }>(`SELECT gid FROM orders WHERE shop = $1 ORDER BY gid LIMIT 1`, [SHOP]);
    const lost = rows[0]!.gid;
    const remote = [...twin.shop(SHOP).orders.values()].find((o) => o.id === lost || lost.endsWith(`/${o.id}`))!;
    twin.shop(SHOP).putOrder({ ...remote, tags: [...remote.tags, "changed-without-webhook"], updatedAt: new Date().toISOString() });
    const report = await reconcileShop({ shop: SHOP, trigger: "manual" });
    expect(report.repaired).toBeGreaterThanOrEqual(1);

    const overview = await getSyncOverview({ shop: SHOP, fmt });
    expect(overview.reconcile).toMatchObject({ trigger: "On demand", state: "Done", checked: fmt.count(report.checked), repaired: fmt.count(report.repaired), error: null });
    const repair = overview.reconcile!.repairs.find((r) => r.gid === lost.slice(lost.lastIndexOf("/") + 1));
    expect(repair).toBeDefined();
    expect(repair!.objectType).toBe("Order");
    expect(repair!.reason.length).toBeGreaterThan(0);
  });

  it("counts a shop's webhooks per topic in the last 24 hours, its lag and its dead letters", async () => {
    const now = new Date();
    const insert = (shop: string, topic: string, status: string, hoursAgo: number, source = "shopify") =>
      getPool().query(
        `INSERT INTO webhook_events (shop, webhook_id, topic, api_version, payload, status, received_at, processed_at, source)
         VALUES ($1, gen_random_uuid()::text, $2, '2026-07', '{}', $3::"WebhookStatus", $4,
                 CASE WHEN $3 = 'processed' THEN $4::timestamptz + interval '2 seconds' END, $5)`,
        [shop, topic, status, new Date(now.getTime() - hoursAgo * 3_600_000), source],
      );
    await insert(OTHER, "orders/create", "processed", 0.1);
    await insert(OTHER, "orders/create", "processed", 0.2);
    await insert(OTHER, "customers/update", "dead", 2);
    await insert(OTHER, "customers/update", "processed", 30); // older than 24 h
    await insert(OTHER, "customers/update", "processed", 3, "reconcile"); // a reconciliation's repair, not a delivery
    await insert(NOISE, "orders/create", "dead", 0.1); // another shop
    const overview = await getSyncOverview({ shop: OTHER, now, fmt });
    expect(overview.webhooks24h).toEqual([
      { topic: "orders/create", count: "2" },
      { topic: "customers/update", count: "1" },
    ]);
    expect(overview.webhooksTotal24h).toBe("3");
    expect(overview.deadLetters).toEqual({ count: 1, text: "1 dead letter" });
    expect(overview.lag).toMatchObject({ samples: 2, average: "2.0 s", max: "2.0 s", pending: "0", oldestPending: null });
  });

  it("Reconcile now queues the shop's reconciliation job (one while it waits)", async () => {
    const first = await reconcileNowFromAdmin({ shop: SHOP, actor: "test" });
    const second = await reconcileNowFromAdmin({ shop: SHOP, actor: "test" });
    expect(first.jobId).not.toBeNull();
    expect(second.jobId).toBe(first.jobId);
    const waiting = await getSyncReconcileQueue().getJobs(["waiting", "delayed", "prioritized"]);
    expect(waiting.map((j) => j.data)).toEqual([{ kind: "shop", shop: SHOP, trigger: "manual" }]);
    const { rows } = await getPool().query(`SELECT actor, action FROM audit_log WHERE shop = $1 AND action = 'sync.reconcile_requested'`, [SHOP]);
    expect(rows).toHaveLength(2);
  });

  it("says on the Sync and Home pages that older orders were not imported without read_all_orders", async () => {
    await startImportFromAdmin({ shop: LIMITED, actor: "test" });
    expect((await runImport(LIMITED, { pollMs: 50 })).outcome).toBe("done");
    expect((await getSyncOverview({ shop: LIMITED, fmt })).importWarning).toBe(READ_ALL_ORDERS_WARNING);
    expect((await getHomeOverview({ shop: LIMITED, fmt })).importWarning).toBe(READ_ALL_ORDERS_WARNING);
    expect((await getHomeOverview({ shop: SHOP, fmt })).importWarning).toBeNull();
  });

  it("adds the import figures to /metrics", async () => {
    const { body } = await renderMetrics();
    const { rows } = await getPool().query<{ type: string; n: string }>(
      `SELECT object_type AS type, sum(merged)::text AS n FROM import_run_objects GROUP BY 1`,
    );
    for (const r of rows) expect(body).toContain(`crm_import_objects_total{type="${r.type}"} ${r.n}`);
    expect(body).toContain("crm_import_running 0");
    expect(body).toMatch(/crm_import_last_duration_seconds \d+(\.\d+)?/);
  });
});
