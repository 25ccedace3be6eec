// Ingress benchmark: acknowledged webhook deliveries per second and ack latency of the
// real built server (build/index.js: express + Remix + HMAC + PostgreSQL inbox + BullMQ)
// beside a bare node:http server that only checks the HMAC (the ceiling), in one run.
//   npm run bench:ingress -- [--runs 3] [--seconds 10] [--connections 50] [--rate 1000] [--no-bare]
// No worker runs during the measurement: the queue only fills.
import pg from "pg";
import { Redis } from "ioredis";
import {
  backgroundCores,
  BENCH_REDIS_URL,
  flushBenchRedis,
  freshDatabase,
  median,
  numberFlag,
  parseFlags,
  report,
  round,
  runLoadgen,
  startBareServer,
  startRealServer,
  waitForPort,
  finishBench,
  type LoadResult,
  type LoadgenConfig,
} from "./lib/common";

const flags = parseFlags();
const runs = numberFlag(flags, "runs", 3);
const seconds = numberFlag(flags, "seconds", 10);
const connections = numberFlag(flags, "connections", 50);
const rate = numberFlag(flags, "rate", 1000);
const distinct = numberFlag(flags, "distinct", 20_000);
const skipBare = flags["no-bare"] === "true";
const BARE_PORT = 39_101;
const REAL_PORT = 39_102;

type ServerAck = Record<string, number>;
type RunResult = {
  /** cores busy with other work just before the run (of 2) */
  backgroundCores: number;
  bare: { closed: LoadResult; open: LoadResult };
  real: { closed: LoadResult; open: LoadResult; inboxRows: number; queuedJobs: number; serverAckOpen: ServerAck };
};

/** The server's own crm_webhook_ack_seconds histogram (cumulative bucket counts by le). */
async function serverAckBuckets(port: number): Promise<ServerAck> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const buckets: ServerAck = {};
  for (const match of text.matchAll(/^crm_webhook_ack_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)) buckets[match[1]!] = Number(match[2]);
  return buckets;
}

/** Share of acknowledgements (measured inside the server) at or under each bound, between two scrapes. */
function ackShares(before: ServerAck, after: ServerAck): ServerAck {
  const total = (after["+Inf"] ?? 0) - (before["+Inf"] ?? 0);
  const shares: ServerAck = {};
  for (const le of Object.keys(after)) if (le !== "+Inf") shares[`<=${Number(le) * 1000}ms`] = round(((after[le]! - (before[le] ?? 0)) / Math.max(1, total)) * 100, 2);
  return shares;
}

function load(port: number, mode: "closed" | "open", prefix: string, seed: number): Promise<LoadResult> {
  const config: LoadgenConfig = {
    port,
    path: port === BARE_PORT ? "/" : "/webhooks/orders",
    mode,
    connections,
    rate: mode === "open" ? rate : undefined,
    durationMs: seconds * 1000,
    maxRequests: mode === "open" ? Math.ceil(rate * seconds) : 2_000_000,
    warmupMs: 2_000,
    source: { kind: "orders", distinct, seed, customers: 5_000, webhookPrefix: prefix, orderIdBase: 5_000_000_000_000 + seed * 1_000_000 },
  };
  return runLoadgen(config, (seconds + 90) * 1000);
}

