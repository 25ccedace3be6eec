// `npm run demo` end to end, small: the demo process (tests/twin/demo.ts) on a database it
// creates and migrates itself, with a 50-customer store. It must print `Admin UI:`, apply
// the whole history (every generated customer in the demo database), keep sending live
// traffic, serve the Customers list in headless Chromium through the printed URL, and stop
// every process it started on SIGTERM. Nothing may leave the machine: the demo and its
// children run with the egress guard, the browser aborts non-loopback requests.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb } from "../../app/db.server";
import { closeQueues } from "../../jobs/queues";
import { ADMIN_DATABASE_URL, databaseUrl } from "../support/database";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { REPO_ROOT } from "../support/admin-app-server";
import { launchGuardedBrowser, watchPage, type GuardedBrowser } from "../support/browser";
import { generateStore } from "../twin/store-generator";

const CUSTOMERS = 50;
const SEED = 7;
const SHOP = "crm-demo.myshopify.com";
const EGRESS_GUARD = path.join(REPO_ROOT, "tests/support/admin-egress-guard.mjs");

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
const demoDb = `crm_demo_test_${randomBytes(4).toString("hex")}`;
const logDir = mkdtempSync(path.join(tmpdir(), "crm-demo-test-"));
let demo: ChildProcess;
let output = "";
let demoExit: Promise<number | null>;
let db: pg.Pool;
let guarded: GuardedBrowser | undefined;

