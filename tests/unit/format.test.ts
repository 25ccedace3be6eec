// The one display formatter (app/domain/format.ts): counts, money, points and dates in the
// shop's locale and time zone.
import { describe, expect, it } from "vitest";
import { createFormatter, isTimeZone, safeLocale, timeZoneNames } from "../../app/domain/format";
import { staffLabel } from "../../app/domain/staff";

// Intl separates some parts with narrow/no-break spaces; compare with plain spaces.
const plain = (s: string | null) => (s === null ? null : s.replace(/[\u00a0\u202f]/g, " "));

describe("counts", () => {
  it.each([
    ["en", 2002, "2,002"],
    ["en", 46611, "46,611"],
    ["en", 0, "0"],
    ["en", 1_234_567, "1,234,567"],
    ["de", 46611, "46.611"],
    ["fr", 46611, "46 611"],
    ["pt-BR", 2002, "2.002"],
  ])("%s %d -> %s", (locale, n, expected) => {
    expect(plain(createFormatter({ locale }).count(n))).toBe(expected);
  });

  it("says the noun in the singular for one and groups the number", () => {
    const f = createFormatter({ locale: "en" });
    expect(f.countOf(2002, "customer")).toBe("2,002 customers");
    expect(f.countOf(1, "customer")).toBe("1 customer");
    expect(f.countOf(0, "entry", "entries")).toBe("0 entries");
  });

  it("shortens chart axis values", () => {
    expect(createFormatter({ locale: "en" }).compact(8000)).toBe("8K");
    expect(createFormatter({ locale: "en" }).compact(1_500_000)).toBe("1.5M");
  });
});

describe("money from minor units", () => {
  it.each([
    ["en", 12448n, "USD", "$124.48"],
    ["en", 4661100n, "USD", "$46,611.00"],
    ["en", -3000n, "USD", "-$30.00"],
    ["en", 500n, "JPY", "¥500"], // exponent 0: 500 minor units are 500 yen
    ["en", 1234567n, "JPY", "¥1,234,567"],
    ["en", 1234n, "KWD", "KWD 1.234"], // exponent 3
    ["en", 999n, "EUR", "€9.99"],
    ["de", 4661100n, "EUR", "46.611,00 €"],
    ["fr", 12448n, "EUR", "124,48 €"],
    ["ja", 500n, "JPY", "￥500"],
  ])("%s %s %s -> %s", (locale, minor, currency, expected) => {
    expect(plain(createFormatter({ locale }).money(minor, currency))).toBe(expected);
  });

  it("uses the shop's currency when the amount names none, and stays exact beyond float precision", () => {
    const f = createFormatter({ locale: "en", currency: "CAD" });
    expect(f.money(199n)).toBe("CA$1.99");
    expect(f.money("900719925474099312", "USD")).toBe("$9,007,199,254,740,993.12");
    expect(f.moneyDecimal("124.48", "USD")).toBe("$124.48");
  });

  it("shows an unknown currency code next to the plain amount instead of throwing", () => {
    expect(createFormatter({ locale: "en" }).money(12448n, "XX1")).toBe("124.48 XX1");
  });
});

describe("points", () => {
  it.each([
    [1, "1 point"],
    [0, "0 points"],
    [1204, "1,204 points"],
    [-5, "−5 points"],
    [-1, "−1 point"],
  ])("%d -> %s", (n, expected) => {
    expect(createFormatter({ locale: "en" }).points(n)).toBe(expected);
  });
});