function emptyResult(mode: "closed" | "open"): LoadResult {
  const nan = { p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
  return { mode, connections, rate: null, sent: 0, completed: 0, errors: 0, statuses: {}, elapsedSeconds: 0, ackPerSecond: NaN, latencyMs: nan, loadgenCpuPercent: 0 };
}

async function oneRun(run: number): Promise<RunResult> {
  const busy = await backgroundCores();
  let bareResult: RunResult["bare"] = { closed: emptyResult("closed"), open: emptyResult("open") };
  if (!skipBare) {
    const bare = startBareServer(BARE_PORT);
    try {
      await waitForPort(BARE_PORT, bare);
      bareResult = { closed: await load(BARE_PORT, "closed", `bare-c-${run}`, run), open: await load(BARE_PORT, "open", `bare-o-${run}`, run) };
    } finally {
      await bare.stop();
    }
  }

  const db = await freshDatabase("ingress");
  await flushBenchRedis();
  const server = startRealServer(db.url, REAL_PORT);
  try {
    await waitForPort(REAL_PORT, server);
    const closed = await load(REAL_PORT, "closed", `real-c-${run}`, run);
    const before = await serverAckBuckets(REAL_PORT);
    const open = await load(REAL_PORT, "open", `real-o-${run}`, run + 100);
    const serverAckOpen = ackShares(before, await serverAckBuckets(REAL_PORT));
    // Every acknowledged delivery must be in the inbox (and queued) before its 200.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM webhook_events`);
    await client.end();
    const redis = new Redis(BENCH_REDIS_URL);
    const queuedJobs = await redis.llen("bull:crm-webhooks:wait");
    redis.disconnect();
    return { backgroundCores: busy, bare: bareResult, real: { closed, open, inboxRows: Number(rows[0]!.n), queuedJobs, serverAckOpen } };
  } finally {
    await server.stop();
    await db.drop();
  }
}

async function main() {
  const results: RunResult[] = [];
  for (let run = 1; run <= runs; run++) {
    const result = await oneRun(run);
    results.push(result);
    process.stderr.write(
      `run ${run}/${runs} (background load ${result.backgroundCores} cores): ${skipBare ? "" : `bare ${result.bare.closed.ackPerSecond}/s, `}real ${result.real.closed.ackPerSecond}/s ` +
        `(p50 ${result.real.closed.latencyMs.p50} ms, p99 ${result.real.closed.latencyMs.p99} ms); ` +
        `open ${rate}/s: real p99 ${result.real.open.latencyMs.p99} ms${skipBare ? "" : `, bare p99 ${result.bare.open.latencyMs.p99} ms`}; ` +
        `server-side acks <=10 ms ${result.real.serverAckOpen["<=10ms"]}%, <=25 ms ${result.real.serverAckOpen["<=25ms"]}%\n`,
    );
  }
  await finishBench();
  const m = (pick: (r: RunResult) => number) => round(median(results.map(pick)), 2);
  const summary = {
    size: { runs, secondsPerPhase: seconds, connections, openRate: rate, distinctBodies: distinct, bodyBytes: "3.5-4.7 KB orders/create", worker: "not running" },
    median: {
      bare: { ackPerSecond: m((r) => r.bare.closed.ackPerSecond), p50Ms: m((r) => r.bare.closed.latencyMs.p50), p99Ms: m((r) => r.bare.closed.latencyMs.p99), openP99Ms: m((r) => r.bare.open.latencyMs.p99) },
      real: {
        ackPerSecond: m((r) => r.real.closed.ackPerSecond),
        p50Ms: m((r) => r.real.closed.latencyMs.p50),
        p99Ms: m((r) => r.real.closed.latencyMs.p99),
        openP50Ms: m((r) => r.real.open.latencyMs.p50),
        openP99Ms: m((r) => r.real.open.latencyMs.p99),
        openP999Ms: m((r) => r.real.open.latencyMs.p999),
      },
      ratioToCeiling: m((r) => r.real.closed.ackPerSecond / r.bare.closed.ackPerSecond),
    },
    targets: { ackPerSecondAtLeast: 3000, openP99MsAtMost: 25 },
    runs: results,
  };
  const pass = { throughput: summary.median.real.ackPerSecond >= 3000, latency: summary.median.real.openP99Ms <= 25 };
  const problems = results.flatMap((r, i) => {
    const acked = (r.real.closed.statuses["200"] ?? 0) + (r.real.open.statuses["200"] ?? 0);
    const out: string[] = [];
    if (r.real.closed.errors + r.real.open.errors > 0) out.push(`run ${i + 1}: ${r.real.closed.errors + r.real.open.errors} failed requests`);
    // Warm-up deliveries are acknowledged too, so the inbox holds at least the measured ones.
    if (r.real.inboxRows < acked) out.push(`run ${i + 1}: ${acked} acknowledged but only ${r.real.inboxRows} inbox rows`);
    return out;
  });
  report("ingress", { ...summary, pass, problems }, [
    `size: ${runs} runs x ${seconds} s per phase, ${connections} keep-alive connections, orders/create bodies 3.5-4.7 KB, real HMACs, distinct webhook ids; worker not running`,
    skipBare ? "bare node:http + HMAC (ceiling): not measured (--no-bare)" : `bare node:http + HMAC (ceiling): ${summary.median.bare.ackPerSecond}/s, p50 ${summary.median.bare.p50Ms} ms, p99 ${summary.median.bare.p99Ms} ms`,
    `real server (closed loop, c=${connections}): ${summary.median.real.ackPerSecond}/s acknowledged, p50 ${summary.median.real.p50Ms} ms, p99 ${summary.median.real.p99Ms} ms ` +
      `${skipBare ? "" : `= ${round(summary.median.ratioToCeiling * 100, 1)}% of the ceiling`}  [target >= 3000/s: ${pass.throughput ? "met" : "MISSED"}]`,
    `real server (open loop, ${rate}/s from scheduled time): p50 ${summary.median.real.openP50Ms} ms, p99 ${summary.median.real.openP99Ms} ms, p99.9 ${summary.median.real.openP999Ms} ms ` +
      `[target p99 <= 25 ms: ${pass.latency ? "met" : "MISSED"}]${skipBare ? "" : `; bare p99 ${summary.median.bare.openP99Ms} ms`}`,
    problems.length ? `PROBLEMS: ${problems.join("; ")}` : "checks: no failed requests; every acknowledged delivery is in the inbox",
  ]);
  if (problems.length) process.exitCode = 1;
}

main().catch(async (error) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  await finishBench();
  process.exit(1);
});
