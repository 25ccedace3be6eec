// Loyalty redemption benchmark (issue 5): redemptions per second against the Shopify twin,
// with zero double spends.
//   npm run bench:loyalty-redeem -- [--customers 1000] [--attempts 3] [--affordable 2] [--concurrency 16] [--runs 3] [--bucket 2000] [--restore 1000]
//
// Per run, a fresh shop (its program with one reward, its offline session, `customers`
// customers in the CRM and in the twin, each with points for exactly `affordable`
// redemptions) and `attempts` redemption attempts per customer, shuffled and sent by
// `concurrency` concurrent callers of redeemReward in this process (the app reaches the twin
// through SHOPIFY_TWIN_URL exactly as in the tests; the twin's cost bucket is --bucket points
// restoring --restore points/s, Shopify Plus by default). Attempts beyond what a customer can
// afford must be refused (conflict) while other attempts of the same customer are in flight.
//
// Verified after each run, per customer: discount codes in the twin == issued rows == debits
// (`redeem` entries) == `affordable`, no failed or pending redemption, and the balance never
// negative (points left = initial - issued x cost >= 0). Reported: issued redemptions per
// second (wall time of the whole run), attempts per second, latency of the issued ones.
import { startAdminTwin } from "../twin/admin-graphql";
import { generateStore } from "../twin/store-generator";
import { finishBench, freshDatabase, median, numberFlag, parseFlags, percentiles, prng, report, round, useAppEnvInThisProcess } from "./lib/common";

const flags = parseFlags();
const customers = numberFlag(flags, "customers", 1_000);
const attemptsPerCustomer = numberFlag(flags, "attempts", 3);
const affordable = numberFlag(flags, "affordable", 2);
const concurrency = numberFlag(flags, "concurrency", 16);
const runs = numberFlag(flags, "runs", 3);
const restoreRate = numberFlag(flags, "restore", 1_000);
const bucketSize = numberFlag(flags, "bucket", 2_000);
const TOKEN = "shpat_bench_loyalty_redeem";
const COST = 100;

type RunResult = {
  seconds: number;
  issuedPerSecond: number;
  attemptsPerSecond: number;
  issued: number;
  conflicts: number;
  otherErrors: number;
  latencyMs: { p50: number; p99: number; max: number };
  doubleSpends: number;
  mismatches: number;
};

