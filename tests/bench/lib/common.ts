// Shared plumbing for the benchmarks (tests/bench/*.ts, run with tsx, not vitest):
// a private PostgreSQL database per run, Redis database 14, child processes for the
// real server / worker / load generator, statistics and result printing.
// All load goes to 127.0.0.1; every wait is bounded.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { once } from "node:events";
import { cpus } from "node:os";
import { createConnection } from "node:net";
import { fileURLToPath } from "node:url";
import path from "node:path";
import pg from "pg";
import { Redis } from "ioredis";
import { TEST_API_KEY, TEST_API_SECRET, TEST_APP_URL, TEST_SESSION_ENCRYPTION_KEY } from "../../support/env";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const ADMIN_DATABASE_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
export const BENCH_REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379/14";
export const BENCH_SECRET = TEST_API_SECRET;
// One template per bench process, so two bench processes never drop each other's.
const TEMPLATE = `crm_bench_template_${process.pid}`;

export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

let templateReady = false;

/** Migrates a template database once per bench process (prisma migrate deploy). */
async function ensureTemplate(): Promise<void> {
  if (templateReady) return;
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${TEMPLATE}`);
  });
  execFileSync(process.execPath, ["node_modules/prisma/build/index.js", "migrate", "deploy"], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl(TEMPLATE) },
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 120_000,
  });
  templateReady = true;
}

/** A fresh migrated database `crm_bench_<suffix>` (dropped first if left over). */
export async function freshDatabase(suffix: string): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  await ensureTemplate();
  const name = `crm_bench_${suffix}_${process.pid}`;
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
  });
  // BENCH_KEEP_DB=1 leaves it in place afterwards, to look into (drop it yourself).
  const drop = async () => {
    if (process.env.BENCH_KEEP_DB === "1") return void process.stderr.write(`kept database ${name}\n`);
    await admin(async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)));
  };
  return { name, url: databaseUrl(name), drop };
}

/** Drops the template database and releases the Redis lease (end of a bench script). */
export async function finishBench(): Promise<void> {
  await admin(async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`))).catch(() => undefined);
  templateReady = false;
  await releaseBenchRedis();
}

let leaseRelease: (() => Promise<void>) | undefined;

/**
 * Takes the integration tests' lease on the bench Redis database index (a key in
 * database 0, see tests/support/env.ts), so a concurrent test file never picks the
 * index the benchmark flushes. Waits up to 2 minutes for a holder to finish.
 */
export async function leaseBenchRedis(): Promise<void> {
  if (leaseRelease) return;
  const url = new URL(BENCH_REDIS_URL);
  const index = Number(url.pathname.slice(1) || "0");
  url.pathname = "/0";
  const client = new Redis(url.toString(), { maxRetriesPerRequest: 1 });
  const key = `crm-test:redis-db-lease:${index}`;
  const token = `bench:${process.pid}`;
  try {
    const deadline = Date.now() + 120_000;
    while ((await client.set(key, token, "PX", 60 * 60_000, "NX")) !== "OK") {
      // A lease left by a bench process that died: take it over.
      const holder = /^bench:(\d+)$/.exec((await client.get(key)) ?? "");
      if (holder && !isAlive(Number(holder[1]))) {
        await client.set(key, token, "PX", 60 * 60_000);
        break;
      }
      if (Date.now() > deadline) throw new Error(`Redis database ${index} is leased by ${await client.get(key)}; set BENCH_REDIS_URL to another index`);
      await sleep(1_000);
    }
  } finally {
    client.disconnect();
  }
  leaseRelease = async () => {
    const releaser = new Redis(url.toString(), { maxRetriesPerRequest: 1 });
    try {
      if ((await releaser.get(key)) === token) await releaser.del(key);
    } finally {
      releaser.disconnect();
    }
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function releaseBenchRedis(): Promise<void> {
  const release = leaseRelease;
  leaseRelease = undefined;
  await release?.().catch(() => undefined);
}

/** Empties the bench Redis database (index 14 by default) and nothing else. */
export async function flushBenchRedis(): Promise<void> {
  await leaseBenchRedis();
  const redis = new Redis(BENCH_REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1 });
  try {
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
}

/** Environment for the app's processes (server, worker) on the bench database. */
export function appEnv(databaseUrlValue: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TZ: process.env.TZ,
    NODE_ENV: "production",
    DATABASE_URL: databaseUrlValue,
    REDIS_URL: BENCH_REDIS_URL,
    SHOPIFY_API_KEY: TEST_API_KEY,
    SHOPIFY_API_SECRET: BENCH_SECRET,
    SHOPIFY_APP_URL: TEST_APP_URL,
    SESSION_ENCRYPTION_KEY: TEST_SESSION_ENCRYPTION_KEY,
    HOST: "127.0.0.1",
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
    // Optional settings of the app, passed through when set (to compare configurations).
    ...Object.fromEntries(
      ["WORKER_CONCURRENCY", "WORKER_BATCH_SIZE", "WORKER_BATCHES_IN_FLIGHT", "DATABASE_PLAN_CACHE_MODE", "DATABASE_POOL_SIZE", "SWEEP_INTERVAL_MS", "WEBHOOK_MAX_BODY_BYTES"].flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])),
    ),
    ...extra,
  };
}

