// Shared set-up for the tests that run the real built app server (build/index.js, see
// admin-app-server.ts) on this test file's database and Redis:
// - the embedded merchant admin in headless Chromium (tests/e2e/*-ui.test.ts): the server,
//   the in-process worker, the fenced-in browser (browser.ts) with the App Bridge stand-in,
//   the embedded-app URL, the page checks and the failure report;
// - the storefront app proxy (tests/e2e/storefront-block.test.ts,
//   tests/integration/app-proxy.test.ts): the server behind the twin's proxy, which signs
//   the requests it forwards with the app's secret.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import type { Page } from "playwright-core";
import { getJwt } from "@shopify/shopify-api/test-helpers";
import { closeDb } from "../../app/db.server";
import { closeQueues } from "../../app/queues.server";
import type { AdminTwin } from "../twin/admin-graphql";
import { REPO_ROOT, ensureAppBuild, freePort, startAppServer, type AppServer } from "./admin-app-server";
import { storeOfflineSession, storeShopTimeZone } from "./admin-seed";
import { launchGuardedBrowser, type GuardedBrowser, type PageProblems } from "./browser";
import { TEST_API_KEY, TEST_API_SECRET, useIntegrationEnv } from "./env";
import { startInProcessWorker } from "./pipeline";
import { TEST_SHOP } from "./webhooks";

/**
 * The embedded admin's shop is in New York (a zone with daylight saving), stored as if the app
 * had read it from Shopify: the server has no Admin API to ask here (it would leave the
 * machine); tests/integration/admin-home-format.test.ts covers the read through the twin.
 */
export const E2E_SHOP_TIME_ZONE = "America/New_York";

export const E2E_SCREENSHOTS = path.join(REPO_ROOT, "tests/e2e/screenshots");

export function ensureScreenshotDir(): void {
  mkdirSync(E2E_SCREENSHOTS, { recursive: true });
}

/** A full-page screenshot into tests/e2e/screenshots. */
export const screenshot = (page: Page, name: string) => page.screenshot({ path: path.join(E2E_SCREENSHOTS, name), fullPage: true });

/**
 * Starts the built app server on a free loopback port with this test file's database and
 * Redis (useIntegrationEnv put them into process.env), the test app credentials and
 * LOG_LEVEL=warn; `extraEnv` adds what depends on the kind of test (and may use the port).
 */
async function startAppServerWithTestEnv(nodeEnv: "production" | "development", extraEnv: (port: number) => Record<string, string>): Promise<AppServer> {
  const port = await freePort();
  return startAppServer({
    port,
    env: {
      NODE_ENV: nodeEnv,
      DATABASE_URL: process.env.DATABASE_URL!,
      REDIS_URL: process.env.REDIS_URL!,
      SHOPIFY_API_KEY: TEST_API_KEY,
      SHOPIFY_API_SECRET: TEST_API_SECRET,
      ...extraEnv(port),
      LOG_LEVEL: "warn",
    },
  });
}

/**
 * The server as the embedded admin uses it, App Bridge from its own /dev/app-bridge.js
 * stand-in: NODE_ENV=development, because the environment check refuses APP_BRIDGE_URL in
 * production (the build itself is the production build either way).
 */
export function startEmbeddedAdminServer(): Promise<AppServer> {
  return startAppServerWithTestEnv("development", (port) => ({ APP_BRIDGE_URL: `http://127.0.0.1:${port}/dev/app-bridge.js` }));
}

/**
 * The server behind the twin's storefront app proxy: development, Admin API calls to the
 * twin; the twin's proxy is pointed at it and signs what it forwards with the app secret.
 */
export async function startAppServerBehindStorefrontProxy(twin: AdminTwin): Promise<AppServer> {
  const server = await startAppServerWithTestEnv("development", () => ({ SHOPIFY_TWIN_URL: twin.url }));
  twin.storefront.setApp({ apiSecret: TEST_API_SECRET, appUrl: server.origin });
  return server;
}

/**
 * Nothing went wrong on the page or off the machine: no uncaught page errors, no console
 * errors but the allowed ones, no browser request and no server connection to a
 * non-loopback host, and (with `checkAppBridgeCdn`, for the embedded admin) App Bridge
 * never requested from the CDN.
 */
export function assertPageStayedClean(
  problems: PageProblems,
  { guarded, server, allowConsole = [], checkAppBridgeCdn }: { guarded: GuardedBrowser; server: AppServer; allowConsole?: RegExp[]; checkAppBridgeCdn: boolean },
): void {
  expect(problems.pageErrors, "uncaught page errors").toEqual([]);
  expect(problems.consoleErrors.filter((m) => !allowConsole.some((re) => re.test(m))), "console errors").toEqual([]);
  expect(guarded.blockedRequests, "browser requests to non-loopback hosts").toEqual([]);
  if (checkAppBridgeCdn) expect(guarded.mappedAppBridgeRequests, "requests for the App Bridge CDN script").toEqual([]);
  expect(server.egressAttempts(), "app server connections to non-loopback hosts").toEqual([]);
}

export const bodyText = (page: Page) => page.locator("body").innerText();

