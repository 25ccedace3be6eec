import { describe, expect, it } from "vitest";
import type { Condition } from "../../app/domain/segments/ast";
import { checkSegment } from "../../app/domain/segments/check";
import { FIELDS, type SegmentField } from "../../app/domain/segments/fields";
import { parseSegment } from "../../app/domain/segments/parser";
import { compileSegmentFilter, SegmentCompileError, type CompileOptions } from "../../app/domain/segments/sql";

const NOW = new Date("2026-11-23T15:30:00Z");

function tree(query: string, fields: readonly SegmentField[] = FIELDS): Condition {
  const parsed = parseSegment(query);
  if (!parsed.ok) throw new Error(`does not parse: ${parsed.error.message}`);
  const errors = checkSegment({ ast: parsed.ast, fields });
  if (errors.length > 0) throw new Error(`does not check: ${errors[0]?.message}`);
  return parsed.ast;
}

function compile(query: string, options: Partial<CompileOptions> = {}) {
  return compileSegmentFilter(tree(query, options.fields), { customerAlias: "c", firstParamIndex: 2, now: NOW, ...options });
}

/** Every placeholder in the text, in order of first appearance. */
const placeholders = (text: string) => [...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));

describe("compileSegmentFilter: attributes", () => {
  it.each([
    // money: major units scaled exactly to minor units; > and <= round down, >= and < round up
    ["amount_spent > 100", "c.total_spent_minor > $2::bigint", ["10000"]],
    ["amount_spent > 100.5", "c.total_spent_minor > $2::bigint", ["10050"]],
    ["amount_spent > 100.505", "c.total_spent_minor > $2::bigint", ["10050"]],
    ["amount_spent >= 100.505", "c.total_spent_minor >= $2::bigint", ["10051"]],
    ["amount_spent < 100.505", "c.total_spent_minor < $2::bigint", ["10051"]],
    ["amount_spent <= 100.505", "c.total_spent_minor <= $2::bigint", ["10050"]],
    ["amount_spent > -0.005", "c.total_spent_minor > $2::bigint", ["-1"]],
    ["amount_spent = 100.505", "FALSE", []],
    ["amount_spent != 100.505", "TRUE", []],
    ["amount_spent != 7", "c.total_spent_minor <> $2::bigint", ["700"]],
    ["amount_spent BETWEEN 10.001 AND 20.009", "(c.total_spent_minor >= $2::bigint AND c.total_spent_minor <= $3::bigint)", ["1001", "2000"]],
    ["amount_spent IS NULL", "FALSE", []],
    ["amount_spent IS NOT NULL", "TRUE", []],
    ["amount_spent > 99999999999999999999", "c.total_spent_minor > $2::numeric", ["9999999999999999999900"]],
    // average_order_value has no value without orders
    ["average_order_value >= 49.99", "(c.orders_count > 0 AND c.aov_minor >= $2::bigint)", ["4999"]],
    ["average_order_value IS NULL", "(NOT c.orders_count > 0)", []],
    // integers
    ["number_of_orders > 2.5", "c.orders_count > $2::bigint", ["2"]],
    ["number_of_orders = 3", "c.orders_count = $2::bigint", ["3"]],
    // ratio
    [
      "refund_rate > 0.25",
      "((c.total_spent_minor + c.refunded_minor) > 0 AND c.refunded_minor::numeric * $2::numeric > $3::numeric * (c.total_spent_minor + c.refunded_minor))",
      ["100", "25"],
    ],
    ["refund_rate IS NULL", "(NOT (c.total_spent_minor + c.refunded_minor) > 0)", []],
    // text, case-insensitive; enums too
    ["customer_email_domain = 'Gmail.COM'", "((c.email IS NOT NULL AND strpos(c.email, '@') > 0) AND lower(split_part(c.email, '@', -1)) = $2::text)", ["gmail.com"]],
    ["rfm_group = 'AT_RISK'", "(c.rfm_group IS NOT NULL AND c.rfm_group = $2::text)", ["at_risk"]],
    ["email_subscription_status != 'subscribed'", "(c.email_marketing_state IS NOT NULL AND lower(c.email_marketing_state) <> $2::text)", ["subscribed"]],
    ["rfm_group IS NOT NULL", "c.rfm_group IS NOT NULL", []],
    // lists
    ["customer_tags CONTAINS 'VIP'", "segment_lower_tags(c.tags) @> ARRAY[$2::text]", ["vip"]],
    ["customer_tags NOT CONTAINS 'vip'", "(NOT segment_lower_tags(c.tags) @> ARRAY[$2::text])", ["vip"]],
  ])("%s", (query, sql, values) => {
    const compiled = compile(query);
    expect(compiled.text).toBe(sql);
    expect(compiled.values).toEqual(values);
  });

  it("compares money in the currency's own minor units", () => {
    expect(compile("amount_spent > 100.5", { currency: "JPY" }).values).toEqual(["100"]);
    expect(compile("amount_spent >= 100.5", { currency: "JPY" }).values).toEqual(["101"]);
    expect(compile("amount_spent > 1.2345", { currency: "KWD" }).values).toEqual(["1234"]);
  });
});

