// The ingress verifies deliveries with its own node:crypto check (verifyWebhook) for speed
// (docs/performance.md, docs/decisions/006). @shopify/shopify-api's webhooks.validate is the
// oracle: both get the same deliveries, valid and broken in every way the library tells
// apart, and must give the same answer.
import { createHmac } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_API_KEY, TEST_API_SECRET, TEST_APP_URL } from "../support/env";

type Comparable = { valid: boolean; reason?: string; topic?: string; domain?: string; apiVersion?: string; webhookId?: string };
const pick = (r: Comparable): Comparable =>
  r.valid ? { valid: true, topic: r.topic, domain: r.domain, apiVersion: r.apiVersion, webhookId: r.webhookId } : { valid: false, reason: r.reason };

const hmac = (body: string, secret = TEST_API_SECRET) => createHmac("sha256", secret).update(body, "utf8").digest("base64");
const body = '{"id":1,"name":"Zoë 🌿","note":"a\\u0000b"}';
const large = "{" + '"a":"x",'.repeat(20000) + '"b":1}';
const base: Record<string, string> = {
  "content-type": "application/json",
  "x-shopify-hmac-sha256": hmac(body),
  "x-shopify-topic": "orders/create",
  "x-shopify-shop-domain": "crm-test.myshopify.com",
  "x-shopify-api-version": "2026-07",
  "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
  "x-shopify-event-id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
  "x-shopify-triggered-at": "2026-01-01T00:00:00.000Z",
};
const events: Record<string, string> = {
  "content-type": "application/json",
  "shopify-hmac-sha256": hmac(body),
  "shopify-topic": "orders.create",
  "shopify-shop-domain": "crm-test.myshopify.com",
  "shopify-api-version": "2026-07",
  "shopify-webhook-id": "events-1",
};
const without = (h: Record<string, string>, name: string) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== name));
const upper = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toUpperCase(), v]));

const cases: [string, Record<string, string> | [string, string][], string, boolean][] = [
  ["valid", base, body, true],
  ["valid, header names in upper case", upper(base), body, true],
  ["wrong secret", { ...base, "x-shopify-hmac-sha256": hmac(body, "other") }, body, false],
  ["HMAC of another body", { ...base, "x-shopify-hmac-sha256": hmac(body + " ") }, body, false],
  ["HMAC in hex", { ...base, "x-shopify-hmac-sha256": createHmac("sha256", TEST_API_SECRET).update(body).digest("hex") }, body, false],
  ["HMAC without base64 padding", { ...base, "x-shopify-hmac-sha256": hmac(body).replace(/=+$/, "") }, body, false],
  ["HMAC with surrounding spaces", { ...base, "x-shopify-hmac-sha256": ` ${hmac(body)} ` }, body, true],
  ["HMAC header repeated", [...Object.entries(without(base, "x-shopify-hmac-sha256")), ["x-shopify-hmac-sha256", hmac(body)], ["x-shopify-hmac-sha256", hmac(body)]], body, false],
  ["missing HMAC", without(base, "x-shopify-hmac-sha256"), body, false],
  ["empty HMAC", { ...base, "x-shopify-hmac-sha256": "" }, body, false],
  ["missing topic", without(base, "x-shopify-topic"), body, false],
  ["missing shop domain", without(base, "x-shopify-shop-domain"), body, false],
  ["missing API version", without(base, "x-shopify-api-version"), body, false],
  ["missing webhook id", without(base, "x-shopify-webhook-id"), body, false],
  ["empty webhook id", { ...base, "x-shopify-webhook-id": "" }, body, false],
  ["events delivery", events, body, true],
  ["events delivery, wrong HMAC", { ...events, "shopify-hmac-sha256": hmac("x") }, body, false],
  ["events delivery missing its webhook id", without(events, "shopify-webhook-id"), body, false],
  ["both HMAC headers, events one wrong", { ...base, "shopify-hmac-sha256": hmac("x") }, body, false],
  ["both HMAC headers, events headers incomplete", { ...base, "shopify-hmac-sha256": hmac(body) }, body, false],
  ["topic with a dot", { ...base, "x-shopify-topic": "customer.tags_added" }, body, true],
  ["empty body", { ...base, "x-shopify-hmac-sha256": hmac("") }, "", false],
  ["large body", { ...base, "x-shopify-hmac-sha256": hmac(large) }, large, true],
];

let verifyWebhook: typeof import("../../app/services/webhook-ingress.server").verifyWebhook;
let getShopifyApi: typeof import("../../app/shopify.server").getShopifyApi;

beforeAll(async () => {
  Object.assign(process.env, {
    DATABASE_URL: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/unused",
    REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379/15",
    SHOPIFY_API_KEY: TEST_API_KEY,
    SHOPIFY_API_SECRET: TEST_API_SECRET,
    SHOPIFY_APP_URL: TEST_APP_URL,
    LOG_LEVEL: "silent",
  });
  ({ verifyWebhook } = await import("../../app/services/webhook-ingress.server"));
  ({ getShopifyApi } = await import("../../app/shopify.server"));
});

describe("verifyWebhook answers exactly as @shopify/shopify-api's webhooks.validate", () => {
  it.each(cases)("%s", async (_name, headers, rawBody, expectedValid) => {
    const request = new Request(`${TEST_APP_URL}/webhooks/orders`, { method: "POST", headers, body: rawBody || undefined });
    const library = pick((await getShopifyApi().webhooks.validate({ rawBody, rawRequest: request })) as unknown as Comparable);
    const ours = pick(verifyWebhook((h) => request.headers.get(h), rawBody, TEST_API_SECRET));
    expect(ours).toEqual(library);
    expect(ours.valid).toBe(expectedValid);
  });
});
