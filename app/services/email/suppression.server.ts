// Addresses a shop never emails again: unsubscribed (one-click link), bounced (a permanent
// SMTP rejection), redacted (customers/redact). Per shop, keyed by the lower-cased address.
// The first reason recorded stays (an unsubscribed address that later bounces stays
// "unsubscribed"); suppression is never lifted by the app itself.
import type { Queryable } from "../../db.server";

export type SuppressionReason = "unsubscribed" | "bounced" | "redacted";

/** The key an address is stored and compared by. */
export function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}

/** Records a suppression; returns false when the address was already suppressed (its reason is kept). */
export async function suppressAddress(
  db: Queryable,
  input: { shop: string; address: string; reason: SuppressionReason; detail?: string | null },
): Promise<boolean> {
  const address = normalizeAddress(input.address);
  if (!address) return false;
  const r = await db.query(
    `INSERT INTO email_suppressions (shop, address, reason, detail) VALUES ($1, $2, $3::"EmailSuppressionReason", $4)
     ON CONFLICT (shop, address) DO NOTHING`,
    [input.shop, address, input.reason, input.detail?.slice(0, 500) ?? null],
  );
  return (r.rowCount ?? 0) > 0;
}

/** Why the shop may not email this address, or null when it may. */
export async function isSuppressed(db: Queryable, shop: string, address: string): Promise<SuppressionReason | null> {
  const { rows } = await db.query<{ reason: SuppressionReason }>(`SELECT reason FROM email_suppressions WHERE shop = $1 AND address = $2`, [
    shop,
    normalizeAddress(address),
  ]);
  return rows[0]?.reason ?? null;
}
