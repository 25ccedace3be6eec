// Webhook ingress: verify, persist the raw delivery durably, enqueue, answer.
// Nothing else happens before the 200; the worker applies the event.
import { getEnv } from "../env.server";
import { getPool } from "../db.server";
import { logger } from "../logger.server";
import { getShopifyApi } from "../shopify.server";
import { enqueueFailures, webhookAckSeconds, webhookDeliveries } from "../metrics.server";
import { enqueueApplyWebhook } from "../../jobs/queues";
import { isShopDomain } from "../shopify/shop-domain";

type Outcome = "accepted" | "duplicate" | "unauthorized" | "bad_request" | "too_large" | "method_not_allowed" | "unavailable";

function answer(outcome: Outcome, status: number, message?: string, headers: Record<string, string> = {}): Response {
  webhookDeliveries.inc({ outcome });
  return new Response(message ?? null, {
    status,
    headers: message ? { "content-type": "text/plain; charset=utf-8", ...headers } : headers,
  });
}

class BodyTooLarge extends Error {}

/** Reads the body as UTF-8 text, refusing to buffer more than `limit` bytes. */
async function readBodyWithin(request: Request, limit: number): Promise<string> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString("utf8");
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

export async function receiveWebhook(request: Request): Promise<Response> {
  const started = performance.now();
  if (request.method !== "POST") return answer("method_not_allowed", 405, "Method Not Allowed", { allow: "POST" });

  const limit = getEnv().WEBHOOK_MAX_BODY_BYTES;
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) return answer("too_large", 413, `Payload Too Large (limit ${limit} bytes)`);

  let rawBody: string;
  try {
    rawBody = await readBodyWithin(request, limit);
  } catch (error) {
    if (error instanceof BodyTooLarge) return answer("too_large", 413, `Payload Too Large (limit ${limit} bytes)`);
    throw error;
  }
  if (rawBody.length === 0) return answer("bad_request", 400, "Empty body");

  // The same check authenticate.webhook runs, without its offline-session load (which
  // may refresh a token over the network inside Shopify's 5 s window). See
  // docs/decisions/006-webhook-ingress.md.
  const check = await getShopifyApi().webhooks.validate({ rawBody, rawRequest: request });
  if (!check.valid) {
    if (check.reason === "invalid_hmac" || check.reason === "missing_hmac") return answer("unauthorized", 401, "Unauthorized");
    return answer("bad_request", 400, `Bad Request (${check.reason})`);
  }
  const { domain: shop, webhookId, apiVersion } = check;
  // Stored as Shopify names it (orders/create), not the library's ORDERS_CREATE.
  const topic = request.headers.get("x-shopify-topic") ?? check.topic;
  if (!isShopDomain(shop)) return answer("bad_request", 400, "Bad Request (shop domain must be *.myshopify.com)");
  if (!isJsonObject(rawBody)) return answer("bad_request", 400, "Bad Request (body is not a JSON object)");

  const eventId = request.headers.get("x-shopify-event-id");
  const triggeredAtHeader = request.headers.get("x-shopify-triggered-at");
  const triggeredAt = triggeredAtHeader && !Number.isNaN(Date.parse(triggeredAtHeader)) ? triggeredAtHeader : null;

  let inboxId: string | undefined;
  try {
    const inserted = await getPool().query<{ id: string }>(
      `INSERT INTO webhook_events (shop, webhook_id, event_id, topic, api_version, triggered_at, payload)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (shop, webhook_id) DO NOTHING
       RETURNING id`,
      [shop, webhookId, eventId, topic, apiVersion, triggeredAt, rawBody],
    );
    inboxId = inserted.rows[0]?.id;
  } catch (error) {
    logger.error({ err: error, shop, webhookId, topic }, "webhook.persist_failed");
    return answer("unavailable", 503, "Service Unavailable", { "retry-after": "5" });
  }
  if (!inboxId) {
    webhookAckSeconds.observe((performance.now() - started) / 1000);
    return answer("duplicate", 200);
  }

  try {
    await enqueueApplyWebhook(inboxId);
  } catch (error) {
    enqueueFailures.inc();
    logger.warn({ err: error, shop, webhookId, inboxId }, "webhook.enqueue_failed");
  }
  webhookAckSeconds.observe((performance.now() - started) / 1000);
  return answer("accepted", 200);
}
