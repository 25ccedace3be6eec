// Orders: order, orders, ordersCount, Order, LineItem, Refund, Fulfillment, DraftOrder.
import { cmpId, type Order, type ShopState } from "../admin-state";
import { matches, parseSearch, type FieldReader } from "../search";
import { metafieldResolvers } from "./metafields";
import { centsOf, cmpStr, count, idResolver, legacy, moneyBag, page, parseGid, type ResolverMap } from "./shared";

export const readOrder: FieldReader<Order> = (o, field) => {
  switch (field) {
    case "id":
      return [Number(o.id)];
    case "name":
      return [o.name, o.name.replace(/^#/, "")];
    case "email":
      return [o.email];
    case "tag":
      return o.tags;
    case "created_at":
      return [o.createdAt];
    case "updated_at":
      return [o.updatedAt];
    case "processed_at":
      return [o.processedAt];
    case "customer_id":
      return [o.customerId];
    case "financial_status":
      return [o.financialStatus.toLowerCase()];
    case "fulfillment_status":
      return [o.fulfillmentStatus === "FULFILLED" ? "shipped" : "unshipped", o.fulfillmentStatus.toLowerCase()];
    case "status":
      return [o.cancelledAt ? "cancelled" : o.closedAt ? "closed" : "open"];
    case "test":
      return [String(o.test)];
    case "source_name":
      return [o.sourceName];
    case "discount_code":
      return o.discountCodes;
    default:
      return undefined;
  }
};

export function sortOrders(list: Order[], key: unknown): { list: Order[]; value: (o: Order) => string | number; byId: boolean } {
  const by = (f: (o: Order) => string) => ({ list: [...list].sort((a, b) => cmpStr(f(a), f(b)) || cmpId(a.id, b.id)), value: f, byId: false });
  switch (key) {
    case "CREATED_AT":
      return by((o) => o.createdAt);
    case "UPDATED_AT":
      return by((o) => o.updatedAt);
    case "PROCESSED_AT":
      return by((o) => o.processedAt);
    case "ORDER_NUMBER":
      return { list: [...list].sort((a, b) => a.number - b.number), value: (o) => o.number, byId: false };
    case "TOTAL_PRICE":
      return { list: [...list].sort((a, b) => Number(a.total) - Number(b.total) || cmpId(a.id, b.id)), value: (o) => o.total, byId: false };
    default:
      return { list, value: (o) => o.id, byId: true };
  }
}

export function searchOrders(shop: ShopState, query: unknown, within?: readonly string[]): Order[] {
  const expr = parseSearch(query as string | null);
  const ids = within ?? shop.sortedIds("orders");
  const out: Order[] = [];
  for (const id of ids) {
    const o = shop.orders.get(id);
    if (o && matches(o, expr, readOrder, ["name", "email", "tag"])) out.push(o);
  }
  return out;
}

export const orderResolvers: ResolverMap = {
  QueryRoot: {
    order: (_s, a, ctx) => {
      const g = parseGid(a.id);
      return (g?.type === "Order" && ctx.shop.orders.get(g.id)) || null;
    },
    orders: (_s, a, ctx) => {
      const sorted = sortOrders(searchOrders(ctx.shop, a.query), a.sortKey);
      return page(sorted.list, a, (o) => o.id, sorted.value, sorted.byId);
    },
    ordersCount: (_s, a, ctx) => count(a.query ? searchOrders(ctx.shop, a.query).length : ctx.shop.orders.size, a.limit),
  },
  Order: {
    id: idResolver("Order"),
    legacyResourceId: legacy,
    customer: (o: Order, _a, ctx) => (o.customerId ? (ctx.shop.customers.get(o.customerId) ?? null) : null),
    closed: (o: Order) => o.closedAt !== null,
    currencyCode: (o: Order) => o.currency,
    presentmentCurrencyCode: (o: Order) => o.currency,
    displayFinancialStatus: (o: Order) => o.financialStatus,
    displayFulfillmentStatus: (o: Order) => o.fulfillmentStatus,
    totalPriceSet: (o: Order) => moneyBag(o.total, o.currency),
    subtotalPriceSet: (o: Order) => moneyBag(o.subtotal, o.currency),
    totalDiscountsSet: (o: Order) => moneyBag(o.totalDiscounts, o.currency),
    totalTaxSet: (o: Order) => moneyBag(o.totalTax, o.currency),
    totalRefundedSet: (o: Order) => moneyBag(o.totalRefunded, o.currency),
    currentTotalPriceSet: (o: Order) => moneyBag(o.currentTotal, o.currency),
    currentSubtotalPriceSet: (o: Order) => moneyBag(o.currentSubtotal, o.currency),
    lineItems: (o: Order, a) => page(o.lineItems, a, (l) => l.id, (l) => l.id),
    refunds: (o: Order, a) => (typeof a.first === "number" ? o.refunds.slice(0, a.first) : o.refunds).map((r) => ({ ...r, currency: o.currency })),
    fulfillments: (o: Order, a) => (typeof a.first === "number" ? o.fulfillments.slice(0, a.first) : o.fulfillments),
    ...metafieldResolvers("ORDER"),
  },
  LineItem: {
    id: idResolver("LineItem"),
    name: (l: Order["lineItems"][number]) => (l.variantTitle ? `${l.title} - ${l.variantTitle}` : l.title),
    product: (l: Order["lineItems"][number], _a, ctx) => (l.productId ? (ctx.shop.products.get(l.productId) ?? null) : null),
    variant: (l: Order["lineItems"][number], _a, ctx) => {
      if (!l.productId || !l.variantId) return null;
      const p = ctx.shop.products.get(l.productId);
      const v = p?.variants.find((x) => x.id === l.variantId);
      return v ? { ...v, productId: p!.id } : null;
    },
    originalUnitPriceSet: (l: Order["lineItems"][number], _a, ctx) => moneyBag(l.unitPrice, ctx.shop.currency),
    originalTotalSet: (l: Order["lineItems"][number], _a, ctx) => moneyBag((centsOf(l.unitPrice) * l.quantity) / 100, ctx.shop.currency),
    discountedTotalSet: (l: Order["lineItems"][number], _a, ctx) => moneyBag((centsOf(l.unitPrice) * l.quantity) / 100, ctx.shop.currency),
    refundableQuantity: (l: Order["lineItems"][number]) => l.currentQuantity,
  },
  Refund: {
    id: idResolver("Refund"),
    legacyResourceId: legacy,
    processedAt: (r: { createdAt: string }) => r.createdAt,
    updatedAt: (r: { createdAt: string }) => r.createdAt,
    totalRefundedSet: (r: { amount: string; currency: string }) => moneyBag(r.amount, r.currency),
  },
  Fulfillment: {
    id: idResolver("Fulfillment"),
    legacyResourceId: legacy,
    displayStatus: () => "FULFILLED",
    updatedAt: (f: { createdAt: string }) => f.createdAt,
  },
  DraftOrder: { id: idResolver("DraftOrder"), legacyResourceId: legacy },
};