async function main() {
  const db = await freshDatabase("redeem");
  const shops = Array.from({ length: runs }, (_, i) => `bench-redeem-${i}.myshopify.com`);
  const twin = await startAdminTwin({ accessTokens: Object.fromEntries(shops.map((s) => [s, TOKEN])), bucket: { maximumAvailable: bucketSize, restoreRate }, requestLog: null });
  await useAppEnvInThisProcess(db.url, { DATABASE_POOL_SIZE: String(concurrency + 4), SHOPIFY_TWIN_URL: twin.url });
  const { getPool, closeDb } = await import("../../app/db.server");
  const { saveProgram } = await import("../../app/services/loyalty/program.server");
  const { adjustPoints } = await import("../../app/services/loyalty/adjust.server");
  const { redeemReward } = await import("../../app/services/loyalty/rewards.server");
  const { LoyaltyError } = await import("../../app/services/loyalty/errors");
  const { getShopifyAdmin } = await import("../../app/shopify/admin-api.server");
  const pool = getPool();
  const results: RunResult[] = [];

  for (let run = 0; run < runs; run++) {
    const shop = shops[run]!;
    twin.shop(shop).loadStore(generateStore({ seed: 7 + run, customers, shopDomain: shop }), { maxOrders: 0 });
    const gids = twin.shop(shop).sortedIds("customers").map((id) => `gid://shopify/Customer/${id}`);
    await pool.query(`INSERT INTO "Session" (id, shop, state, "isOnline", scope, "accessToken") VALUES ($1, $2, '', false, 'write_discounts', $3)`, [`offline_${shop}`, shop, TOKEN]);
    await pool.query(`INSERT INTO customers (shop, gid) SELECT $1, g FROM unnest($2::text[]) g`, [shop, gids]);
    await saveProgram({
      shop,
      settings: { earn: { pointsPerUnit: 1 }, rewards: [{ id: "five-off", name: "$5 off", kind: "fixed_amount", value: "5.00", pointsCost: COST }] },
      actor: "bench",
      now: new Date(Date.now() - 60_000),
    });
    for (const gid of gids) await adjustPoints({ shop, customerGid: gid, points: COST * affordable, reason: "bench", actor: "bench" });
    await getShopifyAdmin(shop); // loads the Shopify library and the session outside the timing
    twin.setBucket({ maximumAvailable: bucketSize, restoreRate });

    // Attempts: each customer `attemptsPerCustomer` times, shuffled (deterministically).
    const random = prng(run + 1);
    const queue = gids.flatMap((g) => Array.from({ length: attemptsPerCustomer }, () => g));
    for (let i = queue.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [queue[i], queue[j]] = [queue[j]!, queue[i]!];
    }
    const latencies: number[] = [];
    let conflicts = 0;
    let otherErrors = 0;
    let nextIndex = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (nextIndex < queue.length) {
          const gid = queue[nextIndex++]!;
          const t0 = performance.now();
          try {
            const r = await redeemReward({ shop, customerGid: gid, rewardId: "five-off" });
            if (r.status === "issued") latencies.push(performance.now() - t0);
            else otherErrors++;
          } catch (error) {
            if (error instanceof LoyaltyError && error.kind === "conflict") conflicts++;
            else {
              otherErrors++;
              if (otherErrors <= 3) console.error(error);
            }
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;

    // Verification: the twin's codes, the rows and the ledger agree, customer by customer.
    const codesInTwin = new Map<string, number>();
    for (const d of twin.shop(shop).discounts.values())
      if ("customers" in d.context) for (const c of d.context.customers) codesInTwin.set(`gid://shopify/Customer/${c}`, (codesInTwin.get(`gid://shopify/Customer/${c}`) ?? 0) + 1);
    const { rows } = await pool.query<{ customer_gid: string; issued: string; other: string; debits: string; credits: string; balance: string; min_running: string }>(
      `WITH r AS (SELECT customer_gid, count(*) FILTER (WHERE status = 'issued') AS issued, count(*) FILTER (WHERE status <> 'issued') AS other
                    FROM loyalty_redemptions WHERE shop = $1 GROUP BY 1),
            l AS (SELECT customer_gid, count(*) FILTER (WHERE kind = 'redeem') AS debits, count(*) FILTER (WHERE kind = 'refund_redeem') AS credits, sum(points) AS balance
                    FROM loyalty_ledger WHERE shop = $1 GROUP BY 1),
            running AS (SELECT customer_gid, min(s) AS min_running FROM (SELECT customer_gid, sum(points) OVER (PARTITION BY customer_gid ORDER BY id) AS s FROM loyalty_ledger WHERE shop = $1) x GROUP BY 1)
       SELECT l.customer_gid, COALESCE(r.issued, 0) AS issued, COALESCE(r.other, 0) AS other, l.debits, l.credits, l.balance, running.min_running
         FROM l LEFT JOIN r USING (customer_gid) JOIN running USING (customer_gid)`,
      [shop],
    );
    let doubleSpends = 0;
    let mismatches = 0;
    for (const row of rows) {
      const issued = Number(row.issued);
      const twinCodes = codesInTwin.get(row.customer_gid) ?? 0;
      if (issued > affordable || Number(row.balance) < 0 || Number(row.min_running) < 0) doubleSpends++;
      if (twinCodes !== issued || Number(row.debits) !== issued || Number(row.other) !== 0 || Number(row.credits) !== 0 || issued !== affordable) mismatches++;
    }
    if (rows.length !== customers) mismatches += Math.abs(customers - rows.length);
    const p = percentiles(Float64Array.from(latencies));
    results.push({
      seconds: round(seconds, 2),
      issuedPerSecond: round(latencies.length / seconds, 1),
      attemptsPerSecond: round(queue.length / seconds, 1),
      issued: latencies.length,
      conflicts,
      otherErrors,
      latencyMs: { p50: round(p.p50, 1), p99: round(p.p99, 1), max: round(p.max, 1) },
      doubleSpends,
      mismatches,
    });
    process.stderr.write(`run ${run + 1}/${runs}: ${JSON.stringify(results[results.length - 1])}\n`);
  }

  const med = (f: (r: RunResult) => number) => round(median(results.map(f)), 1);
  const summary = {
    command: `npm run bench:loyalty-redeem -- --customers ${customers} --attempts ${attemptsPerCustomer} --affordable ${affordable} --concurrency ${concurrency} --runs ${runs} --bucket ${bucketSize} --restore ${restoreRate}`,
    data: { customers, attemptsPerCustomer, affordablePerCustomer: affordable, attempts: customers * attemptsPerCustomer, expectedIssued: customers * affordable, concurrency, bucket: { maximumAvailable: bucketSize, restoreRate } },
    median: {
      issuedPerSecond: med((r) => r.issuedPerSecond),
      attemptsPerSecond: med((r) => r.attemptsPerSecond),
      seconds: med((r) => r.seconds),
      latencyP50Ms: med((r) => r.latencyMs.p50),
      latencyP99Ms: med((r) => r.latencyMs.p99),
    },
    doubleSpends: results.reduce((n, r) => n + r.doubleSpends, 0),
    mismatches: results.reduce((n, r) => n + r.mismatches, 0),
    otherErrors: results.reduce((n, r) => n + r.otherErrors, 0),
    runs: results,
  };
  report("loyalty-redeem", summary, [
    `${customers} customers x ${attemptsPerCustomer} attempts (points for ${affordable} each), concurrency ${concurrency}, bucket ${bucketSize} restoring ${restoreRate}/s, median of ${runs} run(s)`,
    `issued redemptions/s: ${summary.median.issuedPerSecond} (attempts/s ${summary.median.attemptsPerSecond}), latency p50 ${summary.median.latencyP50Ms} ms, p99 ${summary.median.latencyP99Ms} ms`,
    `double spends: ${summary.doubleSpends}, mismatches (codes in twin vs issued rows vs debits): ${summary.mismatches}, other errors: ${summary.otherErrors}`,
  ]);
  await closeDb();
  await twin.close();
  await db.drop();
  await finishBench();
  if (summary.doubleSpends || summary.mismatches || summary.otherErrors) process.exitCode = 1;
}

main().catch(async (error: unknown) => {
  console.error(error);
  await finishBench().catch(() => undefined);
  process.exit(1);
});
