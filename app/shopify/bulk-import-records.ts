// The history import's JSONL lines (bulk query results of IMPORT_CUSTOMERS_QUERY,
// IMPORT_ORDERS_QUERY, IMPORT_PRODUCTS_QUERY in admin-documents.ts) mapped to the rows the
// import stages. Pure: JSON in (one parsed line), plain records out, zod at the edge. The
// meaning of every field is the one the webhook mappers (webhook-payloads.ts) give the same
// data, so an import and the webhooks of the same history leave the same CRM model
// (tests/integration/history-import.test.ts checks it customer by customer).
import { z } from "zod";
import type { AddressInput, LineItemInput, OrderInput } from "../domain/crm-events";
import { toMinorUnits } from "../domain/money";
import { legacyIdOf } from "./webhook-payloads";

const gid = (type: string) => z.string().startsWith(`gid://shopify/${type}/`);
const text = z.string().nullish().transform((v) => v ?? null);
const time = z.string().refine((v) => !Number.isNaN(Date.parse(v)), "must be an ISO-8601 time").transform((v) => new Date(v));
const optionalTime = time.nullish().transform((v) => v ?? null);
const amount = z.union([z.string(), z.number()]);
/** GraphQL enums are upper case; webhooks (REST) carry the same values in lower case. */
const lower = (v: string | null) => (v === null ? null : v.toLowerCase());

export type StagedCustomer = {
  gid: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  state: string | null;
  note: string | null;
  verifiedEmail: boolean | null;
  countryCode: string | null;
  province: string | null;
  city: string | null;
  addresses: AddressInput[];
  tags: string[];
  emailState: string | null;
  emailOptInLevel: string | null;
  emailConsentAt: Date | null;
  createdAt: Date | null;
  updatedAt: Date | null;
  amountSpentMinor: bigint | null;
  amountSpentCurrency: string | null;
  numberOfOrders: bigint | null;
};

/** An order as staged: the webhooks' OrderInput with its customer as a gid; line items and refunds are staged apart. */
export type StagedOrder = Omit<OrderInput, "customer" | "lineItems" | "refunds" | "checkoutToken" | "customerLocale"> & { customerGid: string | null };

export type StagedRefund = {
  gid: string;
  legacyId: string;
  orderLegacyId: string;
  amountMinor: bigint;
  currency: string | null;
  note: string | null;
  refundedAt: Date;
};

/** A line item as staged: the webhooks' LineItemInput with its order's gid. */
export type StagedLineItem = LineItemInput & { orderGid: string };

export type StagedProduct = {
  gid: string;
  title: string | null;
  productType: string | null;
  vendor: string | null;
  status: string | null;
  tags: string[];
  createdAt: Date | null;
  updatedAt: Date | null;
};

export type ImportRecord =
  | { kind: "customer"; customer: StagedCustomer }
  | { kind: "order"; order: StagedOrder; refunds: StagedRefund[] }
  | { kind: "line_item"; parentGid: string; lineItem: StagedLineItem }
  | { kind: "product"; product: StagedProduct };

const address = z.object({
  id: z.string().nullish(),
  countryCodeV2: text,
  provinceCode: text,
  province: text,
  city: text,
  zip: text,
  address1: text,
  address2: text,
});

const customerLine = z.object({
  id: gid("Customer"),
  email: text,
  firstName: text,
  lastName: text,
  phone: text,
  state: text,
  note: text,
  verifiedEmail: z.boolean().nullish(),
  tags: z.array(z.string()).nullish(),
  createdAt: optionalTime,
  updatedAt: optionalTime,
  amountSpent: z.object({ amount, currencyCode: z.string() }).nullish(),
  numberOfOrders: z.union([z.string(), z.number()]).nullish(),
  emailMarketingConsent: z.object({ marketingState: text, marketingOptInLevel: text, consentUpdatedAt: optionalTime }).nullish(),
  defaultAddress: z.object({ id: z.string().nullish() }).nullish(),
  addresses: z.array(address).nullish(),
});

// Shopify's MailingAddress ids carry a model_name query ("...?model_name=CustomerAddress").
const addressKey = (id: string | null | undefined) => (id ? id.split("?")[0]! : null);

