// The headers the HMAC does not cover (shop domain, topic, webhook id, triggered-at),
// end to end through the ingress and the worker (docs/decisions/027): a body signed for
// one shop or one topic, replayed under another shop's domain, another topic or another
// route, is answered 200 (Shopify must not retry it), kept as `ignored` with the reason,
// and changes nothing; genuine deliveries still do what they did.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { getPool } from "../../app/db.server";
import { webhookDeliveries } from "../../app/metrics.server";
import { replayEvents } from "../../app/services/event-replay.server";
import { getWebhookQueue } from "../../app/queues.server";
import {
  customerDeletePayload,
  customerPayload,
  customerRedactPayload,
  dataRequestPayload,
  orderPayload,
  productPayload,
  shopPayload,
  shopRedactPayload,
  toBody,
  type CustomerSpec,
} from "../support/factories";
import { customerRow, deliver, deliverAndSettle, inboxRows, setUpPipelineHarness, waitForInboxSettled } from "../support/pipeline";
import { deliveryHeaders, type Delivery } from "../support/webhooks";
import { TEST_APP_URL } from "../support/env";
import { handleDelivery, receiveWebhook } from "../../app/services/webhook-ingress.server";

setUpPipelineHarness();

const A = "headers-shop-a.myshopify.com";
const B = "headers-shop-b.myshopify.com";
const cgid = (id: bigint) => `gid://shopify/Customer/${id}`;
const db = () => getPool();

// The same Shopify ids in both shops would hide a cross-tenant write; these differ.
const alice: CustomerSpec = { id: 8101n, email: "alice.a@example.com", firstName: "Alice" };
const bob: CustomerSpec = { id: 8201n, email: "bob.b@example.com", firstName: "Bob" };

async function insertSession(shop: string) {
  await db().query(`INSERT INTO "Session" (id, shop, state, "isOnline", "accessToken") VALUES ($1, $2, 'state', false, 'shpat_test') ON CONFLICT DO NOTHING`, [`offline_${shop}`, shop]);
}

/** What a purge, a redaction or an uninstall of shop B would change. */
async function stateOfB() {
  const count = async (sql: string) => (await db().query<{ n: number }>(sql, [B])).rows[0]!.n;
  return {
    customer: await customerRow(B, cgid(bob.id)),
    customers: await count(`SELECT count(*)::int AS n FROM customers WHERE shop = $1`),
    orders: await count(`SELECT count(*)::int AS n FROM orders WHERE shop = $1`),
    products: await count(`SELECT count(*)::int AS n FROM products WHERE shop = $1 AND deleted_at IS NULL`),
    sessions: await count(`SELECT count(*)::int AS n FROM "Session" WHERE shop = $1`),
    uninstalled: await count(`SELECT count(*)::int AS n FROM shops WHERE domain = $1 AND uninstalled_at IS NOT NULL`),
    exports: await count(`SELECT count(*)::int AS n FROM data_exports WHERE shop = $1`),
    audits: (await db().query<{ action: string }>(`SELECT action FROM audit_log WHERE shop = $1 ORDER BY id`, [B])).rows.map((r) => r.action),
  };
}

/** Delivers under shop B's headers and expects it answered 200, stored as ignored with the reason, and B unchanged. */
async function expectIgnored(d: Omit<Delivery, "webhookId">, reason: RegExp) {
  const before = await stateOfB();
  const webhookId = randomUUID();
  const response = await receiveWebhook(request({ shop: B, ...d, webhookId }));
  expect(response.status).toBe(200);
  await waitForInboxSettled();
  const rows = await inboxRows({ webhookId });
  expect(rows).toEqual([expect.objectContaining({ shop: d.shop ?? B, topic: d.topic, status: "ignored", payload: d.body })]);
  expect(rows[0]!.last_error).toMatch(reason);
  expect(await stateOfB()).toEqual(before);
  return rows[0]!;
}

function request(d: Delivery): Request {
  const path = d.path ?? "/webhooks/compliance";
  return new Request(`${TEST_APP_URL}${path}`, { method: "POST", headers: deliveryHeaders(d), body: d.body });
}

describe("setup: two shops with data", () => {
  it("A and B each hold a customer with an order, a product and a session", async () => {
    for (const [shop, c] of [[A, alice], [B, bob]] as const) {
      await deliverAndSettle("customers/create", customerPayload(c), { shop });
      await deliverAndSettle("orders/create", orderPayload({ id: c.id * 10n, customer: c, totalPrice: "25.00" }), { shop });
      await deliverAndSettle("products/create", productPayload({ id: c.id + 1n }), { shop });
      await insertSession(shop);
    }
    expect(await stateOfB()).toMatchObject({ customer: { email: "bob.b@example.com" }, customers: 1, orders: 1, products: 1, sessions: 1, uninstalled: 0 });
  });
});

