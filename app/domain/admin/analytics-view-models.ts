// The Analytics admin page (app/routes/app.analytics._index.tsx) and its CSV exports: the date
// range read from the address, the comparison period, the overview cards with their change,
// the cohort grid's cells and the CSV text. Pure: no I/O, no clock (today is passed in, as a
// calendar day in the shop's zone). Figures come from app/domain/analytics/reports.ts.
import { isReportDate, type CohortRow, type OverviewFigures, type ReportDate } from "../analytics/reports";
import type { Formatter } from "../format";
import { formatMinorUnits } from "../money";

export const RANGE_PRESETS = ["30", "90", "365"] as const;
export type RangePreset = (typeof RANGE_PRESETS)[number];
export type RangeKind = RangePreset | "custom";

export type AnalyticsRange = {
  range: RangeKind;
  from: ReportDate;
  to: ReportDate;
  /** The previous period of the same length, ending the day before `from`. */
  compareFrom: ReportDate;
  compareTo: ReportDate;
  days: number;
};

export const DEFAULT_PRESET: RangePreset = "30";
/** Longest custom range accepted (about ten years): a longer one is cut to this many days ending at `to`. */
export const MAX_RANGE_DAYS = 3660;

const DAY_MS = 86_400_000;
const toUtc = (day: ReportDate) => Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10)));
const fromUtc = (ms: number): ReportDate => new Date(ms).toISOString().slice(0, 10);

/** `day` moved by `n` calendar days. */
export const addDays = (day: ReportDate, n: number): ReportDate => fromUtc(toUtc(day) + n * DAY_MS);
/** Days from `from` to `to`, both included. */
export const daysIncluded = (from: ReportDate, to: ReportDate) => Math.round((toUtc(to) - toUtc(from)) / DAY_MS) + 1;

