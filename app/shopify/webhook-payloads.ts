// The Shopify adapter for webhook payloads: parse the raw body without losing
// integer precision, validate the fields the CRM uses, and map them to CrmEvents.
import { isSafeNumber, parse } from "lossless-json";
import { z } from "zod";
import type { AddressInput, CrmEvent, CustomerInput, LineItemInput, OrderInput, RefundInput } from "../domain/crm-events";
import { toMinorUnits } from "../domain/money";

/** JSON.parse, except integers beyond 2^53 stay exact as strings. */
export function parseWebhookBody(raw: string): unknown {
  return parse(raw, undefined, (value: string) => (isSafeNumber(value) ? Number(value) : value));
}

export function gidFor(type: string, legacyId: string): string {
  return `gid://shopify/${type}/${legacyId}`;
}

export function legacyIdOf(gid: string): string {
  const id = gid.slice(gid.lastIndexOf("/") + 1);
  if (!/^\d+$/.test(id)) throw new RangeError(`not a Shopify gid: ${gid}`);
  return id;
}

const numericId = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String);
const gid = (type: string) => z.string().startsWith(`gid://shopify/${type}/`);
const timestamp = z.string().refine((value) => !Number.isNaN(Date.parse(value)), "must be an ISO-8601 time").transform((value) => new Date(value));
const optionalTimestamp = timestamp.nullish().transform((value) => value ?? null);
const optionalText = z.string().nullish().transform((value) => value ?? null);
const amount = z.union([z.string(), z.number()]);
const moneySet = z.object({ shop_money: z.object({ amount, currency_code: z.string() }) }).nullish();

const addressSchema = z
  .object({
    country_code: optionalText,
    province_code: optionalText,
    province: optionalText,
    city: optionalText,
    zip: optionalText,
    address1: optionalText,
    address2: optionalText,
    default: z.boolean().nullish(),
  })
  .transform(
    (a): AddressInput => ({
      countryCode: a.country_code,
      province: a.province_code ?? a.province,
      city: a.city,
      zip: a.zip,
      address1: a.address1,
      address2: a.address2,
      isDefault: a.default ?? false,
    }),
  );

const customerSchema = z
  .object({
    admin_graphql_api_id: gid("Customer"),
    email: optionalText,
    first_name: optionalText,
    last_name: optionalText,
    phone: optionalText,
    state: optionalText,
    note: optionalText,
    verified_email: z.boolean().nullish(),
    currency: optionalText,
    addresses: z.array(addressSchema).nullish(),
    default_address: addressSchema.nullish(),
    created_at: optionalTimestamp,
    updated_at: optionalTimestamp,
  })
  .transform(
    (c): CustomerInput => ({
      gid: c.admin_graphql_api_id,
      email: c.email,
      firstName: c.first_name,
      lastName: c.last_name,
      phone: c.phone,
      state: c.state,
      note: c.note,
      verifiedEmail: c.verified_email ?? null,
      currency: c.currency,
      addresses: c.addresses ?? [],
      defaultAddress: c.default_address ?? null,
      createdAt: c.created_at,
      updatedAt: c.updated_at,
    }),
  );

function moneyOf(set: z.infer<typeof moneySet>, fallback: z.infer<typeof amount> | null | undefined, currency: string): bigint {
  if (set) return toMinorUnits(set.shop_money.amount, set.shop_money.currency_code);
  if (fallback === null || fallback === undefined) return 0n;
  return toMinorUnits(fallback, currency);
}

const splitTags = (tags: string | null | undefined) =>
  (tags ?? "")
    .split(",")
    .map((tag) => tag.trim())
    .filter((tag) => tag.length > 0);

function refundSchemaFor(shopCurrency: string | null) {
  return z
    .object({
      admin_graphql_api_id: gid("Refund"),
      id: numericId,
      order_id: numericId,
      note: optionalText,
      created_at: timestamp,
      processed_at: optionalTimestamp,
      refund_line_items: z
        .array(
          z.object({
            line_item_id: numericId,
            quantity: z.number().int(),
            subtotal_set: moneySet,
            subtotal: amount.nullish(),
            total_tax_set: moneySet,
            total_tax: amount.nullish(),
          }),
        )
        .default([]),
      transactions: z
        .array(z.object({ kind: z.string(), status: z.string(), amount, currency: optionalText }))
        .default([]),
      total_duties_set: moneySet,
    })
    .transform((r): RefundInput => {
      // The money returned to the buyer: successful refund transactions.
      const refunded = r.transactions.filter((t) => t.kind === "refund" && t.status === "success");
      // Transactions may carry no currency (Shopify's own sample has null): fall back to the
      // order's currency, then to the refund's shop-money sets, before assuming USD.
      const setCurrency =
        r.refund_line_items.map((line) => line.subtotal_set?.shop_money.currency_code).find(Boolean) ??
        r.total_duties_set?.shop_money.currency_code;
      const currency = refunded.find((t) => t.currency)?.currency ?? shopCurrency ?? setCurrency ?? "USD";
      return {
        gid: r.admin_graphql_api_id,
        legacyId: r.id,
        orderLegacyId: r.order_id,
        amountMinor: refunded.reduce((sum, t) => sum + toMinorUnits(t.amount, currency), 0n),
        currency,
        note: r.note,
        lines: r.refund_line_items.map((line) => ({
          lineItemGid: gidFor("LineItem", line.line_item_id),
          quantity: line.quantity,
          subtotalMinor: moneyOf(line.subtotal_set, line.subtotal, currency),
          totalTaxMinor: moneyOf(line.total_tax_set, line.total_tax, currency),
        })),
        refundedAt: r.processed_at ?? r.created_at,
      };
    });
}