function mapCustomer(c: z.infer<typeof customerLine>): StagedCustomer {
  const defaultId = addressKey(c.defaultAddress?.id);
  const addresses = (c.addresses ?? []).map(
    (a): AddressInput => ({
      countryCode: a.countryCodeV2,
      // As the webhook mapper: the province code when there is one.
      province: a.provinceCode ?? a.province,
      city: a.city,
      zip: a.zip,
      address1: a.address1,
      address2: a.address2,
      isDefault: defaultId !== null && addressKey(a.id) === defaultId,
    }),
  );
  // The customer's location: its default address, else the first (crm-batch-store customerRecord).
  const location = addresses.find((a) => a.isDefault) ?? addresses[0] ?? null;
  const consent = c.emailMarketingConsent ?? null;
  return {
    gid: c.id,
    email: c.email,
    firstName: c.firstName,
    lastName: c.lastName,
    phone: c.phone,
    state: lower(c.state),
    note: c.note,
    verifiedEmail: c.verifiedEmail ?? null,
    countryCode: location?.countryCode ?? null,
    province: location?.province ?? null,
    city: location?.city ?? null,
    addresses,
    tags: c.tags ?? [],
    emailState: lower(consent?.marketingState ?? null),
    emailOptInLevel: lower(consent?.marketingOptInLevel ?? null),
    emailConsentAt: consent?.consentUpdatedAt ?? null,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    amountSpentMinor: c.amountSpent ? toMinorUnits(c.amountSpent.amount, c.amountSpent.currencyCode) : null,
    amountSpentCurrency: c.amountSpent?.currencyCode ?? null,
    numberOfOrders: c.numberOfOrders === null || c.numberOfOrders === undefined ? null : BigInt(c.numberOfOrders),
  };
}

/** REST's fulfillment_status for GraphQL's displayFulfillmentStatus (unfulfilled is null there). */
function fulfillmentStatus(display: string | null): string | null {
  switch (display) {
    case null:
    case "UNFULFILLED":
      return null;
    case "PARTIALLY_FULFILLED":
      return "partial";
    default:
      return display.toLowerCase();
  }
}

const productLine = z.object({
  id: gid("Product"),
  title: text,
  productType: text,
  vendor: text,
  status: text,
  tags: z.array(z.string()).nullish(),
  createdAt: optionalTime,
  updatedAt: optionalTime,
});

// ---------------------------------------------------------------- orders and line items, read by hand
//
// Orders and their line items are nearly all of a store's lines (3.5 million for a million
// orders): they are checked by these small readers instead of zod, with the same rules and
// messages that name the field (zod took 60% of the staging's CPU; decision 045).

type Json = Record<string, unknown>;
const fail = (path: string, what: string): never => {
  throw new RangeError(`${path}: ${what}`);
};
const objectAt = (v: unknown, path: string): Json => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : fail(path, "must be an object"));
const stringAt = (v: unknown, path: string): string => (typeof v === "string" ? v : fail(path, "must be a string"));
const optStringAt = (v: unknown, path: string): string | null => (v === null || v === undefined ? null : stringAt(v, path));
const optBoolAt = (v: unknown, path: string): boolean | null => (v === null || v === undefined ? null : typeof v === "boolean" ? v : fail(path, "must be a boolean"));
const timeAt = (v: unknown, path: string): Date => {
  const d = new Date(stringAt(v, path));
  return Number.isNaN(d.getTime()) ? fail(path, "must be an ISO-8601 time") : d;
};
const optTimeAt = (v: unknown, path: string): Date | null => (v === null || v === undefined ? null : timeAt(v, path));
const gidAt = (v: unknown, type: string, path: string): string => {
  const s = stringAt(v, path);
  return s.startsWith(`gid://shopify/${type}/`) ? s : fail(path, `must be a ${type} gid`);
};
const stringsAt = (v: unknown, path: string): string[] => {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) return fail(path, "must be a list");
  for (const item of v) if (typeof item !== "string") fail(path, "must be a list of strings");
  return v as string[];
};
const moneyAt = (v: unknown, path: string): { minor: bigint; currency: string } => {
  const bag = objectAt(objectAt(v, path).shopMoney, `${path}.shopMoney`);
  const currency = stringAt(bag.currencyCode, `${path}.shopMoney.currencyCode`);
  const amount = bag.amount;
  if (typeof amount !== "string" && typeof amount !== "number") fail(`${path}.shopMoney.amount`, "must be an amount");
  return { minor: toMinorUnits(amount as string | number, currency), currency };
};
const optMinorAt = (v: unknown, path: string): bigint => (v === null || v === undefined ? 0n : moneyAt(v, path).minor);

