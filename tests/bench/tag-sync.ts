// Tag sync benchmark (issue 4): a 10,000-customer tag change through the Shopify twin.
//   npm run bench:tag-sync -- [--customers 10000] [--runs 3] [--restore 1000] [--bucket 2000] [--rtt-ms 0] [--skip-sequential] [--in-flight N]
//
// Per run, on a fresh database and a fresh twin (in this process; the app reaches it through
// SHOPIFY_TWIN_URL exactly as in the tests) with `customers` customers, a segment with all
// of them as members, and the twin's cost bucket set to --bucket points restoring --restore
// points/s (Shopify Plus: 2,000 / 1,000; Standard 100/s would make 10,000 writes take 17 min):
//  1. writer, paced path: reconcile, then the writer drains the outbox one tagsAdd per
//     customer (bulk threshold above the change): time, THROTTLED answers, and the share of
//     the bucket's restore rate it used = (points spent - points the bucket gave up) / (rate x time);
//  2. sequential baseline: one tagsAdd per customer in sequence through the same adapter,
//     waiting out each THROTTLED answer for what its throttleStatus says is missing;
//  3. bulk path: the same size of change with the default threshold (1,000): stagedUploadsCreate,
//     JSONL upload, bulkOperationRunMutation, followed to completion, each line recorded.
// Every path is verified on the twin's state: every customer carries the tag, and the twin
// applied exactly one tagsAdd per customer (counted inside the twin, bulk lines included):
// lost = customers without it, duplicated = customers it was applied to more than once.
// --rtt-ms adds that much latency to every Admin GraphQL request (the app's fetch waits before
// sending), to show the latency-bound case of the sequential baseline (real Shopify is tens
// of ms away). Staged uploads and result files go straight to the twin.
import { AdminTwin, startAdminTwin, type GraphQLRequest, type GraphQLResponseBody } from "../twin/admin-graphql";
import { generateStore } from "../twin/store-generator";
import { finishBench, freshDatabase, median, numberFlag, parseFlags, report, round, sleep, useAppEnvInThisProcess } from "./lib/common";

const flags = parseFlags();
const customers = numberFlag(flags, "customers", 10_000);
const runs = numberFlag(flags, "runs", 3);
const restoreRate = numberFlag(flags, "restore", 1_000);
const bucketSize = numberFlag(flags, "bucket", 2_000);
const rttMs = numberFlag(flags, "rtt-ms", 0);
const skipSequential = flags["skip-sequential"] === "true";
const inFlight = flags["in-flight"] === undefined ? undefined : numberFlag(flags, "in-flight", 8);
const SHOP = "bench-tag-sync.myshopify.com";
const TOKEN = "shpat_bench_tag_sync";
const WRITE_COST = 10;

/** Counts applied tagsAdd per customer and tag inside the twin (paced requests and bulk lines alike). */
function countApplied(twin: AdminTwin) {
  const applied = new Map<string, number>();
  const execute = twin.executeRequest.bind(twin);
  twin.executeRequest = (domain: string, body: GraphQLRequest, options?: { apiVersion?: string; chargeCost?: boolean }): GraphQLResponseBody => {
    const result = execute(domain, body, options);
    const payload = result.data?.tagsAdd as { node?: unknown } | null | undefined;
    const vars = body.variables as { id?: string; tags?: string[] } | undefined;
    if (payload?.node && vars?.id) for (const t of vars.tags ?? []) applied.set(`${vars.id}|${t}`, (applied.get(`${vars.id}|${t}`) ?? 0) + 1);
    return result;
  };
  return applied;
}

type PathResult = { seconds: number; writesPerSecond: number; lost: number; duplicated: number; throttled: number; share?: number; requests?: number };

