// Delivers webhooks to the app the way Shopify does (PLATFORM.md 1.1-1.5): an HTTP POST
// of the raw JSON body per subscription in shopify.app.toml, with every header
// (X-Shopify-Topic, -Hmac-Sha256, -Shop-Domain, -API-Version, -Webhook-Id, -Event-Id,
// -Triggered-At, -Name), a base64 HMAC-SHA256 of the body with the app secret, a 5 s
// timeout, and retries with exponential backoff on non-2xx (Shopify: 8 retries over 4
// hours; scaled down here). Switches reproduce what the platform does to apps:
// duplicates, reordering, delays, bursts and concurrency.
import { createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseToml } from "smol-toml";
import { Rng } from "./prng";
import { toBody, type WebhookMessage } from "./webhook-payloads";

const here = dirname(fileURLToPath(import.meta.url));
export const APP_TOML_PATH = resolve(here, "../../shopify.app.toml");

export type Subscription = { topics: string[]; uri: string; name?: string; compliance: boolean; includeFields?: string[]; filter?: string };
export type AppWebhookConfig = { apiVersion: string; subscriptions: Subscription[] };

/** Reads [webhooks] of shopify.app.toml (the CLI's schema: topics / compliance_topics, uri, name, include_fields, filter). */
export function readAppWebhookConfig(path = APP_TOML_PATH): AppWebhookConfig {
  const toml = parseToml(readFileSync(path, "utf8")) as {
    webhooks?: { api_version?: string; subscriptions?: { topics?: string[]; compliance_topics?: string[]; uri: string; name?: string; include_fields?: string[]; filter?: string }[] };
  };
  const webhooks = toml.webhooks ?? {};
  if (!webhooks.api_version) throw new Error(`${path}: [webhooks] api_version is required`);
  const subscriptions: Subscription[] = [];
  for (const s of webhooks.subscriptions ?? []) {
    const uri = s.uri.replace(/\/+$/, "");
    if (s.topics?.length) subscriptions.push({ topics: s.topics, uri, name: s.name, compliance: false, includeFields: s.include_fields, filter: s.filter });
    if (s.compliance_topics?.length) subscriptions.push({ topics: s.compliance_topics, uri, name: s.name, compliance: true });
  }
  return { apiVersion: webhooks.api_version, subscriptions };
}

export type WebhookSenderOptions = {
  /** Base URL relative subscription URIs are resolved against (Shopify uses application_url). */
  targetBaseUrl: string;
  /** App client secret: the HMAC key. */
  secret: string;
  shopDomain: string;
  /** Defaults to [webhooks] api_version of the TOML. */
  apiVersion?: string;
  config?: AppWebhookConfig;
  /** Fraction of deliveries sent twice (same X-Shopify-Webhook-Id and Event-Id). */
  duplicates?: number;
  /** Fraction of deliveries moved out of order within a sliding window of `window` deliveries. */
  reorder?: { fraction: number; window: number };
  /** Delay before each delivery: fixed ms or a [min, max] range. */
  delayMs?: number | [number, number];
  /** Send `size` deliveries back to back, then pause. */
  burst?: { size: number; pauseMs: number };
  /** Deliveries in flight at once (default 4). */
  concurrency?: number;
  /** Retries after a failed attempt (non-2xx, timeout, connection error); Shopify makes 8. */
  retry?: { retries: number; baseDelayMs: number; factor?: number; maxDelayMs?: number };
  /** Total time allowed for a response (Shopify: 5 s). */
  timeoutMs?: number;
  /** Seed for the random switches (duplicates, reordering, delays). */
  seed?: number;
  fetch?: typeof fetch;
  /** Called after each delivery's final attempt. */
  onDelivery?: (d: DeliveryResult) => void;
};

export type DeliveryResult = {
  topic: string;
  url: string;
  webhookId: string;
  eventId: string;
  attempts: number;
  status: number | null;
  ok: boolean;
  duplicate: boolean;
  error?: string;
};

export type DeliveryReport = {
  messages: number;
  deliveries: number;
  delivered: number;
  failed: number;
  duplicates: number;
  retries: number;
  unrouted: number;
  byStatus: Record<string, number>;
  elapsedMs: number;
};

type Delivery = { message: WebhookMessage; subscription: Subscription; url: string; webhookId: string; body: string; duplicate: boolean };

/**
 * base64(HMAC-SHA256(secret, raw body)) (PLATFORM.md 1.2). The same computation as
 * tests/support/webhooks.ts `hmacOf`, kept here so the twin does not load the test
 * database and Redis helpers that module imports; the tests check the two agree.
 */
export function signBody(body: string | Buffer, secret: string): string {
  return createHmac("sha256", secret).update(body).digest("base64");
}

const sleep = (ms: number) => (ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : Promise.resolve());

