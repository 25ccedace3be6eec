// The Automations pages in a real browser (issue 14, "Admin UI and CLI"): on a store seeded
// through the real webhook pipeline (tests/support/automations-seed.ts), the merchant starts a
// rule from the "thank-you after the first order" template, types a condition and sees the
// segment editor's live count (checked against hand-written SQL), has an empty name refused at
// its field, saves, dry-runs it ("would have fired N times", N from hand-written SQL, with the
// customers), switches it on from the list and sees it there. Nothing may leave the machine.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPool } from "../../app/db.server";
import { listRules } from "../../app/services/automations/rules.server";
import { watchPage } from "../support/browser";
import { EmbeddedAdminApp, atPath, screenshot, waitForRows } from "../support/e2e-app";
import { AUTOMATION_SEED, seedAutomationStore } from "../support/automations-seed";
import { TEST_SHOP } from "../support/webhooks";
import { waitUntil } from "../support/pipeline";

const app = new EmbeddedAdminApp();
const DAY = 86_400_000;
const TEMPLATE_NAME = "Thank-you code after the first order";
const RULE_NAME = "First order thanks";

beforeAll(async () => {
  await app.start({ seed: () => seedAutomationStore(TEST_SHOP, new Date()) });
}, 240_000);
afterAll(() => app.stop());