async function main() {
  const store = generateStore({ seed: 5, customers, shopDomain: SHOP });
  const results: { writer: PathResult; sequential: PathResult | null; bulk: PathResult }[] = [];

  // One database and one twin for all runs (each run syncs new tags through new segments).
  const db = await freshDatabase("tagsync");
  const twin = await startAdminTwin({ accessTokens: { [SHOP]: TOKEN }, bucket: { maximumAvailable: bucketSize, restoreRate }, bulkDelayMs: 10, requestLog: null });
  twin.shop(SHOP).loadStore(store, { maxOrders: 0 });
  const applied = countApplied(twin);
  await useAppEnvInThisProcess(db.url, { SHOPIFY_TWIN_URL: twin.url });
  const { getPool, closeDb } = await import("../../app/db.server");
  const { reconcileSegmentTagSync } = await import("../../app/services/tag-sync/reconcile.server");
  const { drainShop } = await import("../../app/services/tag-sync/writer.server");
  const { getShopifyAdmin, ShopifyAdminError } = await import("../../app/shopify/admin-api.server");
  const { createTwinFetch } = await import("../../app/shopify/twin-fetch.server");
  const { setAbstractFetchFunc } = await import("@shopify/shopify-api/runtime");

  const pool = getPool();
  const gids = twin.shop(SHOP).sortedIds("customers").map((id) => `gid://shopify/Customer/${id}`);
  await pool.query(`INSERT INTO "Session" (id, shop, state, "isOnline", scope, "accessToken") VALUES ($1, $2, '', false, 'write_customers', $3)`, [`offline_${SHOP}`, SHOP, TOKEN]);
  await pool.query(`INSERT INTO customers (shop, gid) SELECT $1, g FROM unnest($2::text[]) g`, [SHOP, gids]);

  // Loads the Shopify app (which installs the fetch to the twin), then, with --rtt-ms, a fetch
  // that waits that long before each Admin request: network latency without extra CPU.
  await getShopifyAdmin(SHOP);
  if (rttMs > 0) {
    const toTwin = createTwinFetch(twin.url);
    setAbstractFetchFunc(async (input: string | URL | Request, init?: RequestInit) => {
      await sleep(rttMs);
      return toTwin(input, init);
    });
  }

  for (let run = 0; run < runs; run++) {
    const verify = (tag: string) => {
      let lost = 0;
      let duplicated = 0;
      for (const g of gids) {
        const id = g.split("/").pop()!;
        if (!(twin.shop(SHOP).customers.get(id)?.tags ?? []).includes(tag)) lost++;
        if ((applied.get(`${g}|${tag}`) ?? 0) > 1) duplicated++;
      }
      return { lost, duplicated };
    };
    const segmentFor = async (tag: string) => {
      const { rows } = await pool.query<{ id: string }>(`INSERT INTO segments (shop, name, query, tag, tag_sync_enabled) VALUES ($1, $2, 'number_of_orders >= 0', $2, true) RETURNING id`, [SHOP, tag]);
      await pool.query(`INSERT INTO segment_members (segment_id, customer_gid, shop, entered_at) SELECT $1, g, $2, now() FROM unnest($3::text[]) g`, [rows[0]!.id, SHOP, gids]);
      return rows[0]!.id;
    };
    const drainUntilDone = async (bulkThreshold: number) => {
      const reports = [];
      for (;;) {
        reports.push(await drainShop(SHOP, { bulkThreshold, maxPassMs: 600_000, bulkPollMs: 250, bulkWaitMs: 600_000, ...(inFlight ? { maxInFlight: inFlight } : {}) }));
        const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM tag_writes WHERE shop = $1 AND status IN ('pending', 'in_flight')`, [SHOP]);
        if (rows[0]!.n === "0") return reports;
        await sleep(100);
      }
    };

    // Warm up (library and session loading, connections) outside the timings, then a full bucket.
    await (await getShopifyAdmin(SHOP)).customerTags([gids[0]!]);

    // 1. The writer, paced path.
    twin.setBucket({ maximumAvailable: bucketSize, restoreRate });
    const writerTag = `crm:bench-writer-${run}`;
    const writerSegment = await segmentFor(writerTag);
    const reconciled = await reconcileSegmentTagSync(SHOP, writerSegment);
    if (reconciled.queuedAdds !== customers) throw new Error(`reconcile queued ${reconciled.queuedAdds}, expected ${customers}`);
    const startLevel = twin.available(SHOP);
    let started = performance.now();
    const writerReports = await drainUntilDone(customers + 1);
    let seconds = (performance.now() - started) / 1000;
    const endLevel = twin.available(SHOP);
    const spent = writerReports.reduce((n, r) => n + r.costSpent, 0);
    const { rows: statuses } = await pool.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM tag_writes WHERE shop = $1 AND source = $2 GROUP BY status`, [SHOP, `segment:${writerSegment}`]);
    const writer: PathResult = {
      seconds: round(seconds, 2),
      writesPerSecond: round(customers / seconds, 1),
      ...verify(writerTag),
      throttled: writerReports.reduce((n, r) => n + r.throttled, 0),
      requests: writerReports.reduce((n, r) => n + r.requests, 0),
      share: round((spent - (startLevel - endLevel)) / (restoreRate * seconds), 3),
    };
    if (statuses.length !== 1 || statuses[0]!.status !== "done") throw new Error(`writer outcomes: ${JSON.stringify(statuses)}`);

    // 2. One tagsAdd per customer in sequence.
    let sequential: PathResult | null = null;
    if (!skipSequential) {
      twin.setBucket({ maximumAvailable: bucketSize, restoreRate });
      const seqTag = `crm:bench-sequential-${run}`;
      const admin = await getShopifyAdmin(SHOP);
      let throttled = 0;
      let requests = 0;
      started = performance.now();
      for (const g of gids) {
        for (;;) {
          requests++;
          try {
            await admin.tagsAdd(g, [seqTag]);
            break;
          } catch (error) {
            if (!(error instanceof ShopifyAdminError) || error.kind !== "throttled") throw error;
            throttled++;
            const s = error.details.cost?.throttleStatus;
            await sleep(s ? Math.ceil(((WRITE_COST - s.currentlyAvailable) / s.restoreRate) * 1000) : 1_000);
          }
        }
      }
      seconds = (performance.now() - started) / 1000;
      sequential = { seconds: round(seconds, 2), writesPerSecond: round(customers / seconds, 1), ...verify(seqTag), throttled, requests };
    }

    // 3. The bulk path (default threshold 1,000).
    twin.setBucket({ maximumAvailable: bucketSize, restoreRate });
    const bulkTag = `crm:bench-bulk-${run}`;
    const bulkSegment = await segmentFor(bulkTag);
    await reconcileSegmentTagSync(SHOP, bulkSegment);
    started = performance.now();
    const bulkReports = await drainUntilDone(1_000);
    seconds = (performance.now() - started) / 1000;
    const bulk: PathResult = {
      seconds: round(seconds, 2),
      writesPerSecond: round(customers / seconds, 1),
      ...verify(bulkTag),
      throttled: bulkReports.reduce((n, r) => n + r.throttled, 0),
      requests: bulkReports.reduce((n, r) => n + r.requests, 0),
    };
    const { rows: bulkStatuses } = await pool.query<{ status: string; n: string; ops: string }>(
      `SELECT status, count(*) AS n, count(DISTINCT bulk_operation_gid) AS ops FROM tag_writes WHERE shop = $1 AND source = $2 GROUP BY status`,
      [SHOP, `segment:${bulkSegment}`],
    );
    if (bulkStatuses.length !== 1 || bulkStatuses[0]!.status !== "done") throw new Error(`bulk outcomes: ${JSON.stringify(bulkStatuses)}`);

    results.push({ writer, sequential, bulk });
    process.stderr.write(`run ${run + 1}/${runs}: ${JSON.stringify({ writer, sequential, bulk })}\n`);
  }
  await closeDb();
  await twin.close();
  await db.drop();

  const med = (f: (r: (typeof results)[number]) => number | undefined) => round(median(results.map(f).filter((x): x is number => x !== undefined)), 3);
  const ratios = results.filter((r) => r.sequential).map((r) => r.sequential!.seconds / r.writer.seconds);
  const summary = {
    customers,
    runs,
    bucket: { maximumAvailable: bucketSize, restoreRate },
    rttMs,
    writer: { seconds: med((r) => r.writer.seconds), writesPerSecond: med((r) => r.writer.writesPerSecond), share: med((r) => r.writer.share), throttled: med((r) => r.writer.throttled) },
    sequential: skipSequential ? null : { seconds: med((r) => r.sequential?.seconds), writesPerSecond: med((r) => r.sequential?.writesPerSecond), throttled: med((r) => r.sequential?.throttled) },
    sequentialOverWriter: ratios.length ? round(median(ratios), 2) : null,
    bulk: { seconds: med((r) => r.bulk.seconds), writesPerSecond: med((r) => r.bulk.writesPerSecond) },
    lost: results.reduce((n, r) => n + r.writer.lost + r.bulk.lost + (r.sequential?.lost ?? 0), 0),
    duplicated: results.reduce((n, r) => n + r.writer.duplicated + r.bulk.duplicated + (r.sequential?.duplicated ?? 0), 0),
    perRun: results,
  };
  report("tag-sync", summary, [
    `${customers} customers, bucket ${bucketSize} points restoring ${restoreRate}/s${rttMs ? `, ${rttMs} ms added per request` : ""}, median of ${runs} run(s)`,
    `writer (paced): ${summary.writer.seconds} s, ${summary.writer.writesPerSecond} writes/s, ${round(summary.writer.share * 100, 1)}% of the restore rate used, ${summary.writer.throttled} THROTTLED`,
    summary.sequential
      ? `sequential tagsAdd: ${summary.sequential.seconds} s, ${summary.sequential.writesPerSecond} writes/s, ${summary.sequential.throttled} THROTTLED; sequential / writer time = ${summary.sequentialOverWriter}`
      : "sequential: skipped",
    `bulk mutation: ${summary.bulk.seconds} s (${summary.bulk.writesPerSecond} writes/s)`,
    `lost writes: ${summary.lost}, duplicated writes: ${summary.duplicated} (verified on the twin's customers)`,
  ]);
  await finishBench();
  if (summary.lost || summary.duplicated) process.exitCode = 1;
}

main().catch(async (error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  await finishBench().catch(() => undefined);
  process.exit(1);
});
