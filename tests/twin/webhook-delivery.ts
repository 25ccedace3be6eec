// The twin's own webhooks (bulk_operations/finish when a bulk operation ends, and any
// message a test or the standalone twin hands to `twin.webhooks.send`) delivered like
// Shopify delivers them, through WebhookSender (real headers, HMAC of the raw body with
// the app's secret, retries):
// - to the subscriptions apps registered with webhookSubscriptionCreate (custom apps),
//   signed with the registering app's secret, X-Shopify-API-Version = the version it
//   registered with;
// - when `tomlSubscriptions` is on, also to the shopify.app.toml subscriptions of every
//   app (with an app URL) the shop has installed through the twin's auth (token issued).
import type { ShopState } from "./admin-state";
import type { TwinAuth } from "./auth";
import type { WebhookMessage } from "./webhook-payloads";
import { readAppWebhookConfig, WebhookSender, type AppWebhookConfig, type DeliveryResult, type WebhookSenderOptions } from "./webhook-sender";
import { topicName } from "./webhook-topics";

export type TwinWebhookOptions = {
  /** Also deliver to the toml subscriptions of installed apps (default false). */
  tomlSubscriptions?: boolean;
  /** Retries per delivery (default: 5 attempts after the first, 100 ms doubling). */
  retry?: WebhookSenderOptions["retry"];
  /** Called after each delivery's final attempt. */
  onDelivery?: (d: DeliveryResult & { shop: string }) => void;
};

export class TwinWebhookDelivery {
  /** Every delivery made, in completion order (tests read it). */
  readonly deliveries: (DeliveryResult & { shop: string })[] = [];
  private readonly pending = new Set<Promise<unknown>>();
  private tomlConfig: AppWebhookConfig | undefined;

  constructor(
    private readonly auth: TwinAuth,
    private readonly options: TwinWebhookOptions = {},
  ) {}

  /** Sends messages from a shop to every subscription of their topics; resolves when all deliveries are final. */
  send(shop: ShopState, messages: readonly WebhookMessage[]): Promise<DeliveryResult[]> {
    const work = this.deliverAll(shop, messages);
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
    return work;
  }

  /** Resolves when every delivery started so far has finished. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private async deliverAll(shop: ShopState, messages: readonly WebhookMessage[]): Promise<DeliveryResult[]> {
    const results: DeliveryResult[] = [];
    const onDelivery = (d: DeliveryResult) => {
      results.push(d);
      const entry = { ...d, shop: shop.domain };
      this.deliveries.push(entry);
      this.options.onDelivery?.(entry);
    };
    const common = { shopDomain: shop.domain, retry: this.options.retry ?? { retries: 5, baseDelayMs: 100 }, concurrency: 4, onDelivery };
    const runs: Promise<unknown>[] = [];
    for (const w of shop.webhookSubscriptions.values()) {
      const topic = topicName(w.topic);
      const mine = messages.filter((m) => m.topic === topic);
      if (mine.length === 0 || !w.secret) continue;
      const config: AppWebhookConfig = { apiVersion: w.apiVersion, subscriptions: [{ topics: [topic!], uri: w.uri, name: w.name ?? undefined, compliance: false }] };
      runs.push(new WebhookSender({ ...common, targetBaseUrl: w.uri, secret: w.secret, config }).send(mine));
    }
    if (this.options.tomlSubscriptions) {
      this.tomlConfig ??= readAppWebhookConfig();
      const apps = new Set(this.auth.issuedTokens(shop.domain).map((t) => t.apiKey));
      for (const apiKey of apps) {
        const app = this.auth.app(apiKey);
        if (!app?.appUrl) continue;
        const routed = messages.filter((m) => this.tomlConfig!.subscriptions.some((s) => s.topics.includes(m.topic)));
        if (routed.length) runs.push(new WebhookSender({ ...common, targetBaseUrl: app.appUrl, secret: app.apiSecret, config: this.tomlConfig }).send(routed));
      }
    }
    await Promise.all(runs);
    return results;
  }
}
