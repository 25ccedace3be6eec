// The theme app block in a real browser (issue 5, storefront): a storefront page served by the
// twin with extensions/loyalty/blocks/loyalty-balance.liquid rendered in it (liquidjs,
// tests/twin/theme-app-block.ts) and its own assets; the block's script calls /apps/crm/*,
// which the twin's app proxy signs and forwards to the real built app server. The shopper is
// signed out, then signed in before the store has a program, then sees the points an order
// earned and redeems a reward, reading the code on the page. Nothing may leave the machine.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { closeDb, getPool, withTransaction } from "../../app/db.server";
import { adjustPoints } from "../../app/services/loyalty/adjust.server";
import { applyLoyaltyForOrders } from "../../app/services/loyalty/apply-orders.server";
import { saveProgram } from "../../app/services/loyalty/program.server";
import { closeQueues } from "../../app/queues.server";
import { useIntegrationEnv } from "../support/env";
import { customerPayload, orderPayload } from "../support/factories";
import { deliverAndSettle, startInProcessWorker } from "../support/pipeline";
import { ensureAppBuild, type AppServer } from "../support/admin-app-server";
import { storeOfflineSession } from "../support/admin-seed";
import { launchGuardedBrowser, watchPage, type GuardedBrowser, type PageProblems } from "../support/browser";
import { assertPageStayedClean, ensureScreenshotDir, screenshot, startAppServerBehindStorefrontProxy } from "../support/e2e-app";
import { startAdminTwin, type AdminTwin } from "../twin/admin-graphql";
import { generateStore } from "../twin/store-generator";
import { renderThemeAppBlock, storefrontPage } from "../twin/theme-app-block";
import { twinDiscountByCode } from "../integration/loyalty-rewards.support";

const SHOP = "storefront-e2e.myshopify.com";
const HOUR = 3_600_000;

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let twin: AdminTwin;
let server: AppServer;
let guarded: GuardedBrowser;
let ana: { id: bigint; email: string };

beforeAll(async () => {
  ensureAppBuild();
  twin = await startAdminTwin({ defaultShop: SHOP });
  twin.shop(SHOP).loadStore(generateStore({ seed: 12, customers: 10, shopDomain: SHOP }), { maxOrders: 0 });
  ana = { id: BigInt(twin.shop(SHOP).sortedIds("customers")[0]!), email: "ana.storefront@example.com" };
  env = await useIntegrationEnv({ SHOPIFY_TWIN_URL: twin.url });
  await storeOfflineSession(SHOP);
  await getPool().query(`INSERT INTO shops (domain, "currencyCode") VALUES ($1, 'USD')`, [SHOP]);
  const worker = startInProcessWorker();
  try {
    await deliverAndSettle("customers/create", customerPayload(ana), { shop: SHOP });
  } finally {
    await worker.close();
  }

  server = await startAppServerBehindStorefrontProxy(twin);

  const block = await renderThemeAppBlock({ extension: "loyalty", block: "loyalty-balance", settings: { heading: "Northwind Rewards" } });
  twin.storefront.setPage(SHOP, "/pages/rewards", storefrontPage({ title: "Rewards", block }));
  const broken = await renderThemeAppBlock({ extension: "loyalty", block: "loyalty-balance", settings: { proxy_path: "/apps/not-this-app" } });
  twin.storefront.setPage(SHOP, "/pages/broken", storefrontPage({ title: "Broken", block: broken }));

  guarded = await launchGuardedBrowser({ appBridgeScript: "" });
  ensureScreenshotDir();
});

