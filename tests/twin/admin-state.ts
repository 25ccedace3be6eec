// In-memory state of the twin's shops: customers (tags, metafields, consent), orders,
// products, discount codes, bulk operations. Ids are decimal strings (bigint-safe).
import { createHash } from "node:crypto";
import type { GenCustomer, GenOrder, GenProduct, SyntheticStore } from "./store-generator";

export type Metafield = {
  id: string;
  ownerType: "CUSTOMER" | "ORDER" | "PRODUCT" | "DISCOUNT";
  ownerId: string;
  namespace: string;
  key: string;
  type: string;
  value: string;
  createdAt: string;
  updatedAt: string;
};

export type Address = {
  id: string;
  firstName: string | null;
  lastName: string | null;
  company: string | null;
  address1: string | null;
  address2: string | null;
  city: string | null;
  province: string | null;
  provinceCode: string | null;
  country: string | null;
  countryCode: string | null;
  zip: string | null;
  phone: string | null;
};

export type Customer = {
  id: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  phone: string | null;
  note: string | null;
  tags: string[];
  state: "DISABLED" | "ENABLED" | "INVITED" | "DECLINED";
  verifiedEmail: boolean;
  taxExempt: boolean;
  taxExemptions: string[];
  locale: string;
  multipassIdentifier: string | null;
  createdAt: string;
  updatedAt: string;
  emailMarketing: { state: string; optInLevel: string | null; updatedAt: string | null };
  smsMarketing: { state: string; optInLevel: string | null; updatedAt: string | null };
  addresses: Address[];
  defaultAddressId: string | null;
};

export type Money = { amount: string; currencyCode: string };
export type LineItem = {
  id: string;
  title: string;
  variantTitle: string | null;
  sku: string | null;
  vendor: string | null;
  quantity: number;
  currentQuantity: number;
  productId: string | null;
  variantId: string | null;
  unitPrice: string;
  /** Sum of the line's discount allocations (LineItem.totalDiscountSet; REST discount_allocations). */
  discount: string;
};
export type RefundLine = { id: string; lineItemId: string; quantity: number; subtotal: string; totalTax: string; restockType: string };
export type Order = {
  id: string;
  name: string;
  number: number;
  email: string | null;
  phone: string | null;
  customerId: string | null;
  createdAt: string;
  updatedAt: string;
  processedAt: string;
  cancelledAt: string | null;
  cancelReason: string | null;
  closedAt: string | null;
  test: boolean;
  tags: string[];
  note: string | null;
  currency: string;
  financialStatus: string; // OrderDisplayFinancialStatus
  fulfillmentStatus: string; // OrderDisplayFulfillmentStatus
  confirmed: boolean;
  sourceName: string | null;
  discountCodes: string[];
  customerAcceptsMarketing: boolean;
  lineItems: LineItem[];
  subtotal: string;
  totalDiscounts: string;
  totalTax: string;
  total: string;
  currentSubtotal: string;
  currentTotal: string;
  totalRefunded: string;
  totalShipping: string;
  currentTotalDiscounts: string;
  currentTotalTax: string;
  refunds: { id: string; createdAt: string; note: string | null; amount: string; lines: RefundLine[] }[];
  fulfillments: { id: string; createdAt: string; status: string; name: string; totalQuantity: number }[];
};
export type Product = {
  id: string;
  title: string;
  handle: string;
  productType: string;
  vendor: string;
  status: "ACTIVE" | "ARCHIVED" | "DRAFT";
  tags: string[];
  createdAt: string;
  updatedAt: string;
  publishedAt: string | null;
  variants: { id: string; title: string; sku: string | null; price: string; createdAt: string; updatedAt: string }[];
};
export type Taggable = { id: string; title?: string; name?: string; tags: string[] };

export type Discount = {
  id: string; // DiscountCodeNode id
  kind: "DiscountCodeBasic" | "DiscountCodeFreeShipping";
  title: string;
  codes: { id: string; code: string }[];
  startsAt: string;
  endsAt: string | null;
  createdAt: string;
  updatedAt: string;
  usageLimit: number | null;
  appliesOncePerCustomer: boolean;
  appliesOnOneTimePurchase: boolean;
  appliesOnSubscription: boolean;
  recurringCycleLimit: number | null;
  combinesWith: { orderDiscounts: boolean; productDiscounts: boolean; shippingDiscounts: boolean; productDiscountsWithTagsOnSameCartLine: string[] | null };
  context: { all: true } | { customers: string[] };
  customerGets?: {
    value: { percentage: number } | { amount: string; appliesOnEachItem: boolean };
    items: { all: true } | { products: string[]; variants: string[] } | { collections: string[] };
    appliesOnOneTimePurchase: boolean;
    appliesOnSubscription: boolean;
  };
  minimumRequirement: { quantity: string } | { subtotal: string } | null;
  destination?: { all: true } | { countries: string[]; includeRestOfWorld: boolean };
  maximumShippingPrice?: string | null;
  tags: string[];
};

