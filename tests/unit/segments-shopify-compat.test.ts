// Shopify compatibility: the example queries Shopify documents, each with the page it comes
// from. Every one either parses, checks, compiles to SQL and evaluates here, or is refused
// with the reason docs/segments.md gives ("Compatibility with Shopify"). Where Shopify's
// example states who is selected, the test says it on a small store.
import { describe, expect, it } from "vitest";
import { computeCustomerAggregates } from "../../app/domain/customers/aggregates";
import { checkSegment } from "../../app/domain/segments/check";
import { createSegmentEvaluator, type SegmentCustomer, type SegmentOrder } from "../../app/domain/segments/evaluate";
import { parseSegment } from "../../app/domain/segments/parser";
import { compileSegmentFilter } from "../../app/domain/segments/sql";

const REFERENCE = "https://shopify.dev/docs/api/shopifyql/segment-query-language-reference";
const SHOPIFYQL = "https://shopify.dev/docs/api/shopifyql";
const CHANGELOG = "https://shopify.dev/changelog/posts/updated-function-syntax-on-the-segment-query-language";
const HELP = "https://help.shopify.com/en/manual/customers/customer-segmentation/reference-guide/shopify-segments";
const HELP_JA = "https://help.shopify.com/ja/manual/customers/customer-segmentation/reference-guide/shopify-segments";
const TEMPLATE_EXTENSION = "https://shopify.dev/docs/api/admin-extensions/components/customersegmenttemplate";

const SHOPIFY_EMAIL = "is a Shopify attribute this app cannot evaluate: apps receive no Shopify Email events";

type Example = { query: string; source: string; refused?: string };

