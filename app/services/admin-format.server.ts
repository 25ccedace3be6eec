// Display formatting for the admin pages, done once on the server so the HTML and the
// hydrated page agree. Money stays exact: minor units -> decimal string
// (formatMinorUnits) -> Intl with that string (no floating point).
import { formatMinorUnits } from "../domain/money";

const LOCALE = "en-US";

/** "12448" USD -> "$124.48". */
export function displayMoney(minor: string | bigint, currency: string | null | undefined): string {
  const code = (currency ?? "USD").toUpperCase();
  return displayDecimal(formatMinorUnits(BigInt(minor), code), code);
}

/** "124.48" USD -> "$124.48" (the decimal string is formatted exactly). */
export function displayDecimal(amount: string, currency: string): string {
  try {
    return new Intl.NumberFormat(LOCALE, { style: "currency", currency }).format(amount as Intl.StringNumericLiteral);
  } catch {
    return `${amount} ${currency}`;
  }
}

const dateFormat = new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeZone: "UTC" });
const dateTimeFormat = new Intl.DateTimeFormat(LOCALE, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
  timeZone: "UTC",
});

const toDate = (value: Date | string) => (value instanceof Date ? value : new Date(value));

/** "Jan 14, 2026" (UTC). */
export function displayDate(value: Date | string | null | undefined): string | null {
  return value ? dateFormat.format(toDate(value)) : null;
}

/** "Jan 14, 2026, 15:21 UTC". */
export function displayDateTime(value: Date | string | null | undefined): string | null {
  return value ? `${dateTimeFormat.format(toDate(value))} UTC` : null;
}

/** 0.042 -> "42 ms", 4.2 -> "4.2 s", 75 -> "1 min 15 s", 7300 -> "2 h 1 min", 200000 -> "2 d 7 h". */
export function displayDuration(seconds: number | null | undefined): string | null {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return null;
  const s = Math.max(0, seconds);
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const whole = Math.round(s);
  const pair = (big: number, bigUnit: string, small: number, smallUnit: string) =>
    small > 0 ? `${big} ${bigUnit} ${small} ${smallUnit}` : `${big} ${bigUnit}`;
  if (whole < 3600) return pair(Math.floor(whole / 60), "min", whole % 60, "s");
  if (whole < 86400) return pair(Math.floor(whole / 3600), "h", Math.floor((whole % 3600) / 60), "min");
  return pair(Math.floor(whole / 86400), "d", Math.floor((whole % 86400) / 3600), "h");
}

/** "partially_refunded" -> "Partially refunded"; "SUBSCRIBED" -> "Subscribed". */
export function displayEnum(value: string | null | undefined): string | null {
  if (!value) return null;
  const text = value.replace(/_/g, " ").toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "gid://shopify/Customer/123" -> "123". */
export function legacyIdOf(gid: string): string {
  return gid.slice(gid.lastIndexOf("/") + 1);
}
