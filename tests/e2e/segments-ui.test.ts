// The Segments pages in a real browser (issue 4, "Merchant UI"): the built app server on a
// fresh database seeded through the real webhook pipeline, opened as the Shopify admin
// opens an embedded app, with the local App Bridge stand-in. Nothing may leave the machine:
// the browser aborts (and the test fails on) any request to a non-loopback host, and the
// server refuses such connections. Counts on screen are checked against hand-written SQL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page, Route } from "playwright-core";
import { getPool } from "../../app/db.server";
import { TEST_SHOP } from "../support/webhooks";
import { watchPage } from "../support/browser";
import { SEEDED, seedOtherStore, seedStoreThroughWebhooks } from "../support/admin-seed";
import { EmbeddedAdminApp, bodyText, markDocumentOnceAppBridgeIsUp, screenshot, stillSameDocument, waitForRows, atPath } from "../support/e2e-app";

const OTHER_SHOP = "other-store.myshopify.com";

const SEGMENT_NAME = "Repeat spenders";
const TYPO_QUERY = "amount_spend >= 100";
const TYPO_MESSAGE = "unknown attribute `amount_spend` at 1:1, did you mean `amount_spent`?";
const HELD_QUERY = "amount_spent >= 100";
const FINAL_QUERY = "amount_spent >= 10";
const EDITED_QUERY = "amount_spent >= 100 AND number_of_orders >= 2";
const TAG = "crm:repeat-spenders";

const app = new EmbeddedAdminApp();

beforeAll(async () => {
  await app.start({
    seed: async () => {
      await seedStoreThroughWebhooks(TEST_SHOP);
      await seedOtherStore(OTHER_SHOP); // Zed spent 999.00 in another store: never counted here
    },
  });
});

afterAll(() => app.stop());

const rows = (page: Page) => page.locator(".Polaris-IndexTable__TableRow");

/** Live customers of the test store who spent at least `minor` (hand-written, independent of the compiler). */
async function sqlCountSpentAtLeast(minor: number, minOrders = 0): Promise<number> {
  const { rows } = await getPool().query<{ n: number }>(
    `SELECT count(*)::int AS n FROM customers
      WHERE shop = $1 AND deleted_at IS NULL AND redacted_at IS NULL AND total_spent_minor >= $2 AND orders_count >= $3`,
    [TEST_SHOP, minor, minOrders],
  );
  return rows[0]!.n;
}

async function segmentRows() {
  const { rows } = await getPool().query<{ id: string; name: string; query: string; member_count: number; tag: string | null; tag_sync_enabled: boolean }>(
    `SELECT id::text, name, query, member_count, tag, tag_sync_enabled FROM segments WHERE shop = $1 ORDER BY id`,
    [TEST_SHOP],
  );
  return rows;
}

/** The live count the editor shows as current (for exactly the text in the editor). */
async function currentLiveCount(page: Page, expected: number) {
  const label = expected === 1 ? "1 customer" : `${expected} customers`;
  const count = page.locator('[data-segment-live-count="current"]');
  await count.filter({ hasText: new RegExp(`^\\s*${label}\\s*$`) }).waitFor({ timeout: 10_000 });
}

