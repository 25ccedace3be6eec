// Calibration of the predictions on a held-back year of a generated store (issue 15): the
// store of tests/twin/store-generator.ts (its buyers do NOT follow the BG/NBD assumptions: they
// are drawn as one-off, occasional and heavy buyers with seasonality and growth) is loaded into
// a fresh database; the model is fitted on the orders before the cut (asOf) exactly as the
// refit job does, and each customer's expected orders in the next 12 months are compared with
// the order days they actually had in the held-back 12 months, grouped by their number of
// repeat order days before the cut (Fader, Hardie and Lee 2005, figure 4 style).
//
//   npm run bench:clv-calibration -- [--customers 20000] [--seed 15] [--repeat-factor 1]
import pg from "pg";
import { generateStore } from "../twin/store-generator";
import { finishBench, freshDatabase, numberFlag, parseFlags, report, round, useAppEnvInThisProcess } from "./lib/common";

const flags = parseFlags();
const CUSTOMERS = numberFlag(flags, "customers", 20_000);
const SEED = numberFlag(flags, "seed", 15);
const REPEAT = numberFlag(flags, "repeat-factor", 1);
const START = "2023-01-01T00:00:00Z";
const CUT = "2025-01-01T00:00:00Z";
const END = "2026-01-01T00:00:00Z";

async function main() {
  const store = generateStore({ seed: SEED, customers: CUSTOMERS, start: START, end: END, repeatFactor: REPEAT, shopDomain: "calibration.myshopify.com" });
  const shop = store.shopDomain;
  const db = await freshDatabase("clvcal");
  await useAppEnvInThisProcess(db.url, { DATABASE_STATEMENT_TIMEOUT_MS: "300000", DATABASE_QUERY_TIMEOUT_MS: "305000", DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: "600000" });
  const { refitClv } = await import("../../app/services/analytics/clv.server");
  const { closeDb } = await import("../../app/db.server");
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(`INSERT INTO shops (domain, "ianaTimezone", "currencyCode") VALUES ($1, 'UTC', 'USD')`, [shop]);
    await client.query(`INSERT INTO customers (shop, gid) SELECT $1, 'gid://shopify/Customer/' || id FROM unnest($2::text[]) id`, [shop, [...store.customers()].map((c) => c.id.toString())]);
    let batch: Array<[string, string, number, number, boolean, string | null, string]> = [];
    const flush = async () => {
      if (batch.length === 0) return;
      await client.query(
        `INSERT INTO orders (shop, gid, legacy_id, customer_gid, currency, total_price_minor, refunded_minor, test, cancelled_at, shopify_created_at, shopify_updated_at)
         SELECT $1, 'gid://shopify/Order/' || id, id, c, 'USD', tot, ref, t, canc, at, at
           FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bool[], $7::timestamptz[], $8::timestamptz[]) AS u(id, c, tot, ref, t, canc, at)`,
        [shop, batch.map((o) => o[0]), batch.map((o) => o[1]), batch.map((o) => o[2]), batch.map((o) => o[3]), batch.map((o) => o[4]), batch.map((o) => o[5]), batch.map((o) => o[6])],
      );
      batch = [];
    };
    let orders = 0;
    for (const o of store.orders()) {
      if (o.customerId === null) continue;
      orders++;
      const refunded = o.refunds.reduce((n, r) => n + r.amountCents, 0);
      batch.push([o.id.toString(), `gid://shopify/Customer/${o.customerId}`, o.totalCents, refunded, o.test, o.cancel?.at ?? null, o.createdAt]);
      if (batch.length >= 10_000) await flush();
    }
    await flush();
    await client.query(`ANALYZE orders`);

    const fit = await refitClv({ shop, asOf: new Date(CUT) });
    // Actual order days in the held-back year, per customer scored at the cut, by their x.
    const rows = await client.query<{ x: number; customers: string; predicted: number; actual: string }>(
      `WITH calib AS (
         SELECT c.id, c.gid, count(DISTINCT (o.shopify_created_at AT TIME ZONE 'UTC')::date) - 1 AS x
           FROM customers c JOIN orders o ON o.shop = c.shop AND o.customer_gid = c.gid
          WHERE c.shop = $1 AND NOT o.test AND o.cancelled_at IS NULL AND o.shopify_created_at < $2
          GROUP BY c.id, c.gid
       ),
       holdout AS (
         SELECT calib.id, count(DISTINCT (o.shopify_created_at AT TIME ZONE 'UTC')::date) AS days
           FROM calib JOIN orders o ON o.shop = $1 AND o.customer_gid = calib.gid
          WHERE NOT o.test AND o.cancelled_at IS NULL AND o.shopify_created_at >= $2 AND o.shopify_created_at < $3
          GROUP BY calib.id
       )
       SELECT least(calib.x, 7)::int AS x, count(*) AS customers, sum(p.expected_orders_12m)::float8 AS predicted, coalesce(sum(h.days), 0) AS actual
         FROM calib JOIN customer_predictions p ON p.shop = $1 AND p.customer_id = calib.id
         LEFT JOIN holdout h ON h.id = calib.id
        GROUP BY 1 ORDER BY 1`,
      [shop, CUT, END],
    );
    const groups = rows.rows.map((r) => ({ x: r.x === 7 ? "7+" : String(r.x), customers: Number(r.customers), predictedPerCustomer: round(r.predicted / Number(r.customers), 3), actualPerCustomer: round(Number(r.actual) / Number(r.customers), 3) }));
    const predicted = rows.rows.reduce((s, r) => s + r.predicted, 0);
    const actual = rows.rows.reduce((s, r) => s + Number(r.actual), 0);
    report(
      "clv-calibration",
      { customers: CUSTOMERS, seed: SEED, repeatFactor: REPEAT, orders, cut: CUT, holdoutEnd: END, model: fit.model, totals: { predicted: round(predicted, 1), actual }, groups },
      [
        `generated store: ${CUSTOMERS.toLocaleString("en-US")} customers (seed ${SEED}, repeat factor ${REPEAT}), ${orders.toLocaleString("en-US")} customer orders ${START.slice(0, 10)} to ${END.slice(0, 10)}; fitted on orders before ${CUT.slice(0, 10)} (${fit.model!.customers.toLocaleString("en-US")} customers, ${fit.model!.method})`,
        `held-back year: predicted ${round(predicted, 1)} order days, actual ${actual} (${round((100 * (predicted - actual)) / Math.max(1, actual), 1)}%)`,
        ...groups.map((g) => `  x = ${g.x}: ${g.customers} customers, predicted ${g.predictedPerCustomer} per customer, actual ${g.actualPerCustomer}`),
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
