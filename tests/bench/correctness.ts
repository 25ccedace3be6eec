// Correctness at scale: a long stream of signed deliveries through the real server and
// worker (orders/create, orders/updated, orders/cancelled, refunds/create; 10% re-sent
// with the same webhook id, 5% of orders delivered out of order), then every customer's
// aggregates compared with values computed here, independently, in integer cents.
//   npm run bench:correctness -- [--deliveries 100000] [--seed 7] [--connections 50] [--workers 1]
import pg from "pg";
import {
  backgroundCores,
  CpuMeter,
  finishBench,
  flushBenchRedis,
  freshDatabase,
  numberFlag,
  parseFlags,
  report,
  round,
  runLoadgen,
  sleep,
  startRealServer,
  startWorker,
  waitForPort,
  type Child,
  type LoadResult,
} from "./lib/common";
import { BENCH_SHOP, buildScenario } from "./lib/deliveries";

const flags = parseFlags();
const deliveries = numberFlag(flags, "deliveries", 100_000);
const seed = numberFlag(flags, "seed", 7);
const connections = numberFlag(flags, "connections", 50);
const workers = numberFlag(flags, "workers", 1);
const PORT = 39_301;

type CustomerRow = {
  gid: string;
  orders_count: number;
  total_spent_minor: string;
  refunded_minor: string;
  aov_minor: string;
  first_order_at: Date | null;
  last_order_at: Date | null;
};

