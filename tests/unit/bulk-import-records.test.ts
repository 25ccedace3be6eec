// The history import's JSONL lines -> staged records (app/shopify/bulk-import-records.ts) and
// the COPY text encoding of staged rows (copy-rows.server.ts). Table-driven, no I/O.
import { describe, expect, it } from "vitest";
import { encodeCopyRow, encodeCopyValue, CopyJson } from "../../app/services/history-import/copy-rows.server";
import { mapImportLine } from "../../app/shopify/bulk-import-records";

const money = (amount: string, currencyCode = "USD") => ({ shopMoney: { amount, currencyCode } });

const order = {
  id: "gid://shopify/Order/1001",
  name: "#1001",
  email: "a@example.com",
  createdAt: "2026-01-05T10:00:00Z",
  updatedAt: "2026-01-07T10:00:00Z",
  processedAt: "2026-01-05T10:00:00Z",
  closedAt: null,
  cancelledAt: null,
  cancelReason: null,
  test: false,
  displayFinancialStatus: "PARTIALLY_REFUNDED",
  displayFulfillmentStatus: "PARTIALLY_FULFILLED",
  sourceName: "web",
  tags: ["gift"],
  discountCodes: ["WELCOME"],
  currencyCode: "JPY",
  presentmentCurrencyCode: "JPY",
  customer: { id: "gid://shopify/Customer/7" },
  totalPriceSet: money("12345", "JPY"),
  subtotalPriceSet: money("11000", "JPY"),
  totalTaxSet: money("1100", "JPY"),
  totalDiscountsSet: money("0", "JPY"),
  totalShippingPriceSet: money("245", "JPY"),
  refunds: [{ id: "gid://shopify/Refund/55", legacyResourceId: "55", createdAt: "2026-01-07T09:00:00Z", processedAt: null, note: "damaged", totalRefundedSet: money("3000", "JPY") }],
};

