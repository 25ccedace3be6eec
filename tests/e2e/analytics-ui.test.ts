// The Analytics page in a real browser (issue 15, "Reports"): on orders placed a few days to
// a few months before today (New York time, the e2e shop's zone), the merchant opens
// Analytics from the app's menu, reads the last 30 days' figures against the 30 days before,
// switches to the last 90 days, swaps the cohort grid's shares for counts, reloads (the range
// stays: it is in the address, decision 034), downloads the overview as CSV and picks a
// custom range.
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPool } from "../../app/db.server";
import { refreshOrdersRefunds } from "../../app/services/crm-batch-store.server";
import { addDays, todayIn } from "../../app/domain/admin/analytics-view-models";
import { watchPage } from "../support/browser";
import { E2E_SHOP_TIME_ZONE, EmbeddedAdminApp, atPath, markDocumentOnceAppBridgeIsUp, screenshot, stillSameDocument } from "../support/e2e-app";
import { TEST_SHOP } from "../support/webhooks";

const app = new EmbeddedAdminApp();
// Today in the shop's zone when the seed ran; orders at 12:00 UTC (07:00 or 08:00 in New
// York), so each lands on its day in both zones.
let today = "";

type Seed = { id: number; customer: number | null; daysAgo: number; total: number; refund?: number };
const ORDERS: Seed[] = [
  { id: 1, customer: 1, daysAgo: 100, total: 80_00 },
  { id: 2, customer: 2, daysAgo: 50, total: 60_00 },
  { id: 3, customer: 1, daysAgo: 10, total: 40_00 },
  { id: 4, customer: 3, daysAgo: 5, total: 30_00 },
  { id: 5, customer: 3, daysAgo: 3, total: 20_00, refund: 5_00 },
  { id: 6, customer: null, daysAgo: 2, total: 10_00 },
];

async function seedOrders() {
  const db = getPool();
  today = todayIn(E2E_SHOP_TIME_ZONE, new Date());
  await db.query(`INSERT INTO shops (domain, "currencyCode") VALUES ($1, 'USD') ON CONFLICT (domain) DO UPDATE SET "currencyCode" = 'USD'`, [TEST_SHOP]);
  for (const o of ORDERS) {
    const at = `${addDays(today, -o.daysAgo)}T12:00:00Z`;
    await db.query(
      `INSERT INTO orders (shop, gid, legacy_id, customer_gid, currency, total_price_minor, shopify_created_at, shopify_updated_at)
       VALUES ($1, $2, $3, $4, 'USD', $5, $6, $6)`,
      [TEST_SHOP, `gid://shopify/Order/9${o.id}`, `9${o.id}`, o.customer === null ? null : `gid://shopify/Customer/95${o.customer}`, o.total, at],
    );
    if (o.refund) {
      await db.query(`INSERT INTO refunds (shop, gid, legacy_id, order_legacy_id, amount_minor, currency, refunded_at) VALUES ($1, $2, $3, $4, $5, 'USD', $6)`, [
        TEST_SHOP, `gid://shopify/Refund/9${o.id}`, `9${o.id}0`, `9${o.id}`, o.refund, at,
      ]);
      await refreshOrdersRefunds(db, TEST_SHOP, [`9${o.id}`]);
    }
  }
}

beforeAll(async () => {
  await app.start({ seed: seedOrders });
});
afterAll(() => app.stop());

const figure = (page: import("playwright-core").Page, key: string) => page.locator(`[data-analytics-figure=${key}]`).innerText();
const change = (page: import("playwright-core").Page, key: string) => page.locator(`[data-analytics-change=${key}]`).innerText();