describe("a body signed for shop A, replayed with shop B's domain", () => {
  it("shop/redact: 200, ignored with the reason, shop B not purged", async () => {
    const ignoredBefore = (await webhookDeliveries.get()).values.find((v) => v.labels.outcome === "ignored")?.value ?? 0;
    const row = await expectIgnored(
      { topic: "shop/redact", body: toBody(shopRedactPayload(A)), path: "/webhooks/compliance" },
      /shop\/redact payload is for shop_domain "headers-shop-a\.myshopify\.com", not the header's shop headers-shop-b\.myshopify\.com/,
    );
    // Acknowledged as ignored, not queued.
    expect(await getWebhookQueue().getJob(`wh-${row.id}`)).toBeUndefined();
    expect((await webhookDeliveries.get()).values.find((v) => v.labels.outcome === "ignored")?.value).toBe(ignoredBefore + 1);
  });

  it("shop/redact replayed by an operator is ignored again by the worker", async () => {
    const [row] = (await inboxRows({ shop: B, topic: "shop/redact" })).filter((r) => r.status === "ignored");
    const before = await stateOfB();
    expect((await replayEvents({ shop: B, status: "ignored", ids: [row!.id] })).replayed).toBe(1);
    await waitForInboxSettled();
    const [after] = await inboxRows({ webhookId: row!.webhook_id });
    expect(after).toMatchObject({ status: "ignored", replays: 1 });
    expect(after!.last_error).toMatch(/shop_domain "headers-shop-a\.myshopify\.com", not the header's shop/);
    expect(await stateOfB()).toEqual(before);
  });

  it("customers/redact naming shop A: B's customer keeps its data", async () => {
    // The same customer id in B's CRM: a redaction would find it.
    await expectIgnored(
      { topic: "customers/redact", body: toBody(customerRedactPayload({ shop: A, customerId: bob.id, email: bob.email, orderIds: [bob.id * 10n] })) },
      /customers\/redact payload is for shop_domain "headers-shop-a\.myshopify\.com"/,
    );
    expect(await customerRow(B, cgid(bob.id))).toMatchObject({ email: "bob.b@example.com", first_name: "Bob", orders_count: 1 });
  });

  it("customers/data_request naming shop A: no export in B", async () => {
    await expectIgnored(
      { topic: "customers/data_request", body: toBody(dataRequestPayload({ shop: A, customerId: bob.id })) },
      /customers\/data_request payload is for shop_domain "headers-shop-a\.myshopify\.com"/,
    );
  });

  it("a compliance body that names no shop is not taken for B's", async () => {
    await expectIgnored({ topic: "shop/redact", body: toBody({ shop_id: 954889 }) }, /shop\/redact payload names no shop \(no shop_domain\)/);
    await expectIgnored({ topic: "shop/redact", body: toBody({ shop_domain: B }) }, /shop\/redact payload has no valid shop_id/);
  });

  it("app/uninstalled with shop A's Shop object: B keeps its sessions and stays installed", async () => {
    await expectIgnored(
      { topic: "app/uninstalled", body: toBody(shopPayload({ shop: A })), path: "/webhooks/app" },
      /app\/uninstalled payload is for myshopify_domain "headers-shop-a\.myshopify\.com", not the header's shop headers-shop-b\.myshopify\.com/,
    );
    // Any other signed body (here an order: it has a name and a currency) is not a Shop object.
    await expectIgnored(
      { topic: "app/uninstalled", body: toBody(orderPayload({ id: 8109n, customer: bob, totalPrice: "1.00" })), path: "/webhooks/app" },
      /app\/uninstalled payload names no shop \(no myshopify_domain\)/,
    );
  });
});

describe("the topic header must be subscribed on the route it arrived on (shopify.app.toml)", () => {
  it("a compliance topic on the orders route: ignored, nothing purged", async () => {
    await expectIgnored(
      { topic: "shop/redact", body: toBody(shopRedactPayload(B)), path: "/webhooks/orders" },
      /topic "shop\/redact" is subscribed on \/webhooks\/compliance, not on \/webhooks\/orders/,
    );
  });

  it("an orders topic on the compliance route: ignored, no order stored", async () => {
    await expectIgnored(
      { topic: "orders/create", body: toBody(orderPayload({ id: 8202n * 10n, customer: bob, totalPrice: "99.00" })), path: "/webhooks/compliance" },
      /topic "orders\/create" is subscribed on \/webhooks\/orders, not on \/webhooks\/compliance/,
    );
  });

  it("a customers topic on the orders route, and a topic the app never subscribed to: ignored", async () => {
    await expectIgnored(
      { topic: "customers/update", body: toBody(customerPayload({ ...bob, email: "hijacked@example.com", updatedAt: "2026-06-01T00:00:00Z" })), path: "/webhooks/orders" },
      /topic "customers\/update" is subscribed on \/webhooks\/customers, not on \/webhooks\/orders/,
    );
    // shop/update is subscribed since decision 047 (on /webhooks/app): themes/publish never is.
    await expectIgnored({ topic: "themes/publish", body: toBody(shopRedactPayload(B)), path: "/webhooks/compliance" }, /unknown topic "themes\/publish": not subscribed/);
  });

  it("the route is matched as Remix matches it (any case, a trailing slash, a query string)", async () => {
    const webhookId = randomUUID();
    const body = toBody(customerPayload({ ...bob, updatedAt: "2026-01-20T00:00:00Z" }));
    const response = await receiveWebhook(request({ topic: "customers/update", body, shop: B, webhookId, path: "/Webhooks/Customers/?x=1" }));
    expect(response.status).toBe(200);
    await waitForInboxSettled();
    expect((await inboxRows({ webhookId }))[0]).toMatchObject({ status: "processed" });
  });
});

describe("one topic's body under another topic of the same route (same shop)", () => {
  it("a data request sent as customers/redact: the customer keeps its data", async () => {
    await expectIgnored(
      { topic: "customers/redact", body: toBody(dataRequestPayload({ shop: B, customerId: bob.id, email: bob.email })) },
      /a customers\/data_request payload \(it has data_request \/ orders_requested\) sent as customers\/redact/,
    );
  });

  it("a customers/redact sent as shop/redact: the shop is not purged", async () => {
    await expectIgnored(
      { topic: "shop/redact", body: toBody(customerRedactPayload({ shop: B, customerId: bob.id })) },
      /a customer compliance payload \(it has a customer\) sent as shop\/redact/,
    );
  });

  it("a customers/redact sent as customers/data_request: no export", async () => {
    await expectIgnored(
      { topic: "customers/data_request", body: toBody(customerRedactPayload({ shop: B, customerId: bob.id })) },
      /a customers\/redact payload \(it has orders_to_redact\) sent as customers\/data_request/,
    );
  });

  it("a customers/update sent as customers/delete, a products/update as products/delete: nothing deleted", async () => {
    await expectIgnored(
      { topic: "customers/delete", body: toBody(customerPayload(bob)), path: "/webhooks/customers" },
      /a create or update payload \(it has created_at \/ updated_at\) sent as customers\/delete/,
    );
    await expectIgnored(
      { topic: "products/delete", body: toBody(productPayload({ id: bob.id + 1n })), path: "/webhooks/products" },
      /a create or update payload \(it has created_at \/ updated_at\) sent as products\/delete/,
    );
    expect((await customerRow(B, cgid(bob.id)))?.deleted_at).toBeNull();
  });

  it("a customers/delete sent as customers/update: the customer is not blanked", async () => {
    // Without updated_at the upsert's staleness guard would let the all-null profile through.
    await expectIgnored(
      { topic: "customers/update", body: toBody(customerDeletePayload(bob.id)), path: "/webhooks/customers" },
      /a payload without updated_at \(a delete payload\?\) sent as customers\/update/,
    );
    expect(await customerRow(B, cgid(bob.id))).toMatchObject({ email: "bob.b@example.com", first_name: "Bob" });
  });
});

describe("webhook id and triggered-at headers", () => {
  const triggeredAtOf = async (webhookId: string) =>
    (await db().query<{ t: Date | null }>(`SELECT triggered_at AS t FROM webhook_events WHERE webhook_id = $1`, [webhookId])).rows[0]?.t;

  it.each([
    ["a bare number, which Date.parse reads as 2001 and PostgreSQL refuses", "1"],
    ["a date without a year", "Dec 7"],
    ["a time without a zone (local time in one place, session time zone in the other)", "2026-07-01 10:00"],
    ["an impossible date", "2026-13-45T00:00:00Z"],
    ["far in the future (would make the event look newer than later ones)", "2099-01-01T00:00:00Z"],
    ["before any webhook existed", "1970-01-01T00:00:00Z"],
  ])("a malformed or implausible triggered-at (%s) is dropped: 200, applied at its receipt time", async (_name, triggeredAt) => {
    const webhookId = randomUUID();
    const response = await deliver("customers/update", customerPayload({ ...bob, updatedAt: "2026-01-21T00:00:00Z" }), { shop: B, webhookId, triggeredAt });
    expect(response.status).toBe(200);
    await waitForInboxSettled();
    expect((await inboxRows({ webhookId }))[0]).toMatchObject({ status: "processed" });
    expect(await triggeredAtOf(webhookId)).toBeNull();
  });

  it("a well-formed triggered-at with an offset is stored as that instant", async () => {
    const webhookId = randomUUID();
    const response = await deliver("customers/update", customerPayload({ ...bob, updatedAt: "2026-01-22T00:00:00Z" }), { shop: B, webhookId, triggeredAt: "2026-07-01T12:00:00.123-04:00" });
    expect(response.status).toBe(200);
    expect((await triggeredAtOf(webhookId))?.toISOString()).toBe("2026-07-01T16:00:00.123Z");
    await waitForInboxSettled();
  });

  it.each([
    ["longer than 255 characters", "w".repeat(256)],
    ["far too long for the unique index (once a 503 Shopify retried for hours)", "w".repeat(4000)],
    ["two values (a repeated header)", `${randomUUID()}, ${randomUUID()}`],
    ["a control character", "abc\u0001def"],
  ])("a malformed webhook id (%s) is refused with 400 and stores nothing", async (_name, webhookId) => {
    const before = (await db().query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_events`)).rows[0]!.n;
    const body = toBody(customerPayload(bob));
    // (Fetch refuses a control character in a header value, so that case goes through a plain header map.)
    const headers = deliveryHeaders({ topic: "customers/update", body, shop: B, webhookId: "placeholder" });
    const answer = await handleDelivery({
      method: "POST",
      path: "/webhooks/customers",
      header: (name) => (name === "x-shopify-webhook-id" ? webhookId : (headers[name] ?? null)),
      readBody: async () => body,
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toBe("Bad Request (malformed webhook id)");
    expect((await db().query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_events`)).rows[0]!.n).toBe(before);
  });

  it("a malformed event id is not stored, the delivery still is", async () => {
    const webhookId = randomUUID();
    const response = await deliver("customers/update", customerPayload({ ...bob, updatedAt: "2026-01-23T00:00:00Z" }), { shop: B, webhookId, eventId: "e".repeat(300) });
    expect(response.status).toBe(200);
    expect((await db().query(`SELECT event_id FROM webhook_events WHERE webhook_id = $1`, [webhookId])).rows).toEqual([{ event_id: null }]);
    await waitForInboxSettled();
  });
});

