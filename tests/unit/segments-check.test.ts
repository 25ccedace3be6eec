import { describe, expect, it } from "vitest";
import { checkSegment, levenshtein, suggest } from "../../app/domain/segments/check";
import { FIELDS, RFM_GROUPS, type FieldDefinition } from "../../app/domain/segments/fields";
import { parseSegment } from "../../app/domain/segments/parser";

function check(query: string, fields?: readonly FieldDefinition[]) {
  const result = parseSegment(query);
  if (!result.ok) throw new Error(`does not parse: ${result.error.message}`);
  return checkSegment({ ast: result.ast, fields });
}

describe("checkSegment: valid segments", () => {
  it.each([
    "number_of_orders > 3 AND last_order_date > -90d",
    "customer_tags CONTAINS 'vip'",
    "customer_tags NOT CONTAINS 'wholesale'",
    "amount_spent BETWEEN 100 AND 500",
    "average_order_value >= 49.99",
    "NOT (rfm_group = 'at_risk' OR rfm_group = 'dormant')",
    "rfm_group = 'Champions' OR rfm_group != 'NEEDS_ATTENTION'",
    "email_subscription_status = 'SUBSCRIBED'",
    "email_subscription_status = 'not_subscribed'",
    "email_subscription_status != 'Redacted'",
    "products_purchased(product_type: 'Shoes', date: -90d) = true",
    "products_purchased(product_type: 'Shoes', date: -90d, quantity: 2) = false",
    "products_purchased(tag: 'sale', date: 2024-11-29) != true",
    "orders_placed(count_at_least: 3, date: -1y) = true",
    "first_order_date BETWEEN 2024-01-01 AND 2024-12-31",
    "first_order_date BETWEEN -1y AND -6m",
    "customer_added_date >= 30_days_ago AND last_order_date IS NULL",
    "last_order_date < yesterday OR last_order_date > today",
    "customer_email_domain = 'gmail.com'",
    "customer_email_domain IS NOT NULL",
    "customer_countries CONTAINS 'DE'",
    "refund_rate BETWEEN 0 AND 0.2",
    "refund_rate = 1",
    "first_order_date = 2024-02-29",
  ])("%s", (query) => {
    expect(check(query)).toEqual([]);
  });
});

