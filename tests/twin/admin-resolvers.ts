// Field resolvers of the twin's Admin GraphQL schema. One dispatch table keyed by
// "Type.field"; anything not listed reads the property of the same name.
//
// Behaviour is taken from ../shared/shopify/conformance wherever a capture shows it
// (the capture is named next to the rule); elsewhere from PLATFORM.md.
import { GraphQLError, type GraphQLResolveInfo } from "graphql";
import {
  addTags,
  cmpId,
  compareDigest,
  normalizeTagInput,
  removeTags,
  sortTags,
  type Customer,
  type Discount,
  type Metafield,
  type MetafieldDefinition,
  type Order,
  type Product,
  type ShopState,
} from "./admin-state";
import { matches, paginate, parseSearch, PaginationError, type FieldReader, type PageArgs } from "./search";

export type TwinContext = {
  shop: ShopState;
  /** Base URL of this twin (bulk operation result files, staged uploads). */
  baseUrl: string;
  apiVersion: string;
  appId: string;
  bulk: {
    runQuery(ctx: TwinContext, query: string, groupObjects: boolean): { bulkOperation: unknown; userErrors: unknown[] };
    runMutation(ctx: TwinContext, mutation: string, stagedUploadPath: string, clientIdentifier: string | null): { bulkOperation: unknown; userErrors: unknown[] };
  };
};

type Args = Record<string, unknown>;
type Resolver = (source: any, args: Args, ctx: TwinContext, info: GraphQLResolveInfo) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

// ------------------------------------------------------------------ helpers

export const gid = (type: string, id: string | number | bigint) => `gid://shopify/${type}/${id}`;
export function parseGid(value: unknown): { type: string; id: string } | null {
  if (typeof value !== "string") return null;
  const m = /^gid:\/\/shopify\/([A-Za-z0-9_]+)\/([^/?\s]+)/.exec(value);
  return m ? { type: m[1]!, id: m[2]! } : null;
}

/** A view of a record that reports its GraphQL type (for interfaces and unions). */
export function typed<T extends object>(typename: string, record: T): T {
  const view = Object.create(record) as T & { __typename: string };
  Object.defineProperty(view, "__typename", { value: typename, enumerable: true });
  return view;
}

/** Shopify prints Decimal like Ruby's BigDecimal: "10.0", "124.48", "0.0". */
export function decimal(value: string | number): string {
  const n = typeof value === "number" ? value.toFixed(2) : value.trim();
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(n);
  if (!m) return n;
  const frac = (m[3] ?? "").replace(/0+$/, "");
  return `${m[1]}${m[2]!.replace(/^0+(?=\d)/, "")}.${frac || "0"}`;
}
const moneyV2 = (amount: string | number, currencyCode: string) => ({ amount: decimal(amount), currencyCode });
const moneyBag = (amount: string | number, currencyCode: string) => ({ shopMoney: moneyV2(amount, currencyCode), presentmentMoney: moneyV2(amount, currencyCode) });
const centsOf = (amount: string) => Math.round(Number(amount) * 100);

export function userError(field: string[] | null, message: string) {
  return { field, message };
}

export class TwinExecError extends GraphQLError {
  constructor(message: string, code: string, extra: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extra } });
  }
}

function connection<T>(page: ReturnType<typeof paginate<T>>) {
  return { edges: page.items, nodes: page.items.map((i) => i.node), pageInfo: page.pageInfo };
}

function pageArgs(args: Args): PageArgs {
  return {
    first: (args.first as number | null | undefined) ?? null,
    last: (args.last as number | null | undefined) ?? null,
    after: (args.after as string | null | undefined) ?? null,
    before: (args.before as string | null | undefined) ?? null,
    reverse: (args.reverse as boolean | null | undefined) ?? false,
  };
}

function page<T>(items: readonly T[], args: Args, idOf: (t: T) => string, sortValue: (t: T) => string | number = idOf, sortedById = true) {
  try {
    return connection(paginate(items, pageArgs(args), idOf, sortValue, sortedById));
  } catch (e) {
    if (e instanceof PaginationError) throw new TwinExecError(e.message, "BAD_REQUEST");
    throw e;
  }
}

function formatPhone(phone: string): string {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(phone);
  return m ? `+1 ${m[1]}-${m[2]}-${m[3]}` : phone;
}

function displayName(c: Customer): string {
  const name = [c.firstName, c.lastName].filter((x) => x && x.trim()).join(" ");
  if (name) return name;
  if (c.email) return c.email;
  if (c.phone) return formatPhone(c.phone);
  return "";
}

// ------------------------------------------------------------------ search readers

const readCustomer =
  (shop: ShopState): FieldReader<Customer> =>
  (c, field) => {
    switch (field) {
      case "id":
        return [Number(c.id)];
      case "email":
        return [c.email];
      case "phone":
        return [c.phone];
      case "first_name":
        return [c.firstName];
      case "last_name":
        return [c.lastName];
      case "tag":
        return c.tags;
      case "tag_not":
        return undefined;
      case "state":
        return [c.state];
      case "created_at":
        return [c.createdAt];
      case "updated_at":
        return [c.updatedAt];
      case "country": {
        const a = c.addresses.find((x) => x.id === c.defaultAddressId);
        return [a?.country ?? null, a?.countryCode ?? null];
      }
      case "accepts_marketing":
      case "email_marketing_state":
        return [c.emailMarketing.state === "SUBSCRIBED" ? "true" : "false", c.emailMarketing.state];
      case "orders_count":
      case "number_of_orders":
        return [shop.orderIdsOf(c.id).length];
      case "total_spent":
      case "amount_spent":
        return [customerAmountSpent(shop, c)];
      case "customer_date":
        return [c.createdAt];
      default:
        return undefined;
    }
  };