describe("bulk result lines to import records", () => {
  it("maps an order with its refunds: minor units in the order's currency, REST's lower-case statuses", () => {
    const record = mapImportLine(order);
    expect(record).toEqual({
      kind: "order",
      order: expect.objectContaining({
        gid: "gid://shopify/Order/1001",
        legacyId: "1001",
        customerGid: "gid://shopify/Customer/7",
        currency: "JPY",
        totalPriceMinor: 12345n,
        shippingMinor: 245n,
        financialStatus: "partially_refunded",
        fulfillmentStatus: "partial",
        test: false,
        tags: ["gift"],
        discountCodes: ["WELCOME"],
        createdAt: new Date("2026-01-05T10:00:00Z"),
      }),
      refunds: [{ gid: "gid://shopify/Refund/55", legacyId: "55", orderLegacyId: "1001", amountMinor: 3000n, currency: "JPY", note: "damaged", refundedAt: new Date("2026-01-07T09:00:00Z") }],
    });
  });

  it.each([
    ["UNFULFILLED", null],
    ["FULFILLED", "fulfilled"],
    ["PARTIALLY_FULFILLED", "partial"],
    [null, null],
  ])("fulfilment %s is REST's %s", (display, rest) => {
    const record = mapImportLine({ ...order, displayFulfillmentStatus: display });
    expect(record.kind === "order" && record.order.fulfillmentStatus).toBe(rest);
  });

  it("maps a line item to its parent order", () => {
    const record = mapImportLine({
      id: "gid://shopify/LineItem/9",
      title: "Merino Beanie",
      variantTitle: null,
      sku: "MB-1",
      vendor: "Northwind",
      quantity: 2,
      isGiftCard: false,
      product: { id: "gid://shopify/Product/3" },
      variant: null,
      originalUnitPriceSet: money("24.50"),
      totalDiscountSet: money("0.00"),
      __parentId: "gid://shopify/Order/1001",
    });
    expect(record).toEqual({
      kind: "line_item",
      parentGid: "gid://shopify/Order/1001",
      lineItem: {
        orderGid: "gid://shopify/Order/1001", gid: "gid://shopify/LineItem/9", productGid: "gid://shopify/Product/3", variantGid: null, title: "Merino Beanie",
        variantTitle: null, sku: "MB-1", vendor: "Northwind", quantity: 2, priceMinor: 2450n, totalDiscountMinor: 0n, giftCard: false,
      },
    });
  });

  it("maps a customer: default address as location, addresses with the province code, lower-case consent", () => {
    const record = mapImportLine({
      id: "gid://shopify/Customer/7",
      email: "a@example.com",
      state: "ENABLED",
      verifiedEmail: true,
      tags: ["vip"],
      createdAt: "2025-01-01T00:00:00Z",
      updatedAt: "2025-02-01T00:00:00Z",
      amountSpent: { amount: "10.00", currencyCode: "USD" },
      numberOfOrders: "2",
      emailMarketingConsent: { marketingState: "SUBSCRIBED", marketingOptInLevel: "SINGLE_OPT_IN", consentUpdatedAt: null },
      defaultAddress: { id: "gid://shopify/MailingAddress/2?model_name=CustomerAddress" },
      addresses: [
        { id: "gid://shopify/MailingAddress/1?model_name=CustomerAddress", countryCodeV2: "DE", provinceCode: null, province: "Berlin", city: "Berlin", zip: "10115", address1: "A", address2: null },
        { id: "gid://shopify/MailingAddress/2?model_name=CustomerAddress", countryCodeV2: "US", provinceCode: "OR", province: "Oregon", city: "Portland", zip: "97204", address1: "B", address2: null },
      ],
    });
    expect(record.kind).toBe("customer");
    if (record.kind !== "customer") return;
    expect(record.customer).toMatchObject({ state: "enabled", countryCode: "US", province: "OR", city: "Portland", emailState: "subscribed", emailOptInLevel: "single_opt_in", amountSpentMinor: 1000n, numberOfOrders: 2n });
    expect(record.customer.addresses.map((a) => [a.countryCode, a.province, a.isDefault])).toEqual([["DE", "Berlin", false], ["US", "OR", true]]);
  });

  it.each([
    [{ ...order, createdAt: "yesterday" }, "createdAt: must be an ISO-8601 time"],
    [{ ...order, totalPriceSet: null }, "totalPriceSet: must be an object"],
    [{ ...order, customer: { id: "gid://shopify/Order/1" } }, "customer.id: must be a Customer gid"],
    [{ id: "gid://shopify/LineItem/1", title: "x", quantity: 1.5, originalUnitPriceSet: money("1.00"), __parentId: "gid://shopify/Order/1" }, "quantity: must be an integer"],
    [{ id: "gid://shopify/Collection/1" }, "unexpected object in a bulk result: gid://shopify/Collection"],
    [{ title: "no id" }, "bulk result line without an id"],
  ])("refuses a line it cannot read, naming the field (%#)", (line, message) => {
    expect(() => mapImportLine(line)).toThrow(message);
  });
});

describe("COPY text encoding", () => {
  it.each([
    [null, "\\N"],
    ["tab\there\nnew\\line\r", "tab\\there\\nnew\\\\line\\r"],
    [12345678901234567890n, "12345678901234567890"],
    [true, "t"],
    [new Date("2026-01-05T10:00:00Z"), "2026-01-05T10:00:00.000Z"],
    [["a", 'b"c', "d\\e", "f,g"], '{"a","b\\\\"c","d\\\\\\\\e","f,g"}'],
    [new CopyJson([{ city: "Montréal\t" }]), '[{"city":"Montréal\\\\t"}]'],
  ])("encodes value %#", (value, text) => {
    expect(encodeCopyValue(value)).toBe(text);
  });

  it("joins a row with tabs and ends it with a newline", () => {
    expect(encodeCopyRow(["a", null, 3])).toBe("a\t\\N\t3\n");
  });
});
