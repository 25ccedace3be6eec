// Bounds on dates and offsets, and the size caps (app/domain/segments/limits.ts), as the
// checker reports them; and that every query inside the bounds compiles, today and for
// centuries to come (the reason for fixed offset bounds rather than bounds against today).
import { describe, expect, it } from "vitest";
import { checkSegment } from "../../app/domain/segments/check";
import { MAX_CONDITIONS, MAX_DATE, MAX_FUNCTION_CALLS, MAX_OFFSET, MIN_DATE } from "../../app/domain/segments/limits";
import { parseSegment } from "../../app/domain/segments/parser";
import { compileSegmentFilter } from "../../app/domain/segments/sql";
import { createSegmentEvaluator, type SegmentCustomer } from "../../app/domain/segments/evaluate";

function parse(query: string) {
  const result = parseSegment(query);
  if (!result.ok) throw new Error(`does not parse: ${result.error.message}`);
  return result.ast;
}
const CUSTOMER: SegmentCustomer = {
  gid: "gid://shopify/Customer/1",
  email: null,
  tags: [],
  countryCodes: [],
  emailMarketingState: null,
  rfmGroup: null,
  createdAt: new Date("2024-01-01T00:00:00Z"),
  ordersCount: 1,
  totalSpentMinor: 100n,
  refundedMinor: 0n,
  aovMinor: 100n,
  firstOrderAt: new Date("2024-01-01T00:00:00Z"),
  lastOrderAt: new Date("2024-01-01T00:00:00Z"),
  orders: [],
};
const check = (query: string) => checkSegment({ ast: parse(query) });
const compile = (query: string, now: Date, timeZone = "UTC") => compileSegmentFilter(parse(query), { customerAlias: "c", firstParamIndex: 2, now, timeZone });

describe("dates beyond what the compiler represents", () => {
  // The three cases of the hardening issue: each passed the checker and threw in the compiler.
  it.each([
    ["last_order_date < 9999-12-31", 1, 19, "date `9999-12-31` is out of range at 1:19: dates must be between 1900-01-01 and 2999-12-31"],
    ["number_of_orders > 1 AND\n  first_order_date > -300000y", 2, 22, "date offset `-300000y` is out of range at 2:22: at most 100 years either way"],
    ["products_purchased(date: +2912101d) = true", 1, 26, "date offset `+2912101d` is out of range at 1:26: at most 36,500 days either way"],
    ["last_order_date BETWEEN 1899-12-31 AND 2024-01-01", 1, 25, "date `1899-12-31` is out of range at 1:25: dates must be between 1900-01-01 and 2999-12-31"],
    ["customer_added_date > -5201w", 1, 23, "date offset `-5201w` is out of range at 1:23: at most 5,200 weeks either way"],
    ["customer_added_date > +1201m", 1, 23, "date offset `+1201m` is out of range at 1:23: at most 1,200 months either way"],
    ["customer_added_date > 99999999999999999999999_days_ago", 1, 23, "date offset `99999999999999999999999_days_ago` is out of range at 1:23: at most 36,500 days either way"],
  ])("rejects %j with its position", (query, line, column, message) => {
    const errors = check(query);
    expect(errors).toEqual([expect.objectContaining({ line, column, message })]);
  });

  it("reported the failure only in the compiler before: +2912101d compiles in 2026 and throws a few years later", () => {
    // Why offsets are bounded by a fixed maximum, never against today.
    expect(() => compile("last_order_date < +2912101d", new Date("2026-12-07T00:00:00Z"))).not.toThrow();
    expect(() => compile("last_order_date < +2912101d", new Date("2035-01-01T00:00:00Z"))).toThrow();
    expect(() => compile("last_order_date < 9999-12-31", new Date("2026-12-07T00:00:00Z"))).toThrow();
  });

  it("accepts the bounds themselves", () => {
    expect(check(`last_order_date BETWEEN ${MIN_DATE} AND ${MAX_DATE}`)).toEqual([]);
    for (const [unit, max] of Object.entries(MAX_OFFSET)) {
      expect(check(`last_order_date > -${max}${unit} AND first_order_date < +${max}${unit}`)).toEqual([]);
    }
  });

  it("compiles and evaluates every query at the bounds, with any operator and time zone, for centuries", () => {
    const queries = [
      ...["<", "<=", "=", "!=", ">", ">="].flatMap((op) => [`last_order_date ${op} ${MIN_DATE}`, `last_order_date ${op} ${MAX_DATE}`]),
      `last_order_date BETWEEN ${MIN_DATE} AND ${MAX_DATE}`,
      ...Object.entries(MAX_OFFSET).flatMap(([unit, max]) =>
        ["<", "<=", "=", ">"].flatMap((op) => [`last_order_date ${op} -${max}${unit}`, `last_order_date ${op} +${max}${unit}`]),
      ),
      `products_purchased(date: +${MAX_OFFSET.d}d) = true AND orders_placed(count_at_least: 1, date: ${MAX_DATE}) = false`,
    ];
    const instants = ["1970-01-01T00:00:00Z", "2026-12-07T12:00:00Z", "2999-12-31T23:59:59Z", "5000-06-01T00:00:00Z", "9800-12-31T23:59:59Z"].map((s) => new Date(s));
    for (const query of queries) {
      expect(check(query), query).toEqual([]);
      for (const now of instants) {
        for (const timeZone of ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"]) {
          expect(() => compile(query, now, timeZone), `${query} at ${now.toISOString()} in ${timeZone}`).not.toThrow();
          const evaluate = createSegmentEvaluator(parse(query), { now, timeZone });
          expect(() => evaluate(CUSTOMER), query).not.toThrow();
        }
      }
    }
  });
});

