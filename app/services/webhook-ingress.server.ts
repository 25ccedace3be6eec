// Webhook ingress: verify, persist the raw delivery durably, enqueue, answer.
// Nothing else happens before the 200; the worker applies the event.
// Transport-agnostic core (handleDelivery) with two adapters: receiveWebhook for a Fetch
// Request (the Remix routes, tests) and the HTTP server's direct path for node requests
// (app/http-server.ts), which answer identically. See docs/performance.md for why.
import { createHmac, timingSafeEqual } from "node:crypto";
import { getEnv } from "../env.server";
import { getIngressPool } from "../db.server";
import { logger } from "../logger.server";
import { enqueueFailures, webhookAckSeconds, webhookDeliveries } from "../metrics.server";
import { ENQUEUE_TIMEOUT_MS, enqueueApplyWebhooks } from "../queues.server";
import { isShopDomain } from "../shopify/shop-domain";
import { isDeliveryId, parseTriggeredAt } from "../shopify/webhook-headers";
import { deliveryMismatch, recordIgnoredDelivery } from "./webhook-delivery-checks.server";

type Outcome = "accepted" | "ignored" | "duplicate" | "unauthorized" | "bad_request" | "too_large" | "method_not_allowed" | "unavailable";

/** What the ingress needs from an HTTP request, whatever the server. */
export type DeliveryRequest = {
  method: string;
  /** The request path (the route it arrived on), e.g. /webhooks/orders; a query string is ignored. */
  path: string;
  /** A request header by lower-case name, or null; repeated headers joined with ", " (as Fetch Headers do). */
  header(name: string): string | null;
  /** The body as UTF-8 text; throws BodyTooLarge as soon as more than `limit` bytes arrive. */
  readBody(limit: number): Promise<string>;
};

export type DeliveryAnswer = { status: number; headers: Record<string, string>; body: string | null };

export class BodyTooLarge extends Error {}

function answer(outcome: Outcome, status: number, message?: string, headers: Record<string, string> = {}): DeliveryAnswer {
  webhookDeliveries.inc({ outcome });
  return { status, body: message ?? null, headers: message ? { "content-type": "text/plain; charset=utf-8", ...headers } : headers };
}

/** Reads a Fetch body as UTF-8 text, refusing to buffer more than `limit` bytes. */
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

/** The body parsed, when it is a JSON object; undefined otherwise. */
function parseJsonObject(text: string): object | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

// Header names as @shopify/shopify-api knows them: classic webhooks, and the newer
// "events" deliveries (recognised by their shopify-hmac-sha256 header).
const WEBHOOK_HEADERS = {
  hmac: "x-shopify-hmac-sha256",
  topic: "x-shopify-topic",
  domain: "x-shopify-shop-domain",
  apiVersion: "x-shopify-api-version",
  webhookId: "x-shopify-webhook-id",
};
const EVENTS_HEADERS = {
  hmac: "shopify-hmac-sha256",
  topic: "shopify-topic",
  domain: "shopify-shop-domain",
  apiVersion: "shopify-api-version",
  webhookId: "shopify-webhook-id",
};

export type WebhookCheck =
  | { valid: true; topic: string; domain: string; apiVersion: string; webhookId: string }
  | { valid: false; reason: "missing_body" | "missing_hmac" | "invalid_hmac" | "missing_headers" };

/**
 * The check `webhooks.validate` of @shopify/shopify-api makes (the one authenticate.webhook
 * runs), step for step and with the same reasons: delivery type from the headers, HMAC
 * header present, base64 HMAC-SHA256 of the UTF-8 body with the app secret compared in
 * constant time, then the required headers. Done with node:crypto in microseconds instead
 * of the library's header canonicalisation and WebCrypto round trip (a third of the
 * server's CPU per delivery; docs/performance.md). tests/bench/check-verifier.ts compares
 * the two on valid and invalid deliveries.
 */
