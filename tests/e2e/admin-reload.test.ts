// Reloads in the merchant admin (issue 11, item 13): after moving around inside the app
// (client-side navigation), a reload of every admin page renders that page again, never a
// bare 500 or a library message. The built app server on a fresh database, opened the way
// the Shopify admin opens an embedded app, with the local App Bridge stand-in, which keeps
// the launch parameters (embedded, shop, host) in the address like the admin's relaunch
// does; the reload goes through the bounce page and comes back with a session token.
// Without those parameters a reload lands on the login page (/auth/login), which asks for
// the shop domain. Unknown addresses are a friendly 404, /favicon.ico an empty 204.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page, Response } from "playwright-core";
import { saveSegment } from "../../app/services/admin-segments.server";
import { TEST_SHOP } from "../support/webhooks";
import { DESKTOP_USER_AGENT, watchPage } from "../support/browser";
import { TEST_API_KEY } from "../support/env";
import { SEEDED, seedStoreThroughWebhooks } from "../support/admin-seed";
import { EmbeddedAdminApp, bodyText, markDocument, markDocumentOnceAppBridgeIsUp, screenshot, stillSameDocument } from "../support/e2e-app";

const SEGMENT_NAME = "Reload spenders";

const app = new EmbeddedAdminApp();
let segmentId: string;

beforeAll(async () => {
  await app.start({
    seed: async () => {
      await seedStoreThroughWebhooks(TEST_SHOP);
      const saved = await saveSegment({
        shop: TEST_SHOP,
        id: null,
        values: { name: SEGMENT_NAME, query: "amount_spent >= 100", tag: "", tagSyncEnabled: false },
        actor: "e2e",
      });
      if (!saved.ok) throw new Error(`segment not saved: ${JSON.stringify(saved.errors)}`);
      segmentId = saved.segment.id;
    },
  });
});

afterAll(() => app.stop());

/** Main-frame document responses ("status path") while `during` runs. */
async function documentResponses(page: Page, during: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const onResponse = (response: Response) => {
    if (response.request().isNavigationRequest() && response.frame() === page.mainFrame()) seen.push(`${response.status()} ${new URL(response.url()).pathname}`);
  };
  page.on("response", onResponse);
  try {
    await during();
  } finally {
    page.off("response", onResponse);
  }
  return seen;
}

const statusOf = (entry: string) => Number(entry.split(" ")[0]);

async function expectNoErrorPage(page: Page, where: string) {
  const text = await bodyText(page);
  expect(text, `${where}: no Remix error text`).not.toContain("Unexpected Server Error");
  expect(text, `${where}: no library message`).not.toContain("authenticate.admin");
  expect(text, `${where}: no Remix default error page`).not.toContain("Application Error");
  expect(await page.locator("[data-error-page]").count(), `${where}: not the app's error page`).toBe(0);
}

/** Waits for the level-1 heading (any, when `heading` is null) of the page at `pathname`. */
async function waitForPage(page: Page, pathname: string, heading: string | null) {
  await page.waitForURL((url) => url.pathname === pathname, { timeout: 15_000 });
  const h1 = heading === null ? page.getByRole("heading", { level: 1 }).first() : page.getByRole("heading", { name: heading, level: 1 });
  await h1.waitFor({ timeout: 15_000 });
}