/**
 * For benches that run the app's modules in their own process: sets this process's environment
 * as appEnv does for a child (NODE_ENV development, the bench database, Redis, credentials,
 * log level, plus `extra`, e.g. the twin's URL) and applies the log level to the app's logger.
 * Call it before the first import of an app module: they read the environment lazily.
 */
export async function useAppEnvInThisProcess(databaseUrlValue: string, extra: Record<string, string> = {}): Promise<void> {
  const env = appEnv(databaseUrlValue, { NODE_ENV: "development", ...extra });
  for (const [key, value] of Object.entries(env)) if (value !== undefined) process.env[key] = value;
  const { logger } = await import("../../../app/logger.server");
  logger.level = process.env.LOG_LEVEL!;
}

export type Child = { proc: ChildProcess; stop: () => Promise<void>; output: () => string };

/** Spawns a child process; stop() sends SIGTERM, then SIGKILL after 10 s. */
export function startChild(args: string[], env: NodeJS.ProcessEnv): Child {
  const proc = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let tail = "";
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-8_000);
  };
  proc.stdout!.on("data", keep);
  proc.stderr!.on("data", keep);
  // BENCH_CHILD_LOG=<dir>: keep each child's whole output (with BENCH_LOG_LEVEL=info to see its jobs).
  if (process.env.BENCH_CHILD_LOG) {
    const file = createWriteStream(`${process.env.BENCH_CHILD_LOG}/${path.basename(args.at(-1) ?? "child")}-${proc.pid}.log`);
    proc.stdout!.pipe(file);
    proc.stderr!.pipe(file);
  }
  const exited = once(proc, "exit");
  return {
    proc,
    output: () => tail,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, child: Child, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.proc.exitCode !== null) throw new Error(`process exited (${child.proc.exitCode}) before listening:\n${child.output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: "127.0.0.1", port });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${port} after ${timeoutMs} ms:\n${child.output()}`);
    await sleep(100);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** More node flags for a child from an environment variable, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof". */
const nodeArgsFrom = (variable: "BENCH_SERVER_NODE_ARGS" | "BENCH_WORKER_NODE_ARGS") => process.env[variable]?.split(/\s+/).filter(Boolean) ?? [];

export function startRealServer(databaseUrlValue: string, port: number, extra: Record<string, string> = {}): Child {
  return startChild([...nodeArgsFrom("BENCH_SERVER_NODE_ARGS"), process.env.BENCH_SERVER_BUILD ?? "build/index.js"], appEnv(databaseUrlValue, { PORT: String(port), ...extra }));
}

