// Reconciliation decisions (decision 048), table-driven: drift between a local copy and
// Shopify's, tag differences, the cross-check's explanations, and repairs written as webhook
// payloads that the webhook mapper reads back to the same facts.
import { describe, expect, it } from "vitest";
import { crossCheckCustomer, customerDrift, orderDrift, tagDifference, type CrossCheckOrder } from "../../app/domain/sync/reconcile";
import { customerUpdatePayload, orderUpdatePayload } from "../../app/shopify/reconcile-payloads";
import { mapWebhook } from "../../app/shopify/webhook-payloads";
import type { RemoteCustomer, RemoteOrder } from "../../app/shopify/admin-api.server";

const at = (iso: string) => new Date(iso);

describe("customerDrift", () => {
  const remote = { updatedAt: at("2026-12-01T10:00:00Z"), tags: ["VIP", "wholesale"], emailMarketingState: "SUBSCRIBED" };
  const local = { shopifyUpdatedAt: at("2026-12-01T10:00:00Z"), gone: false, tags: ["vip", "wholesale"], emailMarketingState: "subscribed" };
  it.each([
    ["current (tags compare case-insensitively)", local, []],
    ["missing", null, ["missing"]],
    ["older copy", { ...local, shopifyUpdatedAt: at("2026-11-30T10:00:00Z") }, ["stale"]],
    ["a tag missed", { ...local, tags: ["vip"] }, ["tags"]],
    ["consent missed", { ...local, emailMarketingState: "not_subscribed" }, ["consent"]],
    ["deleted or redacted: never brought back", { ...local, gone: true, tags: [] }, []],
  ] as const)("%s", (_name, l, expected) => {
    expect(customerDrift({ local: l, remote })).toEqual(expected);
  });

  it("consent never reported equals Shopify's NOT_SUBSCRIBED", () => {
    expect(customerDrift({ local: { ...local, emailMarketingState: null }, remote: { ...remote, emailMarketingState: "NOT_SUBSCRIBED" } })).toEqual([]);
  });
});

describe("orderDrift and tagDifference", () => {
  it.each([
    [null, ["missing"]],
    [{ shopifyUpdatedAt: at("2026-12-01T10:00:00Z"), refunds: 1, redacted: false }, []],
    [{ shopifyUpdatedAt: at("2026-12-01T09:00:00Z"), refunds: 1, redacted: false }, ["stale"]],
    [{ shopifyUpdatedAt: at("2026-12-01T10:00:00Z"), refunds: 0, redacted: false }, ["refunds"]],
    [{ shopifyUpdatedAt: at("2026-12-01T09:00:00Z"), refunds: 0, redacted: true }, []],
  ] as const)("%o -> %o", (local, expected) => {
    expect(orderDrift({ local, remote: { updatedAt: at("2026-12-01T10:00:00Z"), refunds: 1 } })).toEqual(expected);
  });

  it("adds what Shopify has, removes what it does not, once per tag whatever the casing", () => {
    expect(tagDifference(["a", "Old"], ["A", "new", "NEW"])).toEqual({ added: ["new"], removed: ["Old"] });
  });
});

