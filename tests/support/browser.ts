// Headless Chromium for e2e tests, fenced in: every request to a host other than
// loopback is aborted and recorded (the test asserts the list is empty), except the
// App Bridge CDN script, which is answered with the app's local stand-in (and recorded
// separately). Page errors and console errors are collected for the test to assert on.
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const APP_BRIDGE_CDN_URL = "https://cdn.shopify.com/shopifycloud/app-bridge.js";

// isbot flags "HeadlessChrome" and the Shopify package answers bots with 410 Gone.
export const DESKTOP_USER_AGENT =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

export type GuardedBrowser = {
  browser: Browser;
  context: BrowserContext;
  /** Requests to non-loopback hosts that were aborted. */
  blockedRequests: string[];
  /** Requests for the App Bridge CDN script that were answered locally. */
  mappedAppBridgeRequests: string[];
  close: () => Promise<void>;
};

export async function launchGuardedBrowser({ appBridgeScript }: { appBridgeScript: string }): Promise<GuardedBrowser> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const context = await browser.newContext({ userAgent: DESKTOP_USER_AGENT, viewport: { width: 1280, height: 900 }, locale: "en-US" });
  const blockedRequests: string[] = [];
  const mappedAppBridgeRequests: string[] = [];
  await context.route("**/*", async (route) => {
    const href = route.request().url();
    const url = new URL(href);
    if (url.protocol === "data:" || url.protocol === "blob:" || LOOPBACK_HOSTS.has(url.hostname)) return route.continue();
    if (`${url.origin}${url.pathname}` === APP_BRIDGE_CDN_URL) {
      mappedAppBridgeRequests.push(href);
      return route.fulfill({ status: 200, contentType: "text/javascript; charset=utf-8", body: appBridgeScript });
    }
    blockedRequests.push(`${route.request().method()} ${href}`);
    return route.abort("blockedbyclient");
  });
  return {
    browser,
    context,
    blockedRequests,
    mappedAppBridgeRequests,
    close: async () => {
      await context.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
    },
  };
}

export type PageProblems = { pageErrors: string[]; consoleErrors: string[] };

/** Collects uncaught page errors and console errors (a console error fails the test). */
export function watchPage(page: Page): PageProblems {
  const problems: PageProblems = { pageErrors: [], consoleErrors: [] };
  page.on("pageerror", (error) => problems.pageErrors.push(`${error.name}: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.consoleErrors.push(`${message.text()} (${message.location().url})`);
  });
  return problems;
}
