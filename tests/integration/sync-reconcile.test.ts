// Reconciliation and the cross-check (decision 048) through the Shopify twin: a generated
// store's history is delivered as webhooks with some dropped (as when Shopify gives up after
// its retries); `crm sync reconcile` pages the shop's customers and orders, repairs exactly
// what was dropped through the webhook apply path, records each repair, and finds a customer
// deleted in Shopify whose customers/delete never came. `crm sync check` lists customers whose
// figures differ from Shopify's numberOfOrders / amountSpent, explained where a documented
// choice of the CRM accounts for the difference.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { ReconcileBusyError, WATERMARK_OVERLAP_MS, reconcileShop } from "../../app/services/sync/reconcile.server";
import { crossCheckShop } from "../../app/services/sync/cross-check.server";
import type { CrossCheckMismatch } from "../../app/domain/sync/reconcile";
import { renderMetrics } from "../../app/services/operations.server";
import { closeQueues } from "../../app/queues.server";
import { UnrecoverableError, type Job } from "bullmq";
import { closeSyncReconcileQueue, getSyncReconcileQueue, syncReconcileProcessor, type SyncReconcileJob } from "../../jobs/sync-reconcile";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { customerRow, deliver, orderRow, runCli, startInProcessWorker, waitForInboxSettled } from "../support/pipeline";
import { startAdminTwin, type AdminTwin } from "../twin/admin-graphql";
import { generateStore, type StoreEvent, type SyntheticStore } from "../twin/store-generator";
import { webhooksFor } from "../twin/webhook-payloads";
import { storeOfflineSession, TOKEN } from "./tag-sync.support";

const SHOP = "sync-reconcile.myshopify.com";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let twin: AdminTwin;
let store: SyntheticStore;
let events: StoreEvent[];
/** The customer none of whose own webhooks arrived (customers/create, consent, tags). */
let droppedCustomer: string;
/** The order none of whose webhooks arrived. */
let droppedOrder: { gid: string; customerGid: string };
/** A customer whose later profile change (customers/update) was dropped. */
let staleCustomer: string;

const gidOf = (type: string, id: bigint | string) => `gid://shopify/${type}/${id}`;

beforeAll(async () => {
  twin = await startAdminTwin({ accessTokens: { [SHOP]: TOKEN } });
  store = generateStore({ seed: 23, customers: 14, shopDomain: SHOP });
  twin.shop(SHOP).loadStore(store);
  env = await useIntegrationEnv({ SHOPIFY_TWIN_URL: twin.url });
  await storeOfflineSession(SHOP);
  events = [...store.events()];

  const customers = [...store.customers()];
  const orders = [...store.orders()];
  // A buyer whose first order's webhooks are lost, and a customer whose own webhooks are lost (not that buyer).
  const order = orders.find((o) => o.customerId !== null && o.refunds.length > 0 && !o.test) ?? orders.find((o) => o.customerId !== null)!;
  droppedOrder = { gid: gidOf("Order", order.id), customerGid: gidOf("Customer", order.customerId!) };
  // (Without orders: an order's payload embeds its customer, which would bring the customer back.)
  const buyers = new Set(orders.map((o) => o.customerId).filter((id) => id !== null).map(String));
  const loners = customers.filter((c) => !buyers.has(String(c.id)));
  const lost = loners.find((c) => c.tags.length > 0) ?? loners[0]!;
  droppedCustomer = gidOf("Customer", lost.id);

  const worker = startInProcessWorker(4);
  try {
    let n = 0;
    for (const e of events) {
      const ownCustomer = e.kind === "customer.created" && gidOf("Customer", e.customer.id) === droppedCustomer;
      const ownOrder = "order" in e && gidOf("Order", e.order.id) === droppedOrder.gid;
      if (ownCustomer || ownOrder) continue;
      for (const m of webhooksFor(e)) {
        const response = await deliver(m.topic, m.payload, { shop: SHOP, webhookId: `hist-${++n}`, triggeredAt: m.triggeredAt });
        expect(response.status).toBe(200);
      }
    }
    await waitForInboxSettled(60_000);
  } finally {
    await worker.close();
  }
  // A profile change in Shopify after the history: its customers/update was dropped.
  const changed = customers.find((c) => gidOf("Customer", c.id) !== droppedCustomer && gidOf("Customer", c.id) !== droppedOrder.customerGid)!;
  staleCustomer = gidOf("Customer", changed.id);
  const twinCustomer = twin.shop(SHOP).customers.get(String(changed.id))!;
  twin.shop(SHOP).putCustomer({ ...twinCustomer, lastName: "Renamed-In-Shopify", updatedAt: new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, "Z") });
}, 180_000);

