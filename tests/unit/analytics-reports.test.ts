// The reports' pure shaping: dates, shares, AOV rounding and the cohort grid's gaps.
import { describe, expect, it } from "vitest";
import { buildCohortRows, buildOverviewFigures, isReportDate, share } from "../../app/domain/analytics/reports";

describe("isReportDate", () => {
  it.each([
    ["2026-01-31", true],
    ["2024-02-29", true],
    ["2026-02-29", false],
    ["2026-13-01", false],
    ["2026-1-01", false],
    ["2026-01-01T00:00", false],
  ])("%s -> %s", (value, expected) => expect(isReportDate(value)).toBe(expected));
});

describe("share", () => {
  it.each([
    [1, 3, 0.3333],
    [2, 3, 0.6667],
    [0, 0, 0],
    [5, 5, 1],
  ])("%d / %d = %d", (part, whole, expected) => expect(share(part, whole)).toBe(expected));
});

describe("buildOverviewFigures", () => {
  it("rounds the AOV half up and formats in the currency's minor unit", () => {
    const figures = buildOverviewFigures({
      from: "2026-01-01", to: "2026-01-31", currency: "JPY",
      aggregates: { ordersCount: 2, revenueMinor: 1001n, customers: 4, newCustomers: 1, returningCustomers: 3, repeatCustomers: 1, medianDaysToSecondOrder: 7.5 },
    });
    expect(figures).toMatchObject({ revenue: "1001", aov: "501", aovMinor: "501", repeatPurchaseRate: 0.25, medianDaysToSecondOrder: 7.5 });
  });

  it("no orders: AOV 0, rate 0", () => {
    const figures = buildOverviewFigures({
      from: "2026-01-01", to: "2026-01-01", currency: "EUR",
      aggregates: { ordersCount: 0, revenueMinor: 0n, customers: 0, newCustomers: 0, returningCustomers: 0, repeatCustomers: 0, medianDaysToSecondOrder: null },
    });
    expect(figures).toMatchObject({ revenue: "0.00", aov: "0.00", repeatPurchaseRate: 0 });
  });
});

describe("buildCohortRows", () => {
  it("fills months nobody ordered in with 0 and runs to the current month, across a year end", () => {
    const rows = buildCohortRows({
      currentMonth: "2026-02",
      currency: "USD",
      cells: [
        { cohort: "2025-11", monthOffset: 0, customers: 4, revenueMinor: 400_00n },
        { cohort: "2025-11", monthOffset: 2, customers: 1, revenueMinor: 10_01n },
        { cohort: "2026-02", monthOffset: 0, customers: 1, revenueMinor: 5_00n },
      ],
    });
    expect(rows).toEqual([
      {
        cohort: "2025-11", size: 4, currency: "USD", customers: [4, 0, 1, 0], retention: [1, 0, 0.25, 0],
        cumulativeRevenueMinor: ["40000", "40000", "41001", "41001"], revenuePerCustomer: ["100.00", "100.00", "102.50", "102.50"],
      },
      { cohort: "2026-02", size: 1, currency: "USD", customers: [1], retention: [1], cumulativeRevenueMinor: ["500"], revenuePerCustomer: ["5.00"] },
    ]);
  });
});
