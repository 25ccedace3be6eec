// Replaying captured Shopify exchanges against the twin (in process, through the same
// AdminTwin.executeRequest pipeline the HTTP endpoint uses).
import { Kind, parse, print, visit, type DocumentNode, type OperationDefinitionNode } from "graphql";
import { AdminTwin } from "../twin/admin-graphql";
import { parseGid } from "../twin/resolvers";
import type { Customer, ShopState } from "../twin/admin-state";
import { diff, type Exchange, type Json } from "./conformance";

export const REPLAY_SHOP = "replay.myshopify.com";

export function replayTwin(nowIso = "2026-07-01T00:00:00Z"): AdminTwin {
  const at = Date.parse(nowIso);
  return new AdminTwin({ defaultShop: REPLAY_SHOP, now: () => at, requestLog: null, bulkDelayMs: 60_000 });
}

/**
 * Keeps only the root fields the twin implements (and the variables they use), so a
 * captured document that mixes operations can still be replayed for the parts the twin
 * covers. Returns null when nothing is left.
 */
export function projectDocument(twin: AdminTwin, query: string): { query: string; roots: string[]; projected: boolean } | null {
  let doc: DocumentNode;
  try {
    doc = parse(query);
  } catch {
    return null;
  }
  const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (!op) return null;
  const root = op.operation === "mutation" ? twin.schema.getMutationType()! : twin.schema.getQueryType()!;
  const kept = op.selectionSet.selections.filter((s) => s.kind === Kind.FIELD && !!root.getFields()[s.name.value]);
  if (kept.length === 0) return null;
  const projected = kept.length !== op.selectionSet.selections.length;
  const used = new Set<string>();
  const keptOp: OperationDefinitionNode = { ...op, selectionSet: { ...op.selectionSet, selections: kept } };
  visit(keptOp.selectionSet, { Variable: (v) => void used.add(v.name.value) });
  const fragments = doc.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
  for (const f of fragments) visit(f, { Variable: (v) => void used.add(v.name.value) });
  const finalOp: OperationDefinitionNode = projected
    ? { ...keptOp, variableDefinitions: (op.variableDefinitions ?? []).filter((v) => used.has(v.variable.name.value)) }
    : op;
  const finalDoc: DocumentNode = { ...doc, definitions: [finalOp, ...fragments] };
  return {
    query: projected ? print(finalDoc) : query,
    roots: kept.map((s) => (s.kind === Kind.FIELD ? (s.alias?.value ?? s.name.value) : "")),
    projected,
  };
}

/** Every gid in a JSON value. */
export function gidsIn(value: unknown, out: { type: string; id: string }[] = []): { type: string; id: string }[] {
  if (typeof value === "string") {
    const g = parseGid(value);
    if (g) out.push(g);
  } else if (Array.isArray(value)) value.forEach((v) => gidsIn(v, out));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => gidsIn(v, out));
  return out;
}

/** Puts a customer with Shopify's defaults for a new record (overridden by `fields`) into the shop. */
export function seedCustomer(shop: ShopState, id: string, fields: Partial<Customer>): Customer {
  const c: Customer = {
    id,
    firstName: null,
    lastName: null,
    email: null,
    phone: null,
    note: null,
    tags: [],
    state: "DISABLED",
    verifiedEmail: true,
    taxExempt: false,
    taxExemptions: [],
    locale: "en",
    multipassIdentifier: null,
    createdAt: shop.nowIso(),
    updatedAt: shop.nowIso(),
    emailMarketing: { state: "NOT_SUBSCRIBED", optInLevel: "SINGLE_OPT_IN", updatedAt: null },
    smsMarketing: { state: "NOT_SUBSCRIBED", optInLevel: "SINGLE_OPT_IN", updatedAt: null },
    addresses: [],
    defaultAddressId: null,
    ...fields,
  };
  shop.putCustomer(c);
  return c;
}

/** Makes referenced resources exist, except those the capture reports as invalid. */
export function seedReferences(shop: ShopState, variables: unknown, invalidIds: ReadonlySet<string>) {
  for (const g of gidsIn(variables)) {
    if (invalidIds.has(g.id)) continue;
    if (g.type === "Customer" && !shop.customers.has(g.id))
      seedCustomer(shop, g.id, {
        firstName: "Replay",
        lastName: "Customer",
        email: `replay-${g.id}@example.com`,
        smsMarketing: { state: "NOT_SUBSCRIBED", optInLevel: null, updatedAt: null },
      });
    else if (g.type === "Product" && !shop.products.has(g.id))
      shop.putProduct({
        id: g.id,
        title: `Replay product ${g.id}`,
        handle: `replay-${g.id}`,
        productType: "",
        vendor: "replay",
        status: "ACTIVE",
        tags: [],
        createdAt: shop.nowIso(),
        updatedAt: shop.nowIso(),
        publishedAt: null,
        variants: [],
      });
    else if (g.type === "ProductVariant" || g.type === "Collection" || g.type === "Segment") shop.addReference(g.type, g.id);
  }
}

/** Numeric ids a capture's errors call invalid ("Product with id: 999 is invalid"). */
export function invalidIdsIn(response: Json): Set<string> {
  const text = JSON.stringify(response);
  return new Set([...text.matchAll(/with id: (\d+) is invalid/g)].map((m) => m[1]!));
}

export type ReplayOutcome = { ok: boolean; differences: string[] };

/**
 * Compares the twin's answer to the captured one for the aliases the replay covered:
 * top-level errors (message, extensions, path), userErrors, and the returned objects
 * (ids compared by type, timestamps ignored).
 */
export function compareReplay(exchange: Exchange, roots: string[], actual: Json, options: { compareData?: boolean } = {}): ReplayOutcome {
  const expected = exchange.response;
  const differences: string[] = [];
  const expErrors = ((expected.errors ?? []) as Json[]).filter((e) => !e.path || roots.includes(String(e.path[0])) || String(e.path[0]).startsWith("mutation") || String(e.path[0]).startsWith("query"));
  const actErrors = (actual.errors ?? []) as Json[];
  const shape = (e: Json) => ({ message: e.message, path: e.path, extensions: e.extensions });
  differences.push(...diff(expErrors.map(shape), actErrors.map(shape), "$.errors"));
  if (expected.data && options.compareData !== false) {
    for (const root of roots) {
      if (!(root in expected.data)) continue;
      differences.push(...diff(expected.data[root], actual.data?.[root], `$.data.${root}`));
    }
  }
  return { ok: differences.length === 0, differences };
}