/** A metafield definition (the twin only creates them from standard templates). */
export type MetafieldDefinition = {
  id: string;
  ownerType: Metafield["ownerType"];
  namespace: string;
  key: string;
  name: string;
  type: string;
  /** Validations of the template (rating: scale_min / scale_max; number_integer: min). */
  validations: Record<string, string>;
};

export type BulkOperation = {
  id: string;
  type: "QUERY" | "MUTATION";
  status: "CREATED" | "RUNNING" | "COMPLETED" | "CANCELING" | "CANCELED" | "FAILED" | "EXPIRED";
  errorCode: string | null;
  query: string;
  createdAt: string;
  completedAt: string | null;
  objectCount: number;
  rootObjectCount: number;
  fileSize: number | null;
  url: string | null;
  partialDataUrl: string | null;
  /** JSONL result kept by the twin and served at `url`. */
  result?: string;
};

/** A webhook subscription an app registered with webhookSubscriptionCreate (custom apps). */
export type WebhookSubscriptionRecord = {
  id: string;
  /** WebhookSubscriptionTopic enum value, e.g. ORDERS_CREATE. */
  topic: string;
  uri: string;
  format: string;
  filter: string | null;
  includeFields: string[];
  metafieldNamespaces: string[];
  name: string | null;
  createdAt: string;
  updatedAt: string;
  /** API version of the request that registered it (the deliveries' X-Shopify-API-Version). */
  apiVersion: string;
  /** The registering app (its key, and the secret its deliveries are signed with). */
  apiKey: string | null;
  secret: string | null;
};

export type StagedUpload = { key: string; body: string | null; createdAt: string; /** bytes, when larger than what is kept in `body` */ size?: number };

export const SHOP_CURRENCY = "USD";
/** A zone with daylight saving, so tests see times that are not UTC's. */
export const SHOP_TIME_ZONE = "America/New_York";

export class ShopState {
  readonly domain: string;
  readonly shopId: string;
  name: string;
  email: string;
  currency = SHOP_CURRENCY;
  /** The shop's IANA time zone (Shop.ianaTimezone). */
  ianaTimezone = SHOP_TIME_ZONE;
  customers = new Map<string, Customer>();
  orders = new Map<string, Order>();
  products = new Map<string, Product>();
  articles = new Map<string, Taggable>();
  draftOrders = new Map<string, Taggable>();
  /** Collections, segments and other references discounts may point at. */
  references = new Map<string, Set<string>>();
  discounts = new Map<string, Discount>();
  codes = new Map<string, string>(); // lower-cased code -> discount id
  metafields = new Map<string, Metafield>();
  metafieldIndex = new Map<string, Map<string, string>>(); // ownerKey -> "ns.key" -> id
  /** Metafield definitions: "OWNER_TYPE:namespace.key" -> definition. */
  metafieldDefinitions = new Map<string, MetafieldDefinition>();
  bulkOperations = new Map<string, BulkOperation>();
  webhookSubscriptions = new Map<string, WebhookSubscriptionRecord>();
  /** Shop.createdAt (a store file may set it). */
  createdAt = "2022-06-01T00:00:00Z";
  stagedUploads = new Map<string, StagedUpload>();
  /** flowTriggerReceive calls Shopify accepted, oldest first (resolvers/flow.ts). */
  flowTriggers: { handle: string; payload: Record<string, unknown>; receivedAt: string }[] = [];
  /** Flow trigger handles the shop's installed app version does not have yet (refused as unknown). */
  undeployedFlowTriggers = new Set<string>();
  private ordersByCustomer = new Map<string, string[]>();
  private customerTagCasing = new Map<string, string>();
  private nextIdValue = 20_000_000_000_000n;
  private sorted = new Map<string, string[] | undefined>();
  /** Milliseconds clock for this shop (tests can move it). */
  now: () => number;

  constructor(domain: string, now: () => number = Date.now) {
    this.domain = domain;
    this.name = domain.replace(/\.myshopify\.com$/, "");
    this.email = `owner@${this.name}.example.com`;
    this.shopId = String(548380009 + (hashDomain(domain) % 100000));
    this.now = now;
  }