describe("checkSegment: errors", () => {
  it.each([
    // unknown attributes and functions
    ["amount_spend > 100", "unknown attribute `amount_spend` at 1:1, did you mean `amount_spent`?", 1, 1],
    ["number_of_order > 3", "unknown attribute `number_of_order` at 1:1, did you mean `number_of_orders`?", 1, 1],
    ["amount_spent > 1 AND\n  custmer_tags CONTAINS 'vip'", "unknown attribute `custmer_tags` at 2:3, did you mean `customer_tags`?", 2, 3],
    ["favourite_colour = 'red'", "unknown attribute `favourite_colour` at 1:1", 1, 1],
    ["product_purchased(date: -90d) = true", "unknown function `product_purchased` at 1:1, did you mean `products_purchased`?", 1, 1],
    ["orders_placed = 3", "`orders_placed` at 1:1 is a function: write `orders_placed MATCHES (...)`", 1, 1],
    ["amount_spent(date: -1y) > 3", "`amount_spent` at 1:1 is an attribute, not a function", 1, 1],
    // Shopify's function syntax and names (issue 16)
    ["shopify_email.opened MATCHES ()", "`shopify_email.opened` at 1:1 is a Shopify attribute this app cannot evaluate: apps receive no Shopify Email events", 1, 1],
    ["storefront_event.product_viewed MATCHES (id = 1)", "`storefront_event.product_viewed` at 1:1 is a Shopify attribute this app cannot evaluate: apps receive no storefront browsing events", 1, 1],
    ["predicted_spend_tier = 'TOP'", "unknown value 'TOP' for `predicted_spend_tier` at 1:24, expected one of: HIGH, MEDIUM, LOW", 1, 24],
    ["churn_risk > 2", "`churn_risk` is between 0 and 1, got 2 at 1:14", 1, 14],
    // anniversary (issue 16): the birth date only, days only, Shopify's form
    ["anniversary(date: 'metafields.custom.wedding') = today", "the anniversary of `metafields.custom.wedding` at 1:19 cannot be evaluated: the app stores only the birth date ('metafields.facts.birth_date')", 1, 19],
    ["anniversary() = today", "`anniversary` at 1:1 takes one parameter, the date: `anniversary(date: 'metafields.facts.birth_date')`", 1, 1],
    ["anniversary MATCHES (date = today)", "`anniversary` at 1:1 is written with its date and an operator: `anniversary(date: 'metafields.facts.birth_date') BETWEEN today AND +30d`", 1, 1],
    ["anniversary(date: 'facts.birth_date') = 2020-05-30T16:00:00", "`anniversary` compares with days, got a date and time at 1:41: write the day (2020-05-30)", 1, 41],
    ["anniversary(date: 'facts.birth_date') CONTAINS 'x'", "operator `CONTAINS` is not allowed for `anniversary` at 1:39, use one of: =, !=, >, <, >=, <=, BETWEEN, IS [NOT] NULL", 1, 39],
    ["anniversary(date: 'facts.birth_date') = 5", "`anniversary` compares with a date, got a number at 1:41", 1, 41],
    ["orders_placed('x') = true", "parameters of `orders_placed` are written `name: value` at 1:15", 1, 15],
    ["sms_subscription_status = 'INVALID'", "unknown value 'INVALID' for `sms_subscription_status` at 1:27, expected one of: SUBSCRIBED, NOT_SUBSCRIBED, PENDING, UNSUBSCRIBED, REDACTED", 1, 27],
    ["customer_cities = 'US-NY-NewYorkCity'", "operator `=` is not allowed for `customer_cities` at 1:17, use one of: [NOT] CONTAINS, IS [NOT] NULL", 1, 17],
    ["orders_placed MATCHES (location_id = 1)", "parameter `location_id` of `orders_placed` at 1:24 is a Shopify parameter this app cannot evaluate: the app does not store the location an order was placed at", 1, 24],
    ["orders_placed MATCHES (count_at_least = 3)", "`count_at_least` at 1:24 is only accepted in the deprecated form `orders_placed(count_at_least: ...) = true`; with MATCHES write `count >= <n>`", 1, 24],
    ["products_purchased MATCHES (product_id = 3)", "`product_id` at 1:29 is only accepted in the deprecated form `products_purchased(product_id: ...) = true`; with MATCHES write `id = <product id>`", 1, 29],
    ["products_purchased MATCHES (date > -1m, date < -1d)", "parameter `date` given twice at 1:41", 1, 41],
    ["products_purchased MATCHES (quantity > 1, sum_quantity < 5)", "parameter `sum_quantity` given twice at 1:43", 1, 43],
    ["products_purchased MATCHES (tag > 'a')", "operator `>` is not allowed for parameter `tag` of `products_purchased` at 1:33, use one of: =", 1, 33],
    ["products_purchased MATCHES (id = 'a')", "parameter `id` of `products_purchased` takes a number, got a string at 1:34", 1, 34],
    ["products_purchased(product_id: > 3) = true", "operator `>` is not allowed for parameter `product_id` of `products_purchased` at 1:32, use one of: =, !=, IN, NOT IN", 1, 32],
    ["products_purchased(count: 3) = true", "unknown parameter `count` of `products_purchased` at 1:20, expected one of: id, product_id, tag, product_type, date, quantity", 1, 20],
    ["last_order_date > 2020-05-30T24:00:00", "invalid date and time `2020-05-30T24:00:00` at 1:19 (24-hour time, HH <= 23)", 1, 19],
    ["last_order_date > 2020-02-30T10:00:00", "invalid date and time `2020-02-30T10:00:00` at 1:19 (24-hour time, HH <= 23)", 1, 19],
    // wrong value type
    ["last_order_date > 90", "`last_order_date` compares with a date, got a number at 1:19", 1, 19],
    ["amount_spent > '100'", "`amount_spent` compares with a number, got a string at 1:16", 1, 16],
    ["customer_tags CONTAINS 3", "`customer_tags` compares with a string, got a number at 1:24", 1, 24],
    ["rfm_group = true", "`rfm_group` compares with a string, got a boolean at 1:13", 1, 13],
    ["products_purchased(tag: 'x') = 1", "`products_purchased` compares with a boolean, got a number at 1:32", 1, 32],
    ["first_order_date > 2024-02-30", "invalid date `2024-02-30` at 1:20", 1, 20],
    ["refund_rate > 5", "`refund_rate` is between 0 and 1, got 5 at 1:15", 1, 15],
    ["number_of_orders > -1", "`number_of_orders` is at least 0, got -1 at 1:20", 1, 20],
    // operator not allowed
    [
      "amount_spent CONTAINS 'x'",
      "operator `CONTAINS` is not allowed for `amount_spent` at 1:14, use one of: =, !=, >, <, >=, <=, BETWEEN, IS [NOT] NULL",
      1,
      14,
    ],
    ["customer_tags = 'vip'", "operator `=` is not allowed for `customer_tags` at 1:15, use one of: [NOT] CONTAINS", 1, 15],
    ["rfm_group > 'loyal'", "operator `>` is not allowed for `rfm_group` at 1:11, use one of: =, !=, IS [NOT] NULL", 1, 11],
    ["customer_email_domain NOT CONTAINS 'x'", "operator `NOT CONTAINS` is not allowed for `customer_email_domain` at 1:23, use one of: =, !=, IS [NOT] NULL", 1, 23],
    ["orders_placed(date: -1y) IS NULL", "operator `IS NULL` is not allowed for `orders_placed` at 1:26, use one of: =, !=", 1, 26],
    ["orders_placed() BETWEEN 1 AND 2", "operator `BETWEEN` is not allowed for `orders_placed` at 1:17, use one of: =, !=", 1, 17],
    // enum values
    [
      "rfm_group = 'vip'",
      `unknown value 'vip' for \`rfm_group\` at 1:13, expected one of: ${RFM_GROUPS.map((g) => g.toUpperCase()).join(", ")}`,
      1,
      13,
    ],
    [
      "email_subscription_status = 'opted_in'",
      "unknown value 'opted_in' for `email_subscription_status` at 1:29, expected one of: SUBSCRIBED, NOT_SUBSCRIBED, PENDING, UNSUBSCRIBED, REDACTED, INVALID",
      1,
      29,
    ],
    // function parameters
    [
      "products_purchased(product_typ: 'Shoes') = true",
      "unknown parameter `product_typ` of `products_purchased` at 1:20, did you mean `product_type`?",
      1,
      20,
    ],
    [
      "orders_placed(colour: 'red') = true",
      "unknown parameter `colour` of `orders_placed` at 1:15, expected one of: date, count_at_least, count_at_most",
      1,
      15,
    ],
    ["orders_placed(count_at_least: '3') = true", "parameter `count_at_least` of `orders_placed` takes a number, got a string at 1:31", 1, 31],
    ["products_purchased(date: 90) = true", "parameter `date` of `products_purchased` takes a date, got a number at 1:26", 1, 26],
    ["products_purchased(date: 2023-13-01) = true", "invalid date `2023-13-01` at 1:26", 1, 26],
    ["orders_placed(date: -1y, date: -2y) = true", "parameter `date` given twice at 1:26", 1, 26],
    // BETWEEN bounds
    ["amount_spent BETWEEN 'low' AND 500", "BETWEEN bound of `amount_spent` must be a number, got a string at 1:22", 1, 22],
    ["last_order_date BETWEEN 2024-01-01 AND 5", "BETWEEN bound of `last_order_date` must be a date, got a number at 1:40", 1, 40],
    ["amount_spent BETWEEN 500 AND 100", "BETWEEN bounds of `amount_spent` are reversed at 1:22: the lower bound comes first", 1, 22],
    ["first_order_date BETWEEN 2024-12-31 AND 2024-01-01", "BETWEEN bounds of `first_order_date` are reversed at 1:26: the lower bound comes first", 1, 26],
    ["refund_rate BETWEEN 0 AND 2", "`refund_rate` is between 0 and 1, got 2 at 1:27", 1, 27],
  ])("%j", (query, message, line, column) => {
    const errors = check(query);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ message, line, column });
  });

  it("reports every error in the tree, in reading order", () => {
    const errors = check("amount_spend > 1 OR (NOT last_order_date > 3 AND rfm_group = 'x')");
    expect(errors.map((e) => `${e.line}:${e.column}`)).toEqual(["1:1", "1:44", "1:62"]);
  });

  it("takes its catalogue as input: adding an attribute is one entry", () => {
    const fields: FieldDefinition[] = [
      ...FIELDS,
      { name: "accepts_sms", type: { kind: "boolean" }, operators: ["=", "!="], description: "SMS consent." },
    ];
    expect(check("accepts_sms = true", fields)).toEqual([]);
    expect(check("accepts_sms = true")[0]?.message).toBe("unknown attribute `accepts_sms` at 1:1");
    expect(check("accepts_sms = 'yes'", fields)[0]?.message).toBe("`accepts_sms` compares with a boolean, got a string at 1:15");
  });
});

describe("catalogue", () => {
  it("has unique names and operators that fit each type", () => {
    expect(new Set(FIELDS.map((f) => f.name)).size).toBe(FIELDS.length);
    for (const field of FIELDS) {
      expect(field.operators.length, field.name).toBeGreaterThan(0);
      if (field.type.kind === "stringList") expect(field.operators.filter((op) => op !== "IS NULL"), field.name).toEqual(["CONTAINS"]);
      if (field.type.kind === "enum") expect(field.type.values.length, field.name).toBeGreaterThan(0);
    }
    expect(RFM_GROUPS).toHaveLength(11);
  });
});

describe("suggestions", () => {
  it.each([
    ["", "", 0],
    ["kitten", "sitting", 3],
    ["amount_spend", "amount_spent", 1],
    ["abc", "", 3],
  ])("levenshtein(%j, %j) = %i", (a, b, d) => {
    expect(levenshtein(a, b)).toBe(d);
    expect(levenshtein(b, a)).toBe(d);
  });

  it("suggests only close names", () => {
    expect(suggest("AMOUNT_SPENT", ["amount_spent"])).toBe("amount_spent");
    expect(suggest("zzz", ["amount_spent", "rfm_group"])).toBeUndefined();
  });
});
