// node(id) / nodes(ids): any object the twin holds, by global id.
import { visibleOrder } from "./orders";
import { parseGid, typed, type ResolverMap, type TwinContext } from "./shared";

export function nodeFor(ctx: TwinContext, id: unknown): object | null {
  const shop = ctx.shop;
  const g = parseGid(id);
  if (!g) return null;
  switch (g.type) {
    case "Customer": {
      const c = shop.customers.get(g.id);
      return c ? typed("Customer", c) : null;
    }
    case "Order": {
      const o = visibleOrder(ctx, g.id);
      return o ? typed("Order", o) : null;
    }
    case "Refund": {
      for (const o of shop.orders.values()) {
        const r = o.refunds.find((x) => x.id === g.id);
        if (r) return visibleOrder(ctx, o.id) ? typed("Refund", { ...r, currency: o.currency, order: o }) : null;
      }
      return null;
    }
    case "WebhookSubscription": {
      const w = shop.webhookSubscriptions.get(g.id);
      return w && w.apiKey === ctx.caller.apiKey ? typed("WebhookSubscription", w) : null;
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
    node: (_s, a, ctx) => nodeFor(ctx, a.id),
    nodes: (_s, a, ctx) => (a.ids as string[]).map((id) => nodeFor(ctx, id)),
  },
};
