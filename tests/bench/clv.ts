// Predictions at scale (issue 15): fit and scoring of one shop's customers (the customer summary
// in PostgreSQL, the BG/NBD + Gamma-Gamma fit on its distinct triples, every customer's
// prediction written) on a store generated with SQL in a fresh database: N customers, about
// about 5 orders each over three years (first order uniform over the first 800 days, then orders
// at gaps of 20 to 140 days, some of them tests, cancelled or refunded). Target: 1,000,000
// customers (about 5,000,000 orders) in at most 60 s.
//
//   npm run bench:clv -- [--customers 1000000] [--runs 3]
import pg from "pg";
import { finishBench, freshDatabase, median, numberFlag, parseFlags, report, round, useAppEnvInThisProcess } from "./lib/common";

const flags = parseFlags();
const CUSTOMERS = numberFlag(flags, "customers", 1_000_000);
const RUNS = numberFlag(flags, "runs", 3);
const SHOP = "bench-clv.myshopify.com";

async function main() {
  const db = await freshDatabase("clv");
  // The refit's statements run over every order of the shop: the bench allows them 5 minutes
  // each (the app's default limit is 30 s per statement; see docs/analytics.md).
  await useAppEnvInThisProcess(db.url, { DATABASE_STATEMENT_TIMEOUT_MS: "300000", DATABASE_QUERY_TIMEOUT_MS: "305000", DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: "600000" });
  const { refitClv } = await import("../../app/services/analytics/clv.server");
  const { closeDb } = await import("../../app/db.server");
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const buildStarted = performance.now();
    await client.query(`SELECT setseed(0.15)`);
    await client.query(`INSERT INTO shops (domain, "ianaTimezone", "currencyCode") VALUES ($1, 'America/New_York', 'USD')`, [SHOP]);
    await client.query(
      `INSERT INTO customers (shop, gid, updated_at) SELECT $1, 'gid://shopify/Customer/' || g, now() FROM generate_series(1, $2::int) g`,
      [SHOP, CUSTOMERS],
    );
    await client.query(
      `INSERT INTO orders (shop, gid, legacy_id, customer_gid, currency, total_price_minor, refunded_minor, test, cancelled_at, shopify_created_at, shopify_updated_at)
       SELECT $1, 'gid://shopify/Order/' || o.id, o.id::text, 'gid://shopify/Customer/' || o.g, 'USD', o.total,
              CASE WHEN o.h % 20 = 0 THEN o.total / 2 ELSE 0 END, o.h % 97 = 0, CASE WHEN o.h % 53 = 0 THEN o.at END, o.at, o.at
         FROM (
           SELECT c.g, c.g::bigint * 64 + k AS id, (1500 + random() * 12000)::bigint AS total, (c.g * 31 + k * 7) AS h,
                  timestamptz '2023-01-01T15:00:00Z' + (c.first + k * c.gap * (0.5 + random())) * interval '1 day' AS at
             FROM (SELECT g, random() * 800 AS first, 1 + floor(-ln(1 - random()) * 4.5)::int AS n, 20 + random() * 120 AS gap
                     FROM generate_series(1, $2::int) g) c
             CROSS JOIN LATERAL generate_series(0, c.n - 1) k
         ) o
        WHERE o.at < timestamptz '2026-01-01T00:00:00Z'`,
      [SHOP, CUSTOMERS],
    );
    await client.query(`ANALYZE customers`);
    await client.query(`ANALYZE orders`);
    const counts = await client.query<{ orders: string }>(`SELECT count(*) AS orders FROM orders`);
    const buildMs = performance.now() - buildStarted;

    const asOf = new Date("2026-01-01T00:00:00Z");
    const runs: Array<{ total: number; summary: number; fit: number; score: number; vacuum: number; scored: number; triples: number; fitCustomers: number }> = [];
    let last: Awaited<ReturnType<typeof refitClv>> | null = null;
    for (let run = 0; run < RUNS; run++) {
      const result = await refitClv({ shop: SHOP, asOf });
      last = result;
      runs.push({ total: result.ms.total, summary: result.ms.summary, fit: result.ms.fit, score: result.ms.score, vacuum: result.ms.vacuum ?? 0, scored: result.scored, triples: result.triples, fitCustomers: result.fitCustomers });
    }
    const med = (key: "total" | "summary" | "fit" | "score" | "vacuum") => round(median(runs.map((r) => r[key])) / 1000, 2);
    const model = last!.model!;
    report(
      "clv",
      { customers: CUSTOMERS, orders: Number(counts.rows[0]!.orders), buildSeconds: round(buildMs / 1000, 1), runs: runs.map((r) => ({ ...r })), medianSeconds: { total: med("total"), summary: med("summary"), fit: med("fit"), score: med("score"), vacuum: med("vacuum") }, model },
      [
        `store: ${CUSTOMERS.toLocaleString("en-US")} customers, ${Number(counts.rows[0]!.orders).toLocaleString("en-US")} orders, built in ${round(buildMs / 1000, 1)} s`,
        `refit (summary + fit + scoring of every customer, one transaction), median of ${RUNS}: ${med("total")} s (summary ${med("summary")} s, fit ${med("fit")} s on ${runs[0]!.fitCustomers.toLocaleString("en-US")} customers / ${runs[0]!.triples.toLocaleString("en-US")} distinct summaries, scoring and writing ${med("score")} s); then VACUUM ${med("vacuum")} s`,
        `scored ${last!.scored.toLocaleString("en-US")} customers; model ${JSON.stringify(model.params)} spend ${JSON.stringify(model.spend)} (${model.method})`,
      ],
    );
  } finally {
    await client.end();
    await closeDb();
    await db.drop();
    await finishBench();
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
