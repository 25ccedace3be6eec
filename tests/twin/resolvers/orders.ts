// Orders: order, orders, ordersCount, Order, LineItem, Refund, Fulfillment, DraftOrder.
import { cmpId, type Order, type ShopState } from "../admin-state";
import { matches, parseSearch, type FieldReader } from "../search";
import { metafieldResolvers } from "./metafields";
import { centsOf, cmpStr, count, hasScope, idResolver, pageByIdFast, legacy, moneyBag, page, parseGid, type ResolverMap, type TwinContext } from "./shared";

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

export function searchOrders(shop: ShopState, query: unknown, within?: readonly string[], createdSinceMs: number | null = null): Order[] {
  const expr = parseSearch(query as string | null);
  const ids = within ?? shop.sortedIds("orders");
  const out: Order[] = [];
  for (const id of ids) {
    const o = shop.orders.get(id);
    if (o && (createdSinceMs === null || Date.parse(o.createdAt) >= createdSinceMs) && matches(o, expr, readOrder, ["name", "email", "tag"])) out.push(o);
  }
  return out;
}

/** Orders older than this many days need `read_all_orders` (PLATFORM.md 6; Shopify's default order access). */
export const ORDER_ACCESS_DAYS = 60;

/**
 * The oldest creation time the caller may read (ms), or null for all orders: without the
 * `read_all_orders` scope Shopify shows an app only the last 60 days of orders, in every
 * read (orders, ordersCount, order, node, a customer's orders, bulk operations).
 */
export function orderWindowStart(ctx: TwinContext): number | null {
  return hasScope(ctx, "read_all_orders") ? null : ctx.shop.now() - ORDER_ACCESS_DAYS * 86_400_000;
}

/** An order by id if the caller may read it. */
export function visibleOrder(ctx: TwinContext, id: string): Order | null {
  const o = ctx.shop.orders.get(id);
  if (!o) return null;
  const since = orderWindowStart(ctx);
  return since === null || Date.parse(o.createdAt) >= since ? o : null;
}

type Line = Order["lineItems"][number];
type RefundView = Order["refunds"][number] & { currency: string; order: Order };

export const orderResolvers: ResolverMap = {
  QueryRoot: {
    order: (_s, a, ctx) => {
      const g = parseGid(a.id);
      return (g?.type === "Order" && visibleOrder(ctx, g.id)) || null;
    },
    orders: (_s, a, ctx) => {
      const fast = orderWindowStart(ctx) === null ? pageByIdFast(ctx.shop.sortedIds("orders"), (id) => ctx.shop.orders.get(id)!, a) : null;
      if (fast) return fast;
      const sorted = sortOrders(searchOrders(ctx.shop, a.query, undefined, orderWindowStart(ctx)), a.sortKey);
      return page(sorted.list, a, (o) => o.id, sorted.value, sorted.byId);
    },
    ordersCount: (_s, a, ctx) => {
      const since = orderWindowStart(ctx);
      return count(a.query || since !== null ? searchOrders(ctx.shop, a.query, undefined, since).length : ctx.shop.orders.size, a.limit);
    },
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
    currentTotalDiscountsSet: (o: Order) => moneyBag(o.currentTotalDiscounts, o.currency),
    currentTotalTaxSet: (o: Order) => moneyBag(o.currentTotalTax, o.currency),
    totalShippingPriceSet: (o: Order) => moneyBag(o.totalShipping, o.currency),
    lineItems: (o: Order, a) => page(o.lineItems, a, (l) => l.id, (l) => l.id),
    refunds: (o: Order, a): RefundView[] => (typeof a.first === "number" ? o.refunds.slice(0, a.first) : o.refunds).map((r) => ({ ...r, currency: o.currency, order: o })),
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
    totalDiscountSet: (l: Line, _a, ctx) => moneyBag(l.discount, ctx.shop.currency),
    discountAllocations: (l: Line, _a, ctx) => (centsOf(l.discount) > 0 ? [{ allocatedAmountSet: moneyBag(l.discount, ctx.shop.currency) }] : []),
    refundableQuantity: (l: Order["lineItems"][number]) => l.currentQuantity,
    // The twin's stores (generated or from a file) sell no gift cards; a test may set the flag on a record.
    isGiftCard: (l: Line & { isGiftCard?: boolean }) => l.isGiftCard ?? false,
  },
  Refund: {
    id: idResolver("Refund"),
    legacyResourceId: legacy,
    processedAt: (r: { createdAt: string }) => r.createdAt,
    updatedAt: (r: { createdAt: string }) => r.createdAt,
    totalRefundedSet: (r: { amount: string; currency: string }) => moneyBag(r.amount, r.currency),
    refundLineItems: (r: RefundView, a) =>
      page(
        r.lines.map((l) => ({ ...l, currency: r.currency, lineItem: r.order.lineItems.find((x) => x.id === l.lineItemId) ?? null })),
        a,
        (l) => l.id,
      ),
  },
  RefundLineItem: {
    id: idResolver("RefundLineItem"),
    restocked: (l: Order["refunds"][number]["lines"][number]) => l.restockType !== "NO_RESTOCK",
    priceSet: (l: { lineItem: Line | null; currency: string }) => moneyBag(l.lineItem?.unitPrice ?? "0", l.currency),
    subtotalSet: (l: { subtotal: string; currency: string }) => moneyBag(l.subtotal, l.currency),
    totalTaxSet: (l: { totalTax: string; currency: string }) => moneyBag(l.totalTax, l.currency),
  },
  Fulfillment: {
    id: idResolver("Fulfillment"),
    legacyResourceId: legacy,
    displayStatus: () => "FULFILLED",
    updatedAt: (f: { createdAt: string }) => f.createdAt,
  },
  DraftOrder: { id: idResolver("DraftOrder"), legacyResourceId: legacy },
};