  nextId(): string {
    this.nextIdValue += 32_768n; // Shopify-like spacing; deterministic
    return String(this.nextIdValue);
  }

  nowIso(): string {
    return new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  /** Ids of a collection sorted numerically (cached until the collection changes). */
  sortedIds(kind: "customers" | "orders" | "products"): string[] {
    let ids = this.sorted.get(kind);
    if (!ids) {
      ids = [...this[kind].keys()].sort((a, b) => (a.length - b.length) || (a < b ? -1 : a > b ? 1 : 0));
      this.sorted.set(kind, ids);
    }
    return ids;
  }

  touched(kind: "customers" | "orders" | "products") {
    this.sorted.set(kind, undefined);
  }

  // ------------------------------------------------------------- writes

  putCustomer(c: Customer) {
    if (!this.customers.has(c.id)) this.touched("customers");
    this.customers.set(c.id, c);
    for (const t of c.tags) if (!this.customerTagCasing.has(t.toLowerCase())) this.customerTagCasing.set(t.toLowerCase(), t);
  }

  /**
   * Customer tags are kept shop-wide, case-insensitively: a tag added in another casing
   * takes the spelling the shop already has (conformance tags-add-multi-resource
   * normalizationCases.customer.caseSortAdd: "A" became "a"; orders, articles and draft
   * orders keep the given casing).
   */
  canonicalCustomerTags(tags: readonly string[]): string[] {
    return tags.map((t) => this.customerTagCasing.get(t.toLowerCase()) ?? t);
  }

  putOrder(o: Order) {
    const previous = this.orders.get(o.id);
    if (!previous) this.touched("orders");
    if (previous?.customerId && previous.customerId !== o.customerId) {
      const list = this.ordersByCustomer.get(previous.customerId);
      if (list) this.ordersByCustomer.set(previous.customerId, list.filter((id) => id !== o.id));
    }
    if (o.customerId && previous?.customerId !== o.customerId) {
      let list = this.ordersByCustomer.get(o.customerId);
      if (!list) this.ordersByCustomer.set(o.customerId, (list = []));
      list.push(o.id);
      if (list.length > 1 && cmpId(list[list.length - 2]!, o.id) > 0) list.sort(cmpId);
    }
    this.orders.set(o.id, o);
  }

  /** Order ids of a customer, oldest (lowest id) first. */
  orderIdsOf(customerId: string): readonly string[] {
    return this.ordersByCustomer.get(customerId) ?? [];
  }

  putProduct(p: Product) {
    if (!this.products.has(p.id)) this.touched("products");
    this.products.set(p.id, p);
  }

  /** Deletes a customer (Shopify deletes only customers without orders; tests may do either). */
  deleteCustomer(id: string): boolean {
    if (!this.customers.delete(id)) return false;
    this.touched("customers");
    return true;
  }

  deleteOrder(id: string): boolean {
    const o = this.orders.get(id);
    if (!o) return false;
    this.orders.delete(id);
    this.touched("orders");
    if (o.customerId) {
      const list = this.ordersByCustomer.get(o.customerId);
      if (list) this.ordersByCustomer.set(o.customerId, list.filter((x) => x !== id));
    }
    return true;
  }

  addReference(type: string, id: string) {
    let set = this.references.get(type);
    if (!set) this.references.set(type, (set = new Set()));
    set.add(id);
  }

  hasReference(type: string, id: string): boolean {
    if (type === "Customer") return this.customers.has(id);
    if (type === "Product") return this.products.has(id);
    if (type === "ProductVariant") {
      for (const p of this.products.values()) if (p.variants.some((v) => v.id === id)) return true;
      return this.references.get(type)?.has(id) ?? false;
    }
    return this.references.get(type)?.has(id) ?? false;
  }

  metafieldsOf(ownerType: Metafield["ownerType"], ownerId: string): Metafield[] {
    const idx = this.metafieldIndex.get(`${ownerType}:${ownerId}`);
    if (!idx) return [];
    return [...idx.values()].map((id) => this.metafields.get(id)!).sort((a, b) => cmpId(a.id, b.id));
  }

  findMetafield(ownerType: Metafield["ownerType"], ownerId: string, namespace: string, key: string): Metafield | undefined {
    const id = this.metafieldIndex.get(`${ownerType}:${ownerId}`)?.get(`${namespace}.${key}`);
    return id ? this.metafields.get(id) : undefined;
  }

  findDefinition(ownerType: Metafield["ownerType"], namespace: string, key: string): MetafieldDefinition | undefined {
    return this.metafieldDefinitions.get(`${ownerType}:${namespace}.${key}`);
  }

  putDefinition(d: MetafieldDefinition) {
    this.metafieldDefinitions.set(`${d.ownerType}:${d.namespace}.${d.key}`, d);
  }

  putMetafield(m: Metafield) {
    this.metafields.set(m.id, m);
    const k = `${m.ownerType}:${m.ownerId}`;
    let idx = this.metafieldIndex.get(k);
    if (!idx) this.metafieldIndex.set(k, (idx = new Map()));
    idx.set(`${m.namespace}.${m.key}`, m.id);
  }

  // ------------------------------------------------------------- seeding

  /** Loads a generated store: products, customers and orders in their final state. */
  loadStore(store: SyntheticStore, options: { maxOrders?: number } = {}) {
    for (const p of store.products()) this.putProduct(productFromGen(p));
    for (const c of store.customers()) this.putCustomer(customerFromGen(c));
    let n = 0;
    for (const o of store.orders()) {
      if (options.maxOrders !== undefined && n++ >= options.maxOrders) break;
      this.putOrder(orderFromGen(o));
    }
  }

}

function hashDomain(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) >>> 0;
  return h;
}

