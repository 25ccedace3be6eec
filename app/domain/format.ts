// The one formatter for what the admin shows: counts, money, points, dates and times, in the
// shop's locale and time zone. Pure (no clock, no I/O): the server builds it per request from
// the shop's settings (app/services/shop-format.server.ts) and formats every value before it
// reaches a page, so the HTML and the hydrated page print the same text.
//
// Money stays exact: minor units (bigint) -> decimal string -> Intl with that string (no
// floating point). Dates and times are shown in the shop's IANA time zone with Intl, which
// knows the zone's daylight-saving rules.
import { formatMinorUnits } from "./money";

export type FormatSettings = {
  /** A BCP 47 tag ("en", "en-US", "fr", "pt-BR"); an unknown or malformed one falls back to "en". */
  locale?: string | null;
  /** An IANA zone ("America/New_York"); an unknown one falls back to UTC. */
  timeZone?: string | null;
  /** The shop's currency (ISO 4217), used when an amount names none. */
  currency?: string | null;
};

export const DEFAULT_LOCALE = "en";
export const DEFAULT_TIME_ZONE = "UTC";

/** The locale when Intl knows it, else "en". */
export function safeLocale(locale: string | null | undefined): string {
  if (!locale) return DEFAULT_LOCALE;
  try {
    const [supported] = Intl.NumberFormat.supportedLocalesOf([locale.replace(/_/g, "-")]);
    return supported ?? DEFAULT_LOCALE;
  } catch {
    return DEFAULT_LOCALE;
  }
}

/** True for an IANA zone Intl knows ("UTC" included). */
export function isTimeZone(zone: string | null | undefined): zone is string {
  if (!zone) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Every IANA zone Intl knows, "UTC" first. */
export function timeZoneNames(): string[] {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return [DEFAULT_TIME_ZONE, ...zones.filter((z) => z !== DEFAULT_TIME_ZONE)];
}

type DateInput = Date | string | number | null | undefined;

const toDate = (value: Date | string | number) => (value instanceof Date ? value : new Date(value));

export type Formatter = ReturnType<typeof createFormatter>;

export function createFormatter(settings: FormatSettings = {}) {
  const locale = safeLocale(settings.locale);
  const timeZone = isTimeZone(settings.timeZone) ? settings.timeZone : DEFAULT_TIME_ZONE;
  const shopCurrency = (settings.currency ?? "USD").toUpperCase();
  const numberFormat = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const decimalFormat = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const compactFormat = new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 });
  const dateFormat = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone });
  const calendarFormat = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" });
  const dayMonthFormat = new Intl.DateTimeFormat(locale, { month: "short", day: "numeric", timeZone: "UTC" });
  const dateTimeFormat = new Intl.DateTimeFormat(locale, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
    timeZone,
    timeZoneName: "short",
  });
  const currencyFormats = new Map<string, Intl.NumberFormat | null>();
  const currencyFormat = (code: string) => {
    if (!currencyFormats.has(code)) {
      try {
        currencyFormats.set(code, new Intl.NumberFormat(locale, { style: "currency", currency: code }));
      } catch {
        currencyFormats.set(code, null);
      }
    }
    return currencyFormats.get(code) ?? null;
  };

  const count = (n: number | bigint) => numberFormat.format(n);
  const nothing = (value: DateInput): value is null | undefined => value === null || value === undefined || value === "";

  return {
    locale,
    timeZone,
    currency: shopCurrency,
    /** 2002 -> "2,002" (en), "2 002" (fr), "2.002" (de). */
    count,
    /** 2002, "customer" -> "2,002 customers"; 1 -> "1 customer". English nouns; the number in the shop's locale. */
    countOf: (n: number | bigint, singular: string, plural = `${singular}s`) => `${count(n)} ${Number(n) === 1 ? singular : plural}`,
    /** 4.25 -> "4.3" (a ratio, an average). */
    decimal: (n: number) => decimalFormat.format(n),
    /** 8000 -> "8K" (chart axes). */
    compact: (n: number) => compactFormat.format(n),
    /** 1204 -> "1,204 points"; 1 -> "1 point"; -5 -> "−5 points" (a real minus sign). */
    points: (n: number) => `${n < 0 ? "−" : ""}${count(Math.abs(n))} ${Math.abs(n) === 1 ? "point" : "points"}`,
    /** Minor units in the currency (the shop's when none): 12448n USD -> "$124.48"; 500n JPY -> "¥500". */
    money: (minor: bigint | string | number, currency?: string | null) => {
      const code = (currency ?? shopCurrency).toUpperCase();
      const decimal = formatMinorUnits(BigInt(minor), code);
      return currencyFormat(code)?.format(decimal as Intl.StringNumericLiteral) ?? `${decimal} ${code}`;
    },
    /** An exact decimal string in the currency: "124.48" USD -> "$124.48". */
    moneyDecimal: (amount: string, currency?: string | null) => {
      const code = (currency ?? shopCurrency).toUpperCase();
      return currencyFormat(code)?.format(amount as Intl.StringNumericLiteral) ?? `${amount} ${code}`;
    },
    /** The calendar date in the shop's zone: "Jan 14, 2026". */
    date: (value: DateInput): string | null => (nothing(value) ? null : dateFormat.format(toDate(value))),
    /** A calendar day already fixed ("2026-03-01", a date column): "Mar 1, 2026", never shifted by a zone. */
    calendarDate: (ymd: string | null | undefined): string | null => {
      if (!ymd) return null;
      const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(ymd);
      if (!match) return ymd;
      return calendarFormat.format(new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))));
    },
    /** A calendar day as "Mar 1" (chart labels: week starts, days), never shifted by a zone. */
    calendarDayMonth: (ymd: string): string => {
      const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(ymd);
      if (!match) return ymd;
      return dayMonthFormat.format(new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))));
    },
    /** Date and time in the shop's zone, with the zone's abbreviation: "Jan 14, 2026, 10:21 AM EST". */
    dateTime: (value: DateInput): string | null => (nothing(value) ? null : dateTimeFormat.format(toDate(value))),
  };
}
