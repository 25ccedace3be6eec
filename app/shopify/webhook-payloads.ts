// The Shopify adapter for webhook payloads: parse the raw body without losing
// integer precision, validate the fields the CRM uses, and map them to CrmEvents.
import { isSafeNumber, parse } from "lossless-json";
import { z } from "zod";
import type { AddressInput, CheckoutInput, CrmEvent, CustomerInput, LineItemInput, OrderInput, RefundInput } from "../domain/crm-events";
import { formatMinorUnits, toMinorUnits } from "../domain/money";
import { payloadMismatch } from "./webhook-payload-checks";

/**
 * Whether the body may hold a number lossless-json would keep as text: a number token (after
 * `:`, `[` or `,`) whose mantissa has 16 or more characters (at most 15 significant digits
 * always round-trip through a double) or that has an exponent (lossless-json keeps some of
 * those, e.g. 1e21, as text). Conservative: text in strings that looks like this only sends
 * the body down the slower exact path.
 */
const MAYBE_INEXACT_NUMBER = /[:[,]\s*-?(?:\d[\d.]{15}|[\d.]*[eE])/;

/**
 * JSON.parse, except numbers a double cannot hold exactly (integers beyond 2^53) stay exact as
 * strings (lossless-json decides which). Bodies without such a number, nearly all of them, go
 * through the native parser: four times faster than lossless-json's on an order payload.
 */
export function parseWebhookBody(raw: string): unknown {
  if (!MAYBE_INEXACT_NUMBER.test(raw)) return JSON.parse(raw);
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

/**
 * A line's discount: the sum of its discount allocations. REST's `total_discount` stays 0.00
 * unless set through draft orders or scripts (PLATFORM.md's order example); the allocations
 * carry what the buyer saved, as GraphQL's LineItem.totalDiscountSet does, which the history
 * import reads: both paths store the same amount.
 */
function lineDiscountMinor(
  li: { total_discount?: z.infer<typeof amount> | null; total_discount_set?: z.infer<typeof moneySet>; discount_allocations?: { amount?: z.infer<typeof amount> | null; amount_set?: z.infer<typeof moneySet> }[] | null },
  currency: string,
): bigint {
  const allocations = li.discount_allocations ?? [];
  if (allocations.length === 0) return moneyOf(li.total_discount_set, li.total_discount, currency);
  return allocations.reduce((sum, a) => sum + moneyOf(a.amount_set, a.amount, currency), 0n);
}

const splitTags = (tags: string | null | undefined) =>
  (tags ?? "")
    .split(",")
    .map((tag) => tag.trim())
    .filter((tag) => tag.length > 0);

// ---------------------------------------------------------------- refunds
//
// What a refund is worth to the CRM: the money returned to the buyer, in the shop's
// currency (docs/decisions/013-refund-amounts.md). Shopify's own figure
// (Refund.totalRefundedSet) is the sum of the refund's transactions, but REST payloads give
// transactions only in the presentment currency (`amount` + `currency`). The shop-money
// side comes from the refund's breakdown:
//   refund_line_items subtotal_set + total_tax_set, plus total_duties_set,
//   minus order_adjustments amount_set + tax_amount_set (negative for a shipping refund,
//     positive when less than the calculated amount was returned, negative when more, e.g.
//     a refund of an amount with no line items),
//   plus refund_shipping_lines only when no shipping_refund adjustment already counts them.
// So: transactions in the shop currency are taken as they are; transactions in another
// currency are converted at the refund's own rate (breakdown shop money / breakdown
// presentment money, which is exact when the two agree). A refund with no successful refund
// transaction returned no money and counts 0. Transactions in a foreign currency with no
// shop-money breakdown to convert them cannot be expressed in the shop currency: refused.

const moneyBag = z
  .object({
    shop_money: z.object({ amount, currency_code: z.string() }),
    presentment_money: z.object({ amount, currency_code: z.string() }).nullish(),
  })
  .nullish();
type MoneyBag = z.infer<typeof moneyBag>;

/** One signed component of a refund's breakdown. */
type RefundPart = { sign: 1n | -1n; bag: MoneyBag; fallback?: z.infer<typeof amount> | null };

type RefundContext = { shopCurrency: string | null; presentmentCurrency: string | null };

const upper = (code: string | null | undefined) => (code ? code.toUpperCase() : null);

const isZeroAmount = (value: z.infer<typeof amount>) => /^[+-]?0*(\.0*)?$/.test(String(value).trim());

/** a * b / c rounded half away from zero, in integers (c != 0). */
function mulDivRound(a: bigint, b: bigint, c: bigint): bigint {
  const product = a * b;
  const negative = product < 0n !== c < 0n && product !== 0n;
  const n = product < 0n ? -product : product;
  const d = c < 0n ? -c : c;
  const q = (2n * n + d) / (2n * d);
  return negative ? -q : q;
}

/**
 * The refund's value in the shop currency (see the comment above), or why it has none.
 * `transactions` are the successful refund transactions.
 */
function refundedShopMoney({
  parts,
  transactions,
  context,
}: {
  parts: RefundPart[];
  transactions: { amount: z.infer<typeof amount>; currency: string | null }[];
  context: RefundContext;
}): { ok: true; amountMinor: bigint; currency: string | null } | { ok: false; reason: string } {
  // A zero amount says nothing about currency (fixtures and some payloads default it to USD).
  const currenciesOf = (monies: { amount: z.infer<typeof amount>; currency_code: string }[]) => {
    const nonZero = [...new Set(monies.filter((m) => !isZeroAmount(m.amount)).map((m) => m.currency_code.toUpperCase()))];
    return nonZero.length > 0 ? nonZero : [...new Set(monies.map((m) => m.currency_code.toUpperCase()))].slice(0, 1);
  };
  const setCurrencies = currenciesOf(parts.flatMap((p) => (p.bag ? [p.bag.shop_money] : [])));
  if (setCurrencies.length > 1) return { ok: false, reason: `shop money in several currencies (${setCurrencies.join(", ")})` };
  const orderCurrency = upper(context.shopCurrency);
  if (orderCurrency && setCurrencies[0] && setCurrencies[0] !== orderCurrency && parts.some((p) => p.bag && !isZeroAmount(p.bag.shop_money.amount)))
    return { ok: false, reason: `shop money in ${setCurrencies[0]}, but the order's currency is ${orderCurrency}` };

  const txCurrencies = [...new Set(transactions.flatMap((t) => (t.currency ? [t.currency.toUpperCase()] : [])))];
  if (txCurrencies.length > 1) return { ok: false, reason: `refund transactions in several currencies (${txCurrencies.join(", ")})` };
  const presentmentSetCurrency = currenciesOf(parts.flatMap((p) => (p.bag?.presentment_money ? [p.bag.presentment_money] : [])))[0] ?? null;
  const shopCurrency = orderCurrency ?? setCurrencies[0] ?? null;
  // Shopify's own samples leave a transaction's currency null: it is then the refund's
  // presentment currency, which is the shop currency unless the payload says otherwise.
  const txCurrency = txCurrencies[0] ?? presentmentSetCurrency ?? upper(context.presentmentCurrency) ?? shopCurrency;
  if (transactions.length === 0) return { ok: true, amountMinor: 0n, currency: shopCurrency ?? txCurrency };
  if (!txCurrency) return { ok: false, reason: "no currency in the refund (transactions, money sets) or its order" };
  const txMinor = transactions.reduce((sum, t) => sum + toMinorUnits(t.amount, txCurrency), 0n);
  // Transactions in the shop currency (a single-currency shop) are the shop money itself.
  if (shopCurrency === null || shopCurrency === txCurrency) return { ok: true, amountMinor: txMinor, currency: txCurrency };

  // Multi-currency: convert at the refund's own rate, from its breakdown.
  const breakdownShop = parts.reduce((sum, p) => sum + p.sign * toMinorUnits(p.bag ? p.bag.shop_money.amount : p.fallback!, shopCurrency), 0n);
  let breakdownPresentment: bigint | null = 0n;
  for (const p of parts) {
    const money = p.bag?.presentment_money;
    if (!money) {
      breakdownPresentment = null;
      break;
    }
    if (money.currency_code.toUpperCase() !== txCurrency && !isZeroAmount(money.amount))
      return { ok: false, reason: `presentment money in ${money.currency_code}, refund transactions in ${txCurrency}` };
    breakdownPresentment += p.sign * toMinorUnits(money.amount, txCurrency);
  }
  // (When the breakdown's presentment money equals the transactions, this is the breakdown's shop money exactly.)
  if (breakdownPresentment !== null && breakdownPresentment !== 0n)
    return { ok: true, amountMinor: mulDivRound(txMinor, breakdownShop, breakdownPresentment), currency: shopCurrency };
  if (breakdownPresentment === null && breakdownShop !== 0n) return { ok: true, amountMinor: breakdownShop, currency: shopCurrency };
  return {
    ok: false,
    reason:
      `${formatMinorUnits(txMinor, txCurrency)} ${txCurrency} refunded, but no shop-money amounts (refund_line_items, order_adjustments, ` +
      `refund_shipping_lines, duties) give its value in the shop currency ${shopCurrency}`,
  };
}

const listOf = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .nullish()
    .transform((v) => v ?? []);

/**
 * The refund schema for an order's currencies, built once per currency pair: building a zod
 * schema costs more than parsing a small refund with it, and an order payload needs one.
 */
const refundSchemas = new Map<string, ReturnType<typeof buildRefundSchema>>();
const REFUND_SCHEMA_CACHE_LIMIT = 256;

function refundSchemaFor(context: RefundContext) {
  const key = `${context.shopCurrency ?? ""}|${context.presentmentCurrency ?? ""}`;
  let schema = refundSchemas.get(key);
  if (!schema) {
    if (refundSchemas.size >= REFUND_SCHEMA_CACHE_LIMIT) refundSchemas.clear();
    schema = buildRefundSchema(context);
    refundSchemas.set(key, schema);
  }
  return schema;
}

function buildRefundSchema(context: RefundContext) {
  return z
    .object({
      admin_graphql_api_id: gid("Refund"),
      id: numericId,
      order_id: numericId,
      note: optionalText,
      created_at: timestamp,
      processed_at: optionalTimestamp,
      refund_line_items: listOf(
        z.object({
          line_item_id: numericId,
          quantity: z.number().int(),
          subtotal_set: moneyBag,
          subtotal: amount.nullish(),
          total_tax_set: moneyBag,
          total_tax: amount.nullish(),
        }),
      ),
      order_adjustments: listOf(
        z.object({ kind: optionalText, amount: amount.nullish(), amount_set: moneyBag, tax_amount: amount.nullish(), tax_amount_set: moneyBag }),
      ),
      refund_shipping_lines: listOf(z.object({ subtotal_amount_set: moneyBag, tax_amount_set: moneyBag })),
      transactions: listOf(z.object({ kind: z.string(), status: z.string(), amount, currency: optionalText })),
      total_duties_set: moneyBag,
    })
    .transform((r, ctx): RefundInput => {
      // Shipping refunds are order adjustments in REST payloads; refund_shipping_lines count
      // only when no shipping_refund adjustment does (never both).
      const shippingInAdjustments = r.order_adjustments.some((a) => a.kind === "shipping_refund");
      const all: RefundPart[] = [
        ...r.refund_line_items.flatMap((l): RefundPart[] => [
          { sign: 1n, bag: l.subtotal_set, fallback: l.subtotal },
          { sign: 1n, bag: l.total_tax_set, fallback: l.total_tax },
        ]),
        { sign: 1n, bag: r.total_duties_set } satisfies RefundPart,
        ...r.order_adjustments.flatMap((a): RefundPart[] => [
          { sign: -1n, bag: a.amount_set, fallback: a.amount },
          { sign: -1n, bag: a.tax_amount_set, fallback: a.tax_amount },
        ]),
        ...(shippingInAdjustments
          ? []
          : r.refund_shipping_lines.flatMap((s): RefundPart[] => [
              { sign: 1n, bag: s.subtotal_amount_set },
              { sign: 1n, bag: s.tax_amount_set },
            ])),
      ];
      const parts = all.filter((p) => p.bag || (p.fallback !== null && p.fallback !== undefined));
      const transactions = r.transactions.filter((t) => t.kind === "refund" && t.status === "success");
      const value = refundedShopMoney({ parts, transactions, context });
      if (!value.ok) {
        ctx.addIssue({ code: "custom", message: `refund ${r.admin_graphql_api_id}: ${value.reason}` });
        return z.NEVER;
      }
      const { currency } = value;
      return {
        gid: r.admin_graphql_api_id,
        legacyId: r.id,
        orderLegacyId: r.order_id,
        amountMinor: value.amountMinor,
        currency,
        note: r.note,
        lines: r.refund_line_items.map((line) => ({
          lineItemGid: gidFor("LineItem", line.line_item_id),
          quantity: line.quantity,
          subtotalMinor: currency ? moneyOf(line.subtotal_set, line.subtotal, currency) : 0n,
          totalTaxMinor: currency ? moneyOf(line.total_tax_set, line.total_tax, currency) : 0n,
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
        discount_allocations: z.array(z.object({ amount: amount.nullish(), amount_set: moneySet })).nullish(),
        gift_card: z.boolean().nullish(),
      }),
    ),
    refunds: z.array(z.unknown()).nullish(),
    checkout_token: optionalText,
    customer_locale: optionalText,
  })
  .transform((o): OrderInput => {
    const currency = o.currency;
    const refundSchema = refundSchemaFor({ shopCurrency: currency, presentmentCurrency: o.presentment_currency });
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
          totalDiscountMinor: lineDiscountMinor(li, currency),
          giftCard: li.gift_card ?? false,
        }),
      ),
      refunds: (o.refunds ?? []).map((refund) => refundSchema.parse(refund)),
      checkoutToken: o.checkout_token,
      customerLocale: localeOf(o.customer_locale),
    };
  });

