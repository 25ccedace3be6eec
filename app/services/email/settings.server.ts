// Per-shop email settings: the sender's display name, reply-to, the postal address shown in
// the footer (required by anti-spam law in many countries), the locale of the app's emails,
// and where staff alerts go. A shop without a row gets the defaults.
import { z } from "zod";
import type { Queryable } from "../../db.server";

export type ShopEmailSettings = {
  senderName: string | null;
  replyTo: string | null;
  footerAddress: string | null;
  /** BCP 47, default "en". */
  locale: string;
  staffAlertAddress: string | null;
};

export const DEFAULT_EMAIL_SETTINGS: ShopEmailSettings = { senderName: null, replyTo: null, footerAddress: null, locale: "en", staffAlertAddress: null };

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .nullable()
    .transform((v) => (v ? v : null));
const optionalEmail = z
  .string()
  .trim()
  .nullable()
  .transform((v) => (v ? v : null))
  .refine((v) => v === null || z.email().safeParse(v).success, "must be an email address");

export const ShopEmailSettingsSchema = z.object({
  // No line breaks: the name goes into the From header.
  senderName: optionalText(100).refine((v) => v === null || !/[\r\n]/.test(v), "must be one line"),
  replyTo: optionalEmail,
  footerAddress: optionalText(500),
  locale: z
    .string()
    .trim()
    .refine((v) => {
      try {
        return Intl.getCanonicalLocales(v).length === 1;
      } catch {
        return false;
      }
    }, "must be a BCP 47 language tag such as en or pt-BR")
    .transform((v) => Intl.getCanonicalLocales(v)[0]!),
  staffAlertAddress: optionalEmail,
});

type Row = { sender_name: string | null; reply_to: string | null; footer_address: string | null; locale: string; staff_alert_address: string | null };

export async function getShopEmailSettings(db: Queryable, shop: string): Promise<ShopEmailSettings> {
  const { rows } = await db.query<Row>(
    `SELECT sender_name, reply_to, footer_address, locale, staff_alert_address FROM email_settings WHERE shop = $1`,
    [shop],
  );
  const r = rows[0];
  if (!r) return { ...DEFAULT_EMAIL_SETTINGS };
  return { senderName: r.sender_name, replyTo: r.reply_to, footerAddress: r.footer_address, locale: r.locale, staffAlertAddress: r.staff_alert_address };
}

/** Validates and saves (throws a ZodError naming the invalid field). */
export async function saveShopEmailSettings(db: Queryable, shop: string, settings: ShopEmailSettings): Promise<void> {
  const s = ShopEmailSettingsSchema.parse(settings);
  await db.query(
    `INSERT INTO email_settings (shop, sender_name, reply_to, footer_address, locale, staff_alert_address, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, now())
     ON CONFLICT (shop) DO UPDATE SET sender_name = EXCLUDED.sender_name, reply_to = EXCLUDED.reply_to, footer_address = EXCLUDED.footer_address,
            locale = EXCLUDED.locale, staff_alert_address = EXCLUDED.staff_alert_address, updated_at = now()`,
    [shop, s.senderName, s.replyTo, s.footerAddress, s.locale, s.staffAlertAddress],
  );
}