describe("segments UI in headless Chromium", () => {
  it(
    "GIVEN a seeded store WHEN the merchant creates, inspects, tags, edits and deletes a segment THEN every step works offline",
    { timeout: 180_000 },
    async () => {
      const page = await app.guarded.context.newPage();
      const problems = watchPage(page);
      try {
        // ---- The list, empty.
        await app.openEmbeddedPage(page, "/app/segments", "Segments");
        await markDocumentOnceAppBridgeIsUp(page);
        await page.getByText("Group your customers into segments").waitFor();
        expect(await page.locator("ui-nav-menu").getByRole("link", { name: "Segments" }).count()).toBe(1);
        await screenshot(page, "segments-01-empty.png");

        // ---- The editor: an example, then a typo with its positioned error and hint.
        await page.getByRole("link", { name: "Create segment" }).click();
        await page.waitForURL(/\/app\/segments\/new/);
        await page.getByRole("heading", { name: "New segment", level: 1 }).waitFor();
        expect(await stillSameDocument(page)).toBe(true);
        const editor = page.locator("#segment-query");
        await page.getByRole("button", { name: "Use the example Big spenders" }).click();
        expect(await editor.inputValue()).toBe("amount_spent >= 500");
        await currentLiveCount(page, await sqlCountSpentAtLeast(50_000));

        await page.getByLabel("Name").fill(SEGMENT_NAME);
        await editor.fill(TYPO_QUERY);
        const mark = page.locator("[data-segment-error]");
        await mark.first().waitFor();
        expect(await mark.count()).toBe(1);
        expect(await mark.first().textContent()).toBe("amount_spend"); // the mark covers exactly the unknown word
        expect(await mark.first().getAttribute("data-segment-error")).toBe(TYPO_MESSAGE);
        await page.getByText(TYPO_MESSAGE).waitFor();
        expect(await editor.getAttribute("aria-invalid")).toBe("true");
        await screenshot(page, "segments-02-typo.png");

        // Saving the invalid query stores nothing and answers with the same positioned error.
        await page.getByRole("button", { name: "Save segment" }).click();
        await page.waitForLoadState("networkidle");
        expect(page.url()).toMatch(/\/app\/segments\/new/);
        await page.getByText(TYPO_MESSAGE).waitFor();
        expect(await segmentRows()).toEqual([]);

        // ---- Fix it with the hint, then keep typing. The preview for the intermediate text
        // is held back in the network and released only after the final text's count is
        // shown: the late answer must not replace the newer one.
        let heldOnce = false;
        let heldArrived!: () => void;
        const arrived = new Promise<void>((resolve) => (heldArrived = resolve));
        let releaseHeld!: () => void;
        const release = new Promise<void>((resolve) => (releaseHeld = resolve));
        let heldOutcome = "pending";
        const holdIntermediate = async (route: Route) => {
          const q = new URL(route.request().url()).searchParams.get("q");
          if (q !== HELD_QUERY || heldOnce) return route.fallback();
          heldOnce = true;
          heldArrived();
          const real = await route.fetch();
          await release;
          await route.fulfill({ response: real }).then(
            () => (heldOutcome = "fulfilled late"),
            () => (heldOutcome = "aborted by the page"),
          );
        };
        await page.route(/\/app\/segments\/preview\?/, holdIntermediate);
        await page.getByRole("button", { name: "Replace with amount_spent" }).click();
        expect(await editor.inputValue()).toBe(HELD_QUERY);
        await arrived;
        await editor.press("End");
        await editor.press("Backspace");
        expect(await editor.inputValue()).toBe(FINAL_QUERY);
        const expected = await sqlCountSpentAtLeast(1_000);
        expect(expected).toBe(SEEDED.fillerCount + 2); // every filler (10.50 and up), Ana and Beatriz; not the redacted or the other store's
        await currentLiveCount(page, expected);
        releaseHeld();
        await page.waitForTimeout(700);
        await currentLiveCount(page, expected); // still the newer answer
        expect(await page.locator('[data-segment-live-count="current"]').innerText()).toContain(`${expected} customers`);
        expect(heldOutcome).not.toBe("pending");
        await page.unroute(/\/app\/segments\/preview\?/, holdIntermediate);
        expect(await page.locator("[data-segment-error]").count()).toBe(0);
        const sample = page.locator("[data-segment-sample] a");
        expect(await sample.count()).toBe(10);
        for (const href of await sample.evaluateAll((links) => links.map((a) => a.getAttribute("href")))) expect(href).toMatch(/^\/app\/customers\/\d+$/);
        expect(await bodyText(page)).not.toContain("Zed");
        await screenshot(page, "segments-03-live-count.png");

        // ---- Save: the segment page.
        await page.getByRole("button", { name: "Save segment" }).click();
        await page.waitForURL((url) => /^\/app\/segments\/\d+$/.test(url.pathname));
        const segmentId = /\/app\/segments\/(\d+)$/.exec(new URL(page.url()).pathname)![1]!;
        await page.getByRole("heading", { name: SEGMENT_NAME, level: 1 }).waitFor();
        await page.locator("[data-app-bridge-toast]").filter({ hasText: "Segment created" }).waitFor(); // the save is confirmed
        expect(await stillSameDocument(page)).toBe(true);
        expect(await segmentRows()).toEqual([
          { id: segmentId, name: SEGMENT_NAME, query: FINAL_QUERY, member_count: expected, tag: null, tag_sync_enabled: false },
        ]);
        await waitForRows(page, 25);
        let text = await bodyText(page);
        expect(text).toContain(FINAL_QUERY);
        expect(text).toContain(`${expected} customers`);
        expect(text).toContain("Beatriz Costa");
        const firstPageNames = await rows(page).evaluateAll((trs) => trs.map((tr) => tr.querySelector("td")?.textContent));
        // Members are linked to their customer pages.
        const hrefs = await rows(page).locator("a").evaluateAll((links) => links.map((a) => a.getAttribute("href")));
        expect(hrefs).toHaveLength(25);
        for (const href of hrefs) expect(href).toMatch(/^\/app\/customers\/\d+$/);
        expect(hrefs).toContain(`/app/customers/${SEEDED.beatriz.id}`);
        // The chart: drawn by the chart library in the browser, with both series.
        const chart = page.locator('[data-segment-chart="drawn"]');
        await chart.locator("svg").first().waitFor();
        expect(await chart.getByText("Entered").count()).toBeGreaterThan(0);
        expect(await chart.getByText("Exited").count()).toBeGreaterThan(0);
        expect(text).toContain(`${expected} entered`);
        expect(text).toContain("0 exited");
        await screenshot(page, "segments-04-segment-page.png");

        // Keyset pages: the next page holds the rest, Previous comes back.
        await page.getByRole("link", { name: "Next" }).click();
        await page.waitForURL(/after=/);
        await waitForRows(page, expected - 25);
        const secondPageNames = await rows(page).evaluateAll((trs) => trs.map((tr) => tr.querySelector("td")?.textContent));
        expect(new Set([...firstPageNames, ...secondPageNames]).size).toBe(expected);
        await page.getByRole("link", { name: "Previous" }).click();
        await page.waitForURL(/before=/);
        await waitForRows(page, 25);
        expect(await rows(page).evaluateAll((trs) => trs.map((tr) => tr.querySelector("td")?.textContent))).toEqual(firstPageNames);
        // A member's link opens the customer page.
        await page.getByRole("link", { name: "Beatriz Costa" }).click();
        await page.waitForURL(atPath(`/app/customers/${SEEDED.beatriz.id}`));
        await page.getByRole("heading", { name: "Beatriz Costa", level: 1 }).waitFor();
        await page.goBack();
        await page.getByRole("heading", { name: SEGMENT_NAME, level: 1 }).waitFor();

        // ---- Tag sync: validation, then the dry run, then save.
        const tagField = page.getByLabel("Customer tag");
        await tagField.fill("vip");
        await page.getByText("the tag must be namespaced, for example `crm:vip`").waitFor();
        await tagField.fill(TAG);
        await page.getByText("Keep this tag in sync in Shopify").click();
        const dryRun = page.locator("[data-segment-tag-dry-run]");
        await dryRun.getByText(`Will add the tag to ${expected} customers and remove it from 0.`).waitFor();
        await screenshot(page, "segments-05-tag-dry-run.png");
        await page.getByRole("button", { name: "Save tag setting" }).click();
        await page.getByText(`Syncing ${TAG}`).waitFor();
        await page.locator("[data-app-bridge-toast]").filter({ hasText: "Tag setting saved" }).waitFor();
        const { rows: writes } = await getPool().query<{ action: string; status: string; n: number }>(
          `SELECT action::text, status::text, count(*)::int AS n FROM tag_writes WHERE shop = $1 AND source = $2 GROUP BY 1, 2`,
          [TEST_SHOP, `segment:${segmentId}`],
        );
        expect(writes).toEqual([{ action: "add", status: "pending", n: expected }]); // queued for the writer; nothing sent from here
        expect(await segmentRows()).toMatchObject([{ tag: TAG, tag_sync_enabled: true }]);
        await page.getByText(`${expected} waiting`).waitFor();

        // ---- Recompute now: nothing changed since the save.
        await page.getByRole("button", { name: "Recompute now" }).click();
        await page.getByText("Recomputed: the members were already up to date.").first().waitFor();

        // ---- The list shows the segment with its members, 7-day change and tag.
        await page.locator("ui-nav-menu").getByRole("link", { name: "Segments" }).click();
        await page.waitForURL(atPath("/app/segments"));
        await waitForRows(page, 1);
        text = await rows(page).first().innerText();
        for (const expectedText of [SEGMENT_NAME, String(expected), `+${expected}`, `${expected} in, 0 out`, TAG]) expect(text).toContain(expectedText);
        expect(await stillSameDocument(page)).toBe(true);
        await screenshot(page, "segments-06-list.png");

        // ---- Edit the query: members and history follow.
        await page.getByRole("link", { name: SEGMENT_NAME }).click();
        await page.waitForURL(atPath(`/app/segments/${segmentId}`));
        await page.getByRole("link", { name: "Edit" }).click();
        await page.waitForURL(atPath(`/app/segments/${segmentId}/edit`));
        expect(await editor.inputValue()).toBe(FINAL_QUERY);
        await editor.fill(EDITED_QUERY);
        const edited = await sqlCountSpentAtLeast(10_000, 2);
        expect(edited).toBeGreaterThan(0);
        await currentLiveCount(page, edited);
        await page.getByRole("button", { name: "Save segment" }).click();
        await page.waitForURL(atPath(`/app/segments/${segmentId}`));
        await page.locator("[data-app-bridge-toast]").filter({ hasText: "Segment saved" }).waitFor();
        await waitForRows(page, edited);
        text = await bodyText(page);
        expect(text).toContain(`${expected} entered`);
        expect(text).toContain(`${expected - edited} exited`);
        expect((await segmentRows())[0]).toMatchObject({ query: EDITED_QUERY, member_count: edited });
        // The sync follows the members: adds for customers who left are superseded before they are sent.
        await page.locator("[data-segment-tag-dry-run]").getByText(`Will add the tag to ${edited === 1 ? "1 customer" : `${edited} customers`} and remove it from 0.`).waitFor();
        await screenshot(page, "segments-07-edited.png");

        // ---- Delete, with confirmation.
        await page.getByRole("button", { name: "Delete segment" }).click();
        const dialog = page.getByRole("dialog");
        await dialog.getByText("This cannot be undone.").waitFor();
        await screenshot(page, "segments-08-delete-confirm.png");
        await dialog.getByRole("button", { name: "Delete segment" }).click();
        await page.waitForURL(/\/app\/segments\?deleted=/);
        await page.getByText(`Deleted the segment “${SEGMENT_NAME}”`).waitFor();
        await page.getByText("Group your customers into segments").waitFor();
        expect(await segmentRows()).toEqual([]);
        const { rows: open } = await getPool().query<{ n: number }>(
          `SELECT count(*)::int AS n FROM tag_writes WHERE shop = $1 AND status IN ('pending', 'in_flight')`,
          [TEST_SHOP],
        );
        expect(open[0]!.n).toBe(0); // nothing was ever written, so nothing is left to add or remove
        expect(await stillSameDocument(page)).toBe(true);
        // The one failed request the browser logs: the invalid save answered 400 on purpose.
        const invalidSave = /status of 400 \(Bad Request\) \(http:\/\/127\.0\.0\.1:\d+\/app\/segments\/new\?_data=/;
        expect(problems.consoleErrors.filter((m) => invalidSave.test(m))).toHaveLength(1);
        app.assertClean(problems, { allowConsole: [invalidSave] });

        // An unknown segment is a 404 page inside the app.
        const notFound = await page.goto(await app.embeddedUrl("/app/segments/999999999"));
        expect(notFound?.status()).toBe(404);
        await page.getByRole("heading", { name: "Segment not found", level: 1 }).waitFor();
        app.assertClean(problems, { allowConsole: [invalidSave, /status of 404/] });
      } catch (error) {
        throw await app.failureReport(error, page, problems, "segments-failure.png");
      } finally {
        await page.close();
      }
    },
  );
});
