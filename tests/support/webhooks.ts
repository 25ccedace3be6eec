// Builds webhook deliveries exactly as Shopify sends them: raw JSON body, real
// base64 HMAC-SHA256 with the app secret, and every header.
import { createHmac, randomUUID } from "node:crypto";
import { routeForTopic } from "../../app/shopify/webhook-routes";
import { TEST_API_SECRET, TEST_APP_URL } from "./env";

export const TEST_SHOP = "crm-test.myshopify.com";

export type Delivery = {
  topic: string;
  body: string;
  shop?: string;
  webhookId?: string;
  eventId?: string;
  triggeredAt?: string;
  apiVersion?: string;
  secret?: string;
  headers?: Record<string, string | null>;
  path?: string;
};

export function hmacOf(body: string | Buffer, secret = TEST_API_SECRET): string {
  return createHmac("sha256", secret).update(body).digest("base64");
}

export function deliveryHeaders(d: Delivery): Record<string, string> {
  const headers: Record<string, string | null> = {
    "content-type": "application/json",
    "x-shopify-topic": d.topic,
    "x-shopify-hmac-sha256": hmacOf(d.body, d.secret),
    "x-shopify-shop-domain": d.shop ?? TEST_SHOP,
    "x-shopify-api-version": d.apiVersion ?? "2026-07",
    "x-shopify-webhook-id": d.webhookId ?? randomUUID(),
    "x-shopify-event-id": d.eventId ?? randomUUID(),
    "x-shopify-triggered-at": d.triggeredAt ?? new Date().toISOString(),
    ...d.headers,
  };
  return Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => e[1] !== null));
}

export function webhookRequest(d: Delivery, method = "POST"): Request {
  // The route shopify.app.toml subscribes the topic on (a topic the app does not subscribe to: /webhooks/orders).
  const path = d.path ?? routeForTopic(d.topic) ?? "/webhooks/orders";
  return new Request(`${TEST_APP_URL}${path}`, {
    method,
    headers: deliveryHeaders(d),
    body: method === "GET" || method === "HEAD" ? undefined : d.body,
  });
}