afterAll(async () => {
  await guarded?.close();
  await server?.stop();
  await twin?.close();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

const block = (page: Page) => page.locator("[data-crm-loyalty]");
const state = (page: Page, value: string) => page.waitForSelector(`[data-crm-loyalty][data-state="${value}"]`, { timeout: 10_000 });

/** Storefront pages have no App Bridge: the CDN check of the embedded admin does not apply. */
const assertClean = (problems: PageProblems, { allowConsole = [] as RegExp[] } = {}) =>
  assertPageStayedClean(problems, { guarded, server, allowConsole, checkAppBridgeCdn: false });

describe("the loyalty block on a storefront page, in headless Chromium", () => {
  it(
    "GIVEN a shopper WHEN signed out, then signed in, then the store's program and an order exist THEN the block shows each state and redeems a reward",
    { timeout: 120_000 },
    async () => {
      const page = await guarded.context.newPage();
      const problems = watchPage(page);
      try {
        // ---- Signed out: the proxy answers 401 and the block offers the sign-in link.
        const response = await page.goto(`${twin.url}/pages/rewards`);
        expect(response?.status()).toBe(200);
        await page.getByRole("heading", { name: "Northwind Rewards" }).waitFor();
        await state(page, "signed-out");
        await page.getByText("Sign in to see your points and rewards.").waitFor();
        expect(await page.getByRole("link", { name: "Sign in" }).getAttribute("href")).toBe("/account/login");
        await screenshot(page, "storefront-block-signed-out.png");

        // ---- Signed in, no program yet.
        await page.goto(`${twin.url}/account/login?customer_id=${ana.id}&return_to=/pages/rewards`);
        await state(page, "no-program");
        await page.getByText("Rewards are not available in this store right now.").waitFor();

        // ---- The merchant sets up the program; Ana's $42.50 order earns 425 points.
        await saveProgram({
          shop: SHOP,
          actor: "owner",
          now: new Date(Date.now() - 24 * HOUR),
          settings: {
            earn: { pointsPerUnit: 10, on: "placed" },
            pendingDays: 0,
            tiers: { metric: "points_earned", window: "lifetime", levels: [{ name: "Member", threshold: 0 }, { name: "VIP", threshold: 1000 }] },
            rewards: [
              { id: "five-off", name: "$5 off", kind: "fixed_amount", value: "5.00", pointsCost: 400, minimumOrder: "20.00" },
              { id: "ship", name: "Free shipping", kind: "free_shipping", pointsCost: 1000 },
            ],
          },
        });
        const worker = startInProcessWorker();
        try {
          await deliverAndSettle("orders/create", orderPayload({ id: 8900001n, customer: ana, totalPrice: "42.50", createdAt: new Date(Date.now() - HOUR).toISOString() }), { shop: SHOP });
        } finally {
          await worker.close();
        }
        await withTransaction((db) => applyLoyaltyForOrders(db, SHOP, ["gid://shopify/Order/8900001"]));

        // ---- Ready: points, pending, tier and progress, rewards.
        await page.reload();
        await state(page, "ready");
        const root = block(page);
        expect(await root.locator("[data-crm-loyalty-balance]").innerText()).toBe("425");
        expect(await root.locator("[data-crm-loyalty-pending]").innerText()).toBe("0");
        expect(await root.locator(".crm-loyalty__tier").innerText()).toBe("Member");
        await root.getByText("575 points more to reach VIP").waitFor();
        expect(await root.getByRole("progressbar").getAttribute("aria-valuenow")).toBe("42");
        const fiveOff = root.locator('[data-reward-id="five-off"]');
        const ship = root.locator('[data-reward-id="ship"]');
        await fiveOff.getByText("$5.00 off on orders of $20.00 or more").waitFor();
        expect(await fiveOff.getByRole("button", { name: "Redeem" }).isEnabled()).toBe(true);
        expect(await ship.getByRole("button", { name: "Redeem" }).isDisabled()).toBe(true);
        await ship.getByText("575 more points needed").waitFor();
        await screenshot(page, "storefront-block-ready.png");

        // ---- The points were spent elsewhere since the page loaded: the redeem answers 409, shown at the reward.
        await adjustPoints({ shop: SHOP, customerGid: `gid://shopify/Customer/${ana.id}`, points: -300, reason: "e2e: points used elsewhere", actor: "staff" });
        await fiveOff.getByRole("button", { name: "Redeem" }).click();
        await fiveOff.getByRole("alert").filter({ hasText: "not enough points for \"$5 off\": 125 spendable, 400 needed" }).waitFor();
        expect(await root.locator("[data-crm-loyalty-code]").count()).toBe(0);
        await adjustPoints({ shop: SHOP, customerGid: `gid://shopify/Customer/${ana.id}`, points: 300, reason: "e2e: given back", actor: "staff" });
        await page.reload();
        await state(page, "ready");
        expect(await root.locator("[data-crm-loyalty-balance]").innerText()).toBe("425");

        // ---- Redeem: the code appears, the balance drops, the twin holds the code for Ana.
        await fiveOff.getByRole("button", { name: "Redeem" }).click();
        const codeNode = root.locator("[data-crm-loyalty-code]");
        await codeNode.waitFor({ timeout: 15_000 });
        const code = await codeNode.innerText();
        expect(code).toMatch(/^PTS-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/);
        await root.getByText("Your discount code").waitFor();
        await root.getByText(/^Use it at checkout before /).waitFor();
        expect(await root.locator("[data-crm-loyalty-balance]").innerText()).toBe("25");
        expect(await fiveOff.getByRole("button", { name: "Redeem" }).isDisabled()).toBe(true);
        expect(twinDiscountByCode(twin, SHOP, code)).toMatchObject({ usageLimit: 1, context: { customers: [String(ana.id)] } });
        await screenshot(page, "storefront-block-redeemed.png");

        // ---- Signed out again: the page shows no points.
        await page.goto(`${twin.url}/account/logout`);
        await page.goto(`${twin.url}/pages/rewards`);
        await state(page, "signed-out");

        // The browser logs the signed-out 401, the no-program 404 and the 409 as console errors itself.
        assertClean(problems, { allowConsole: [/Failed to load resource: the server responded with a status of (401|404|409)/] });
      } finally {
        await page.close();
      }
    },
  );

  it("shows the error state with a retry button when the proxy path does not reach the app", async () => {
    const page = await guarded.context.newPage();
    const problems = watchPage(page);
    try {
      await page.goto(`${twin.url}/pages/broken`);
      await state(page, "error");
      await page.getByText("Your points could not be loaded.").waitFor();
      await page.getByRole("button", { name: "Try again" }).click();
      await state(page, "error");
      // The browser logs the 404 responses themselves as console errors; nothing else may.
      assertClean(problems, { allowConsole: [/Failed to load resource: the server responded with a status of 404/] });
    } finally {
      await page.close();
    }
  });
});
