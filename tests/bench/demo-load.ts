// Demo load time: `npm run demo` at its default size (2,000 customers, repeat factor 5: about
// 10,000 orders), from a database that does not exist yet, measured from the moment the demo
// process starts:
//   - time to the `Admin UI:` line (database created and migrated, example content created,
//     twin up with the generated store, app and worker started, app installed through token
//     exchange, which starts the history import);
//   - time until the whole generated history is imported: the shop's import run is `done`
//     (polled in the database here, independently of the demo's own "History imported"
//     line, which is reported beside it), and every customer and order the twin holds is in
//     the database.
// Then SIGTERM, and the demo must stop everything it started (exit 0, both children 0).
// Live traffic is off (--live-rate 0).
// The app is built before the first run (the npm script does it), so build time is not counted.
//   npm run bench:demo-load -- [--runs 1] [--customers 2000] [--repeat-factor 5] [--timeout-minutes 30]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { ADMIN_DATABASE_URL, BENCH_REDIS_URL, ROOT, backgroundCores, databaseUrl, finishBench, leaseBenchRedis, median, numberFlag, parseFlags, report, round, sleep } from "./lib/common";

const flags = parseFlags();
const runs = numberFlag(flags, "runs", 1);
// The demo's defaults (tests/twin/demo.ts); passed explicitly so the expected history matches.
const customers = numberFlag(flags, "customers", 2_000);
const repeatFactor = numberFlag(flags, "repeat-factor", 5);
const timeoutMs = numberFlag(flags, "timeout-minutes", 30) * 60_000;
const SEED = 1;
const SHOP = "crm-demo.myshopify.com";