export function startWorker(databaseUrlValue: string, extra: Record<string, string> = {}): Child {
  // BENCH_QUERY_PROFILE=<dir>: time the worker's statements (tests/bench/lib/query-profile.mjs).
  const profile = process.env.BENCH_QUERY_PROFILE ? ["--import", "./tests/bench/lib/query-profile.mjs"] : [];
  const env = process.env.BENCH_QUERY_PROFILE ? { BENCH_QUERY_PROFILE: process.env.BENCH_QUERY_PROFILE, ...extra } : extra;
  return startChild([...nodeArgsFrom("BENCH_WORKER_NODE_ARGS"), ...profile, "--import", "tsx", "jobs/worker.ts"], appEnv(databaseUrlValue, env));
}

export function startBareServer(port: number): Child {
  return startChild(["--import", "tsx", "tests/bench/bare-server.ts"], { ...process.env, BENCH_PORT: String(port), SHOPIFY_API_SECRET: BENCH_SECRET });
}

/** Runs the load generator in its own process and returns its JSON result. */
export async function runLoadgen<T = LoadResult>(config: LoadgenConfig, timeoutMs: number): Promise<T> {
  const proc = spawn(process.execPath, ["--max-old-space-size=4096", "--import", "tsx", "tests/bench/loadgen.ts", JSON.stringify(config)], {
    cwd: ROOT,
    env: process.env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  proc.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [code] = (await once(proc, "exit")) as [number | null];
  clearTimeout(timer);
  const line = out.trim().split("\n").pop() ?? "";
  if (code !== 0) throw new Error(`loadgen exited ${code}: ${out.slice(-2000)}`);
  return JSON.parse(line) as T;
}

export type LoadSource =
  | { kind: "orders"; distinct: number; seed: number; customers: number; webhookPrefix: string; orderIdBase: number }
  | { kind: "scenario"; seed: number; deliveries: number };

export type LoadgenConfig = {
  port: number;
  path?: string;
  mode: "closed" | "open";
  connections: number;
  durationMs: number;
  /** open loop: deliveries per second */
  rate?: number;
  /** hard bound on deliveries sent */
  maxRequests: number;
  /** closed-loop warm-up before measuring (not recorded) */
  warmupMs?: number;
  source: LoadSource;
};

export type LoadResult = {
  mode: "closed" | "open";
  connections: number;
  rate: number | null;
  sent: number;
  completed: number;
  errors: number;
  statuses: Record<string, number>;
  elapsedSeconds: number;
  /** 2xx responses per second over the measured window */
  ackPerSecond: number;
  latencyMs: Percentiles;
  maxLagMs?: number;
  /** CPU time of the load generator over the window, % of one core */
  loadgenCpuPercent: number;
};

export type Percentiles = { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };

export function percentiles(values: ArrayLike<number>): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!);
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    p50: round(at(0.5)),
    p90: round(at(0.9)),
    p99: round(at(0.99)),
    p999: round(at(0.999)),
    max: round(sorted.length ? sorted[sorted.length - 1]! : NaN),
    mean: round(sorted.length ? sum / sorted.length : NaN),
  };
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Parses --name=value / --name value flags into a map (numbers where numeric). */
export function parseFlags(argv = process.argv.slice(2)): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) continue;
    const eq = arg.indexOf("=");
    if (eq > 0) flags[arg.slice(2, eq)] = arg.slice(eq + 1);
    else if (argv[i + 1] && !argv[i + 1]!.startsWith("--")) flags[arg.slice(2)] = argv[++i]!;
    else flags[arg.slice(2)] = "true";
  }
  return flags;
}

export function numberFlag(flags: Record<string, string>, name: string, fallback: number): number {
  const value = flags[name];
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`--${name} must be a non-negative number, got ${value}`);
  return parsed;
}

export function machine() {
  const list = cpus();
  return { cores: list.length, cpu: list[0]?.model ?? "unknown", node: process.version };
}

/** Prints the machine-readable result (one JSON document) and the human summary. */
export function report(name: string, result: unknown, summary: string[]): void {
  process.stdout.write(`${JSON.stringify({ bench: name, machine: machine(), ...(result as object) })}\n`);
  process.stdout.write(`\n== ${name} ==\n${summary.join("\n")}\n\n`);
}

