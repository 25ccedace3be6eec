// Soak benchmark: a fresh install (empty, never-analysed tables) under a steady stream of
// orders/create deliveries through the real server and worker, for minutes. Samples every
// --sample seconds: deliveries acknowledged, events applied, backlog, oldest waiting event,
// resident memory of the web and worker processes. After the load: how long the backlog takes to
// drain. The question it answers (hardening issue, item 17): does the apply rate hold while the
// tables grow from nothing, with PostgreSQL's autovacuum off (this machine), because the worker
// keeps the statistics itself (app/services/table-statistics.server.ts)?
//   npm run bench:soak -- [--rate 400] [--seconds 240] [--sample 10] [--customers 20000]
//                         [--compare]   also run the same load with the worker's statistics keeper off
import pg from "pg";
import { readFileSync } from "node:fs";
import {
  appEnv,
  finishBench,
  flushBenchRedis,
  freshDatabase,
  numberFlag,
  parseFlags,
  report,
  round,
  runLoadgen,
  sleep,
  startChild,
  waitForPort,
  type LoadResult,
} from "./lib/common";

const flags = parseFlags();
const rate = numberFlag(flags, "rate", 400);
const seconds = numberFlag(flags, "seconds", 240);
const sampleSeconds = numberFlag(flags, "sample", 10);
const customers = numberFlag(flags, "customers", 20_000);
const drainLimitSeconds = numberFlag(flags, "drain-limit", 600);
const compare = "compare" in flags;
const PORT = 39_231;

function rssMb(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? round(Number(match[1]) / 1024, 1) : null;
  } catch {
    return null;
  }
}

type Sample = { t: number; received: number; applied: number; backlog: number; oldestSeconds: number; appliedPerSecond: number; webRssMb: number | null; workerRssMb: number | null };

async function inboxState(client: pg.Client) {
  const { rows } = await client.query<{ received: string; applied: string; backlog: string; oldest: number | null }>(
    `SELECT count(*) AS received,
            count(*) FILTER (WHERE status IN ('processed', 'ignored', 'dead')) AS applied,
            count(*) FILTER (WHERE status IN ('received', 'failed')) AS backlog,
            EXTRACT(EPOCH FROM now() - min(received_at) FILTER (WHERE status IN ('received', 'failed')))::float8 AS oldest
       FROM webhook_events`,
  );
  const row = rows[0]!;
  return { received: Number(row.received), applied: Number(row.applied), backlog: Number(row.backlog), oldest: row.oldest ?? 0 };
}

async function soakRun(label: string, workerEnv: Record<string, string>) {
  const db = await freshDatabase(`soak_${label.replace(/-/g, "_")}`);
  await flushBenchRedis();
  const server = startChild(["build/index.js"], appEnv(db.url, { PORT: String(PORT) }));
  const worker = startChild(["build/worker.js"], appEnv(db.url, workerEnv));
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const samples: Sample[] = [];
  try {
    await waitForPort(PORT, server);
    await sleep(3_000);
    const started = Date.now();
    const total = Math.ceil(rate * seconds);
    const load = runLoadgen<LoadResult>(
      {
        port: PORT,
        path: "/webhooks/orders",
        mode: "open",
        rate,
        connections: 50,
        durationMs: seconds * 1000,
        maxRequests: total,
        source: { kind: "orders", distinct: total, seed: 4242, customers, webhookPrefix: `soak-${label}`, orderIdBase: 7_000_000_000_000 },
      },
      (seconds + 120) * 1000,
    );
    let loadDone = false;
    let loadResult: LoadResult | undefined;
    void load.then((r) => {
      loadDone = true;
      loadResult = r;
    });
    let previous = { t: 0, applied: 0 };
    let drainedAt: number | null = null;
    for (;;) {
      await sleep(sampleSeconds * 1000);
      const t = (Date.now() - started) / 1000;
      const state = await inboxState(client);
      const sample: Sample = {
        t: round(t, 1),
        received: state.received,
        applied: state.applied,
        backlog: state.backlog,
        oldestSeconds: round(state.oldest, 1),
        appliedPerSecond: round((state.applied - previous.applied) / (t - previous.t), 0),
        webRssMb: rssMb(server.proc.pid),
        workerRssMb: rssMb(worker.proc.pid),
      };
      samples.push(sample);
      process.stderr.write(`[${label}] ${JSON.stringify(sample)}\n`);
      previous = { t, applied: state.applied };
      if (loadDone && state.backlog === 0) {
        drainedAt = t;
        break;
      }
      if (loadDone && t > seconds + drainLimitSeconds) break;
    }
    await load;
    const during = samples.filter((s) => s.t <= seconds);
    const after = samples.filter((s) => s.t > seconds);
    const appliedAtEnd = during.at(-1)?.applied ?? 0;
    return {
      label,
      load: loadResult && { sent: loadResult.sent, acknowledged: loadResult.statuses["200"] ?? 0, errors: loadResult.errors, ackP99Ms: loadResult.latencyMs.p99 },
      appliedPerSecondDuringLoad: round(appliedAtEnd / (during.at(-1)?.t ?? 1), 0),
      appliedPerSecondAfterLoad: after.length > 0 ? round(((after.at(-1)?.applied ?? 0) - appliedAtEnd) / ((after.at(-1)?.t ?? 0) - (during.at(-1)?.t ?? 0) || 1), 0) : null,
      maxBacklog: Math.max(0, ...samples.map((s) => s.backlog)),
      drainedSecondsAfterLoad: drainedAt === null ? null : round(drainedAt - seconds, 0),
      memoryMb: { web: [samples[0]?.webRssMb, samples.at(-1)?.webRssMb], worker: [samples[0]?.workerRssMb, samples.at(-1)?.workerRssMb] },
      samples,
    };
  } finally {
    await client.end().catch(() => undefined);
    await worker.stop();
    await server.stop();
    await db.drop();
  }
}

try {
  const runs = [await soakRun("statistics-kept", {})];
  // A keeper interval longer than the run: the worker never analyses (the behaviour before it existed).
  if (compare) runs.push(await soakRun("statistics-off", { STATISTICS_INTERVAL_MS: String(3_600_000) }));
  report(
    "soak",
    { rate, seconds, customers, runs },
    runs.map(
      (r) =>
        `${r.label}: ${r.load?.acknowledged ?? "?"} of ${r.load?.sent ?? "?"} acknowledged (ack p99 ${r.load?.ackP99Ms ?? "?"} ms); applied ${r.appliedPerSecondDuringLoad}/s during the load, ` +
        `${r.appliedPerSecondAfterLoad ?? "-"}/s after; backlog max ${r.maxBacklog}, drained ${r.drainedSecondsAfterLoad ?? "not"} s after the load; ` +
        `RSS web ${r.memoryMb.web.join(" -> ")} MB, worker ${r.memoryMb.worker.join(" -> ")} MB`,
    ),
  );
} finally {
  await finishBench();
}
