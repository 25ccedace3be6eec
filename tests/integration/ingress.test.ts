// The webhook ingress (receiveWebhook) on real PostgreSQL and Redis: what it refuses,
// that a refusal leaves no inbox row, and that a duplicate delivery has one effect.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { receiveWebhook } from "../../app/services/webhook-ingress.server";
import { closeQueues } from "../../app/queues.server";
import { TEST_APP_URL, useIntegrationEnv } from "../support/env";
import { customerPayload, dataRequestPayload, orderPayload, toBody } from "../support/factories";
import { customerRow, deliver, inboxRows, startInProcessWorker, waitForInboxSettled } from "../support/pipeline";
import { TEST_SHOP, deliveryHeaders, hmacOf, webhookRequest, type Delivery } from "../support/webhooks";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let worker: ReturnType<typeof startInProcessWorker>;
let limit: number;

beforeAll(async () => {
  env = await useIntegrationEnv();
  limit = Number(env.WEBHOOK_MAX_BODY_BYTES);
  worker = startInProcessWorker();
});

afterAll(async () => {
  await worker?.close();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

const countAll = async () => Number((await getPool().query<{ n: string }>(`SELECT count(*) AS n FROM webhook_events`)).rows[0]!.n);

/** A valid customers/create delivery (body, headers) to break one piece at a time. */
function validDelivery(overrides: Partial<Delivery> = {}): Delivery {
  return { topic: "customers/create", body: toBody(customerPayload({ id: 501n })), webhookId: randomUUID(), ...overrides };
}

/** A request with a streamed body of `size` bytes and no content-length (chunked). */
function streamedRequest(d: Delivery, size: number, declaredLength?: number): Request {
  const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= size) return controller.close();
      const piece = chunk.subarray(0, Math.min(chunk.byteLength, size - sent));
      sent += piece.byteLength;
      controller.enqueue(piece);
    },
  });
  const headers = deliveryHeaders(d);
  if (declaredLength !== undefined) headers["content-length"] = String(declaredLength);
  return new Request(`${TEST_APP_URL}/webhooks/customers`, { method: "POST", headers, body, duplex: "half" } as RequestInit);
}

