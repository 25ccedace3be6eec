// The Analytics reports' queries: the overview of a date range and the cohort retention grid.
// Orders counted are the customer aggregates' (app/domain/customers/aggregates.ts): neither
// test nor cancelled, valued at total price minus their refunds (orders.refunded_minor, kept
// equal to the sum of the order's refund rows), dated by the order's creation. Dates are
// calendar days in the shop's time zone (shops."ianaTimezone", UTC when unknown).
// Shaping is pure, in app/domain/analytics/reports.ts.
import { getPool, type Queryable } from "../../db.server";
import { DEFAULT_TIME_ZONE, isTimeZone } from "../../domain/format";
import {
  buildCohortRows,
  buildOverviewFigures,
  type CohortRow,
  type OverviewAggregates,
  type OverviewFigures,
  type ReportDate,
} from "../../domain/analytics/reports";

export type ReportShop = { timeZone: string; currency: string };

/** The shop's stored zone (UTC when none or unusable) and currency (the shop's, else its latest order's, else USD). */
export async function getReportShop(shop: string, db: Queryable = getPool()): Promise<ReportShop> {
  const { rows } = await db.query<{ zone: string | null; currency: string | null }>({
    name: "analytics-report-shop",
    text: `SELECT (SELECT "ianaTimezone" FROM shops WHERE domain = $1) AS zone,
                  coalesce((SELECT "currencyCode" FROM shops WHERE domain = $1),
                           (SELECT currency FROM orders WHERE shop = $1 ORDER BY shopify_created_at DESC LIMIT 1)) AS currency`,
    values: [shop],
  });
  const zone = rows[0]?.zone ?? null;
  return { timeZone: zone && isTimeZone(zone) ? zone : DEFAULT_TIME_ZONE, currency: (rows[0]?.currency ?? "USD").toUpperCase() };
}

// One pass over the period's orders (index orders(shop, shopify_created_at)), then for each
// of the period's customers their first two counted orders ever (index
// orders_shop_customer_created_id_idx): new = first order inside the period, returning =
// before it, repeat = a second order by the period's end, days to second order = calendar
// days (shop's zone) from the first order to the second, for customers whose second order
// falls inside the period.
const OVERVIEW_SQL = `
WITH bounds AS (
  SELECT ($2::date::timestamp AT TIME ZONE $4) AS start_at, (($3::date + 1)::timestamp AT TIME ZONE $4) AS end_at
), period AS (
  SELECT o.customer_gid, o.total_price_minor - o.refunded_minor AS net
    FROM orders o, bounds b
   WHERE o.shop = $1 AND NOT o.test AND o.cancelled_at IS NULL
     AND o.shopify_created_at >= b.start_at AND o.shopify_created_at < b.end_at
), totals AS (
  SELECT count(*)::int AS orders, coalesce(sum(net), 0)::text AS revenue FROM period
), people AS (
  SELECT c.customer_gid, f.firsts[1] AS first_at, f.firsts[2] AS second_at
    FROM (SELECT DISTINCT customer_gid FROM period WHERE customer_gid IS NOT NULL) c
   CROSS JOIN LATERAL (
     SELECT array_agg(x.at ORDER BY x.at, x.id) AS firsts
       FROM (SELECT p.shopify_created_at AS at, p.id
               FROM orders p
              WHERE p.shop = $1 AND p.customer_gid = c.customer_gid AND NOT p.test AND p.cancelled_at IS NULL
              ORDER BY p.shopify_created_at, p.id
              LIMIT 2) x
   ) f
)
SELECT t.orders, t.revenue,
       count(p.customer_gid)::int AS customers,
       count(*) FILTER (WHERE p.first_at >= b.start_at)::int AS new_customers,
       count(*) FILTER (WHERE p.first_at < b.start_at)::int AS returning_customers,
       count(*) FILTER (WHERE p.second_at < b.end_at)::int AS repeat_customers,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ((p.second_at AT TIME ZONE $4)::date - (p.first_at AT TIME ZONE $4)::date))
         FILTER (WHERE p.second_at >= b.start_at AND p.second_at < b.end_at) AS median_days
  FROM totals t CROSS JOIN bounds b LEFT JOIN people p ON true
 GROUP BY t.orders, t.revenue`;