/** Today's calendar day in `timeZone` at `now`. */
export function todayIn(timeZone: string, now: Date): ReportDate {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(now);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

function withComparison(range: RangeKind, from: ReportDate, to: ReportDate): AnalyticsRange {
  const days = daysIncluded(from, to);
  return { range, from, to, compareFrom: addDays(from, -days), compareTo: addDays(from, -1), days };
}

/**
 * The range the address asks for: `range=30|90|365` (the last N days ending today, the
 * default 30), or `range=custom&from=YYYY-MM-DD&to=YYYY-MM-DD` (`from` alone runs to today;
 * reversed days are swapped). Anything unreadable falls back to the last 30 days: a page
 * address is never an error.
 */
export function parseAnalyticsRange(params: URLSearchParams, today: ReportDate): AnalyticsRange {
  const from = params.get("from") ?? "";
  const to = params.get("to") ?? "";
  const asked = params.get("range");
  if ((asked === "custom" || (asked === null && from)) && isReportDate(from)) {
    let [a, b] = [from, isReportDate(to) ? to : today];
    if (a > b) [a, b] = [b, a];
    if (daysIncluded(a, b) > MAX_RANGE_DAYS) a = addDays(b, -(MAX_RANGE_DAYS - 1));
    return withComparison("custom", a, b);
  }
  const preset = (RANGE_PRESETS as readonly string[]).includes(asked ?? "") ? (asked as RangePreset) : DEFAULT_PRESET;
  return withComparison(preset, addDays(today, -(Number(preset) - 1)), today);
}

/** The address's query for a range (what the page's form and the export links carry). */
export function rangeQuery(range: Pick<AnalyticsRange, "range" | "from" | "to">): URLSearchParams {
  return range.range === "custom" ? new URLSearchParams({ range: "custom", from: range.from, to: range.to }) : new URLSearchParams({ range: range.range });
}

// ---- overview cards ----

export type ChangeDirection = "up" | "down" | "flat" | "none";
export type OverviewCard = {
  key: "revenue" | "orders" | "aov" | "newCustomers" | "returningCustomers" | "repeatPurchaseRate" | "medianDaysToSecondOrder";
  label: string;
  value: string;
  previous: string;
  /** "+12.5%", "−3 pts", "+2 days"; "—" when there is nothing to compare with. */
  change: string;
  direction: ChangeDirection;
};

/** Relative change in percent, one decimal; null when the previous value is 0. */
export function percentChange(current: number, previous: number): number | null {
  if (previous === 0) return null;
  return Math.round(((current - previous) / previous) * 1000) / 10;
}

const direction = (delta: number | null): ChangeDirection => (delta === null ? "none" : delta > 0 ? "up" : delta < 0 ? "down" : "flat");
const signed = (n: number, text: string) => (n > 0 ? `+${text}` : n < 0 ? `−${text}` : text);

export function overviewCards(current: OverviewFigures, previous: OverviewFigures, currency: string, fmt: Formatter): OverviewCard[] {
  const relative = (key: OverviewCard["key"], label: string, cur: number, prev: number, show: (v: number) => string, showMinor?: (v: OverviewFigures) => string): OverviewCard => {
    const pct = percentChange(cur, prev);
    return {
      key,
      label,
      value: showMinor ? showMinor(current) : show(cur),
      previous: showMinor ? showMinor(previous) : show(prev),
      change: pct === null ? "—" : signed(pct, `${fmt.decimal(Math.abs(pct))}%`),
      direction: direction(pct),
    };
  };
  const rateDelta = Math.round((current.repeatPurchaseRate - previous.repeatPurchaseRate) * 1000) / 10;
  const rate = (r: number) => `${fmt.decimal(Math.round(r * 1000) / 10)}%`;
  const median = (d: number | null) => (d === null ? "—" : fmt.countOf(d, "day"));
  const cm = current.medianDaysToSecondOrder;
  const pm = previous.medianDaysToSecondOrder;
  const medianDelta = cm === null || pm === null ? null : cm - pm;
  return [
    relative("revenue", "Revenue (net of refunds)", Number(current.revenueMinor), Number(previous.revenueMinor), String, (v) => fmt.money(v.revenueMinor, currency)),
    relative("orders", "Orders", current.orders, previous.orders, fmt.count),
    relative("aov", "Average order value", Number(current.aovMinor), Number(previous.aovMinor), String, (v) => fmt.money(v.aovMinor, currency)),
    relative("newCustomers", "New customers", current.newCustomers, previous.newCustomers, fmt.count),
    relative("returningCustomers", "Returning customers", current.returningCustomers, previous.returningCustomers, fmt.count),
    {
      key: "repeatPurchaseRate",
      label: "Repeat purchase rate",
      value: rate(current.repeatPurchaseRate),
      previous: rate(previous.repeatPurchaseRate),
      change: current.customers === 0 || previous.customers === 0 ? "—" : signed(rateDelta, `${fmt.decimal(Math.abs(rateDelta))} pts`),
      direction: current.customers === 0 || previous.customers === 0 ? "none" : direction(rateDelta),
    },
    {
      key: "medianDaysToSecondOrder",
      label: "Median days to 2nd order",
      value: median(cm),
      previous: median(pm),
      change: medianDelta === null ? "—" : signed(medianDelta, fmt.countOf(Math.abs(medianDelta), "day")),
      direction: direction(medianDelta),
    },
  ];
}

// ---- cohorts ----

/** The cohorts whose first-order month lies in the range's months. */
export const cohortsInRange = (rows: readonly CohortRow[], range: Pick<AnalyticsRange, "from" | "to">) =>
  rows.filter((r) => r.cohort >= range.from.slice(0, 7) && r.cohort <= range.to.slice(0, 7));

/**
 * The heat map's shade for a share 0..1: a blue (#1f5199) over white, more opaque for a higher
 * share, and a text colour with at least 4.5:1 contrast on it (dark up to 80% opacity, white above).
 */
export function heatShade(share: number): { background: string; color: string } {
  const alpha = 0.06 + Math.max(0, Math.min(1, share)) * 0.94;
  return { background: `rgba(31, 81, 153, ${alpha.toFixed(2)})`, color: alpha >= 0.8 ? "#ffffff" : "#202223" };
}

// ---- CSV ----

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break; a leading =+-@ is neutralised (spreadsheet formulas). */
export function csvField(value: string | number | null): string {
  if (value === null) return "";
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const toCsv = (rows: readonly (readonly (string | number | null)[])[]) => rows.map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";

/** The overview as CSV: one line per figure, the period and the comparison period side by side (plain decimals, no currency symbol). */
export function overviewCsv(current: OverviewFigures, previous: OverviewFigures, currency: string): string {
  const line = (figure: string, pick: (f: OverviewFigures) => string | number | null) => [figure, pick(current), pick(previous)];
  return toCsv([
    ["figure", `${current.from} to ${current.to}`, `${previous.from} to ${previous.to}`],
    line(`revenue_net_${currency}`, (f) => f.revenue),
    line("orders", (f) => f.orders),
    line(`aov_${currency}`, (f) => f.aov),
    line("customers", (f) => f.customers),
    line("new_customers", (f) => f.newCustomers),
    line("returning_customers", (f) => f.returningCustomers),
    line("repeat_purchase_rate", (f) => f.repeatPurchaseRate),
    line("median_days_to_second_order", (f) => f.medianDaysToSecondOrder),
  ]);
}

/** The cohort grid as CSV: one line per cohort and month offset (long format, easy to pivot). */
export function cohortsCsv(rows: readonly CohortRow[]): string {
  const lines: (string | number)[][] = [["cohort", "size", "month", "customers", "retention", "cumulative_revenue", "revenue_per_customer", "currency"]];
  for (const r of rows) {
    r.customers.forEach((n, k) => {
      lines.push([r.cohort, r.size, k, n, r.retention[k] ?? 0, formatMinorUnits(BigInt(r.cumulativeRevenueMinor[k] ?? "0"), r.currency), r.revenuePerCustomer[k] ?? "", r.currency]);
    });
  }
  return toCsv(lines);
}

/** `analytics-overview-2026-01-01-to-2026-01-31.csv` */
export const csvFilename = (report: "overview" | "cohorts", range: Pick<AnalyticsRange, "from" | "to">) => `analytics-${report}-${range.from}-to-${range.to}.csv`;
