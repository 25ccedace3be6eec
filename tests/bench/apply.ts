// Apply benchmark: orders/create events applied end to end by the real worker
// (`jobs/worker.ts`, default WORKER_CONCURRENCY and DATABASE_POOL_SIZE): order, line
// items, embedded customer, and the customer's aggregates recomputed.
//   npm run bench:apply -- [--events 20000] [--history events] [--runs 3] [--lag-rate 500] [--lag-seconds 20] [--shops 1]
// --shops N spreads the drain's orders (history and measured) round-robin over N shops, each
// with its own customers (a many-shop install: batches hold one shop's rows, decision 025).
// Drain: the store's history (--history earlier orders of the same customers) is applied
// first and analysed; then N inbox rows are pre-loaded and queued, and the worker starts
// again; the rate is N over the span of their processed_at. Lag: the real server and the worker run together while
// the load generator sends orders/create at a fixed rate; lag = processed_at - received_at.
import pg from "pg";
import {
  backgroundCores,
  sleep,
  CpuMeter,
  appEnv,
  finishBench,
  flushBenchRedis,
  freshDatabase,
  median,
  numberFlag,
  parseFlags,
  prng,
  report,
  round,
  runLoadgen,
  startRealServer,
  startWorker,
  waitForPort,
  waitUntil,
  type LoadResult,
} from "./lib/common";
import { BENCH_SHOP, orderCreate } from "./lib/deliveries";

const flags = parseFlags();
const events = numberFlag(flags, "events", 20_000);
const runs = numberFlag(flags, "runs", 3);
const customers = numberFlag(flags, "customers", Math.max(1, Math.round(events / 4)));
// Orders of the same customers applied (and ANALYZEd) before the measured drain: a store with
// history, as the app meets it in steady state. 0 = the measured events land on an empty store.
const history = numberFlag(flags, "history", events);
const lagRate = numberFlag(flags, "lag-rate", 500);
const lagSeconds = numberFlag(flags, "lag-seconds", 20);
const shops = numberFlag(flags, "shops", 1);
/** The shop of the i-th preloaded order. */
const shopOf = (i: number) => (shops === 1 ? BENCH_SHOP : `crm-bench-${i % shops}.myshopify.com`);
const PORT = 39_201;

type Expected = Map<string, { count: number; spent: number; first: number; last: number }>;

/** Pre-loads the inbox with orders/create deliveries `from` .. `to` - 1; adds them to the expected aggregates. */
async function preload(client: pg.Client, seed: number, from: number, to: number, expected: Expected): Promise<void> {
  const rand = prng(seed * 1_000_003 + from);
  const batch = 500;
  for (let start = from; start < to; start += batch) {
    const params: string[] = [];
    const rows: string[] = [];
    for (let i = start; i < Math.min(to, start + batch); i++) {
      const o = orderCreate(i, rand, { customers, orderIdBase: 6_000_000_000_000 });
      const key = `${shopOf(i)} gid://shopify/Customer/${o.customerId}`;
      const e = expected.get(key) ?? { count: 0, spent: 0, first: Infinity, last: -Infinity };
      const at = Date.parse(o.createdAt);
      expected.set(key, { count: e.count + 1, spent: e.spent + o.totalCents, first: Math.min(e.first, at), last: Math.max(e.last, at) });
      const p = params.length;
      rows.push(`($${p + 1}, $${p + 2}, 'orders/create', '2026-07', $${p + 3})`);
      params.push(shopOf(i), `apply-${seed}-${i}`, o.body);
    }
    await client.query(`INSERT INTO webhook_events (shop, webhook_id, topic, api_version, payload) VALUES ${rows.join(", ")}`, params);
  }
}

async function compareAggregates(client: pg.Client, expected: Expected): Promise<{ checked: number; mismatches: number; examples: unknown[] }> {
  const { rows } = await client.query<{ shop: string; gid: string; orders_count: number; total_spent_minor: string; first_order_at: Date | null; last_order_at: Date | null }>(
    `SELECT shop, gid, orders_count, total_spent_minor, first_order_at, last_order_at FROM customers WHERE shop = ANY($1::text[])`,
    [Array.from({ length: shops }, (_, i) => shopOf(i))],
  );
  const byGid = new Map(rows.map((r) => [`${r.shop} ${r.gid}`, r]));
  let mismatches = 0;
  const examples: unknown[] = [];
  for (const [gid, e] of expected) {
    const r = byGid.get(gid);
    const ok = r && r.orders_count === e.count && r.total_spent_minor === String(e.spent) && r.first_order_at?.getTime() === e.first && r.last_order_at?.getTime() === e.last;
    if (!ok) {
      mismatches++;
      if (examples.length < 5) examples.push({ gid, expected: e, actual: r ?? null });
    }
  }
  return { checked: expected.size, mismatches, examples };
}