export const cmpId = (a: string, b: string) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);

export function compareDigest(m: Pick<Metafield, "value" | "type" | "updatedAt">): string {
  return createHash("sha256").update(`${m.type}\u0000${m.value}\u0000${m.updatedAt}`).digest("hex");
}

const money = (cents: number) => (cents / 100).toFixed(2);

export function customerFromGen(c: GenCustomer): Customer {
  const addressId = String(c.address.id);
  return {
    id: String(c.id),
    firstName: c.firstName,
    lastName: c.lastName,
    email: c.email,
    phone: c.phone,
    note: c.note,
    tags: [...c.tags],
    state: c.state === "enabled" ? "ENABLED" : "DISABLED",
    verifiedEmail: c.verifiedEmail,
    taxExempt: false,
    taxExemptions: [],
    locale: c.locale,
    multipassIdentifier: null,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    emailMarketing: {
      state: c.emailMarketing.state.toUpperCase(),
      optInLevel: c.emailMarketing.optInLevel?.toUpperCase() ?? null,
      updatedAt: c.emailMarketing.consentUpdatedAt,
    },
    smsMarketing: { state: "NOT_SUBSCRIBED", optInLevel: c.phone ? "SINGLE_OPT_IN" : null, updatedAt: null },
    addresses: [
      {
        id: addressId,
        firstName: c.firstName,
        lastName: c.lastName,
        company: null,
        address1: c.address.address1,
        address2: null,
        city: c.address.city,
        province: c.address.province,
        provinceCode: c.address.provinceCode,
        country: c.address.country,
        countryCode: c.address.countryCode,
        zip: c.address.zip,
        phone: c.address.phone,
      },
    ],
    defaultAddressId: addressId,
  };
}

export function productFromGen(p: GenProduct): Product {
  return {
    id: String(p.id),
    title: p.title,
    handle: p.handle,
    productType: p.productType,
    vendor: p.vendor,
    status: "ACTIVE",
    tags: sortTags([...p.tags]), // Shopify returns tags sorted
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
    publishedAt: p.createdAt,
    variants: p.variants.map((v) => ({ id: String(v.id), title: v.title, sku: v.sku, price: money(v.priceCents), createdAt: p.createdAt, updatedAt: p.updatedAt })),
  };
}

