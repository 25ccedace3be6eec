// `npm run demo` end to end, small: the demo process (tests/twin/demo.ts) on a database it
// creates and migrates itself, with a 50-customer store whose history ends when the demo
// starts. It must print `Admin UI:`, import the whole history through bulk operations on
// install (every generated customer and order in the demo database, none of them delivered
// as a webhook; the import completed by the twin's bulk_operations/finish webhook), open with
// example content (segments with members, a loyalty program with tiers placed by the import,
// feedback rules, the automation templates; created again without duplicates), keep sending
// live traffic, and serve the admin through the printed URL in headless Chromium: the Customers
// list, a search, the Customer page of the generated customer whose timeline says the most
// (refunds and cancellations, picked from the generator's deterministic output) checked
// order by order against the store, and the Pipeline page checked against the database.
// Then SIGTERM must stop every process it started. Nothing may leave the machine: the demo
// and its children run with the egress guard, the browser aborts non-loopback requests.
// Screenshots go to tests/e2e/screenshots/ (ignored by git).
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb } from "../../app/db.server";
import { closeQueues } from "../../app/queues.server";
import { ADMIN_DATABASE_URL, databaseUrl } from "../support/database";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { tokenCipherFromEnv } from "../../app/shopify/token-encryption.server";
import { REPO_ROOT } from "../support/admin-app-server";
import { launchGuardedBrowser, watchPage, type GuardedBrowser } from "../support/browser";
import { expectedMetrics, expectedOrder, pickTimelineCustomer, timelineBlocks, type LiveOrder } from "../support/generated-store";
import { generateStore } from "../twin/store-generator";
import { AUTOMATION_TEMPLATES } from "../../app/domain/automations/templates";
import { DEMO_SEGMENTS } from "../twin/demo-content";

const CUSTOMERS = 50;
const SEED = 7;
const SHOP = "crm-demo.myshopify.com";
const EGRESS_GUARD = path.join(REPO_ROOT, "tests/support/admin-egress-guard.mjs");
const SCREENSHOTS = path.join(REPO_ROOT, "tests/e2e/screenshots");

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

/** The customer's orders that are not in the generated history: live orders the demo placed since. */
async function liveOrdersOf(customerGid: string, historyNames: string[]): Promise<LiveOrder[]> {
  const { rows } = await db.query<{ name: string; total: string; created: Date }>(
    `SELECT name, total_price_minor AS total, shopify_created_at AS created FROM orders
      WHERE shop = $1 AND customer_gid = $2 AND NOT (name = ANY($3)) ORDER BY name`,
    [SHOP, customerGid, historyNames],
  );
  return rows.map((r) => ({ name: r.name, totalCents: Number(r.total), createdAt: r.created }));
}

type InboxFigures = { total: number; processed: number; received: number; failed: number; dead: number; ignored: number; lastHourApplied: number };

/** The figures the Pipeline page shows, straight from the demo database. */
async function inboxFigures(): Promise<InboxFigures> {
  const { rows } = await db.query<Record<keyof InboxFigures, string>>(
    `SELECT count(*) AS total,
            count(*) FILTER (WHERE status = 'processed') AS processed,
            count(*) FILTER (WHERE status = 'received') AS received,
            count(*) FILTER (WHERE status = 'failed') AS failed,
            count(*) FILTER (WHERE status = 'dead') AS dead,
            count(*) FILTER (WHERE status = 'ignored') AS ignored,
            count(*) FILTER (WHERE status = 'processed' AND processed_at IS NOT NULL AND received_at >= now() - interval '1 hour') AS "lastHourApplied"
       FROM webhook_events WHERE shop = $1`,
    [SHOP],
  );
  return Object.fromEntries(Object.entries(rows[0]!).map(([k, v]) => [k, Number(v)])) as InboxFigures;
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOTS, name), fullPage: true });

