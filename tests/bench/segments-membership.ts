// Stored segment membership on a 1,000,000-customer store (database crm_bench_segments,
// built or reused by tests/bench/lib/segment-store.ts):
//  1. full recompute with the entry/exit delta (recomputeSegment: two phases, history rows,
//     member_count) versus a hand-written diff refresh of the same conditions into a plain
//     table, in the same run after the same drift (median of --runs, and their ratio);
//  2. the webhook worker's hook: one customer re-evaluated against 50 segments, inside a
//     transaction that changed it (p50/p99 over --samples), and the same hook for a shop
//     without segments.
// Customers it changes are restored at the end, and its segments removed, so the store stays
// as built for the other segment benchmarks.
//
//   npm run bench:segments-membership -- [--runs 5] [--samples 2000] [--drift 10000] [--customers 1000000] [--rebuild]
//                                       [--database crm_bench_segments]
import pg from "pg";
import { databaseUrl, median, numberFlag, parseFlags, percentiles, prng, report, round } from "./lib/common";
import { buildSegmentBenchStore } from "./lib/segment-store";
import { TEST_API_KEY, TEST_API_SECRET, TEST_APP_URL, TEST_SESSION_ENCRYPTION_KEY } from "../support/env";

const flags = parseFlags();
const DATABASE = flags.database ?? "crm_bench_segments";
const RUNS = numberFlag(flags, "runs", 5);
const SAMPLES = numberFlag(flags, "samples", 2000);
const DRIFT = numberFlag(flags, "drift", 10_000);
const CUSTOMERS = numberFlag(flags, "customers", 1_000_000);
const EMPTY_SHOP = "bench-no-segments.myshopify.com";

// The app's modules read the environment when first used: point them at the bench database.
Object.assign(process.env, {
  NODE_ENV: "production",
  DATABASE_URL: databaseUrl(DATABASE),
  REDIS_URL: "redis://127.0.0.1:6379/14",
  SHOPIFY_API_KEY: TEST_API_KEY,
  SHOPIFY_API_SECRET: TEST_API_SECRET,
  SHOPIFY_APP_URL: TEST_APP_URL,
  SESSION_ENCRYPTION_KEY: TEST_SESSION_ENCRYPTION_KEY,
  LOG_LEVEL: "warn",
  DATABASE_STATEMENT_TIMEOUT_MS: "590000",
  DATABASE_QUERY_TIMEOUT_MS: "600000",
});
const { closeDb, getPool, withTransaction } = await import("../../app/db.server");
const { logger } = await import("../../app/logger.server");
const { createSegment, recomputeSegment } = await import("../../app/services/segments/segments.server");
const { reevaluateSegmentsForCustomers } = await import("../../app/services/segments/reevaluate.server");
const { recomputeShopRfm } = await import("../../app/services/segments/rfm.server");
logger.level = "warn";

const log = (message: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);

/** Keeps the original aggregates of customers the benchmark changes, to restore them. */
async function saveCustomers(db: Pick<pg.PoolClient, "query">, shop: string, where: string, values: unknown[]): Promise<void> {
  await db.query(
    `INSERT INTO bench_membership_saved (id, total_spent_minor, orders_count, last_order_at)
     SELECT id, total_spent_minor, orders_count, last_order_at FROM customers WHERE shop = $1 AND ${where}
     ON CONFLICT (id) DO NOTHING`,
    [shop, ...values],
  );
}

async function restoreStore(shop: string, builtAt: Date): Promise<number> {
  const db = getPool();
  const { rowCount } = await db.query(
    `UPDATE customers c SET total_spent_minor = s.total_spent_minor, orders_count = s.orders_count, last_order_at = s.last_order_at
       FROM bench_membership_saved s WHERE c.id = s.id`,
  );
  await db.query(`DROP TABLE IF EXISTS bench_membership_saved`);
  await db.query(`DROP TABLE IF EXISTS bench_hand_members`);
  await db.query(`TRUNCATE segments, segment_members, segment_membership_changes, segment_shop_versions`);
  await recomputeShopRfm(db, shop, builtAt);
  return rowCount ?? 0;
}

