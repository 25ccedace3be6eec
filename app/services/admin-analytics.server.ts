// The Analytics admin page (app/routes/app.analytics._index.tsx) and its CSV exports
// (app/routes/app.analytics.export[.]csv.tsx): the range from the address, read in the shop's
// zone, the report queries of app/services/analytics/reports.server.ts for the period and the
// previous one, and the view models of app/domain/admin/analytics-view-models.ts.
import { getPool, type Queryable } from "../db.server";
import { createFormatter, type Formatter } from "../domain/format";
import type { CohortRow } from "../domain/analytics/reports";
import {
  cohortsCsv,
  cohortsInRange,
  csvFilename,
  overviewCards,
  overviewCsv,
  parseAnalyticsRange,
  todayIn,
  type AnalyticsRange,
  type OverviewCard,
} from "../domain/admin/analytics-view-models";
import { getCohorts, getOverview, getReportShop, type Overview } from "./analytics/reports.server";

export type AnalyticsCohortView = {
  /** the first-order month, YYYY-MM */
  cohort: string;
  size: number;
  customers: number[];
  retention: number[];
  /** "42.5%" per month */
  retentionText: string[];
  /** formatted money per month */
  revenuePerCustomerText: string[];
  /** plain decimals per month (the chart's values) */
  revenuePerCustomer: number[];
};

export type AnalyticsPage = {
  range: AnalyticsRange;
  /** "Jan 1, 2026 – Jan 31, 2026" */
  periodLabel: string;
  comparisonLabel: string;
  timeZone: string;
  currency: string;
  cards: OverviewCard[];
  cohorts: AnalyticsCohortView[];
  /** months in the widest cohort row (the grid's columns) */
  months: number;
};

async function readOverview(shop: string, range: AnalyticsRange, db: Queryable): Promise<Required<Pick<Overview, "comparison">> & Overview> {
  const overview = await getOverview({ shop, from: range.from, to: range.to, compare: { from: range.compareFrom, to: range.compareTo }, db });
  if (!overview.comparison) throw new Error("the overview came back without its comparison period");
  return overview as Required<Pick<Overview, "comparison">> & Overview;
}

async function rangeOf(shop: string, params: URLSearchParams, now: Date, db: Queryable) {
  const { timeZone } = await getReportShop(shop, db);
  return parseAnalyticsRange(params, todayIn(timeZone, now));
}

export async function getAnalyticsPage({ shop, params, now = new Date(), fmt = createFormatter(), db = getPool() }: {
  shop: string; params: URLSearchParams; now?: Date; fmt?: Formatter; db?: Queryable;
}): Promise<AnalyticsPage> {
  const range = await rangeOf(shop, params, now, db);
  const overview = await readOverview(shop, range, db);
  const cohorts = cohortsInRange(await getCohorts({ shop, now, db }), range);
  const period = (from: string, to: string) => `${fmt.calendarDate(from)} – ${fmt.calendarDate(to)}`;
  return {
    range,
    periodLabel: period(range.from, range.to),
    comparisonLabel: period(range.compareFrom, range.compareTo),
    timeZone: overview.timeZone,
    currency: overview.currency,
    cards: overviewCards(overview, overview.comparison, overview.currency, fmt),
    cohorts: cohorts.map((row) => cohortView(row, fmt)),
    months: cohorts.reduce((n, r) => Math.max(n, r.customers.length), 0),
  };
}

function cohortView(row: CohortRow, fmt: Formatter): AnalyticsCohortView {
  const perCustomer = row.revenuePerCustomer.map(Number);
  return {
    cohort: row.cohort,
    size: row.size,
    customers: row.customers,
    retention: row.retention,
    retentionText: row.retention.map((r) => `${fmt.decimal(Math.round(r * 1000) / 10)}%`),
    revenuePerCustomerText: row.revenuePerCustomer.map((v) => fmt.moneyDecimal(v, row.currency)),
    revenuePerCustomer: perCustomer,
  };
}

export const ANALYTICS_CSV_REPORTS = ["overview", "cohorts"] as const;
export type AnalyticsCsvReport = (typeof ANALYTICS_CSV_REPORTS)[number];

/** The CSV text and file name of one of the page's tables, for the same range the page shows. */
export async function getAnalyticsCsv({ shop, report, params, now = new Date(), db = getPool() }: {
  shop: string; report: AnalyticsCsvReport; params: URLSearchParams; now?: Date; db?: Queryable;
}): Promise<{ filename: string; body: string }> {
  const range = await rangeOf(shop, params, now, db);
  if (report === "overview") {
    const overview = await readOverview(shop, range, db);
    return { filename: csvFilename("overview", range), body: overviewCsv(overview, overview.comparison, overview.currency) };
  }
  return { filename: csvFilename("cohorts", range), body: cohortsCsv(cohortsInRange(await getCohorts({ shop, now, db }), range)) };
}
