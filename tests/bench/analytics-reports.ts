// The Analytics reports' queries (app/services/analytics/reports.server.ts) on a generated
// store: orders spread over three years (New York time), about 5 orders per customer, 1% test,
// 2% cancelled, 10% partly refunded, 5% guest orders. Measures, through the service, the
// overview of one month, of one month with its comparison period, of a whole year, and the
// cohort grid, after ANALYZE. These queries read the orders table live (no rollup yet, see
// docs/analytics-reports.md), so their time grows with the orders in range.
//
//   npm run bench:analytics-reports -- [--runs 7] [--customers 20000] [--orders 100000]
//   full size of issue 15: --customers 1000000 --orders 5000000 (long: the build alone takes minutes)
import { finishBench, freshDatabase, numberFlag, parseFlags, percentiles, report, round, useAppEnvInThisProcess } from "./lib/common";

const flags = parseFlags();
const RUNS = numberFlag(flags, "runs", 7);
const CUSTOMERS = numberFlag(flags, "customers", 20_000);
const ORDERS = numberFlag(flags, "orders", 100_000);
const SHOP = "bench-analytics.myshopify.com";

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

async function main() {
  const db = await freshDatabase("analytics");
  await useAppEnvInThisProcess(db.url);
  const { getPool, closeDb } = await import("../../app/db.server");
  const { getOverview, getCohorts } = await import("../../app/services/analytics/reports.server");
  try {
    const pool = getPool();
    await pool.query(`INSERT INTO shops (domain, "currencyCode", "ianaTimezone") VALUES ($1, 'USD', 'America/New_York')`, [SHOP]);
    const build = await timed(() =>
      pool.query(
        `INSERT INTO orders (shop, gid, legacy_id, customer_gid, currency, total_price_minor, refunded_minor, test, cancelled_at, shopify_created_at, shopify_updated_at)
         SELECT $1, 'gid://shopify/Order/' || g, g::text,
                CASE WHEN g % 20 = 0 THEN NULL ELSE 'gid://shopify/Customer/' || (1 + (g::bigint * 7919) % $3) END,
                'USD', 1000 + (g::bigint * 104729) % 20000,
                CASE WHEN g % 10 = 3 THEN 500 ELSE 0 END,
                g % 100 = 7,
                CASE WHEN g % 50 = 11 THEN at END,
                at, at
           FROM generate_series(1, $2::int) g,
                LATERAL (SELECT timestamptz '2024-01-01 05:00Z' + ((g::bigint * 48271) % (3 * 365 * 24 * 60)) * interval '1 minute' AS at) t`,
        [SHOP, ORDERS, CUSTOMERS],
      ),
    );
    await pool.query("ANALYZE orders");
    const cases: { name: string; run: () => Promise<unknown> }[] = [
      { name: "overview, one month", run: () => getOverview({ shop: SHOP, from: "2026-03-01", to: "2026-03-31" }) },
      { name: "overview, one month + comparison", run: () => getOverview({ shop: SHOP, from: "2026-03-01", to: "2026-03-31", compare: { from: "2026-02-01", to: "2026-02-28" } }) },
      { name: "overview, one year", run: () => getOverview({ shop: SHOP, from: "2025-01-01", to: "2025-12-31" }) },
      { name: "cohorts (36 months)", run: () => getCohorts({ shop: SHOP, now: new Date("2026-12-31T12:00:00Z") }) },
    ];
    const results: { case: string; p50: number; max: number }[] = [];
    for (const c of cases) {
      const ms: number[] = [];
      for (let run = -1; run < RUNS; run++) {
        const t = await timed(c.run);
        if (run >= 0) ms.push(t.ms);
      }
      const p = percentiles(ms);
      results.push({ case: c.name, p50: round(p.p50), max: round(p.max) });
    }
    report(
      "analytics-reports",
      { customers: CUSTOMERS, orders: ORDERS, buildSeconds: round(build.ms / 1000, 1), runs: RUNS, results },
      [
        `store: ${ORDERS.toLocaleString("en-US")} orders of ${CUSTOMERS.toLocaleString("en-US")} customers over 3 years, built in ${round(build.ms / 1000, 1)} s, then ANALYZE`,
        ...results.map((r) => `${r.case}: p50 ${r.p50} ms, max ${r.max} ms (runs ${RUNS}, live queries on orders, no rollup)`),
      ],
    );
  } finally {
    await closeDb();
    await db.drop();
    await finishBench();
  }
}

await main();
