// Helpers shared by the twin's resolvers: ids, money, connections, errors, the context.
import { GraphQLError, type GraphQLResolveInfo } from "graphql";
import type { ShopState } from "../admin-state";
import { decodeCursor, encodeCursor, paginate, PaginationError, type PageArgs } from "../search";

export type TwinContext = {
  shop: ShopState;
  /** Base URL of this twin (bulk operation result files, staged uploads). */
  baseUrl: string;
  apiVersion: string;
  appId: string;
  bulk: {
    runQuery(ctx: TwinContext, query: string, groupObjects: boolean): { bulkOperation: unknown; userErrors: unknown[] };
    runMutation(ctx: TwinContext, mutation: string, stagedUploadPath: string, clientIdentifier: string | null): { bulkOperation: unknown; userErrors: unknown[] };
  };
  /** The calling app, as its access token identifies it. */
  caller: TwinCaller;
};

/**
 * Who calls: the granted access scopes (null: every scope, the default for tokens the
 * twin was given without scopes) and the app (its key, and the secret that signs the
 * webhooks it registers; null when unknown).
 */
export type TwinCaller = { scopes: readonly string[] | null; apiKey: string | null; secret: string | null };
export const ANY_CALLER: TwinCaller = { scopes: null, apiKey: null, secret: null };

export const hasScope = (ctx: TwinContext, scope: string) => ctx.caller.scopes === null || ctx.caller.scopes.includes(scope);

export type Args = Record<string, unknown>;
export type Resolver = (source: any, args: Args, ctx: TwinContext, info: GraphQLResolveInfo) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Resolvers of one resource: { "TypeName": { field: resolver } }, merged in ./index.ts. */
export type ResolverMap = Record<string, Record<string, Resolver>>;

export const gid = (type: string, id: string | number | bigint) => `gid://shopify/${type}/${id}`;
export function parseGid(value: unknown): { type: string; id: string } | null {
  if (typeof value !== "string") return null;
  const m = /^gid:\/\/shopify\/([A-Za-z0-9_]+)\/([^/?\s]+)/.exec(value);
  return m ? { type: m[1]!, id: m[2]! } : null;
}

/** A view of a record that reports its GraphQL type (for interfaces and unions). */
export function typed<T extends object>(typename: string, record: T): T {
  const view = Object.create(record) as T & { __typename: string };
  Object.defineProperty(view, "__typename", { value: typename, enumerable: true });
  return view;
}

/** Shopify prints Decimal like Ruby's BigDecimal: "10.0", "124.48", "0.0". */
export function decimal(value: string | number): string {
  const n = typeof value === "number" ? value.toFixed(2) : value.trim();
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(n);
  if (!m) return n;
  const frac = (m[3] ?? "").replace(/0+$/, "");
  return `${m[1]}${m[2]!.replace(/^0+(?=\d)/, "")}.${frac || "0"}`;
}
export const moneyV2 = (amount: string | number, currencyCode: string) => ({ amount: decimal(amount), currencyCode });
export const moneyBag = (amount: string | number, currencyCode: string) => ({ shopMoney: moneyV2(amount, currencyCode), presentmentMoney: moneyV2(amount, currencyCode) });
export const centsOf = (amount: string) => Math.round(Number(amount) * 100);

export function userError(field: string[] | null, message: string) {
  return { field, message };
}

export class TwinExecError extends GraphQLError {
  constructor(message: string, code: string, extra: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extra } });
  }
}

export function connection<T>(page: ReturnType<typeof paginate<T>>) {
  return { edges: page.items, nodes: page.items.map((i) => i.node), pageInfo: page.pageInfo };
}

export function pageArgs(args: Args): PageArgs {
  return {
    first: (args.first as number | null | undefined) ?? null,
    last: (args.last as number | null | undefined) ?? null,
    after: (args.after as string | null | undefined) ?? null,
    before: (args.before as string | null | undefined) ?? null,
    reverse: (args.reverse as boolean | null | undefined) ?? false,
  };
}

/**
 * The same page `page(list, args, idOf)` gives for a whole collection in id order, found by a
 * binary search over the collection's sorted ids instead of building the list: a bulk
 * query pages a million orders 250 at a time. Null when the arguments need the general
 * path (search, sort key, reverse, before / last, or a first the general path must check).
 */
export function pageByIdFast<T>(ids: readonly string[], get: (id: string) => T, args: Args) {
  if (args.query || (args.sortKey && args.sortKey !== "ID") || args.reverse || args.before != null || args.last != null) return null;
  const first = args.first;
  if (typeof first !== "number" || first < 0 || first > 250) return null;
  let start = 0;
  if (args.after != null) {
    const c = decodeCursor(String(args.after));
    if (!c) return null;
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const id = ids[mid]!;
      if (id.length - c.id.length < 0 || (id.length === c.id.length && id <= c.id)) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  const to = Math.min(ids.length, start + first);
  const items = ids.slice(start, to).map((id) => ({ node: get(id), cursor: encodeCursor(id, id) }));
  return {
    edges: items,
    nodes: items.map((i) => i.node),
    pageInfo: { hasNextPage: to < ids.length, hasPreviousPage: start > 0, startCursor: items[0]?.cursor ?? null, endCursor: items[items.length - 1]?.cursor ?? null },
  };
}

export function page<T>(items: readonly T[], args: Args, idOf: (t: T) => string, sortValue: (t: T) => string | number = idOf, sortedById = true) {
  try {
    return connection(paginate(items, pageArgs(args), idOf, sortValue, sortedById));
  } catch (e) {
    if (e instanceof PaginationError) throw new TwinExecError(e.message, "BAD_REQUEST");
    throw e;
  }
}

export function count(n: number, limit: unknown) {
  if (typeof limit === "number" && n > limit) return { count: limit, precision: "AT_LEAST" };
  return { count: n, precision: "EXACT" };
}

export const cmpStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export const idResolver = (type: string) => (s: { id: string }) => gid(type, s.id);
export const legacy = (s: { id: string }) => s.id;
