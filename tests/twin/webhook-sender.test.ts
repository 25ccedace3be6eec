// Webhook delivery like Shopify: subscriptions from shopify.app.toml, every header, a
// real HMAC, and the switches (duplicates, reordering, delays, bursts, concurrency,
// retries with backoff).
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { hmacOf } from "../support/webhooks";
import { generateStore } from "./store-generator";
import { storeWebhooks, webhooksFor, type WebhookMessage } from "./webhook-payloads";
import { WebhookSender, readAppWebhookConfig, signBody } from "./webhook-sender";

const SECRET = "twin-secret";
const SHOP = "crm-twin.myshopify.com";

type Received = { path: string; headers: IncomingMessage["headers"]; body: string; at: number };

describe("webhook sender", () => {
  let server: Server;
  let base = "";
  let received: Received[] = [];
  /** Per webhook id: how many attempts to fail before answering 200 (-1: always fail). */
  let failPlan = new Map<string, number>();
  let delayMs = 0;
  let inFlight = 0;
  let maxInFlight = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        received.push({ path: req.url ?? "", headers: req.headers, body, at: Date.now() });
        const id = String(req.headers["x-shopify-webhook-id"]);
        const left = failPlan.get(id);
        const respond = () => {
          inFlight--;
          if (left !== undefined && left !== 0) {
            failPlan.set(id, left - 1);
            res.writeHead(503).end();
          } else res.writeHead(200).end();
        };
        if (delayMs) setTimeout(respond, delayMs);
        else respond();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    received = [];
    failPlan = new Map();
    delayMs = 0;
    inFlight = 0;
    maxInFlight = 0;
  });

  const messages = (n: number): WebhookMessage[] => {
    const out: WebhookMessage[] = [];
    for (const m of storeWebhooks(generateStore({ seed: 11, customers: 60 }).events())) {
      out.push(m);
      if (out.length >= n) break;
    }
    return out;
  };
  const sender = (extra: Partial<ConstructorParameters<typeof WebhookSender>[0]> = {}) =>
    new WebhookSender({ targetBaseUrl: base, secret: SECRET, shopDomain: SHOP, retry: { retries: 3, baseDelayMs: 5 }, ...extra });

  it("reads the app's subscriptions from shopify.app.toml", () => {
    const config = readAppWebhookConfig();
    expect(config.apiVersion).toBe("2026-07");
    const uris = (topic: string) => config.subscriptions.filter((s) => s.topics.includes(topic)).map((s) => s.uri);
    expect(uris("orders/create")).toEqual(["/webhooks/orders"]);
    expect(uris("refunds/create")).toEqual(["/webhooks/orders"]);
    expect(uris("customers/create")).toEqual(["/webhooks/customers"]);
    expect(uris("products/create")).toEqual(["/webhooks/products"]);
    expect(uris("customers/redact")).toEqual(["/webhooks/compliance"]);
    expect(config.subscriptions.find((s) => s.topics.includes("shop/redact"))?.compliance).toBe(true);
  });

  it("POSTs each message to its subscription URI with every Shopify header and a valid HMAC", async () => {
    const batch = messages(40);
    const report = await sender().send(batch);
    expect(report).toMatchObject({ messages: 40, failed: 0, unrouted: 0 });
    expect(report.delivered).toBe(report.deliveries);
    expect(received).toHaveLength(report.deliveries);
    const config = readAppWebhookConfig();
    for (const r of received) {
      const topic = String(r.headers["x-shopify-topic"]);
      expect(config.subscriptions.find((s) => s.topics.includes(topic))?.uri).toBe(r.path);
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.headers["x-shopify-hmac-sha256"]).toBe(hmacOf(r.body, SECRET)); // the project's own signing helper agrees
      expect(r.headers["x-shopify-hmac-sha256"]).toBe(signBody(r.body, SECRET));
      expect(r.headers["x-shopify-shop-domain"]).toBe(SHOP);
      expect(r.headers["x-shopify-api-version"]).toBe("2026-07");
      expect(r.headers["x-shopify-webhook-id"]).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.headers["x-shopify-event-id"]).toMatch(/^[0-9a-f-]{36}$/);
      expect(Number.isNaN(Date.parse(String(r.headers["x-shopify-triggered-at"])))).toBe(false);
    }
  });

  it("keeps ids above 2^53 exact in the raw body", async () => {
    const legacy = generateStore({ seed: 11, customers: 60 }).customer(7); // index % 40 === 7: id above 2^53
    expect(legacy.id > 2n ** 53n).toBe(true);
    await sender().send(webhooksFor({ kind: "customer.created", at: legacy.createdAt, customer: legacy }));
    expect(received.some((r) => r.body.includes(`"id":${legacy.id},`))).toBe(true);
  });

  it("sends duplicates with the same webhook id and event id", async () => {
    const report = await sender({ duplicates: 1 }).send(messages(10));
    expect(report.duplicates).toBe(report.deliveries / 2);
    const byId = new Map<string, number>();
    for (const r of received) byId.set(String(r.headers["x-shopify-webhook-id"]), (byId.get(String(r.headers["x-shopify-webhook-id"])) ?? 0) + 1);
    expect([...byId.values()].every((n) => n === 2)).toBe(true);
  });

  it("reorders deliveries within a window but delivers all of them", async () => {
    const batch = messages(60);
    await sender({ reorder: { fraction: 0.8, window: 8 }, concurrency: 1, seed: 3 }).send(batch);
    const sentOrder = received.map((r) => String(r.headers["x-shopify-event-id"]));
    const inOrder = batch.map((m) => m.eventId);
    expect(new Set(sentOrder)).toEqual(new Set(inOrder));
    expect(sentOrder).not.toEqual(inOrder);
  });

  it("retries non-2xx with backoff, keeping the webhook id, and gives up after the last retry", async () => {
    // The first delivery fails twice then succeeds; the second always fails.
    const ids: string[] = [];
    const results: { attempts: number; ok: boolean }[] = [];
    const report = await sender({
      concurrency: 1,
      onDelivery: (d) => results.push(d),
      fetch: async (url, init) => {
        const id = new Headers(init?.headers).get("x-shopify-webhook-id")!;
        if (!ids.includes(id)) {
          if (ids.length === 0) failPlan.set(id, 2);
          if (ids.length === 1) failPlan.set(id, -1);
          ids.push(id);
        }
        return fetch(url, init);
      },
    }).send(messages(3));
    expect(results[0]).toMatchObject({ attempts: 3, ok: true });
    expect(results[1]).toMatchObject({ attempts: 4, ok: false });
    expect(report.failed).toBe(1);
    expect(report.retries).toBe(2 + 3);
    const attemptsOfFirst = received.filter((r) => r.headers["x-shopify-webhook-id"] === ids[0]);
    expect(attemptsOfFirst).toHaveLength(3);
    expect(new Set(attemptsOfFirst.map((r) => r.body)).size).toBe(1);
    // exponential backoff: 5 ms then 10 ms
    expect(attemptsOfFirst[2]!.at - attemptsOfFirst[0]!.at).toBeGreaterThanOrEqual(14);
  });

  it("treats a response slower than the timeout as a failure and retries", async () => {
    delayMs = 150;
    const results: { attempts: number; ok: boolean; error?: string }[] = [];
    const report = await sender({ timeoutMs: 50, retry: { retries: 1, baseDelayMs: 1 }, onDelivery: (d) => results.push(d) }).send(messages(1));
    expect(report.failed).toBe(report.deliveries);
    expect(results[0]).toMatchObject({ attempts: 2, ok: false, error: "timeout" });
  });

  it("limits concurrency, applies delays and pauses between bursts", async () => {
    delayMs = 20;
    await sender({ concurrency: 3 }).send(messages(24));
    expect(maxInFlight).toBeLessThanOrEqual(3);
    expect(maxInFlight).toBeGreaterThan(1);

    received = [];
    delayMs = 0;
    const started = Date.now();
    await sender({ burst: { size: 5, pauseMs: 60 }, concurrency: 5 }).send(messages(15));
    const deliveries = received.length;
    const pauses = Math.ceil(deliveries / 5) - 1;
    expect(Date.now() - started).toBeGreaterThanOrEqual(pauses * 60 - 5);

    received = [];
    const t0 = Date.now();
    await sender({ delayMs: 15, concurrency: 4 }).send(messages(6));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(received.length * 15 - 5);
  });
});
