// `npm run demo`: the app, the worker and the local Shopify twin with a generated store, on
// this machine, with the admin UI reachable in a browser. One process that:
//   1. creates the demo database if missing and runs `npm run setup` on it (clearing the
//      demo shop's rows from earlier runs), and empties its Redis database index;
//   2. builds the app if build/index.js is missing or older than the sources;
//   3. starts the twin (in this process) with a generated store whose history ends now (or
//      the store of --store-file), then the app
//      (`node build/index.js`, SHOPIFY_TWIN_URL, APP_BRIDGE_URL) and the worker
//      (`node --import tsx jobs/worker.ts`) as child processes;
//   4. installs the app on the demo shop through the real auth flow: opens the embedded
//      app URL with a session token, and the app performs token exchange with the twin;
//   5. starts a mail catcher (tests/twin/mail-catcher.ts: an SMTP server on loopback whose
//      caught messages are served on a page; the worker sends to it through SMTP_URL) and,
//      once the history is in, queues a test email to a few customers: `Mail catcher: <url>`;
//   6. creates example content through the CLI's services (tests/twin/demo-content.ts:
//      segments, a loyalty program, feedback rules, the automation templates; idempotent);
//   7. prints `Admin UI: <url>`: a twin page (the twin plays the Shopify admin) that mints
//      a fresh session token and redirects to the embedded app, so it never goes stale;
//   8. the install started the history import (bulk operations on the twin, completed by
//      its bulk_operations/finish webhook, run by the worker): prints its progress until it
//      is done, then sends live traffic as signed webhooks at a low rate until stopped
//      (Ctrl-C or SIGTERM), and stops everything it started.
//
// Options (flags, or environment):
//   --customers N   DEMO_CUSTOMERS   store size, 10..1,000,000 (default 2,000)
//   --seed S        DEMO_SEED        generator seed (default 1)
//   --store-file P  DEMO_STORE_FILE  load the twin's store from a JSON file instead (tests/twin/README.md, "Store files")
//   --repeat-factor F DEMO_REPEAT_FACTOR repeat buying, 1..20 (default 5: about 10,000 orders for 2,000 customers)
//   --port P        DEMO_PORT        app port (default 3457; 0 = any free port)
//   --twin-port P   DEMO_TWIN_PORT   twin port (default 3458; 0 = any free port)
//   --mail-port P   DEMO_MAIL_PORT   mail catcher page port (default 3459; 0 = any free port; its SMTP port is any free one)
//   --live-rate R   DEMO_LIVE_RATE   live store events per second after the import (default 0.5; 0 = none)
//   --shop NAME     DEMO_SHOP        shop name (default crm-demo -> crm-demo.myshopify.com)
//   --concurrency C DEMO_CONCURRENCY webhook deliveries in flight (default 8)
//   --log-dir DIR   DEMO_LOG_DIR     where the app's and worker's logs go (default a new temp dir)
//   DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/crm_demo)
//   REDIS_URL    (default redis://127.0.0.1:6379/12)
// When nothing listens at DATABASE_URL or REDIS_URL on this machine, the demo starts an
// embedded PostgreSQL (npm package, cluster kept in .data/postgres) or the machine's
// redis-server, and stops them when it ends (tests/support/local-services.ts).
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, type WriteStream } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import pg from "pg";
import { AdminTwin } from "./admin-graphql";
import { customerFromGen, orderFromGen } from "./admin-state";
import { generateStore, iso, type GenCustomer, type GenOrder, type SyntheticStore } from "./store-generator";
import { webhooksFor, type WebhookMessage } from "./webhook-payloads";
import { WebhookSender } from "./webhook-sender";
import { StoreFileError, loadStoreFile, readStoreFile } from "./store-file";
import { getLatestRun, statusOf } from "../../app/services/history-import/runs.server";
import { renderThemeAppBlock, storefrontPage } from "./theme-app-block";
import { LocalServiceError, ensureLocalServices, type LocalServices } from "../support/local-services";
import { tokenCipherFromEnv } from "../../app/shopify/token-encryption.server";
import { startMailCatcher, type MailCatcher } from "./mail-catcher";

const started = performance.now();
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const API_KEY = "crm-demo-api-key";
const API_SECRET = "crm-demo-api-secret";
const SCOPES = "read_customers,write_customers,read_orders,read_all_orders,read_products,write_products,read_discounts,write_discounts,write_app_proxy";
const DESKTOP_USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36";
/** Session tokens minted by the twin's admin page: Shopify's live 1 min, but the local App
 * Bridge stand-in cannot fetch new ones, so the demo's last a working day. */