// The 50 segments of the hook benchmark; the first is the recompute benchmark's segment.
const PRIMARY = "amount_spent > 100 AND last_order_date > -90d AND number_of_orders >= 2";
const SEGMENT_QUERIES: string[] = [
  PRIMARY,
  "customer_tags CONTAINS 'vip'",
  "customer_tags CONTAINS 'wholesale' AND amount_spent > 50",
  "customer_email_domain = 'gmail.com'",
  "customer_countries CONTAINS 'DE'",
  "email_subscription_status = 'SUBSCRIBED' AND number_of_orders >= 1",
  "number_of_orders = 0",
  "number_of_orders >= 3",
  "average_order_value > 150",
  "refund_rate > 0.1",
  "first_order_date > -365d",
  "last_order_date < -180d",
  "last_order_date BETWEEN -60d AND -30d",
  "customer_added_date > -90d",
  "rfm_group = 'champions'",
  "rfm_group = 'at_risk' OR rfm_group = 'almost_lost'",
  "products_purchased(product_type: 'Shoes') = true",
  "products_purchased(product_type: 'Hats', date: -90d) = true",
  "products_purchased(tag: 'sale') = true AND amount_spent > 100",
  "products_purchased(product_id: 8000000000017, quantity: 2) = true",
  "orders_placed(count_at_least: 2, date: -1y) = true",
  "orders_placed(count_at_least: 1, date: -30d) = true",
  "NOT (customer_tags CONTAINS 'vip') AND amount_spent > 200",
  "(customer_countries CONTAINS 'US' OR customer_countries CONTAINS 'CA') AND amount_spent > 250",
  "customer_email_domain = 'shop.de' AND last_order_date > -30d",
];
for (let i = 0; SEGMENT_QUERIES.length < 50; i++) {
  SEGMENT_QUERIES.push(
    [
      `amount_spent > ${20 + i * 13}`,
      `amount_spent BETWEEN ${10 + i * 7} AND ${200 + i * 11} AND number_of_orders >= ${1 + (i % 3)}`,
      `last_order_date > -${10 + i * 9}d AND customer_countries CONTAINS '${["US", "DE", "FR", "GB", "CA"][i % 5]}'`,
      `products_purchased(product_type: '${["Shoes", "Shirts", "Bags", "Socks", "Belts"][i % 5]}', date: -${30 + i * 10}d) = true`,
      `average_order_value < ${40 + i * 5} AND customer_tags CONTAINS 'wholesale'`,
    ][i % 5]!,
  );
}

async function setUpSegments(shop: string, now: Date): Promise<{ ids: string[]; createMs: number[] }> {
  const db = getPool();
  await db.query(`TRUNCATE segments, segment_members, segment_membership_changes, segment_shop_versions`);
  await db.query(`DROP TABLE IF EXISTS bench_hand_members`);
  await db.query(`CREATE TABLE IF NOT EXISTS bench_membership_saved (id bigint PRIMARY KEY, total_spent_minor bigint, orders_count int, last_order_at timestamptz)`);
  let started = 0;
  const ids: string[] = [];
  const createMs: number[] = [];
  for (const [i, query] of SEGMENT_QUERIES.entries()) {
    started = performance.now();
    const { segment } = await createSegment({ shop, name: `bench ${String(i).padStart(2, "0")}`, query, now });
    createMs.push(performance.now() - started);
    ids.push(segment.id);
    if (i % 10 === 9) log(`created ${i + 1} segments (last: ${round(createMs.at(-1)!, 0)} ms, ${segment.memberCount} members)`);
  }
  await db.query(`VACUUM ANALYZE segment_members`);
  await db.query(`VACUUM ANALYZE segment_membership_changes`);
  return { ids, createMs };
}

/** The hand-written diff refresh of PRIMARY into a plain table (no history, no counts). */
const HAND_DIFF = `
  WITH fresh AS MATERIALIZED (
    SELECT c.gid FROM customers c
     WHERE c.shop = $1 AND c.deleted_at IS NULL AND c.redacted_at IS NULL
       AND c.total_spent_minor > 10000 AND c.orders_count >= 2
       AND c.last_order_at >= ((($2::timestamptz AT TIME ZONE 'UTC')::date - 89)::timestamp AT TIME ZONE 'UTC')
  ),
  gone AS (DELETE FROM bench_hand_members h WHERE NOT EXISTS (SELECT 1 FROM fresh f WHERE f.gid = h.customer_gid) RETURNING 1),
  came AS (INSERT INTO bench_hand_members (customer_gid) SELECT f.gid FROM fresh f
            WHERE NOT EXISTS (SELECT 1 FROM bench_hand_members h WHERE h.customer_gid = f.gid) RETURNING 1)
  SELECT (SELECT count(*)::int FROM came) AS entered, (SELECT count(*)::int FROM gone) AS exited`;