describe("genuine compliance deliveries still apply", () => {
  it("customers/redact for B's own customer erases it", async () => {
    await deliverAndSettle("customers/redact", customerRedactPayload({ shop: B, customerId: bob.id, email: bob.email, orderIds: [bob.id * 10n] }), { shop: B });
    expect((await inboxRows({ shop: B, topic: "customers/redact" })).at(-1)).toMatchObject({ status: "processed", last_error: null });
    expect(await customerRow(B, cgid(bob.id))).toMatchObject({ email: null, first_name: null, orders_count: 1 });
    expect(await customerRow(A, cgid(alice.id))).toMatchObject({ email: "alice.a@example.com" });
  });

  it("shop/redact naming B, on B's header and the compliance route, purges B and only B", async () => {
    await deliverAndSettle("shop/redact", shopRedactPayload(B), { shop: B });
    expect((await inboxRows({ shop: B, topic: "shop/redact" })).at(-1)).toMatchObject({ status: "processed", last_error: null });
    expect(await stateOfB()).toMatchObject({ customer: null, customers: 0, orders: 0, products: 0, sessions: 0 });
    expect(await customerRow(A, cgid(alice.id))).toMatchObject({ email: "alice.a@example.com", orders_count: 1 });
  });

  it("app/uninstalled naming A on A's header marks A uninstalled", async () => {
    await deliverAndSettle("app/uninstalled", shopPayload({ shop: A }), { shop: A });
    expect((await db().query(`SELECT uninstalled_at FROM shops WHERE domain = $1`, [A])).rows[0]?.uninstalled_at).toBeInstanceOf(Date);
    expect((await db().query(`SELECT id FROM "Session" WHERE shop = $1`, [A])).rows).toEqual([]);
  });
});
