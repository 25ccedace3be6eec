// The merchant admin in a real browser: the built app server (node build/index.js) on a
// fresh database seeded through the real webhook pipeline, opened the way the Shopify
// admin opens an embedded app (?embedded=1&shop&host&id_token), with the local App
// Bridge stand-in. Nothing may leave the machine: the browser aborts (and the test
// fails on) any request to a non-loopback host, and the server refuses such connections.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { TEST_SHOP } from "../support/webhooks";
import { watchPage } from "../support/browser";
import { SEEDED, eventStatuses, seedInboxProblems, seedOtherStore, seedStoreThroughWebhooks, type SeededInbox } from "../support/admin-seed";
import { EmbeddedAdminApp, bodyText, markDocumentOnceAppBridgeIsUp, screenshot, stillSameDocument, waitForRows, atPath } from "../support/e2e-app";

const OTHER_SHOP = "other-store.myshopify.com";

const app = new EmbeddedAdminApp();
let inbox: SeededInbox;
let otherStore: { deadId: string };

beforeAll(async () => {
  await app.start({
    seed: async () => {
      await seedStoreThroughWebhooks(TEST_SHOP);
      otherStore = await seedOtherStore(OTHER_SHOP);
      inbox = await seedInboxProblems(TEST_SHOP); // last: its pending row never settles
    },
  });
});

afterAll(() => app.stop());

/** Waits until the list shows exactly one row, for this customer (the previous search may also have had one). */
async function waitForOnlyRow(page: Page, name: string) {
  await page.waitForFunction(
    (expected) => {
      const rows = document.querySelectorAll(".Polaris-IndexTable__TableRow");
      return rows.length === 1 && rows[0]!.querySelector("td")?.textContent === expected;
    },
    name,
    { timeout: 10_000 },
  );
}