type RunResult = {
  adminUiSeconds: number;
  historyAppliedSeconds: number;
  historySeconds: number;
  demoReportedAppliedSeconds: number | null;
  ordersPerSecond: number;
  customers: number;
  orders: number;
  dead: number;
  ignored: number;
  stopSeconds: number;
  stopLine: string;
};

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function oneRun(run: number): Promise<RunResult & { expectedCustomers: number; expectedOrders: number }> {
  const dbName = `crm_bench_demo_${process.pid}_${run}`;
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
  const logDir = mkdtempSync(path.join(tmpdir(), "crm-demo-load-"));
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  const demo = spawn(
    process.execPath,
    ["--import", "tsx", "tests/twin/demo.ts", "--customers", String(customers), "--repeat-factor", String(repeatFactor), "--seed", String(SEED), "--port", "0", "--twin-port", "0", "--live-rate", "0", "--log-dir", logDir],
    { cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl(dbName), REDIS_URL: BENCH_REDIS_URL, LOG_LEVEL: "warn" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const marks = new Map<string, number>();
  const watch = (chunk: Buffer) => {
    output += chunk.toString();
    for (const [name, pattern] of [
      ["adminUi", /^Admin UI: /m],
      ["historyApplied", /^History imported: /m],
    ] as const)
      if (!marks.has(name) && pattern.test(output)) marks.set(name, seconds());
  };
  demo.stdout!.on("data", watch);
  demo.stderr!.on("data", watch);
  const exited = once(demo, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  const deadline = Date.now() + timeoutMs;
  const alive = () => demo.exitCode === null && demo.signalCode === null;
  const check = (what: string) => {
    if (!alive()) throw new Error(`the demo exited (${demo.exitCode ?? demo.signalCode}) before ${what}:\n${output.slice(-4000)}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 60_000} min:\n${output.slice(-4000)}`);
  };
  let pool: pg.Pool | undefined;
  try {
    while (!marks.has("adminUi")) {
      check("printing Admin UI:");
      await sleep(50);
    }
    const adminUiSeconds = marks.get("adminUi")!;
    // The twin's line says what it holds (the history ends when the demo starts, so the counts are read, not recomputed).
    const held = /with the generated store \(([\d,]+) products, ([\d,]+) customers, ([\d,]+) orders\)/.exec(output);
    if (!held) throw new Error(`the demo did not print the twin's store:\n${output.slice(-3000)}`);
    const expectedCustomers = Number(held[2]!.replace(/,/g, ""));
    const expectedOrders = Number(held[3]!.replace(/,/g, ""));
    process.stderr.write(`run ${run + 1}: Admin UI after ${round(adminUiSeconds, 1)} s; waiting for the import (${expectedOrders} orders)\n`);

    // The shop's import run done.
    pool = new pg.Pool({ connectionString: databaseUrl(dbName), max: 1 });
    let historyAppliedSeconds = 0;
    let lastReport = Date.now();
    for (;;) {
      check("importing the whole history");
      const polledAt = seconds();
      const { rows } = await pool.query<{ state: string; error: string | null }>(`SELECT state, error FROM import_runs WHERE shop = $1 ORDER BY id DESC LIMIT 1`, [SHOP]).catch(() => ({ rows: [] }));
      if (rows[0]?.state === "failed") throw new Error(`the import failed: ${rows[0].error}`);
      if (rows[0]?.state === "done") {
        historyAppliedSeconds = polledAt;
        break;
      }
      if (Date.now() - lastReport > 30_000) {
        lastReport = Date.now();
        process.stderr.write(`run ${run + 1}: ${round(seconds(), 0)} s: import ${rows[0]?.state ?? "not started"}\n`);
      }
      await sleep(200);
    }
    const { rows } = await pool.query<{ customers: string; orders: string; dead: string; ignored: string }>(
      `SELECT (SELECT count(*) FROM customers WHERE shop = $1) AS customers, (SELECT count(*) FROM orders WHERE shop = $1) AS orders,
              (SELECT count(*) FROM webhook_events WHERE shop = $1 AND status = 'dead') AS dead,
              (SELECT count(*) FROM webhook_events WHERE shop = $1 AND status = 'ignored') AS ignored`,
      [SHOP],
    );
    const counts = rows[0]!;
    await pool.end();
    pool = undefined;
    // The demo's own line comes at its next poll (250 ms).
    const lineDeadline = Date.now() + 10_000;
    while (!marks.has("historyApplied") && Date.now() < lineDeadline && alive()) await sleep(50);

    // Stop it the way an operator does.
    const stopAt = performance.now();
    demo.kill("SIGTERM");
    const [code] = await Promise.race([exited, sleep(60_000).then(() => [null, null] as const)]);
    const stopSeconds = (performance.now() - stopAt) / 1000;
    const stopLine = /^Stopped: .*$/m.exec(output)?.[0] ?? "";
    if (code !== 0 || !/app exited \(0\), worker exited \(0\)/.test(stopLine)) throw new Error(`the demo did not stop cleanly (exit ${code}): ${stopLine}\n${output.slice(-3000)}`);

    const historySeconds = historyAppliedSeconds - adminUiSeconds;
    return {
      adminUiSeconds: round(adminUiSeconds, 1),
      historyAppliedSeconds: round(historyAppliedSeconds, 1),
      historySeconds: round(historySeconds, 1),
      demoReportedAppliedSeconds: marks.has("historyApplied") ? round(marks.get("historyApplied")!, 1) : null,
      ordersPerSecond: round(expectedOrders / historySeconds, 0),
      expectedCustomers,
      expectedOrders,
      customers: Number(counts.customers),
      orders: Number(counts.orders),
      dead: Number(counts.dead),
      ignored: Number(counts.ignored),
      stopSeconds: round(stopSeconds, 1),
      stopLine,
    };
  } finally {
    await pool?.end().catch(() => undefined);
    if (alive()) {
      demo.kill("SIGTERM");
      await Promise.race([exited, sleep(20_000)]);
      if (alive()) demo.kill("SIGKILL");
    }
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)).catch(() => undefined);
    rmSync(logDir, { recursive: true, force: true });
  }
}

async function main() {
  const busy = await backgroundCores();
  // The demo empties its Redis database: hold the bench index's lease so no test file uses it.
  await leaseBenchRedis();
  const results: (RunResult & { expectedCustomers: number; expectedOrders: number })[] = [];
  for (let run = 0; run < runs; run++) results.push(await oneRun(run));
  const orders = results[0]?.expectedOrders ?? 0;

  const problems: string[] = [];
  for (const [i, r] of results.entries()) {
    if (r.customers !== r.expectedCustomers) problems.push(`run ${i + 1}: ${r.customers} customers imported, the store has ${r.expectedCustomers}`);
    if (r.orders !== r.expectedOrders) problems.push(`run ${i + 1}: ${r.orders} orders imported, the store has ${r.expectedOrders}`);
    if (r.dead > 0) problems.push(`run ${i + 1}: ${r.dead} dead-lettered events`);
  }
  const med = (key: keyof RunResult) => round(median(results.map((r) => r[key] as number)), 1);
  const result = {
    size: { customers, repeatFactor, seed: SEED, orders, runs },
    backgroundCoresBefore: busy,
    median: {
      adminUiSeconds: med("adminUiSeconds"),
      historyAppliedSeconds: med("historyAppliedSeconds"),
      historySeconds: med("historySeconds"),
      ordersPerSecond: round(median(results.map((r) => r.ordersPerSecond)), 0),
      stopSeconds: med("stopSeconds"),
    },
    runs: results,
    problems,
    pass: problems.length === 0,
  };
  report("demo-load", result, [
    `size: ${customers} customers (repeat factor ${repeatFactor}, seed ${SEED}): ${orders} orders, imported through bulk operations; ${runs} run(s), live traffic off; background load ${busy} cores`,
    `Admin UI: after ${result.median.adminUiSeconds} s (median; runs: ${results.map((r) => r.adminUiSeconds).join(", ")} s)`,
    `whole history imported: after ${result.median.historyAppliedSeconds} s (median; runs: ${results.map((r) => r.historyAppliedSeconds).join(", ")} s), ` +
      `i.e. ${result.median.historySeconds} s after Admin UI, ${result.median.ordersPerSecond} orders/s; the demo printed "History imported" at ${results.map((r) => r.demoReportedAppliedSeconds ?? "—").join(", ")} s`,
    `stopped on SIGTERM in ${result.median.stopSeconds} s: ${results[0]?.stopLine.replace(/ Logs: .*$/, "") ?? ""}`,
    problems.length ? `PROBLEMS: ${problems.join("; ")}` : `checks: every customer and order imported, no dead letters, clean stop`,
  ]);
  if (problems.length) process.exitCode = 1;
}

main()
  .catch((error: Error) => {
    process.stderr.write(`${error.stack ?? String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => finishBench());
