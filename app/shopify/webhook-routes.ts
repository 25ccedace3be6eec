// Which webhook topics arrive on which route: the subscriptions of shopify.app.toml,
// one entry per `uri`. The topic header is not covered by the HMAC (it signs the body
// only), so a delivery whose topic is not subscribed on the route it arrived on did not
// come from that subscription: the ingress records it as ignored (docs/decisions/027).
// tests/contract/webhook-routes.test.ts keeps this table equal to shopify.app.toml.

export const WEBHOOK_ROUTE_TOPICS: Readonly<Record<string, readonly string[]>> = {
  "/webhooks/orders": ["orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled", "refunds/create"],
  "/webhooks/customers": [
    "customers/create",
    "customers/update",
    "customers/delete",
    "customer.tags_added",
    "customer.tags_removed",
    "customers_email_marketing_consent/update",
    "customers_marketing_consent/update",
  ],
  "/webhooks/checkouts": ["checkouts/create", "checkouts/update"],
  "/webhooks/products": ["products/create", "products/update", "products/delete"],
  "/webhooks/app": ["app/uninstalled", "app/scopes_update", "bulk_operations/finish", "shop/update"],
  "/webhooks/compliance": ["customers/data_request", "customers/redact", "shop/redact"],
};

/** A request path as a route key: no query, lower case, no trailing slash (as Remix matches it). */
export function webhookRouteOf(path: string): string {
  const query = path.search(/[?#]/);
  let route = (query < 0 ? path : path.slice(0, query)).toLowerCase();
  while (route.length > 1 && route.endsWith("/")) route = route.slice(0, -1);
  return route;
}

/** The route a topic is subscribed on, or null for a topic the app does not subscribe to. */
export function routeForTopic(topic: string): string | null {
  for (const [route, topics] of Object.entries(WEBHOOK_ROUTE_TOPICS)) if (topics.includes(topic)) return route;
  return null;
}

/** Why a topic cannot have arrived on this path from a subscription, or null when it can. */
export function routeTopicProblem({ path, topic }: { path: string; topic: string }): string | null {
  const route = webhookRouteOf(path);
  const topics = Object.hasOwn(WEBHOOK_ROUTE_TOPICS, route) ? WEBHOOK_ROUTE_TOPICS[route]! : [];
  if (topics.includes(topic)) return null;
  const shown = JSON.stringify(topic.length > 100 ? `${topic.slice(0, 100)}…` : topic);
  const home = routeForTopic(topic);
  if (home === null) return `unknown topic ${shown}: not subscribed in shopify.app.toml (arrived on ${route})`;
  return `topic ${shown} is subscribed on ${home}, not on ${route}: the topic header does not match the route`;
}
