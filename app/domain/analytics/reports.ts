// The Analytics reports' figures (overview and cohort retention), shaped from the raw
// aggregates the report queries return (app/services/analytics/reports.server.ts).
// Pure: no I/O, no clock. Money in minor units (bigint), shown with formatMinorUnits.
import { formatMinorUnits } from "../money";
import { divideRoundHalfUp } from "../customers/aggregates";

/** A calendar day, `YYYY-MM-DD`, read in the shop's time zone. */
export type ReportDate = string;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar day written `YYYY-MM-DD` (2026-02-30 is not one). */
export function isReportDate(value: string): boolean {
  const match = DATE.exec(value);
  if (!match) return false;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** What the overview query returns for one period (both ends included, shop's zone). */
export type OverviewAggregates = {
  ordersCount: number;
  revenueMinor: bigint;
  customers: number;
  newCustomers: number;
  returningCustomers: number;
  repeatCustomers: number;
  medianDaysToSecondOrder: number | null;
};

export type OverviewFigures = {
  from: ReportDate;
  to: ReportDate;
  revenue: string;
  revenueMinor: string;
  orders: number;
  aov: string;
  aovMinor: string;
  customers: number;
  newCustomers: number;
  returningCustomers: number;
  repeatPurchaseRate: number;
  medianDaysToSecondOrder: number | null;
};

/** A share rounded to 4 decimals (0.3333); 0 when there is nothing to share. */
export function share(part: number, whole: number): number {
  if (whole === 0) return 0;
  return Math.round((part / whole) * 10_000) / 10_000;
}

/**
 * Revenue = the period's counted orders' totals minus their refunds; AOV = revenue / orders,
 * rounded half up to the minor unit (as customers' AOV); repeat purchase rate = the share of
 * the period's customers with two or more counted orders by the period's end.
 */
export function buildOverviewFigures({ from, to, currency, aggregates }: { from: ReportDate; to: ReportDate; currency: string; aggregates: OverviewAggregates }): OverviewFigures {
  const a = aggregates;
  const aovMinor = a.ordersCount === 0 ? 0n : divideRoundHalfUp(a.revenueMinor, BigInt(a.ordersCount));
  return {
    from,
    to,
    revenue: formatMinorUnits(a.revenueMinor, currency),
    revenueMinor: a.revenueMinor.toString(),
    orders: a.ordersCount,
    aov: formatMinorUnits(aovMinor, currency),
    aovMinor: aovMinor.toString(),
    customers: a.customers,
    newCustomers: a.newCustomers,
    returningCustomers: a.returningCustomers,
    repeatPurchaseRate: share(a.repeatCustomers, a.customers),
    medianDaysToSecondOrder: a.medianDaysToSecondOrder,
  };
}

/** One cell of the cohort grid as the query returns it: month offset 0 is the cohort's own month. */
export type CohortCell = { cohort: string; monthOffset: number; customers: number; revenueMinor: bigint };

export type CohortRow = {
  cohort: string;
  size: number;
  currency: string;
  /** customers[k]: cohort members with a counted order in month k (customers[0] = size). */
  customers: number[];
  /** retention[k] = customers[k] / size, 4 decimals (retention[0] = 1). */
  retention: number[];
  /** cumulativeRevenueMinor[k]: the cohort's net revenue from month 0 through month k. */
  cumulativeRevenueMinor: string[];
  /** revenuePerCustomer[k] = cumulativeRevenueMinor[k] / size, rounded half up, formatted. */
  revenuePerCustomer: string[];
};

function monthIndex(month: string): number {
  return Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7)) - 1;
}

/**
 * One row per first-order month, oldest first, each with months 0..(current month - cohort
 * month): months where nobody ordered are 0, not missing.
 */
export function buildCohortRows({ cells, currentMonth, currency }: { cells: readonly CohortCell[]; currentMonth: string; currency: string }): CohortRow[] {
  const byCohort = new Map<string, CohortCell[]>();
  for (const cell of cells) {
    const list = byCohort.get(cell.cohort) ?? [];
    list.push(cell);
    byCohort.set(cell.cohort, list);
  }
  const rows: CohortRow[] = [];
  for (const cohort of [...byCohort.keys()].sort()) {
    const list = byCohort.get(cohort) ?? [];
    const months = Math.max(0, monthIndex(currentMonth) - monthIndex(cohort)) + 1;
    const customers = new Array<number>(months).fill(0);
    const revenue = new Array<bigint>(months).fill(0n);
    for (const cell of list) {
      if (cell.monthOffset < 0 || cell.monthOffset >= months) continue;
      customers[cell.monthOffset] = cell.customers;
      revenue[cell.monthOffset] = cell.revenueMinor;
    }
    const size = customers[0] ?? 0;
    let running = 0n;
    const cumulative = revenue.map((value) => (running += value));
    rows.push({
      cohort,
      size,
      currency,
      customers,
      retention: customers.map((n) => share(n, size)),
      cumulativeRevenueMinor: cumulative.map(String),
      revenuePerCustomer: cumulative.map((total) => formatMinorUnits(size === 0 ? 0n : divideRoundHalfUp(total, BigInt(size)), currency)),
    });
  }
  return rows;
}