/** A locale as the customer's language: trimmed, at most 35 characters (BCP 47's practical length); blank is none. */
function localeOf(value: string | null): string | null {
  const locale = value?.trim() ?? "";
  return locale === "" || locale.length > 35 ? null : locale;
}

// checkouts/create, checkouts/update (2026-04 on: `token` is the key, `id` is gone).
const checkoutSchema = z
  .object({
    token: z.string().min(1),
    customer: z.object({ admin_graphql_api_id: gid("Customer") }).passthrough().nullish(),
    customer_locale: optionalText,
    created_at: optionalTimestamp,
    updated_at: timestamp,
    completed_at: optionalTimestamp,
  })
  .transform(
    (c): CheckoutInput => ({
      token: c.token,
      customerGid: c.customer?.admin_graphql_api_id ?? null,
      locale: localeOf(c.customer_locale),
      createdAt: c.created_at,
      updatedAt: c.updated_at,
      completedAt: c.completed_at,
    }),
  );

const productSchema = z.object({
  admin_graphql_api_id: gid("Product"),
  title: optionalText,
  product_type: optionalText,
  // The featured image (`image`), else the first of `images`: only https URLs are kept (emails load them).
  image: z.object({ src: z.string().nullish() }).passthrough().nullish(),
  images: z.array(z.object({ src: z.string().nullish() }).passthrough()).nullish(),
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
  "refunds/create": (p) => ({ kind: "refund", refund: refundSchemaFor({ shopCurrency: null, presentmentCurrency: null }).parse(p) }),
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
  "customers_marketing_consent/update": (p) => {
    const c = z
      .object({
        id: numericId,
        // Required: without it the body is another topic's (a customer payload also has an `id`).
        sms_marketing_consent: z.object({ state: optionalText, opt_in_level: optionalText, consent_updated_at: optionalTimestamp }),
      })
      .parse(p);
    return {
      kind: "sms_consent",
      customerGid: gidFor("Customer", c.id),
      state: c.sms_marketing_consent.state,
      optInLevel: c.sms_marketing_consent.opt_in_level,
      consentUpdatedAt: c.sms_marketing_consent.consent_updated_at,
    };
  },
  "checkouts/create": (p) => ({ kind: "checkout", checkout: checkoutSchema.parse(p) }),
  "checkouts/update": (p) => ({ kind: "checkout", checkout: checkoutSchema.parse(p) }),
  "products/create": (p) => productEvent(p),
  "products/update": (p) => productEvent(p),
  "products/delete": (p) => ({ kind: "product_deleted", productGid: gidFor("Product", z.object({ id: numericId }).parse(p).id) }),
  "app/uninstalled": (p) => {
    const s = z.object({ name: optionalText, currency: optionalText }).parse(p);
    return { kind: "app_uninstalled", shopName: s.name, currency: s.currency };
  },
  "shop/update": (p) => {
    const s = z
      .object({
        name: optionalText,
        email: optionalText,
        currency: optionalText,
        iana_timezone: optionalText,
        myshopify_domain: optionalText,
        updated_at: optionalTimestamp,
      })
      .passthrough()
      .parse(p);
    return {
      kind: "shop_updated",
      settings: {
        name: s.name,
        email: s.email,
        currencyCode: s.currency,
        ianaTimezone: s.iana_timezone,
        myshopifyDomain: s.myshopify_domain,
        updatedAt: s.updated_at,
        raw: p as Record<string, unknown>,
      },
    };
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

/** An image URL an email may load: https only, at most 2,000 characters; anything else is dropped. */
function httpsImage(src: string | null): string | null {
  if (!src || src.length > 2_000) return null;
  try {
    return new URL(src).protocol === "https:" ? src : null;
  } catch {
    return null;
  }
}

function productEvent(p: unknown): CrmEvent {
  const product = productSchema.parse(p);
  return {
    kind: "product",
    product: {
      gid: product.admin_graphql_api_id,
      title: product.title,
      productType: product.product_type,
      imageUrl: httpsImage(product.image?.src ?? product.images?.[0]?.src ?? null),
      vendor: product.vendor,
      status: product.status,
      // Shopify keeps a product's tags in alphabetical order (GraphQL Product.tags, which the
      // history import reads): stored sorted whatever order a payload lists them in.
      tags: splitTags(product.tags).sort(),
      createdAt: product.created_at,
      updatedAt: product.updated_at,
    },
  };
}

export const SUPPORTED_TOPICS: readonly string[] = Object.keys(mappers);

export type MapResult = { ok: true; event: CrmEvent } | { ok: false; reason: string };

/**
 * Maps an authentic delivery to a CrmEvent, or says why it cannot be processed. With the
 * delivery's shop, a body that names another shop or is another topic's is refused too
 * (webhook-payload-checks.ts; the ingress checked it already, this covers replays).
 */
export function mapWebhook(topic: string, rawBody: string, delivery?: { shop: string }): MapResult {
  // Own keys only: a topic named like an Object.prototype member ("constructor") is unknown.
  const mapper = Object.hasOwn(mappers, topic) ? mappers[topic] : undefined;
  if (!mapper) return { ok: false, reason: `unknown topic ${JSON.stringify(topic)}` };
  let payload: unknown;
  try {
    payload = parseWebhookBody(rawBody);
  } catch (error) {
    return { ok: false, reason: `malformed JSON: ${(error as Error).message}` };
  }
  if (delivery) {
    const mismatch = payloadMismatch({ topic, shop: delivery.shop, payload });
    if (mismatch !== null) return { ok: false, reason: mismatch };
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