/** The number after `label` in the page text (labels and figures are separate lines). */
function figure(text: string, pattern: RegExp): number {
  const m = pattern.exec(text);
  if (!m) throw new Error(`${pattern} not found in the page:\n${text}`);
  return Number(m[1]!.replace(/,/g, ""));
}

const escapeRe = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

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
    // Encrypted at rest with the key the demo's processes have (derived from the demo's app secret here).
    const cipher = tokenCipherFromEnv({ SHOPIFY_API_SECRET: "crm-demo-api-secret", SESSION_ENCRYPTION_KEY: process.env.SESSION_ENCRYPTION_KEY, SESSION_ENCRYPTION_PREVIOUS_KEYS: undefined });
    expect(session?.accessToken).toMatch(/^enc:v1:/);
    expect(cipher.decrypt(session!.accessToken)).toMatch(/^shpat_/);
    expect(cipher.decrypt(session!.refreshToken!)).toMatch(/^shprt_/);

    // The whole history imported through bulk operations: every generated customer and order
    // is in the demo database, and none of them came as a webhook.
    const imported = await waitForOutput(/^History imported: ([\d,]+) customers, ([\d,]+) orders/m, 180_000);
    const historyEnd = /history ending (\S+)\./.exec(output)![1]!;
    expect(Math.abs(Date.parse(historyEnd) - Date.now()), "the history ends when the demo starts").toBeLessThan(10 * 60_000);
    expect(Number(imported[1]!.replace(/,/g, ""))).toBe(CUSTOMERS);
    const store = generateStore({ seed: SEED, customers: CUSTOMERS, shopDomain: SHOP, now: historyEnd });
    const gids = [...store.customers()].map((c) => `gid://shopify/Customer/${c.id}`);
    expect(await count(`SELECT count(*) AS n FROM customers WHERE shop = $1 AND gid = ANY($2)`, [SHOP, gids])).toBe(CUSTOMERS);
    const historyOrders = [...store.orderSlots()].length;
    const historyOrderGids = [...store.orders()].map((o) => `gid://shopify/Order/${o.id}`);
    expect(Number(imported[2]!.replace(/,/g, ""))).toBe(historyOrders);
    expect(await count(`SELECT count(*) AS n FROM orders WHERE shop = $1 AND gid = ANY($2)`, [SHOP, historyOrderGids])).toBe(historyOrders);
    const [run] = (await db.query<{ state: string; customers: string; orders: string }>(
      `SELECT r.state, (SELECT merged FROM import_run_objects WHERE run_id = r.id AND object_type = 'customers') AS customers,
              (SELECT merged FROM import_run_objects WHERE run_id = r.id AND object_type = 'orders') AS orders
         FROM import_runs r WHERE r.shop = $1 ORDER BY r.id DESC LIMIT 1`,
      [SHOP],
    )).rows;
    expect([run?.state, Number(run?.customers), Number(run?.orders)]).toEqual(["done", CUSTOMERS, historyOrders]);
    expect(await count(`SELECT count(*) AS n FROM bulk_operations WHERE shop = $1 AND lower(status) = 'completed'`, [SHOP]), "finished bulk operations (bulk_operations/finish)").toBeGreaterThanOrEqual(3);
    const historyIds = new Set([...gids, ...historyOrderGids].map((g) => g.replace(/^.*\//, "")));
    const { rows: deliveries } = await db.query<{ topic: string; id: string | null }>(
      `SELECT topic, substring(payload from '"id":([0-9]+)') AS id FROM webhook_events WHERE shop = $1 AND (topic LIKE 'orders/%' OR topic LIKE 'customers/%')`,
      [SHOP],
    );
    expect(deliveries.filter((d) => d.id !== null && historyIds.has(d.id)), "history objects delivered as webhooks").toEqual([]);
    expect(await count(`SELECT count(*) AS n FROM webhook_events WHERE shop = $1 AND status = 'dead'`, [SHOP])).toBe(0);

    // The example content: segments with members (filled by the import), a loyalty program whose
    // tiers the import placed, feedback rules, the automation templates (switched off).
    const { rows: segments } = await db.query<{ name: string; members: string }>(
      `SELECT s.name, (SELECT count(*) FROM segment_members m WHERE m.segment_id = s.id) AS members FROM segments s WHERE s.shop = $1 ORDER BY s.name`,
      [SHOP],
    );
    expect(segments.map((s) => s.name).sort()).toEqual(DEMO_SEGMENTS.map((s) => s.name).sort());
    for (const name of ["VIPs (spent over 500)", "Bought in the last 30 days", "Repeat buyers"]) expect(Number(segments.find((s) => s.name === name)!.members), `members of ${name}`).toBeGreaterThan(0);
    expect(await count(`SELECT count(*) AS n FROM segment_membership_changes WHERE shop = $1 AND cause = 'import'`, [SHOP]), "memberships caused by the import").toBeGreaterThan(0);
    expect(await count(`SELECT count(*) AS n FROM loyalty_programs WHERE shop = $1`, [SHOP])).toBe(1);
    expect(await count(`SELECT count(DISTINCT customer_gid) AS n FROM loyalty_tier_changes WHERE shop = $1`, [SHOP]), "customers placed in a tier").toBeGreaterThan(0);
    expect(await count(`SELECT count(*) AS n FROM feedback_rules WHERE shop = $1 AND removed_at IS NULL`, [SHOP])).toBe(1);
    const templateNames = Object.values(AUTOMATION_TEMPLATES).map((t) => t.name).sort();
    expect((await db.query<{ name: string }>(`SELECT name FROM automation_rules WHERE shop = $1 AND NOT enabled ORDER BY name`, [SHOP])).rows.map((r) => r.name)).toEqual(templateNames);
    // Created again (a second run), nothing is duplicated.
    const again = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", "tests/twin/demo-content.ts", SHOP], {
        cwd: REPO_ROOT,
        env: childProcessEnv({ DATABASE_URL: databaseUrl(demoDb), REDIS_URL: env.REDIS_URL, LOG_LEVEL: "warn", SHOPIFY_API_KEY: "crm-demo-api-key", SHOPIFY_API_SECRET: "crm-demo-api-secret" }),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
      child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
      child.once("exit", (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`demo-content.ts failed (${code}): ${out}`))));
    });
    expect(JSON.parse(again)).toEqual({ segments: { created: 0, existing: DEMO_SEGMENTS.length }, loyalty: "existing", feedbackRules: "existing", automations: { created: 0, existing: templateNames.length } });
    expect(await count(`SELECT count(*) AS n FROM segments WHERE shop = $1`, [SHOP])).toBe(DEMO_SEGMENTS.length);
    expect(await count(`SELECT count(*) AS n FROM automation_rules WHERE shop = $1`, [SHOP])).toBe(templateNames.length);

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
    mkdirSync(SCREENSHOTS, { recursive: true });
    const page = await guarded.context.newPage();
    const problems = watchPage(page);
    try {
      const response = await page.goto(adminUrl);
      expect(response?.status()).toBe(200);
      // The app opens on its home page; the customer list is one click away in the app's menu.
      expect(page.url().startsWith(`${appOrigin}/app?`)).toBe(true);
      await page.getByRole("heading", { name: "Home", level: 1 }).waitFor();
      await page.locator("ui-nav-menu").getByRole("link", { name: "Customers" }).click();
      await page.waitForURL((url) => url.pathname === "/app/customers");
      await page.getByRole("heading", { name: "Customers", level: 1 }).waitFor();
      await page.waitForFunction(() => document.querySelectorAll(".Polaris-IndexTable__TableRow").length === 25, undefined, { timeout: 15_000 });
      const listed = Number(/([\d,]+) customers/.exec(await page.locator("body").innerText())![1]!.replace(/,/g, ""));
      expect(listed).toBeGreaterThanOrEqual(CUSTOMERS);
      await shot(page, "demo-01-customers.png");

      // The generated customer whose timeline says the most, found through the app's search
      // (client-side navigation with the session token) and opened from the list.
      const chosen = pickTimelineCustomer(store);
      const person = store.customer(chosen.index);
      const personName = `${person.firstName} ${person.lastName}`;
      expect(chosen.orders.some((o) => o.refunds.length > 0) || chosen.orders.some((o) => o.cancel)).toBe(true);
      await page.getByPlaceholder("Search by name or email").fill(person.email);
      await page.getByPlaceholder("Search by name or email").press("Enter");
      await page.waitForFunction(() => document.querySelectorAll(".Polaris-IndexTable__TableRow").length === 1, undefined, { timeout: 15_000 });
      expect(await page.locator(".Polaris-IndexTable__TableRow td").first().innerText()).toBe(personName);
      await shot(page, "demo-02-customers-search.png");
      await page.getByRole("link", { name: personName }).click();
      await page.waitForURL((url) => url.pathname === `/app/customers/${person.id}`);

      // The Customer page against the store: every generated order, newest first, with its
      // total, item count, statuses, refunds and cancellation; the metrics from the same
      // orders. Live traffic may place new orders for this customer meanwhile: read the
      // page between two identical reads of those (and reload when they differ).
      const gid = `gid://shopify/Customer/${person.id}`;
      const historyNames = chosen.orders.map((o) => o.name);
      let live: LiveOrder[] = [];
      let text = "";
      for (let attempt = 0; ; attempt++) {
        const before = await liveOrdersOf(gid, historyNames);
        if (attempt > 0) await page.reload();
        await page.getByRole("heading", { name: personName, level: 1 }).waitFor();
        await page.getByText("Order timeline").waitFor();
        text = await page.locator("body").innerText();
        live = await liveOrdersOf(gid, historyNames);
        if (JSON.stringify(before) === JSON.stringify(live)) break;
        if (attempt === 5) throw new Error(`live orders for ${gid} kept changing while the page loaded`);
      }
      await shot(page, "demo-03-customer.png");
      const timeline = text.slice(text.indexOf("Order timeline"), text.lastIndexOf("\nProfile\n") > 0 ? text.lastIndexOf("\nProfile\n") : undefined);
      const { names, blocks } = timelineBlocks(timeline);
      const expectedNames = [...chosen.orders].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt)).map((o) => o.name);
      // The page shows the newest ORDERS_PAGE orders (older ones behind "Older orders"); live orders are the newest.
      const ORDERS_PAGE = 20;
      const liveNewestFirst = [...live].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()).map((o) => o.name);
      const firstPage = [...liveNewestFirst, ...expectedNames].slice(0, ORDERS_PAGE);
      expect(names.filter((n) => historyNames.includes(n)), "generated orders, newest first").toEqual(firstPage.filter((n) => historyNames.includes(n)));
      expect(names.filter((n) => !historyNames.includes(n)).sort(), "the other orders are the live ones").toEqual(firstPage.filter((n) => !historyNames.includes(n)).sort());
      if (liveNewestFirst.length + expectedNames.length > ORDERS_PAGE) await page.getByRole("button", { name: "Older orders" }).waitFor();
      for (const order of chosen.orders.filter((o) => names.includes(o.name))) {
        const want = expectedOrder(order);
        const block = blocks.get(want.name)!;
        const lines = block.split("\n");
        expect(lines, `${want.name} date and items`).toContain(`${want.createdAt} · ${want.items}`);
        expect(lines, `${want.name} total`).toContain(want.total);
        for (const badge of want.badges) expect(lines, `${want.name} badge ${badge}`).toContain(badge);
        expect(lines.filter((l) => l.startsWith("Refund on")), `${want.name} refunds`).toEqual(want.refunds.map((r) => r.line));
        for (const r of want.refunds) expect(lines, `${want.name} refund amount`).toContain(r.amount);
        expect(lines.filter((l) => l.startsWith("Cancelled on")), `${want.name} cancellation`).toEqual(want.cancellation ? [want.cancellation] : []);
        if (!want.badges.includes("Cancelled")) expect(lines, `${want.name} is not cancelled`).not.toContain("Cancelled");
      }
      const metrics = expectedMetrics(chosen.orders, live);
      expect(text).toMatch(new RegExp(`Orders\\s+${metrics.orders}\\s+Total spent\\s+${escapeRe(metrics.totalSpent)}\\s+Refunded\\s+${escapeRe(metrics.refunded)}\\s+Average order value\\s+${escapeRe(metrics.averageOrderValue)}`));
      expect(text).toMatch(new RegExp(`First order\\s+${escapeRe(metrics.firstOrder)}\\s+Last order\\s+${escapeRe(metrics.lastOrder)}`));
      expect(text).toContain(person.email);

      // The Pipeline page, through the app's navigation, against the database. Live traffic
      // keeps the counts moving: each shown figure must lie between the database's figures
      // just before and just after the page loaded (counts that only grow), and the page's
      // figures must add up.
      const before = await inboxFigures();
      await page.locator("ui-nav-menu").getByRole("link", { name: "Settings" }).click();
      await page.waitForURL((url) => url.pathname === "/app/settings");
      await page.getByRole("link", { name: "Pipeline" }).click();
      await page.waitForURL((url) => url.pathname === "/app/pipeline");
      await page.getByRole("heading", { name: "Pipeline", level: 1 }).waitFor();
      await page.getByText("Deliveries by outcome").waitFor();
      const pipeline = await page.locator("body").innerText();
      const after = await inboxFigures();
      await shot(page, "demo-04-pipeline.png");
      const shown = {
        total: figure(pipeline, /([\d,]+) received/),
        processed: figure(pipeline, /Applied\s+([\d,]+)/),
        received: figure(pipeline, /Waiting\s+([\d,]+)/),
        failed: figure(pipeline, /Retrying\s+([\d,]+)/),
        dead: figure(pipeline, /Dead-lettered\s+([\d,]+)/),
        ignored: figure(pipeline, /Ignored\s+([\d,]+)/),
        pending: figure(pipeline, /([\d,]+) events? waiting or retrying/),
        lastHourApplied: figure(pipeline, /received to applied, ([\d,]+) events?/),
      };
      const within = (name: string, value: number, low: number, high: number) => expect(value >= low && value <= high, `${name}: page ${value}, database ${low}..${high}`).toBe(true);
      within("deliveries received", shown.total, before.total, after.total);
      within("applied", shown.processed, before.processed, after.processed);
      within("applied in the last hour", shown.lastHourApplied, before.lastHourApplied, after.lastHourApplied);
      within("ignored", shown.ignored, before.ignored, after.ignored);
      expect(shown.total, "the outcomes add up to the deliveries").toBe(shown.processed + shown.received + shown.failed + shown.dead + shown.ignored);
      expect(shown.pending).toBe(shown.received + shown.failed);
      within("waiting or retrying", shown.pending, 0, after.total - before.processed - before.dead - before.ignored);
      expect([shown.dead, before.dead, after.dead], "dead letters").toEqual([0, 0, 0]);
      await page.getByText("No dead letters").waitFor();

      expect(problems.pageErrors).toEqual([]);
      expect(problems.consoleErrors).toEqual([]);
      expect(guarded.blockedRequests, "browser requests to non-loopback hosts").toEqual([]);
      expect(guarded.mappedAppBridgeRequests, "requests for the App Bridge CDN script").toEqual([]);
    } catch (error) {
      await shot(page, "demo-failure.png").catch(() => undefined);
      throw new Error(`${(error as Error).message}\n--- page problems: ${JSON.stringify(problems)}\n--- demo output:\n${output.slice(-4000)}`, { cause: error });
    }
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
