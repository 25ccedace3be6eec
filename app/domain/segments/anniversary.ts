// Shopify's `anniversary()` (docs/segments.md): the customers whose yearly anniversary of a
// date falls on the days the query names. The Help Center's form is
// `anniversary(date: 'metafields.facts.birth_date') BETWEEN today AND +30d`; the year of the
// stored date is not used. The only date the app stores is Shopify's standard birth date
// metafield (facts.birth_date, read by the daily birthday job), so that is the one source.
//
// Meaning, for a stored date B and the query's days (in the shop's time zone):
// - the anniversary of B in year Y is B's month and day in Y; 29 February is 28 February in
//   a year without it;
// - `= D` / `!= D`: the anniversary in D's year is / is not D (the same month and day);
// - `> D`, `>= D`, `< D`, `<= D`: the anniversary in D's year compared with D ("later this year");
// - `BETWEEN L AND H`: some day from L to H is an anniversary (a window across New Year
//   included; a window of a year or more holds for every stored date; reversed bounds, none);
// - `IS NULL`: no date is stored. Without a date every other test is false.
import type { Argument, FunctionCall } from "./ast";
import type { CalendarDay } from "./dates";

export const ANNIVERSARY = "anniversary";

/** The dates `anniversary(date: ...)` accepts: Shopify's standard birth date metafield, as the Help Center and this app write it. */
export const ANNIVERSARY_SOURCES: readonly string[] = ["metafields.facts.birth_date", "facts.birth_date"];

/** Operators an anniversary accepts (the Help Center lists the date operators, IS NULL and IS NOT NULL). */
export const ANNIVERSARY_OPERATORS = ["=", "!=", ">", "<", ">=", "<=", "BETWEEN", "IS NULL"] as const;

export const ANNIVERSARY_FORM = "anniversary(date: 'metafields.facts.birth_date') BETWEEN today AND +30d";

/** The one argument, `date: '...'` or positional `'...'`, if the call has exactly that. */
export function anniversaryArgument(call: FunctionCall): Argument | undefined {
  if (call.args.length !== 1) return undefined;
  const arg = call.args[0]!;
  return (arg.name === "date" || arg.name === "") && arg.operator === ":" && arg.values.length === 1 && arg.values[0]!.kind === "string" ? arg : undefined;
}

export const isLeapYear = (year: number) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);

/** The anniversary of `date` (YYYY-MM-DD) in `year`, as a calendar day. */
export function anniversaryIn(date: CalendarDay, year: number): CalendarDay {
  const [, m, d] = date.split("-").map(Number) as [number, number, number];
  const day = m === 2 && d === 29 && !isLeapYear(year) ? 28 : d;
  return `${String(year).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

export const yearOf = (day: CalendarDay) => Number(day.slice(0, 4));