describe("ingress: bad input is refused and leaves no inbox row", () => {
  const cases: [string, () => Request, number][] = [
    ["wrong HMAC", () => webhookRequest(validDelivery({ secret: "not-the-app-secret" })), 401],
    [
      "HMAC of a different body",
      () => {
        const d = validDelivery();
        return webhookRequest({ ...d, headers: { "x-shopify-hmac-sha256": hmacOf(d.body + " ") } });
      },
      401,
    ],
    ["missing HMAC header", () => webhookRequest(validDelivery({ headers: { "x-shopify-hmac-sha256": null } })), 401],
    ["missing webhook-id header", () => webhookRequest(validDelivery({ headers: { "x-shopify-webhook-id": null } })), 400],
    ["missing topic header", () => webhookRequest(validDelivery({ headers: { "x-shopify-topic": null } })), 400],
    ["GET", () => webhookRequest(validDelivery(), "GET"), 405],
    ["PUT", () => webhookRequest(validDelivery(), "PUT"), 405],
    ["shop header not *.myshopify.com", () => webhookRequest(validDelivery({ shop: "evil.example.com" })), 400],
    ["shop header with a path", () => webhookRequest(validDelivery({ shop: "crm-test.myshopify.com.evil.com" })), 400],
    ["empty body", () => webhookRequest(validDelivery({ body: "" })), 400],
    ["non-JSON body", () => webhookRequest(validDelivery({ body: "this is not json" })), 400],
    ["JSON that is not an object", () => webhookRequest(validDelivery({ body: "[1,2,3]" })), 400],
    ["truncated JSON", () => webhookRequest(validDelivery({ body: '{"id":1,' })), 400],
    [
      "body over the limit, with a declared content-length",
      () => {
        const d = validDelivery({ body: JSON.stringify({ pad: "x".repeat(limit) }) });
        return webhookRequest({ ...d, headers: { "content-length": String(Buffer.byteLength(d.body)) } });
      },
      413,
    ],
    ["body over the limit, streamed (chunked) without content-length", () => streamedRequest(validDelivery(), limit + 1), 413],
    ["body over the limit, streamed, with a content-length that lies", () => streamedRequest(validDelivery(), limit * 2, 100), 413],
  ];

  it.each(cases)("%s -> %i", async (_name, build, status) => {
    const request = build();
    const before = await countAll();
    const response = await receiveWebhook(request);
    expect(response.status).toBe(status);
    if (status === 405) expect(response.headers.get("allow")).toBe("POST");
    expect(await countAll()).toBe(before);
    const webhookId = request.headers.get("x-shopify-webhook-id");
    if (webhookId) expect(await inboxRows({ webhookId })).toEqual([]);
  });

  it("a body exactly at the limit is accepted (the limit is not off by one)", async () => {
    const filler = JSON.stringify({ pad: "" }).length;
    const body = JSON.stringify({ pad: "x".repeat(limit - filler) });
    expect(Buffer.byteLength(body)).toBe(limit);
    const d = validDelivery({ topic: "shop/unknown_for_size_test", body });
    const response = await receiveWebhook(webhookRequest({ ...d, headers: { "content-length": String(limit) } }));
    expect(response.status).toBe(200);
    expect(await inboxRows({ webhookId: d.webhookId })).toHaveLength(1);
  });

  it("the raw body is stored byte for byte (ids above 2^53, whitespace, unicode)", async () => {
    const body = '{ "id": 9007199254740993, "admin_graphql_api_id": "gid://shopify/Customer/9007199254740993", "first_name": "Zoë 🌿", "addresses": [] }';
    const d = validDelivery({ body });
    expect((await receiveWebhook(webhookRequest(d))).status).toBe(200);
    const [row] = await inboxRows({ webhookId: d.webhookId });
    expect(row!.payload).toBe(body);
    expect(row!.topic).toBe("customers/create");
    expect(row!.shop).toBe(TEST_SHOP);
  });
});

describe("ingress: duplicate deliveries", () => {
  it("the same webhook id twice answers 200 both times, stores one row, applies once", async () => {
    const customer = { id: 7001n, email: "dup@example.com" };
    const order = orderPayload({ id: 70010n, customer, totalPrice: "50.00" });
    const webhookId = randomUUID();
    const first = await deliver("orders/create", order, { webhookId });
    const second = await deliver("orders/create", order, { webhookId });
    expect([first.status, second.status]).toEqual([200, 200]);
    await waitForInboxSettled();
    const rows = await inboxRows({ webhookId });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: "processed", attempts: 1 });
    expect(await customerRow(TEST_SHOP, "gid://shopify/Customer/7001")).toMatchObject({ orders_count: 1, total_spent_minor: "5000" });
  });

  it("concurrent duplicates of a non-idempotent topic (data request) produce exactly one export", async () => {
    const webhookId = randomUUID();
    const payload = dataRequestPayload({ shop: TEST_SHOP, customerId: 7001n });
    const responses = await Promise.all(Array.from({ length: 5 }, () => deliver("customers/data_request", payload, { webhookId })));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    await waitForInboxSettled();
    expect(await inboxRows({ webhookId })).toHaveLength(1);
    const exports = await getPool().query(`SELECT customer_gid FROM data_exports WHERE shop = $1`, [TEST_SHOP]);
    expect(exports.rows).toEqual([{ customer_gid: "gid://shopify/Customer/7001" }]);
  });

  it("the same webhook id from two shops is two deliveries", async () => {
    const webhookId = randomUUID();
    const body = toBody(customerPayload({ id: 7002n }));
    expect((await deliver("customers/create", body, { webhookId })).status).toBe(200);
    expect((await deliver("customers/create", body, { webhookId, shop: "other-shop.myshopify.com" })).status).toBe(200);
    expect((await inboxRows({ webhookId })).map((r) => r.shop).sort()).toEqual(["crm-test.myshopify.com", "other-shop.myshopify.com"]);
    await waitForInboxSettled();
  });
});