const SESSION_TOKEN_SECONDS = 12 * 3600;
const REDIS_LEASE_PREFIX = "crm-test:redis-db-lease:"; // tests/support/env.ts: test runs skip a leased index

// ------------------------------------------------------------------ options

const { values: flags } = parseArgs({
  options: {
    customers: { type: "string" },
    "repeat-factor": { type: "string" },
    seed: { type: "string" },
    "store-file": { type: "string" },
    port: { type: "string" },
    "twin-port": { type: "string" },
    "mail-port": { type: "string" },
    "live-rate": { type: "string" },
    shop: { type: "string" },
    concurrency: { type: "string" },
    "log-dir": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (flags.help) {
  const lines = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n");
  const header = lines.slice(0, lines.findIndex((l) => !l.startsWith("//")));
  process.stdout.write(`${header.map((l) => l.replace(/^\/\/ ?/, "")).join("\n")}\n`);
  process.exit(0);
}

function numberOption(flag: string | undefined, envName: string, fallback: number, check: (n: number) => boolean, what: string): number {
  const raw = flag ?? process.env[envName];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw.replace(/_/g, ""));
  if (!Number.isFinite(n) || !check(n)) fail(`${envName} / --${what}: ${raw} is not valid`);
  return n;
}

function fail(message: string): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(2);
}

const CUSTOMERS = numberOption(flags.customers, "DEMO_CUSTOMERS", 2000, (n) => Number.isInteger(n) && n >= 10 && n <= 1_000_000, "customers");
const REPEAT_FACTOR = numberOption(flags["repeat-factor"], "DEMO_REPEAT_FACTOR", 5, (n) => n >= 1 && n <= 20, "repeat-factor");
const SEED = numberOption(flags.seed, "DEMO_SEED", 1, (n) => Number.isInteger(n) && n >= 0, "seed");
const APP_PORT = numberOption(flags.port, "DEMO_PORT", 3457, (n) => Number.isInteger(n) && n >= 0 && n < 65536, "port");
const TWIN_PORT = numberOption(flags["twin-port"], "DEMO_TWIN_PORT", 3458, (n) => Number.isInteger(n) && n >= 0 && n < 65536, "twin-port");
const MAIL_PORT = numberOption(flags["mail-port"], "DEMO_MAIL_PORT", 3459, (n) => Number.isInteger(n) && n >= 0 && n < 65536, "mail-port");
const LIVE_RATE = numberOption(flags["live-rate"], "DEMO_LIVE_RATE", 0.5, (n) => n >= 0 && n <= 100, "live-rate");
const CONCURRENCY = numberOption(flags.concurrency, "DEMO_CONCURRENCY", 8, (n) => Number.isInteger(n) && n >= 1 && n <= 64, "concurrency");
const STORE_NAME = (flags.shop ?? process.env.DEMO_SHOP ?? "crm-demo").replace(/\.myshopify\.com$/, "");
if (!/^[a-z0-9][a-z0-9-]*$/.test(STORE_NAME)) fail(`--shop ${STORE_NAME}: use lower-case letters, digits and dashes`);
const SHOP = `${STORE_NAME}.myshopify.com`;
const DATABASE_URL = process.env.DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/crm_demo";
const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379/12";
const STORE_FILE = flags["store-file"] ?? (process.env.DEMO_STORE_FILE || undefined);
if (STORE_FILE && !existsSync(STORE_FILE)) fail(`--store-file ${STORE_FILE}: no such file`);
const LOG_DIR = flags["log-dir"] ?? process.env.DEMO_LOG_DIR ?? mkdtempSync(path.join(tmpdir(), "crm-demo-"));
mkdirSync(LOG_DIR, { recursive: true });

// ------------------------------------------------------------------ output

const elapsed = () => ((performance.now() - started) / 1000).toFixed(1);
const say = (line: string) => process.stdout.write(`${line}\n`);
const step = (line: string) => say(`[${elapsed().padStart(6)} s] ${line}`);
const fmt = (n: number) => n.toLocaleString("en-US");

// ------------------------------------------------------------------ state for shutdown

type Child = { name: string; child: ChildProcess; log: WriteStream; logPath: string; exited: Promise<number | null>; code: number | null | undefined };
const children: Child[] = [];
let twin: AdminTwin | undefined;
let services: LocalServices | undefined;
let mailCatcher: MailCatcher | undefined;
let pool: pg.Pool | undefined;
let lease: { release: () => Promise<void>; timer: NodeJS.Timeout } | undefined;
let stopping = false;
let liveTimer: NodeJS.Timeout | undefined;
const inFlight = new Set<Promise<unknown>>();

function track<T>(p: Promise<T>): Promise<T> {
  inFlight.add(p);
  void p.finally(() => inFlight.delete(p)).catch(() => undefined);
  return p;
}

async function shutdown(reason: string, exitCode: number): Promise<never> {
  if (stopping) return new Promise<never>(() => undefined);
  stopping = true;
  step(`Stopping (${reason})...`);
  if (liveTimer) clearInterval(liveTimer);
  await Promise.race([Promise.allSettled([...inFlight]), sleep(5_000)]);
  for (const c of children) if (c.code === undefined) c.child.kill("SIGTERM");
  const deadline = setTimeout(() => {
    for (const c of children) if (c.code === undefined) c.child.kill("SIGKILL");
  }, 15_000);
  const codes = await Promise.all(children.map((c) => c.exited));
  clearTimeout(deadline);
  await twin?.close().catch(() => undefined);
  await mailCatcher?.close().catch(() => undefined);
  if (lease) {
    clearInterval(lease.timer);
    await lease.release().catch(() => undefined);
  }
  await pool?.end().catch(() => undefined);
  await services?.stop().catch(() => undefined);
  for (const c of children) c.log.end();
  say(`Stopped: ${children.map((c, i) => `${c.name} exited (${codes[i] ?? "signal"})`).join(", ") || "nothing was running"}. Logs: ${LOG_DIR}`);
  process.exit(exitCode);
}

process.on("SIGINT", () => void shutdown("SIGINT", 0));
process.on("SIGTERM", () => void shutdown("SIGTERM", 0));

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ helpers

function run(command: string, args: string[], env: NodeJS.ProcessEnv, logName: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const logPath = path.join(LOG_DIR, `${logName}.log`);
    const log = createWriteStream(logPath);
    const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.once("error", reject);
    child.once("exit", (code) => {
      log.end();
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(" ")} failed (exit ${code}); see ${logPath}:\n${tail(logPath)}`));
    });
  });
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

async function portFree(port: number): Promise<boolean> {
  if (port === 0) return true;
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no free port"))));
    });
  });
}

async function choosePort(wanted: number, what: string): Promise<number> {
  if (wanted !== 0 && (await portFree(wanted))) return wanted;
  const port = await freePort();
  if (wanted !== 0) step(`Port ${wanted} is in use; the ${what} uses ${port} instead.`);
  return port;
}

// ------------------------------------------------------------------ database and Redis

/** Node option that unrefs long timers: the Prisma CLI otherwise idles ~10 s after finishing (STACK-NOTES). */
const UNREF_LONG_TIMERS = `--import=data:text/javascript,${encodeURIComponent(
  'for (const k of ["setTimeout", "setInterval"]) { const o = globalThis[k]; globalThis[k] = function (f, ms, ...a) { const t = o.call(this, f, ms, ...a); if (ms >= 1000 && t && t.unref) t.unref(); return t; }; }',
)}`;

function migrationNames(): string[] {
  return readdirSync(path.join(REPO_ROOT, "prisma/migrations")).filter((d) => !d.endsWith(".toml"));
}

async function appliedMigrations(client: pg.Pool): Promise<number> {
  const { rows } = await client
    .query<{ n: string }>(`SELECT count(DISTINCT migration_name) AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL AND migration_name = ANY($1)`, [migrationNames()])
    .catch(() => ({ rows: [{ n: "0" }] }));
  return Number(rows[0]?.n ?? 0);
}

async function prepareDatabase(): Promise<void> {
  const url = new URL(DATABASE_URL);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) fail(`DATABASE_URL: database name ${name} must be a plain identifier`);
  const adminUrl = new URL(DATABASE_URL);
  adminUrl.pathname = "/postgres";
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect().catch((e: Error) => fail(`cannot reach PostgreSQL at ${url.host}: ${e.message}`));
  try {
    const exists = await admin.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [name]);
    if (!exists.rowCount) {
      await admin.query(`CREATE DATABASE ${name}`);
      step(`Created database ${name}.`);
    }
  } finally {
    await admin.end();
  }
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} ${UNREF_LONG_TIMERS}`.trim() };
  await run("npm", ["run", "--silent", "setup"], env, "setup");
  pool = new pg.Pool({ connectionString: DATABASE_URL, max: 3 });
  if ((await appliedMigrations(pool)) < migrationNames().length) {
    // The timer preload must never cost correctness: run it again plainly.
    await run("npm", ["run", "--silent", "setup"], { ...process.env, DATABASE_URL }, "setup-retry");
    if ((await appliedMigrations(pool)) < migrationNames().length) fail(`npm run setup did not apply every migration to ${name}; see ${LOG_DIR}/setup-retry.log`);
  }
  // A fresh demo shop: earlier runs' rows of this shop go (other shops are untouched).
  const { rows } = await pool.query<{ table_name: string }>(
    `SELECT DISTINCT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'shop'`,
  );
  for (const { table_name } of rows) await pool.query(`DELETE FROM "${table_name}" WHERE shop = $1`, [SHOP]);
  await pool.query(`DELETE FROM shops WHERE domain = $1`, [SHOP]).catch(() => undefined);
  step(`Database ${name} migrated (npm run setup), demo shop data cleared.`);
}

async function prepareRedis(): Promise<void> {
  const url = new URL(REDIS_URL);
  const index = Number(url.pathname.replace(/^\//, "") || "0");
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  await client.connect().catch((e: Error) => fail(`cannot reach Redis at ${url.host}: ${e.message}`));
  try {
    if (index === 0) step("REDIS_URL uses database 0: not emptied (use another index, e.g. redis://127.0.0.1:6379/12).");
    else await client.flushdb();
  } finally {
    client.disconnect();
  }
  // Hold the test suite's lease on this index so a concurrent `npm test` does not flush it.
  if (index > 0) {
    const base = new URL(REDIS_URL);
    base.pathname = "/0";
    const holder = new Redis(base.toString(), { maxRetriesPerRequest: 1 });
    holder.on("error", () => undefined);
    const key = `${REDIS_LEASE_PREFIX}${index}`;
    const token = `demo:${process.pid}`;
    const take = () => holder.set(key, token, "PX", 10 * 60_000, "NX").then((ok) => ok === "OK" || holder.get(key).then((v) => v === token));
    const taken = await take().catch(() => false);
    if (taken) {
      const timer = setInterval(() => void holder.set(key, token, "PX", 10 * 60_000).catch(() => undefined), 60_000);
      lease = {
        timer,
        release: async () => {
          if ((await holder.get(key)) === token) await holder.del(key);
          holder.disconnect();
        },
      };
    } else {
      holder.disconnect();
    }
  }
  step(`Redis ${url.host} database ${index} ready${index > 0 ? " (emptied)" : ""}.`);
}

// ------------------------------------------------------------------ build

function newestMtime(target: string): number {
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  return newest;
}

async function ensureBuild(): Promise<void> {
  const entry = path.join(REPO_ROOT, "build/index.js");
  const sources = ["app", "remix.config.js", "package.json"].map((p) => path.join(REPO_ROOT, p)).filter(existsSync);
  const stale = !existsSync(entry) || Math.max(...sources.map(newestMtime)) > statSync(entry).mtimeMs;
  if (!stale) return;
  step(existsSync(entry) ? "Sources changed since the last build: building the app (npm run build)..." : "Building the app (npm run build)...");
  await run("npm", ["run", "--silent", "build"], process.env, "build");
  step("App built.");
}

// ------------------------------------------------------------------ children

function startChild(name: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const logPath = path.join(LOG_DIR, `${name}.log`);
  const log = createWriteStream(logPath, { flags: "a" });
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const handle: Child = {
    name,
    child,
    log,
    logPath,
    code: undefined,
    exited: new Promise((resolve) => child.once("exit", (code) => resolve(code))),
  };
  void handle.exited.then(async (code) => {
    handle.code = code;
    // Ctrl-C reaches the whole terminal process group: the children may see it first.
    await sleep(500);
    if (!stopping) {
      say(`${name} exited unexpectedly (exit ${code ?? "by signal"}). Last lines of ${logPath}:\n${tail(logPath)}`);
      void shutdown(`${name} exited`, 1);
    }
  });
  children.push(handle);
  return handle;
}

async function waitForHealth(origin: string, app: Child): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (app.code !== undefined) throw new Error(`the app exited before answering /healthz:\n${tail(app.logPath)}`);
    const ok = await fetch(`${origin}/healthz`).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`the app did not answer /healthz within 60 s:\n${tail(app.logPath)}`);
    await sleep(100);
  }
}