/** Tiny deterministic PRNG (mulberry32): the same seed gives the same deliveries in every process. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Polls fn until it returns true or the timeout passes (then throws). */
export async function waitUntil(what: string, fn: () => Promise<boolean>, timeoutMs: number, everyMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not done after ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/** CPU time (user + system, ms) a process has used, from /proc; 0 if it is gone. */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ = 100 on Linux
  } catch {
    return 0;
  }
}

/**
 * CPU accounting for a set of processes: the PostgreSQL backends serving one database
 * (found through pg_stat_activity), named child processes and Redis. Reports CPU-ms per
 * unit of work, which stays meaningful when other work shares the machine.
 */
export class CpuMeter {
  private start = new Map<number, number>();
  private seen = new Map<number, string>();
  private startedAt = 0;
  private machineAtStart = cpuTotals();

  constructor(
    private readonly admin: pg.Client,
    private readonly database: string,
    private readonly processes: Record<string, number | undefined>,
  ) {}

  private async backends(): Promise<number[]> {
    const { rows } = await this.admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [this.database]);
    return rows.map((r) => r.pid);
  }

  private redisPid(): number | undefined {
    try {
      return Number(execFileSync("pidof", ["redis-server"]).toString().trim().split(" ")[0]) || undefined;
    } catch {
      return undefined;
    }
  }

  async begin(): Promise<void> {
    this.startedAt = performance.now();
    this.machineAtStart = cpuTotals();
    for (const [name, pid] of Object.entries(this.processes)) if (pid) this.track(pid, name);
    const redis = this.redisPid();
    if (redis) this.track(redis, "redis");
    for (const pid of await this.backends()) this.track(pid, "postgres");
  }

  private track(pid: number, name: string) {
    if (this.seen.has(pid)) return;
    this.seen.set(pid, name);
    this.start.set(pid, cpuMsOf(pid));
  }

  /** Call now and then during the run: backends that appear later are counted from their start. */
  async poll(): Promise<void> {
    for (const pid of await this.backends()) if (!this.seen.has(pid)) {
      this.seen.set(pid, "postgres");
      this.start.set(pid, 0);
    }
  }

  /**
   * cores: each tracked process's CPU in cores; machine: the whole machine over the same time
   * (busy cores, and cores stolen by the hypervisor: a run with steal had less CPU than it counts).
   */
  async end(): Promise<{ seconds: number; cpuMs: Record<string, number>; cores: Record<string, number>; machine: { busyCores: number; stealCores: number } }> {
    await this.poll();
    const seconds = (performance.now() - this.startedAt) / 1000;
    const cpuMs: Record<string, number> = {};
    for (const [pid, name] of this.seen) cpuMs[name] = (cpuMs[name] ?? 0) + Math.max(0, cpuMsOf(pid) - this.start.get(pid)!);
    const cores = Object.fromEntries(Object.entries(cpuMs).map(([k, v]) => [k, round(v / 1000 / seconds, 2)]));
    const now = cpuTotals();
    const ticks = Math.max(1, now.total - this.machineAtStart.total);
    const share = (delta: number) => round((delta / ticks) * cpus().length, 2);
    return { seconds: round(seconds, 2), cpuMs, cores, machine: { busyCores: share(now.busy - this.machineAtStart.busy), stealCores: share(now.steal - this.machineAtStart.steal) } };
  }
}

/** The machine's CPU time so far (/proc/stat, in clock ticks): busy, stolen by the hypervisor, total. */
function cpuTotals(): { busy: number; steal: number; total: number } {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, steal: fields[7] ?? 0, total };
}

/**
 * How busy the machine is before a bench starts (cores in use by other work, sampled for
 * `ms`). The benches print it: on a shared 2-core machine it explains slow runs.
 */
export async function backgroundCores(ms = 2_000): Promise<number> {
  const a = cpuTotals();
  await sleep(ms);
  const b = cpuTotals();
  return round(((b.busy - a.busy) / Math.max(1, b.total - a.total)) * cpus().length, 2);
}
