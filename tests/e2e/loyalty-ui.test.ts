// The loyalty pages in a real browser (issue 5, "Storefront and admin" and the e2e test of
// "Tests"): the merchant configures a program in the admin (earn rate, tiers with a tag, a
// reward), the twin's webhook sender delivers a customer's orders and a refund to the built
// app server over HTTP with real HMACs, the worker (in this process) applies loyalty, and the
// customer page shows the balance and the ledger; a staff adjustment is made there; the
// dashboard shows the points issued and what they are worth. Nothing may leave the machine
// (the browser aborts non-loopback requests, the server refuses them). Figures on screen are
// checked against the ledger in SQL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { getPool } from "../../app/db.server";
import { TEST_API_SECRET } from "../support/env";
import { TEST_SHOP } from "../support/webhooks";
import { waitForInboxSettled, waitUntil } from "../support/pipeline";
import { watchPage } from "../support/browser";
import { EmbeddedAdminApp, markDocument, markDocumentOnceAppBridgeIsUp, screenshot, stillSameDocument, atPath } from "../support/e2e-app";
import { getProgram, saveProgram } from "../../app/services/loyalty/program.server";
import { customerPayload, orderPayload, refundPayload, type CustomerSpec } from "../support/factories";
import { WebhookSender } from "../twin/webhook-sender";
import type { WebhookMessage } from "../twin/webhook-payloads";

const ANA: CustomerSpec = { id: 7301001n, firstName: "Ana", lastName: "Loyal", email: "ana.loyal@example.com", createdAt: "2025-10-01T09:00:00Z" };
const ANA_GID = `gid://shopify/Customer/${ANA.id}`;
const ORDER_1 = 7401001n;
const ORDER_2 = 7401002n;

const app = new EmbeddedAdminApp();
let sender: WebhookSender;

beforeAll(async () => {
  await app.start();
  // Shopify's side: signed webhooks to the app's subscriptions (shopify.app.toml), over HTTP.
  sender = new WebhookSender({ targetBaseUrl: app.server.origin, secret: TEST_API_SECRET, shopDomain: TEST_SHOP, retry: { retries: 3, baseDelayMs: 100 } });
});

afterAll(() => app.stop());

let eventSeq = 0;
const message = (topic: string, payload: Record<string, unknown>): WebhookMessage => ({ topic, payload, triggeredAt: new Date().toISOString(), eventId: `loyalty-e2e-${++eventSeq}` });

async function deliver(messages: WebhookMessage[]) {
  const report = await sender.send(messages);
  expect(report.failed, JSON.stringify(report)).toBe(0);
  expect(report.delivered).toBe(messages.length);
  await waitForInboxSettled();
}

async function ledgerRows() {
  const { rows } = await getPool().query<{ kind: string; points: number; reason: string }>(
    `SELECT kind::text AS kind, points, reason FROM loyalty_ledger WHERE shop = $1 AND customer_gid = $2 ORDER BY id`,
    [TEST_SHOP, ANA_GID],
  );
  return rows;
}

/** The customer's balance by the ledger's own definition: the sum of entries available now. */
async function sqlBalance(): Promise<number> {
  const { rows } = await getPool().query<{ n: string }>(`SELECT coalesce(sum(points), 0) AS n FROM loyalty_ledger WHERE shop = $1 AND customer_gid = $2 AND available_at <= now()`, [
    TEST_SHOP,
    ANA_GID,
  ]);
  return Number(rows[0]!.n);
}

const figure = (page: Page, name: string) => page.locator(`[data-loyalty-figure="${name}"]`);