const orderSchema = z
  .object({
    admin_graphql_api_id: gid("Order"),
    name: optionalText,
    email: optionalText,
    currency: z.string().length(3),
    presentment_currency: optionalText,
    total_price: amount,
    total_price_set: moneySet,
    subtotal_price: amount.nullish(),
    subtotal_price_set: moneySet,
    total_tax: amount.nullish(),
    total_tax_set: moneySet,
    total_discounts: amount.nullish(),
    total_discounts_set: moneySet,
    total_shipping_price_set: moneySet,
    financial_status: optionalText,
    fulfillment_status: optionalText,
    cancelled_at: optionalTimestamp,
    cancel_reason: optionalText,
    test: z.boolean().nullish(),
    source_name: optionalText,
    tags: z.string().nullish(),
    discount_codes: z.array(z.object({ code: z.string() })).nullish(),
    created_at: timestamp,
    updated_at: timestamp,
    processed_at: optionalTimestamp,
    closed_at: optionalTimestamp,
    customer: customerSchema.nullish(),
    line_items: z.array(
      z.object({
        admin_graphql_api_id: gid("LineItem"),
        product_id: numericId.nullish(),
        variant_id: numericId.nullish(),
        title: z.string(),
        variant_title: optionalText,
        sku: optionalText,
        vendor: optionalText,
        quantity: z.number().int(),
        price: amount,
        price_set: moneySet,
        total_discount: amount.nullish(),
        total_discount_set: moneySet,
        gift_card: z.boolean().nullish(),
      }),
    ),
    refunds: z.array(z.unknown()).nullish(),
  })
  .transform((o): OrderInput => {
    const currency = o.currency;
    const refundSchema = refundSchemaFor(currency);
    return {
      gid: o.admin_graphql_api_id,
      legacyId: legacyIdOf(o.admin_graphql_api_id),
      customer: o.customer ?? null,
      name: o.name,
      email: o.email,
      currency,
      presentmentCurrency: o.presentment_currency,
      totalPriceMinor: moneyOf(o.total_price_set, o.total_price, currency),
      subtotalMinor: moneyOf(o.subtotal_price_set, o.subtotal_price, currency),
      totalTaxMinor: moneyOf(o.total_tax_set, o.total_tax, currency),
      totalDiscountsMinor: moneyOf(o.total_discounts_set, o.total_discounts, currency),
      shippingMinor: moneyOf(o.total_shipping_price_set, null, currency),
      financialStatus: o.financial_status,
      fulfillmentStatus: o.fulfillment_status,
      cancelledAt: o.cancelled_at,
      cancelReason: o.cancel_reason,
      test: o.test ?? false,
      sourceName: o.source_name,
      tags: splitTags(o.tags),
      discountCodes: (o.discount_codes ?? []).map((d) => d.code),
      createdAt: o.created_at,
      updatedAt: o.updated_at,
      processedAt: o.processed_at,
      closedAt: o.closed_at,
      lineItems: o.line_items.map(
        (li): LineItemInput => ({
          gid: li.admin_graphql_api_id,
          productGid: li.product_id ? gidFor("Product", li.product_id) : null,
          variantGid: li.variant_id ? gidFor("ProductVariant", li.variant_id) : null,
          title: li.title,
          variantTitle: li.variant_title,
          sku: li.sku,
          vendor: li.vendor,
          quantity: li.quantity,
          priceMinor: moneyOf(li.price_set, li.price, currency),
          totalDiscountMinor: moneyOf(li.total_discount_set, li.total_discount, currency),
          giftCard: li.gift_card ?? false,
        }),
      ),
      refunds: (o.refunds ?? []).map((refund) => refundSchema.parse(refund)),
    };
  });

const productSchema = z.object({
  admin_graphql_api_id: gid("Product"),
  title: optionalText,
  product_type: optionalText,
  vendor: optionalText,
  status: optionalText,
  tags: z.string().nullish(),
  created_at: optionalTimestamp,
  updated_at: optionalTimestamp,
});

const complianceCustomer = z.object({ customer: z.object({ id: numericId }) });

type Mapper = (payload: unknown) => CrmEvent;

const ORDER_TOPICS = ["orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled"] as const;

