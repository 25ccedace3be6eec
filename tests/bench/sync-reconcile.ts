// Reconciliation benchmark (issue 13, decision 048): a full reconciliation (no watermark yet)
// of N customers the CRM already holds unchanged, through the Shopify twin with the standard
// cost bucket (1,000 points, 100 points/s restore: a non-Plus shop).
//   npm run bench:sync-reconcile -- [--customers 2000] [--bucket 1000] [--restore 100]
// Reports the wall time, Admin requests, THROTTLED answers, points spent (the twin's
// actualQueryCost), points per customer and the time a run of 100,000 customers takes at the
// restore rate (points / rate), and checks that nothing was repaired (every customer unchanged).
// Full size: --customers 100000 (about 17 minutes at 100 points/s).
import { startAdminTwin, type GraphQLRequest, type GraphQLResponseBody } from "../twin/admin-graphql";
import { generateStore } from "../twin/store-generator";
import { finishBench, freshDatabase, numberFlag, parseFlags, report, round, useAppEnvInThisProcess } from "./lib/common";

const flags = parseFlags();
const customers = numberFlag(flags, "customers", 2_000);
const bucketSize = numberFlag(flags, "bucket", 1_000);
const restoreRate = numberFlag(flags, "restore", 100);
const SHOP = "bench-sync-reconcile.myshopify.com";
const TOKEN = "shpat_bench_sync_reconcile";

async function main() {
  const store = generateStore({ seed: 5, customers, shopDomain: SHOP });
  const db = await freshDatabase("reconcile");
  const twin = await startAdminTwin({ accessTokens: { [SHOP]: TOKEN }, bucket: { maximumAvailable: bucketSize, restoreRate }, requestLog: null });
  twin.shop(SHOP).loadStore(store, { maxOrders: 0 });
  let points = 0;
  let throttled = 0;
  const execute = twin.executeRequest.bind(twin);
  twin.executeRequest = (domain: string, body: GraphQLRequest, options?: { apiVersion?: string; chargeCost?: boolean }): GraphQLResponseBody => {
    const result = execute(domain, body, options);
    const cost = (result.extensions as { cost?: { actualQueryCost?: number | null } } | undefined)?.cost;
    points += cost?.actualQueryCost ?? 0;
    if ((result.errors as { extensions?: { code?: string } }[] | undefined)?.some((e) => e.extensions?.code === "THROTTLED")) throttled++;
    return result;
  };
  await useAppEnvInThisProcess(db.url, { SHOPIFY_TWIN_URL: twin.url });
  const { getPool, closeDb } = await import("../../app/db.server");
  const { reconcileShop } = await import("../../app/services/sync/reconcile.server");
  const pool = getPool();
  await pool.query(`INSERT INTO "Session" (id, shop, state, "isOnline", scope, "accessToken") VALUES ($1, $2, '', false, 'read_customers', $3)`, [`offline_${SHOP}`, SHOP, TOKEN]);
  // The CRM holds every customer as Shopify does (what the comparison reads).
  const rows = [...twin.shop(SHOP).customers.values()].map((c) => ({
    gid: `gid://shopify/Customer/${c.id}`,
    updated: c.updatedAt,
    tags: c.tags,
    consent: c.email && c.emailMarketing.state !== "NOT_SUBSCRIBED" ? c.emailMarketing.state.toLowerCase() : null,
  }));
  for (let i = 0; i < rows.length; i += 5_000) {
    await pool.query(
      `INSERT INTO customers (shop, gid, shopify_updated_at, tags, email_marketing_state)
       SELECT $1, x.gid, x.updated, ARRAY(SELECT jsonb_array_elements_text(x.tags)), x.consent
         FROM jsonb_to_recordset($2::jsonb) AS x(gid text, updated timestamptz, tags jsonb, consent text)`,
      [SHOP, JSON.stringify(rows.slice(i, i + 5_000))],
    );
  }
  const started = performance.now();
  const result = await reconcileShop({ shop: SHOP });
  const seconds = (performance.now() - started) / 1000;
  const perCustomer = points / customers;
  const summary = {
    customers,
    bucket: { maximumAvailable: bucketSize, restoreRate },
    seconds: round(seconds, 1),
    checked: result.checked,
    repaired: result.repaired,
    pointsSpent: points,
    pointsPerCustomer: round(perCustomer, 3),
    throttled,
    secondsFor100kAtRestoreRate: round((perCustomer * 100_000) / restoreRate, 0),
  };
  report("sync-reconcile", summary, [
    `${customers} unchanged customers checked in ${summary.seconds} s, ${result.repaired} repaired, ${throttled} THROTTLED answers`,
    `${points} points (${summary.pointsPerCustomer} per customer): 100,000 customers take about ${summary.secondsFor100kAtRestoreRate} s at ${restoreRate} points/s`,
  ]);
  await closeDb();
  await twin.close();
  await db.drop();
  if (result.repaired !== 0) process.exitCode = 1;
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => void finishBench());
