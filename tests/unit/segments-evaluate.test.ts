import { describe, expect, it } from "vitest";
import { checkSegment } from "../../app/domain/segments/check";
import { evaluateSegment, type SegmentCustomer, type SegmentOrder } from "../../app/domain/segments/evaluate";
import { parseSegment } from "../../app/domain/segments/parser";

const NOW = new Date("2026-11-23T15:30:00Z");

const order = (createdAt: string, over: Partial<SegmentOrder> = {}): SegmentOrder => ({
  createdAt: new Date(createdAt),
  cancelled: false,
  test: false,
  totalPriceMinor: 5000n,
  refundedMinor: 0n,
  lineItems: [{ productId: "gid://shopify/Product/42", productType: "Shoes", productTags: ["Sale"], quantity: 1 }],
  ...over,
});

/** A customer with two orders; aggregates as app/domain/customers/aggregates.ts computes them. */
const BUYER: SegmentCustomer = {
  gid: "gid://shopify/Customer/1",
  email: "Ana@Example.COM",
  tags: ["VIP", "newsletter"],
  countryCodes: ["US", "DE"],
  emailMarketingState: "subscribed",
  rfmGroup: "loyal",
  createdAt: new Date("2024-05-01T12:00:00Z"),
  ordersCount: 2,
  totalSpentMinor: 10050n,
  refundedMinor: 2500n,
  aovMinor: 5025n,
  firstOrderAt: new Date("2026-01-10T12:00:00Z"),
  lastOrderAt: new Date("2026-11-01T03:30:00Z"),
  orders: [
    order("2026-01-10T12:00:00Z", { totalPriceMinor: 7550n, refundedMinor: 2500n }),
    order("2026-11-01T03:30:00Z", { lineItems: [{ productId: "gid://shopify/Product/7", productType: "Hats", productTags: [], quantity: 3 }] }),
    order("2026-11-20T10:00:00Z", { cancelled: true }),
    order("2026-11-21T10:00:00Z", { test: true }),
  ],
};

/** A customer who never ordered, without email, consent or RFM group yet. */
const PROSPECT: SegmentCustomer = {
  gid: "gid://shopify/Customer/2",
  email: null,
  tags: [],
  countryCodes: [],
  emailMarketingState: null,
  rfmGroup: null,
  createdAt: null,
  ordersCount: 0,
  totalSpentMinor: 0n,
  refundedMinor: 0n,
  aovMinor: 0n,
  firstOrderAt: null,
  lastOrderAt: null,
  orders: [],
};

function evaluate(query: string, customer: SegmentCustomer, options: { timeZone?: string; currency?: string } = {}) {
  const parsed = parseSegment(query);
  if (!parsed.ok) throw new Error(parsed.error.message);
  expect(checkSegment({ ast: parsed.ast })).toEqual([]);
  return evaluateSegment(parsed.ast, customer, { now: NOW, ...options });
}

describe("evaluateSegment", () => {
  it.each([
    // money in major units, exact
    ["amount_spent > 100", true, false],
    ["amount_spent > 100.5", false, false],
    ["amount_spent >= 100.5", true, false],
    ["amount_spent = 100.50", true, false],
    ["amount_spent = 100.505", false, false],
    ["amount_spent != 100.505", true, true],
    ["amount_spent BETWEEN 0 AND 100.5", true, true],
    ["amount_spent IS NULL", false, false],
    ["average_order_value = 50.25", true, false],
    ["average_order_value < 1000", true, false], // no orders, no average
    ["average_order_value IS NULL", false, true],
    ["number_of_orders = 2", true, false],
    ["number_of_orders > 1.5", true, false],
    ["number_of_orders = 0", false, true],
    // refund rate: 2500 of 12550 ordered
    ["refund_rate > 0.199", true, false],
    ["refund_rate > 0.2", false, false],
    ["refund_rate < 0.2", true, false],
    ["refund_rate IS NULL", false, true],
    // dates: days in the time zone (UTC here); a customer without orders has no order dates
    ["last_order_date = 2026-11-01", true, false],
    ["last_order_date > 2026-10-31", true, false],
    ["last_order_date > 2026-11-01", false, false],
    ["last_order_date <= 2026-11-01", true, false],
    ["last_order_date < -30d", false, false],
    ["NOT last_order_date < -30d", true, true],
    ["last_order_date != 2026-11-02", true, false],
    ["last_order_date IS NULL", false, true],
    ["first_order_date BETWEEN 2026-01-10 AND 2026-01-10", true, false],
    ["first_order_date >= -1y", true, false],
    ["customer_added_date < 2025-01-01", true, false],
    // text and lists ignore case
    ["customer_email_domain = 'example.com'", true, false],
    ["customer_email_domain != 'example.com'", false, false],
    ["customer_email_domain IS NULL", false, true],
    ["customer_tags CONTAINS 'vip'", true, false],
    ["customer_tags NOT CONTAINS 'vip'", false, true],
    ["customer_countries CONTAINS 'de'", true, false],
    ["email_subscription_status = 'SUBSCRIBED'", true, false],
    ["email_subscription_status != 'UNSUBSCRIBED'", true, false],
    ["rfm_group = 'LOYAL'", true, false],
    ["rfm_group IS NULL", false, true],
    // functions: orders neither cancelled nor test
    ["orders_placed() = true", true, false],
    ["orders_placed(count_at_least: 3) = true", false, false],
    ["orders_placed(count_at_most: 0) = true", false, true],
    ["orders_placed(date: 2026-11-02) = true", false, false],
    ["orders_placed(date: 2026-11-01, count_at_least: 1, count_at_most: 1) = true", true, false],
    ["products_purchased(product_type: 'shoes') = true", true, false],
    ["products_purchased(product_type: 'shoes', date: 2026-02-01) = true", false, false],
    ["products_purchased(tag: 'SALE') = true", true, false],
    ["products_purchased(product_id: 7, quantity: 3) = true", true, false],
    ["products_purchased(product_id: 7, quantity: 3.5) = true", false, false],
    ["products_purchased(product_id: 7) != true", false, true],
    ["products_purchased(quantity: 0) = true", true, true],
    // combinators
    ["amount_spent > 100 AND customer_tags CONTAINS 'vip' OR number_of_orders = 0", true, true],
    ["NOT (amount_spent > 100 OR number_of_orders = 0)", false, false],
  ])("%s", (query, buyer, prospect) => {
    expect(evaluate(query, BUYER)).toBe(buyer);
    expect(evaluate(query, PROSPECT)).toBe(prospect);
  });

  it("reads order dates in the shop's time zone", () => {
    // 2026-11-01T03:30Z is still October 31st in New York (23:30 EDT).
    expect(evaluate("last_order_date = 2026-10-31", BUYER, { timeZone: "America/New_York" })).toBe(true);
    expect(evaluate("last_order_date = 2026-11-01", BUYER, { timeZone: "America/New_York" })).toBe(false);
    expect(evaluate("last_order_date = 2026-11-01", BUYER, { timeZone: "Asia/Tokyo" })).toBe(true);
  });

  it("reads money literals in the shop currency's major units", () => {
    expect(evaluate("amount_spent = 10050", BUYER, { currency: "JPY" })).toBe(true);
    expect(evaluate("amount_spent = 10.05", BUYER, { currency: "KWD" })).toBe(true);
  });

  it("rejects an unknown time zone", () => {
    expect(() => evaluate("amount_spent > 1", BUYER, { timeZone: "Nowhere/City" })).toThrow(/unknown time zone/);
  });
});
