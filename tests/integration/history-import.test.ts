// The history import (issue 13, decision 045) through the Shopify twin (bulk operations, JSONL
// result files) on real PostgreSQL: the import of a generated store equals, customer by
// customer, what the same history delivered as webhooks produces (differential); an import
// overlapping live webhooks keeps the newest version of every row and counts each refund
// once; a worker killed in the middle resumes without duplicates; a failed bulk operation is
// retried; a missing read_all_orders is said; the CLI's `import start` and `import status`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { getImportStatus, READ_ALL_ORDERS_WARNING, runImport, startImport } from "../../app/services/history-import/import.server";
import { createSegment } from "../../app/services/segments/segments.server";
import { closeQueues } from "../../app/queues.server";
import { startHistoryImport } from "../../jobs/history-import";
import { authenticate } from "../../app/shopify.server";
import { DESKTOP_USER_AGENT } from "../support/browser";
import { childProcessEnv, TEST_API_KEY, TEST_API_SECRET, TEST_APP_URL, useIntegrationEnv } from "../support/env";
import { NODE_TSX, runCli, spawnChild } from "../support/pipeline";
import { startAdminTwin, type AdminTwin } from "../twin/admin-graphql";
import { generateStore, type SyntheticStore } from "../twin/store-generator";
import { orderWebhookPayload, refundWebhookPayload, customerWebhookPayload } from "../twin/webhook-payloads";
import {
  applyHistoryAsWebhooks,
  applyWebhooks,
  customersOf,
  lineItemsOf,
  loadTwinStore,
  ordersOf,
  productsOf,
  refundsOf,
  storeSession,
  TOKEN,
} from "./history-import.support";

const IMPORTED = "import-diff.myshopify.com";
const WEBHOOKED = "webhook-diff.myshopify.com";
const OVERLAP = "import-overlap.myshopify.com";
const KILLED = "import-killed.myshopify.com";
const RETRIED = "import-retried.myshopify.com";
const NO_ALL_ORDERS = "import-recent.myshopify.com";
const CLI_SHOP = "import-cli.myshopify.com";
const INSTALLED = "import-install.myshopify.com";
const BY_WORKER = "import-worker.myshopify.com";
const SHOPS = [IMPORTED, OVERLAP, KILLED, RETRIED, NO_ALL_ORDERS, CLI_SHOP, INSTALLED, BY_WORKER];

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let twin: AdminTwin;
const stores = new Map<string, SyntheticStore>();

beforeAll(async () => {
  twin = await startAdminTwin({
    accessTokens: Object.fromEntries(SHOPS.map((s) => [s, TOKEN])),
    bulkDelayMs: 20,
    // The embedded app, for the install through token exchange.
    apps: [{ apiKey: TEST_API_KEY, apiSecret: TEST_API_SECRET, scopes: ["read_customers", "read_orders", "read_all_orders", "read_products"], appUrl: TEST_APP_URL }],
  });
  for (const [i, shop] of SHOPS.entries()) {
    const store = generateStore({ seed: 1301 + (shop === IMPORTED ? 0 : i), customers: shop === IMPORTED ? 160 : 60, shopDomain: shop });
    stores.set(shop, store);
    loadTwinStore(twin, shop, store);
  }
  env = await useIntegrationEnv({ SHOPIFY_TWIN_URL: twin.url });
  for (const shop of SHOPS) if (shop !== INSTALLED) await storeSession(shop, shop === NO_ALL_ORDERS ? "read_customers,read_orders,read_products" : undefined);
});