describe("automations admin", () => {
  it("template -> live count -> field error -> save -> dry run -> switch on -> in the list", { timeout: 180_000 }, async () => {
    const page = await app.guarded.context.newPage();
    const problems = watchPage(page);
    try {
      await app.openEmbeddedPage(page, "/app/automations", "Automations");
      expect(await page.locator("ui-nav-menu").getByRole("link", { name: "Automations" }).count()).toBe(1);
      await page.getByText("Act on your customers' moments").waitFor();

      // ---- New rule from the template.
      await page.getByRole("link", { name: `Use the template ${TEMPLATE_NAME}` }).click();
      await page.waitForURL(atPath("/app/automations/new"));
      await page.getByRole("heading", { name: "New rule", level: 1 }).waitFor();
      expect(await page.getByLabel("Rule name").inputValue()).toBe(TEMPLATE_NAME);
      expect(await page.getByLabel("Only the customer's n-th order").inputValue()).toBe("1");

      // The condition has the segment editor's live count.
      const { rows: twice } = await getPool().query<{ n: number }>(
        `SELECT count(*)::int AS n FROM customers WHERE shop = $1 AND deleted_at IS NULL AND redacted_at IS NULL AND orders_count >= 2`,
        [TEST_SHOP],
      );
      expect(twice[0]!.n).toBeGreaterThan(0);
      await page.locator("#automation-condition").fill("number_of_orders >= 2");
      const label = twice[0]!.n === 1 ? "1 customer" : `${twice[0]!.n} customers`;
      await page.locator('[data-segment-live-count="current"]').filter({ hasText: new RegExp(`^\\s*${label}\\s*$`) }).waitFor({ timeout: 10_000 });
      await page.locator("#automation-condition").fill("");

      // An empty name is refused at its field; nothing is stored.
      await page.getByLabel("Rule name").fill("");
      await page.getByRole("button", { name: "Save rule" }).click();
      await page.getByText("name is required").first().waitFor();
      expect(await listRules(TEST_SHOP)).toEqual([]);

      await page.getByLabel("Rule name").fill(RULE_NAME);
      await page.getByRole("button", { name: "Save rule" }).click();
      await page.waitForURL((url) => /^\/app\/automations\/\d+$/.test(url.pathname));
      await page.getByRole("heading", { name: RULE_NAME, level: 1 }).waitFor();
      const [stored] = await listRules(TEST_SHOP);
      expect(stored).toMatchObject({ name: RULE_NAME, enabled: false });
      expect(stored!.rule.trigger).toMatchObject({ kind: "order_placed", nthOrder: 1 });

      // ---- Dry run: first orders in the last 30 days (hand-written SQL), with the customers.
      const { rows: firsts } = await getPool().query<{ gid: string }>(
        `SELECT customer_gid AS gid FROM orders o WHERE shop = $1 AND shopify_created_at > $2
            AND NOT EXISTS (SELECT 1 FROM orders p WHERE p.shop = o.shop AND p.customer_gid = o.customer_gid AND p.shopify_created_at < o.shopify_created_at)`,
        [TEST_SHOP, new Date(Date.now() - 30 * DAY)],
      );
      expect(firsts.length).toBe(AUTOMATION_SEED.customers.length);
      await page.getByRole("button", { name: "Dry run (last 30 days)" }).click();
      await page.getByText(`Would have fired ${firsts.length} times in the last 30 days`).waitFor();
      const names = await page.locator("[data-automation-dry-run-customers] a").allInnerTexts();
      expect(names.sort()).toEqual(AUTOMATION_SEED.customers.map((c) => `${c.firstName} ${c.lastName}`).sort());
      await screenshot(page, "automations-editor.png");

      // ---- Steps: a new tag step is refused at its field until it names a tag, then moved first.
      await page.getByLabel("New step").selectOption("add_tag");
      await page.getByRole("button", { name: "Add step" }).click();
      const tagStep = page.locator('[data-automation-step="1"]');
      await tagStep.getByLabel("Tag").waitFor();
      await page.getByRole("button", { name: "Save rule" }).click();
      await tagStep.getByText('tag must start with "crm:" and name something').waitFor();
      expect((await listRules(TEST_SHOP))[0]!.rule.steps.map((s) => s.kind)).toEqual(["discount_code"]);
      await tagStep.getByLabel("Tag").fill("crm:first-buyer");
      await page.getByRole("button", { name: "Move step 2 up" }).click();
      expect(await page.locator('[data-automation-step="0"]').getByLabel("Tag").inputValue()).toBe("crm:first-buyer");
      await page.getByRole("button", { name: "Save rule" }).click();
      await page.getByText("Rule saved").waitFor();
      await waitUntil(async () => (await listRules(TEST_SHOP))[0]!.version === stored!.version + 1, { what: "the rule to be saved" });
      expect((await listRules(TEST_SHOP))[0]!.rule.steps).toEqual([
        { kind: "add_tag", tag: "crm:first-buyer" },
        expect.objectContaining({ kind: "discount_code" }),
      ]);

      // ---- Switch it on from the list.
      await app.openEmbeddedPage(page, "/app/automations", "Automations");
      const row = page.locator(`[data-automation-rule="${RULE_NAME}"]`);
      await row.waitFor();
      await page.getByRole("button", { name: `Switch on ${RULE_NAME}` }).click();
      await page.getByRole("button", { name: `Switch off ${RULE_NAME}` }).waitFor();
      expect((await listRules(TEST_SHOP)).map((r) => [r.name, r.enabled])).toEqual([[RULE_NAME, true]]);
      await page.locator(".Polaris-IndexTable__TableRow").getByText("On", { exact: true }).waitFor();
      await page.locator(".Polaris-IndexTable__TableRow").getByText("Order placed").waitFor();
      await screenshot(page, "automations-list.png");

      // ---- The firing log: empty (the rule was off), then two recorded firings, filtered by status.
      await app.openEmbeddedPage(page, "/app/automations/log", "Firing log");
      await page.getByText("No firings match.").waitFor();
      const [ada, ben] = AUTOMATION_SEED.customers;
      for (const [i, [c, status]] of ([[ada!, "done"], [ben!, "failed"]] as const).entries()) {
        const { rows } = await getPool().query<{ id: string }>(
          `INSERT INTO automation_firings (shop, rule_id, rule_version, customer_gid, event_key, trigger, occurred_at, status, condition_result, due_at, last_error)
           VALUES ($1, $2, 1, $3, $4, '{}'::jsonb, now(), $5, true, now(), $6) RETURNING id::text AS id`,
          [TEST_SHOP, stored!.id, `gid://shopify/Customer/${c.id}`, `e2e:${i}`, status, status === "failed" ? "gave up after 5 attempts" : null],
        );
        await getPool().query(`INSERT INTO automation_action_results (firing_id, step, kind, status, attempts, error) VALUES ($1, 0, 'add_tag', $2, 1, $3)`, [
          rows[0]!.id,
          status,
          status === "failed" ? "Shopify refused the tag" : null,
        ]);
      }
      await app.openEmbeddedPage(page, "/app/automations/log", "Firing log");
      await waitForRows(page, 2);
      await page.getByLabel("Status").selectOption("failed");
      await page.getByRole("button", { name: "Apply filters" }).click();
      await page.waitForURL((url) => url.pathname === "/app/automations/log" && url.searchParams.get("status") === "failed");
      await waitForRows(page, 1);
      await page.getByRole("link", { name: "Ben Buyer" }).waitFor();
      await page.getByText("1. Add a customer tag: failed (Shopify refused the tag)").waitFor();
      await screenshot(page, "automations-log.png");

      // The refused save answers 422 (the browser logs the status); nothing else may appear.
      app.assertClean(problems, { allowConsole: [/status of 422 \(Unprocessable Entity\) \(http:\/\/127\.0\.0\.1:\d+\/app\/automations\/(new|\d+)\?/] });
    } catch (error) {
      throw await app.failureReport(error, page, problems, "automations-failure.png");
    }
  });
});
