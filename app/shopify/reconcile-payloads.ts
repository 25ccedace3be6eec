// Reconciliation repairs as webhook payloads (decision 048): what the Admin API answered for
// a customer or an order, written as the REST JSON the matching webhook would have carried,
// so a repair is applied by the same code as a delivery (mapWebhook -> applyCrmBatch).
// Pure. Only the fields mapWebhook reads are written.
//
// What GraphQL does not give the way REST does:
// - a refund's breakdown (refund_line_items, adjustments): the repair carries the refund's
//   total (totalRefundedSet, shop money) as one successful refund transaction, which is
//   what the CRM counts (decision 013); its line detail is left empty. A refund the CRM
//   already holds is never changed by this (refunds are immutable and keyed);
// - a line's discount: originalTotalSet - discountedTotalSet.
import type { RemoteAddress, RemoteCustomer, RemoteOrder } from "./admin-api.server";
import { legacyIdOf } from "./webhook-payloads";

const lower = (value: string | null | undefined) => (value ? value.toLowerCase() : null);

function restAddress(a: RemoteAddress, isDefault: boolean) {
  return {
    address1: a.address1,
    address2: a.address2,
    city: a.city,
    province: a.province,
    province_code: a.provinceCode,
    zip: a.zip,
    country_code: a.countryCodeV2,
    default: isDefault,
  };
}

type CustomerLike = Pick<RemoteCustomer, "id" | "firstName" | "lastName" | "note" | "state" | "verifiedEmail" | "createdAt" | "updatedAt" | "defaultAddress"> & {
  defaultEmailAddress: { emailAddress: string | null } | null;
  defaultPhoneNumber: { phoneNumber: string | null } | null;
  addresses?: RemoteAddress[];
};

/** The customer as a customers/update payload (also the customer embedded in an order). */
export function customerUpdatePayload(c: CustomerLike): Record<string, unknown> {
  const defaultId = c.defaultAddress?.id ?? null;
  return {
    id: legacyIdOf(c.id),
    admin_graphql_api_id: c.id,
    email: c.defaultEmailAddress?.emailAddress ?? null,
    first_name: c.firstName,
    last_name: c.lastName,
    phone: c.defaultPhoneNumber?.phoneNumber ?? null,
    state: lower(c.state),
    note: c.note,
    verified_email: c.verifiedEmail,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    ...(c.addresses ? { addresses: c.addresses.map((a) => restAddress(a, a.id !== null && a.id === defaultId)) } : {}),
    default_address: c.defaultAddress ? restAddress(c.defaultAddress, true) : null,
  };
}

/** customer.tags_added / customer.tags_removed. */
export function customerTagsPayload(customerGid: string, tags: string[], occurredAt: string): Record<string, unknown> {
  return { customerId: customerGid, tags, occurredAt };
}

/** customers_email_marketing_consent/update from the customer's default email address. */
export function emailConsentPayload(c: Pick<RemoteCustomer, "id" | "defaultEmailAddress">): Record<string, unknown> {
  const e = c.defaultEmailAddress;
  return {
    // Digits, not a number: an id beyond 2^53 stays exact (the mapper takes either).
    customer_id: legacyIdOf(c.id),
    email_address: e?.emailAddress ?? null,
    email_marketing_consent: { state: lower(e?.marketingState), opt_in_level: lower(e?.marketingOptInLevel), consent_updated_at: e?.marketingUpdatedAt ?? null },
  };
}

/** customers/delete: ids only. */
export function customerDeletePayload(customerGid: string): Record<string, unknown> {
  return { id: legacyIdOf(customerGid), admin_graphql_api_id: customerGid };
}

/** The order as an orders/updated payload. */
export function orderUpdatePayload(o: RemoteOrder): Record<string, unknown> {
  const currency = o.currencyCode;
  const amountOf = (set: { shopMoney: { amount: string } } | null | undefined) => set?.shopMoney.amount ?? "0.00";
  const orderId = legacyIdOf(o.id);
  return {
    id: orderId,
    admin_graphql_api_id: o.id,
    name: o.name,
    email: o.email,
    currency,
    presentment_currency: o.presentmentCurrencyCode,
    total_price: amountOf(o.totalPriceSet),
    subtotal_price: amountOf(o.subtotalPriceSet),
    total_tax: amountOf(o.totalTaxSet),
    total_discounts: amountOf(o.totalDiscountsSet),
    financial_status: lower(o.displayFinancialStatus),
    fulfillment_status: o.displayFulfillmentStatus === "FULFILLED" ? "fulfilled" : o.displayFulfillmentStatus === "PARTIALLY_FULFILLED" ? "partial" : null,
    cancelled_at: o.cancelledAt,
    cancel_reason: lower(o.cancelReason),
    test: o.test,
    source_name: o.sourceName,
    tags: o.tags.join(", "),
    discount_codes: o.discountCodes.map((code) => ({ code })),
    created_at: o.createdAt,
    updated_at: o.updatedAt,
    processed_at: o.processedAt,
    closed_at: o.closedAt,
    customer: o.customer ? customerUpdatePayload(o.customer) : null,
    line_items: o.lineItems.nodes.map((li) => ({
      admin_graphql_api_id: li.id,
      product_id: li.product ? legacyIdOf(li.product.id) : null,
      variant_id: li.variant ? legacyIdOf(li.variant.id) : null,
      title: li.title,
      variant_title: li.variantTitle,
      sku: li.sku,
      vendor: li.vendor,
      quantity: li.quantity,
      price: li.originalUnitPriceSet.shopMoney.amount,
      total_discount: discountOf(li.originalTotalSet.shopMoney.amount, li.discountedTotalSet.shopMoney.amount),
    })),
    refunds: o.refunds.map((r) => ({
      admin_graphql_api_id: r.id,
      id: r.legacyResourceId,
      order_id: orderId,
      note: r.note,
      created_at: r.createdAt,
      processed_at: r.processedAt,
      refund_line_items: [],
      transactions: [{ kind: "refund", status: "success", amount: r.totalRefundedSet.shopMoney.amount, currency: r.totalRefundedSet.shopMoney.currencyCode }],
    })),
  };
}

/** original - discounted, as a decimal string with the larger of the two scales. */
function discountOf(original: string, discounted: string): string {
  const scale = Math.max((original.split(".")[1] ?? "").length, (discounted.split(".")[1] ?? "").length);
  const toInt = (v: string) => {
    const [w, f = ""] = v.split(".");
    return BigInt(`${w}${f.padEnd(scale, "0")}`);
  };
  const diff = toInt(original) - toInt(discounted);
  const negative = diff < 0n;
  const digits = (negative ? -diff : diff).toString().padStart(scale + 1, "0");
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}