const EXAMPLES: readonly Example[] = [
  // Clause format, date / enum / float / integer / list / string attributes, grouped clauses.
  { query: "email_subscription_status = 'SUBSCRIBED'", source: REFERENCE },
  { query: "last_order_date = 2020-05-30", source: REFERENCE },
  { query: "last_order_date > 2020-05-30", source: REFERENCE },
  { query: "last_order_date != 2020-05-30", source: REFERENCE },
  { query: "last_order_date >= 2020-05-30", source: REFERENCE },
  { query: "last_order_date < 2020-05-30", source: REFERENCE },
  { query: "last_order_date <= 2020-05-30", source: REFERENCE },
  // Shopify's own example names February 30th: refused here, the day does not exist.
  { query: "last_order_date BETWEEN 2020-02-30 AND 2020-03-30", source: REFERENCE, refused: "invalid date `2020-02-30`" },
  { query: "last_order_date > -7d", source: REFERENCE },
  { query: "last_order_date >= -2w", source: REFERENCE },
  { query: "last_order_date = -1m", source: REFERENCE },
  { query: "last_order_date < -1y", source: REFERENCE },
  { query: "last_order_date BETWEEN 2021-01-01 AND today", source: REFERENCE },
  { query: "last_order_date BETWEEN 2020-01-01 AND -7d", source: REFERENCE },
  { query: "last_order_date = today", source: REFERENCE },
  { query: "last_order_date = yesterday", source: REFERENCE },
  { query: "last_order_date > 2020-05-30T16:00:00", source: REFERENCE },
  { query: "customer_account_status = 'DISABLED'", source: REFERENCE },
  { query: "customer_account_status != 'DISABLED'", source: REFERENCE },
  { query: "amount_spent = 10.99", source: REFERENCE },
  { query: "amount_spent != 10.99", source: REFERENCE },
  { query: "amount_spent > 10.99", source: REFERENCE },
  { query: "amount_spent >= 10.99", source: REFERENCE },
  { query: "amount_spent < 10.99", source: REFERENCE },
  { query: "amount_spent <= 10.99", source: REFERENCE },
  { query: "amount_spent BETWEEN 100 AND 1000.99", source: REFERENCE },
  { query: "products_purchased MATCHES (id = 1234, count > 1)", source: REFERENCE },
  { query: "products_purchased NOT MATCHES ()", source: REFERENCE },
  { query: "products_purchased MATCHES (id = 2012162031638)", source: REFERENCE },
  { query: "products_purchased MATCHES (tag = 'Sports wear')", source: REFERENCE },
  { query: "products_purchased MATCHES (id IN (2012162031638, 1012132033639))", source: REFERENCE },
  { query: "products_purchased MATCHES (id = 1012132033639)", source: REFERENCE },
  { query: "products_purchased MATCHES (id IN (1012132033639, 2012162031638, 32421429314657))", source: REFERENCE },
  { query: "products_purchased MATCHES (id NOT IN (1012132033639))", source: REFERENCE },
  { query: "products_purchased MATCHES (id = 1012132033639, date = 2022-01-01)", source: REFERENCE },
  { query: "products_purchased NOT MATCHES (date > -3m)", source: REFERENCE },
  { query: "products_purchased MATCHES (tag = 'Sports wear', date >= -12m)", source: REFERENCE },
  { query: "products_purchased MATCHES (id = 1012132033639, date BETWEEN -12m AND today)", source: REFERENCE },
  { query: "shopify_email.opened MATCHES ()", source: REFERENCE, refused: `\`shopify_email.opened\` at 1:1 ${SHOPIFY_EMAIL}` },
  { query: "shopify_email.opened MATCHES (activity_id = 5240029206)", source: REFERENCE, refused: `\`shopify_email.opened\` at 1:1 ${SHOPIFY_EMAIL}` },
  { query: "shopify_email.opened NOT MATCHES (activity_id = 5240029206)", source: REFERENCE, refused: `\`shopify_email.opened\` at 1:1 ${SHOPIFY_EMAIL}` },
  { query: "shopify_email.delivered MATCHES (activity_id = 5240029206)", source: REFERENCE, refused: `\`shopify_email.delivered\` at 1:1 ${SHOPIFY_EMAIL}` },
  { query: "shopify_email.opened MATCHES (activity_id IN (5240029206, 1932881090, 3250045832))", source: REFERENCE, refused: `\`shopify_email.opened\` at 1:1 ${SHOPIFY_EMAIL}` },
  { query: "shopify_email.unsubscribed MATCHES (activity_id IN (5240029206))", source: REFERENCE, refused: `\`shopify_email.unsubscribed\` at 1:1 ${SHOPIFY_EMAIL}` },
  { query: "shopify_email.delivered MATCHES (activity_id = 5240029206, date = 2022-01-01)", source: REFERENCE, refused: `\`shopify_email.delivered\` at 1:1 ${SHOPIFY_EMAIL}` },
  { query: "shopify_email.marked_as_spam MATCHES (activity_id = 5240029206, date > -3m)", source: REFERENCE, refused: `\`shopify_email.marked_as_spam\` at 1:1 ${SHOPIFY_EMAIL}` },
  { query: "shopify_email.bounced NOT MATCHES (activity_id = 5240029206, date BETWEEN -12m AND today)", source: REFERENCE, refused: `\`shopify_email.bounced\` at 1:1 ${SHOPIFY_EMAIL}` },
  { query: "number_of_orders = 10", source: REFERENCE },
  { query: "number_of_orders != 10", source: REFERENCE },
  { query: "number_of_orders > 10", source: REFERENCE },
  { query: "number_of_orders >= 10", source: REFERENCE },
  { query: "number_of_orders < 10", source: REFERENCE },
  { query: "number_of_orders <= 10", source: REFERENCE },
  { query: "number_of_orders BETWEEN 100 AND 1000", source: REFERENCE },
  { query: "customer_tags CONTAINS 'vip'", source: REFERENCE },
  { query: "customer_tags NOT CONTAINS 'vip'", source: REFERENCE },
  { query: "customer_cities CONTAINS 'US-CA-LosAngeles'", source: REFERENCE },
  { query: "customer_cities NOT CONTAINS 'US-CA-LosAngeles'", source: REFERENCE },
  { query: "customer_email_domain = 'example.com'", source: REFERENCE },
  { query: "customer_email_domain != 'example.com'", source: REFERENCE },
  { query: "email_subscription_status = 'SUBSCRIBED' AND customer_countries CONTAINS 'CA'", source: REFERENCE },
  { query: "email_subscription_status = 'SUBSCRIBED' OR customer_countries CONTAINS 'CA'", source: REFERENCE },
  { query: "email_subscription_status = 'SUBSCRIBED' AND customer_countries CONTAINS 'CA' OR amount_spent > 999.99", source: REFERENCE },
  { query: "(email_subscription_status = 'SUBSCRIBED' AND customer_countries CONTAINS 'CA') OR amount_spent > 999.99", source: REFERENCE },
  { query: "email_subscription_status = 'SUBSCRIBED' AND (customer_countries CONTAINS 'CA' OR amount_spent > 999.99)", source: REFERENCE },
  // The MATCHES operator in ShopifyQL's reference (its segment subset).
  { query: "orders_placed MATCHES (date > 2025-01-01)", source: SHOPIFYQL },
  { query: "shopify_email.opened MATCHES (activity_id = 5240029206, date > 2025-01-01)", source: SHOPIFYQL, refused: `\`shopify_email.opened\` at 1:1 ${SHOPIFY_EMAIL}` },
  { query: "products_purchased NOT MATCHES (date > 2025-01-01)", source: SHOPIFYQL },
  // Shopify's example of what is not valid: a parameter used twice.
  { query: "orders_placed MATCHES (date > 2025-01-01, date < 2025-06-01)", source: SHOPIFYQL, refused: "parameter `date` given twice at 1:43" },
  // The changelog that introduced MATCHES (API 2026-10).
  { query: "shopify_email.opened() = true", source: CHANGELOG, refused: `\`shopify_email.opened\` at 1:1 ${SHOPIFY_EMAIL}` },
  { query: "products_purchased(quantity: 5) = true", source: CHANGELOG },
  { query: "products_purchased MATCHES (quantity = 5)", source: CHANGELOG },
  { query: "products_purchased MATCHES (quantity != 5)", source: CHANGELOG },
  { query: "products_purchased MATCHES (quantity > 5)", source: CHANGELOG },
  // Help Center: Shopify-based customer segment filters.
  { query: "abandoned_checkout_date >= 7_days_ago", source: HELP },
  { query: "abandoned_checkout_date >= -7d", source: HELP },
  { query: "abandoned_checkout_date > -8m", source: HELP },
  { query: "anniversary(date: 'metafields.facts.birth_date') BETWEEN today AND +30d", source: HELP },
  // The Help Center's filter table for anniversary: today, the next 7 days, the next 30 days.
  { query: "anniversary(date: 'metafields.facts.birth_date') = today", source: HELP },
  { query: "anniversary(date: 'metafields.facts.birth_date') BETWEEN today AND +7d", source: HELP },
  { query: "anniversary(date: 'metafields.facts.birth_date') IS NULL", source: HELP },
  { query: "anniversary(date: 'metafields.facts.birth_date') IS NOT NULL", source: HELP },
  // The Japanese Help Center writes the date positionally.
  { query: "anniversary ('metafields.facts.birth_date') BETWEEN today AND +30d", source: HELP_JA },
  { query: "amount_spent BETWEEN 1 AND 999.99", source: HELP },
  { query: "customer_cities CONTAINS 'US-NY-NewYorkCity'", source: HELP },
  // Shopify's own customer segment template extension (admin.customers.segmentation-templates).
  { query: "customer_cities CONTAINS 'US-NY-NewYorkCity'", source: TEMPLATE_EXTENSION },
  // Evaluated on the app's own predictions (docs/analytics.md): Shopify does not send its own to apps.
  { query: "predicted_spend_tier = 'HIGH'", source: HELP },
  { query: "last_order_date >= 7_days_ago", source: HELP },
  { query: "last_order_date >= 30_days_ago", source: HELP },
  { query: "last_order_date >= 90_days_ago", source: HELP },
  { query: "last_order_date >= 12_months_ago", source: HELP },
];

