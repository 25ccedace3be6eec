import { describe, expect, it } from "vitest";
import { currencyExponent, formatMinorUnits, toMinorUnits } from "../../app/domain/money";

describe("currencyExponent", () => {
  it.each([
    ["USD", 2],
    ["usd", 2],
    ["EUR", 2],
    ["JPY", 0],
    ["CLP", 0],
    ["KWD", 3],
    ["BHD", 3],
    ["not-a-code", 2],
  ])("%s has %i decimals", (currency, exponent) => {
    expect(currencyExponent(currency)).toBe(exponent);
  });
});

describe("toMinorUnits", () => {
  it.each<[string | number, string, bigint]>([
    // USD: 2 decimals
    ["124.48", "USD", 12448n],
    ["0.00", "USD", 0n],
    ["0", "USD", 0n],
    ["1", "USD", 100n],
    ["1.5", "USD", 150n],
    ["  12.30 ", "USD", 1230n],
    ["+5.01", "USD", 501n],
    ["0.05", "USD", 5n],
    ["123456789012345678.99", "USD", 12345678901234567899n],
    // rounding beyond the currency's precision: half away from zero, on the decimal digits
    ["1.005", "USD", 101n],
    ["1.004", "USD", 100n],
    ["1.0049999", "USD", 100n],
    ["0.995", "USD", 100n],
    ["2.675", "USD", 268n], // 2.675 is 2.67499.. as a double: decimal text must not go through floats
    // negative amounts
    ["-24.40", "USD", -2440n],
    ["-1.005", "USD", -101n],
    ["-1.004", "USD", -100n],
    ["-0.5", "JPY", -1n],
    // JPY: 0 decimals
    ["500", "JPY", 500n],
    ["500.00", "JPY", 500n],
    ["500.4", "JPY", 500n],
    ["500.5", "JPY", 501n],
    ["1999", "jpy", 1999n],
    // KWD: 3 decimals
    ["1.234", "KWD", 1234n],
    ["1.2345", "KWD", 1235n],
    ["1.2344", "KWD", 1234n],
    ["0.5", "KWD", 500n],
    ["-12.5", "KWD", -12500n],
    // JSON numbers (refund line subtotals arrive as numbers)
    [89.99, "USD", 8999n],
    [0.1 + 0.2, "USD", 30n],
    [19, "USD", 1900n],
    [100, "USD", 10000n],
    [1234567.1, "USD", 123456710n],
    [-0.5, "USD", -50n],
    [0, "USD", 0n],
    [1500, "JPY", 1500n],
    [1.2345, "KWD", 1235n],
  ])("%j %s -> %s", (amount, currency, expected) => {
    expect(toMinorUnits(amount, currency)).toBe(expected);
  });

  it.each<[string | number]>([
    [""],
    ["   "],
    ["abc"],
    ["1,000.00"],
    ["1 000"],
    ["1e3"],
    ["12."],
    [".5"],
    ["--1"],
    ["1.2.3"],
    ["$12.00"],
    ["12.00 USD"],
    [Number.NaN],
    [Number.POSITIVE_INFINITY],
    [Number.NEGATIVE_INFINITY],
    [1e21],
  ])("rejects %j", (amount) => {
    expect(() => toMinorUnits(amount, "USD")).toThrow(RangeError);
  });
});

describe("formatMinorUnits", () => {
  it.each<[bigint, string, string]>([
    [12448n, "USD", "124.48"],
    [0n, "USD", "0.00"],
    [5n, "USD", "0.05"],
    [50n, "USD", "0.50"],
    [100n, "USD", "1.00"],
    [-5n, "USD", "-0.05"],
    [-12448n, "USD", "-124.48"],
    [12345678901234567899n, "USD", "123456789012345678.99"],
    [500n, "JPY", "500"],
    [0n, "JPY", "0"],
    [-500n, "JPY", "-500"],
    [1234n, "KWD", "1.234"],
    [5n, "KWD", "0.005"],
    [-12500n, "KWD", "-12.500"],
    [0n, "KWD", "0.000"],
  ])("%s %s -> %s", (minor, currency, expected) => {
    expect(formatMinorUnits(minor, currency)).toBe(expected);
  });

  it.each<[string, string]>([
    ["124.48", "USD"],
    ["-0.01", "USD"],
    ["999999999999.99", "USD"],
    ["7", "JPY"],
    ["-3", "JPY"],
    ["0.001", "KWD"],
    ["-1000.250", "KWD"],
  ])("round-trips %s %s", (amount, currency) => {
    expect(formatMinorUnits(toMinorUnits(amount, currency), currency)).toBe(amount);
  });
});