describe("loyalty UI in headless Chromium", () => {
  it(
    "GIVEN a store WHEN the merchant sets up a program and the customer orders THEN the customer page and the dashboard show the points",
    { timeout: 180_000 },
    async () => {
      // The customer exists before the program (orders placed before it earn nothing).
      await deliver([message("customers/create", customerPayload(ANA))]);
      const page = await app.guarded.context.newPage();
      const problems = watchPage(page);
      try {
        // ---- The dashboard before any program: how to set one up.
        await app.openEmbeddedPage(page, "/app/loyalty", "Loyalty");
        await markDocumentOnceAppBridgeIsUp(page);
        await page.getByText("Reward customers for every order").waitFor();
        expect(await page.locator("ui-nav-menu").getByRole("link", { name: "Loyalty" }).count()).toBe(1);
        await screenshot(page, "loyalty-01-empty.png");

        // ---- Program settings: earn rate, pending period, two tiers (one with a tag), a reward.
        await page.getByRole("link", { name: "Set up the program" }).click();
        await page.waitForURL(/\/app\/loyalty\/settings/);
        await page.getByRole("heading", { name: "Program settings", level: 1 }).waitFor();
        expect(await stillSameDocument(page)).toBe(true);
        // The time zone is a list of IANA zones that starts on the store's own (the e2e shop: New York), not free text defaulting to UTC.
        expect(await page.getByLabel("Time zone").inputValue()).toBe("America/New_York");
        expect(await page.getByLabel("Time zone").evaluate((el) => el.tagName)).toBe("SELECT");
        await page.getByLabel("Points per unit of currency").fill("2");
        await page.getByLabel("Pending period").fill("0");
        await page.getByText("Use tiers").click();
        await page.getByRole("button", { name: "Add tier" }).click();
        await page.getByLabel("Tier name").nth(0).fill("Member");
        await page.getByRole("button", { name: "Add tier" }).click();
        await page.getByLabel("Tier name").nth(1).fill("Gold");
        await page.getByLabel("Points earned from").nth(1).fill("0"); // not above Member's threshold: refused
        await page.getByLabel("Shopify tag").nth(1).fill("crm:gold");
        await page.getByRole("button", { name: "Add reward" }).click();
        await page.getByLabel("Reward name").fill("$5 off");
        await page.getByLabel("Amount off (USD)").fill("5.00");
        await page.getByLabel("Points cost").fill("100");

        // An invalid save: the error is shown at its field, nothing is stored, the form keeps what was typed.
        await page.getByRole("button", { name: "Save program" }).click();
        await page.getByText("Tier thresholds must increase from one tier to the next").waitFor();
        await page.getByText("The program was not saved: 1 field needs attention").waitFor();
        expect(await page.getByLabel("Points per unit of currency").inputValue()).toBe("2");
        const { rows: none } = await getPool().query(`SELECT 1 FROM loyalty_programs WHERE shop = $1`, [TEST_SHOP]);
        expect(none).toEqual([]);
        await screenshot(page, "loyalty-02-settings-error.png");

        await page.getByLabel("Points earned from").nth(1).fill("150");
        await page.getByRole("button", { name: "Save program" }).click();
        await page.locator("[data-app-bridge-toast]").filter({ hasText: "Program saved (version 1)" }).waitFor();
        await page.getByText("Version 1, saved").waitFor();
        const { rows: programs } = await getPool().query<{ version: number; settings: Record<string, unknown> }>(`SELECT version, settings FROM loyalty_programs WHERE shop = $1`, [TEST_SHOP]);
        expect(programs).toHaveLength(1);
        expect(programs[0]!.settings).toMatchObject({
          earn: { pointsPerUnit: 2, basis: "net_merchandise" },
          pendingDays: 0,
          timeZone: "America/New_York",
          tiers: {
            metric: "points_earned",
            levels: [
              { name: "Member", threshold: 0, tag: null, multiplier: 1 },
              { name: "Gold", threshold: 150, tag: "crm:gold", multiplier: 1 },
            ],
          },
          rewards: [{ id: "5-off", name: "$5 off", kind: "fixed_amount", value: "5.00", pointsCost: 100 }],
        });
        expect(await page.getByLabel("Shopify tag").nth(1).inputValue()).toBe("crm:gold"); // the form shows what is stored
        expect(await stillSameDocument(page)).toBe(true);
        await screenshot(page, "loyalty-03-settings-saved.png");

        // ---- Shopify sends the customer's orders, then a refund of one line.
        const placed = new Date().toISOString();
        await deliver([
          message("orders/create", orderPayload({ id: ORDER_1, name: "#5001", customer: ANA, totalPrice: "60.00", createdAt: placed })),
          message(
            "orders/create",
            orderPayload({
              id: ORDER_2,
              name: "#5002",
              customer: ANA,
              totalPrice: "45.50",
              createdAt: placed,
              lines: [
                { id: ORDER_2 * 10n + 1n, price: "30.00", title: "Alpaca Throw" },
                { id: ORDER_2 * 10n + 2n, price: "15.50", title: "Merino Crew Sock" },
              ],
            }),
          ),
        ]);
        await deliver([
          message(
            "refunds/create",
            refundPayload({ id: 7501001n, orderId: ORDER_2, amount: "15.50", createdAt: new Date().toISOString(), lines: [{ lineItemId: ORDER_2 * 10n + 2n, quantity: 1, subtotal: "15.50" }] }),
          ),
        ]);
        // 60.00 x 2 = 120; 45.50 x 2 = 91 (60 + 31 by line); the refunded line takes back its 31.
        const ledger = await waitUntil(async () => {
          const rows = await ledgerRows();
          return rows.length === 3 ? rows : null;
        }, { what: "the worker's loyalty entries" });
        expect(ledger.map((r) => [r.kind, r.points])).toEqual([
          ["earn", 120],
          ["earn", 91],
          ["reverse", -31],
        ]);
        expect(await sqlBalance()).toBe(180);

        // ---- The customer page: balance, pending, tier and the ledger.
        await page.goto(await app.embeddedUrl(`/app/customers/${ANA.id}`));
        await page.getByRole("heading", { name: "Ana Loyal", level: 1 }).waitFor();
        await markDocument(page);
        expect(await figure(page, "balance").innerText()).toBe("180 points");
        expect(await figure(page, "pending").innerText()).toBe("0 points");
        expect(await figure(page, "tier").innerText()).toBe("Gold"); // 180 points earned reaches Gold (150)
        const shownPoints = await page.locator("[data-ledger-points]").evaluateAll((cells) => cells.map((c) => c.getAttribute("data-ledger-points")));
        expect(shownPoints).toEqual(["-31", "91", "120"]); // newest first
        const ledgerText = await page.locator("[data-loyalty-ledger]").innerText();
        for (const expected of ["Reversed", "−31", "Earned", "+91", "+120", "Order #5002", "Order #5001"]) expect(ledgerText).toContain(expected);
        await page.getByText("3 entries, newest first").waitFor();
        await screenshot(page, "loyalty-04-customer.png");

        // ---- A staff adjustment: the reason is required; then it is written and audited.
        await page.getByLabel("Points", { exact: true }).fill("20");
        await page.getByRole("button", { name: "Adjust points" }).click();
        await page.getByText("A reason is required: it is kept in the ledger and the audit log").waitFor();
        expect(await page.getByLabel("Points", { exact: true }).inputValue()).toBe("20"); // what was typed stays
        expect(await ledgerRows()).toHaveLength(3);
        await page.getByLabel("Reason").fill("Welcome gift");
        await page.getByRole("button", { name: "Adjust points" }).click();
        await page.locator("[data-app-bridge-toast]").filter({ hasText: "Points adjusted: +20. Balance 200 points." }).waitFor();
        await page.locator('[data-loyalty-figure="balance"]').filter({ hasText: /^200 points$/ }).waitFor();
        expect(await page.locator("[data-ledger-points]").first().getAttribute("data-ledger-points")).toBe("20");
        await page.getByText("Welcome gift").waitFor();
        // Staff are named as the merchant knows them, never by the raw actor id (offline tokens carry no name).
        const adjustedBy = await page.locator("[data-loyalty-ledger]").innerText();
        expect(adjustedBy).toMatch(/By Staff member #\d+/);
        expect(adjustedBy).not.toContain("shopify-user:");
        expect(await page.getByLabel("Reason").inputValue()).toBe(""); // a fresh form (a new key) for the next adjustment
        expect(await sqlBalance()).toBe(200);
        const { rows: audit } = await getPool().query(`SELECT action, subject, details->>'reason' AS reason FROM audit_log WHERE shop = $1 AND action = 'loyalty.points_adjusted'`, [
          TEST_SHOP,
        ]);
        expect(audit).toEqual([{ action: "loyalty.points_adjusted", subject: ANA_GID, reason: "Welcome gift" }]);
        expect(await stillSameDocument(page)).toBe(true);
        await screenshot(page, "loyalty-05-adjusted.png");

        // ---- The dashboard: members, points issued and reversed, liability, tiers, the chart.
        await page.locator("ui-nav-menu").getByRole("link", { name: "Loyalty" }).click();
        await page.waitForURL(atPath("/app/loyalty"));
        await page.locator("[data-loyalty-metric=members]").filter({ hasText: /^1$/ }).waitFor();
        expect(await page.locator("[data-loyalty-metric=issued]").innerText()).toBe("231"); // 120 + 91 + the 20 added by staff
        expect(await page.locator("[data-loyalty-metric=redeemed]").innerText()).toBe("0");
        expect(await page.locator('[data-loyalty-total="reversed"]').innerText()).toBe("31 reversed");
        expect(await page.locator("[data-loyalty-liability]").innerText()).toBe("$10.00"); // 200 points at $5 per 100
        expect(await page.locator('[data-loyalty-tier="Gold"]').innerText()).toBe("1 member · 100%");
        const chart = page.locator('[data-loyalty-chart="drawn"]');
        await chart.locator("svg").first().waitFor();
        expect(await chart.getByText("Issued").count()).toBeGreaterThan(0);
        expect(await stillSameDocument(page)).toBe(true);
        await screenshot(page, "loyalty-06-dashboard.png");

        // ---- Two people edit the program: the later save is refused, nothing is overwritten.
        await page.getByRole("link", { name: "Program settings" }).click();
        await page.waitForURL(/\/app\/loyalty\/settings/);
        await page.getByText("Version 1, saved").waitFor();
        const stored = (await getProgram(TEST_SHOP))!;
        await saveProgram({ shop: TEST_SHOP, settings: { ...stored.settings, pendingDays: 7 }, actor: "colleague@example.com", expectedVersion: 1 });
        await page.getByLabel("Points per unit of currency").fill("3");
        await page.getByRole("button", { name: "Save program" }).click();
        await page.getByText("Not saved: the program changed meanwhile").waitFor();
        await page.waitForLoadState("networkidle");
        // The page stays on the version the form was based on, with nothing typed lost, until the merchant reloads.
        expect(await page.getByText("Not saved: the program changed meanwhile").count()).toBe(1);
        expect(await page.getByText("Version 1, saved").count()).toBe(1);
        expect(await page.getByLabel("Points per unit of currency").inputValue()).toBe("3");
        expect((await getProgram(TEST_SHOP))!).toMatchObject({ version: 2, settings: { pendingDays: 7, earn: { pointsPerUnit: 2 } } });
        await screenshot(page, "loyalty-07-conflict.png");
        await page.getByRole("button", { name: "Reload the program" }).click();
        await page.getByText("Version 2, saved").waitFor();
        expect(await page.getByLabel("Pending period").inputValue()).toBe("7"); // the colleague's version
        expect(await page.getByLabel("Points per unit of currency").inputValue()).toBe("2");
        expect(await page.getByText("Not saved: the program changed meanwhile").count()).toBe(0);
        expect(await stillSameDocument(page)).toBe(true);

        // The one failed request of each refused form: answered 400 (invalid) or 409 (conflict) on purpose.
        const refused = /status of 40[09] \((Bad Request|Conflict)\) \(http:\/\/127\.0\.0\.1:\d+\/app\/(loyalty\/settings|customers\/\d+)\?[^)]*_data=/;
        expect(problems.consoleErrors.filter((m) => refused.test(m))).toHaveLength(3);
        app.assertClean(problems, { allowConsole: [refused] });
      } catch (error) {
        throw await app.failureReport(error, page, problems, "loyalty-failure.png");
      } finally {
        await page.close();
      }
    },
  );
});
