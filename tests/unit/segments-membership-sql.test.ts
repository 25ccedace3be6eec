// The pure parts of stored membership: what a query depends on (which segments the refresh
// re-evaluates), operator error formatting, and the membership statement's parameters.
import { describe, expect, it } from "vitest";
import { analyzeSegmentQuery, formatSegmentErrors, needsScheduledRefresh, MAX_QUERY_LENGTH } from "../../app/services/segments/definition";
import { buildMembershipStatement, statementName } from "../../app/services/segments/membership.server";

const NOW = new Date("2026-11-20T12:00:00Z");

function ast(text: string) {
  const result = analyzeSegmentQuery(text);
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join("; "));
  return result.ast;
}

describe("analyzeSegmentQuery", () => {
  it.each([
    ["amount_spent > 100", { relativeTime: false, usesRfm: false, usesProducts: false }],
    ["last_order_date > -90d", { relativeTime: true, usesRfm: false, usesProducts: false }],
    ["last_order_date BETWEEN 2024-01-01 AND today", { relativeTime: true, usesRfm: false, usesProducts: false }],
    ["last_order_date BETWEEN 2024-01-01 AND 2024-02-01", { relativeTime: false, usesRfm: false, usesProducts: false }],
    ["orders_placed(count_at_least: 2, date: 30_days_ago) = true", { relativeTime: true, usesRfm: false, usesProducts: false }],
    ["NOT (rfm_group = 'champions' OR amount_spent < 5)", { relativeTime: false, usesRfm: true, usesProducts: false }],
    ["products_purchased(product_type: 'Shoes') = false", { relativeTime: false, usesRfm: false, usesProducts: true }],
    ["products_purchased NOT MATCHES (tag = 'Shoes')", { relativeTime: false, usesRfm: false, usesProducts: true }],
    ["orders_placed MATCHES (date >= 12_months_ago)", { relativeTime: true, usesRfm: false, usesProducts: false }],
    ["orders_placed MATCHES (date BETWEEN 2024-01-01 AND -1d)", { relativeTime: true, usesRfm: false, usesProducts: false }],
    ["last_order_date > 2020-05-30T16:00:00", { relativeTime: false, usesRfm: false, usesProducts: false }],
  ])("%s", (text, flags) => {
    const result = analyzeSegmentQuery(text);
    expect(result).toMatchObject({ ok: true, ...flags });
    if (result.ok) expect(needsScheduledRefresh(result)).toBe(flags.relativeTime || flags.usesRfm || flags.usesProducts);
  });

  it("returns every checker error with its position, and refuses very long text", () => {
    const result = analyzeSegmentQuery("amount_spend > 1 AND last_order_date = 3");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => [e.line, e.column])).toEqual([
      [1, 1],
      [1, 40],
    ]);
    expect(analyzeSegmentQuery(`amount_spent > ${"1".repeat(MAX_QUERY_LENGTH)}`)).toMatchObject({ ok: false, errors: [{ line: 1, column: 1 }] });
  });

  it("formats errors with the offending line and a caret", () => {
    const text = "amount_spent > 1 AND\n  last_order_date = 3";
    const result = analyzeSegmentQuery(text);
    if (result.ok) throw new Error("expected errors");
    expect(formatSegmentErrors(text, result.errors)).toBe(
      "`last_order_date` compares with a date, got a number at 2:21\n    last_order_date = 3\n                      ^",
    );
  });
});

describe("buildMembershipStatement", () => {
  const targets = [
    { id: "11", ast: ast("customer_tags CONTAINS 'vip'' OR 1=1 --' AND amount_spent > 123.45") },
    { id: "12", ast: ast("last_order_date > -30d") },
  ];

  it("keeps merchant values out of the text and numbers every segment's parameters after the fixed ones", () => {
    const statement = buildMembershipStatement({
      shop: "a.myshopify.com",
      targets,
      scope: { kind: "customers", gids: ["gid://shopify/Customer/1", "gid://shopify/Customer/1"] },
      cause: "event",
      inboxId: "9",
      changedAt: NOW,
      context: { now: NOW },
    });
    expect(statement.text).not.toContain("vip");
    expect(statement.text).not.toContain("12345");
    expect(statement.text).not.toContain("a.myshopify.com");
    expect(statement.values.slice(0, 6)).toEqual(["a.myshopify.com", ["11", "12"], "event", "9", NOW, ["gid://shopify/Customer/1"]]);
    expect(statement.values).toContain("vip' or 1=1 --");
    const placeholders = [...statement.text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
    expect(Math.max(...placeholders)).toBe(statement.values.length);
    expect(new Set(placeholders).size).toBe(statement.values.length);
  });

  it("has the same text at another time (one prepared statement per definition set), different values", () => {
    const at = (now: Date) =>
      buildMembershipStatement({ shop: "a.myshopify.com", targets, scope: { kind: "customers", gids: ["x"] }, cause: "event", changedAt: now, context: { now } });
    const later = new Date(NOW.getTime() + 86_400_000);
    expect(at(NOW).text).toBe(at(later).text);
    expect(at(NOW).values).not.toEqual(at(later).values);
    expect(statementName(at(NOW).text)).toMatch(/^crm-seg-[0-9a-f]{20}$/);
  });

  it("a full recompute scans the shop's live customers, a scoped one only the candidates", () => {
    const full = buildMembershipStatement({ shop: "s", targets, scope: { kind: "all" }, cause: "created", changedAt: NOW, context: { now: NOW } });
    expect(full.text).toContain("FROM customers c WHERE c.shop = $1 AND c.deleted_at IS NULL AND c.redacted_at IS NULL");
    expect(full.text).not.toContain("$6::text[]");
    expect(() => buildMembershipStatement({ shop: "s", targets: [], scope: { kind: "all" }, cause: "created", changedAt: NOW, context: { now: NOW } })).toThrow(RangeError);
  });
});