describe("dates in the shop's time zone", () => {
  const ny = createFormatter({ locale: "en", timeZone: "America/New_York" });
  it.each([
    // 2026-03-08 is the US spring-forward day: 02:00 EST becomes 03:00 EDT.
    ["2026-03-08T06:59:00Z", "Mar 8, 2026, 1:59 AM EST"],
    ["2026-03-08T07:00:00Z", "Mar 8, 2026, 3:00 AM EDT"],
    // 2026-11-01 falls back: 02:00 EDT becomes 01:00 EST, so 01:30 happens twice.
    ["2026-11-01T05:30:00Z", "Nov 1, 2026, 1:30 AM EDT"],
    ["2026-11-01T06:30:00Z", "Nov 1, 2026, 1:30 AM EST"],
  ])("%s -> %s", (iso, expected) => {
    expect(plain(ny.dateTime(iso))).toBe(expected);
  });

  it("puts a late-evening order on the shop's calendar day, not UTC's", () => {
    // 03:30 UTC on Jan 15 is still Jan 14 in New York, and already Jan 15 in Tokyo.
    expect(ny.date("2026-01-15T03:30:00Z")).toBe("Jan 14, 2026");
    expect(createFormatter({ locale: "en", timeZone: "Asia/Tokyo" }).date("2026-01-15T03:30:00Z")).toBe("Jan 15, 2026");
    expect(createFormatter({ locale: "en" }).date(new Date("2026-01-15T03:30:00Z"))).toBe("Jan 15, 2026");
  });

  it("formats in the shop's locale", () => {
    expect(plain(createFormatter({ locale: "fr", timeZone: "Europe/Paris" }).dateTime("2026-07-14T10:00:00Z"))).toBe("14 juil. 2026, 12:00 UTC+2");
    expect(createFormatter({ locale: "de", timeZone: "Europe/Berlin" }).date("2026-07-14T10:00:00Z")).toBe("14.07.2026");
  });

  it("keeps a calendar day as it is whatever the zone", () => {
    expect(ny.calendarDate("2026-03-01")).toBe("Mar 1, 2026");
    expect(createFormatter({ locale: "en", timeZone: "Pacific/Kiritimati" }).calendarDate("2026-03-01")).toBe("Mar 1, 2026");
  });

  it("returns null for no value", () => {
    expect(ny.date(null)).toBeNull();
    expect(ny.dateTime(undefined)).toBeNull();
    expect(ny.calendarDate(null)).toBeNull();
  });
});

describe("settings that cannot be used fall back", () => {
  it("to en and UTC", () => {
    const f = createFormatter({ locale: "not a locale!!", timeZone: "Mars/Olympus" });
    expect(f.locale).toBe("en");
    expect(f.timeZone).toBe("UTC");
    expect(plain(f.dateTime("2026-01-15T03:30:00Z"))).toBe("Jan 15, 2026, 3:30 AM UTC");
  });

  it("accepts Shopify's underscore locales and knows real zones", () => {
    expect(safeLocale("pt_BR")).toBe("pt-BR");
    expect(isTimeZone("America/New_York")).toBe(true);
    expect(isTimeZone("UTC")).toBe(true);
    expect(isTimeZone("Mars/Olympus")).toBe(false);
    expect(timeZoneNames()[0]).toBe("UTC");
    expect(timeZoneNames()).toContain("Asia/Tokyo");
  });
});

describe("staff in the merchant's words", () => {
  it.each([
    ["shopify-user:1", new Map<string, string>(), "Staff member #1"],
    ["shopify-user:42", new Map([["42", "Ana Silva"]]), "Ana Silva (staff member #42)"],
    ["shopify-user:42", new Map([["7", "Someone Else"]]), "Staff member #42"],
    ["merchant", new Map<string, string>(), "Store staff"],
    ["cli", new Map<string, string>(), "cli"],
  ])("%s -> %s", (actor, names, expected) => {
    expect(staffLabel(actor, names)).toBe(expected);
  });
});

describe("chart day labels", () => {
  it("name the calendar day in the locale, whatever the zone", () => {
    expect(createFormatter({ locale: "en", timeZone: "Pacific/Honolulu" }).calendarDayMonth("2026-03-01")).toBe("Mar 1");
    expect(createFormatter({ locale: "fr" }).calendarDayMonth("2026-03-01")).toBe("1 mars");
  });
});
