// Validates webhook payloads against Shopify's own JSON schemas for a topic and API
// version (npm `shopify-webhook-schemas`, draft 2020-12) with ajv.
import { createRequire } from "node:module";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { parse } from "lossless-json";

const require = createRequire(import.meta.url);
const { schemaForWebhook } = require("shopify-webhook-schemas") as { schemaForWebhook(version: string, topic: string): object };
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));
const cache = new Map<string, ValidateFunction>();

const ORDER_TOPICS = new Set(["orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled", "orders/partially_fulfilled", "orders/edited"]);

/**
 * The package infers each schema from one example payload, so a few keys are stricter
 * than Shopify itself. Relaxed here, each for a documented reason:
 * - order `customer` may be null: guest and POS orders (PLATFORM.md 2.1, [V]);
 * - order `refunds[]` items are refund objects "the same as refunds/create" (PLATFORM.md 2.1);
 *   the example had an empty array, which the inference turned into `items: false`.
 */
export function schemaFor(topic: string, version = "2026-07"): Record<string, unknown> {
  const schema = structuredClone(schemaForWebhook(version, topic)) as { properties: Record<string, Record<string, unknown>> };
  if (ORDER_TOPICS.has(topic)) {
    const customer = schema.properties.customer;
    if (customer) customer.type = ["object", "null"];
    const refunds = schema.properties.refunds;
    if (refunds) refunds.items = schemaForWebhook(version, "refunds/create");
  }
  return schema;
}

export function payloadValidator(topic: string, version = "2026-07"): ValidateFunction {
  const key = `${version}:${topic}`;
  let v = cache.get(key);
  if (!v) {
    v = ajv.compile(schemaFor(topic, version));
    cache.set(key, v);
  }
  return v;
}

/** Validates the raw JSON body (ids are read losslessly, then checked as numbers). */
export function payloadErrors(topic: string, body: string, version = "2026-07"): string[] {
  const value = parse(body, undefined, (n) => Number(n));
  const validate = payloadValidator(topic, version);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}${e.params && "missingProperty" in e.params ? ` (${String(e.params.missingProperty)})` : ""}`);
}