afterAll(async () => {
  await twin?.close();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

const twinCounts = (shop: string) => ({ customers: twin.shop(shop).customers.size, orders: twin.shop(shop).orders.size, products: twin.shop(shop).products.size });

async function importShop(shop: string, options: Parameters<typeof runImport>[1] = {}) {
  await startImport(shop);
  const result = await runImport(shop, { pollMs: 50, ...options });
  expect(result.status?.error ?? null).toBeNull();
  expect(result.outcome).toBe("done");
  return result.status!;
}

const count = async (sql: string, shop: string) => Number((await getPool().query<{ n: string }>(sql, [shop])).rows[0]!.n);

describe("the history import", () => {
  it("equals, customer by customer, the same history delivered as webhooks (differential), and records segment entries with cause import", async () => {
    const store = stores.get(IMPORTED)!;
    // A segment that exists before the import: every customer with an order enters it because of the import.
    await createSegment({ shop: IMPORTED, name: "Buyers", query: "number_of_orders >= 1" });
    await getPool().query(`DELETE FROM segment_membership_changes WHERE shop = $1`, [IMPORTED]);

    const status = await importShop(IMPORTED);
    expect(status).toMatchObject({ state: "done", ...twinCounts(IMPORTED), error: null, warning: null });
    const messages = await applyHistoryAsWebhooks(WEBHOOKED, store);
    expect(messages).toBeGreaterThan(400);

    const imported = await customersOf(IMPORTED);
    const webhooked = await customersOf(WEBHOOKED);
    expect(imported.size).toBe(twin.shop(IMPORTED).customers.size);
    expect([...imported.keys()]).toEqual([...webhooked.keys()]);
    for (const [gid, row] of imported) expect(row, gid).toEqual(webhooked.get(gid));

    const importedOrders = await ordersOf(IMPORTED);
    const webhookedOrders = await ordersOf(WEBHOOKED);
    expect([...importedOrders.keys()]).toEqual([...webhookedOrders.keys()]);
    for (const [gid, row] of importedOrders) expect(row, gid).toEqual(webhookedOrders.get(gid));
    // The comparison means something: refunds, cancellations and several orders per customer are in it.
    expect([...importedOrders.values()].filter((o) => o.refunded_minor !== "0").length).toBeGreaterThan(3);
    expect([...importedOrders.values()].filter((o) => o.cancelled_at !== null).length).toBeGreaterThan(0);
    expect([...imported.values()].filter((c) => Number(c.orders_count) > 1).length).toBeGreaterThan(10);

    expect(await lineItemsOf(IMPORTED)).toEqual(await lineItemsOf(WEBHOOKED));
    expect(await refundsOf(IMPORTED)).toEqual(await refundsOf(WEBHOOKED));
    expect(await productsOf(IMPORTED)).toEqual(await productsOf(WEBHOOKED));

    // Segments, cause `import`: one entry per buyer, nothing else.
    const buyers = [...imported.values()].filter((c) => Number(c.orders_count) >= 1).length;
    const { rows: changes } = await getPool().query<{ cause: string; change: string; n: number }>(
      `SELECT cause::text, change::text, count(*)::int AS n FROM segment_membership_changes WHERE shop = $1 GROUP BY 1, 2`,
      [IMPORTED],
    );
    expect(changes).toEqual([{ cause: "import", change: "entered", n: buyers }]);
    // RFM groups were computed for every customer.
    expect(await count(`SELECT count(*) AS n FROM customers WHERE shop = $1 AND rfm_group IS NULL`, IMPORTED)).toBe(0);
    // Staging is emptied once merged.
    expect(await count(`SELECT count(*) AS n FROM import_stage_orders s JOIN import_runs r ON r.id = s.run_id WHERE r.shop = $1`, IMPORTED)).toBe(0);
  });

  it("overlapping live webhooks (older and newer versions, refunds) converges to the newest and counts each refund once", async () => {
    const store = stores.get(OVERLAP)!;
    const orders = [...store.orders()];
    const refunded = orders.find((o) => o.refunds.length > 0 && o.customerId !== null)!;
    const older = orders.find((o) => o !== refunded && o.customerId !== null && !o.cancel && o.refunds.length === 0)!;
    const newer = orders.find((o) => o !== refunded && o !== older && o.customerId !== null && !o.cancel && o.refunds.length === 0)!;
    const customerOf = (id: bigint | null) => [...store.customers()].find((c) => c.id === id) ?? null;
    const later = (iso: string, days: number) => new Date(Date.parse(iso) + days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, "Z");

    // Before the import: the refund arrived as refunds/create (with its refund lines).
    const refund = refunded.refunds[0]!;
    await applyWebhooks(OVERLAP, [{ topic: "refunds/create", payload: refundWebhookPayload(refunded, refund), at: refund.createdAt }]);
    // An older version of `older` (as created): the import's copy is newer and wins.
    await applyWebhooks(OVERLAP, [{ topic: "orders/create", payload: { ...orderWebhookPayload(older, customerOf(older.customerId), older.createdAt), updated_at: older.createdAt, tags: "old-version" }, at: older.createdAt }]);

    let applied = false;
    await importShop(OVERLAP, {
      beforeStep: async (step) => {
        if (step !== "merge:orders" || applied) return;
        applied = true;
        // While the import runs (staged, not merged yet): a newer version of `newer` and of a customer.
        const customer = customerOf(newer.customerId)!;
        await applyWebhooks(OVERLAP, [
          { topic: "orders/updated", payload: { ...orderWebhookPayload(newer, customer), updated_at: later(newer.updatedAt, 30), tags: "newer-version" }, at: later(newer.updatedAt, 30) },
          { topic: "customers/update", payload: { ...customerWebhookPayload(customer, later(customer.updatedAt, 30)), first_name: "Newer" }, at: later(customer.updatedAt, 30) },
        ]);
      },
    });
    expect(applied).toBe(true);

    const rows = await ordersOf(OVERLAP);
    expect(rows.get(`gid://shopify/Order/${newer.id}`)!.tags).toEqual(["newer-version"]);
    expect(rows.get(`gid://shopify/Order/${older.id}`)!.tags).toEqual(older.tags);
    const customers = await customersOf(OVERLAP);
    expect(customers.get(`gid://shopify/Customer/${newer.customerId}`)!.first_name).toBe("Newer");

    // Each refund once, its order's refunded total and its customer's aggregates from it.
    const refunds = await refundsOf(OVERLAP);
    expect(new Set(refunds.map((r) => r.gid)).size).toBe(refunds.length);
    expect(refunds.length).toBe(orders.reduce((n, o) => n + o.refunds.length, 0));
    const refundedRow = rows.get(`gid://shopify/Order/${refunded.id}`)!;
    expect(Number(refundedRow.refunded_minor)).toBe(refunded.refunds.reduce((n, r) => n + r.amountCents, 0));
    // The refund stored by refunds/create keeps its refund lines.
    const { rows: lines } = await getPool().query<{ n: number }>(`SELECT jsonb_array_length(line_items) AS n FROM refunds WHERE shop = $1 AND gid = $2`, [OVERLAP, `gid://shopify/Refund/${refund.id}`]);
    expect(lines[0]!.n).toBe(refund.lines.length);
    const customer = customers.get(`gid://shopify/Customer/${refunded.customerId}`)!;
    const own = [...rows.values()].filter((o) => o.customer_gid === `gid://shopify/Customer/${refunded.customerId}` && o.cancelled_at === null && !o.test);
    expect(Number(customer.total_spent_minor)).toBe(own.reduce((n, o) => n + Number(o.total_price_minor) - Number(o.refunded_minor), 0));

    // A late older webhook after the import changes nothing.
    await applyWebhooks(OVERLAP, [{ topic: "orders/updated", payload: { ...orderWebhookPayload(newer, customerOf(newer.customerId), newer.createdAt), updated_at: newer.createdAt, tags: "stale" }, at: newer.createdAt }]);
    expect((await ordersOf(OVERLAP)).get(`gid://shopify/Order/${newer.id}`)!.tags).toEqual(["newer-version"]);
  });

  it("a worker killed in the middle of the merge resumes without duplicates", async () => {
    await startImport(KILLED);
    // A child process (the twin answers from this one's event loop, so not spawnSync).
    const child = spawnChild(NODE_TSX[0], [...NODE_TSX[1], "tests/integration/history-import.child.ts"], childProcessEnv({ IMPORT_SHOP: KILLED, KILL_AT: "3" }));
    const exited = await Promise.race([child.exited, new Promise<null>((r) => setTimeout(() => r(null), 60_000))]);
    if (!exited) child.killGroup("SIGKILL");
    expect(exited?.signal, child.stderr()).toBe("SIGKILL");
    const { rows } = await getPool().query<{ status: string; merged_through: string }>(
      `SELECT o.status, o.merged_through FROM import_run_objects o JOIN import_runs r ON r.id = o.run_id WHERE r.shop = $1 AND o.object_type = 'orders'`,
      [KILLED],
    );
    // Two chunks of 50 committed, the third was cut off.
    expect(rows[0]).toEqual({ status: "staged", merged_through: "100" });
    expect((await getImportStatus(KILLED))!.state).toBe("running");

    const status = await importShop(KILLED);
    expect(status).toMatchObject({ state: "done", ...twinCounts(KILLED) });
    const store = stores.get(KILLED)!;
    const orders = [...store.orders()];
    expect(await count(`SELECT count(*) AS n FROM orders WHERE shop = $1`, KILLED)).toBe(orders.length);
    expect(await count(`SELECT count(*) AS n FROM line_items WHERE shop = $1`, KILLED)).toBe(orders.reduce((n, o) => n + o.lines.length, 0));
    expect(await count(`SELECT count(*) AS n FROM refunds WHERE shop = $1`, KILLED)).toBe(orders.reduce((n, o) => n + o.refunds.length, 0));
    expect(await count(`SELECT count(*) AS n FROM customers WHERE shop = $1`, KILLED)).toBe(twin.shop(KILLED).customers.size);
    const spent = orders.filter((o) => !o.cancel && !o.test && o.customerId !== null).reduce((n, o) => n + o.totalCents - o.refunds.reduce((m, r) => m + r.amountCents, 0), 0);
    expect(await count(`SELECT COALESCE(sum(total_spent_minor), 0) AS n FROM customers WHERE shop = $1`, KILLED)).toBe(spent);
  });

  it("retries a bulk operation that failed", async () => {
    let failed: string | null = null;
    const status = await importShop(RETRIED, {
      // The first orders bulk operation fails as it completes, whatever order the three
      // finish in (flipping it at another object's step raced with the orders' own staging).
      beforeStep: (step) => {
        if (step !== "start:orders" || failed) return;
        const timer = setInterval(() => {
          const op = [...twin.shop(RETRIED).bulkOperations.values()].find((b) => b.query.includes("ImportOrders"));
          if (op?.status !== "COMPLETED") return;
          clearInterval(timer);
          op.status = "FAILED";
          op.errorCode = "INTERNAL_SERVER_ERROR";
          op.url = null;
          failed = op.id;
        }, 1);
      },
    });
    expect(failed).not.toBeNull();
    expect(status).toMatchObject({ state: "done", ...twinCounts(RETRIED) });
    const { rows } = await getPool().query<{ attempts: number; last_error: string }>(
      `SELECT o.attempts, o.last_error FROM import_run_objects o JOIN import_runs r ON r.id = o.run_id WHERE r.shop = $1 AND o.object_type = 'orders'`,
      [RETRIED],
    );
    expect(rows[0]!.attempts).toBe(2);
    expect(rows[0]!.last_error).toContain("failed (INTERNAL_SERVER_ERROR)");
  });

  it("without read_all_orders, imports what Shopify returns and says why older orders are missing", async () => {
    const status = await importShop(NO_ALL_ORDERS);
    expect(status.state).toBe("done");
    expect(status.warning).toBe(READ_ALL_ORDERS_WARNING);
    expect(status.customers).toBe(twin.shop(NO_ALL_ORDERS).customers.size);
    expect(status.orders).toBeLessThanOrEqual(twin.shop(NO_ALL_ORDERS).orders.size);
    expect(status.orders).toBe(await count(`SELECT count(*) AS n FROM orders WHERE shop = $1`, NO_ALL_ORDERS));
  });

  it("crm import start runs it to the end (progress on stderr, exit 0) and crm import status prints the run", async () => {
    const cliEnv = childProcessEnv({ IMPORT_POLL_INTERVAL_MS: "100" });
    const before = await runCli(["import", "status", "--shop", CLI_SHOP], cliEnv);
    expect(before.code).toBe(0);
    expect(JSON.parse(before.stdout)).toMatchObject({ state: "failed", error: "no import has been started for this shop" });

    const started = await runCli(["import", "start", "--shop", CLI_SHOP], cliEnv);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stderr).toMatch(/import running: customers \d+, orders \d+, products \d+/);
    const done = JSON.parse(started.stdout);
    expect(done).toEqual({ state: "done", ...twinCounts(CLI_SHOP), startedAt: expect.any(String), finishedAt: expect.any(String), error: null, warning: null });

    const status = await runCli(["import", "status", "--shop", CLI_SHOP], cliEnv);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual(done);
    expect(Date.parse(done.finishedAt)).toBeGreaterThanOrEqual(Date.parse(done.startedAt));
  });

  it("the embedded install (token exchange) starts the import, which runs with the session it stored", async () => {
    expect(await getImportStatus(INSTALLED)).toBeNull();
    // The embedded app's first document load, as the Shopify admin opens it (tests/integration/demo-twin-auth.test.ts).
    const opened = await fetch(`${twin.url}/store/${INSTALLED.replace(".myshopify.com", "")}/apps/${TEST_API_KEY}/app`, { redirect: "manual" });
    const { session } = await authenticate.admin(new Request(opened.headers.get("location")!, { headers: { "user-agent": DESKTOP_USER_AGENT } }));
    expect(session.shop).toBe(INSTALLED);
    expect(await getImportStatus(INSTALLED)).toMatchObject({ state: "running", finishedAt: null });

    const result = await runImport(INSTALLED, { pollMs: 50 });
    expect(result.status).toMatchObject({ state: "done", ...twinCounts(INSTALLED), error: null, warning: null });
  });

  it("the worker's import job finds a started run (its sweep) and runs it to the end", async () => {
    const worker = await startHistoryImport({ sweepIntervalMs: 200, pollMs: 50, concurrency: 1 });
    try {
      await startImport(BY_WORKER);
      const deadline = Date.now() + 60_000;
      let status = await getImportStatus(BY_WORKER);
      while (status?.state === "running" && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        status = await getImportStatus(BY_WORKER);
      }
      expect(status).toMatchObject({ state: "done", ...twinCounts(BY_WORKER), error: null });
    } finally {
      await worker.close();
    }
  });
});