// ------------------------------------------------------------------ install

async function install(): Promise<void> {
  // The merchant opens the app in the admin: the twin's admin page redirects to the embedded
  // URL with a fresh session token; the app's first document load performs token exchange.
  const opened = await fetch(`${twin!.url}/store/${STORE_NAME}/apps/${API_KEY}`, { redirect: "manual" });
  const location = opened.headers.get("location");
  if (opened.status !== 302 || !location) throw new Error(`twin admin page answered ${opened.status}`);
  const response = await fetch(location, { headers: { "user-agent": DESKTOP_USER_AGENT }, redirect: "manual" });
  const body = await response.text();
  if (response.status !== 200 && response.status !== 302) throw new Error(`opening the app answered ${response.status}: ${body.slice(0, 500)}`);
  const { rows } = await pool!.query<{ accessToken: string; expires: Date | null }>(`SELECT "accessToken", expires FROM "Session" WHERE id = $1`, [`offline_${SHOP}`]);
  const issued = twin!.auth.issuedTokens(SHOP);
  // Stored encrypted (decision 035): the app processes derive the key the same way without SESSION_ENCRYPTION_KEY.
  const cipher = tokenCipherFromEnv({ SHOPIFY_API_SECRET: API_SECRET, SESSION_ENCRYPTION_KEY: process.env.SESSION_ENCRYPTION_KEY || undefined, SESSION_ENCRYPTION_PREVIOUS_KEYS: process.env.SESSION_ENCRYPTION_PREVIOUS_KEYS });
  const stored = rows[0] ? cipher.decrypt(rows[0].accessToken) : null;
  if (!rows[0] || !issued.some((t) => t.token === stored))
    throw new Error(`the app did not store an offline session from token exchange (status ${response.status}); see ${LOG_DIR}/app.log`);
  const minutes = rows[0].expires ? Math.round((rows[0].expires.getTime() - Date.now()) / 60_000) : null;
  step(`Installed on ${SHOP}: the app exchanged a session token with the twin for an offline token${minutes !== null ? ` (expires in ${minutes} min, refreshable)` : ""}.`);
}

