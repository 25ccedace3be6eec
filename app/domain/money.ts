// Money as integer minor units (bigint) with an ISO 4217 currency code.
// Amounts from Shopify arrive as decimal strings ("124.48"); they are converted
// exactly, without floating point. See docs/decisions/005-money-and-ids.md.

export type Money = { minor: bigint; currency: string };

const exponentCache = new Map<string, number>();

/** Digits after the decimal point for a currency (USD 2, JPY 0, KWD 3), from ICU data. */
export function currencyExponent(currency: string): number {
  const code = currency.toUpperCase();
  let exponent = exponentCache.get(code);
  if (exponent === undefined) {
    try {
      exponent = new Intl.NumberFormat("en", { style: "currency", currency: code }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      exponent = 2;
    }
    exponentCache.set(code, exponent);
  }
  return exponent;
}

const DECIMAL = /^([+-])?(\d+)(?:\.(\d+))?$/;

/**
 * "124.48" USD -> 12448n. Extra fraction digits beyond the currency's precision are
 * rounded half away from zero ("1.005" USD -> 101n). Throws on anything not a decimal.
 */
export function toMinorUnits(amount: string | number, currency: string): bigint {
  const text = typeof amount === "number" ? numberToPlainString(amount) : amount.trim();
  const match = DECIMAL.exec(text);
  if (!match) throw new RangeError(`not a decimal amount: ${JSON.stringify(amount)}`);
  const [, sign, whole, fraction = ""] = match;
  const exponent = currencyExponent(currency);
  const kept = fraction.slice(0, exponent).padEnd(exponent, "0");
  let minor = BigInt(whole + kept);
  const dropped = fraction.slice(exponent);
  if (dropped.length > 0 && dropped[0]! >= "5") minor += 1n;
  return sign === "-" ? -minor : minor;
}

function numberToPlainString(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite amount: ${value}`);
  // toFixed(10) avoids exponent notation for the magnitudes money has.
  return value.toFixed(10).replace(/\.?0+$/, "") || "0";
}

/** 12448n USD -> "124.48"; 500n JPY -> "500". */
export function formatMinorUnits(minor: bigint, currency: string): string {
  const exponent = currencyExponent(currency);
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(exponent + 1, "0");
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = exponent > 0 ? `.${digits.slice(digits.length - exponent)}` : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}