export async function getOverviewAggregates(db: Queryable, { shop, from, to, timeZone }: { shop: string; from: ReportDate; to: ReportDate; timeZone: string }): Promise<OverviewAggregates> {
  const { rows } = await db.query<{
    orders: number; revenue: string; customers: number; new_customers: number; returning_customers: number; repeat_customers: number; median_days: number | null;
  }>({ name: "analytics-overview", text: OVERVIEW_SQL, values: [shop, from, to, timeZone] });
  const r = rows[0];
  if (!r) throw new Error("the overview query returned no row");
  return {
    ordersCount: r.orders,
    revenueMinor: BigInt(r.revenue),
    customers: r.customers,
    newCustomers: r.new_customers,
    returningCustomers: r.returning_customers,
    repeatCustomers: r.repeat_customers,
    medianDaysToSecondOrder: r.median_days === null ? null : Number(r.median_days),
  };
}

export type Overview = OverviewFigures & { shop: string; timeZone: string; currency: string; comparison?: OverviewFigures };

/** The overview of [from, to] (both days included), and of the comparison period when given. */
export async function getOverview({ shop, from, to, compare, db = getPool() }: {
  shop: string; from: ReportDate; to: ReportDate; compare?: { from: ReportDate; to: ReportDate }; db?: Queryable;
}): Promise<Overview> {
  const { timeZone, currency } = await getReportShop(shop, db);
  const figures = (range: { from: ReportDate; to: ReportDate }) =>
    getOverviewAggregates(db, { shop, ...range, timeZone }).then((aggregates) => buildOverviewFigures({ ...range, currency, aggregates }));
  const main = await figures({ from, to });
  const overview: Overview = { shop, timeZone, currency, ...main };
  if (compare) overview.comparison = await figures(compare);
  return overview;
}

// Cohort = the month (shop's zone) of the customer's first counted order; one cell per
// cohort and month offset with the cohort members who ordered that month and their revenue.
const COHORTS_SQL = `
WITH months AS (
  SELECT customer_gid, date_trunc('month', shopify_created_at AT TIME ZONE $2) AS m, sum(total_price_minor - refunded_minor) AS net
    FROM orders
   WHERE shop = $1 AND NOT test AND cancelled_at IS NULL AND customer_gid IS NOT NULL
   GROUP BY 1, 2
), cells AS (
  SELECT m, net, min(m) OVER (PARTITION BY customer_gid) AS cohort FROM months
)
SELECT to_char(cohort, 'YYYY-MM') AS cohort,
       ((extract(year FROM m) - extract(year FROM cohort)) * 12 + extract(month FROM m) - extract(month FROM cohort))::int AS month_offset,
       count(*)::int AS customers,
       sum(net)::text AS revenue,
       to_char($3::timestamptz AT TIME ZONE $2, 'YYYY-MM') AS current_month
  FROM cells
 GROUP BY 1, 2
 ORDER BY 1, 2`;

/** One row per first-order month, months 0 .. the current month (shop's zone) at `now`. */
export async function getCohorts({ shop, now, db = getPool() }: { shop: string; now: Date; db?: Queryable }): Promise<CohortRow[]> {
  const { timeZone, currency } = await getReportShop(shop, db);
  const { rows } = await db.query<{ cohort: string; month_offset: number; customers: number; revenue: string; current_month: string }>({
    name: "analytics-cohorts", text: COHORTS_SQL, values: [shop, timeZone, now],
  });
  const first = rows[0];
  if (!first) return [];
  return buildCohortRows({
    currentMonth: first.current_month,
    currency,
    cells: rows.map((r) => ({ cohort: r.cohort, monthOffset: r.month_offset, customers: r.customers, revenueMinor: BigInt(r.revenue) })),
  });
}