describe("compileSegmentFilter: dates are days in the shop's time zone", () => {
  it.each([
    // UTC by default
    ["last_order_date > 2024-01-01", "c.last_order_at >= $2::timestamptz", ["2024-01-02T00:00:00.000Z"]],
    ["last_order_date >= 2024-01-01", "c.last_order_at >= $2::timestamptz", ["2024-01-01T00:00:00.000Z"]],
    ["last_order_date < 2024-01-01", "c.last_order_at < $2::timestamptz", ["2024-01-01T00:00:00.000Z"]],
    ["last_order_date <= 2024-01-01", "c.last_order_at < $2::timestamptz", ["2024-01-02T00:00:00.000Z"]],
    ["last_order_date = 2024-01-01", "c.last_order_at >= $2::timestamptz AND c.last_order_at < $3::timestamptz", ["2024-01-01T00:00:00.000Z", "2024-01-02T00:00:00.000Z"]],
    ["last_order_date != 2024-01-01", "(c.last_order_at < $2::timestamptz OR c.last_order_at >= $3::timestamptz)", ["2024-01-01T00:00:00.000Z", "2024-01-02T00:00:00.000Z"]],
    ["first_order_date BETWEEN 2024-01-01 AND 2024-12-31", "c.first_order_at >= $2::timestamptz AND c.first_order_at < $3::timestamptz", ["2024-01-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z"]],
    // relative to now (2026-11-23 in UTC)
    ["last_order_date > -90d", "c.last_order_at >= $2::timestamptz", ["2026-08-26T00:00:00.000Z"]],
    ["last_order_date >= today", "c.last_order_at >= $2::timestamptz", ["2026-11-23T00:00:00.000Z"]],
    ["last_order_date >= yesterday", "c.last_order_at >= $2::timestamptz", ["2026-11-22T00:00:00.000Z"]],
    ["last_order_date >= 30_days_ago", "c.last_order_at >= $2::timestamptz", ["2026-10-24T00:00:00.000Z"]],
    ["last_order_date >= -4w", "c.last_order_at >= $2::timestamptz", ["2026-10-26T00:00:00.000Z"]],
    ["last_order_date >= -3m", "c.last_order_at >= $2::timestamptz", ["2026-08-23T00:00:00.000Z"]],
    ["last_order_date >= -1y", "c.last_order_at >= $2::timestamptz", ["2025-11-23T00:00:00.000Z"]],
    ["customer_added_date < +30d", "c.shopify_created_at < $2::timestamptz", ["2026-12-23T00:00:00.000Z"]],
  ])("%s", (query, sql, values) => {
    const compiled = compile(query);
    expect(compiled.text).toBe(`(c.${sql.split("c.")[1]?.split(" ")[0]} IS NOT NULL AND ${sql})`);
    expect(compiled.values).toEqual(values);
  });

  it("places days in the given time zone, across daylight saving time", () => {
    const ny = { timeZone: "America/New_York" };
    expect(compile("last_order_date > 2024-03-09", ny).values).toEqual(["2024-03-10T05:00:00.000Z"]);
    expect(compile("last_order_date > 2024-03-10", ny).values).toEqual(["2024-03-11T04:00:00.000Z"]);
    // 2026-11-23T03:00Z is still 2026-11-22 in New York: today is the 22nd there.
    expect(compile("last_order_date >= today", { ...ny, now: new Date("2026-11-23T03:00:00Z") }).values).toEqual(["2026-11-22T05:00:00.000Z"]);
    // Santiago skips midnight on 2024-09-08: the day starts at 01:00 local.
    expect(compile("last_order_date >= 2024-09-08", { timeZone: "America/Santiago" }).values).toEqual(["2024-09-08T04:00:00.000Z"]);
    // A month back from March 31st is the last day of February.
    expect(compile("last_order_date >= -1m", { now: new Date("2024-03-31T12:00:00Z") }).values).toEqual(["2024-02-29T00:00:00.000Z"]);
  });
});

