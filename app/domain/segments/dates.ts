// Calendar dates of segment queries. A date in a query (2024-01-01, -90d, today) names a
// calendar day in the shop's time zone; attributes are instants. Pure: `now` is passed in.
// Calendar arithmetic and time zones come from date-fns + @date-fns/tz (decision 016).

import { TZDate } from "@date-fns/tz";
import { addDays, addMonths, addYears } from "date-fns";
import type { DateLiteral, RelativeDateLiteral } from "./ast";

/** Shops are evaluated in UTC until the shop's own time zone is stored (docs/segments.md). */
export const DEFAULT_TIME_ZONE = "UTC";

/** A calendar day, `YYYY-MM-DD`. Such strings order like the days they name. */
export type CalendarDay = string;

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const pad = (n: number, width = 2) => String(n).padStart(width, "0");

function parts(day: CalendarDay): [number, number, number] {
  const match = DAY.exec(day);
  if (!match) throw new RangeError(`not a calendar day: ${JSON.stringify(day)}`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** Throws a clear error for a time zone the runtime does not know. */
export function assertTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone }).format(0);
  } catch {
    throw new RangeError(`unknown time zone ${JSON.stringify(timeZone)}`);
  }
}

function dayOf(date: Date): CalendarDay {
  return `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The calendar day an instant falls on in a time zone. */
export function calendarDayAt(instant: Date, timeZone: string): CalendarDay {
  return dayOf(new TZDate(instant.getTime(), timeZone));
}

/**
 * Moves a calendar day by whole days, weeks, months or years. Months and years keep the
 * day of month where it exists and clamp to the month's last day otherwise
 * (2024-03-31 - 1m = 2024-02-29).
 */
export function shiftCalendarDay(day: CalendarDay, amount: number, unit: RelativeDateLiteral["unit"]): CalendarDay {
  const [y, m, d] = parts(day);
  // Calendar arithmetic on a UTC date: no daylight saving time can move it.
  const base = new TZDate(y, m - 1, d, "UTC");
  const shifted = unit === "d" ? addDays(base, amount) : unit === "w" ? addDays(base, 7 * amount) : unit === "m" ? addMonths(base, amount) : addYears(base, amount);
  return dayOf(shifted);
}

export function nextCalendarDay(day: CalendarDay): CalendarDay {
  return shiftCalendarDay(day, 1, "d");
}

/** The day a date literal names: as written, or relative to the day `now` falls on in the time zone. */
export function resolveDateLiteral(literal: DateLiteral | RelativeDateLiteral, { now, timeZone }: { now: Date; timeZone: string }): CalendarDay {
  if (literal.kind === "date") {
    parts(literal.value);
    return literal.value;
  }
  return shiftCalendarDay(calendarDayAt(now, timeZone), literal.amount, literal.unit);
}

/**
 * The first instant of a calendar day in a time zone: local midnight, or the first
 * local time that exists when a daylight saving change skips midnight.
 */
export function startOfCalendarDay(day: CalendarDay, timeZone: string): Date {
  const [y, m, d] = parts(day);
  const start = new TZDate(y, m - 1, d, timeZone);
  if (Number.isNaN(start.getTime())) throw new RangeError(`cannot place ${day} in time zone ${JSON.stringify(timeZone)}`);
  return new Date(start.getTime());
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;

/**
 * The instant a local date and time (`2020-05-30T16:00:00`) names in a time zone. A time that a
 * daylight saving change skips moves forward by the gap; a time that occurs twice is its first
 * occurrence (@date-fns/tz's reading).
 */
export function instantOfLocalDateTime(value: string, timeZone: string): Date {
  const match = DATE_TIME.exec(value);
  if (!match) throw new RangeError(`not a local date and time: ${JSON.stringify(value)}`);
  const [y, mo, d, h, mi, s] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const instant = new TZDate(y, mo - 1, d, h, mi, s, timeZone);
  if (Number.isNaN(instant.getTime())) throw new RangeError(`cannot place ${value} in time zone ${JSON.stringify(timeZone)}`);
  return new Date(instant.getTime());
}

/** A date-time literal names one second: [instant, instant + 1 s). */
export const DATE_TIME_SPAN_MS = 1000;
