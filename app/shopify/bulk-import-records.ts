// The history import's JSONL lines (bulk query results of IMPORT_CUSTOMERS_QUERY,
// IMPORT_ORDERS_QUERY, IMPORT_PRODUCTS_QUERY in admin-documents.ts) mapped to the rows the
// import stages. Pure: JSON in (one parsed line), plain records out, zod at the edge. The
// meaning of every field is the one the webhook mappers (webhook-payloads.ts) give the same
// data, so an import and the webhooks of the same history leave the same CRM model
// (tests/integration/history-import.test.ts checks it customer by customer).
import { z } from "zod";
import type { AddressInput } from "../domain/crm-events";
import { toMinorUnits } from "../domain/money";
import { legacyIdOf } from "./webhook-payloads";

const gid = (type: string) => z.string().startsWith(`gid://shopify/${type}/`);
const text = z.string().nullish().transform((v) => v ?? null);
const time = z.string().refine((v) => !Number.isNaN(Date.parse(v)), "must be an ISO-8601 time").transform((v) => new Date(v));
const optionalTime = time.nullish().transform((v) => v ?? null);
const amount = z.union([z.string(), z.number()]);
const shopMoney = z.object({ shopMoney: z.object({ amount, currencyCode: z.string() }) });
const minor = (bag: z.infer<typeof shopMoney>) => toMinorUnits(bag.shopMoney.amount, bag.shopMoney.currencyCode);
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

export type StagedOrder = {
  gid: string;
  legacyId: string;
  customerGid: string | null;
  name: string | null;
  email: string | null;
  currency: string;
  presentmentCurrency: string | null;
  totalPriceMinor: bigint;
  subtotalMinor: bigint;
  totalTaxMinor: bigint;
  totalDiscountsMinor: bigint;
  shippingMinor: bigint;
  financialStatus: string | null;
  fulfillmentStatus: string | null;
  cancelledAt: Date | null;
  cancelReason: string | null;
  test: boolean;
  sourceName: string | null;
  tags: string[];
  discountCodes: string[];
  createdAt: Date;
  updatedAt: Date;
  processedAt: Date | null;
  closedAt: Date | null;
};

export type StagedRefund = {
  gid: string;
  legacyId: string;
  orderLegacyId: string;
  amountMinor: bigint;
  currency: string | null;
  note: string | null;
  refundedAt: Date;
};

export type StagedLineItem = {
  orderGid: string;
  gid: string;
  productGid: string | null;
  variantGid: string | null;
  title: string;
  variantTitle: string | null;
  sku: string | null;
  vendor: string | null;
  quantity: number;
  priceMinor: bigint;
  totalDiscountMinor: bigint;
  giftCard: boolean;
};

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

const orderLine = z.object({
  id: gid("Order"),
  name: text,
  email: text,
  createdAt: time,
  updatedAt: time,
  processedAt: optionalTime,
  closedAt: optionalTime,
  cancelledAt: optionalTime,
  cancelReason: text,
  test: z.boolean().nullish(),
  displayFinancialStatus: text,
  displayFulfillmentStatus: text,
  sourceName: text,
  tags: z.array(z.string()).nullish(),
  discountCodes: z.array(z.string()).nullish(),
  currencyCode: z.string().length(3),
  presentmentCurrencyCode: text,
  customer: z.object({ id: gid("Customer") }).nullish(),
  totalPriceSet: shopMoney,
  subtotalPriceSet: shopMoney.nullish(),
  totalTaxSet: shopMoney.nullish(),
  totalDiscountsSet: shopMoney.nullish(),
  totalShippingPriceSet: shopMoney.nullish(),
  refunds: z
    .array(
      z.object({
        id: gid("Refund"),
        legacyResourceId: z.union([z.string(), z.number()]).transform(String),
        createdAt: optionalTime,
        processedAt: optionalTime,
        note: text,
        totalRefundedSet: shopMoney,
      }),
    )
    .nullish(),
});

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