describe("reloading admin pages in headless Chromium", () => {
  it("GIVEN the embedded admin WHEN the merchant navigates to each page and reloads it THEN the same page renders again", { timeout: 240_000 }, async () => {
    const page = await app.guarded.context.newPage();
    const problems = watchPage(page);
    try {
      await app.openEmbeddedPage(page, "/app/customers", "Customers");
      await markDocumentOnceAppBridgeIsUp(page);

      // Every page of app/routes/app.*.tsx a merchant reaches from the menu or a page's links
      // (the segment editor, tag preview and preview endpoints are covered through the segment).
      const pages: { to: string; pathname?: string; heading: string | null }[] = [
        { to: "/app", heading: "Home" },
        { to: "/app/customers", heading: "Customers" },
        { to: `/app/customers/${SEEDED.beatriz.id}`, heading: "Beatriz Costa" },
        { to: "/app/segments", heading: "Segments" },
        { to: `/app/segments/${segmentId}`, heading: SEGMENT_NAME },
        { to: `/app/segments/${segmentId}/edit`, heading: `Edit ${SEGMENT_NAME}` },
        { to: "/app/segments/new", heading: "New segment" },
        { to: "/app/loyalty", heading: "Loyalty" },
        { to: "/app/loyalty/settings", heading: "Program settings" },
        { to: "/app/settings", heading: "Settings" },
        { to: "/app/pipeline", heading: "Pipeline" },
      ];
      for (const target of pages) {
        // Client-side navigation, as a link or the admin menu does it.
        await page.evaluate((to) => (window as unknown as { __remixRouter: { navigate: (to: string) => Promise<void> } }).__remixRouter.navigate(to), target.to);
        await page.waitForURL((url) => (target.heading === null ? url.pathname.startsWith("/app") : url.pathname === target.to), { timeout: 15_000 });
        const pathname = new URL(page.url()).pathname;
        await waitForPage(page, pathname, target.heading);
        expect(await stillSameDocument(page), `${target.to} reached without a reload`).toBe(true);
        const headingBefore = await page.getByRole("heading", { level: 1 }).first().innerText();

        // The reload.
        const documents = await documentResponses(page, async () => {
          await page.reload({ waitUntil: "commit" });
          await page
            .waitForURL((url) => url.pathname === pathname && url.searchParams.has("id_token"), { timeout: 15_000, waitUntil: "load" })
            .catch(async (error: Error) => {
              throw new Error(`reload of ${pathname} did not come back with a session token (now at ${page.url()}): ${error.message}\n${(await bodyText(page).catch(() => "")).slice(0, 500)}`);
            });
          await waitForPage(page, pathname, target.heading ?? headingBefore);
        });
        expect(documents.every((d) => statusOf(d) < 500), `${pathname} reload documents: ${documents.join(", ")}`).toBe(true);
        expect(documents.some((d) => d.endsWith(" /auth/session-token")), `${pathname} reload went through the bounce page: ${documents.join(", ")}`).toBe(true);
        expect(await stillSameDocument(page), `${pathname} was reloaded`).toBe(false);
        await expectNoErrorPage(page, `${pathname} after reload`);
        await markDocument(page);
      }
      await screenshot(page, "reload-01-pipeline-reloaded.png");
      app.assertClean(problems);
    } catch (error) {
      throw await app.failureReport(error, page, problems, "reload-failure.png");
    } finally {
      await page.close();
    }
  });

  it("GIVEN an admin address without the launch parameters WHEN it is loaded THEN the login page asks for the shop domain", { timeout: 120_000 }, async () => {
    const page = await app.guarded.context.newPage();
    const problems = watchPage(page);
    try {
      // A reload of a copied address, a bookmark: no shop, no host, no token.
      const documents = await documentResponses(page, async () => {
        await page.goto(`${app.server.origin}/app/customers/${SEEDED.beatriz.id}`);
        await page.waitForURL((url) => url.pathname === "/auth/login");
        await page.getByRole("heading", { name: "Log in", level: 1 }).waitFor();
      });
      expect(documents).toEqual(["302 /app/customers/" + SEEDED.beatriz.id, "200 /auth/login"]);
      await expectNoErrorPage(page, "/auth/login");
      const shopField = page.getByLabel("Shop domain");
      await shopField.waitFor();
      await screenshot(page, "reload-02-login.png");

      // Nothing entered, then something that is not a shop domain: the field says what is wrong.
      await page.getByRole("button", { name: "Log in" }).click();
      await page.getByText("Enter your shop domain to log in").waitFor();
      await shopField.fill("example.com");
      await page.getByRole("button", { name: "Log in" }).click();
      await page.getByText("Enter a valid shop domain").waitFor();
      expect(new URL(page.url()).pathname).toBe("/auth/login");
      await screenshot(page, "reload-03-login-invalid-shop.png");

      // A valid shop goes to Shopify to open the app (checked without leaving the machine).
      const valid = await fetch(`${app.server.origin}/auth/login`, {
        method: "POST",
        body: new URLSearchParams({ shop: "reload-test" }),
        redirect: "manual",
        headers: { "user-agent": DESKTOP_USER_AGENT },
      });
      expect(valid.status).toBe(302);
      expect(valid.headers.get("location")).toBe(`https://admin.shopify.com/store/reload-test/oauth/install?client_id=${TEST_API_KEY}`);
      app.assertClean(problems);
    } catch (error) {
      throw await app.failureReport(error, page, problems, "reload-login-failure.png");
    } finally {
      await page.close();
    }
  });

  it("GIVEN unknown addresses and /favicon.ico WHEN they are requested THEN a friendly 404 page and an empty cached 204, nothing logged", async () => {
    const page = await app.guarded.context.newPage();
    const problems = watchPage(page);
    try {
      const outputBefore = app.server.output().length;
      for (const path of ["/no-such-page", "/app/no-such-page"]) {
        const response = await page.goto(`${app.server.origin}${path}`);
        expect(response?.status(), path).toBe(404);
        await page.getByRole("heading", { name: "Page not found", level: 1 }).waitFor();
      }
      await screenshot(page, "reload-04-not-found.png");

      const posted = await fetch(`${app.server.origin}/no-such-form`, { method: "POST", body: new URLSearchParams({ a: "1" }), headers: { "user-agent": DESKTOP_USER_AGENT } });
      expect(posted.status).toBe(404);
      expect(await posted.text()).toContain("Page not found");

      const favicon = await fetch(`${app.server.origin}/favicon.ico`);
      expect(favicon.status).toBe(204);
      expect(favicon.headers.get("cache-control")).toMatch(/max-age=\d+/);
      expect(await favicon.text()).toBe("");
      const logged = app.server.output().slice(outputBefore);
      expect(logged, "no stack trace or error in the server log").not.toMatch(/No route matches|Error:|"level":50/);
      app.assertClean(problems, { allowConsole: [/status of 404/] });
    } catch (error) {
      throw await app.failureReport(error, page, problems, "reload-not-found-failure.png");
    } finally {
      await page.close();
    }
  });
});
