// The email settings page (app/routes/app.settings.email.tsx): what it shows and its two
// actions (save the settings, send a test email).
import { ZodError } from "zod";
import { getEnv } from "../../env.server";
import { getPool, withTransaction } from "../../db.server";
import { outboxCounts, wakeEmailSender, type OutboxCounts } from "./outbox.server";
import { getShopEmailSettings, saveShopEmailSettings, ShopEmailSettingsSchema, type ShopEmailSettings } from "./settings.server";
import { queueTestEmail } from "./test-email.server";

export type EmailSettingsPage = { settings: ShopEmailSettings; counts: OutboxCounts; smtpConfigured: boolean };

export type EmailSettingsActionResult =
  | { ok: true; message: string }
  | { ok: false; errors: Partial<Record<keyof ShopEmailSettings | "testAddress", string>> };

export async function getEmailSettingsPage(shop: string): Promise<EmailSettingsPage> {
  const [settings, counts] = await Promise.all([getShopEmailSettings(getPool(), shop), outboxCounts(getPool(), shop)]);
  return { settings, counts, smtpConfigured: Boolean(getEnv().SMTP_URL) };
}

function fieldErrors(error: ZodError): Partial<Record<keyof ShopEmailSettings, string>> {
  const out: Partial<Record<keyof ShopEmailSettings, string>> = {};
  for (const issue of error.issues) {
    const key = issue.path[0] as keyof ShopEmailSettings | undefined;
    if (key && !out[key]) out[key] = issue.message;
  }
  return out;
}

export async function saveEmailSettingsForm(shop: string, fields: Record<string, string>): Promise<EmailSettingsActionResult> {
  const parsed = ShopEmailSettingsSchema.safeParse({
    senderName: fields.senderName ?? null,
    replyTo: fields.replyTo ?? null,
    footerAddress: fields.footerAddress ?? null,
    locale: fields.locale || "en",
    staffAlertAddress: fields.staffAlertAddress ?? null,
  });
  if (!parsed.success) return { ok: false, errors: fieldErrors(parsed.error) };
  await saveShopEmailSettings(getPool(), shop, parsed.data);
  return { ok: true, message: "Email settings saved" };
}

export async function sendTestEmailForm(shop: string, to: string): Promise<EmailSettingsActionResult> {
  const address = to.trim();
  if (!ShopEmailSettingsSchema.shape.replyTo.safeParse(address).success || !address) return { ok: false, errors: { testAddress: "Enter an email address" } };
  const result = await withTransaction((client) => queueTestEmail(client, { shop, to: address }));
  if (result.status === "suppressed") return { ok: false, errors: { testAddress: `This address is suppressed (${result.reason})` } };
  await wakeEmailSender();
  return { ok: true, message: `Test email queued to ${address}` };
}