const readOrder: FieldReader<Order> = (o, field) => {
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

const readProduct: FieldReader<Product> = (p, field) => {
  switch (field) {
    case "id":
      return [Number(p.id)];
    case "title":
      return [p.title];
    case "tag":
      return p.tags;
    case "product_type":
      return [p.productType];
    case "vendor":
      return [p.vendor];
    case "status":
      return [p.status];
    case "handle":
      return [p.handle];
    case "created_at":
      return [p.createdAt];
    case "updated_at":
      return [p.updatedAt];
    case "sku":
      return p.variants.map((v) => v.sku);
    default:
      return undefined;
  }
};

function customerAmountSpent(shop: ShopState, c: Customer): number {
  let cents = 0;
  for (const id of shop.orderIdsOf(c.id)) {
    const o = shop.orders.get(id);
    if (o) cents += centsOf(o.currentTotal);
  }
  return cents / 100;
}

const cmpStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function sortCustomers(list: Customer[], key: unknown): { list: Customer[]; value: (c: Customer) => string | number; byId: boolean } {
  switch (key) {
    case "CREATED_AT":
      return { list: [...list].sort((a, b) => cmpStr(a.createdAt, b.createdAt) || cmpId(a.id, b.id)), value: (c) => c.createdAt, byId: false };
    case "UPDATED_AT":
      return { list: [...list].sort((a, b) => cmpStr(a.updatedAt, b.updatedAt) || cmpId(a.id, b.id)), value: (c) => c.updatedAt, byId: false };
    case "NAME":
      return { list: [...list].sort((a, b) => displayName(a).localeCompare(displayName(b)) || cmpId(a.id, b.id)), value: (c) => displayName(c), byId: false };
    default:
      return { list, value: (c) => c.id, byId: true };
  }
}

function sortOrders(list: Order[], key: unknown): { list: Order[]; value: (o: Order) => string | number; byId: boolean } {
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

function sortProducts(list: Product[], key: unknown): { list: Product[]; value: (p: Product) => string | number; byId: boolean } {
  const by = (f: (p: Product) => string) => ({ list: [...list].sort((a, b) => cmpStr(f(a), f(b)) || cmpId(a.id, b.id)), value: f, byId: false });
  switch (key) {
    case "TITLE":
      return by((p) => p.title);
    case "CREATED_AT":
      return by((p) => p.createdAt);
    case "UPDATED_AT":
      return by((p) => p.updatedAt);
    case "PRODUCT_TYPE":
      return by((p) => p.productType);
    case "VENDOR":
      return by((p) => p.vendor);
    default:
      return { list, value: (p) => p.id, byId: true };
  }
}

export function searchCustomers(shop: ShopState, query: unknown): Customer[] {
  const expr = parseSearch(query as string | null);
  const ids = shop.sortedIds("customers");
  const out: Customer[] = [];
  const read = readCustomer(shop);
  for (const id of ids) {
    const c = shop.customers.get(id)!;
    if (matches(c, expr, read, ["email", "first_name", "last_name", "phone", "tag"])) out.push(c);
  }
  return out;
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

export function searchProducts(shop: ShopState, query: unknown): Product[] {
  const expr = parseSearch(query as string | null);
  const out: Product[] = [];
  for (const id of shop.sortedIds("products")) {
    const p = shop.products.get(id)!;
    if (matches(p, expr, readProduct, ["title", "product_type", "vendor", "tag"])) out.push(p);
  }
  return out;
}

function count(n: number, limit: unknown) {
  if (typeof limit === "number" && n > limit) return { count: limit, precision: "AT_LEAST" };
  return { count: n, precision: "EXACT" };
}

// ------------------------------------------------------------------ metafields

/** Valid metafield types (message text from conformance 2025-01/customers/customer-update-parity). */
export const METAFIELD_TYPES = [
  "antenna_gain", "area", "battery_charge_capacity", "battery_energy_capacity", "boolean", "capacitance", "color", "concentration",
  "data_storage_capacity", "data_transfer_rate", "date_time", "date", "dimension", "display_density", "distance", "duration",
  "electric_current", "electrical_resistance", "energy", "float", "frequency", "id", "illuminance", "inductance", "integer",
  "json_string", "json", "jurisdiction", "language", "link", "list.antenna_gain", "list.area", "list.battery_charge_capacity",
  "list.battery_energy_capacity", "list.boolean", "list.capacitance", "list.color", "list.concentration", "list.data_storage_capacity",
  "list.data_transfer_rate", "list.date_time", "list.date", "list.dimension", "list.display_density", "list.distance", "list.duration",
  "list.electric_current", "list.electrical_resistance", "list.energy", "list.frequency", "list.illuminance", "list.inductance",
  "list.jurisdiction", "list.link", "list.luminous_flux", "list.mass_flow_rate", "list.multi_line_text_field", "list.number_decimal",
  "list.number_integer", "list.power", "list.pressure", "list.rating", "list.resolution", "list.rotational_speed",
  "list.single_line_text_field", "list.sound_level", "list.speed", "list.temperature", "list.thermal_power", "list.url", "list.voltage",
  "list.volume", "list.volumetric_flow_rate", "list.weight", "luminous_flux", "mass_flow_rate", "money", "multi_line_text_field",
  "number_decimal", "number_integer", "power", "pressure", "rating", "resolution", "rich_text_field", "rotational_speed",
  "single_line_text_field", "sound_level", "speed", "string", "temperature", "thermal_power", "url", "voltage", "volume",
  "volumetric_flow_rate", "weight", "company_reference", "list.company_reference", "customer_reference", "list.customer_reference",
  "product_reference", "list.product_reference", "collection_reference", "list.collection_reference", "variant_reference",
  "list.variant_reference", "file_reference", "list.file_reference", "product_taxonomy_value_reference",
  "list.product_taxonomy_value_reference", "product_taxonomy_disclosure_reference", "metaobject_reference", "list.metaobject_reference",
  "mixed_reference", "list.mixed_reference", "disclosure_reference", "list.disclosure_reference", "page_reference", "list.page_reference",
  "article_reference", "list.article_reference", "order_reference", "list.order_reference",
];
const METAFIELD_TYPE_SET = new Set(METAFIELD_TYPES);
export const METAFIELD_TYPE_MESSAGE = `Type must be one of the following: ${METAFIELD_TYPES.join(", ")}.`;

function metafieldValueProblem(type: string, value: string): string | null {
  switch (type) {
    case "number_integer":
    case "integer":
      return /^-?\d+$/.test(value) ? null : "Value must be an integer.";
    case "number_decimal":
    case "float":
      return /^-?\d+(\.\d+)?$/.test(value) ? null : "Value must be a decimal.";
    case "boolean":
      return value === "true" || value === "false" ? null : "Value must be true or false.";
    case "json":
    case "json_string":
      try {
        JSON.parse(value);
        return null;
      } catch {
        return "Value is invalid JSON.";
      }
    case "single_line_text_field":
      return value.includes("\n") ? "Value cannot contain line breaks." : null;
    case "date":
      return /^\d{4}-\d{2}-\d{2}$/.test(value) ? null : "Value must be in YYYY-MM-DD format.";
    case "rating":
      return ratingValueProblem(value);
    case "date_time":
      return Number.isNaN(Date.parse(value)) ? "Value must be in YYYY-MM-DDTHH:MM:SS format." : null;
    default:
      return null;
  }
}

const DECIMAL = /^-?\d+(\.\d+)?$/;

/** A `rating` value: JSON {"value", "scale_min", "scale_max"}, decimals as strings, min < max, min <= value <= max. */
function ratingValueProblem(value: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return "Value is invalid JSON.";
  }
  const r = parsed as Record<string, unknown> | null;
  if (!r || typeof r !== "object" || Array.isArray(r)) return "Value must be a rating object.";
  for (const k of ["value", "scale_min", "scale_max"]) {
    if (r[k] === undefined || r[k] === null) return `Value is missing the key '${k}'.`;
    if (!DECIMAL.test(String(r[k]))) return `Value '${k}' must be a decimal.`;
  }
  const [v, min, max] = [Number(r.value), Number(r.scale_min), Number(r.scale_max)];
  if (min >= max) return "Value scale_min must be less than scale_max.";
  if (v < min || v > max) return `Value must be between ${String(r.scale_min)} and ${String(r.scale_max)}.`;
  return null;
}

/** A value checked against a definition's validations (the standard review templates' only). */
function definitionValueProblem(d: MetafieldDefinition, value: string): string | null {
  if (d.type === "rating") {
    const r = JSON.parse(value) as { value: string; scale_min: string; scale_max: string };
    if (Number(r.scale_min) !== Number(d.validations.scale_min) || Number(r.scale_max) !== Number(d.validations.scale_max))
      return `Value scale must be ${d.validations.scale_min} to ${d.validations.scale_max}.`;
  }
  if (d.type === "number_integer" && d.validations.min !== undefined && Number(value) < Number(d.validations.min)) return `Value must be greater than or equal to ${d.validations.min}.`;
  return null;
}

/**
 * The standard metafield definition templates the twin knows (Shopify's product review
 * templates; https://shopify.dev/apps/metafields/definitions/standard-definitions).
 */
export const STANDARD_DEFINITION_TEMPLATES: { ownerTypes: Metafield["ownerType"][]; namespace: string; key: string; name: string; type: string; validations: Record<string, string> }[] = [
  { ownerTypes: ["PRODUCT"], namespace: "reviews", key: "rating", name: "Product rating", type: "rating", validations: { scale_min: "1.0", scale_max: "5.0" } },
  { ownerTypes: ["PRODUCT"], namespace: "reviews", key: "rating_count", name: "Product rating count", type: "number_integer", validations: { min: "0" } },
];

function standardMetafieldDefinitionEnable(ctx: TwinContext, a: { ownerType: string; id?: string | null; namespace?: string | null; key?: string | null }) {
  const shop = ctx.shop;
  const fail = (field: string[] | null, message: string, code: string) => ({ createdDefinition: null, userErrors: [{ field, message, code }] });
  if (!a.id && !(a.namespace && a.key)) return fail(null, "A namespace and key or standard metafield definition template ID is required.", "INVALID_INPUT_COMBINATION");
  const template = STANDARD_DEFINITION_TEMPLATES.find((t) => t.namespace === a.namespace && t.key === a.key && t.ownerTypes.includes(a.ownerType as Metafield["ownerType"]));
  if (!template) return fail(null, "A standard definition wasn't found for the specified owner type, namespace, and key.", "TEMPLATE_NOT_FOUND");
  const ownerType = a.ownerType as Metafield["ownerType"];
  if (shop.findDefinition(ownerType, template.namespace, template.key)) return fail(["key"], "Key is in use for Product metafields on the 'reviews' namespace.".replace("reviews", template.namespace), "TAKEN");
  const d: MetafieldDefinition = { id: shop.nextId(), ownerType, namespace: template.namespace, key: template.key, name: template.name, type: template.type, validations: { ...template.validations } };
  shop.putDefinition(d);
  return { createdDefinition: d, userErrors: [] };
}

function resolveNamespace(ctx: TwinContext, namespace: string | null | undefined): string {
  const ns = namespace ?? "$app";
  if (ns === "$app") return `app--${ctx.appId}`;
  if (ns.startsWith("$app:")) return `app--${ctx.appId}--${ns.slice(5)}`;
  return ns;
}

const OWNER_TYPES: Record<string, Metafield["ownerType"]> = { Customer: "CUSTOMER", Order: "ORDER", Product: "PRODUCT", DiscountCodeNode: "DISCOUNT" };

function ownerExists(shop: ShopState, type: string, id: string): boolean {
  if (type === "Customer") return shop.customers.has(id);
  if (type === "Order") return shop.orders.has(id);
  if (type === "Product") return shop.products.has(id);
  if (type === "DiscountCodeNode") return shop.discounts.has(id);
  return false;
}

type MetafieldInput = { ownerId?: string; namespace?: string | null; key: string; value: string; type?: string | null; compareDigest?: string | null };

function upsertMetafield(ctx: TwinContext, ownerType: Metafield["ownerType"], ownerId: string, input: MetafieldInput): Metafield {
  const shop = ctx.shop;
  const namespace = resolveNamespace(ctx, input.namespace);
  const now = shop.nowIso();
  const existing = shop.findMetafield(ownerType, ownerId, namespace, input.key);
  const m: Metafield = existing
    ? { ...existing, value: input.value, type: input.type ?? existing.type, updatedAt: now }
    : { id: shop.nextId(), ownerType, ownerId, namespace, key: input.key, type: input.type ?? "single_line_text_field", value: input.value, createdAt: now, updatedAt: now };
  shop.putMetafield(m);
  return m;
}

function metafieldJsonValue(m: Metafield): unknown {
  if (m.type === "number_integer" || m.type === "integer") return Number(m.value);
  if (m.type === "number_decimal" || m.type === "float") return m.value;
  if (m.type === "boolean") return m.value === "true";
  if (m.type === "json" || m.type === "json_string" || m.type === "rating" || m.type.startsWith("list.")) {
    try {
      return JSON.parse(m.value);
    } catch {
      return m.value;
    }
  }
  return m.value;
}

const metafieldResolvers = (ownerType: Metafield["ownerType"]): Record<string, Resolver> => ({
  metafield: (s: { id: string }, args, ctx) => {
    const m = ctx.shop.findMetafield(ownerType, s.id, resolveNamespace(ctx, args.namespace as string | null), args.key as string);
    return m ?? null;
  },
  metafields: (s: { id: string }, args, ctx) => {
    let list = ctx.shop.metafieldsOf(ownerType, s.id);
    if (args.namespace) list = list.filter((m) => m.namespace === resolveNamespace(ctx, args.namespace as string));
    if (Array.isArray(args.keys)) list = list.filter((m) => (args.keys as string[]).includes(`${m.namespace}.${m.key}`));
    return page(list, args, (m) => m.id, (m) => m.id);
  },
});

// ------------------------------------------------------------------ discounts

function discountStatus(d: Discount, nowMs: number): "ACTIVE" | "EXPIRED" | "SCHEDULED" {
  if (Date.parse(d.startsAt) > nowMs) return "SCHEDULED";
  if (d.endsAt && Date.parse(d.endsAt) <= nowMs) return "EXPIRED";
  return "ACTIVE";
}

function discountClass(d: Discount): "ORDER" | "PRODUCT" | "SHIPPING" {
  if (d.kind === "DiscountCodeFreeShipping") return "SHIPPING";
  return d.customerGets && "all" in d.customerGets.items ? "ORDER" : "PRODUCT";
}

const usd = (cents: number) => `$${(cents / 100).toFixed(2)}`;

function discountSummary(d: Discount, shop: ShopState): string {
  const parts: string[] = [];
  // Which purchases a code applies to, as the summary words it (the capture shop sells
  // subscriptions): "one-time purchase products", "subscription products" or "all products".
  const purchases = (oneTime: boolean, subscription: boolean) =>
    subscription && !oneTime ? "subscription products" : oneTime && !subscription ? "one-time purchase products" : "all products";
  if (d.kind === "DiscountCodeFreeShipping") {
    parts.push(`Free shipping on ${purchases(d.appliesOnOneTimePurchase, d.appliesOnSubscription)}`);
  } else if (d.customerGets) {
    const v = d.customerGets.value;
    const what = "percentage" in v ? `${Math.round(v.percentage * 10000) / 100}% off` : `${usd(centsOf(v.amount))} off`;
    const items = d.customerGets.items;
    // A code discount on all items names the purchases it applies to, not "entire order"
    // (discount-code-basic-lifecycle, discount-upstream-fixed-amount-activate, discount-redeem-code-bulk;
    // "entire order" is the automatic discounts' wording, discount-activate-deactivate-noop-idempotence).
    let target = purchases(d.customerGets.appliesOnOneTimePurchase, d.customerGets.appliesOnSubscription);
    if ("products" in items) {
      const titles = items.products.map((id) => shop.products.get(id)?.title).filter((x): x is string => !!x);
      const n = items.products.length + items.variants.length;
      target = titles.length === 1 && n === 1 ? titles[0]! : `${n} products`;
    } else if ("collections" in items) target = `${items.collections.length} collection${items.collections.length === 1 ? "" : "s"}`;
    parts.push(`${what} ${target}`);
  }
  const min = d.minimumRequirement;
  if (min && "subtotal" in min) parts.push(`Minimum purchase of ${usd(centsOf(min.subtotal))}`);
  if (min && "quantity" in min) parts.push(`Minimum quantity of ${min.quantity}`);
  if (d.kind === "DiscountCodeFreeShipping" && d.destination) {
    parts.push("all" in d.destination ? "For all countries" : d.destination.countries.length === 1 ? `For ${d.destination.countries[0]}` : `For ${d.destination.countries.length} countries`);
  }
  if (d.kind === "DiscountCodeFreeShipping" && d.maximumShippingPrice) parts.push(`Applies to shipping rates under ${usd(centsOf(d.maximumShippingPrice))}`);
  if (d.appliesOncePerCustomer) parts.push("One use per customer");
  return parts.join(" • ");
}

const discountFields: Record<string, Resolver> = {
  codes: (d: Discount, args) => page(d.codes, args, (c) => c.id, (c) => c.id),
  codesCount: (d: Discount) => ({ count: d.codes.length, precision: "EXACT" }),
  status: (d: Discount, _a, ctx) => discountStatus(d, ctx.shop.now()),
  summary: (d: Discount, _a, ctx) => discountSummary(d, ctx.shop),
  shortSummary: (d: Discount, _a, ctx) => discountSummary(d, ctx.shop).split(" • ")[0],
  discountClass: (d: Discount) => discountClass(d),
  discountClasses: (d: Discount) => [discountClass(d)],
  asyncUsageCount: () => 0,
  combinesWith: (d: Discount) => d.combinesWith,
  context: (d: Discount, _a, ctx) =>
    "all" in d.context
      ? { __typename: "DiscountBuyerSelectionAll", all: "ALL" }
      : { __typename: "DiscountCustomers", customers: d.context.customers.map((id) => ctx.shop.customers.get(id)).filter(Boolean) },
  customerSelection: (d: Discount, _a, ctx) =>
    "all" in d.context
      ? { __typename: "DiscountCustomerAll", allCustomers: true }
      : { __typename: "DiscountCustomers", customers: d.context.customers.map((id) => ctx.shop.customers.get(id)).filter(Boolean) },
  customerGets: (d: Discount, _a, ctx) => {
    const g = d.customerGets!;
    const value =
      "percentage" in g.value
        ? { __typename: "DiscountPercentage", percentage: g.value.percentage }
        : { __typename: "DiscountAmount", amount: moneyV2(g.value.amount, ctx.shop.currency), appliesOnEachItem: g.value.appliesOnEachItem };
    const items =
      "all" in g.items
        ? { __typename: "AllDiscountItems", allItems: true }
        : "products" in g.items
          ? { __typename: "DiscountProducts", productIds: g.items.products, variantIds: g.items.variants }
          : { __typename: "DiscountCollections", collectionIds: g.items.collections };
    return { value, items, appliesOnOneTimePurchase: g.appliesOnOneTimePurchase, appliesOnSubscription: g.appliesOnSubscription };
  },
  minimumRequirement: (d: Discount, _a, ctx) => {
    const m = d.minimumRequirement;
    if (!m) return null;
    return "subtotal" in m
      ? { __typename: "DiscountMinimumSubtotal", greaterThanOrEqualToSubtotal: moneyV2(m.subtotal, ctx.shop.currency) }
      : { __typename: "DiscountMinimumQuantity", greaterThanOrEqualToQuantity: m.quantity };
  },
  destinationSelection: (d: Discount) =>
    !d.destination || "all" in d.destination
      ? { __typename: "DiscountCountryAll", allCountries: true }
      : { __typename: "DiscountCountries", countries: d.destination.countries, includeRestOfWorld: d.destination.includeRestOfWorld },
  maximumShippingPrice: (d: Discount, _a, ctx) => (d.maximumShippingPrice ? moneyV2(d.maximumShippingPrice, ctx.shop.currency) : null),
};

// ------------------------------------------------------------------ resolver table

function nodeFor(shop: ShopState, id: unknown): object | null {
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

/** Resources tagsAdd / tagsRemove accept (PLATFORM.md 3.2; conformance tags-add-multi-resource). */
function taggable(shop: ShopState, id: unknown): { typename: string; record: { tags: string[] }; save: () => void } | null {
  const g = parseGid(id);
  if (!g) return null;
  const now = shop.nowIso();
  switch (g.type) {
    case "Customer": {
      const c = shop.customers.get(g.id);
      return c ? { typename: "Customer", record: c, save: () => (c.updatedAt = now) } : null;
    }
    case "Order": {
      const o = shop.orders.get(g.id);
      return o ? { typename: "Order", record: o, save: () => (o.updatedAt = now) } : null;
    }
    case "Product": {
      const p = shop.products.get(g.id);
      return p ? { typename: "Product", record: p, save: () => (p.updatedAt = now) } : null;
    }
    case "Article": {
      const a = shop.articles.get(g.id);
      return a ? { typename: "Article", record: a, save: () => undefined } : null;
    }
    case "DraftOrder": {
      const d = shop.draftOrders.get(g.id);
      return d ? { typename: "DraftOrder", record: d, save: () => undefined } : null;
    }
    default:
      return null;
  }
}

const idResolver = (type: string) => (s: { id: string }) => gid(type, s.id);
const legacy = (s: { id: string }) => s.id;

export const RESOLVERS: Record<string, Record<string, Resolver>> = {
  QueryRoot: {
    customer: (_s, a, ctx) => {
      const g = parseGid(a.id);
      const c = g?.type === "Customer" ? ctx.shop.customers.get(g.id) : undefined;
      return c ?? null;
    },
    customers: (_s, a, ctx) => {
      const sorted = sortCustomers(searchCustomers(ctx.shop, a.query), a.sortKey);
      return page(sorted.list, a, (c) => c.id, sorted.value, sorted.byId);
    },
    customersCount: (_s, a, ctx) => count(a.query ? searchCustomers(ctx.shop, a.query).length : ctx.shop.customers.size, a.limit),
    order: (_s, a, ctx) => {
      const g = parseGid(a.id);
      return (g?.type === "Order" && ctx.shop.orders.get(g.id)) || null;
    },
    orders: (_s, a, ctx) => {
      const sorted = sortOrders(searchOrders(ctx.shop, a.query), a.sortKey);
      return page(sorted.list, a, (o) => o.id, sorted.value, sorted.byId);
    },
    ordersCount: (_s, a, ctx) => count(a.query ? searchOrders(ctx.shop, a.query).length : ctx.shop.orders.size, a.limit),
    product: (_s, a, ctx) => {
      const g = parseGid(a.id);
      return (g?.type === "Product" && ctx.shop.products.get(g.id)) || null;
    },
    products: (_s, a, ctx) => {
      const sorted = sortProducts(searchProducts(ctx.shop, a.query), a.sortKey);
      return page(sorted.list, a, (p) => p.id, sorted.value, sorted.byId);
    },
    productsCount: (_s, a, ctx) => count(a.query ? searchProducts(ctx.shop, a.query).length : ctx.shop.products.size, a.limit),
    codeDiscountNode: (_s, a, ctx) => {
      const g = parseGid(a.id);
      return (g?.type === "DiscountCodeNode" && ctx.shop.discounts.get(g.id)) || null;
    },
    codeDiscountNodeByCode: (_s, a, ctx) => {
      const id = ctx.shop.codes.get(String(a.code).toLowerCase());
      return id ? (ctx.shop.discounts.get(id) ?? null) : null;
    },
    node: (_s, a, ctx) => nodeFor(ctx.shop, a.id),
    nodes: (_s, a, ctx) => (a.ids as string[]).map((id) => nodeFor(ctx.shop, id)),
    shop: (_s, _a, ctx) => ctx.shop,
    currentBulkOperation: (_s, a, ctx) => {
      const type = (a.type as string | undefined) ?? "QUERY";
      const ops = [...ctx.shop.bulkOperations.values()].filter((b) => b.type === type).sort((x, y) => cmpId(y.id, x.id));
      return ops[0] ?? null;
    },
    bulkOperation: (_s, a, ctx) => {
      const g = parseGid(a.id);
      return (g?.type === "BulkOperation" && ctx.shop.bulkOperations.get(g.id)) || null;
    },
  },

  Mutation: {
    tagsAdd: (_s, a, ctx, info) => tagsMutation(ctx, a, info, "add"),
    tagsRemove: (_s, a, ctx, info) => tagsMutation(ctx, a, info, "remove"),
    customerUpdate: (_s, a, ctx, info) => customerUpdate(ctx, a.input as Record<string, unknown>, info),
    metafieldsSet: (_s, a, ctx) => metafieldsSet(ctx, a.metafields as MetafieldInput[]),
    standardMetafieldDefinitionEnable: (_s, a, ctx) => standardMetafieldDefinitionEnable(ctx, a as { ownerType: string; namespace?: string | null; key?: string | null }),
    discountCodeBasicCreate: (_s, a, ctx, info) => discountCreate(ctx, "DiscountCodeBasic", a.basicCodeDiscount as DiscountInput, info),
    discountCodeFreeShippingCreate: (_s, a, ctx, info) => discountCreate(ctx, "DiscountCodeFreeShipping", a.freeShippingCodeDiscount as DiscountInput, info),
    bulkOperationRunQuery: (_s, a, ctx) => ctx.bulk.runQuery(ctx, a.query as string, a.groupObjects as boolean),
    bulkOperationRunMutation: (_s, a, ctx) =>
      ctx.bulk.runMutation(ctx, a.mutation as string, a.stagedUploadPath as string, (a.clientIdentifier as string | null | undefined) ?? null),
    bulkOperationCancel: (_s, a, ctx) => {
      const g = parseGid(a.id);
      const op = g?.type === "BulkOperation" ? ctx.shop.bulkOperations.get(g.id) : undefined;
      if (!op) return { bulkOperation: null, userErrors: [{ field: ["id"], message: "Bulk operation does not exist", code: null }] };
      if (op.status !== "CREATED" && op.status !== "RUNNING")
        return { bulkOperation: op, userErrors: [{ field: null, message: `A bulk operation cannot be canceled when it is ${op.status.toLowerCase()}`, code: null }] };
      op.status = "CANCELED";
      op.completedAt = ctx.shop.nowIso();
      return { bulkOperation: op, userErrors: [] };
    },
    stagedUploadsCreate: (_s, a, ctx) => stagedUploadsCreate(ctx, a.input as { resource: string; filename: string; mimeType: string; httpMethod?: string }[]),
  },

  Customer: {
    id: idResolver("Customer"),
    legacyResourceId: legacy,
    displayName: (c: Customer) => displayName(c),
    defaultEmailAddress: (c: Customer) =>
      c.email
        ? {
            emailAddress: c.email,
            marketingState: c.emailMarketing.state,
            marketingOptInLevel: c.emailMarketing.optInLevel,
            marketingUpdatedAt: c.emailMarketing.updatedAt,
            validFormat: /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(c.email),
          }
        : null,
    defaultPhoneNumber: (c: Customer) =>
      c.phone
        ? { phoneNumber: c.phone, marketingState: c.smsMarketing.state, marketingOptInLevel: c.smsMarketing.optInLevel, marketingUpdatedAt: c.smsMarketing.updatedAt }
        : null,
    emailMarketingConsent: (c: Customer) =>
      c.email ? { marketingState: c.emailMarketing.state, marketingOptInLevel: c.emailMarketing.optInLevel, consentUpdatedAt: c.emailMarketing.updatedAt } : null,
    amountSpent: (c: Customer, _a, ctx) => moneyV2(customerAmountSpent(ctx.shop, c), ctx.shop.currency),
    numberOfOrders: (c: Customer, _a, ctx) => String(ctx.shop.orderIdsOf(c.id).length),
    defaultAddress: (c: Customer) => c.addresses.find((x) => x.id === c.defaultAddressId) ?? null,
    addresses: (c: Customer, a) => (typeof a.first === "number" ? c.addresses.slice(0, a.first) : c.addresses),
    canDelete: (c: Customer, _a, ctx) => ctx.shop.orderIdsOf(c.id).length === 0,
    lastOrder: (c: Customer, _a, ctx) => {
      const ids = ctx.shop.orderIdsOf(c.id);
      return ids.length ? (ctx.shop.orders.get(ids[ids.length - 1]!) ?? null) : null;
    },
    orders: (c: Customer, a, ctx) => {
      const sorted = sortOrders(searchOrders(ctx.shop, a.query, ctx.shop.orderIdsOf(c.id)), a.sortKey);
      return page(sorted.list, a, (o) => o.id, sorted.value, sorted.byId);
    },
    ...metafieldResolvers("CUSTOMER"),
  },
  MailingAddress: {
    id: (a: { id: string }) => `gid://shopify/MailingAddress/${a.id}?model_name=CustomerAddress`,
    countryCodeV2: (a: { countryCode: string | null }) => a.countryCode,
    name: (a: { firstName: string | null; lastName: string | null }) => [a.firstName, a.lastName].filter(Boolean).join(" ") || null,
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
  Product: {
    id: idResolver("Product"),
    legacyResourceId: legacy,
    totalVariants: (p: Product) => p.variants.length,
    variants: (p: Product, a) => page(p.variants.map((v) => ({ ...v, productId: p.id })), a, (v) => v.id, (v) => v.id),
    ...metafieldResolvers("PRODUCT"),
  },
  ProductVariant: {
    id: idResolver("ProductVariant"),
    legacyResourceId: legacy,
    price: (v: { price: string }) => decimal(v.price),
    product: (v: { productId: string }, _a, ctx) => ctx.shop.products.get(v.productId),
  },
  Article: { id: idResolver("Article") },
  DraftOrder: { id: idResolver("DraftOrder"), legacyResourceId: legacy },
  MetafieldDefinition: {
    id: idResolver("MetafieldDefinition"),
    type: (d: MetafieldDefinition) => ({ name: d.type }),
  },
  Metafield: {
    id: idResolver("Metafield"),
    legacyResourceId: legacy,
    jsonValue: (m: Metafield) => metafieldJsonValue(m),
    compareDigest: (m: Metafield) => compareDigest(m),
  },
  Shop: {
    id: (s: ShopState) => gid("Shop", s.shopId),
    myshopifyDomain: (s: ShopState) => s.domain,
    currencyCode: (s: ShopState) => s.currency,
    ianaTimezone: (s: ShopState) => s.ianaTimezone,
  },
  DiscountCodeNode: {
    id: idResolver("DiscountCodeNode"),
    codeDiscount: (d: Discount) => typed(d.kind, d),
  },
  DiscountCodeBasic: discountFields,
  DiscountCodeFreeShipping: discountFields,
  DiscountRedeemCode: { id: idResolver("DiscountRedeemCode"), asyncUsageCount: () => 0 },
  DiscountProducts: {
    products: (s: { productIds: string[] }, a, ctx) =>
      page(s.productIds.map((id) => ctx.shop.products.get(id)).filter((p): p is Product => !!p), a, (p) => p.id),
    productVariants: (s: { variantIds: string[] }, a, ctx) => {
      const out: { id: string; productId: string }[] = [];
      for (const id of s.variantIds)
        for (const p of ctx.shop.products.values()) {
          const v = p.variants.find((x) => x.id === id);
          if (v) out.push({ ...v, productId: p.id });
        }
      return page(out, a, (v) => v.id);
    },
  },
  BulkOperation: {
    id: idResolver("BulkOperation"),
    // UnsignedInt64 is a string on the wire (conformance run-*-created-status: "objectCount": "0")
    objectCount: (b: { objectCount: number }) => String(b.objectCount),
    rootObjectCount: (b: { rootObjectCount: number }) => String(b.rootObjectCount),
    fileSize: (b: { fileSize: number | null }) => (b.fileSize === null ? null : String(b.fileSize)),
  },
};

export function fieldResolver(source: unknown, args: Args, ctx: TwinContext, info: GraphQLResolveInfo): unknown {
  const r = RESOLVERS[info.parentType.name]?.[info.fieldName];
  if (r) return r(source, args, ctx, info);
  if (source !== null && typeof source === "object") return (source as Record<string, unknown>)[info.fieldName];
  return undefined;
}

export function typeResolver(value: unknown): string | undefined {
  return (value as { __typename?: string } | null)?.__typename;
}

// ------------------------------------------------------------------ mutations

function tagsMutation(ctx: TwinContext, a: Args, _info: GraphQLResolveInfo, mode: "add" | "remove") {
  const target = taggable(ctx.shop, a.id);
  // conformance tags-add-multi-resource `unsupportedAdd`: top-level "invalid id" / RESOURCE_NOT_FOUND
  if (!target) throw new TwinExecError("invalid id", "RESOURCE_NOT_FOUND");
  const given = normalizeTagInput(a.tags as string | string[]);
  const tags = target.typename === "Customer" ? ctx.shop.canonicalCustomerTags(given) : given;
  const caseSensitive = target.typename === "Order" || target.typename === "DraftOrder" || target.typename === "Article";
  const next = mode === "add" ? addTags(target.record.tags, tags) : removeTags(target.record.tags, tags, caseSensitive);
  if (next.length > 250) return { node: null, userErrors: [userError(["tags"], "Tags cannot be more than 250")] };
  target.record.tags = next;
  target.save();
  if (target.typename === "Customer") ctx.shop.putCustomer(target.record as Customer);
  return { node: typed(target.typename, target.record), userErrors: [] };
}

function customerUpdate(ctx: TwinContext, input: Record<string, unknown>, _info: GraphQLResolveInfo) {
  const shop = ctx.shop;
  const g = parseGid(input.id);
  const existing = g?.type === "Customer" ? shop.customers.get(g.id) : undefined;
  // conformance 2025-01/customers/customer-update-parity `validation`
  if (!existing) return { customer: null, userErrors: [userError(["id"], "Customer does not exist")] };
  // conformance 2026-07/customers/customer-input-inline-consent-parity
  for (const [field, mutation] of [
    ["emailMarketingConsent", "customerEmailMarketingConsentUpdate"],
    ["smsMarketingConsent", "customerSmsMarketingConsentUpdate"],
    ["whatsAppMarketingConsent", "customerWhatsAppMarketingConsentUpdate"],
  ] as const) {
    if (input[field] !== undefined && input[field] !== null)
      return { customer: null, userErrors: [userError([field], `To update ${field}, please use the ${mutation} Mutation instead`)] };
  }
  const next: Customer = { ...existing, tags: [...existing.tags] };
  const errors: { field: string[] | null; message: string }[] = [];
  const str = (k: string) => (input[k] === undefined ? undefined : (input[k] as string | null));
  for (const k of ["firstName", "lastName", "note", "locale", "multipassIdentifier"] as const) {
    const v = str(k);
    if (v !== undefined) (next as Record<string, unknown>)[k] = v === "" && k !== "note" ? null : v;
  }
  if (input.email !== undefined) {
    const email = (input.email as string | null)?.trim() || null;
    if (email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) errors.push(userError(["email"], "Email is invalid"));
    else if (email && [...shop.customers.values()].some((c) => c.id !== existing.id && c.email?.toLowerCase() === email.toLowerCase()))
      errors.push(userError(["email"], "Email has already been taken"));
    next.email = email ? email.toLowerCase() : null;
  }
  if (input.phone !== undefined) next.phone = (input.phone as string | null) || null;
  if (input.taxExempt !== undefined && input.taxExempt !== null) next.taxExempt = input.taxExempt as boolean;
  if (input.taxExemptions !== undefined && input.taxExemptions !== null) next.taxExemptions = input.taxExemptions as string[];
  // conformance customer-tag-note-limits-parity
  if (typeof next.note === "string" && next.note.length > 5000) errors.push(userError(["note"], "Note is too long (maximum is 5000 characters)"));
  if (input.tags !== undefined && input.tags !== null) {
    const tags = shop.canonicalCustomerTags(normalizeTagInput(input.tags as string[]));
    if (tags.length > 250) errors.push(userError(["tags"], "Tags cannot be more than 250"));
    next.tags = sortTags(tags);
  }
  const metafields = (input.metafields as MetafieldInput[] | null | undefined) ?? [];
  metafields.forEach((m, i) => {
    if (m.type && !METAFIELD_TYPE_SET.has(m.type)) errors.push(userError(["metafields", String(i), "type"], METAFIELD_TYPE_MESSAGE));
  });
  // conformance 2025-01/customers/customer-update-requires-identity
  if (errors.length === 0 && !next.firstName && !next.lastName && !next.email && !next.phone)
    errors.push(userError(null, "A name, phone number, or email address must be present"));
  if (errors.length > 0) return { customer: null, userErrors: errors };
  next.updatedAt = shop.nowIso();
  shop.putCustomer(next);
  for (const m of metafields) upsertMetafield(ctx, "CUSTOMER", next.id, m);
  return { customer: next, userErrors: [] };
}

function metafieldsSet(ctx: TwinContext, inputs: MetafieldInput[]) {
  const shop = ctx.shop;
  const errors: { field: string[]; message: string; code: string; elementIndex: number }[] = [];
  const err = (i: number, field: string, message: string, code: string) => errors.push({ field: ["metafields", String(i), field], message, code, elementIndex: i });
  const resolved: { ownerType: Metafield["ownerType"]; ownerId: string; input: MetafieldInput }[] = [];
  inputs.forEach((m, i) => {
    const g = parseGid(m.ownerId);
    const ownerType = g ? OWNER_TYPES[g.type] : undefined;
    if (!g || !ownerType || !ownerExists(shop, g.type, g.id)) return err(i, "ownerId", "Owner does not exist.", "INVALID");
    const namespace = resolveNamespace(ctx, m.namespace);
    const existing = shop.findMetafield(ownerType, g.id, namespace, m.key);
    const definition = shop.findDefinition(ownerType, namespace, m.key);
    const type = m.type ?? definition?.type ?? existing?.type;
    if (definition && type !== definition.type) err(i, "type", `Type '${type}' does not match the definition's type '${definition.type}'.`, "INVALID_TYPE");
    if (!m.key || !m.key.trim()) err(i, "key", "Key can't be blank", "BLANK");
    else if (m.key.length < 2 || m.key.length > 64) err(i, "key", m.key.length < 2 ? "Key is too short (minimum is 2 characters)" : "Key is too long (maximum is 64 characters)", m.key.length < 2 ? "TOO_SHORT" : "TOO_LONG");
    if (namespace.length < 2) err(i, "namespace", "Namespace is too short (minimum is 2 characters)", "TOO_SHORT");
    if (!type) err(i, "type", "Type can't be blank", "BLANK");
    else if (!METAFIELD_TYPE_SET.has(type)) err(i, "type", METAFIELD_TYPE_MESSAGE, "INCLUSION");
    else {
      const problem = metafieldValueProblem(type, m.value) ?? (definition && definition.type === type ? definitionValueProblem(definition, m.value) : null);
      if (problem) err(i, "value", problem, "INVALID_VALUE");
    }
    if (m.compareDigest !== undefined) {
      const current = existing ? compareDigest(existing) : null;
      if (m.compareDigest !== current)
        err(i, "compareDigest", "The resource has been updated since it was loaded. Try again with an updated `compareDigest` value.", "STALE_OBJECT");
    }
    resolved.push({ ownerType, ownerId: g.id, input: { ...m, type } });
  });
  if (errors.length > 0) return { metafields: null, userErrors: errors };
  const out = resolved.map((r) => upsertMetafield(ctx, r.ownerType, r.ownerId, r.input));
  return { metafields: out, userErrors: [] };
}

type DiscountInput = Record<string, unknown> & {
  title?: string | null;
  code?: string | null;
  startsAt?: string | null;
  endsAt?: string | null;
  usageLimit?: number | null;
  appliesOncePerCustomer?: boolean | null;
  appliesOnOneTimePurchase?: boolean | null;
  appliesOnSubscription?: boolean | null;
  recurringCycleLimit?: number | null;
  combinesWith?: { orderDiscounts?: boolean | null; productDiscounts?: boolean | null; shippingDiscounts?: boolean | null; productDiscountsWithTagsOnSameCartLine?: { add?: string[] | null; remove?: string[] | null } | null } | null;
  context?: { all?: string | null; customers?: { add?: string[] | null; remove?: string[] | null } | null; customerSegments?: { add?: string[] | null; remove?: string[] | null } | null } | null;
  customerSelection?: { all?: boolean | null; customers?: { add?: string[] | null; remove?: string[] | null } | null; customerSegments?: { add?: string[] | null; remove?: string[] | null } | null } | null;
  customerGets?: {
    value?: { percentage?: number | null; discountAmount?: { amount: string; appliesOnEachItem?: boolean | null } | null; discountOnQuantity?: unknown } | null;
    items?: { all?: boolean | null; products?: { productsToAdd?: string[] | null; productVariantsToAdd?: string[] | null } | null; collections?: { add?: string[] | null; remove?: string[] | null } | null } | null;
    appliesOnOneTimePurchase?: boolean | null;
    appliesOnSubscription?: boolean | null;
  } | null;
  minimumRequirement?: { quantity?: { greaterThanOrEqualToQuantity?: string | null } | null; subtotal?: { greaterThanOrEqualToSubtotal?: string | null } | null } | null;
  destination?: { all?: boolean | null; countries?: { add?: string[] | null; remove?: string[] | null; includeRestOfWorld?: boolean | null } | null } | null;
  maximumShippingPrice?: string | null;
  tags?: string[] | null;
};

const overlap = (a?: readonly string[] | null, b?: readonly string[] | null) => !!a && !!b && a.some((x) => b.includes(x));
const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;
const DECIMAL_LIMIT = 10n ** 18n;
const bigDecimal = (s: string) => BigInt(s.trim().split(".")[0]!.replace(/^\+/, "") || "0");

function discountCreate(ctx: TwinContext, kind: Discount["kind"], input: DiscountInput, _info: GraphQLResolveInfo) {
  const shop = ctx.shop;
  const root = kind === "DiscountCodeBasic" ? "basicCodeDiscount" : "freeShippingCodeDiscount";
  const f = (...path: string[]) => [root, ...path];

  // Request-level rejections: top-level error, data null (conformance 2026-04/discounts
  // discount-add-remove-overlap, discount-customer-gets-value-multiple-types,
  // discount-customer-selection-internal-conflicts, discount-combines-with-validation).
  const value = input.customerGets?.value;
  if (value && [value.percentage, value.discountAmount, value.discountOnQuantity].filter((x) => x !== undefined && x !== null).length > 1)
    throw new TwinExecError("A discount can only have one of percentage, discountOnQuantity or discountAmount.", "BAD_REQUEST");
  const sel = input.customerSelection;
  if (sel?.all && (sel.customers?.add?.length || sel.customers?.remove?.length))
    throw new TwinExecError("A discount cannot have customerSelection set to all, when customers or customerSavedSearches is specified.", "BAD_REQUEST");
  if (sel?.all && (sel.customerSegments?.add?.length || sel.customerSegments?.remove?.length))
    throw new TwinExecError("A discount cannot have customerSelection set to all, when customerSegments is specified.", "BAD_REQUEST");
  if (overlap(sel?.customers?.add, sel?.customers?.remove) || overlap(input.context?.customers?.add, input.context?.customers?.remove))
    throw new TwinExecError("A customer id is present in `add` and `remove` fields", "BAD_REQUEST");
  if (overlap(input.customerGets?.items?.collections?.add, input.customerGets?.items?.collections?.remove))
    throw new TwinExecError("The same Collection id is present in both 'add' and 'remove' fields", "BAD_REQUEST");
  if (overlap(input.destination?.countries?.add, input.destination?.countries?.remove))
    throw new TwinExecError("A country code is present in `add` and `remove` field", "BAD_REQUEST");
  const tagLine = input.combinesWith?.productDiscountsWithTagsOnSameCartLine;
  if (overlap(tagLine?.add, tagLine?.remove))
    throw new TwinExecError("The same tag is present in both `add` and `remove` fields of `productDiscountsWithTagsOnSameCartLine`.", "BAD_REQUEST");

  type DUE = { field: string[] | null; message: string; code: string | null; extraInfo: string | null };
  const errors: DUE[] = [];
  const e = (field: string[] | null, message: string, code: string) => errors.push({ field, message, code, extraInfo: null });

  const items = input.customerGets?.items;
  const cls = kind === "DiscountCodeFreeShipping" ? "SHIPPING" : items?.all ? "ORDER" : items ? "PRODUCT" : "ORDER";
  // combinesWith (discount-combines-with-validation)
  if (tagLine?.add?.length) {
    e(f("combinesWith", "productDiscountsWithTagsOnSameCartLine"), "The shop's plan does not allow setting `productDiscountsWithTagsOnSameCartLine`.", "PRODUCT_DISCOUNTS_WITH_TAGS_ON_SAME_CART_LINE_NOT_ENTITLED");
    if (cls !== "PRODUCT")
      e(
        f("combinesWith", "productDiscountsWithTagsOnSameCartLine"),
        "Combines with product discounts with tags on same cart line is only valid for discounts with the PRODUCT discount class",
        "INVALID_PRODUCT_DISCOUNTS_WITH_TAGS_ON_SAME_CART_LINE_FOR_DISCOUNT_CLASS",
      );
  }
  if (cls === "SHIPPING" && input.combinesWith?.shippingDiscounts)
    e(f("combinesWith"), "The combinesWith settings are not valid for the discount class.", "INVALID_COMBINES_WITH_FOR_DISCOUNT_CLASS");
  // title (discount-title-validation)
  const title = input.title ?? "";
  if (!title.trim()) e(f("title"), "Title can't be blank", "BLANK");
  else if (title.length > 255) e(f("title"), "Title is too long (maximum is 255 characters)", "TOO_LONG");
  // code (discount-code-required-blank-validation, discount-validation-branches `duplicate`)
  const code = input.code;
  if (code === undefined || code === null) e(f("code"), "Code can't be blank", "BLANK");
  else if (code.length === 0) e(f("code"), "Code is too short (minimum is 1 character)", "TOO_SHORT");
  else if (/[\r\n]/.test(code)) e(f("code"), "Code cannot contain newline characters.", "INVALID");
  else if (code.length > 255) e(f("code"), "Code is too long (maximum is 255 characters)", "TOO_LONG");
  else if (shop.codes.has(code.toLowerCase())) e(f("code"), "Code must be unique. Please try a different code.", "TAKEN");
  // dates (discount-starts-at-required-validation, discount-invalid-date-range-all-types)
  if (!input.startsAt) e(f("startsAt"), "Starts at can't be blank", "BLANK");
  else if (input.endsAt && Date.parse(input.endsAt) <= Date.parse(input.startsAt)) e(f("endsAt"), "Ends at needs to be after starts_at", "INVALID");
  // buyer context (discount-context-customer-selection-conflict)
  if (input.context && input.customerSelection) e(f("context"), "Only one of context or customerSelection can be provided.", "INVALID");
  // customerGets (discount-value-bounds, discount-basic-disallowed-discount-on-quantity, discount-numeric-bounds)
  if (kind === "DiscountCodeBasic") {
    if (!input.customerGets) e(f("customerGets"), "Customer gets can't be blank", "BLANK"); // not captured: required per PLATFORM.md 3.5
    if (value?.discountOnQuantity !== undefined && value?.discountOnQuantity !== null)
      e(f("customerGets", "value", "discountOnQuantity"), "discountOnQuantity field is only permitted with bxgy discounts.", "INVALID");
    if (typeof value?.percentage === "number" && (value.percentage < 0 || value.percentage > 1))
      e(f("customerGets", "value", "percentage"), "Value must be between 0.0 and 1.0", "VALUE_OUTSIDE_RANGE");
    if (value?.discountAmount) {
      const amount = value.discountAmount.amount;
      if (Number(amount) < 0) e(f("customerGets", "value", "discountAmount", "amount"), "Value must be less than or equal to 0", "LESS_THAN_OR_EQUAL_TO");
      else if (bigDecimal(amount) >= DECIMAL_LIMIT)
        e(f("customerGets", "value", "discountAmount", "amount"), "Value must be greater than -1000000000000000000", "LESS_THAN");
    }
    // entitled items (discount-items-refs-validation, discount-validation-branches `badRefs`)
    const productsAdd = items?.products?.productsToAdd ?? [];
    const variantsAdd = items?.products?.productVariantsToAdd ?? [];
    const collectionsAdd = items?.collections?.add ?? [];
    if (collectionsAdd.length && (productsAdd.length || variantsAdd.length))
      e(f("customerGets", "items", "collections", "add"), "Cannot entitle collections in combination with product variants or products", "CONFLICT");
    for (const id of productsAdd) {
      const g = parseGid(id);
      if (!g || !shop.hasReference("Product", g.id)) e(f("customerGets", "items", "products", "productsToAdd"), `Product with id: ${g?.id ?? id} is invalid`, "INVALID");
    }
    for (const id of variantsAdd) {
      const g = parseGid(id);
      if (!g || !shop.hasReference("ProductVariant", g.id))
        e(f("customerGets", "items", "products", "productVariantsToAdd"), `Product variant with id: ${g?.id ?? id} is invalid`, "INVALID");
    }
    if (!(productsAdd.length || variantsAdd.length))
      for (const id of collectionsAdd) {
        const g = parseGid(id);
        if (!g || !shop.hasReference("Collection", g.id)) e(f("customerGets", "items", "collections", "add"), `Collection with id: ${g?.id ?? id} is invalid`, "INVALID");
      }
  }
  // minimum requirement (discount-minimum-requirement-exclusivity)
  const minQ = input.minimumRequirement?.quantity?.greaterThanOrEqualToQuantity;
  const minS = input.minimumRequirement?.subtotal?.greaterThanOrEqualToSubtotal;
  if (minQ != null && minS != null) {
    e(f("minimumRequirement", "subtotal", "greaterThanOrEqualToSubtotal"), "Minimum subtotal cannot be defined when minimum quantity is.", "CONFLICT");
    e(f("minimumRequirement", "quantity", "greaterThanOrEqualToQuantity"), "Minimum quantity cannot be defined when minimum subtotal is.", "CONFLICT");
  } else {
    if (minQ != null && BigInt(minQ) >= BigInt(INT32_MAX))
      e(f("minimumRequirement", "quantity", "greaterThanOrEqualToQuantity"), "Minimum quantity must be less than 2147483647", "LESS_THAN");
    if (minS != null && bigDecimal(minS) >= DECIMAL_LIMIT)
      e(f("minimumRequirement", "subtotal", "greaterThanOrEqualToSubtotal"), "Minimum subtotal must be less than 1000000000000000000", "LESS_THAN");
  }
  // numeric bounds (discount-numeric-bounds)
  if (typeof input.usageLimit === "number") {
    if (input.usageLimit > INT32_MAX) e(f("usageLimit"), "Usage limit must be less than or equal to 2147483647", "LESS_THAN_OR_EQUAL_TO");
    else if (input.usageLimit <= 0) {
      e(f("usageLimit"), "Usage limit must be greater than 0", "GREATER_THAN");
      if (input.usageLimit < INT32_MIN) e(f("usageLimit"), "Usage limit must be greater than or equal to -2147483648", "GREATER_THAN_OR_EQUAL_TO");
    }
  }
  if (typeof input.recurringCycleLimit === "number" && input.recurringCycleLimit > INT32_MAX)
    e(f("recurringCycleLimit"), "Recurring cycle limit must be less than or equal to 2147483647", "LESS_THAN_OR_EQUAL_TO");

  if (errors.length > 0) return { codeDiscountNode: null, userErrors: errors };

  const now = shop.nowIso();
  const customersAdd = input.context?.customers?.add ?? input.customerSelection?.customers?.add ?? null;
  const d: Discount = {
    id: shop.nextId(),
    kind,
    title,
    codes: [{ id: shop.nextId(), code: code! }],
    startsAt: new Date(input.startsAt!).toISOString().replace(/\.\d{3}Z$/, "Z"),
    endsAt: input.endsAt ? new Date(input.endsAt).toISOString().replace(/\.\d{3}Z$/, "Z") : null,
    createdAt: now,
    updatedAt: now,
    usageLimit: input.usageLimit ?? null,
    appliesOncePerCustomer: input.appliesOncePerCustomer ?? false,
    appliesOnOneTimePurchase: input.appliesOnOneTimePurchase ?? input.customerGets?.appliesOnOneTimePurchase ?? true,
    appliesOnSubscription: input.appliesOnSubscription ?? input.customerGets?.appliesOnSubscription ?? false,
    // 1 when not given, for amount/percentage codes as for free shipping (discount-upstream-fixed-amount-activate,
    // discount-activate-deactivate-noop-idempotence, discount-free-shipping-lifecycle).
    recurringCycleLimit: input.recurringCycleLimit ?? 1,
    combinesWith: {
      orderDiscounts: input.combinesWith?.orderDiscounts ?? false,
      productDiscounts: input.combinesWith?.productDiscounts ?? false,
      shippingDiscounts: input.combinesWith?.shippingDiscounts ?? false,
      productDiscountsWithTagsOnSameCartLine: null,
    },
    context: customersAdd ? { customers: customersAdd.map((x) => parseGid(x)?.id ?? x) } : { all: true },
    minimumRequirement: minQ != null ? { quantity: String(minQ) } : minS != null ? { subtotal: minS } : null,
    tags: input.tags ?? [],
  };
  if (kind === "DiscountCodeBasic" && input.customerGets) {
    const v = input.customerGets.value;
    const it = input.customerGets.items;
    d.customerGets = {
      value: v?.discountAmount ? { amount: v.discountAmount.amount, appliesOnEachItem: v.discountAmount.appliesOnEachItem ?? false } : { percentage: v?.percentage ?? 0 },
      items: it?.products
        ? { products: (it.products.productsToAdd ?? []).map((x) => parseGid(x)!.id), variants: (it.products.productVariantsToAdd ?? []).map((x) => parseGid(x)!.id) }
        : it?.collections
          ? { collections: (it.collections.add ?? []).map((x) => parseGid(x)!.id) }
          : { all: true },
      appliesOnOneTimePurchase: input.customerGets.appliesOnOneTimePurchase ?? true,
      appliesOnSubscription: input.customerGets.appliesOnSubscription ?? false,
    };
  }
  if (kind === "DiscountCodeFreeShipping") {
    const dest = input.destination;
    d.destination = dest?.countries ? { countries: dest.countries.add ?? [], includeRestOfWorld: dest.countries.includeRestOfWorld ?? false } : { all: true };
    d.maximumShippingPrice = input.maximumShippingPrice ?? null;
  }
  shop.discounts.set(d.id, d);
  shop.codes.set(code!.toLowerCase(), d.id);
  return { codeDiscountNode: d, userErrors: [] };
}

function stagedUploadsCreate(ctx: TwinContext, inputs: { resource: string; filename: string; mimeType: string; httpMethod?: string }[]) {
  const targets = inputs.map((i) => {
    const key = `tmp/${ctx.shop.shopId}/bulk/${crypto.randomUUID()}/${i.filename}`;
    ctx.shop.stagedUploads.set(key, { key, body: null, createdAt: ctx.shop.nowIso() });
    const url = `${ctx.baseUrl}/staged-uploads/${encodeURIComponent(ctx.shop.domain)}`;
    return {
      url,
      resourceUrl: url,
      parameters:
        (i.httpMethod ?? "PUT") === "POST"
          ? [
              { name: "Content-Type", value: i.mimeType },
              { name: "success_action_status", value: "201" },
              { name: "acl", value: "private" },
              { name: "key", value: key },
            ]
          : [{ name: "key", value: key }],
    };
  });
  return { stagedTargets: targets, userErrors: [] };
}