// ------------------------------------------------------------------ progress

type Counts = { customers: number; orders: number; inbox: number; pending: number; dead: number; ignored: number };
async function counts(): Promise<Counts> {
  const { rows } = await pool!.query<{ customers: string; orders: string; inbox: string; pending: string; dead: string; ignored: string }>(
    `SELECT (SELECT count(*) FROM customers WHERE shop = $1) AS customers,
            (SELECT count(*) FROM orders WHERE shop = $1) AS orders,
            count(*) AS inbox,
            count(*) FILTER (WHERE status IN ('received', 'failed')) AS pending,
            count(*) FILTER (WHERE status = 'dead') AS dead,
            count(*) FILTER (WHERE status = 'ignored') AS ignored
       FROM webhook_events WHERE shop = $1`,
    [SHOP],
  );
  const r = rows[0]!;
  return { customers: Number(r.customers), orders: Number(r.orders), inbox: Number(r.inbox), pending: Number(r.pending), dead: Number(r.dead), ignored: Number(r.ignored) };
}

// ------------------------------------------------------------------ history import

/**
 * Follows the history import the install started (the worker runs it: bulk operations on the
 * twin, completed by its bulk_operations/finish webhook), printing `import status` figures
 * until it is done. Nothing of the history arrives as webhooks.
 */
