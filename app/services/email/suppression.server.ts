// Addresses a shop never emails again: unsubscribed (one-click link), bounced (a permanent
// SMTP rejection), redacted (customers/redact). Per shop, keyed by the SHA-256 of the
// lower-cased address, so the list can outlive the customer's erasure without keeping the
// address itself. The first reason recorded stays (an unsubscribed address that later bounces
// stays "unsubscribed"); the app never lifts a suppression by itself.
import { createHash } from "node:crypto";
import type { Queryable } from "../../db.server";

export type SuppressionReason = "unsubscribed" | "bounced" | "redacted";

/** The form addresses are stored and compared in. */
export function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}

/** The key a suppression is stored under. */
export function addressHash(address: string): string {
  return createHash("sha256").update(normalizeAddress(address), "utf8").digest("hex");
}

/** Records a suppression; returns false when the address was already suppressed (its reason is kept). */
export async function suppressAddress(
  db: Queryable,
  input: { shop: string; address: string; reason: SuppressionReason; detail?: string | null },
): Promise<boolean> {
  if (!normalizeAddress(input.address)) return false;
  const r = await db.query(
    `INSERT INTO email_suppressions (shop, address_hash, reason, detail) VALUES ($1, $2, $3::"EmailSuppressionReason", $4)
     ON CONFLICT (shop, address_hash) DO NOTHING`,
    [input.shop, addressHash(input.address), input.reason, input.detail?.slice(0, 500) ?? null],
  );
  return (r.rowCount ?? 0) > 0;
}

/** Why the shop may not email this address, or null when it may. */
export async function isSuppressed(db: Queryable, shop: string, address: string): Promise<SuppressionReason | null> {
  const { rows } = await db.query<{ reason: SuppressionReason }>(`SELECT reason FROM email_suppressions WHERE shop = $1 AND address_hash = $2`, [
    shop,
    addressHash(address),
  ]);
  return rows[0]?.reason ?? null;
}