const mappers: Record<string, Mapper> = {
  ...Object.fromEntries(ORDER_TOPICS.map((topic) => [topic, (p: unknown): CrmEvent => ({ kind: "order", order: orderSchema.parse(p) })])),
  "refunds/create": (p) => ({ kind: "refund", refund: refundSchemaFor(null).parse(p) }),
  "customers/create": (p) => ({ kind: "customer", customer: customerSchema.parse(p) }),
  "customers/update": (p) => ({ kind: "customer", customer: customerSchema.parse(p) }),
  "customers/delete": (p) => ({
    kind: "customer_deleted",
    customerGid: z.object({ admin_graphql_api_id: gid("Customer") }).parse(p).admin_graphql_api_id,
  }),
  "customer.tags_added": (p) => tagEvent(p, true),
  "customer.tags_removed": (p) => tagEvent(p, false),
  "customers_email_marketing_consent/update": (p) => {
    const c = z
      .object({
        customer_id: numericId,
        email_marketing_consent: z.object({ state: optionalText, opt_in_level: optionalText, consent_updated_at: optionalTimestamp }).nullish(),
      })
      .parse(p);
    return {
      kind: "email_consent",
      customerGid: gidFor("Customer", c.customer_id),
      state: c.email_marketing_consent?.state ?? null,
      optInLevel: c.email_marketing_consent?.opt_in_level ?? null,
      consentUpdatedAt: c.email_marketing_consent?.consent_updated_at ?? null,
    };
  },
  "products/create": (p) => productEvent(p),
  "products/update": (p) => productEvent(p),
  "products/delete": (p) => ({ kind: "product_deleted", productGid: gidFor("Product", z.object({ id: numericId }).parse(p).id) }),
  "app/uninstalled": (p) => {
    const s = z.object({ name: optionalText, currency: optionalText }).parse(p);
    return { kind: "app_uninstalled", shopName: s.name, currency: s.currency };
  },
  "app/scopes_update": (p) => ({ kind: "scopes_update", scopes: z.object({ current: z.array(z.string()) }).parse(p).current }),
  "bulk_operations/finish": (p) => {
    const b = z
      .object({ admin_graphql_api_id: gid("BulkOperation"), type: optionalText, status: optionalText, error_code: optionalText, completed_at: optionalTimestamp })
      .parse(p);
    return { kind: "bulk_operation_finished", gid: b.admin_graphql_api_id, type: b.type, status: b.status, errorCode: b.error_code, completedAt: b.completed_at };
  },
  "customers/data_request": (p) => {
    const r = complianceCustomer
      .extend({ orders_requested: z.array(numericId).nullish(), data_request: z.object({ id: numericId }).nullish() })
      .parse(p);
    return {
      kind: "customer_data_request",
      customerGid: gidFor("Customer", r.customer.id),
      requestId: r.data_request?.id ?? null,
      orderLegacyIds: r.orders_requested ?? [],
    };
  },
  "customers/redact": (p) => {
    const r = complianceCustomer.extend({ orders_to_redact: z.array(numericId).nullish() }).parse(p);
    return { kind: "customer_redact", customerGid: gidFor("Customer", r.customer.id), orderLegacyIds: r.orders_to_redact ?? [] };
  },
  "shop/redact": () => ({ kind: "shop_redact" }),
};

function tagEvent(p: unknown, present: boolean): CrmEvent {
  const t = z.object({ customerId: gid("Customer"), tags: z.array(z.string()), occurredAt: timestamp }).parse(p);
  return { kind: "customer_tags", customerGid: t.customerId, tags: t.tags, present, occurredAt: t.occurredAt };
}

function productEvent(p: unknown): CrmEvent {
  const product = productSchema.parse(p);
  return {
    kind: "product",
    product: {
      gid: product.admin_graphql_api_id,
      title: product.title,
      productType: product.product_type,
      vendor: product.vendor,
      status: product.status,
      tags: splitTags(product.tags),
      createdAt: product.created_at,
      updatedAt: product.updated_at,
    },
  };
}

export const SUPPORTED_TOPICS: readonly string[] = Object.keys(mappers);

export type MapResult = { ok: true; event: CrmEvent } | { ok: false; reason: string };

/** Maps an authentic delivery to a CrmEvent, or says why it cannot be processed. */
export function mapWebhook(topic: string, rawBody: string): MapResult {
  // Own keys only: a topic named like an Object.prototype member ("constructor") is unknown.
  const mapper = Object.hasOwn(mappers, topic) ? mappers[topic] : undefined;
  if (!mapper) return { ok: false, reason: `unknown topic ${JSON.stringify(topic)}` };
  let payload: unknown;
  try {
    payload = parseWebhookBody(rawBody);
  } catch (error) {
    return { ok: false, reason: `malformed JSON: ${(error as Error).message}` };
  }
  try {
    return { ok: true, event: mapper(payload) };
  } catch (error) {
    if (error instanceof z.ZodError) {
      const detail = error.issues
        .slice(0, 5)
        .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
        .join("; ");
      return { ok: false, reason: `unexpected ${topic} payload: ${detail}` };
    }
    if (error instanceof RangeError) return { ok: false, reason: `unexpected ${topic} payload: ${error.message}` };
    throw error;
  }
}