function readOrder(o: Json): { order: StagedOrder; refunds: StagedRefund[] } {
  const gidValue = gidAt(o.id, "Order", "id");
  const legacyId = legacyIdOf(gidValue);
  const currency = stringAt(o.currencyCode, "currencyCode");
  if (currency.length !== 3) fail("currencyCode", "must be a currency code");
  const customer = o.customer === null || o.customer === undefined ? null : gidAt(objectAt(o.customer, "customer").id, "Customer", "customer.id");
  const refunds = o.refunds === null || o.refunds === undefined ? [] : Array.isArray(o.refunds) ? (o.refunds as unknown[]) : fail("refunds", "must be a list");
  return {
    order: {
      gid: gidValue,
      legacyId,
      customerGid: customer,
      name: optStringAt(o.name, "name"),
      email: optStringAt(o.email, "email"),
      currency,
      presentmentCurrency: optStringAt(o.presentmentCurrencyCode, "presentmentCurrencyCode"),
      totalPriceMinor: moneyAt(o.totalPriceSet, "totalPriceSet").minor,
      subtotalMinor: optMinorAt(o.subtotalPriceSet, "subtotalPriceSet"),
      totalTaxMinor: optMinorAt(o.totalTaxSet, "totalTaxSet"),
      totalDiscountsMinor: optMinorAt(o.totalDiscountsSet, "totalDiscountsSet"),
      shippingMinor: optMinorAt(o.totalShippingPriceSet, "totalShippingPriceSet"),
      financialStatus: lower(optStringAt(o.displayFinancialStatus, "displayFinancialStatus")),
      fulfillmentStatus: fulfillmentStatus(optStringAt(o.displayFulfillmentStatus, "displayFulfillmentStatus")),
      cancelledAt: optTimeAt(o.cancelledAt, "cancelledAt"),
      cancelReason: lower(optStringAt(o.cancelReason, "cancelReason")),
      test: optBoolAt(o.test, "test") ?? false,
      sourceName: optStringAt(o.sourceName, "sourceName"),
      tags: stringsAt(o.tags, "tags"),
      discountCodes: stringsAt(o.discountCodes, "discountCodes"),
      createdAt: timeAt(o.createdAt, "createdAt"),
      updatedAt: timeAt(o.updatedAt, "updatedAt"),
      processedAt: optTimeAt(o.processedAt, "processedAt"),
      closedAt: optTimeAt(o.closedAt, "closedAt"),
    },
    // Refund.totalRefundedSet is the refund's transactions in shop money: the value the
    // webhook mapper works out from the REST breakdown (decision 013).
    refunds: refunds.map((value, i) => {
      const r = objectAt(value, `refunds.${i}`);
      const money = moneyAt(r.totalRefundedSet, `refunds.${i}.totalRefundedSet`);
      const legacy = r.legacyResourceId;
      if (typeof legacy !== "string" && typeof legacy !== "number") fail(`refunds.${i}.legacyResourceId`, "must be an id");
      const refundedAt = optTimeAt(r.processedAt, `refunds.${i}.processedAt`) ?? timeAt(r.createdAt, `refunds.${i}.createdAt`);
      return {
        gid: gidAt(r.id, "Refund", `refunds.${i}.id`),
        legacyId: String(legacy),
        orderLegacyId: legacyId,
        amountMinor: money.minor,
        currency: money.currency,
        note: optStringAt(r.note, `refunds.${i}.note`),
        refundedAt,
      };
    }),
  };
}

function readLineItem(l: Json): { parentGid: string; lineItem: StagedLineItem } {
  const parentGid = gidAt(l.__parentId, "Order", "__parentId");
  const quantity = l.quantity;
  if (typeof quantity !== "number" || !Number.isInteger(quantity)) fail("quantity", "must be an integer");
  const product = l.product === null || l.product === undefined ? null : stringAt(objectAt(l.product, "product").id, "product.id");
  const variant = l.variant === null || l.variant === undefined ? null : stringAt(objectAt(l.variant, "variant").id, "variant.id");
  return {
    parentGid,
    lineItem: {
      orderGid: parentGid,
      gid: gidAt(l.id, "LineItem", "id"),
      productGid: product,
      variantGid: variant,
      title: stringAt(l.title, "title"),
      variantTitle: optStringAt(l.variantTitle, "variantTitle"),
      sku: optStringAt(l.sku, "sku"),
      vendor: optStringAt(l.vendor, "vendor"),
      quantity: quantity as number,
      priceMinor: moneyAt(l.originalUnitPriceSet, "originalUnitPriceSet").minor,
      totalDiscountMinor: optMinorAt(l.totalDiscountSet, "totalDiscountSet"),
      giftCard: optBoolAt(l.isGiftCard, "isGiftCard") ?? false,
    },
  };
}

/** The import record for one parsed JSONL line; throws (ZodError, RangeError) on a line it cannot read. */
export function mapImportLine(line: unknown): ImportRecord {
  const id = (line as { id?: unknown } | null)?.id;
  if (typeof id !== "string") throw new RangeError("bulk result line without an id");
  if (id.startsWith("gid://shopify/Customer/")) return { kind: "customer", customer: mapCustomer(customerLine.parse(line)) };
  if (id.startsWith("gid://shopify/Order/")) return { kind: "order", ...readOrder(line as Json) };
  if (id.startsWith("gid://shopify/Product/")) {
    const p = productLine.parse(line);
    return {
      kind: "product",
      product: {
        gid: p.id,
        title: p.title,
        productType: p.productType,
        vendor: p.vendor,
        status: lower(p.status),
        tags: p.tags ?? [],
        createdAt: p.createdAt,
        updatedAt: p.updatedAt,
      },
    };
  }
  if (id.startsWith("gid://shopify/LineItem/")) return { kind: "line_item", ...readLineItem(line as Json) };
  throw new RangeError(`unexpected object in a bulk result: ${id.split("/").slice(0, 4).join("/")}`);
}