export function verifyWebhook(header: (name: string) => string | null, rawBody: string, secret: string): WebhookCheck {
  if (rawBody.length === 0) return { valid: false, reason: "missing_body" };
  const names = header(EVENTS_HEADERS.hmac) ? EVENTS_HEADERS : WEBHOOK_HEADERS;
  const hmac = header(names.hmac);
  if (!hmac) return { valid: false, reason: "missing_hmac" };
  const expected = Buffer.from(createHmac("sha256", secret).update(rawBody, "utf8").digest("base64"));
  const given = Buffer.from(hmac);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { valid: false, reason: "invalid_hmac" };
  const topic = header(names.topic);
  const domain = header(names.domain);
  const apiVersion = header(names.apiVersion);
  const webhookId = header(names.webhookId);
  if (!topic || !domain || !apiVersion || !webhookId) return { valid: false, reason: "missing_headers" };
  // The library reports the topic in its storage form (ORDERS_CREATE).
  return { valid: true, topic: topic.toUpperCase().replace(/\/|\./g, "_"), domain, apiVersion, webhookId };
}

type InboxRow = {
  shop: string;
  webhookId: string;
  eventId: string | null;
  topic: string;
  apiVersion: string;
  triggeredAt: string | null;
  payload: string;
};
/** inboxId: the new row (undefined for a duplicate); enqueueError: the row is stored but not queued. */
type Stored = { inboxId: string | undefined; enqueueError?: unknown };
type Waiting = { row: InboxRow; resolve: (stored: Stored) => void; reject: (error: unknown) => void };

const INSERT_ONE = `INSERT INTO webhook_events (shop, webhook_id, event_id, topic, api_version, triggered_at, payload)
  VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (shop, webhook_id) DO NOTHING
  RETURNING id`;

const COLUMNS = 7;

/** INSERT ... VALUES (...), (...) for n rows: plain text parameters, no array encoding (built once per n). */
const insertManyTexts = new Map<number, string>();
function insertManySql(n: number): string {
  let text = insertManyTexts.get(n);
  if (text === undefined) {
    text = buildInsertManySql(n);
    insertManyTexts.set(n, text);
  }
  return text;
}

function buildInsertManySql(n: number): string {
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = i * COLUMNS;
    rows.push(`($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}, $${p + 6}, $${p + 7})`);
  }
  return `INSERT INTO webhook_events (shop, webhook_id, event_id, topic, api_version, triggered_at, payload)
  VALUES ${rows.join(", ")}
  ON CONFLICT (shop, webhook_id) DO NOTHING
  RETURNING id, shop, webhook_id`;
}

/**
 * Group commit for the inbox. Deliveries that arrive while earlier inserts are in flight
 * are written together: one multi-row INSERT (one transaction, one WAL flush) and one
 * BullMQ addBulk for the batch, instead of one commit and one Redis round trip each.
 * Each delivery still gets its 200 only after its own row is committed (and its job
 * added, or the enqueue failure recorded); an idle server writes a lone delivery at
 * once. Duplicates within a batch: the first one inserts, the others are duplicates,
 * as with separate INSERTs. If a batch fails, its rows are retried one by one, so one
 * bad row fails only its own delivery (503), exactly as without batching.
 */
class InboxWriter {
  private waiting: Waiting[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly maxInFlight: number,
    private readonly maxRows: number,
    private readonly maxBytes: number,
  ) {}

  submit(row: InboxRow): Promise<Stored> {
    return new Promise<Stored>((resolve, reject) => {
      this.waiting.push({ row, resolve, reject });
      this.schedule();
    });
  }

