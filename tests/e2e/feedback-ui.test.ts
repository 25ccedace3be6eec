// The feedback pages in a real browser (issue 12, "Tests"): on hand-seeded answers
// (tests/support/feedback-seed.ts) the merchant opens the overview (figures and the NPS
// chart), filters the responses, resolves a case and sees it move to "Resolved" with who did
// it, and adds a rule in the settings (an invalid delay is refused at its field, a valid rule
// is stored through the rules service). Then a customer answers the public page
// /feedback/:token on a phone-sized viewport (390x844) with the keyboard only: it fits without
// horizontal scrolling and every control has a label. Nothing may leave the machine.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPool } from "../../app/db.server";
import { listFeedbackRules } from "../../app/services/feedback/rules.server";
import { signFeedbackToken } from "../../app/services/feedback/links.server";
import { closeEmailQueue } from "../../app/queues.server";
import { watchPage } from "../support/browser";
import { EmbeddedAdminApp, atPath, screenshot, waitForRows } from "../support/e2e-app";
import { seedFeedback, type SeededFeedback } from "../support/feedback-seed";
import { waitUntil } from "../support/pipeline";
import { TEST_SHOP } from "../support/webhooks";

const app = new EmbeddedAdminApp();
let seeded: SeededFeedback;

beforeAll(async () => {
  await app.start({
    seed: async () => {
      seeded = await seedFeedback(TEST_SHOP, new Date());
    },
  });
});
afterAll(async () => {
  await closeEmailQueue();
  await app.stop();
});