describe("size caps", () => {
  const predicate = (i: number) => `number_of_orders > ${i}`;
  it(`accepts ${MAX_CONDITIONS} conditions and rejects the next one at its position`, () => {
    const fifty = Array.from({ length: MAX_CONDITIONS }, (_, i) => predicate(i)).join(" OR ");
    expect(check(fifty)).toEqual([]);
    const query = `${fifty} OR\nNOT customer_tags CONTAINS 'x'`;
    expect(check(query)).toEqual([
      expect.objectContaining({
        line: 2,
        column: 5,
        message: "too many conditions: more than 50 in one segment at 2:5; simplify the query or split it into segments",
      }),
    ]);
  });

  it(`accepts ${MAX_FUNCTION_CALLS} function calls and rejects the next one at its position`, () => {
    const call = "products_purchased(product_type: 'Shoes', date: -90d) = true";
    const ten = Array.from({ length: MAX_FUNCTION_CALLS }, () => call).join(" OR\n");
    expect(check(ten)).toEqual([]);
    expect(check(`${ten} OR\n${call}`)).toEqual([
      expect.objectContaining({
        line: 11,
        column: 1,
        message: "too many function calls: more than 10 in one segment at 11:1; simplify the query or split it into segments",
      }),
    ]);
  });

  it("rejects the issue's 2,500-character query of repeated products_purchased(...)", () => {
    const query = Array.from({ length: 40 }, (_, i) => `products_purchased(tag: 'tag-${i}', date: -${i + 1}d) = true`).join(" OR ");
    expect(query.length).toBeGreaterThan(2_000);
    const errors = check(query);
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/^too many function calls: more than 10 in one segment at 1:\d+/)]);
  });

  it("reports the cap once for a flat OR of hundreds of conditions (as many as the length limit allows)", () => {
    const query = Array.from({ length: 400 }, (_, i) => predicate(i)).join(" OR ");
    const errors = check(query);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/^too many conditions/);
  });
});

describe("limits on Shopify's MATCHES syntax and date-times", () => {
  const messages = (query: string) => check(query).map((e) => e.message);
  it("bounds dates inside MATCHES parameters and date-time values", () => {
    expect(messages("products_purchased MATCHES (date > 9999-12-31)")).toContainEqual(expect.stringMatching(/date `9999-12-31` is out of range/));
    expect(messages("orders_placed MATCHES (date BETWEEN -300000y AND today)")).toContainEqual(expect.stringMatching(/date offset `-300000y` is out of range/));
    expect(messages("last_order_date < 9999-12-31T23:00:00")).toContainEqual(expect.stringMatching(/is out of range/));
    expect(check("last_order_date < 2999-12-31T23:00:00")).toEqual([]);
  });

  it("counts MATCHES calls against the function-call cap", () => {
    const calls = Array.from({ length: MAX_FUNCTION_CALLS + 1 }, (_, i) => `products_purchased MATCHES (id = ${i + 1})`);
    expect(messages(calls.join(" OR "))).toContainEqual(expect.stringMatching(/too many function calls/));
    expect(check(calls.slice(0, MAX_FUNCTION_CALLS).join(" OR "))).toEqual([]);
  });
});