function mapOrder(o: z.infer<typeof orderLine>): { order: StagedOrder; refunds: StagedRefund[] } {
  const legacyId = legacyIdOf(o.id);
  const zero = 0n;
  return {
    order: {
      gid: o.id,
      legacyId,
      customerGid: o.customer?.id ?? null,
      name: o.name,
      email: o.email,
      currency: o.currencyCode,
      presentmentCurrency: o.presentmentCurrencyCode,
      totalPriceMinor: minor(o.totalPriceSet),
      subtotalMinor: o.subtotalPriceSet ? minor(o.subtotalPriceSet) : zero,
      totalTaxMinor: o.totalTaxSet ? minor(o.totalTaxSet) : zero,
      totalDiscountsMinor: o.totalDiscountsSet ? minor(o.totalDiscountsSet) : zero,
      shippingMinor: o.totalShippingPriceSet ? minor(o.totalShippingPriceSet) : zero,
      financialStatus: lower(o.displayFinancialStatus),
      fulfillmentStatus: fulfillmentStatus(o.displayFulfillmentStatus),
      cancelledAt: o.cancelledAt,
      cancelReason: lower(o.cancelReason),
      test: o.test ?? false,
      sourceName: o.sourceName,
      tags: o.tags ?? [],
      discountCodes: o.discountCodes ?? [],
      createdAt: o.createdAt,
      updatedAt: o.updatedAt,
      processedAt: o.processedAt,
      closedAt: o.closedAt,
    },
    // Refund.totalRefundedSet is the refund's transactions in shop money: the value the
    // webhook mapper works out from the REST breakdown (decision 013).
    refunds: (o.refunds ?? []).map((r) => ({
      gid: r.id,
      legacyId: r.legacyResourceId,
      orderLegacyId: legacyId,
      amountMinor: minor(r.totalRefundedSet),
      currency: r.totalRefundedSet.shopMoney.currencyCode,
      note: r.note,
      refundedAt: (r.processedAt ?? r.createdAt)!,
    })),
  };
}

const lineItemLine = z.object({
  id: gid("LineItem"),
  title: z.string(),
  variantTitle: text,
  sku: text,
  vendor: text,
  quantity: z.number().int(),
  isGiftCard: z.boolean().nullish(),
  product: z.object({ id: z.string() }).nullish(),
  variant: z.object({ id: z.string() }).nullish(),
  originalUnitPriceSet: shopMoney,
  totalDiscountSet: shopMoney.nullish(),
  __parentId: gid("Order"),
});

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

/** The import record for one parsed JSONL line; throws (ZodError, RangeError) on a line it cannot read. */
export function mapImportLine(line: unknown): ImportRecord {
  const id = (line as { id?: unknown } | null)?.id;
  if (typeof id !== "string") throw new RangeError("bulk result line without an id");
  if (id.startsWith("gid://shopify/Customer/")) return { kind: "customer", customer: mapCustomer(customerLine.parse(line)) };
  if (id.startsWith("gid://shopify/Order/")) return { kind: "order", ...mapOrder(orderLine.parse(line)) };
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
  if (id.startsWith("gid://shopify/LineItem/")) {
    const l = lineItemLine.parse(line);
    return {
      kind: "line_item",
      parentGid: l.__parentId,
      lineItem: {
        orderGid: l.__parentId,
        gid: l.id,
        productGid: l.product?.id ?? null,
        variantGid: l.variant?.id ?? null,
        title: l.title,
        variantTitle: l.variantTitle,
        sku: l.sku,
        vendor: l.vendor,
        quantity: l.quantity,
        priceMinor: minor(l.originalUnitPriceSet),
        totalDiscountMinor: l.totalDiscountSet ? minor(l.totalDiscountSet) : 0n,
        giftCard: l.isGiftCard ?? false,
      },
    };
  }
  throw new RangeError(`unexpected object in a bulk result: ${id.split("/").slice(0, 4).join("/")}`);
}
