// The feedback and loyalty segment attributes (app extensions, docs/segments.md): what the
// checker accepts, what the reference evaluator decides, the SQL they compile to (indexed
// lookups on the customer row, values as parameters), and the refresh flag.
import { describe, expect, it } from "vitest";
import { checkSegment } from "../../app/domain/segments/check";
import { evaluateSegment, type SegmentCustomer } from "../../app/domain/segments/evaluate";
import { npsGroupOf } from "../../app/domain/segments/fields";
import { parseSegment } from "../../app/domain/segments/parser";
import { compileSegmentFilter } from "../../app/domain/segments/sql";
import { analyzeSegmentQuery, needsScheduledRefresh } from "../../app/services/segments/definition";

const NOW = new Date("2026-11-23T15:30:00Z");
const base: SegmentCustomer = {
  gid: "gid://shopify/Customer/1",
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
const promoter: SegmentCustomer = {
  ...base,
  feedback: { lastNps: 9, count: 2, lastAt: new Date("2026-11-20T10:00:00Z"), openCase: false },
  loyalty: { points: 1200n, tier: "Gold" },
};
const detractor: SegmentCustomer = { ...base, feedback: { lastNps: 3, count: 1, lastAt: new Date("2026-10-01T10:00:00Z"), openCase: true } };

function matches(query: string, customer: SegmentCustomer): boolean {
  const parsed = parseSegment(query);
  if (!parsed.ok) throw new Error(parsed.error.message);
  expect(checkSegment({ ast: parsed.ast })).toEqual([]);
  return evaluateSegment(parsed.ast, customer, { now: NOW });
}

describe("feedback and loyalty segment attributes", () => {
  it.each([
    ["nps_score >= 9", [true, false, false]],
    ["nps_score IS NULL", [false, false, true]],
    ["nps_score != 3", [true, false, false]],
    ["nps_group = 'PROMOTER'", [true, false, false]],
    ["nps_group = 'detractor'", [false, true, false]],
    ["nps_group IS NOT NULL", [true, true, false]],
    ["feedback_count = 0", [false, false, true]],
    ["feedback_count >= 1", [true, true, false]],
    ["last_feedback_date > 2026-11-01", [true, false, false]],
    ["has_open_case = true", [false, true, false]],
    ["has_open_case != true", [true, false, true]],
    ["loyalty_points >= 1000", [true, false, false]],
    ["loyalty_points = 0", [false, true, true]],
    ["loyalty_tier = 'gold'", [true, false, false]],
    ["loyalty_tier IS NULL", [false, true, true]],
    ["NOT loyalty_tier = 'gold'", [false, true, true]],
  ])("%s", (query, expected) => {
    expect([promoter, detractor, base].map((c) => matches(query, c))).toEqual(expected);
  });

  it("refuses values outside their type", () => {
    for (const query of ["nps_score > 11", "nps_group = 'FAN'", "has_open_case = 'yes'", "feedback_count < -1"]) {
      const parsed = parseSegment(query);
      expect(parsed.ok && checkSegment({ ast: parsed.ast }).length > 0, query).toBe(true);
    }
  });

  it("NPS groups: 9-10 promoter, 7-8 passive, 0-6 detractor", () => {
    expect([0, 6, 7, 8, 9, 10].map(npsGroupOf)).toEqual(["detractor", "detractor", "passive", "passive", "promoter", "promoter"]);
  });

  it("compiles to lookups on the customer row with every value a parameter", () => {
    const parsed = parseSegment("nps_group = 'Promoter' AND loyalty_points > 100 AND loyalty_tier = 'Gold' AND has_open_case = false");
    if (!parsed.ok) throw new Error("parse");
    const { text, values } = compileSegmentFilter(parsed.ast, { customerAlias: "c", firstParamIndex: 2, now: NOW });
    expect(values).toEqual(["promoter", "100", "gold", "false"]);
    expect(text).toContain("FROM feedback_responses segment_fr WHERE segment_fr.shop = c.shop AND segment_fr.customer_gid = c.gid ORDER BY segment_fr.submitted_at DESC, segment_fr.id DESC LIMIT 1");
    expect(text).toContain("segment_ll.available_at <= now() + interval '1 minute'");
    expect(text).toContain("segment_fk.status = 'open'");
    expect(text).not.toMatch(/Promoter|Gold|'100'/);
  });

  it("a segment on them is refreshed by the scheduled refresh; others are not flagged", () => {
    const app = analyzeSegmentQuery("loyalty_points > 10");
    const plain = analyzeSegmentQuery("number_of_orders > 1");
    expect(app.ok && app.usesAppData && needsScheduledRefresh(app)).toBe(true);
    expect(plain.ok && (plain.usesAppData || needsScheduledRefresh(plain))).toBe(false);
  });
});