async function waitForStatuses(ids: string[], status: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const statuses = await eventStatuses(ids);
    if (ids.every((id) => statuses[id] === status)) return;
    if (Date.now() > deadline) throw new Error(`events ${ids.join(", ")} not ${status}: ${JSON.stringify(statuses)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("merchant admin UI in headless Chromium", () => {
  it("GIVEN a seeded store WHEN the merchant browses customers and replays dead letters THEN every page works offline", { timeout: 120_000 }, async () => {
    const page = await app.guarded.context.newPage();
    const problems = watchPage(page);
    try {
      // Customers list: the embedded app's first document load.
      await app.openEmbeddedPage(page, "/app/customers", "Customers");
      await waitForRows(page, 25);
      await markDocumentOnceAppBridgeIsUp(page);
      let text = await bodyText(page);
      expect(text).toContain("29 customers"); // 26 fillers + Ana + Beatriz + the redacted one; the deleted one is not listed
      // Keyset pages (decision 040): no page numbers, a Next link carrying an opaque cursor.
      expect(text).not.toContain("Page 1 of");
      expect(text).not.toContain("Carla");
      expect(text).not.toContain("Zed"); // another store's customer
      // Newest last order first: Beatriz (Feb 10 2026), then Ana (Feb 3 2026).
      const firstNames = await page.locator(".Polaris-IndexTable__TableRow").evaluateAll((rows) => rows.slice(0, 2).map((r) => r.querySelector("td")?.textContent));
      expect(firstNames).toEqual(["Beatriz Costa", "Ana Silva"]);
      const firstPageText = text;
      expect(text).toContain("$220.00"); // Beatriz: 50 + 200 - 30 refunded; the cancelled and the test order do not count
      const polarisStyled = await page.evaluate(() => getComputedStyle(document.querySelector(".Polaris-Page")!).maxWidth);
      expect(polarisStyled).not.toBe("none"); // Polaris CSS is loaded
      await screenshot(page, "01-customers.png");

      // Page 2: the four customers with the oldest orders.
      await page.getByRole("link", { name: "Next" }).click();
      await page.waitForURL(/after=/);
      await waitForRows(page, 4);
      text = await bodyText(page);
      expect(text).toContain("Filler01 Shopper");
      expect(text).not.toContain("Beatriz");
      expect(await page.getByRole("link", { name: "Next" }).count()).toBe(0); // the last page
      // Back to the first page through the Previous link (a `before` cursor).
      await page.getByRole("link", { name: "Previous" }).click();
      await page.waitForURL(/before=/);
      await waitForRows(page, 25);
      expect(await page.locator(".Polaris-IndexTable__TableRow td").first().innerText()).toBe("Beatriz Costa");
      expect(await page.getByRole("link", { name: "Previous" }).count()).toBe(0); // the first page
      await page.getByRole("link", { name: "Next" }).click();
      await page.waitForURL(/after=/);
      await waitForRows(page, 4);
      text = await bodyText(page);
      // The redacted customer is listed (on one of the pages) without name or email.
      const bothPages = `${firstPageText}\n${text}`;
      expect(bothPages.match(/Redacted customer/g)).toHaveLength(1);
      expect(bothPages).not.toContain(SEEDED.redacted.firstName);
      expect(bothPages).not.toContain(SEEDED.redacted.email);

      // Sort by amount spent, highest first: Beatriz (paid orders, refunds deducted) tops the list.
      await page.getByLabel("Sort by").selectOption("spent_desc");
      await page.waitForURL(/sort=spent_desc/);
      await waitForRows(page, 25);
      expect(await page.locator(".Polaris-IndexTable__TableRow td").first().innerText()).toBe("Beatriz Costa");

      // Search: deleted customers are not found; search is case-insensitive, by name or email.
      const search = page.getByPlaceholder("Search by name or email");
      await search.fill("carla");
      await search.press("Enter");
      await page.waitForURL(/q=carla/);
      await page.getByText("No customers match “carla”").waitFor();
      await page.getByPlaceholder("Search by name or email").fill("BEATRIZ");
      await page.getByPlaceholder("Search by name or email").press("Enter");
      await page.waitForURL(/q=BEATRIZ/);
      await waitForRows(page, 1);
      text = await bodyText(page);
      expect(text).toContain("Beatriz Costa");
      expect(text).toContain("beatriz.costa@example.com");
      await screenshot(page, "02-customers-search.png");
      await page.getByPlaceholder("Search by name or email").fill("ana.silva@EXAMPLE");
      await page.getByPlaceholder("Search by name or email").press("Enter");
      await page.waitForURL(/q=ana\.silva/);
      await waitForOnlyRow(page, "Ana Silva"); // the URL changes before the list does
      // A substring from the middle of a name (the trigram index), in any case.
      await page.getByPlaceholder("Search by name or email").fill("ATRIZ co");
      await page.getByPlaceholder("Search by name or email").press("Enter");
      await page.waitForURL(/q=ATRIZ/);
      await waitForOnlyRow(page, "Beatriz Costa");

      // Customer page: profile, metrics and the order timeline, newest first.
      await page.getByRole("link", { name: "Beatriz Costa" }).click();
      await page.waitForURL(atPath(`/app/customers/${SEEDED.beatriz.id}`));
      await page.getByRole("heading", { name: "Beatriz Costa", level: 1 }).waitFor();
      await page.getByText("Order timeline").waitFor();
      text = await bodyText(page);
      for (const expected of [
        "beatriz.costa@example.com",
        "+14155550123",
        "Portland, OR, US",
        "vip",
        "wholesale",
        "Subscribed",
        "Refund",
        "−$30.00",
        // Times in the shop's zone (the e2e shop is in America/New_York): 15:20 UTC is 10:20 EST.
        "on Feb 12, 2026, 10:20 AM EST",
        "Cancelled",
        "on Jan 16, 2026, 4:05 AM EST",
        "Reason: Customer",
        "Test order",
        "Partially refunded",
      ]) {
        expect(text, `customer page shows ${expected}`).toContain(expected);
      }
      expect(text).not.toContain("UTC");
      // The account state is explained ("Enabled" is Shopify's word for having a store account).
      expect(text).toContain("Has an account");
      expect(await page.locator("[data-account-state]").getAttribute("title")).toMatch(/created an account in your online store/);
      // Each order links to its page in the Shopify admin (App Bridge's shopify://admin address, top frame).
      const orderLinks = page.locator("a[data-order-link]");
      expect(await orderLinks.count()).toBe(4);
      const firstLink = orderLinks.first();
      expect(await firstLink.innerText()).toBe(SEEDED.orders.beatrizTest.name);
      expect(await firstLink.getAttribute("href")).toMatch(/^shopify:\/\/admin\/orders\/\d+$/);
      expect(await firstLink.getAttribute("target")).toBe("_top");
      const { beatrizTest, beatrizRefunded, beatrizCancelled, beatrizFirst } = SEEDED.orders;
      const positions = [beatrizTest, beatrizRefunded, beatrizCancelled, beatrizFirst].map((o) => text.indexOf(o.name));
      expect(positions.every((p) => p >= 0)).toBe(true);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions); // newest first
      expect(await stillSameDocument(page)).toBe(true);
      await screenshot(page, "03-customer.png");

      // Home, through the app's navigation menu: what the CRM knows and what needs attention.
      await page.locator("ui-nav-menu").getByRole("link", { name: "Home" }).click();
      await page.waitForURL(atPath("/app"));
      await page.getByRole("heading", { name: "Home", level: 1 }).waitFor();
      expect(await page.locator("[data-home-figure=customers]").innerText()).toBe("29");
      expect(await page.locator("[data-attention=dead_letters]").innerText()).toContain("2 webhook deliveries failed every retry");
      expect(await stillSameDocument(page)).toBe(true);
      await screenshot(page, "03b-home.png");

      // Pipeline, under Settings (no longer among the merchant's pages in the menu).
      expect(await page.locator("ui-nav-menu").getByRole("link", { name: "Pipeline" }).count()).toBe(0);
      await page.locator("ui-nav-menu").getByRole("link", { name: "Settings" }).click();
      await page.waitForURL(atPath("/app/settings"));
      await page.getByRole("heading", { name: "Settings", level: 1 }).waitFor();
      expect(await bodyText(page)).toContain("America/New_York");
      await page.getByRole("link", { name: "Pipeline" }).click();
      await page.waitForURL(atPath("/app/pipeline"));
      await page.getByRole("heading", { name: "Pipeline", level: 1 }).waitFor();
      await page.getByText("Dead letters").first().waitFor();
      expect(await stillSameDocument(page)).toBe(true);
      await waitForRows(page, 2);
      text = await bodyText(page);
      expect(text).toContain("customers/update");
      expect(text).toContain("connect ECONNREFUSED 10.0.0.5:5432");
      expect(text).toContain("orders/create");
      expect(text).toContain("deadlock detected");
      expect(text).not.toContain("other store failure"); // another store's dead letter
      expect(text).toContain("Oldest pending event");
      expect(text).toMatch(/4 min/); // the pending event received four minutes ago
      await screenshot(page, "04-pipeline.png");

      // Replay one dead letter.
      const [customerEvent, orderEvent] = inbox.deadIds as [string, string];
      await page.getByRole("button", { name: `Replay event ${customerEvent}` }).click();
      await page.getByText("Replay started").waitFor();
      text = await bodyText(page);
      expect(text).toContain("Replayed 1 event. The worker is applying it now.");
      await page.locator("[data-app-bridge-toast]").first().waitFor();
      await waitForRows(page, 1);
      await screenshot(page, "05-pipeline-replayed.png");
      await waitForStatuses([customerEvent], "processed");

      // Replay all that is left.
      await page.getByRole("button", { name: "Replay all dead" }).click();
      await page.getByText("No dead letters").waitFor();
      expect(await bodyText(page)).toContain("Replayed 1 event.");
      await waitForStatuses([orderEvent], "processed");
      expect(await eventStatuses([otherStore.deadId])).toEqual({ [otherStore.deadId]: "dead" }); // replay is per store
      expect(await stillSameDocument(page)).toBe(true);
      await screenshot(page, "06-pipeline-all-replayed.png");

      // The replayed events reached the customer model: Elena is now a customer.
      await page.locator("ui-nav-menu").getByRole("link", { name: "Customers" }).click();
      await page.waitForURL(atPath("/app/customers"));
      await page.getByPlaceholder("Search by name or email").fill("elena");
      await page.getByPlaceholder("Search by name or email").press("Enter");
      await waitForRows(page, 1);
      text = await bodyText(page);
      expect(text).toContain("Elena Replay");
      expect(text).toContain("$64.00");
      expect(await stillSameDocument(page)).toBe(true);
      app.assertClean(problems);

      // A document load without a session token goes through Shopify's bounce page, where
      // (the stand-in for) App Bridge reloads the app URL with a token.
      const bounceUrl = new URL(await app.embeddedUrl("/app/pipeline"));
      bounceUrl.searchParams.delete("id_token");
      await page.goto(bounceUrl.toString());
      await page.waitForURL((url) => url.pathname === "/app/pipeline" && url.searchParams.has("id_token"));
      await page.getByRole("heading", { name: "Pipeline", level: 1 }).waitFor();
      app.assertClean(problems);

      // An unknown customer id is a 404 page inside the app.
      const notFound = await page.goto(await app.embeddedUrl("/app/customers/999999999"));
      expect(notFound?.status()).toBe(404);
      await page.getByRole("heading", { name: "Customer not found", level: 1 }).waitFor();
      await screenshot(page, "07-customer-not-found.png");
      app.assertClean(problems, { allowConsole: [/status of 404/] });
    } catch (error) {
      throw await app.failureReport(error, page, problems, "failure.png");
    } finally {
      await page.close();
    }
  });
});