async function drainRun(run: number) {
  const busy = await backgroundCores();
  const db = await freshDatabase("apply");
  await flushBenchRedis();
  Object.assign(process.env, appEnv(db.url));
  const { enqueueApplyWebhooks, closeQueues } = await import("../../app/queues.server");
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  let worker: ReturnType<typeof startWorker> | undefined;
  const expected: Expected = new Map();
  /** Queues every inbox row after `afterId` (ids in order, as the ingress would have). */
  const enqueueAfter = async (afterId: string) => {
    const { rows: ids } = await client.query<{ id: string }>(`SELECT id FROM webhook_events WHERE id > $1 ORDER BY id`, [afterId]);
    for (let i = 0; i < ids.length; i += 1000) await enqueueApplyWebhooks(ids.slice(i, i + 1000).map((r) => ({ inboxId: r.id, replays: 0 })));
  };
  const counts = async (afterId: string) => {
    const { rows } = await client.query<{ done: string; bad: string }>(
      `SELECT count(*) FILTER (WHERE status = 'processed') AS done, count(*) FILTER (WHERE status IN ('failed', 'dead', 'ignored')) AS bad FROM webhook_events WHERE id > $1`,
      [afterId],
    );
    return { done: Number(rows[0]!.done), bad: Number(rows[0]!.bad) };
  };
  try {
    // The store's history, applied by the worker, then analysed (as autovacuum would have).
    if (history > 0) {
      await preload(client, 1000 + run, 0, history, expected);
      await enqueueAfter("0");
      worker = startWorker(db.url);
      await waitUntil("history applied", async () => {
        if (worker!.proc.exitCode !== null) throw new Error(`worker exited: ${worker!.output()}`);
        const { done, bad } = await counts("0");
        if (bad > 0) throw new Error(`${bad} history events not applied`);
        return done >= history;
      }, Math.max(120_000, history * 50), 200);
      await worker.stop();
      worker = undefined;
      await client.query(`VACUUM ANALYZE customers, orders, line_items, refunds, webhook_events`);
    }
    const { rows: last } = await client.query<{ id: string }>(`SELECT coalesce(max(id), 0)::text AS id FROM webhook_events`);
    const afterId = last[0]!.id;
    await preload(client, 1000 + run, history, history + events, expected);
    await enqueueAfter(afterId);
    await closeQueues();

    const started = Date.now();
    worker = startWorker(db.url);
    let stuck = 0;
    let meter: CpuMeter | undefined;
    let doneAtMeterStart = 0;
    await waitUntil(
      "drain",
      async () => {
        if (worker!.proc.exitCode !== null) throw new Error(`worker exited: ${worker!.output()}`);
        const { done, bad } = await counts(afterId);
        stuck = bad;
        // CPU accounting from the first applied event on (worker start-up excluded).
        if (!meter && done > 0) {
          meter = new CpuMeter(client, db.name, { worker: worker!.proc.pid });
          await meter.begin();
          doneAtMeterStart = done;
        } else await meter?.poll();
        return done + stuck >= events;
      },
      Math.max(120_000, events * 50), // bounded: at least 20 events/s
      100,
    );
    const wallSeconds = (Date.now() - started) / 1000;
    const { rows } = await client.query<{ span: number }>(
      `SELECT EXTRACT(EPOCH FROM max(processed_at) - min(processed_at))::float8 AS span FROM webhook_events WHERE id > $1`,
      [afterId],
    );
    const span = rows[0]!.span;
    const aggregates = await compareAggregates(client, expected);
    const cpu = await meter!.end();
    const measured = Math.max(1, events - doneAtMeterStart);
    const cpuMsPerEvent = Object.fromEntries(Object.entries(cpu.cpuMs).map(([k, v]) => [k, round(v / measured, 2)]));
    return {
      cpuMsPerEvent,
      cpuCores: cpu.cores, backgroundCores: busy, eventsPerSecond: round(events / span, 1), spanSeconds: round(span, 2), wallSecondsIncludingWorkerStart: round(wallSeconds, 2), notProcessed: stuck, aggregates };
  } finally {
    await worker?.stop();
    await client.end();
    await db.drop();
  }
}

