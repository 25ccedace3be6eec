// The email settings page in a real browser (embedded admin, the built app server): an invalid
// reply-to address is refused at its field, valid settings are saved, and "Send a test email"
// queues a test email with them. Nothing may leave the machine.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPool } from "../../app/db.server";
import { getShopEmailSettings } from "../../app/services/email/settings.server";
import { unsubscribeUrl } from "../../app/services/email/links.server";
import { isSuppressed } from "../../app/services/email/suppression.server";
import { closeEmailQueue } from "../../app/queues.server";
import { watchPage } from "../support/browser";
import { EmbeddedAdminApp, screenshot } from "../support/e2e-app";
import { waitUntil } from "../support/pipeline";
import { TEST_SHOP } from "../support/webhooks";

const app = new EmbeddedAdminApp();

beforeAll(() => app.start());
afterAll(async () => {
  await closeEmailQueue();
  await app.stop();
});

describe("email settings page", () => {
  it("refuses an invalid address at its field, saves valid settings, queues a test email", { timeout: 120_000 }, async () => {
    const page = await app.guarded.context.newPage();
    const problems = watchPage(page);
    try {
      await app.openEmbeddedPage(page, "/app/settings/email", "Email settings");
      await page.getByText("Sending is off").waitFor(); // no SMTP_URL in this environment

      await page.getByLabel("Sender name").fill("Ana's Plants");
      await page.getByLabel("Reply-to address").fill("not-an-address");
      await page.getByLabel("Footer address").fill("1 Garden Row, Lisbon");
      await page.getByLabel("Language").fill("pt-br");
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByText("must be an email address").waitFor();
      expect((await getShopEmailSettings(getPool(), TEST_SHOP)).senderName).toBeNull();

      await page.getByLabel("Reply-to address").fill("ana@plants.example");
      await page.getByRole("button", { name: "Save" }).click();
      await waitUntil(async () => (await getShopEmailSettings(getPool(), TEST_SHOP)).senderName === "Ana's Plants", { what: "the settings to be saved" });
      expect(await getShopEmailSettings(getPool(), TEST_SHOP)).toEqual({
        senderName: "Ana's Plants",
        replyTo: "ana@plants.example",
        footerAddress: "1 Garden Row, Lisbon",
        locale: "pt-BR",
        staffAlertAddress: null,
      });

      await page.getByLabel("To", { exact: true }).fill("staff@plants.example");
      await page.getByRole("button", { name: "Send test email" }).click();
      const row = await waitUntil(
        async () => (await getPool().query(`SELECT category, to_address, html FROM email_outbox WHERE shop = $1`, [TEST_SHOP])).rows[0],
        { what: "the test email to be queued" },
      );
      expect(row).toMatchObject({ category: "test", to_address: "staff@plants.example" });
      expect(row.html).toContain("1 Garden Row, Lisbon");
      expect(row.html).toContain("Cancelar inscrição");
      await page.getByText("1 waiting").waitFor();
      await screenshot(page, "email-settings.png");
      // The refused save answers 422 (the browser logs the status); nothing else may appear.
      app.assertClean(problems, { allowConsole: [/status of 422 \(Unprocessable Entity\) \(http:\/\/127\.0\.0\.1:\d+\/app\/settings\/email\?/] });
    } catch (error) {
      throw await app.failureReport(error, page, problems, "email-settings-failure.png");
    }
  });

  it("the unsubscribe page's button works in a real browser (a plain form POST from the page)", { timeout: 120_000 }, async () => {
    const { rows } = await getPool().query<{ id: string; to_address: string }>(`SELECT id::text AS id, to_address FROM email_outbox WHERE shop = $1 ORDER BY id LIMIT 1`, [TEST_SHOP]);
    const row = rows[0]!;
    expect(await isSuppressed(getPool(), TEST_SHOP, row.to_address)).toBeNull();
    const page = await app.guarded.context.newPage();
    const problems = watchPage(page);
    try {
      // The page as a shopper opens it from the email, and its button (a POST from the page).
      await page.goto(`${app.server.origin}${new URL(unsubscribeUrl(row.id)).pathname}`);
      await page.getByRole("heading", { name: "Unsubscribe" }).waitFor();
      await page.getByRole("button", { name: "Unsubscribe" }).click();
      await page.getByRole("heading", { name: "You are unsubscribed" }).waitFor();
      expect(await isSuppressed(getPool(), TEST_SHOP, row.to_address)).toBe("unsubscribed");
      app.assertClean(problems);
    } catch (error) {
      throw await app.failureReport(error, page, problems, "unsubscribe-failure.png");
    }
  });
});
