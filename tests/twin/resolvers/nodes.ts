// node(id) / nodes(ids): any object the twin holds, by global id.
import type { ShopState } from "../admin-state";
import { parseGid, typed, type ResolverMap } from "./shared";

export function nodeFor(shop: ShopState, id: unknown): object | null {
  const g = parseGid(id);
  if (!g) return null;
  switch (g.type) {
    case "Customer": {
      const c = shop.customers.get(g.id);
      return c ? typed("Customer", c) : null;
    }
    case "Order": {
      const o = shop.orders.get(g.id);
      return o ? typed("Order", o) : null;
    }
    case "Product": {
      const p = shop.products.get(g.id);
      return p ? typed("Product", p) : null;
    }
    case "ProductVariant": {
      for (const p of shop.products.values()) {
        const v = p.variants.find((x) => x.id === g.id);
        if (v) return typed("ProductVariant", { ...v, productId: p.id });
      }
      return null;
    }
    case "DiscountCodeNode": {
      const d = shop.discounts.get(g.id);
      return d ? typed("DiscountCodeNode", d) : null;
    }
    case "Metafield": {
      const m = shop.metafields.get(g.id);
      return m ? typed("Metafield", m) : null;
    }
    case "BulkOperation": {
      const b = shop.bulkOperations.get(g.id);
      return b ? typed("BulkOperation", b) : null;
    }
    case "Article": {
      const a = shop.articles.get(g.id);
      return a ? typed("Article", a) : null;
    }
    case "DraftOrder": {
      const d = shop.draftOrders.get(g.id);
      return d ? typed("DraftOrder", d) : null;
    }
    default:
      return null;
  }
}


export const nodeResolvers: ResolverMap = {
  QueryRoot: {
    node: (_s, a, ctx) => nodeFor(ctx.shop, a.id),
    nodes: (_s, a, ctx) => (a.ids as string[]).map((id) => nodeFor(ctx.shop, id)),
  },
};