describe("crossCheckCustomer", () => {
  const order = (o: Partial<CrossCheckOrder>): CrossCheckOrder => ({ totalPriceMinor: 10_000n, refundedMinor: 0n, cancelled: false, test: false, voided: false, ...o });
  const check = (orders: CrossCheckOrder[], shopify: { numberOfOrders: number; amountSpentMinor: bigint }, local?: { ordersCount: number; netSpentMinor: bigint }) => {
    const counted = orders.filter((o) => !o.test && !o.cancelled);
    return crossCheckCustomer({
      customerGid: "gid://shopify/Customer/1",
      local: local ?? { ordersCount: counted.length, netSpentMinor: counted.reduce((s, o) => s + o.totalPriceMinor - o.refundedMinor, 0n) },
      orders,
      shopify,
      currency: "USD",
    });
  };

  it("agrees: nothing listed", () => {
    expect(check([order({})], { numberOfOrders: 1, amountSpentMinor: 10_000n })).toBeNull();
  });

  it.each([
    ["a test order Shopify counts", [order({}), order({ test: true })], { numberOfOrders: 2, amountSpentMinor: 20_000n }, /test orders are not counted.*test orders are not part/],
    ["a voided cancelled order: counted, nothing spent", [order({}), order({ cancelled: true, voided: true })], { numberOfOrders: 2, amountSpentMinor: 10_000n }, /^cancelled orders are not counted by the CRM$/],
    ["refunds not subtracted", [order({ refundedMinor: 2_500n })], { numberOfOrders: 1, amountSpentMinor: 10_000n }, /subtracts refunds/],
  ] as const)("%s: explained", (_name, orders, shopify, explanation) => {
    const m = check([...orders], shopify)!;
    expect(m.explanation).toMatch(explanation);
    expect(m.shopify).toEqual({ numberOfOrders: shopify.numberOfOrders, amountSpentMinor: String(shopify.amountSpentMinor) });
  });

  it("an order the CRM never received: listed, unexplained, with both values", () => {
    expect(check([order({})], { numberOfOrders: 2, amountSpentMinor: 15_000n })).toEqual({
      customerGid: "gid://shopify/Customer/1",
      local: { ordersCount: 1, netSpentMinor: "10000" },
      shopify: { numberOfOrders: 2, amountSpentMinor: "15000" },
      currency: "USD",
      explanation: null,
    });
  });

  it("stored aggregates that are not what the CRM's own orders give are said to be out of date", () => {
    const m = check([order({})], { numberOfOrders: 1, amountSpentMinor: 10_000n }, { ordersCount: 3, netSpentMinor: 10_000n })!;
    expect(m.explanation).toBe("the CRM's stored order count (3) is out of date: its orders give 1");
  });
});

