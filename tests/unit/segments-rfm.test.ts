import { describe, expect, it } from "vitest";
import { RFM_GROUPS } from "../../app/domain/segments/fields";
import { RFM_GRID, RFM_GRID_CELLS, computeRfm, frequencyMonetaryScore, quintileScore, rfmGroupOf, type RfmInput } from "../../app/domain/segments/rfm";
import { RECOMPUTE_RFM_SQL } from "../../app/services/segments/rfm.server";

describe("RFM grid", () => {
  it("holds every group but prospects, and nothing else", () => {
    expect(RFM_GRID).toHaveLength(5);
    expect(RFM_GRID_CELLS).toHaveLength(25);
    expect(new Set(RFM_GRID_CELLS)).toEqual(new Set(RFM_GROUPS.filter((g) => g !== "prospects")));
  });

  it("follows Shopify's descriptions: recent buyers above, lapsed buyers below; spend to the right", () => {
    const rowsOf = (group: string) => RFM_GRID.flatMap((row, r) => (row.includes(group as never) ? [r + 1] : []));
    const columnsOf = (group: string) => [...new Set(RFM_GRID.flatMap((row) => row.flatMap((g, c) => (g === group ? [c + 1] : []))))];
    // "very recent purchases"
    expect(rowsOf("champions")).toEqual([5]);
    expect(rowsOf("new")).toEqual([5]);
    // "without recent purchases"
    for (const group of ["at_risk", "previously_loyal", "almost_lost", "dormant"]) expect(Math.max(...rowsOf(group)), group).toBeLessThanOrEqual(2);
    // "the most spend" / "very strong history" / "strong history" / "low spend"
    expect(columnsOf("champions")).toEqual([4, 5]);
    expect(columnsOf("previously_loyal")).toEqual([5]);
    expect(columnsOf("at_risk")).toEqual([4]);
    expect(columnsOf("dormant")).toEqual([1, 2]);
    expect(Math.max(...columnsOf("new"), ...columnsOf("promising"))).toBeLessThanOrEqual(2);
  });

  it.each([
    [{ recency: 5, frequency: 5, monetary: 5 }, "champions"],
    [{ recency: 5, frequency: 4, monetary: 3 }, "champions"], // FM = ceil(3.5) = 4
    [{ recency: 5, frequency: 3, monetary: 2 }, "active"], // FM = ceil(2.5) = 3
    [{ recency: 5, frequency: 1, monetary: 2 }, "new"],
    [{ recency: 4, frequency: 1, monetary: 1 }, "promising"],
    [{ recency: 4, frequency: 5, monetary: 3 }, "loyal"],
    [{ recency: 3, frequency: 2, monetary: 3 }, "needs_attention"],
    [{ recency: 2, frequency: 1, monetary: 1 }, "almost_lost"],
    [{ recency: 2, frequency: 4, monetary: 3 }, "at_risk"],
    [{ recency: 1, frequency: 5, monetary: 5 }, "previously_loyal"],
    [{ recency: 1, frequency: 1, monetary: 2 }, "dormant"],
    [{ recency: 1, frequency: 3, monetary: 2 }, "almost_lost"],
  ])("%j is %s", (scores, group) => {
    expect(rfmGroupOf(scores)).toBe(group);
  });

  it("FM is the average of F and M rounded up", () => {
    expect([frequencyMonetaryScore(1, 1), frequencyMonetaryScore(1, 2), frequencyMonetaryScore(2, 3), frequencyMonetaryScore(5, 4), frequencyMonetaryScore(5, 5)]).toEqual([1, 2, 3, 5, 5]);
  });

  it("rejects scores outside 1..5", () => {
    expect(() => rfmGroupOf({ recency: 0, frequency: 1, monetary: 1 })).toThrow(/1\.\.5/);
    expect(() => rfmGroupOf({ recency: 1, frequency: 6, monetary: 1 })).toThrow(/1\.\.5/);
    expect(() => rfmGroupOf({ recency: 1, frequency: 1, monetary: 2.5 })).toThrow(/1\.\.5/);
  });
});

describe("quintile scores", () => {
  it.each([
    [0, 10, 1],
    [1, 10, 1],
    [2, 10, 2],
    [7, 10, 4],
    [8, 10, 5],
    [9, 10, 5],
    [0, 1, 1],
    [2, 3, 4],
  ])("%i of %i below scores %i", (below, population, score) => {
    expect(quintileScore(below, population)).toBe(score);
  });

  it("rejects impossible counts", () => {
    expect(() => quintileScore(3, 3)).toThrow(RangeError);
    expect(() => quintileScore(-1, 3)).toThrow(RangeError);
  });
});

describe("computeRfm", () => {
  const at = (day: number) => new Date(Date.UTC(2026, 0, day));
  const customer = (gid: string, ordersCount: number, spent: number, lastDay: number | null): RfmInput => ({
    gid,
    ordersCount,
    totalSpentMinor: BigInt(spent),
    lastOrderAt: lastDay === null ? null : at(lastDay),
  });

  it("scores by the share of customers with a strictly lower value; ties score alike", () => {
    const customers = [
      customer("a", 1, 100, 1),
      customer("b", 1, 200, 2),
      customer("c", 1, 300, 3),
      customer("d", 2, 400, 4),
      customer("e", 9, 5000, 5),
      customer("none", 0, 0, null),
    ];
    const result = computeRfm(customers);
    expect(result.get("none")).toEqual({ scores: null, group: "prospects" });
    // Frequency: a, b, c tie at 1 order (0 below: 1); d has 3 below (1 + floor(15/5) = 4); e has 4 below (5).
    expect([..."abcde"].map((g) => result.get(g)?.scores?.frequency)).toEqual([1, 1, 1, 4, 5]);
    expect([..."abcde"].map((g) => result.get(g)?.scores?.recency)).toEqual([1, 2, 3, 4, 5]);
    expect([..."abcde"].map((g) => result.get(g)?.scores?.monetary)).toEqual([1, 2, 3, 4, 5]);
    expect([..."abcde"].map((g) => result.get(g)?.group)).toEqual(["dormant", "almost_lost", "needs_attention", "loyal", "champions"]);
  });

  it("does not depend on the order of its input", () => {
    const customers = Array.from({ length: 40 }, (_, i) => customer(`c${i}`, (i * 7) % 5, ((i * 13) % 11) * 100, ((i * 3) % 17) + 1));
    const forward = computeRfm(customers);
    const backward = computeRfm([...customers].reverse());
    expect([...backward.entries()].sort()).toEqual([...forward.entries()].sort());
  });

  it("refuses a customer with orders but no last order date", () => {
    expect(() => computeRfm([customer("x", 2, 100, null)])).toThrow(/no last order date/);
  });

  it("the SQL recompute is generated from the same rules", () => {
    // The grid travels as a parameter; the statement indexes it as (R - 1) * 5 + FM.
    expect(RECOMPUTE_RFM_SQL).toContain("($2::text[])[(r - 1) * 5 + (f + m + 1) / 2]");
    expect(RECOMPUTE_RFM_SQL.match(/1 \+ \(5 \* \(rank\(\) OVER \(ORDER BY \w+\) - 1\)\) \/ count\(\*\) OVER \(\)/g)).toHaveLength(3);
  });
});