async function followImport(expected: { customers: number; orders: number; products: number }): Promise<void> {
  const importStarted = performance.now();
  let last = "";
  let lastAt = 0;
  for (;;) {
    if (stopping) return;
    const run = await getLatestRun(pool!, SHOP);
    const status = run ? statusOf(run) : null;
    if (status?.state === "failed") throw new Error(`the history import failed: ${status.error ?? "unknown error"}; see ${LOG_DIR}/worker.log`);
    if (status?.state === "done") {
      const c = await counts();
      say(
        `History imported: ${fmt(c.customers)} customers, ${fmt(c.orders)} orders, ${fmt(status.products)} products (bulk operations; ${fmt(c.inbox)} webhooks received meanwhile) ` +
          `in ${((performance.now() - importStarted) / 1000).toFixed(1)} s (${elapsed()} s since start).`,
      );
      if (status.warning) step(`Import warning: ${status.warning}`);
      return;
    }
    const line = status
      ? `Importing history (${run!.phase === "finalize" ? "recomputing aggregates, RFM, tiers, segments" : "bulk operations"}): customers ${fmt(status.customers)}/${fmt(expected.customers)}, ` +
        `orders ${fmt(status.orders)}/${fmt(expected.orders)}, products ${fmt(status.products)}/${fmt(expected.products)}`
      : "Waiting for the worker to start the history import...";
    if (line !== last || Date.now() - lastAt > 10_000) {
      step(line);
      last = line;
      lastAt = Date.now();
    }
    await sleep(250);
  }
}