describe("analytics admin", () => {
  it("menu -> Analytics: last 30 days vs the 30 before, then 90 days, counts, a reload, the CSV", { timeout: 180_000 }, async () => {
    const page = await app.guarded.context.newPage();
    const problems = watchPage(page);
    try {
      await app.openEmbeddedPage(page, "/app", "Home");
      await markDocumentOnceAppBridgeIsUp(page);
      // The app's menu (App Bridge's nav menu) holds the page; the stand-in navigates client-side.
      expect(await page.locator('ui-nav-menu a[href="/app/analytics"], a[href="/app/analytics"]').count()).toBeGreaterThan(0);
      await page.evaluate(() => (window as unknown as { __remixRouter: { navigate: (to: string) => Promise<void> } }).__remixRouter.navigate("/app/analytics"));
      await page.waitForURL(atPath("/app/analytics"));
      await page.getByRole("heading", { name: "Analytics", level: 1 }).waitFor();
      expect(await stillSameDocument(page)).toBe(true);

      // Last 30 days (today - 29 .. today): orders 3 (40), 4 (30), 5 (20 - 5), 6 (guest, 10) =
      // 4 orders, 95.00, AOV 23.75; customers 1 (returning, second order 90 days after the
      // first) and 3 (new, second order 2 days after) -> repeat rate 100%, median 46 days.
      // The 30 days before: order 2 (60.00), customer 2 new.
      expect(await figure(page, "revenue")).toBe("$95.00");
      expect(await change(page, "revenue")).toBe("+58.3%");
      expect(await figure(page, "orders")).toBe("4");
      expect(await change(page, "orders")).toBe("+300%");
      expect(await figure(page, "aov")).toBe("$23.75");
      expect(await figure(page, "newCustomers")).toBe("1");
      expect(await figure(page, "returningCustomers")).toBe("1");
      expect(await figure(page, "repeatPurchaseRate")).toBe("100%");
      expect(await change(page, "repeatPurchaseRate")).toBe("+100 pts");
      expect(await figure(page, "medianDaysToSecondOrder")).toBe("46 days");

      // Last 90 days: order 2 joins -> 5 orders, 155.00, AOV 31.00; new 2 and 3, returning 1.
      // The 90 days before: order 1 (80.00).
      await page.getByLabel("Date range").selectOption("90");
      await page.getByRole("button", { name: "Apply" }).click();
      await page.waitForURL((url) => url.pathname === "/app/analytics" && url.searchParams.get("range") === "90");
      await page.waitForFunction(() => document.querySelector("[data-analytics-figure=revenue]")?.textContent === "$155.00");
      expect(await change(page, "revenue")).toBe("+93.8%");
      expect(await figure(page, "orders")).toBe("5");
      expect(await figure(page, "aov")).toBe("$31.00");
      expect(await figure(page, "newCustomers")).toBe("2");
      expect(await figure(page, "returningCustomers")).toBe("1");

      // The cohort grid: a real table with a caption, column and row headers; the cohorts are
      // the first-order months inside the range's months.
      const grid = page.locator("table[data-analytics-cohorts]");
      const firstMonths = [100, 50, 5].map((d) => addDays(today, -d).slice(0, 7));
      const expected = [...new Set(firstMonths)].filter((m) => m >= addDays(today, -89).slice(0, 7)).sort();
      expect(await grid.locator("tbody th[scope=row]").allInnerTexts()).toEqual(expected);
      expect(await grid.locator("thead th[scope=col]").first().innerText()).toBe("Cohort");
      expect(await grid.locator("caption").innerText()).toMatch(/Share of each cohort/);
      expect(await grid.locator("tbody tr").first().locator("td").nth(1).innerText()).toBe("100%");
      // The chart and its data table.
      await page.locator("[data-analytics-chart=drawn] svg").first().waitFor();
      expect(await page.getByRole("table").last().locator("tbody tr").count()).toBe(expected.length);
      await screenshot(page, "analytics.png");
      // "Show counts": one click from shares to customers (month 0 = the cohort's size).
      await page.getByRole("button", { name: "Show counts" }).click();
      await page.locator("table[data-analytics-cohorts=counts]").waitFor();
      expect(await page.getByRole("button", { name: "Show counts" }).getAttribute("aria-pressed")).toBe("true");
      const size = await grid.locator("tbody tr").first().locator("td").nth(0).innerText();
      expect(await grid.locator("tbody tr").first().locator("td").nth(1).innerText()).toBe(size);

      // A reload keeps the range (it is in the address) and comes back through the bounce page.
      await page.reload();
      await page.waitForURL((url) => url.pathname === "/app/analytics" && url.searchParams.has("id_token"), { waitUntil: "load" });
      await page.getByRole("heading", { name: "Analytics", level: 1 }).waitFor();
      expect(await figure(page, "revenue")).toBe("$155.00");
      expect(await page.getByLabel("Date range").inputValue()).toBe("90");

      // The overview's CSV: a download named after the range, the figures of both periods.
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV of the overview" }).click()]);
      const from = addDays(today, -89);
      expect(download.suggestedFilename()).toBe(`analytics-overview-${from}-to-${today}.csv`);
      const csv = (await readFile((await download.path())!, "utf8")).split("\r\n");
      expect(csv.slice(0, 3)).toEqual([`figure,${from} to ${today},${addDays(today, -179)} to ${addDays(today, -90)}`, "revenue_net_USD,155.00,80.00", "orders,5,1"]);

      // A custom range, today - 10 .. today - 3: orders 3 (40), 4 (30), 5 (20 - 5) = 85.00;
      // the 8 days before hold nothing, so no change to show.
      await page.getByLabel("Date range").selectOption("custom");
      await page.getByLabel("From", { exact: true }).fill(addDays(today, -10));
      await page.getByLabel("To", { exact: true }).fill(addDays(today, -3));
      await page.getByRole("button", { name: "Apply" }).click();
      await page.waitForURL((url) => url.pathname === "/app/analytics" && url.searchParams.get("range") === "custom" && url.searchParams.get("from") === addDays(today, -10) && url.searchParams.get("to") === addDays(today, -3));
      await page.waitForFunction(() => document.querySelector("[data-analytics-figure=revenue]")?.textContent === "$85.00");
      expect(await figure(page, "orders")).toBe("3");
      expect(await page.locator("[data-analytics-change=revenue]").count()).toBe(0);
      expect(await page.getByText("Previous period: $0.00").count()).toBe(2); // revenue and AOV
      app.assertClean(problems);
    } catch (error) {
      throw await app.failureReport(error, page, problems, "analytics-failure.png");
    }
  });
});
