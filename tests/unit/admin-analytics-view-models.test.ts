// The Analytics page's pure parts: the range read from the address, the change of a figure,
// the CSV fields.
import { describe, expect, it } from "vitest";
import { csvField, heatShade, parseAnalyticsRange, percentChange, todayIn, toCsv } from "../../app/domain/admin/analytics-view-models";

const parse = (query: string, today = "2026-03-10") => parseAnalyticsRange(new URLSearchParams(query), today);

describe("parseAnalyticsRange", () => {
  it("presets end today; the comparison is the same number of days just before", () => {
    expect(parse("")).toEqual({ range: "30", from: "2026-02-09", to: "2026-03-10", compareFrom: "2026-01-10", compareTo: "2026-02-08", days: 30 });
    expect(parse("range=365")).toMatchObject({ from: "2025-03-11", to: "2026-03-10", compareFrom: "2024-03-11", compareTo: "2025-03-10", days: 365 });
  });
  it("a custom range, reversed days swapped, `to` defaulting to today", () => {
    expect(parse("range=custom&from=2026-02-01&to=2026-02-28")).toEqual({ range: "custom", from: "2026-02-01", to: "2026-02-28", compareFrom: "2026-01-04", compareTo: "2026-01-31", days: 28 });
    expect(parse("range=custom&from=2026-02-28&to=2026-02-01")).toMatchObject({ from: "2026-02-01", to: "2026-02-28" });
    expect(parse("from=2026-03-01")).toMatchObject({ range: "custom", from: "2026-03-01", to: "2026-03-10", days: 10 });
  });
  it("anything unreadable is the last 30 days", () => {
    for (const q of ["range=7", "range=custom&from=2026-02-30", "range=custom", "from=yesterday"]) expect(parse(q)).toMatchObject({ range: "30", from: "2026-02-09" });
  });
  it("a very long custom range is cut to ten years ending at `to`", () => {
    expect(parse("range=custom&from=1900-01-01&to=2026-03-10").days).toBe(3660);
  });
});

describe("todayIn", () => {
  it("is the shop's calendar day, not UTC's", () => {
    expect(todayIn("America/New_York", new Date("2026-03-01T03:00:00Z"))).toBe("2026-02-28");
    expect(todayIn("Asia/Tokyo", new Date("2026-02-28T16:00:00Z"))).toBe("2026-03-01");
  });
});

describe("percentChange", () => {
  it("one decimal; none against zero", () => {
    expect(percentChange(125, 150)).toBe(-16.7);
    expect(percentChange(5, 2)).toBe(150);
    expect(percentChange(3, 0)).toBeNull();
  });
});

describe("CSV", () => {
  it("quotes commas, quotes and line breaks; neutralises formulas but not negative numbers", () => {
    expect(csvField('a,"b"')).toBe('"a,""b"""');
    expect(csvField("line\nbreak")).toBe('"line\nbreak"');
    expect(csvField("=SUM(A1)")).toBe("'=SUM(A1)");
    expect(csvField("-12.50")).toBe("-12.50");
    expect(csvField(null)).toBe("");
    expect(toCsv([["a", 1], ["b", null]])).toBe("a,1\r\nb,\r\n");
  });
});

describe("heatShade", () => {
  it("more opaque for a higher share; white text only on the dark end", () => {
    expect(heatShade(0)).toEqual({ background: "rgba(31, 81, 153, 0.06)", color: "#202223" });
    expect(heatShade(0.5).color).toBe("#202223");
    expect(heatShade(1)).toEqual({ background: "rgba(31, 81, 153, 1.00)", color: "#ffffff" });
  });
});