/**
 * Example segments, loyalty program, feedback rules and automations (tests/twin/demo-content.ts),
 * through the CLI's services, in this process: `contentModule` was imported while the database
 * was prepared, and the app's environment is set here before its first use.
 */
async function createExampleContent(contentModule: Promise<typeof import("./demo-content")>, env: NodeJS.ProcessEnv): Promise<void> {
  for (const [key, value] of Object.entries(env)) if (value !== undefined) process.env[key] = value;
  const { createDemoContent } = await contentModule;
  const r = await createDemoContent(SHOP).catch((error: Error) => {
    throw new Error(`example content not created: ${error.message}`);
  });
  step(
    `Example content: ${r.segments.created + r.segments.existing} segments (${r.segments.created} new), a loyalty program (${r.loyalty}), feedback rules (${r.feedbackRules}), ` +
      `${r.automations.created + r.automations.existing} automation templates, switched off (${r.automations.created} new).`,
  );
}

// ------------------------------------------------------------------ live traffic

/**
 * New store activity after the history, built from the same generator: orders by known
 * customers and guests (order indexes past the history's), new customers (customer
 * indexes past the store's, from a larger store with the same seed), fulfilments of live
 * orders. Each also lands in the twin's Admin state.
 */
class LiveStore {
  private nextOrder: number;
  private nextCustomer: number;
  private readonly larger: SyntheticStore | undefined;
  private readonly liveCustomers: GenCustomer[] = [];
  private readonly unfulfilled: { order: GenOrder; customer: GenCustomer | null }[] = [];
  private seq = 0;
  readonly sent = { orders: 0, customers: 0, fulfilments: 0 };

  /** `knownCustomers`: how many of the generator's customers the twin holds (0 with --store-file). */
  constructor(
    private readonly store: SyntheticStore,
    historyOrders: number,
    private readonly knownCustomers: number,
  ) {
    this.nextOrder = historyOrders;
    this.nextCustomer = store.customerCount;
    this.larger = store.customerCount < 1_000_000 ? generateStore({ seed: store.seed, customers: Math.min(1_000_000, store.customerCount + 100_000), shopDomain: store.shopDomain, repeatFactor: store.repeatFactor }) : undefined;
  }

  private pickCustomer(): GenCustomer | null {
    const pool = this.knownCustomers + this.liveCustomers.length;
    if (pool === 0) return null;
    const i = (this.seq * 7_919 + 13) % pool;
    return i < this.knownCustomers ? this.store.customer(i) : this.liveCustomers[i - this.knownCustomers]!;
  }

  private order(customer: GenCustomer | null, at: string): GenOrder {
    const base = this.store.order(this.nextOrder++, null, Date.parse(at));
    return {
      ...base,
      customerId: customer?.id ?? null,
      customerIndex: customer?.index ?? null,
      email: customer?.email ?? base.email,
      guestAddress: customer ? null : base.guestAddress,
      createdAt: at,
      updatedAt: at,
      cancel: null,
      fulfillment: null,
      refunds: [],
      financialStatus: "paid",
    };
  }

  /** The webhooks of the next live event. */
  next(): WebhookMessage[] {
    const at = iso(Date.now());
    const roll = this.seq++ % 20;
    const state = twin!.shop(SHOP);
    if (roll < 3 && this.larger && this.nextCustomer < this.larger.customerCount) {
      const c0 = this.larger.customer(this.nextCustomer++);
      const customer: GenCustomer = {
        ...c0,
        createdAt: at,
        updatedAt: at,
        emailMarketing: { ...c0.emailMarketing, consentUpdatedAt: c0.emailMarketing.consentUpdatedAt ? at : null },
      };
      this.liveCustomers.push(customer);
      state.putCustomer(customerFromGen(customer));
      this.sent.customers++;
      return webhooksFor({ kind: "customer.created", at, customer });
    }
    if (roll < 6 && this.unfulfilled.length > 0) {
      const { order, customer } = this.unfulfilled.shift()!;
      const fulfilled: GenOrder = { ...order, updatedAt: at, fulfillment: { id: 5_100_000_000_000n + BigInt(order.index) * 3n, orderId: order.id, createdAt: at, status: "success", trackingNumber: `1ZDEMO${order.index}` } };
      state.putOrder(orderFromGen(fulfilled));
      this.sent.fulfilments++;
      return webhooksFor({ kind: "order.fulfilled", at, order: fulfilled, customer });
    }
    const customer = roll === 19 ? null : this.pickCustomer();
    const order = this.order(customer, at);
    this.unfulfilled.push({ order, customer });
    state.putOrder(orderFromGen(order));
    this.sent.orders++;
    return webhooksFor({ kind: "order.created", at, order, customer });
  }
}