async function lagRun(run: number) {
  const db = await freshDatabase("lag");
  await flushBenchRedis();
  const server = startRealServer(db.url, PORT);
  const worker = startWorker(db.url);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await waitForPort(PORT, server);
    // Let the worker start (no warm-up burst: it would queue a backlog ahead of the measured events).
    await sleep(5_000);
    const prefix = `lag-${run}`;
    const total = Math.ceil(lagRate * lagSeconds);
    const load = await runLoadgen<LoadResult>(
      {
        port: PORT,
        path: "/webhooks/orders",
        mode: "open",
        rate: lagRate,
        connections: 50,
        durationMs: lagSeconds * 1000,
        maxRequests: total,
        source: { kind: "orders", distinct: total, seed: 2000 + run, customers, webhookPrefix: prefix, orderIdBase: 6_500_000_000_000 + run * 10_000_000 },
      },
      (lagSeconds + 120) * 1000,
    );
    await waitUntil(
      "lag run settled",
      async () => {
        const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM webhook_events WHERE status IN ('received', 'failed')`);
        return rows[0]!.n === "0";
      },
      120_000,
    );
    const { rows } = await client.query<{ n: string; p50: number; p90: number; p99: number; p999: number; max: number }>(
      `SELECT count(*) AS n,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.9) WITHIN GROUP (ORDER BY ms) AS p90,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, percentile_cont(0.999) WITHIN GROUP (ORDER BY ms) AS p999, max(ms) AS max
         FROM (SELECT EXTRACT(EPOCH FROM processed_at - received_at) * 1000 AS ms FROM webhook_events
                WHERE status = 'processed' AND webhook_id LIKE $1) lag`,
      [`${prefix}-%`],
    );
    const r = rows[0]!;
    return {
      rate: lagRate,
      seconds: lagSeconds,
      events: Number(r.n),
      lagMs: { p50: round(r.p50), p90: round(r.p90), p99: round(r.p99), p999: round(r.p999), max: round(r.max) },
      ackMs: load.latencyMs,
      ackErrors: load.errors,
    };
  } finally {
    await worker.stop();
    await server.stop();
    await client.end();
    await db.drop();
  }
}

async function main() {
  const drains: Awaited<ReturnType<typeof drainRun>>[] = [];
  const lags: Awaited<ReturnType<typeof lagRun>>[] = [];
  for (let run = 1; run <= runs; run++) {
    const drain = await drainRun(run);
    drains.push(drain);
    process.stderr.write(
      `run ${run}/${runs} (background load ${drain.backgroundCores} cores): drain ${drain.eventsPerSecond} events/s ` +
        `(${drain.aggregates.mismatches} aggregate mismatches; CPU-ms per event ${JSON.stringify(drain.cpuMsPerEvent)})`,
    );
    if (lagSeconds > 0) {
      const lag = await lagRun(run);
      lags.push(lag);
      process.stderr.write(`; lag at ${lagRate}/s: p50 ${lag.lagMs.p50} ms, p99 ${lag.lagMs.p99} ms`);
    }
    process.stderr.write("\n");
  }
  await finishBench();
  const medianOf = (values: number[]) => round(median(values), 2);
  const result = {
    size: { events, customers, history, shops, runs, worker: "jobs/worker.ts, default WORKER_CONCURRENCY (16) and DATABASE_POOL_SIZE (10)", lagRate, lagSeconds },
    median: {
      eventsPerSecond: medianOf(drains.map((d) => d.eventsPerSecond)),
      cpuMsPerEvent: Object.fromEntries(["worker", "postgres", "redis"].map((k) => [k, medianOf(drains.map((d) => d.cpuMsPerEvent[k] ?? 0))])),
      lagP50Ms: medianOf(lags.map((l) => l.lagMs.p50)),
      lagP99Ms: medianOf(lags.map((l) => l.lagMs.p99)),
      ackP99MsDuringLag: medianOf(lags.map((l) => l.ackMs.p99)),
    },
    targets: { eventsPerSecondAtLeast: 1500 },
    drains,
    lags,
  };
  const mismatches = drains.reduce((a, d) => a + d.aggregates.mismatches + d.notProcessed, 0);
  const pass = { throughput: result.median.eventsPerSecond >= 1500, aggregatesExact: mismatches === 0 };
  report("apply", { ...result, pass }, [
    `size: ${events} orders/create events over ${customers} customers (2-4 line items each)${shops > 1 ? ` of each of ${shops} shops (round-robin)` : ""} on a store with ${history} earlier orders of them, ${runs} runs; worker with its defaults`,
    `drain: ${result.median.eventsPerSecond} events/s applied end to end with aggregates (median)  [target >= 1500/s: ${pass.throughput ? "met" : "MISSED"}]`,
    `CPU per event (median): worker ${result.median.cpuMsPerEvent.worker} ms, PostgreSQL ${result.median.cpuMsPerEvent.postgres} ms, Redis ${result.median.cpuMsPerEvent.redis} ms ` +
      `-> at most ~${round(2000 / Object.values(result.median.cpuMsPerEvent).reduce((a, b) => a + b, 0))} events/s on 2 idle cores`,
    lagSeconds > 0
      ? `lag at a steady ${lagRate} events/s for ${lagSeconds} s (server + worker, processed_at - received_at): p50 ${result.median.lagP50Ms} ms, p99 ${result.median.lagP99Ms} ms; ack p99 ${result.median.ackP99MsDuringLag} ms`
      : "lag: skipped (--lag-seconds 0)",
    `aggregates: ${mismatches === 0 ? "every customer exact" : `${mismatches} MISMATCHES or unprocessed events`}`,
  ]);
  if (mismatches > 0) process.exitCode = 1;
}

main().catch(async (error) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  await finishBench();
  process.exit(1);
});