const NOW = new Date("2026-12-07T15:00:00Z");

const order = (createdAt: string, productId: number, quantity: number, over: Partial<SegmentOrder> = {}): SegmentOrder => ({
  createdAt: new Date(createdAt),
  cancelled: false,
  test: false,
  totalPriceMinor: 5000n,
  refundedMinor: 0n,
  lineItems: [{ productId: `gid://shopify/Product/${productId}`, productType: "Shoes", productTags: ["Sports wear"], quantity }],
  ...over,
});

function customer(id: number, orders: SegmentOrder[], over: Partial<SegmentCustomer> = {}): SegmentCustomer {
  return {
    gid: `gid://shopify/Customer/${id}`,
    email: `c${id}@example.com`,
    tags: [],
    countryCodes: ["CA"],
    emailMarketingState: "SUBSCRIBED",
    rfmGroup: null,
    createdAt: new Date("2020-01-01T00:00:00Z"),
    ...computeCustomerAggregates({ orders }),
    orders,
    ...over,
  };
}

/** 1: bought product 1234 twice (two orders, 5 units); 2: once (5 units in one order); 3: product 99 (3 units); 4: nothing. */
const STORE: readonly SegmentCustomer[] = [
  customer(1, [order("2026-11-20T10:00:00Z", 1234, 2), order("2026-12-01T10:00:00Z", 1234, 3)], {
    prediction: { clvMinor: 25_000n, churnRisk: 0.1, expectedNextOrderAt: new Date("2026-12-20T12:00:00Z"), spendTier: "HIGH" },
  }),
  customer(2, [order("2026-06-01T10:00:00Z", 1234, 5)], {
    birthDate: "2000-02-29",
    prediction: { clvMinor: 1_999n, churnRisk: 0.8, expectedNextOrderAt: null, spendTier: "LOW" },
  }),
  customer(3, [order("2020-05-30T17:00:00Z", 99, 3)], {
    tags: ["VIP"],
    accountState: "disabled",
    places: [{ countryCode: "US", province: "NY", city: "New York City" }, { countryCode: "CA", province: "ON", city: "Toronto" }],
    birthDate: "1990-12-20",
    smsMarketingState: "SUBSCRIBED",
    locale: "fr-CA",
    abandonedCheckoutAt: new Date("2026-12-03T09:00:00Z"),
  }),
  customer(4, [], {
    accountState: "ENABLED",
    places: [{ countryCode: "US", province: "CA", city: "Los Angeles" }],
    birthDate: "1985-01-03",
    smsMarketingState: "unsubscribed",
    locale: "en",
    abandonedCheckoutAt: new Date("2026-03-01T09:00:00Z"),
  }),
];