  private schedule() {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.waiting.length === 0) return;
    this.scheduled = true;
    // Deliveries read in the same turn of the event loop join one batch.
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
        let bytes = 0;
        let count = 0;
        while (count < this.waiting.length && count < this.maxRows && (count === 0 || bytes + this.waiting[count]!.row.payload.length <= this.maxBytes)) {
          bytes += this.waiting[count]!.row.payload.length;
          count += 1;
        }
        const batch = this.waiting.splice(0, count);
        this.inFlight += 1;
        void this.write(batch).finally(() => {
          this.inFlight -= 1;
          this.schedule();
        });
      }
    });
  }

  /** Inserts the batch (holding an in-flight slot), then enqueues it and answers its deliveries. */
  private async write(batch: Waiting[]): Promise<void> {
    let ids: (string | undefined)[];
    try {
      ids = batch.length === 1 ? [await insertOne(batch[0]!.row)] : await insertMany(batch.map((w) => w.row));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // Retry one by one: each delivery gets the outcome it would have had alone.
      await Promise.all(batch.map((w) => this.write([w])));
      return;
    }
    // The next batch may insert while this one is being enqueued.
    void this.enqueue(batch, ids);
  }

  private async enqueue(batch: Waiting[], ids: (string | undefined)[]): Promise<void> {
    const created = ids.filter((id): id is string => id !== undefined);
    let enqueueError: unknown;
    if (created.length > 0) {
      try {
        // Bounded: a Redis outage must not hold the acknowledgement (the sweeper re-enqueues).
        await enqueueApplyWebhooks(created.map((inboxId) => ({ inboxId, replays: 0 })), { timeoutMs: ENQUEUE_TIMEOUT_MS });
      } catch (error) {
        enqueueError = error ?? new Error("enqueue failed");
      }
    }
    batch.forEach((w, i) => w.resolve(ids[i] === undefined ? { inboxId: undefined } : { inboxId: ids[i], enqueueError }));
  }
}

// Prepared (named) statements: each pooled connection parses and plans an inbox insert of a
// given size once, instead of on every delivery (an unnamed statement is parsed each time).
async function insertOne(r: InboxRow): Promise<string | undefined> {
  const { rows } = await getIngressPool().query<{ id: string }>({ name: "crm-inbox-insert-1", text: INSERT_ONE, values: [r.shop, r.webhookId, r.eventId, r.topic, r.apiVersion, r.triggeredAt, r.payload] });
  return rows[0]?.id;
}

/** One INSERT for the batch; returns each delivery's new id, or undefined for a duplicate. */
async function insertMany(batch: InboxRow[]): Promise<(string | undefined)[]> {
  // Within a batch only the first delivery of a (shop, webhook id) may insert.
  const keyOf = (shop: string, webhookId: string) => `${shop}\n${webhookId}`;
  const first = new Map<string, number>();
  const unique: InboxRow[] = [];
  batch.forEach((r, i) => {
    const key = keyOf(r.shop, r.webhookId);
    if (!first.has(key)) {
      first.set(key, i);
      unique.push(r);
    }
  });
  const params: (string | null)[] = [];
  for (const r of unique) params.push(r.shop, r.webhookId, r.eventId, r.topic, r.apiVersion, r.triggeredAt, r.payload);
  const { rows } = await getIngressPool().query<{ id: string; shop: string; webhook_id: string }>({ name: `crm-inbox-insert-${unique.length}-returning-keys`, text: insertManySql(unique.length), values: params });
  const idByKey = new Map(rows.map((row) => [keyOf(row.shop, row.webhook_id), row.id]));
  return batch.map((r, i) => {
    const key = keyOf(r.shop, r.webhookId);
    return first.get(key) === i ? idByKey.get(key) : undefined;
  });
}

// One inbox batch in flight per connection of the ingress's own pool (getIngressPool:
// DATABASE_INGRESS_POOL_SIZE, default 4; /healthz, the admin and the worker use the main
// pool), 200 rows or 8 MB per batch.
let inboxWriter: InboxWriter | undefined;
const inbox = {
  submit(row: InboxRow): Promise<Stored> {
    inboxWriter ??= new InboxWriter(getEnv().DATABASE_INGRESS_POOL_SIZE, 200, 8 * 1024 * 1024);
    return inboxWriter.submit(row);
  },
};

/** Stores an authentic delivery whose headers do not match its route or body as ignored, and answers 200. */
async function ignoreDelivery(row: InboxRow, reason: string, started: number): Promise<DeliveryAnswer> {
  let inboxId: string | undefined;
  try {
    inboxId = await recordIgnoredDelivery(row, reason);
  } catch (error) {
    logger.error({ err: error, shop: row.shop, webhookId: row.webhookId, topic: row.topic }, "webhook.persist_failed");
    return answer("unavailable", 503, "Service Unavailable", { "retry-after": "5" });
  }
  webhookAckSeconds.observe((performance.now() - started) / 1000);
  if (!inboxId) return answer("duplicate", 200);
  logger.warn({ shop: row.shop, webhookId: row.webhookId, topic: row.topic, inboxId, reason }, "webhook.ignored");
  return answer("ignored", 200);
}