async function handDiff(shop: string, now: Date): Promise<{ entered: number; exited: number }> {
  return withTransaction(async (db) => {
    // The same settings as recomputeSegment's transaction.
    await db.query(`SET LOCAL work_mem = '64MB'; SET LOCAL jit = off`);
    return (await db.query<{ entered: number; exited: number }>(HAND_DIFF, [shop, now])).rows[0]!;
  });
}

async function benchRecompute(shop: string, segmentId: string, now: Date) {
  const db = getPool();
  await db.query(`CREATE TABLE bench_hand_members (customer_gid text PRIMARY KEY)`);
  await db.query(`INSERT INTO bench_hand_members SELECT customer_gid FROM segment_members WHERE segment_id = $1`, [segmentId]);
  await db.query(`VACUUM ANALYZE bench_hand_members`);
  const random = prng(42);
  const ours: number[] = [];
  const hand: number[] = [];
  const deltas: { entered: number; exited: number; candidates: number }[] = [];
  for (let run = 0; run < RUNS; run++) {
    // Drift: DRIFT customers' spend changes behind the segments' back.
    const offset = Math.floor(random() * CUSTOMERS);
    const drifted = `id IN (SELECT id FROM customers WHERE shop = $1 ORDER BY hashint8(id + $3) LIMIT $2)`;
    await saveCustomers(db, shop, drifted, [DRIFT, offset]);
    await db.query(
      `UPDATE customers SET total_spent_minor = (hashint8(id + $3) & 65535) % 40000
        WHERE shop = $1 AND id IN (SELECT id FROM customers WHERE shop = $1 ORDER BY hashint8(id + $3) LIMIT $2)`,
      [shop, DRIFT, offset],
    );
    const measure = async (which: "ours" | "hand") => {
      const started = performance.now();
      if (which === "ours") {
        const r = await recomputeSegment(shop, segmentId, "refresh", { now });
        deltas.push({ entered: r.entered, exited: r.exited, candidates: r.candidates });
        ours.push(performance.now() - started);
      } else {
        await handDiff(shop, now);
        hand.push(performance.now() - started);
      }
    };
    // Alternate the order so neither always runs on a warmer cache.
    if (run % 2 === 0) {
      await measure("ours");
      await measure("hand");
    } else {
      await measure("hand");
      await measure("ours");
    }
    const mismatch = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (
         (SELECT customer_gid FROM segment_members WHERE segment_id = $1 EXCEPT SELECT customer_gid FROM bench_hand_members)
         UNION ALL
         (SELECT customer_gid FROM bench_hand_members EXCEPT SELECT customer_gid FROM segment_members WHERE segment_id = $1)) d`,
      [segmentId],
    );
    if (mismatch.rows[0]!.n !== 0) throw new Error(`run ${run}: stored membership and the hand-written diff differ by ${mismatch.rows[0]!.n} customers`);
    log(`recompute run ${run + 1}/${RUNS}: ours ${round(ours.at(-1)!, 0)} ms, hand ${round(hand.at(-1)!, 0)} ms, delta ${JSON.stringify(deltas.at(-1))}`);
  }
  const count = await db.query<{ stored: number; actual: number }>(
    `SELECT member_count AS stored, (SELECT count(*)::int FROM segment_members WHERE segment_id = $1) AS actual FROM segments WHERE id = $1`,
    [segmentId],
  );
  if (count.rows[0]!.stored !== count.rows[0]!.actual) throw new Error(`member_count ${count.rows[0]!.stored} != ${count.rows[0]!.actual}`);
  return { ours, hand, deltas, members: count.rows[0]!.actual };
}

async function benchHook(shop: string, now: Date) {
  const db = getPool();
  const { rows } = await db.query<{ gid: string }>(
    `SELECT gid FROM customers WHERE shop = $1 ORDER BY hashint8(id) LIMIT $2`,
    [shop, SAMPLES + 100],
  );
  const random = prng(7);
  const hook: number[] = [];
  const empty: number[] = [];
  let changes = 0;
  await saveCustomers(db, shop, `gid = ANY($2)`, [rows.map((r) => r.gid)]);
  for (const [i, { gid }] of rows.entries()) {
    const timing = await withTransaction(async (tx) => {
      // What applying an order event does before the hook: read the customer's orders to
      // recompute its aggregates (app/services/crm-store.server.ts), then write them.
      await tx.query(`SELECT count(*), sum(total_price_minor), max(shopify_created_at) FROM orders WHERE shop = $1 AND customer_gid = $2`, [shop, gid]);
      await tx.query(
        `UPDATE customers SET total_spent_minor = total_spent_minor + $3, orders_count = orders_count + 1, last_order_at = $4 WHERE shop = $1 AND gid = $2`,
        [shop, gid, Math.floor(random() * 20000), now],
      );
      const started = performance.now();
      const result = await reevaluateSegmentsForCustomers(tx, shop, [gid], { kind: "event", inboxId: String(i) }, { now });
      const ms = performance.now() - started;
      const emptyStarted = performance.now();
      await reevaluateSegmentsForCustomers(tx, EMPTY_SHOP, [gid], { kind: "event" }, { now });
      return { ms, emptyMs: performance.now() - emptyStarted, changed: result.entered + result.exited };
    });
    if (i < 100) continue; // warm-up: connections prepare their statements
    hook.push(timing.ms);
    empty.push(timing.emptyMs);
    changes += timing.changed;
  }
  return { hook, empty, changes };
}

async function main() {
  const store = await buildSegmentBenchStore({ customers: CUSTOMERS, rebuild: flags.rebuild === "true", database: DATABASE });
  log(`store: ${store.customers} customers, ${store.orders} orders (${store.built ? "built now" : "reused"})`);
  // The store's dates are relative to when it was built.
  const now = store.builtAt;
  let results;
  try {
    const { ids, createMs } = await setUpSegments(store.shop, now);
    const recompute = await benchRecompute(store.shop, ids[0]!, now);
    const hook = await benchHook(store.shop, now);
    results = { ids, createMs, recompute, hook };
  } finally {
    log(`restored ${await restoreStore(store.shop, store.builtAt)} customers and removed the benchmark's segments`);
  }
  const { ids, createMs, recompute, hook } = results;
  const oursMedian = median(recompute.ours);
  const handMedian = median(recompute.hand);
  const hookP = percentiles(hook.hook);
  const emptyP = percentiles(hook.empty);
  report(
    "segments-membership",
    {
      store: { database: store.database, shop: store.shop, customers: store.customers, orders: store.orders, lineItems: store.lineItems, reused: !store.built },
      runs: RUNS,
      drift: DRIFT,
      recompute: { oursMs: recompute.ours.map((v) => round(v, 1)), handMs: recompute.hand.map((v) => round(v, 1)), deltas: recompute.deltas, members: recompute.members },
      createMs: { median: round(median(createMs), 1), max: round(Math.max(...createMs), 1) },
      hook: { samples: hook.hook.length, segments: ids.length, ms: hookP, membershipChanges: hook.changes },
      hookWithoutSegments: { ms: emptyP },
    },
    [
      `store: ${store.customers.toLocaleString("en")} customers, ${store.orders.toLocaleString("en")} orders; ${ids.length} segments`,
      `full recompute with delta (${PRIMARY}; ${recompute.members.toLocaleString("en")} members, drift ${DRIFT} customers/run):`,
      `  median ${round(oursMedian, 0)} ms (target <= 1500) vs hand-written diff ${round(handMedian, 0)} ms: ratio ${round(oursMedian / handMedian, 2)} (${RUNS} runs)`,
      `  deltas per run: ${recompute.deltas.map((d) => `+${d.entered}/-${d.exited}`).join(", ")}`,
      `create (full recompute from empty, 50 segments): median ${round(median(createMs), 0)} ms, max ${round(Math.max(...createMs), 0)} ms`,
      `hook, 1 customer x ${ids.length} segments: p50 ${hookP.p50} ms, p99 ${hookP.p99} ms, max ${hookP.max} ms (target p99 <= 5) over ${hook.hook.length} events, ${hook.changes} membership changes`,
      `hook, shop without segments: p50 ${emptyP.p50} ms, p99 ${emptyP.p99} ms`,
    ],
  );
}

try {
  await main();
} finally {
  await closeDb();
}