describe("repairs as webhook payloads", () => {
  const customer: RemoteCustomer = {
    id: "gid://shopify/Customer/9007199254740993",
    firstName: "Ana",
    lastName: "Silva",
    note: null,
    state: "ENABLED",
    verifiedEmail: true,
    createdAt: "2026-01-01T00:00:00Z",
    updatedAt: "2026-12-01T10:00:00Z",
    tags: ["vip"],
    numberOfOrders: "1",
    amountSpent: { amount: "12.50", currencyCode: "USD" },
    defaultEmailAddress: { emailAddress: "ana@example.com", marketingState: "SUBSCRIBED", marketingOptInLevel: "SINGLE_OPT_IN", marketingUpdatedAt: "2026-02-01T00:00:00Z" },
    defaultPhoneNumber: null,
    defaultAddress: { id: "gid://shopify/MailingAddress/5?model_name=CustomerAddress", address1: "1 Main St", address2: null, city: "Porto", provinceCode: null, province: null, zip: "4000", countryCodeV2: "PT" },
    addresses: [{ id: "gid://shopify/MailingAddress/5?model_name=CustomerAddress", address1: "1 Main St", address2: null, city: "Porto", provinceCode: null, province: null, zip: "4000", countryCodeV2: "PT" }],
  };

  it("a customer reads back as the same customer (the gid stays exact beyond 2^53)", () => {
    const mapped = mapWebhook("customers/update", JSON.stringify(customerUpdatePayload(customer)));
    expect(mapped.ok && mapped.event).toMatchObject({
      kind: "customer",
      customer: { gid: customer.id, email: "ana@example.com", firstName: "Ana", state: "enabled", updatedAt: at("2026-12-01T10:00:00Z"), defaultAddress: { countryCode: "PT", city: "Porto", isDefault: true } },
    });
  });

  it("an order reads back with its lines, discounts, refunds (their total, once) and customer", () => {
    const money = (amount: string) => ({ shopMoney: { amount, currencyCode: "EUR" } });
    const order: RemoteOrder = {
      id: "gid://shopify/Order/4100",
      name: "#1001",
      email: "ana@example.com",
      currencyCode: "EUR",
      presentmentCurrencyCode: "EUR",
      test: false,
      sourceName: "web",
      tags: ["gift"],
      discountCodes: ["WELCOME"],
      displayFinancialStatus: "PARTIALLY_REFUNDED",
      displayFulfillmentStatus: "FULFILLED",
      cancelledAt: null,
      cancelReason: null,
      createdAt: "2026-11-01T10:00:00Z",
      updatedAt: "2026-11-03T10:00:00Z",
      processedAt: "2026-11-01T10:00:00Z",
      closedAt: null,
      totalPriceSet: money("45.00"),
      subtotalPriceSet: money("40.00"),
      totalTaxSet: money("5.00"),
      totalDiscountsSet: money("5.00"),
      customer: { ...customer, defaultEmailAddress: { emailAddress: "ana@example.com" } },
      lineItems: {
        nodes: [
          { id: "gid://shopify/LineItem/77", title: "Scarf", variantTitle: "Oat", sku: "SC-1", vendor: "Fjord", quantity: 2, product: { id: "gid://shopify/Product/8" }, variant: { id: "gid://shopify/ProductVariant/9" }, originalUnitPriceSet: money("22.50"), originalTotalSet: money("45.00"), discountedTotalSet: money("40.00") },
        ],
      },
      refunds: [{ id: "gid://shopify/Refund/66", legacyResourceId: "66", note: null, createdAt: "2026-11-03T10:00:00Z", processedAt: null, totalRefundedSet: money("12.34") }],
    };
    const mapped = mapWebhook("orders/updated", JSON.stringify(orderUpdatePayload(order)));
    if (!mapped.ok) throw new Error(mapped.reason);
    expect(mapped.event).toMatchObject({
      kind: "order",
      order: {
        gid: order.id,
        legacyId: "4100",
        totalPriceMinor: 4500n,
        totalDiscountsMinor: 500n,
        financialStatus: "partially_refunded",
        tags: ["gift"],
        discountCodes: ["WELCOME"],
        customer: { gid: customer.id, email: "ana@example.com" },
        lineItems: [{ gid: "gid://shopify/LineItem/77", productGid: "gid://shopify/Product/8", variantGid: "gid://shopify/ProductVariant/9", quantity: 2, priceMinor: 2250n, totalDiscountMinor: 500n }],
        refunds: [{ gid: "gid://shopify/Refund/66", amountMinor: 1234n, currency: "EUR", orderLegacyId: "4100" }],
      },
    });
  });
});

describe("consent and delete repairs keep ids beyond 2^53 exact", () => {
  it("customers_email_marketing_consent/update and customers/delete", async () => {
    const { emailConsentPayload, customerDeletePayload } = await import("../../app/shopify/reconcile-payloads");
    const gid = "gid://shopify/Customer/9007199254740993";
    const consent = mapWebhook(
      "customers_email_marketing_consent/update",
      JSON.stringify(emailConsentPayload({ id: gid, defaultEmailAddress: { emailAddress: "a@example.com", marketingState: "UNSUBSCRIBED", marketingOptInLevel: null, marketingUpdatedAt: "2026-12-01T00:00:00Z" } })),
    );
    expect(consent.ok && consent.event).toEqual({ kind: "email_consent", customerGid: gid, state: "unsubscribed", optInLevel: null, consentUpdatedAt: at("2026-12-01T00:00:00Z") });
    const deleted = mapWebhook("customers/delete", JSON.stringify(customerDeletePayload(gid)), { shop: "x.myshopify.com" });
    expect(deleted.ok && deleted.event).toEqual({ kind: "customer_deleted", customerGid: gid });
  });
});
