// tagsAdd / tagsRemove on customers, orders, products, articles and draft orders.
import type { GraphQLResolveInfo } from "graphql";
import { addTags, normalizeTagInput, removeTags, type Customer, type ShopState } from "../admin-state";
import { idResolver, parseGid, typed, TwinExecError, userError, type Args, type ResolverMap, type TwinContext } from "./shared";

/** Resources tagsAdd / tagsRemove accept (PLATFORM.md 3.2; conformance tags-add-multi-resource). */
export function taggable(shop: ShopState, id: unknown): { typename: string; record: { tags: string[] }; save: () => void } | null {
  const g = parseGid(id);
  if (!g) return null;
  const now = shop.nowIso();
  switch (g.type) {
    case "Customer": {
      const c = shop.customers.get(g.id);
      return c ? { typename: "Customer", record: c, save: () => (c.updatedAt = now) } : null;
    }
    case "Order": {
      const o = shop.orders.get(g.id);
      return o ? { typename: "Order", record: o, save: () => (o.updatedAt = now) } : null;
    }
    case "Product": {
      const p = shop.products.get(g.id);
      return p ? { typename: "Product", record: p, save: () => (p.updatedAt = now) } : null;
    }
    case "Article": {
      const a = shop.articles.get(g.id);
      return a ? { typename: "Article", record: a, save: () => undefined } : null;
    }
    case "DraftOrder": {
      const d = shop.draftOrders.get(g.id);
      return d ? { typename: "DraftOrder", record: d, save: () => undefined } : null;
    }
    default:
      return null;
  }
}

export function tagsMutation(ctx: TwinContext, a: Args, _info: GraphQLResolveInfo, mode: "add" | "remove") {
  const target = taggable(ctx.shop, a.id);
  // conformance tags-add-multi-resource `unsupportedAdd`: top-level "invalid id" / RESOURCE_NOT_FOUND
  if (!target) throw new TwinExecError("invalid id", "RESOURCE_NOT_FOUND");
  const given = normalizeTagInput(a.tags as string | string[]);
  const tags = target.typename === "Customer" ? ctx.shop.canonicalCustomerTags(given) : given;
  const caseSensitive = target.typename === "Order" || target.typename === "DraftOrder" || target.typename === "Article";
  const next = mode === "add" ? addTags(target.record.tags, tags) : removeTags(target.record.tags, tags, caseSensitive);
  if (next.length > 250) return { node: null, userErrors: [userError(["tags"], "Tags cannot be more than 250")] };
  target.record.tags = next;
  target.save();
  if (target.typename === "Customer") ctx.shop.putCustomer(target.record as Customer);
  return { node: typed(target.typename, target.record), userErrors: [] };
}

export const tagResolvers: ResolverMap = {
  Mutation: {
    tagsAdd: (_s, a, ctx, info) => tagsMutation(ctx, a, info, "add"),
    tagsRemove: (_s, a, ctx, info) => tagsMutation(ctx, a, info, "remove"),
  },
  Article: { id: idResolver("Article") },
};