export function orderFromGen(o: GenOrder): Order {
  const refunded = o.refunds.reduce((s, r) => s + r.amountCents, 0);
  const voided = o.cancel?.mode === "voided";
  const financial = voided ? "VOIDED" : refunded >= o.totalCents && refunded > 0 ? "REFUNDED" : refunded > 0 ? "PARTIALLY_REFUNDED" : "PAID";
  const refundedQty = new Map<bigint, number>();
  for (const r of o.refunds) for (const l of r.lines) refundedQty.set(l.lineItemId, (refundedQty.get(l.lineItemId) ?? 0) + l.quantity);
  const currentSubtotal = o.refunds.some((r) => r.kind === "full")
    ? 0
    : o.subtotalCents - o.refunds.reduce((s, r) => s + r.lines.reduce((x, l) => x + l.subtotalCents, 0), 0);
  return {
    id: String(o.id),
    name: o.name,
    number: o.number - 1000,
    email: o.email,
    phone: null,
    customerId: o.customerId === null ? null : String(o.customerId),
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
    processedAt: o.createdAt,
    cancelledAt: o.cancel?.at ?? null,
    cancelReason: o.cancel ? o.cancel.reason.toUpperCase() : null,
    closedAt: o.fulfillment && !o.cancel ? o.fulfillment.createdAt : null,
    test: o.test,
    tags: [...o.tags],
    note: null,
    currency: o.currency,
    financialStatus: financial,
    fulfillmentStatus: o.fulfillment ? "FULFILLED" : "UNFULFILLED",
    confirmed: true,
    sourceName: o.sourceName,
    discountCodes: o.discountCode ? [o.discountCode] : [],
    customerAcceptsMarketing: false,
    lineItems: o.lines.map((l) => ({
      id: String(l.id),
      title: l.title,
      variantTitle: l.variantTitle === "Default Title" ? null : l.variantTitle,
      sku: l.sku,
      vendor: l.vendor,
      quantity: l.quantity,
      currentQuantity: l.quantity - (refundedQty.get(l.id) ?? 0),
      productId: String(l.productId),
      variantId: String(l.variantId),
      unitPrice: money(l.unitPriceCents),
      // The order discount spread over the lines as the webhook payloads do (webhook-payloads.ts lineItemPayload).
      discount: money(o.discountCents === 0 ? 0 : Math.round((l.unitPriceCents * l.quantity * o.discountCents) / (o.subtotalCents + o.discountCents))),
    })),
    subtotal: money(o.subtotalCents),
    totalDiscounts: money(o.discountCents),
    totalTax: money(o.taxCents),
    total: money(o.totalCents),
    currentSubtotal: money(Math.max(0, currentSubtotal)),
    currentTotal: money(voided ? 0 : Math.max(0, o.totalCents - refunded)),
    totalRefunded: money(refunded),
    totalShipping: money(o.shippingCents),
    currentTotalDiscounts: money(o.discountCents),
    currentTotalTax: money(o.taxCents),
    refunds: o.refunds.map((r) => ({
      id: String(r.id),
      createdAt: r.createdAt,
      note: r.note,
      amount: money(r.amountCents),
      lines: r.lines.map((l) => ({ id: String(l.id), lineItemId: String(l.lineItemId), quantity: l.quantity, subtotal: money(l.subtotalCents), totalTax: "0.00", restockType: "NO_RESTOCK" })),
    })),
    fulfillments: o.fulfillment
      ? [{ id: String(o.fulfillment.id), createdAt: o.fulfillment.createdAt, status: "SUCCESS", name: `${o.name}.1`, totalQuantity: o.lines.reduce((s, l) => s + l.quantity, 0) }]
      : [],
  };
}

// ---------------------------------------------------------------- tags

/**
 * Shopify's tag input normalisation (conformance 2025-01/products/tags-*,
 * customers/customer-tag-note-limits-parity): a list, or one string, whose elements are
 * split on commas and trimmed; blanks dropped; duplicates removed case-insensitively
 * keeping the first spelling.
 */
export function normalizeTagInput(tags: string | readonly string[]): string[] {
  const list = typeof tags === "string" ? [tags] : tags;
  const out: string[] = [];
  const seen = new Set<string>();
  for (const item of list)
    for (const part of item.split(",")) {
      const tag = part.trim();
      if (!tag || seen.has(tag.toLowerCase())) continue;
      seen.add(tag.toLowerCase());
      out.push(tag);
    }
  return out;
}

/** Stored tags are kept sorted case-insensitively, as Shopify returns them. */
export function sortTags(tags: string[]): string[] {
  return [...tags].sort((a, b) => {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

export function addTags(existing: readonly string[], add: readonly string[]): string[] {
  const have = new Set(existing.map((t) => t.toLowerCase()));
  const out = [...existing];
  for (const t of add) {
    if (have.has(t.toLowerCase())) continue;
    have.add(t.toLowerCase());
    out.push(t);
  }
  return sortTags(out);
}

/**
 * Removal matches case-insensitively on products and customers but exactly on orders,
 * draft orders and articles (conformance 2025-01/products/tags-add-multi-resource,
 * normalizationCases.*.caseVariantRemove).
 */
export function removeTags(existing: readonly string[], remove: readonly string[], caseSensitive = false): string[] {
  if (caseSensitive) {
    const drop = new Set(remove);
    return sortTags(existing.filter((t) => !drop.has(t)));
  }
  const drop = new Set(remove.map((t) => t.toLowerCase()));
  return sortTags(existing.filter((t) => !drop.has(t.toLowerCase())));
}