function startLiveTraffic(store: SyntheticStore, sender: WebhookSender, historyOrders: number, knownCustomers: number) {
  if (LIVE_RATE <= 0) {
    step("Live traffic off (--live-rate 0). Press Ctrl-C to stop.");
    return;
  }
  const live = new LiveStore(store, historyOrders, knownCustomers);
  step(`Sending live traffic: about ${LIVE_RATE} store events per second (new orders, customers, fulfilments). Press Ctrl-C to stop.`);
  let busy = false;
  let lastReport = Date.now();
  liveTimer = setInterval(() => {
    if (busy || stopping) return;
    busy = true;
    void track(sender.send(live.next()))
      .catch(() => undefined)
      .finally(() => {
        busy = false;
      });
    if (Date.now() - lastReport >= 30_000) {
      lastReport = Date.now();
      void counts()
        .then((c) =>
          step(`Live: ${fmt(live.sent.orders)} orders, ${fmt(live.sent.customers)} new customers, ${fmt(live.sent.fulfilments)} fulfilments sent; store has ${fmt(c.customers)} customers, ${fmt(c.orders)} orders; ${fmt(c.pending)} pending.`),
        )
        .catch(() => undefined);
    }
  }, Math.max(10, Math.round(1000 / LIVE_RATE)));
}

// ------------------------------------------------------------------ email

/** Queues a test email to a few customers (tests/twin/demo-email.ts); the worker delivers them to the mail catcher. */
async function sendDemoEmails(env: NodeJS.ProcessEnv): Promise<void> {
  const out = await new Promise<string>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "tests/twin/demo-email.ts", SHOP, "3"], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
    child.on("exit", (code) => resolve(code === 0 ? text.trim() : `failed: ${text.trim().slice(-300)}`));
  });
  step(/^\d+$/.test(out) ? `Queued ${out} test email(s); open them in the mail catcher: ${mailCatcher?.httpUrl}` : `Test emails not queued (${out}).`);
}

// ------------------------------------------------------------------ main