/** Waits until the Polaris index table shows exactly `count` rows. */
export async function waitForRows(page: Page, count: number) {
  await page.waitForFunction((n) => document.querySelectorAll(".Polaris-IndexTable__TableRow").length === n, count, { timeout: 10_000 });
}

/**
 * For page.waitForURL: the address is at `pathname`, whatever its query. The App Bridge
 * stand-in keeps the launch parameters (embedded, shop, host) in the address after client
 * navigation, so a reload works as in the admin: match the path, not the whole URL.
 */
export const atPath = (pathname: string) => (url: URL) => url.pathname === pathname;

/** Marks the current document, so that stillSameDocument() can tell whether a full reload happened since. */
export const markDocument = (page: Page) => page.evaluate(() => ((window as unknown as { __e2eMarker?: number }).__e2eMarker = 1));

/** Waits for the App Bridge stand-in to be up, then marks the document (markDocument). */
export async function markDocumentOnceAppBridgeIsUp(page: Page) {
  await page.waitForFunction(() => Boolean((window as unknown as { shopify?: { __standIn?: boolean } }).shopify?.__standIn));
  await markDocument(page);
}

/** True while the page is the same document (no full reload since the marker was set). */
export const stillSameDocument = (page: Page) => page.evaluate(() => (window as unknown as { __e2eMarker?: number }).__e2eMarker === 1);

/**
 * The merchant admin of TEST_SHOP, opened the way the Shopify admin opens an embedded app
 * (?embedded=1&shop&host&id_token) in the fenced-in browser. Call start() in beforeAll and
 * stop() in afterAll: stop() releases whatever start() got to, even if it failed halfway.
 */
export class EmbeddedAdminApp {
  private env?: Awaited<ReturnType<typeof useIntegrationEnv>>;
  private worker?: ReturnType<typeof startInProcessWorker>;
  private startedServer?: AppServer;
  private startedBrowser?: GuardedBrowser;

  /**
   * A fresh database and Redis, the in-process worker, `seed` (run before the shop's
   * offline session is stored), the app server, and the browser with the server's App
   * Bridge stand-in.
   */
  async start({ seed }: { seed?: () => Promise<void> } = {}): Promise<void> {
    ensureAppBuild();
    this.env = await useIntegrationEnv();
    this.worker = startInProcessWorker();
    await seed?.();
    await storeOfflineSession(TEST_SHOP);
    await storeShopTimeZone(TEST_SHOP, E2E_SHOP_TIME_ZONE);
    this.startedServer = await startEmbeddedAdminServer();
    const standIn = await fetch(`${this.startedServer.origin}/dev/app-bridge.js`);
    expect(standIn.status).toBe(200);
    this.startedBrowser = await launchGuardedBrowser({ appBridgeScript: await standIn.text() });
    ensureScreenshotDir();
  }

  async stop(): Promise<void> {
    await this.startedBrowser?.close();
    await this.startedServer?.stop();
    await this.worker?.close();
    await closeQueues();
    await closeDb();
    await this.env?.dropDatabase();
  }

  get server(): AppServer {
    if (!this.startedServer) throw new Error("EmbeddedAdminApp.start() has not started the app server");
    return this.startedServer;
  }

  get guarded(): GuardedBrowser {
    if (!this.startedBrowser) throw new Error("EmbeddedAdminApp.start() has not launched the browser");
    return this.startedBrowser;
  }

  /** The app URL the Shopify admin would load for `pathname`, with a fresh session token. */
  async embeddedUrl(pathname: string): Promise<string> {
    const storeName = TEST_SHOP.replace(/\.myshopify\.com$/, "");
    const { token } = await getJwt(storeName, TEST_API_KEY, TEST_API_SECRET);
    const params = new URLSearchParams({
      embedded: "1",
      shop: TEST_SHOP,
      host: Buffer.from(`admin.shopify.com/store/${storeName}`).toString("base64"),
      id_token: token,
    });
    return `${this.server.origin}${pathname}?${params}`;
  }

  /** Loads `pathname` as a document (it must answer 200) and waits for its level-1 heading. */
  async openEmbeddedPage(page: Page, pathname: string, heading: string): Promise<void> {
    const response = await page.goto(await this.embeddedUrl(pathname));
    expect(response?.status()).toBe(200);
    await page.getByRole("heading", { name: heading, level: 1 }).waitFor();
  }

  /** assertPageStayedClean for the embedded admin (App Bridge must never come from the CDN). */
  assertClean(problems: PageProblems, { allowConsole = [] as RegExp[] } = {}): void {
    assertPageStayedClean(problems, { guarded: this.guarded, server: this.server, allowConsole, checkAppBridgeCdn: true });
  }

  /**
   * For a failed test: takes the screenshot `screenshotName` (if it can) and returns the
   * error to throw, with the page problems, the blocked requests and the server's output.
   */
  async failureReport(error: unknown, page: Page, problems: PageProblems, screenshotName: string): Promise<Error> {
    await screenshot(page, screenshotName).catch(() => undefined);
    return new Error(
      `${(error as Error).message}\n--- page problems: ${JSON.stringify(problems)}\n--- blocked: ${JSON.stringify(this.guarded.blockedRequests)}\n--- server output:\n${this.server.output().slice(-4000)}`,
      { cause: error },
    );
  }
}