export class WebhookSender {
  readonly config: AppWebhookConfig;
  private readonly rng: Rng;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: WebhookSenderOptions) {
    this.config = options.config ?? readAppWebhookConfig();
    this.rng = new Rng(options.seed ?? 1);
    this.fetchImpl = options.fetch ?? fetch;
  }

  get apiVersion(): string {
    return this.options.apiVersion ?? this.config.apiVersion;
  }

  /** Subscriptions that receive a topic (one delivery each). */
  subscriptionsFor(topic: string): Subscription[] {
    return this.config.subscriptions.filter((s) => s.topics.includes(topic));
  }

  urlFor(s: Subscription): string {
    return /^https?:\/\//.test(s.uri) ? s.uri : `${this.options.targetBaseUrl.replace(/\/+$/, "")}${s.uri.startsWith("/") ? "" : "/"}${s.uri}`;
  }

  headers(d: Pick<Delivery, "message" | "subscription" | "webhookId" | "body">): Record<string, string> {
    const h: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": "Shopify-Captain-Hook",
      "x-shopify-topic": d.message.topic,
      "x-shopify-hmac-sha256": signBody(d.body, this.options.secret),
      "x-shopify-shop-domain": this.options.shopDomain,
      "x-shopify-api-version": this.apiVersion,
      "x-shopify-webhook-id": d.webhookId,
      "x-shopify-event-id": d.message.eventId,
      "x-shopify-triggered-at": d.message.triggeredAt,
    };
    if (d.subscription.name) h["x-shopify-name"] = d.subscription.name;
    return h;
  }

  /** One HTTP attempt. */
  private async attempt(d: Delivery): Promise<{ status: number | null; error?: string }> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 5_000);
    try {
      const res = await this.fetchImpl(d.url, { method: "POST", headers: this.headers(d), body: d.body, signal: timeout });
      await res.arrayBuffer().catch(() => undefined);
      return { status: res.status };
    } catch (e) {
      return { status: null, error: (e as Error).name === "TimeoutError" ? "timeout" : (e as Error).message };
    }
  }

  private async deliver(d: Delivery, report: DeliveryReport): Promise<DeliveryResult> {
    const retry = this.options.retry ?? { retries: 8, baseDelayMs: 50 };
    let attempts = 0;
    let last: { status: number | null; error?: string } = { status: null };
    for (;;) {
      attempts++;
      last = await this.attempt(d);
      if (last.status !== null && last.status >= 200 && last.status < 300) break;
      if (attempts > retry.retries) break;
      report.retries++;
      const wait = Math.min(retry.maxDelayMs ?? Infinity, retry.baseDelayMs * (retry.factor ?? 2) ** (attempts - 1));
      await sleep(wait);
    }
    const ok = last.status !== null && last.status >= 200 && last.status < 300;
    const result: DeliveryResult = {
      topic: d.message.topic,
      url: d.url,
      webhookId: d.webhookId,
      eventId: d.message.eventId,
      attempts,
      status: last.status,
      ok,
      duplicate: d.duplicate,
      ...(last.error ? { error: last.error } : {}),
    };
    report.byStatus[String(last.status ?? "error")] = (report.byStatus[String(last.status ?? "error")] ?? 0) + 1;
    if (ok) report.delivered++;
    else report.failed++;
    this.options.onDelivery?.(result);
    return result;
  }

  /** Deliveries of a message: one per subscription, plus duplicates. */
  private *expand(message: WebhookMessage, report: DeliveryReport): Generator<Delivery> {
    const subs = this.subscriptionsFor(message.topic);
    if (subs.length === 0) report.unrouted++;
    for (const subscription of subs) {
      const d: Delivery = { message, subscription, url: this.urlFor(subscription), webhookId: randomUUID(), body: toBody(message.payload), duplicate: false };
      yield d;
      if (this.options.duplicates && this.rng.chance(this.options.duplicates)) {
        report.duplicates++;
        yield { ...d, duplicate: true };
      }
    }
  }

  /** Applies reordering over a sliding window. */
  private async *ordered(messages: Iterable<WebhookMessage> | AsyncIterable<WebhookMessage>, report: DeliveryReport): AsyncGenerator<Delivery> {
    const window = this.options.reorder ? Math.max(1, this.options.reorder.window) : 1;
    const fraction = this.options.reorder?.fraction ?? 0;
    const buffer: Delivery[] = [];
    const take = () => {
      const i = buffer.length > 1 && this.rng.chance(fraction) ? this.rng.int(1, buffer.length - 1) : 0;
      return buffer.splice(i, 1)[0]!;
    };
    for await (const m of messages) {
      report.messages++;
      for (const d of this.expand(m, report)) {
        buffer.push(d);
        if (buffer.length >= window) yield take();
      }
    }
    while (buffer.length > 0) yield take();
  }

  /** Sends every message to its subscriptions; resolves when all deliveries are final. */
  async send(messages: Iterable<WebhookMessage> | AsyncIterable<WebhookMessage>): Promise<DeliveryReport> {
    const started = Date.now();
    const report: DeliveryReport = { messages: 0, deliveries: 0, delivered: 0, failed: 0, duplicates: 0, retries: 0, unrouted: 0, byStatus: {}, elapsedMs: 0 };
    const concurrency = Math.max(1, this.options.concurrency ?? 4);
    const source = this.ordered(messages, report);
    let sinceBurst = 0;
    let gate: Promise<void> = Promise.resolve();
    const nextDelivery = async (): Promise<Delivery | undefined> => {
      // Serialise pulls so bursts and delays apply in send order.
      const pull = gate.then(async () => {
        const n = await source.next();
        if (n.done) return undefined;
        const { burst, delayMs } = this.options;
        if (burst && ++sinceBurst > burst.size) {
          sinceBurst = 1;
          await sleep(burst.pauseMs);
        }
        if (delayMs !== undefined) await sleep(Array.isArray(delayMs) ? this.rng.int(delayMs[0], delayMs[1]) : delayMs);
        return n.value;
      });
      gate = pull.then(() => undefined);
      return pull;
    };
    const worker = async () => {
      for (;;) {
        const d = await nextDelivery();
        if (!d) return;
        report.deliveries++;
        await this.deliver(d, report);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    report.elapsedMs = Date.now() - started;
    return report;
  }
}