beforeAll(async () => {
  env = await useIntegrationEnv(); // for its Redis database lease; the demo makes its own database
  demo = spawn(
    process.execPath,
    ["--import", "tsx", "tests/twin/demo.ts", "--customers", String(CUSTOMERS), "--repeat-factor", "1", "--seed", String(SEED), "--port", "0", "--twin-port", "0", "--live-rate", "5", "--log-dir", logDir],
    {
      cwd: REPO_ROOT,
      env: childProcessEnv({ DATABASE_URL: databaseUrl(demoDb), REDIS_URL: env.REDIS_URL, LOG_LEVEL: "warn", NODE_OPTIONS: `--import ${EGRESS_GUARD}` }),
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  demo.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  demo.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  demoExit = new Promise((resolve) => demo.once("exit", (code) => resolve(code)));
  db = new pg.Pool({ connectionString: databaseUrl(demoDb), max: 2 });
});

afterAll(async () => {
  await guarded?.close();
  if (demo && demo.exitCode === null && demo.signalCode === null) {
    for (const pid of childPids()) killQuietly(pid);
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

function killQuietly(pid: number) {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function childPids(): number[] {
  const m = /Started app pid=(\d+) on \S+, worker pid=(\d+)/.exec(output);
  return m ? [Number(m[1]), Number(m[2])] : [];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(output);
    if (m) return m;
    if (demo.exitCode !== null) throw new Error(`the demo exited (${demo.exitCode}) before printing ${pattern}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`the demo did not print ${pattern} within ${timeoutMs} ms:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const count = async (sql: string, params: unknown[] = []) => Number((await db.query<{ n: string }>(sql, params)).rows[0]!.n);

function egressLines(): string[] {
  const logs = readdirSync(logDir).map((f) => readFileSync(path.join(logDir, f), "utf8"));
  return [output, ...logs].flatMap((text) => text.split("\n").filter((l) => l.startsWith("EGRESS-BLOCKED")));
}

describe("npm run demo", () => {
  it("GIVEN a fresh database WHEN the demo runs THEN the admin UI shows the generated store and SIGTERM stops everything", { timeout: 300_000 }, async () => {
    const admin = await waitForOutput(/^Admin UI: (\S+)$/m, 180_000);
    const adminUrl = admin[1]!;
    const appOrigin = /Started app pid=\d+ on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)![1]!;
    const pids = childPids();
    expect(pids).toHaveLength(2);

    // Installed through the real token exchange: an expiring offline token from the twin.
    const [session] = (await db.query<{ accessToken: string; refreshToken: string | null }>(`SELECT "accessToken", "refreshToken" FROM "Session" WHERE id = $1`, [`offline_${SHOP}`])).rows;
    expect(session?.accessToken).toMatch(/^shpat_/);
    expect(session?.refreshToken).toMatch(/^shprt_/);

    // The whole history applied: every generated customer is in the demo database.
    const applied = await waitForOutput(/^History applied: ([\d,]+) customers, ([\d,]+) orders/m, 180_000);
    expect(Number(applied[1]!.replace(/,/g, ""))).toBe(CUSTOMERS);
    const store = generateStore({ seed: SEED, customers: CUSTOMERS, shopDomain: SHOP });
    const gids = [...store.customers()].map((c) => `gid://shopify/Customer/${c.id}`);
    expect(await count(`SELECT count(*) AS n FROM customers WHERE shop = $1 AND gid = ANY($2)`, [SHOP, gids])).toBe(CUSTOMERS);
    const historyOrders = [...store.orderSlots()].length;
    expect(Number(applied[2]!.replace(/,/g, ""))).toBe(historyOrders);
    expect(await count(`SELECT count(*) AS n FROM webhook_events WHERE shop = $1 AND status = 'dead'`, [SHOP])).toBe(0);

    // Live traffic keeps coming after the history.
    const deadline = Date.now() + 30_000;
    while ((await count(`SELECT count(*) AS n FROM orders WHERE shop = $1`, [SHOP])) <= historyOrders) {
      if (Date.now() > deadline) throw new Error(`no live orders applied within 30 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }

    // The printed URL opens the embedded admin in a browser.
    const standIn = await fetch(`${appOrigin}/dev/app-bridge.js`);
    expect(standIn.status).toBe(200);
    guarded = await launchGuardedBrowser({ appBridgeScript: await standIn.text() });
    const page = await guarded.context.newPage();
    const problems = watchPage(page);
    const response = await page.goto(adminUrl);
    expect(response?.status()).toBe(200);
    expect(page.url().startsWith(`${appOrigin}/app/customers?`)).toBe(true);
    await page.getByRole("heading", { name: "Customers", level: 1 }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll(".Polaris-IndexTable__TableRow").length === 25, undefined, { timeout: 15_000 });
    const listed = Number(/([\d,]+) customers/.exec(await page.locator("body").innerText())![1]!.replace(/,/g, ""));
    expect(listed).toBeGreaterThanOrEqual(CUSTOMERS);
    // A generated customer, found through the app's search (client-side navigation with the session token).
    const someone = store.customer(3);
    await page.getByPlaceholder("Search by name or email").fill(someone.email);
    await page.getByPlaceholder("Search by name or email").press("Enter");
    await page.waitForFunction(() => document.querySelectorAll(".Polaris-IndexTable__TableRow").length === 1, undefined, { timeout: 15_000 });
    expect(await page.locator(".Polaris-IndexTable__TableRow td").first().innerText()).toBe(`${someone.firstName} ${someone.lastName}`);
    expect(problems.pageErrors).toEqual([]);
    expect(problems.consoleErrors).toEqual([]);
    expect(guarded.blockedRequests, "browser requests to non-loopback hosts").toEqual([]);
    expect(guarded.mappedAppBridgeRequests, "requests for the App Bridge CDN script").toEqual([]);
    await guarded.close();
    guarded = undefined;

    // SIGTERM stops the demo and every process it started.
    demo.kill("SIGTERM");
    const code = await Promise.race([demoExit, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 40_000))]);
    expect(code, output).toBe(0);
    expect(output).toMatch(/^Stopped: app exited \(0\), worker exited \(0\)/m);
    expect(pids.filter(alive), "child processes still running").toEqual([]);
    expect(egressLines(), "connections to non-loopback hosts").toEqual([]);
  });
});