async function main() {
  say(`CRM demo: a generated store of ${fmt(CUSTOMERS)} customers (seed ${SEED}) on ${SHOP}, the app, the worker and the Shopify twin.`);
  say(`Database ${DATABASE_URL.replace(/\/\/[^@/]*@/, "//")}, Redis ${REDIS_URL}, logs in ${LOG_DIR}`);
  services = await ensureLocalServices({ databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, stateDir: path.join(REPO_ROOT, ".data"), log: step }).catch(
    (error: unknown) => (error instanceof LocalServiceError ? fail(error.message) : Promise.reject(error)),
  );
  const appPort = await choosePort(APP_PORT, "app");
  const twinPort = await choosePort(TWIN_PORT, "twin");
  const mailPort = await choosePort(MAIL_PORT, "mail catcher");
  const appOrigin = `http://127.0.0.1:${appPort}`;

  // Independent preparation in parallel: database, Redis, build, twin with its store. The
  // generated history ends now, so "last 30 days" and RFM recency mean what they say.
  const store = generateStore({ seed: SEED, customers: CUSTOMERS, shopDomain: SHOP, repeatFactor: REPEAT_FACTOR, now: Date.now() });
  const twinReady = (async () => {
    twin = new AdminTwin({
      defaultShop: SHOP,
      apps: [{ apiKey: API_KEY, apiSecret: API_SECRET, scopes: SCOPES.split(","), appUrl: appOrigin }],
      authLifetimes: { sessionTokenSeconds: SESSION_TOKEN_SECONDS },
      // bulk_operations/finish (and any twin webhook) to the app's shopify.app.toml subscriptions, as Shopify does for an installed app.
      webhooks: { tomlSubscriptions: true },
    });
    await twin.listen(twinPort, "127.0.0.1");
    const shopState = twin.shop(SHOP);
    if (STORE_FILE) loadStoreFile(shopState, readStoreFile(STORE_FILE));
    else shopState.loadStore(store);
    const held = { customers: shopState.customers.size, orders: shopState.orders.size, products: shopState.products.size };
    step(`Twin listening on ${twin.url} with ${STORE_FILE ? `the store of ${STORE_FILE}` : "the generated store"} (${fmt(held.products)} products, ${fmt(held.customers)} customers, ${fmt(held.orders)} orders)${STORE_FILE ? "" : `, history ending ${new Date(store.endMs).toISOString()}`}.`);
    return held;
  })().catch((error: unknown) => (error instanceof StoreFileError ? fail(`--store-file ${STORE_FILE}: ${error.message}`) : Promise.reject(error)));
  // The app's services for the example content load meanwhile (they read the environment only when used).
  const contentModule = import("./demo-content");
  contentModule.catch(() => undefined);
  const [held] = await Promise.all([twinReady, prepareDatabase(), prepareRedis(), ensureBuild()]);
  mailCatcher = await startMailCatcher({ httpPort: mailPort, maxMessages: 1_000 });

  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "development",
    DATABASE_URL,
    REDIS_URL,
    SHOPIFY_API_KEY: API_KEY,
    SHOPIFY_API_SECRET: API_SECRET,
    SHOPIFY_APP_URL: appOrigin,
    SCOPES,
    HOST: "127.0.0.1",
    PORT: String(appPort),
    SHOPIFY_TWIN_URL: twin!.url,
    APP_BRIDGE_URL: `${appOrigin}/dev/app-bridge.js`,
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
    SMTP_URL: mailCatcher.smtpUrl,
    EMAIL_FROM_ADDRESS: `no-reply@${STORE_NAME}.example.test`,
    EMAIL_SWEEP_INTERVAL_MS: "2000",
    // The worker picks up the import the install starts within a second, not ten.
    IMPORT_SWEEP_INTERVAL_MS: process.env.IMPORT_SWEEP_INTERVAL_MS ?? "1000",
  };
  // The example content exists before the install, so the import's recompute fills the segments and tiers.
  const content = track(createExampleContent(contentModule, childEnv));
  const app = startChild("app", ["--enable-source-maps", "build/index.js"], { ...childEnv, CRM_SERVICE: "crm-web" });
  const worker = startChild("worker", ["--import", "tsx", "jobs/worker.ts"], childEnv);
  step(`Started app pid=${app.child.pid} on ${appOrigin}, worker pid=${worker.child.pid}.`);
  await Promise.all([waitForHealth(appOrigin, app), content]);
  await install();

  say(`Admin UI: ${twin!.url}/store/${STORE_NAME}/apps/${API_KEY}`);
  // The storefront: the loyalty block on a page, its /apps/crm calls signed by the twin's app proxy.
  twin!.storefront.setApp({ apiSecret: API_SECRET, appUrl: appOrigin });
  const loyaltyBlock = await renderThemeAppBlock({ extension: "loyalty", block: "loyalty-balance" });
  twin!.storefront.setPage(SHOP, "/pages/rewards", storefrontPage({ title: "Rewards", block: loyaltyBlock }));
  say(`Mail catcher: ${mailCatcher.httpUrl} (the emails the app sends; SMTP ${mailCatcher.smtpUrl})`);
  const firstCustomer = STORE_FILE ? twin!.shop(SHOP).customers.keys().next().value : store.customer(0).id;
  if (firstCustomer !== undefined) say(`Storefront (signed in as the first customer): ${twin!.url}/account/login?customer_id=${String(firstCustomer)}&return_to=/pages/rewards`);
  step(`Admin UI ready ${elapsed()} s after start (the link opens the embedded app with a fresh session token; the twin plays the Shopify admin).`);

  // The history arrives by the import the install started; then live traffic as webhooks.
  await followImport(held);
  const sender = new WebhookSender({
    targetBaseUrl: appOrigin,
    secret: API_SECRET,
    shopDomain: SHOP,
    concurrency: CONCURRENCY,
    retry: { retries: 8, baseDelayMs: 200, maxDelayMs: 5_000 },
    seed: SEED,
  });
  if (!stopping) void track(sendDemoEmails(childEnv)); // alongside the live traffic, not before it
  // Live orders number on from the generator's history (a store file's orders are not the generator's).
  let historyOrders = 0;
  if (!STORE_FILE) for (const _ of store.orderSlots()) historyOrders++;
  if (!stopping) startLiveTraffic(store, sender, historyOrders, STORE_FILE ? 0 : store.customerCount);
}

main().catch((error: Error) => {
  process.stderr.write(`demo: ${error.message}\n`);
  void shutdown("error", 1);
});