/** handleDelivery for a Fetch API Request (the integration tests deliver through it; production goes through app/http-server.ts). */
export async function receiveWebhook(request: Request): Promise<Response> {
  const result = await handleDelivery({
    method: request.method,
    path: new URL(request.url).pathname,
    header: (name) => request.headers.get(name),
    readBody: (limit) => readBodyWithin(request, limit),
  });
  return new Response(result.body, { status: result.status, headers: result.headers });
}

export async function handleDelivery(request: DeliveryRequest): Promise<DeliveryAnswer> {
  const started = performance.now();
  if (request.method !== "POST") return answer("method_not_allowed", 405, "Method Not Allowed", { allow: "POST" });

  const env = getEnv();
  const limit = env.WEBHOOK_MAX_BODY_BYTES;
  const declared = Number(request.header("content-length") ?? "0");
  if (declared > limit) return answer("too_large", 413, `Payload Too Large (limit ${limit} bytes)`);

  let rawBody: string;
  try {
    rawBody = await request.readBody(limit);
  } catch (error) {
    if (error instanceof BodyTooLarge) return answer("too_large", 413, `Payload Too Large (limit ${limit} bytes)`);
    throw error;
  }
  if (rawBody.length === 0) return answer("bad_request", 400, "Empty body");

  // The same check authenticate.webhook runs, without its offline-session load (which
  // may refresh a token over the network inside Shopify's 5 s window). See
  // docs/decisions/006-webhook-ingress.md.
  const check = verifyWebhook(request.header, rawBody, env.SHOPIFY_API_SECRET);
  if (!check.valid) {
    if (check.reason === "invalid_hmac" || check.reason === "missing_hmac") return answer("unauthorized", 401, "Unauthorized");
    return answer("bad_request", 400, `Bad Request (${check.reason})`);
  }
  const { domain: shop, webhookId, apiVersion } = check;
  // Stored as Shopify names it (orders/create), not the library's ORDERS_CREATE.
  const topic = request.header("x-shopify-topic") ?? check.topic;
  if (!isShopDomain(shop)) return answer("bad_request", 400, "Bad Request (shop domain must be *.myshopify.com)");
  if (!isDeliveryId(webhookId)) return answer("bad_request", 400, "Bad Request (malformed webhook id)");
  const payload = parseJsonObject(rawBody);
  if (!payload) return answer("bad_request", 400, "Bad Request (body is not a JSON object)");

  // The optional headers, unsigned like the others: kept only when well formed.
  const eventIdHeader = request.header("x-shopify-event-id");
  const eventId = isDeliveryId(eventIdHeader) ? eventIdHeader : null;
  const triggeredAt = parseTriggeredAt(request.header("x-shopify-triggered-at"), new Date());

  // The headers the HMAC does not cover must agree with the route and the signed body
  // (docs/decisions/027): otherwise 200 (no retry), kept as ignored, nothing applied.
  const mismatch = deliveryMismatch({ path: request.path, topic, shop, payload });
  if (mismatch !== null) return ignoreDelivery({ shop, webhookId, eventId, topic, apiVersion, triggeredAt, payload: rawBody }, mismatch, started);

  let stored: Stored;
  try {
    stored = await inbox.submit({ shop, webhookId, eventId, topic, apiVersion, triggeredAt, payload: rawBody });
  } catch (error) {
    logger.error({ err: error, shop, webhookId, topic }, "webhook.persist_failed");
    return answer("unavailable", 503, "Service Unavailable", { "retry-after": "5" });
  }
  if (!stored.inboxId) {
    webhookAckSeconds.observe((performance.now() - started) / 1000);
    return answer("duplicate", 200);
  }
  if (stored.enqueueError !== undefined) {
    enqueueFailures.inc();
    logger.warn({ err: stored.enqueueError, shop, webhookId, inboxId: stored.inboxId }, "webhook.enqueue_failed");
  }
  webhookAckSeconds.observe((performance.now() - started) / 1000);
  return answer("accepted", 200);
}