describe("feedback admin", () => {
  it("overview, responses (filter), cases (resolve one, it moves), settings (field error, then a saved rule)", { timeout: 180_000 }, async () => {
    const page = await app.guarded.context.newPage();
    const problems = watchPage(page);
    try {
      // Overview: the seeded figures (2 promoters, 1 passive, 2 detractors of 5; 5 answered of 6 sent).
      await app.openEmbeddedPage(page, "/app/feedback", "Feedback");
      expect(await page.locator("[data-feedback-figure=nps]").innerText()).toBe("0.0");
      expect(await page.locator("[data-feedback-figure=response-rate]").innerText()).toBe("83.3%");
      expect(await page.locator("[data-feedback-figure=average-rating]").innerText()).toBe("3.25");
      expect(await page.locator("[data-feedback-figure=open-cases]").innerText()).toBe("2");
      await page.locator("[data-feedback-chart=drawn] svg").first().waitFor();
      await page.locator("table").getByText("Trail Shoe").waitFor();
      await screenshot(page, "feedback-overview.png");

      // Responses: all five, then only the detractors.
      await page.getByRole("link", { name: "Responses" }).click();
      await page.waitForURL(atPath("/app/feedback/responses"));
      await page.getByRole("heading", { name: "Feedback responses", level: 1 }).waitFor();
      await waitForRows(page, 5);
      // Customer text is shown as text, never as markup.
      await page.getByText("<script>alert(1)</script> arrived broken").waitFor();
      await page.getByLabel("NPS group").selectOption("detractor");
      await page.getByRole("button", { name: "Apply filters" }).click();
      await page.waitForURL((url) => url.pathname === "/app/feedback/responses" && url.searchParams.get("group") === "detractor");
      await waitForRows(page, 2);
      const customerLink = page.getByRole("link", { name: "Bo <b>Bold</b>" });
      expect(await customerLink.getAttribute("href")).toContain("/app/customers/8102");
      await page.getByRole("cell", { name: "#1003" }).waitFor();
      await screenshot(page, "feedback-responses.png");

      // Cases: resolve Bo's; it leaves "Open" and shows under "Resolved" with the note.
      await app.openEmbeddedPage(page, "/app/feedback/cases", "Feedback cases");
      const boCase = page.locator(`[data-feedback-case="${seeded.caseIds["bo-1"]}"]`);
      await boCase.waitFor();
      await boCase.getByLabel("Staff note").fill("Sent a replacement pair");
      await boCase.getByRole("button", { name: "Resolve" }).click();
      await boCase.waitFor({ state: "detached" });
      await page.getByRole("tab", { name: "Open (1)" }).waitFor();
      const { rows } = await getPool().query(`SELECT status, staff_note, resolved_by, resolved_at FROM feedback_cases WHERE id = $1`, [seeded.caseIds["bo-1"]]);
      expect(rows[0]).toMatchObject({ status: "resolved", staff_note: "Sent a replacement pair" });
      expect(rows[0].resolved_by).toMatch(/^shopify-user:/);
      expect(rows[0].resolved_at).toBeInstanceOf(Date);
      await page.getByRole("tab", { name: "Resolved (1)" }).click();
      await page.waitForURL((url) => url.searchParams.get("status") === "resolved");
      await boCase.waitFor();
      await boCase.getByText(/Resolved .* by staff member/).waitFor();
      await screenshot(page, "feedback-cases.png");

      // Settings: a delay over 60 days is refused at its field; then the rule is saved.
      await app.openEmbeddedPage(page, "/app/feedback/settings", "Feedback settings");
      await page.locator("[data-feedback-rule='after delivery']").waitFor();
      await page.frameLocator("iframe[title='Feedback email preview']").getByText("Sample product").waitFor();
      await page.getByRole("button", { name: "Add rule" }).click();
      await page.getByLabel("Rule name").fill("second chance");
      await page.getByLabel("Delay (days)", { exact: true }).fill("99");
      await page.getByRole("button", { name: "Save rule" }).click();
      await page.getByText("delayDays must be between 0 and 60 days").waitFor();
      expect((await listFeedbackRules(TEST_SHOP)).rules.map((r) => r.name)).toEqual(["after delivery"]);
      await page.getByLabel("Delay (days)", { exact: true }).fill("7");
      await page.getByRole("button", { name: "Save rule" }).click();
      await page.locator("[data-feedback-rule='second chance']").waitFor();
      const rules = (await listFeedbackRules(TEST_SHOP)).rules;
      expect(rules.map((r) => [r.name, r.delayDays])).toEqual([
        ["after delivery", 5],
        ["second chance", 7],
      ]);
      await screenshot(page, "feedback-settings.png");

      // "Send a test to me": the feedback email with sample data, queued to the typed address.
      await page.getByLabel("Send a test to").fill("owner@shop.example");
      await page.getByRole("button", { name: "Send a test to me" }).click();
      const mail = await waitUntil(async () => (await getPool().query(`SELECT category, to_address, html FROM email_outbox WHERE shop = $1`, [TEST_SHOP])).rows[0], {
        what: "the test email to be queued",
      });
      expect(mail).toMatchObject({ category: "test", to_address: "owner@shop.example" });
      expect(mail.html).toContain("Sample product");

      // The customer page's feedback card: Bo's answered request (its case now resolved) and the skipped one.
      await app.openEmbeddedPage(page, "/app/customers/8102", "Bo <b>Bold</b>");
      const card = page.locator("[data-customer-feedback]");
      await card.getByText("Order #1003").waitFor();
      await card.getByText("Case resolved").waitFor();
      await card.getByText("<script>alert(1)</script> arrived broken", { exact: false }).waitFor();
      await card.getByText("Order #1007").waitFor();
      await card.getByText("cancelled").waitFor();
      // The refused save answers 422 (the browser logs the status); nothing else may appear.
      app.assertClean(problems, { allowConsole: [/status of 422 \(Unprocessable Entity\) \(http:\/\/127\.0\.0\.1:\d+\/app\/feedback\/settings\?/] });
    } catch (error) {
      throw await app.failureReport(error, page, problems, "feedback-admin-failure.png");
    }
  });
});

describe("answer page on a phone", () => {
  it("answers by keyboard at 390x844: fits without horizontal scroll, every control labelled", { timeout: 120_000 }, async () => {
    const page = await app.guarded.context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    const problems = watchPage(page);
    try {
      const { rows } = await getPool().query<{ link_expires_at: Date }>(`SELECT link_expires_at FROM feedback_requests WHERE id = $1`, [seeded.sentRequestId]);
      const token = signFeedbackToken({ shop: TEST_SHOP, requestId: seeded.sentRequestId, expiresAt: rows[0]!.link_expires_at });
      const response = await page.goto(`${app.server.origin}/feedback/${token}`);
      expect(response?.status()).toBe(200);
      await page.getByRole("heading", { level: 1, name: "Your feedback for Feedback Test Shop" }).waitFor();

      // It fits: nothing wider than the viewport.
      const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
      expect(widths.scroll).toBeLessThanOrEqual(widths.inner);
      // Labels: the NPS scale and each product's stars are named groups; every radio and text area has a name.
      await page.getByRole("group", { name: /How likely are you to recommend Feedback Test Shop/ }).waitFor();
      await page.getByRole("group", { name: "Your rating for Trail Shoe" }).waitFor();
      await page.getByRole("group", { name: "Your rating for Merino Sock" }).waitFor();
      const unlabelled = await page.evaluate(() =>
        [...document.querySelectorAll("input, textarea, button")].filter((el) => {
          const e = el as HTMLInputElement;
          const byLabel = e.labels && [...e.labels].some((l) => l.textContent!.trim() !== "");
          return !byLabel && !(el.textContent ?? "").trim() && !el.getAttribute("aria-label");
        }).length,
      );
      expect(unlabelled).toBe(0);

      // Keyboard only: Tab into the scale, arrows to 9, Tab to the comment, type, on to the stars...
      await page.keyboard.press("Tab");
      const focused = () => page.evaluate(() => ({ name: (document.activeElement as HTMLInputElement | null)?.name ?? "", tag: document.activeElement?.tagName ?? "" }));
      for (let i = 0; i < 10 && (await focused()).name !== "nps"; i++) await page.keyboard.press("Tab");
      expect((await focused()).name).toBe("nps");
      for (let i = 0; i < 9; i++) await page.keyboard.press("ArrowRight");
      await page.keyboard.press("Tab");
      expect(await focused()).toEqual({ name: "comment", tag: "TEXTAREA" });
      await page.keyboard.type("Fast & friendly <3");
      await page.keyboard.press("Tab");
      expect((await focused()).name).toBe("rating-0");
      for (let i = 0; i < 4; i++) await page.keyboard.press("ArrowRight");
      await page.keyboard.press("Tab");
      await page.keyboard.type("Great grip");
      for (let i = 0; i < 10 && (await focused()).tag !== "BUTTON"; i++) await page.keyboard.press("Tab");
      expect((await focused()).tag).toBe("BUTTON");
      await page.keyboard.press("Enter");
      await page.waitForURL((url) => url.searchParams.get("saved") === "1");
      await page.getByRole("status").waitFor();
      const saved = await waitUntil(
        async () => (await getPool().query(`SELECT id::text AS id, nps, comment FROM feedback_responses WHERE request_id = $1`, [seeded.sentRequestId])).rows[0],
        { what: "the answer to be stored" },
      );
      expect(saved).toMatchObject({ nps: 9, comment: "Fast & friendly <3" });
      const { rows: ratings } = await getPool().query(`SELECT product_gid, rating, review FROM feedback_product_ratings WHERE response_id = $1 ORDER BY product_gid`, [saved.id]);
      expect(ratings).toEqual([{ product_gid: "gid://shopify/Product/9201", rating: 5, review: "Great grip" }]);
      const after = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
      expect(after.scroll).toBeLessThanOrEqual(after.inner);
      // The hydrated page keeps the server's limits (they once came from a .server module: undefined in the browser).
      await page.waitForLoadState("networkidle");
      expect(await page.locator("#comment").getAttribute("maxlength")).toBe("2000");
      await page.getByText("Up to 2000 characters.").waitFor();
      await screenshot(page, "feedback-answer-phone.png");
      expect(problems.pageErrors).toEqual([]);
      expect(problems.consoleErrors).toEqual([]);
      expect(app.guarded.blockedRequests).toEqual([]);
    } catch (error) {
      throw await app.failureReport(error, page, problems, "feedback-answer-failure.png");
    }
  });
});