function members(query: string): number[] {
  const parsed = parseSegment(query);
  if (!parsed.ok) throw new Error(parsed.error.message);
  expect(checkSegment({ ast: parsed.ast })).toEqual([]);
  const matches = createSegmentEvaluator(parsed.ast, { now: NOW });
  return STORE.filter(matches).map((c) => Number(c.gid.split("/").pop()));
}

describe("Shopify's documented segment queries", () => {
  it.each(EXAMPLES.map((e) => [e.query, e] as const))("%s", (query, example) => {
    expect(example.source).toMatch(/^https:\/\/(shopify\.dev|help\.shopify\.com)\//);
    const parsed = parseSegment(query);
    if (!parsed.ok) throw new Error(`does not parse: ${parsed.error.message}`);
    const errors = checkSegment({ ast: parsed.ast });
    if (example.refused) {
      expect(errors.length, "refused").toBeGreaterThan(0);
      expect(errors[0]?.message).toContain(example.refused);
      return;
    }
    expect(errors).toEqual([]);
    const compiled = compileSegmentFilter(parsed.ast, { customerAlias: "c", firstParamIndex: 2, now: NOW, currency: "USD" });
    // Every value travels as a parameter, and every parameter is used.
    for (let n = 2; n < 2 + compiled.values.length; n++) expect(compiled.text).toContain(`$${n}::`);
    const matches = createSegmentEvaluator(parsed.ast, { now: NOW, currency: "USD" });
    for (const c of STORE) expect(typeof matches(c)).toBe("boolean");
  });

  it("selects whom Shopify's descriptions say", () => {
    // "would select all customers who purchased product id 1234 more than once"
    expect(members("products_purchased MATCHES (id = 1234, count > 1)")).toEqual([1]);
    expect(members("products_purchased MATCHES (id = 1234)")).toEqual([1, 2]);
    expect(members("products_purchased NOT MATCHES ()")).toEqual([4]);
    expect(members("products_purchased MATCHES (id NOT IN (1234))")).toEqual([3]);
    expect(members("products_purchased MATCHES (id IN (1234, 99), date > -3m)")).toEqual([1]);
    // Changelog: quantity = 5 is exactly five units, != and > as written.
    expect(members("products_purchased MATCHES (quantity = 5)")).toEqual([1, 2]);
    expect(members("products_purchased MATCHES (quantity != 5)")).toEqual([3, 4]);
    expect(members("products_purchased MATCHES (quantity > 3)")).toEqual([1, 2]);
    // A date-time in the shop's zone (UTC here): the order at 17:00 is after 16:00.
    expect(members("last_order_date > 2020-05-30T16:00:00 AND last_order_date < 2020-05-31")).toEqual([3]);
    expect(members("last_order_date > 2020-05-30T17:00:00 AND last_order_date < 2020-05-31")).toEqual([]);
    expect(members("last_order_date >= 12_months_ago")).toEqual([1, 2]);
    expect(members("orders_placed MATCHES (date > 2025-01-01)")).toEqual([1, 2]);
    // The account state as payloads carry it (REST lower case, GraphQL upper case); no state: no value.
    expect(members("customer_account_status = 'DISABLED'")).toEqual([3]);
    expect(members("customer_account_status != 'DISABLED'")).toEqual([4]);
  });

  it("selects by the customer facts of issue 16: cities, regions, anniversary, SMS consent, language, abandoned checkouts", () => {
    // Cities as Shopify codes them, derived from the address (case, spaces and punctuation ignored).
    expect(members("customer_cities CONTAINS 'US-NY-NewYorkCity'")).toEqual([3]);
    expect(members("customer_cities CONTAINS 'US-CA-LosAngeles'")).toEqual([4]);
    expect(members("customer_cities CONTAINS 'us-ca-los angeles'")).toEqual([4]);
    expect(members("customer_cities NOT CONTAINS 'US-CA-LosAngeles'")).toEqual([1, 2, 3]);
    expect(members("customer_cities IS NULL")).toEqual([1, 2]);
    // Regions: country code and region code.
    expect(members("customer_regions CONTAINS 'CA-ON'")).toEqual([3]);
    expect(members("customer_regions CONTAINS 'US-NY' OR customer_regions CONTAINS 'us-ca'")).toEqual([3, 4]);
    expect(members("customer_regions IS NOT NULL")).toEqual([3, 4]);
    // "Include customers with a birthday in the next 30 days" on 7 December: the 20th, and
    // 3 January across the new year; 29 February is not in the window.
    expect(members("anniversary(date: 'metafields.facts.birth_date') BETWEEN today AND +30d")).toEqual([3, 4]);
    expect(members("anniversary(date: 'facts.birth_date') BETWEEN today AND +7d")).toEqual([]);
    expect(members("anniversary(date: 'facts.birth_date') = 2026-12-20")).toEqual([3]);
    expect(members("anniversary(date: 'facts.birth_date') > today")).toEqual([3]);
    expect(members("anniversary(date: 'facts.birth_date') = 2027-02-28")).toEqual([2]);
    expect(members("anniversary(date: 'facts.birth_date') = 2028-02-28")).toEqual([]);
    expect(members("anniversary(date: 'facts.birth_date') IS NULL")).toEqual([1]);
    expect(members("sms_subscription_status = 'SUBSCRIBED'")).toEqual([3]);
    expect(members("sms_subscription_status = 'UNSUBSCRIBED'")).toEqual([4]);
    expect(members("customer_language = 'FR-ca'")).toEqual([3]);
    expect(members("customer_language != 'en'")).toEqual([3]);
    // A language without a region names every region of it.
    expect(members("customer_language = 'fr'")).toEqual([3]);
    expect(members("customer_language = 'fr-FR'")).toEqual([]);
    expect(members("abandoned_checkout_date >= 7_days_ago")).toEqual([3]);
    expect(members("abandoned_checkout_date > -12m")).toEqual([3, 4]);
    expect(members("abandoned_checkout_date IS NULL")).toEqual([1, 2]);
  });

  it("selects by the app's predictions: Shopify's predicted_spend_tier values (any case) and the numbers beside them", () => {
    // Customers 3 and 4 have no prediction (the refit scores customers with orders only): no value.
    expect(members("predicted_spend_tier = 'HIGH'")).toEqual([1]);
    expect(members("predicted_spend_tier = 'high'")).toEqual([1]);
    expect(members("predicted_spend_tier != 'HIGH'")).toEqual([2]);
    expect(members("predicted_spend_tier IS NULL")).toEqual([3, 4]);
    expect(members("predicted_clv >= 19.99")).toEqual([1, 2]);
    expect(members("predicted_clv > 19.99")).toEqual([1]);
    expect(members("churn_risk > 0.5")).toEqual([2]);
    expect(members("churn_risk BETWEEN 0 AND 0.1")).toEqual([1]);
    expect(members("expected_next_order_date BETWEEN today AND +30d")).toEqual([1]);
    expect(members("expected_next_order_date IS NULL")).toEqual([2, 3, 4]);
  });

  it("keeps the deprecated form's meaning in this app: a bare `quantity:` is at least, a bare `date:` on or after", () => {
    // Stored segments written before MATCHES keep their members (decision 028).
    expect(members("products_purchased(quantity: 3) = true")).toEqual([1, 2, 3]);
    expect(members("products_purchased(quantity: = 3) = true")).toEqual([3]);
    expect(members("products_purchased(date: 2026-11-20) = true")).toEqual([1]);
    expect(members("products_purchased(date: = 2026-11-20) = true")).toEqual([1]);
    expect(members("products_purchased(date: = 2026-12-01) = true")).toEqual([1]);
    expect(members("products_purchased(date: = 2026-11-21) = true")).toEqual([]);
    expect(members("orders_placed(count_at_least: 2) = true")).toEqual([1]);
    expect(members("orders_placed(count_at_most: 1) = true")).toEqual([2, 3, 4]);
    expect(members("products_purchased(product_id: 1234, quantity: 5) = true")).toEqual([1, 2]);
  });
});
