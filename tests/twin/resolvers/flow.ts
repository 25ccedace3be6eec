// flowTriggerReceive: the twin knows the app's Flow trigger extensions the way Shopify does
// after `shopify app deploy`, by reading extensions/*/shopify.extension.toml (type =
// "flow_trigger"), and checks a call against the declared handle and fields. Accepted calls are
// recorded on the shop (ShopState.flowTriggers) for tests to read.
//
// The userErrors follow Shopify's pattern for this mutation (field ["body"], a message starting
// "Errors validating schema:"); the exact wording is not in ../shared/shopify's captures, so
// tests check the field and that the offending handle or property is named, not the text.
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { userError, type Args, type ResolverMap, type TwinContext } from "./shared";

type DeclaredField = { type: string; key?: string };
export type DeclaredTrigger = { handle: string; name: string; fields: DeclaredField[] };

/** Shopify's documented limit on a trigger payload. */
export const FLOW_PAYLOAD_MAX_BYTES = 50_000;

import { EXTENSIONS_DIR } from "../app-proxy";

/** The Flow trigger extensions the app declares (read once). */
let declared: Map<string, DeclaredTrigger> | null = null;
export function declaredFlowTriggers(dir = EXTENSIONS_DIR): Map<string, DeclaredTrigger> {
  if (declared && dir === EXTENSIONS_DIR) return declared;
  const out = new Map<string, DeclaredTrigger>();
  for (const entry of readdirSync(dir)) {
    const file = join(dir, entry, "shopify.extension.toml");
    if (!existsSync(file)) continue;
    const toml = parse(readFileSync(file, "utf8")) as { extensions?: { type?: string; handle?: string; name?: string }[]; settings?: { fields?: DeclaredField[] } };
    for (const ext of toml.extensions ?? [])
      if (ext.type === "flow_trigger" && ext.handle) out.set(ext.handle, { handle: ext.handle, name: ext.name ?? ext.handle, fields: toml.settings?.fields ?? [] });
  }
  if (dir === EXTENSIONS_DIR) declared = out;
  return out;
}

const REFERENCE_KEYS: Record<string, string> = { customer_reference: "customer_id", order_reference: "order_id", product_reference: "product_id" };

function valueFits(type: string, value: unknown): boolean {
  switch (type) {
    case "customer_reference":
    case "order_reference":
    case "product_reference":
      return (typeof value === "number" && Number.isSafeInteger(value) && value > 0) || (typeof value === "string" && /^\d+$/.test(value));
    case "number_integer":
      return typeof value === "number" && Number.isInteger(value);
    case "number_decimal":
      return typeof value === "number" && Number.isFinite(value);
    case "boolean":
      return typeof value === "boolean";
    default:
      return typeof value === "string";
  }
}

/** Problems of a payload against a declared trigger (empty: accepted). */
export function flowPayloadProblems(trigger: DeclaredTrigger, payload: unknown): string[] {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) return ["Payload must be a JSON object"];
  const given = payload as Record<string, unknown>;
  const problems: string[] = [];
  const keys = new Set<string>();
  for (const field of trigger.fields) {
    const key = REFERENCE_KEYS[field.type] ?? field.key ?? "";
    keys.add(key);
    if (!(key in given)) problems.push(`Missing property '${key}'`);
    else if (!valueFits(field.type, given[key])) problems.push(`Property '${key}' must be of type ${field.type}`);
  }
  for (const key of Object.keys(given)) if (!keys.has(key)) problems.push(`Unknown property '${key}'`);
  return problems;
}

const schemaError = (problems: string[]) => userError(["body"], `Errors validating schema:\n${problems.map((p) => `  ${p}.\n`).join("")}`);

function flowTriggerReceive(ctx: TwinContext, a: Args) {
  const handle = typeof a.handle === "string" ? a.handle : null;
  const payload = a.payload;
  if (!handle) return { userErrors: [schemaError(["Invalid handle ''"])] };
  const trigger = ctx.shop.undeployedFlowTriggers.has(handle) ? undefined : declaredFlowTriggers().get(handle);
  if (!trigger) return { userErrors: [schemaError([`Invalid handle '${handle}'`])] };
  if (Buffer.byteLength(JSON.stringify(payload ?? null)) > FLOW_PAYLOAD_MAX_BYTES) return { userErrors: [userError(["body"], `Payload exceeds the maximum size of ${FLOW_PAYLOAD_MAX_BYTES} bytes`)] };
  const problems = flowPayloadProblems(trigger, payload);
  if (problems.length > 0) return { userErrors: [schemaError(problems)] };
  ctx.shop.flowTriggers.push({ handle, payload: payload as Record<string, unknown>, receivedAt: ctx.shop.nowIso() });
  return { userErrors: [] };
}

export const flowResolvers: ResolverMap = {
  Mutation: {
    flowTriggerReceive: (_s, a, ctx) => flowTriggerReceive(ctx, a),
  },
};