afterAll(async () => {
  await closeSyncReconcileQueue();
  await twin?.close();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

async function mismatches(): Promise<CrossCheckMismatch[]> {
  const out: CrossCheckMismatch[] = [];
  for await (const m of crossCheckShop(SHOP)) out.push(m);
  return out;
}

describe("reconciliation", () => {
  it("the cross-check first lists the customer whose order was dropped, unexplained, with both values", async () => {
    const found = await mismatches();
    const dropped = found.find((m) => m.customerGid === droppedOrder.customerGid);
    expect(dropped).toBeDefined();
    expect(dropped!.explanation).toBeNull();
    expect(dropped!.shopify.numberOfOrders).toBeGreaterThan(dropped!.local.ordersCount);
    // The dropped customer is not in the CRM at all.
    expect(found.find((m) => m.customerGid === droppedCustomer)?.explanation ?? "not listed: no orders").toMatch(/not in the CRM|not listed/);
  });

  it("repairs exactly what webhooks missed, through the apply path, and records each repair", async () => {
    expect(await customerRow(SHOP, droppedCustomer)).toBeNull();
    expect(await orderRow(SHOP, droppedOrder.gid)).toBeNull();
    const before = await customerRow(SHOP, droppedOrder.customerGid);

    const report = await reconcileShop({ shop: SHOP });
    expect(report.checked).toBe(twin.shop(SHOP).customers.size + twin.shop(SHOP).orders.size);
    const { rows: repairs } = await getPool().query<{ object_type: string; gid: string; action: string; reason: string; source: string; status: string }>(
      `SELECT r.object_type, r.gid, r.action, r.reason, w.source, w.status::text AS status
         FROM reconciliation_repairs r JOIN webhook_events w ON w.id = r.inbox_id WHERE r.shop = $1 ORDER BY r.id`,
      [SHOP],
    );
    expect(repairs.map((r) => `${r.object_type} ${r.gid} ${r.action}`).sort()).toEqual(
      [`customer ${droppedCustomer} created`, `customer ${staleCustomer} updated`, `order ${droppedOrder.gid} created`].sort(),
    );
    expect(repairs.every((r) => r.source === "reconcile" && r.status === "processed")).toBe(true);
    expect(report.repaired).toBe(3);

    // The dropped customer now holds what Shopify holds: profile, tags, consent.
    const twinCustomer = twin.shop(SHOP).customers.get(droppedCustomer.split("/").pop()!)!;
    const repaired = await customerRow(SHOP, droppedCustomer);
    expect(repaired).toMatchObject({ email: twinCustomer.email, first_name: twinCustomer.firstName, last_name: twinCustomer.lastName });
    expect([...repaired!.tags].sort()).toEqual([...twinCustomer.tags].sort());
    expect((repaired!.email_marketing_state ?? "not_subscribed").toLowerCase()).toBe(twinCustomer.emailMarketing.state.toLowerCase());
    expect((await customerRow(SHOP, staleCustomer))!.last_name).toBe("Renamed-In-Shopify");

    // The dropped order, its refunds and its customer's aggregates.
    const twinOrder = twin.shop(SHOP).orders.get(droppedOrder.gid.split("/").pop()!)!;
    const order = await orderRow(SHOP, droppedOrder.gid);
    expect(order).toMatchObject({ customer_gid: droppedOrder.customerGid });
    expect(Number(order!.total_price_minor)).toBe(Math.round(Number(twinOrder.total) * 100));
    expect(Number(order!.refunded_minor)).toBe(Math.round(Number(twinOrder.totalRefunded) * 100));
    const after = await customerRow(SHOP, droppedOrder.customerGid);
    const counts = !twinOrder.test && !twinOrder.cancelledAt;
    expect(after!.orders_count).toBe(before!.orders_count + (counts ? 1 : 0));

    // What is left between the CRM and Shopify is explained by the CRM's documented choices.
    const left = await mismatches();
    expect(left.filter((m) => m.explanation === null)).toEqual([]);
  });

  it("a second run reads only what changed since the first (watermark) and repairs nothing more", async () => {
    const report = await reconcileShop({ shop: SHOP });
    expect(report.repaired).toBe(0);
    // Only the customer changed a minute ago falls in the overlap window.
    expect(report.checked).toBeLessThanOrEqual(1);
    expect(report.watermarkFrom).not.toBeNull();
  });

  it("finds a customer deleted in Shopify whose customers/delete never arrived, and applies it as a delete", async () => {
    const victim = [...twin.shop(SHOP).customers.values()].find((c) => gidOf("Customer", c.id) !== droppedCustomer && gidOf("Customer", c.id) !== staleCustomer)!;
    const gid = gidOf("Customer", victim.id);
    twin.shop(SHOP).customers.delete(victim.id);
    twin.shop(SHOP).touched("customers");
    expect((await customerRow(SHOP, gid))!.deleted_at).toBeNull();
    const report = await reconcileShop({ shop: SHOP });
    expect(report.repaired).toBe(1);
    expect((await customerRow(SHOP, gid))!.deleted_at).not.toBeNull();
    const { rows } = await getPool().query(`SELECT action, reason FROM reconciliation_repairs WHERE shop = $1 AND gid = $2`, [SHOP, gid]);
    expect(rows).toEqual([{ action: "deleted", reason: expect.stringMatching(/no longer in Shopify/) }]);
  });

  it("crm sync reconcile prints { checked, repaired }; crm sync check one JSON per line; /metrics shows reconciliation", async () => {
    const cliEnv = childProcessEnv();
    const reconcile = await runCli(["sync", "reconcile", "--shop", SHOP], cliEnv);
    expect(reconcile.code).toBe(0);
    expect(JSON.parse(reconcile.stdout)).toEqual({ checked: expect.any(Number), repaired: 0 });

    // A stored aggregate that went wrong (not what the CRM's own orders give).
    const anyCustomer = (await getPool().query<{ gid: string }>(`SELECT customer_gid AS gid FROM orders WHERE shop = $1 AND NOT test AND cancelled_at IS NULL LIMIT 1`, [SHOP])).rows[0]!.gid;
    await getPool().query(`UPDATE customers SET orders_count = orders_count + 5 WHERE shop = $1 AND gid = $2`, [SHOP, anyCustomer]);
    const check = await runCli(["sync", "check", "--shop", SHOP], cliEnv);
    expect(check.code).toBe(0);
    const lines = check.stdout.trim().split("\n").map((l) => JSON.parse(l) as CrossCheckMismatch);
    const listed = lines.find((m) => m.customerGid === anyCustomer)!;
    expect(listed.local.ordersCount).not.toBe(listed.shopify.numberOfOrders);
    expect(listed.explanation).toMatch(/stored order count \(\d+\) is out of date/);

    const metrics = (await renderMetrics()).body;
    expect(metrics).toMatch(/crm_reconcile_repairs_24h\{object="customer",action="deleted"\} 1/);
    expect(metrics).toMatch(/crm_reconcile_last_success_age_seconds \d/);
  });

  it("the job: the schedule's sweep asks for one run per connected shop; a shop without a session is unrecoverable; a busy shop is skipped", async () => {
    const job = (data: unknown) => ({ id: "t", data, opts: { attempts: 3 }, attemptsMade: 0 }) as unknown as Job<SyncReconcileJob>;
    await getPool().query(`INSERT INTO shops (domain) VALUES ('no-session.myshopify.com') ON CONFLICT DO NOTHING`);
    expect(await syncReconcileProcessor(job({ kind: "sweep" }))).toEqual({ shops: 1 });
    const waiting = await getSyncReconcileQueue().getJobs(["waiting", "delayed", "prioritized"]);
    expect(waiting.map((j) => j.data)).toEqual([{ kind: "shop", shop: SHOP, trigger: "schedule" }]);

    await expect(syncReconcileProcessor(job({ kind: "shop", shop: "no-session.myshopify.com", trigger: "manual" }))).rejects.toBeInstanceOf(UnrecoverableError);
    const { rows } = await getPool().query(`SELECT state, error FROM reconciliation_runs WHERE shop = 'no-session.myshopify.com'`);
    expect(rows).toEqual([{ state: "failed", error: expect.stringMatching(/no offline session/) }]);

    // Another run of the shop holds the lock: this one does nothing.
    const holder = await getPool().connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(hashtext('crm-reconcile'), hashtext($1))`, [SHOP]);
      expect(await syncReconcileProcessor(job({ kind: "shop", shop: SHOP, trigger: "manual" }))).toEqual({ skipped: "busy" });
    } finally {
      await holder.query(`SELECT pg_advisory_unlock_all()`);
      holder.release();
    }
  });

  it("waits while the shop's history import runs; after a done import the first watermark is the import's start", async () => {
    const other = "import-first.myshopify.com";
    await getPool().query(`INSERT INTO import_runs (shop) VALUES ($1)`, [other]);
    await expect(reconcileShop({ shop: other })).rejects.toBeInstanceOf(ReconcileBusyError);
    expect((await getPool().query(`SELECT 1 FROM reconciliation_runs WHERE shop = $1`, [other])).rowCount, "no run recorded while the import runs").toBe(0);
    const importStart = new Date("2026-11-30T12:00:00Z");
    await getPool().query(`UPDATE import_runs SET state = 'done', phase = 'done', started_at = $2, finished_at = now() WHERE shop = $1`, [other, importStart]);
    await expect(reconcileShop({ shop: other })).rejects.toThrow(/no offline session/); // the shop has no session: the run is recorded, failed
    const { rows } = await getPool().query<{ watermark_from: Date | null }>(`SELECT watermark_from FROM reconciliation_runs WHERE shop = $1`, [other]);
    expect(rows.map((r) => r.watermark_from?.toISOString())).toEqual([new Date(importStart.getTime() - WATERMARK_OVERLAP_MS).toISOString()]);
  });
});