describe("compileSegmentFilter: functions", () => {
  it("MATCHES: an IN list is one text[] parameter, NOT MATCHES negates, MATCHES () is any purchase", () => {
    const listed = compile("products_purchased MATCHES (id IN (42, 7, 1.5), date > 2026-01-01)");
    expect(listed.text).toContain("segment_o.shopify_created_at >= $2::timestamptz AND segment_li.product_gid = ANY($3::text[]) AND segment_li.quantity > 0)");
    expect(listed.values).toEqual(["2026-01-02T00:00:00.000Z", ["gid://shopify/Product/42", "gid://shopify/Product/7"]]);
    const excluded = compile("products_purchased NOT MATCHES (id NOT IN (42))");
    expect(excluded.text).toMatch(/^\(NOT EXISTS \(.* AND segment_li\.product_gid IS NOT NULL AND segment_li\.product_gid <> ALL\(\$2::text\[\]\) AND segment_li\.quantity > 0\)\)$/);
    expect(excluded.values).toEqual([["gid://shopify/Product/42"]]);
    expect(compile("products_purchased MATCHES ()").text).toMatch(/^EXISTS \(SELECT 1 FROM orders segment_o JOIN line_items .* AND segment_li\.quantity > 0\)$/);
  });

  it("MATCHES aggregates: counts of orders, sums of units, amounts in minor units", () => {
    expect(compile("orders_placed MATCHES (count >= 2)")).toEqual({ text: "c.orders_count >= $2::bigint", values: ["2"] });
    expect(compile("orders_placed MATCHES (sum_amount > 100)")).toEqual({ text: "c.total_spent_minor > $2::bigint", values: ["10000"] });
    const counted = compile("products_purchased MATCHES (tag = 'x', count > 1)");
    expect(counted.text).toMatch(/^\(SELECT count\(DISTINCT segment_o\.gid\) FROM .* >= \$3::bigint$/);
    expect(counted.values).toEqual(["x", "2"]);
    expect(compile("products_purchased MATCHES (quantity = 5)").text).toMatch(/^\(SELECT COALESCE\(SUM\(segment_li\.quantity\), 0\) .* = \$2::bigint$/);
    const amount = compile("orders_placed MATCHES (amount BETWEEN 10 AND 20.5, count = 0)");
    expect(amount.text).toContain("(segment_o.total_price_minor - segment_o.refunded_minor) >= $2::bigint AND (segment_o.total_price_minor - segment_o.refunded_minor) <= $3::bigint");
    expect(amount.text).toMatch(/^\(NOT EXISTS/);
    expect(amount.values).toEqual(["1000", "2050"]);
    // Aggregates that hold for any count need no rows: no unused parameter is left behind.
    expect(compile("products_purchased MATCHES (date > -1d, quantity >= 0)")).toEqual({ text: "TRUE", values: [] });
    expect(compile("orders_placed MATCHES (date > -1d, count != 2.5)")).toEqual({ text: "TRUE", values: [] });
    expect(compile("orders_placed MATCHES (date > -1d, count < 0)")).toEqual({ text: "FALSE", values: [] });
  });

  it.each([
    ["products_purchased(product_type: 'Shoes', date: -90d) = true", "products_purchased MATCHES (product_type = 'Shoes', date >= -90d)"],
    ["products_purchased(product_id: 42, quantity: 2) = true", "products_purchased MATCHES (id = 42, sum_quantity >= 2)"],
    ["products_purchased(tag: 'sale') = false", "products_purchased NOT MATCHES (tag = 'sale')"],
    ["orders_placed(count_at_least: 2, date: -1y) = true", "orders_placed MATCHES (count >= 2, date >= -1y)"],
    ["orders_placed(count_at_least: 1, date: -30d) = true", "orders_placed MATCHES (date >= -30d)"],
    ["orders_placed(count_at_most: 1) = true", "orders_placed MATCHES (count <= 1)"],
  ])("the deprecated %s and Shopify's %s compile to the same SQL (same plans)", (deprecated, matches) => {
    expect(compile(matches)).toEqual(compile(deprecated));
  });

  it("a date-time names one second in the shop's zone", () => {
    const { text, values } = compile("last_order_date > 2026-03-08T02:30:00", { timeZone: "America/New_York" });
    expect(text).toBe("(c.last_order_at IS NOT NULL AND c.last_order_at >= $2::timestamptz)");
    // 02:30 does not exist that night in New York (clocks go from 02:00 to 03:00): moved forward by the gap.
    expect(values).toEqual(["2026-03-08T07:30:01.000Z"]);
    expect(compile("last_order_date = 2026-06-01T12:00:00").values).toEqual(["2026-06-01T12:00:00.000Z", "2026-06-01T12:00:01.000Z"]);
  });

  it("products_purchased correlates on the customer row and takes every filter as a parameter", () => {
    const { text, values } = compile("products_purchased(product_type: 'Shoes', tag: 'Sale', product_id: 42, date: 2026-01-01) = true");
    expect(text).toBe(
      "EXISTS (SELECT 1 FROM orders segment_o JOIN line_items segment_li ON segment_li.shop = segment_o.shop AND segment_li.order_gid = segment_o.gid" +
        " JOIN products segment_p ON segment_p.shop = segment_li.shop AND segment_p.gid = segment_li.product_gid" +
        " WHERE segment_o.shop = c.shop AND segment_o.customer_gid = c.gid AND segment_o.cancelled_at IS NULL AND NOT segment_o.test" +
        " AND segment_o.shopify_created_at >= $2::timestamptz AND segment_li.product_gid = $3::text AND lower(segment_p.product_type) = $4::text" +
        " AND segment_lower_tags(segment_p.tags) @> ARRAY[$5::text] AND segment_li.quantity > 0)",
    );
    expect(values).toEqual(["2026-01-01T00:00:00.000Z", "gid://shopify/Product/42", "shoes", "sale"]);
  });

  it("products_purchased with a quantity sums units", () => {
    const { text, values } = compile("products_purchased(quantity: 2.5) = false");
    expect(text).toMatch(/^\(NOT \(SELECT COALESCE\(SUM\(segment_li\.quantity\), 0\) FROM orders segment_o JOIN line_items segment_li .* >= \$2::bigint\)$/);
    expect(text).not.toContain("segment_p");
    expect(values).toEqual(["3"]);
  });

  it.each([
    ["products_purchased(product_id: 1.5) = true", "FALSE"],
    ["products_purchased(date: -1d, product_type: 'x', product_id: 1.5) = true", "FALSE"],
    ["products_purchased(product_id: -3) = true", "FALSE"],
    ["products_purchased(quantity: 0) = true", "TRUE"],
    ["products_purchased(quantity: 0) != true", "(NOT TRUE)"],
    ["orders_placed() = true", "c.orders_count >= $2::bigint"],
    ["orders_placed(count_at_least: 0) = true", "TRUE"],
    ["orders_placed(count_at_most: 2) = true", "c.orders_count <= $2::bigint"],
    ["orders_placed(count_at_least: 3, count_at_most: 2) = true", "FALSE"],
    ["orders_placed(count_at_most: -1) = true", "FALSE"],
    ["orders_placed(count_at_least: 2, count_at_most: 5) = false", "(NOT (c.orders_count >= $2::bigint AND c.orders_count <= $3::bigint))"],
  ])("%s", (query, sql) => {
    const { text, values } = compile(query);
    expect(text).toBe(sql);
    // No parameter is left unreferenced (PostgreSQL could not type it).
    expect(values).toHaveLength(new Set(placeholders(text)).size);
  });

  it("orders_placed with a date counts the customer's orders since that day", () => {
    expect(compile("orders_placed(date: -1y) = true").text).toBe(
      "EXISTS (SELECT 1 FROM orders segment_o WHERE segment_o.shop = c.shop AND segment_o.customer_gid = c.gid AND segment_o.cancelled_at IS NULL AND NOT segment_o.test AND segment_o.shopify_created_at >= $2::timestamptz)",
    );
    const { text, values } = compile("orders_placed(count_at_least: 3, count_at_most: 4, date: -1y) = true");
    expect(text).toMatch(/^\(SELECT count\(\*\) FROM orders segment_o WHERE .*\) BETWEEN \$3::bigint AND \$4::bigint$/);
    expect(values).toEqual(["2025-11-23T00:00:00.000Z", "3", "4"]);
  });
});

describe("compileSegmentFilter: parameters", () => {
  const everything =
    "(amount_spent > 123456.78 OR number_of_orders >= 314159) AND NOT (customer_tags CONTAINS 'tag-alpha' OR customer_email_domain = 'domain-beta.example')" +
    " AND last_order_date BETWEEN 2021-04-05 AND 2022-06-07 AND products_purchased(product_type: 'type-gamma', tag: 'tag-delta', product_id: 271828, quantity: 9876, date: 2020-02-03) = true" +
    " AND orders_placed(count_at_least: 5551, count_at_most: 6661, date: -77d) != false AND customer_countries NOT CONTAINS 'ZQ'" +
    " AND refund_rate <= 0.8765 AND rfm_group != 'previously_loyal' AND email_subscription_status = 'PENDING' AND average_order_value < 8642.1";

  it("never puts a merchant's value into the SQL text", () => {
    const { text, values } = compile(everything, { firstParamIndex: 7 });
    for (const literal of [
      "123456.78", "12345678", "314159", "tag-alpha", "domain-beta", "2021-04-05", "2022-06-07", "type-gamma", "tag-delta", "271828", "9876",
      "2020-02-03", "5551", "6661", "77", "zq", "ZQ", "8765", "previously_loyal", "pending", "PENDING", "8642", "864210", "2026", "2025",
    ]) {
      expect(text, literal).not.toContain(literal);
    }
    expect(values).toContain("12345678");
    expect(values).toContain("tag-alpha");
    expect(values).toContain("gid://shopify/Product/271828");
  });

  it("numbers placeholders consecutively from firstParamIndex, one per value", () => {
    for (const first of [1, 2, 7, 100]) {
      const { text, values } = compile(everything, { firstParamIndex: first });
      // A value may be used twice (customer_countries looks in two places), never skipped.
      const used = [...new Set(placeholders(text))];
      expect(used).toEqual(values.map((_, i) => first + i));
    }
  });

  it("keeps a string that looks like SQL inert", () => {
    const attack = "x'); DROP TABLE customers; --";
    const { text, values } = compile(`customer_tags CONTAINS 'x''); DROP TABLE customers; --' OR customer_email_domain = 'a'' OR 1=1 --'`);
    expect(text).not.toContain("DROP");
    expect(text).not.toContain("1=1");
    expect(text).not.toContain("'x'");
    expect(values).toEqual([attack.toLowerCase(), "a' or 1=1 --"]);
  });

  it("combines with other compiled segments in one statement", () => {
    const first = compile("amount_spent > 1", { firstParamIndex: 2 });
    const second = compile("customer_tags CONTAINS 'a' AND last_order_date > -1d", { firstParamIndex: 2 + first.values.length });
    expect(placeholders(first.text)).toEqual([2]);
    expect(placeholders(second.text)).toEqual([3, 4]);
  });
});

describe("compileSegmentFilter: the catalogue drives it", () => {
  it("compiles an attribute added as one catalogue entry", () => {
    const fields: SegmentField[] = [
      ...FIELDS,
      {
        name: "accepts_sms",
        type: { kind: "boolean" },
        operators: ["=", "!=", "IS NULL"],
        description: "SMS consent.",
        binding: { kind: "boolean", sql: (a) => `${a}.accepts_sms`, present: (a) => `${a}.accepts_sms IS NOT NULL`, value: () => null },
      },
      {
        name: "loyalty_points",
        type: { kind: "number", min: 0 },
        operators: ["=", "!=", ">", "<", ">=", "<=", "BETWEEN", "IS NULL"],
        description: "Points balance.",
        binding: { kind: "integer", sql: (a) => `${a}.points`, value: () => 0n },
      },
    ];
    expect(compile("accepts_sms = true AND loyalty_points >= 100", { fields })).toEqual({
      text: "((c.accepts_sms IS NOT NULL AND c.accepts_sms = $2::boolean) AND c.points >= $3::bigint)",
      values: ["true", "100"],
    });
  });
});

describe("compileSegmentFilter: bad input", () => {
  const ast = tree("amount_spent > 1");
  it.each([
    [{ customerAlias: "c; DROP TABLE x", firstParamIndex: 1, now: NOW }, /customerAlias/],
    [{ customerAlias: "segment_o", firstParamIndex: 1, now: NOW }, /customerAlias/],
    [{ customerAlias: "c", firstParamIndex: 0, now: NOW }, /firstParamIndex/],
    [{ customerAlias: "c", firstParamIndex: 1.5, now: NOW }, /firstParamIndex/],
    [{ customerAlias: "c", firstParamIndex: 1, now: new Date(Number.NaN) }, /now/],
    [{ customerAlias: "c", firstParamIndex: 1, now: NOW, timeZone: "Mars/Olympus" }, /unknown time zone "Mars\/Olympus"/],
  ])("rejects options %j", (options, message) => {
    expect(() => compileSegmentFilter(ast, options)).toThrow(message);
  });

  it("refuses a tree that was not checked", () => {
    const unchecked = (query: string) => {
      const parsed = parseSegment(query);
      if (!parsed.ok) throw new Error(parsed.error.message);
      return () => compileSegmentFilter(parsed.ast, { customerAlias: "c", firstParamIndex: 1, now: NOW });
    };
    expect(unchecked("amount_spend > 1")).toThrow(SegmentCompileError);
    expect(unchecked("last_order_date > 5")).toThrow(SegmentCompileError);
    expect(unchecked("customer_tags = 'x'")).toThrow(SegmentCompileError);
    expect(unchecked("mystery(a: 1) = true")).toThrow(SegmentCompileError);
  });
});
