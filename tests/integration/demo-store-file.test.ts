// `npm run demo -- --store-file <path>`: the twin holds the store of the file (tests/fixtures/
// store-small.json), the install imports it through bulk operations (every customer and order
// of the file in the demo database, none delivered as a webhook), live traffic follows, and
// SIGTERM stops everything. A missing file is refused before anything starts.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb } from "../../app/db.server";
import { closeQueues } from "../../app/queues.server";
import { ADMIN_DATABASE_URL, databaseUrl } from "../support/database";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { REPO_ROOT } from "../support/admin-app-server";

const SHOP = "small-wool.myshopify.com";
const STORE_FILE = path.join(REPO_ROOT, "tests/fixtures/store-small.json");
const EGRESS_GUARD = path.join(REPO_ROOT, "tests/support/admin-egress-guard.mjs");

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
const demoDb = `crm_demo_file_test_${randomBytes(4).toString("hex")}`;
const logDir = mkdtempSync(path.join(tmpdir(), "crm-demo-file-test-"));
let demo: ChildProcess | undefined;
let output = "";
let db: pg.Pool;

beforeAll(async () => {
  env = await useIntegrationEnv();
  db = new pg.Pool({ connectionString: databaseUrl(demoDb), max: 2 });
});

afterAll(async () => {
  if (demo && demo.exitCode === null && demo.signalCode === null) {
    const m = /Started app pid=(\d+) on \S+, worker pid=(\d+)/.exec(output);
    for (const pid of m ? [Number(m[1]), Number(m[2])] : []) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    demo.kill("SIGKILL");
  }
  await db?.end().catch(() => undefined);
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${demoDb} WITH (FORCE)`);
  await admin.end();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
  rmSync(logDir, { recursive: true, force: true });
});

async function waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(output);
    if (m) return m;
    if (demo!.exitCode !== null) throw new Error(`the demo exited (${demo!.exitCode}) before printing ${pattern}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`the demo did not print ${pattern} within ${timeoutMs} ms:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const demoEnv = () => childProcessEnv({ DATABASE_URL: databaseUrl(demoDb), REDIS_URL: env.REDIS_URL, LOG_LEVEL: "warn", NODE_OPTIONS: `--import ${EGRESS_GUARD}` });

describe("npm run demo -- --store-file", () => {
  it("refuses a missing store file before starting anything", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "tests/twin/demo.ts", "--store-file", path.join(logDir, "nope.json")], { cwd: REPO_ROOT, env: demoEnv(), encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--store-file .*nope\.json: no such file/);
  });

  it("imports the file's store on install, then sends live traffic", { timeout: 240_000 }, async () => {
    const doc = JSON.parse(readFileSync(STORE_FILE, "utf8")) as { customers: { id: number | string }[]; orders: { id: number | string }[]; products: unknown[] };
    demo = spawn(
      process.execPath,
      ["--import", "tsx", "tests/twin/demo.ts", "--shop", "small-wool", "--store-file", STORE_FILE, "--port", "0", "--twin-port", "0", "--mail-port", "0", "--live-rate", "5", "--log-dir", logDir],
      { cwd: REPO_ROOT, env: demoEnv(), stdio: ["ignore", "pipe", "pipe"] },
    );
    demo.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    demo.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => demo!.once("exit", (code) => resolve(code)));

    await waitForOutput(new RegExp(`with the store of ${STORE_FILE.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(${doc.products.length} products, ${doc.customers.length} customers, ${doc.orders.length} orders\\)`), 120_000);
    const imported = await waitForOutput(/^History imported: ([\d,]+) customers, ([\d,]+) orders/m, 180_000);
    expect([Number(imported[1]), Number(imported[2])]).toEqual([doc.customers.length, doc.orders.length]);
    const customerGids = doc.customers.map((c) => `gid://shopify/Customer/${c.id}`);
    const orderGids = doc.orders.map((o) => `gid://shopify/Order/${o.id}`);
    expect(Number((await db.query(`SELECT count(*) AS n FROM customers WHERE shop = $1 AND gid = ANY($2)`, [SHOP, customerGids])).rows[0].n)).toBe(doc.customers.length);
    expect(Number((await db.query(`SELECT count(*) AS n FROM orders WHERE shop = $1 AND gid = ANY($2)`, [SHOP, orderGids])).rows[0].n)).toBe(doc.orders.length);
    const ids = new Set([...doc.customers, ...doc.orders].map((o) => String(o.id)));
    const { rows } = await db.query<{ id: string | null }>(`SELECT substring(payload from '"id":"?([0-9]+)') AS id FROM webhook_events WHERE shop = $1 AND (topic LIKE 'orders/%' OR topic LIKE 'customers/%')`, [SHOP]);
    expect(rows.filter((r) => r.id !== null && ids.has(r.id)), "the file's objects delivered as webhooks").toEqual([]);

    // Live traffic (new customers and their orders, guests) follows the import.
    const deadline = Date.now() + 30_000;
    while (Number((await db.query(`SELECT count(*) AS n FROM orders WHERE shop = $1`, [SHOP])).rows[0].n) <= doc.orders.length) {
      if (Date.now() > deadline) throw new Error(`no live orders within 30 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }

    demo.kill("SIGTERM");
    expect(await exited, output).toBe(0);
    expect(output).toMatch(/^Stopped: app exited \(0\), worker exited \(0\)/m);
  });
});
