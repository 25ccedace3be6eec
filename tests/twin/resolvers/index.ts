// The twin's Admin GraphQL resolvers, one module per resource, merged into one dispatch
// table keyed by "Type.field"; anything not listed reads the property of the same name.
//
// Behaviour is taken from ../shared/shopify/conformance wherever a capture shows it
// (the capture is named next to the rule); elsewhere from PLATFORM.md.
import type { GraphQLResolveInfo } from "graphql";
import { bulkResolvers } from "./bulk";
import { customerResolvers } from "./customers";
import { discountResolvers } from "./discounts";
import { flowResolvers } from "./flow";
import { metafieldResolverMap } from "./metafields";
import { nodeResolvers } from "./nodes";
import { orderResolvers } from "./orders";
import { productResolvers } from "./products";
import type { Args, Resolver, ResolverMap, TwinContext } from "./shared";
import { shopResolvers } from "./shop";
import { tagResolvers } from "./tags";
import { webhookResolvers } from "./webhooks";

export { gid, parseGid, typed, decimal, userError, TwinExecError, type TwinContext, type ResolverMap } from "./shared";
export { searchCustomers } from "./customers";
export { searchOrders } from "./orders";
export { searchProducts } from "./products";
export { METAFIELD_TYPES, METAFIELD_TYPE_MESSAGE, STANDARD_DEFINITION_TEMPLATES } from "./metafields";

function merge(maps: ResolverMap[]): ResolverMap {
  const out: ResolverMap = {};
  for (const map of maps)
    for (const [type, fields] of Object.entries(map)) {
      const target = (out[type] ??= {});
      for (const [field, resolver] of Object.entries(fields)) {
        if (target[field]) throw new Error(`twin resolvers: ${type}.${field} is defined twice`);
        target[field] = resolver;
      }
    }
  return out;
}

export const RESOLVERS: Record<string, Record<string, Resolver>> = merge([
  shopResolvers,
  customerResolvers,
  orderResolvers,
  productResolvers,
  discountResolvers,
  metafieldResolverMap,
  tagResolvers,
  nodeResolvers,
  bulkResolvers,
  webhookResolvers,
  flowResolvers,
]);

export function fieldResolver(source: unknown, args: Args, ctx: TwinContext, info: GraphQLResolveInfo): unknown {
  const r = RESOLVERS[info.parentType.name]?.[info.fieldName];
  if (r) return r(source, args, ctx, info);
  if (source !== null && typeof source === "object") return (source as Record<string, unknown>)[info.fieldName];
  return undefined;
}

export function typeResolver(value: unknown): string | undefined {
  return (value as { __typename?: string } | null)?.__typename;
}