async function main() {
  const busy = await backgroundCores();
  const started = Date.now();
  const scenario = buildScenario(seed, deliveries);
  const unique = new Set(scenario.deliveries.map((d) => d.webhookId)).size;
  const db = await freshDatabase("correctness");
  await flushBenchRedis();
  const server = startRealServer(db.url, PORT);
  const workerProcs: Child[] = Array.from({ length: workers }, () => startWorker(db.url));
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await waitForPort(PORT, server);
    const meter = new CpuMeter(client, db.name, { server: server.proc.pid, ...Object.fromEntries(workerProcs.map((w, i) => [`worker${i + 1}`, w.proc.pid])) });
    await meter.begin();
    const sendStarted = Date.now();
    const load = await runLoadgen<LoadResult>(
      {
        port: PORT,
        mode: "closed",
        connections,
        durationMs: 30 * 60_000,
        maxRequests: scenario.deliveries.length,
        source: { kind: "scenario", seed, deliveries },
      },
      40 * 60_000,
    );
    const sendSeconds = (Date.now() - sendStarted) / 1000;

    // Wait for the worker to drain the inbox (bounded: 30 minutes at most).
    const deadline = Date.now() + 30 * 60_000;
    let pending = -1;
    for (;;) {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM webhook_events WHERE status IN ('received', 'failed')`);
      pending = Number(rows[0]!.n);
      await meter.poll();
      if (pending === 0 || Date.now() > deadline) break;
      for (const w of workerProcs) if (w.proc.exitCode !== null) throw new Error(`worker exited: ${w.output()}`);
      await sleep(500);
    }
    const drainSeconds = (Date.now() - sendStarted) / 1000;
    const cpu = await meter.end();

    const statuses = await client.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM webhook_events GROUP BY status`);
    const inbox = Object.fromEntries(statuses.rows.map((r) => [r.status, Number(r.n)]));
    const inboxRows = Object.values(inbox).reduce((a, b) => a + b, 0);
    const { rows: customerRows } = await client.query<CustomerRow>(
      `SELECT gid, orders_count, total_spent_minor, refunded_minor, aov_minor, first_order_at, last_order_at FROM customers WHERE shop = $1`,
      [BENCH_SHOP],
    );
    const { rows: orderCount } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM orders WHERE shop = $1`, [BENCH_SHOP]);

    // Compare every customer with the independently computed expectation.
    const actual = new Map(customerRows.map((r) => [r.gid, r]));
    const mismatches: unknown[] = [];
    for (const [gid, e] of scenario.expected) {
      const r = actual.get(gid);
      const aov = e.ordersCount === 0 ? 0 : Math.floor((2 * e.totalSpentCents + e.ordersCount) / (2 * e.ordersCount));
      const got = r && {
        ordersCount: r.orders_count,
        totalSpentCents: Number(r.total_spent_minor),
        refundedCents: Number(r.refunded_minor),
        aovCents: Number(r.aov_minor),
        firstOrderAt: r.first_order_at?.getTime() ?? null,
        lastOrderAt: r.last_order_at?.getTime() ?? null,
      };
      const want = { ...e, aovCents: aov };
      if (!got || JSON.stringify(got) !== JSON.stringify({ ordersCount: want.ordersCount, totalSpentCents: want.totalSpentCents, refundedCents: want.refundedCents, aovCents: want.aovCents, firstOrderAt: want.firstOrderAt, lastOrderAt: want.lastOrderAt })) {
        mismatches.push({ gid, expected: want, actual: got ?? null });
      }
    }
    const unexpectedCustomers = customerRows.filter((r) => !scenario.expected.has(r.gid)).length;

    const problems: string[] = [];
    if (load.errors > 0 || (load.statuses["200"] ?? 0) !== scenario.deliveries.length) problems.push(`not every delivery was acknowledged with 200: ${JSON.stringify(load.statuses)}, ${load.errors} errors`);
    if (inboxRows !== unique) problems.push(`inbox holds ${inboxRows} rows for ${unique} distinct webhook ids (dedupe)`);
    if ((inbox.processed ?? 0) !== unique) problems.push(`processed ${inbox.processed ?? 0} of ${unique}: ${JSON.stringify(inbox)}`);
    if (Number(orderCount[0]!.n) !== scenario.stats.orders) problems.push(`orders table has ${orderCount[0]!.n} orders, sent ${scenario.stats.orders}`);
    if (unexpectedCustomers > 0) problems.push(`${unexpectedCustomers} customers that were never sent`);
    if (mismatches.length > 0) problems.push(`${mismatches.length} customer aggregate mismatches`);

    const result = {
      size: { deliveries: scenario.deliveries.length, distinctWebhookIds: unique, seed, connections, workers, ...scenario.stats },
      timing: {
        sendSeconds: round(sendSeconds, 1),
        ackPerSecond: load.ackPerSecond,
        ackLatencyMs: load.latencyMs,
        endToEndSeconds: round(drainSeconds, 1),
        appliedPerSecond: round(unique / drainSeconds, 1),
        totalSeconds: round((Date.now() - started) / 1000, 1),
      },
      cpuCores: cpu.cores,
      backgroundCoresBefore: busy,
      inbox,
      customersChecked: scenario.expected.size,
      mismatches: mismatches.length,
      mismatchExamples: mismatches.slice(0, 10),
      problems,
      pass: problems.length === 0,
    };
    report("correctness", result, [
      `size: ${scenario.deliveries.length} deliveries (${unique} distinct webhook ids, ${scenario.stats.duplicates} re-sent), ${scenario.stats.orders} orders, ` +
        `${scenario.expected.size} customers; ${scenario.stats.updates} orders/updated, ${scenario.stats.refunds} refunds/create, ${scenario.stats.cancelled} cancelled, ` +
        `${scenario.stats.test} test orders; out of order: ${scenario.stats.reorderedCreate} update-before-create, ${scenario.stats.reorderedUpdates} older-update-after-newer`,
      `sent in ${result.timing.sendSeconds} s (${load.ackPerSecond}/s acknowledged, ack p99 ${load.latencyMs.p99} ms, ${connections} connections); ` +
        `all applied after ${result.timing.endToEndSeconds} s (${result.timing.appliedPerSecond} events/s, ${workers} worker)`,
      `customers checked: ${scenario.expected.size}; mismatches: ${mismatches.length}${pending > 0 ? ` (${pending} events still pending at the time limit)` : ""}`,
      problems.length ? `PROBLEMS: ${problems.join("; ")}` : "checks: every delivery 200, one inbox row per webhook id, all processed, every aggregate exact",
    ]);
    for (const m of mismatches.slice(0, 10)) process.stderr.write(`mismatch: ${JSON.stringify(m)}\n`);
    if (problems.length) process.exitCode = 1;
  } finally {
    for (const w of workerProcs) await w.stop();
    await server.stop();
    await client.end();
    await db.drop();
    await finishBench();
  }
}

main().catch(async (error) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  await finishBench();
  process.exit(1);
});
