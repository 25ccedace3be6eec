// The privacy compliance work: customers/redact and shop/redact.
import type { PoolClient } from "pg";
import { gidFor } from "../shopify/webhook-payloads";
import { eraseCustomerFeedback, FEEDBACK_TABLES } from "./feedback/privacy.server";
import { writeAudit } from "./crm-store.server";
import { eraseCustomerEmails } from "./email/outbox.server";
import { addressHash, suppressAddress } from "./email/suppression.server";

type Db = Pick<PoolClient, "query">;

const REDACTED_PAYLOAD = JSON.stringify({ redacted: true });

/** A PostgreSQL regex matching `needle` literally and only as a whole token (id, email, phone). */
function tokenPattern(needle: string): string {
  const literal = needle.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const boundary = "[^A-Za-z0-9._%+@-]";
  return `(^|${boundary})${literal}($|${boundary})`;
}

/**
 * Erases a customer's personal data (email, names, phone, addresses, note) everywhere
 * the app keeps it: the customer row, its orders (which are unlinked), the raw inbox
 * payloads that mention it, and earlier data exports. Keeps the anonymised aggregates.
 */
export async function redactCustomer(db: Db, input: { shop: string; customerGid: string; orderLegacyIds: string[]; inboxId: string }) {
  const { shop, customerGid } = input;
  const before = await db.query<{ email: string | null; phone: string | null }>(
    `SELECT email, phone FROM customers WHERE shop = $1 AND gid = $2 FOR UPDATE`,
    [shop, customerGid],
  );
  await db.query(
    `UPDATE customers SET email = NULL, first_name = NULL, last_name = NULL, phone = NULL, note = NULL,
            addresses = '[]'::jsonb, province = NULL, city = NULL, redacted_at = COALESCE(redacted_at, now()), updated_at = now()
      WHERE shop = $1 AND gid = $2`,
    [shop, customerGid],
  );
  const orderGids = input.orderLegacyIds.map((id) => gidFor("Order", id));
  const orders = await db.query<{ gid: string }>(
    `UPDATE orders SET email = NULL, customer_gid = NULL, updated_at = now()
      WHERE shop = $1 AND (customer_gid = $2 OR gid = ANY($3::text[])) RETURNING gid`,
    [shop, customerGid, orderGids],
  );
  await db.query(`DELETE FROM data_exports WHERE shop = $1 AND customer_gid = $2`, [shop, customerGid]);
  const feedback = await eraseCustomerFeedback(db, { shop, customerGid, orderGids: [...orders.rows.map((o) => o.gid), ...orderGids] });

  // Email: the customer is never emailed again (its addresses suppressed "redacted", by hash
  // only), and its messages lose their address and content (unsent ones are cancelled).
  const emailed = await db.query<{ address: string }>(
    `SELECT DISTINCT to_address AS address FROM email_outbox WHERE shop = $1 AND customer_gid = $2 AND to_address IS NOT NULL`,
    [shop, customerGid],
  );
  const addresses = new Set(emailed.rows.map((row) => row.address));
  if (before.rows[0]?.email) addresses.add(before.rows[0].email);
  for (const address of addresses) {
    await suppressAddress(db, { shop, address, reason: "redacted" });
    await eraseCustomerEmails(db, { shop, customerGid, address });
  }
  if (addresses.size === 0) await eraseCustomerEmails(db, { shop, customerGid, address: null });
  // A bounce's SMTP answer may quote the address.
  await db.query(`UPDATE email_suppressions SET detail = NULL WHERE shop = $1 AND address_hash = ANY($2::text[])`, [shop, [...addresses].map(addressHash)]);

  // Raw payloads that name the customer, one of its orders, or its email/phone; each as a
  // whole token, so that redacting Customer/42 leaves Customer/420 (and ana@ leaves diana@) alone.
  const needles = [customerGid, ...orders.rows.map((o) => o.gid), ...orderGids];
  const email = before.rows[0]?.email;
  const phone = before.rows[0]?.phone;
  if (email) needles.push(email);
  if (phone) needles.push(phone);
  const patterns = [...new Set(needles)].map(tokenPattern);
  // Compliance and consent payloads name the customer by its numeric id only.
  const legacyId = customerGid.slice(customerGid.lastIndexOf("/") + 1);
  if (/^\d+$/.test(legacyId)) {
    patterns.push(`"customer_id"\\s*:\\s*"?${legacyId}([^0-9]|$)`, `"customer"\\s*:\\s*\\{\\s*"id"\\s*:\\s*"?${legacyId}([^0-9]|$)`);
  }
  const scrubbed = await db.query(
    `UPDATE webhook_events SET payload = $3
      WHERE shop = $1 AND payload <> $3 AND (payload ~ ANY ($2::text[]) OR id = $4)`,
    [shop, patterns, REDACTED_PAYLOAD, input.inboxId],
  );
  await writeAudit(db, {
    shop,
    actor: "shopify",
    action: "customer.redacted",
    subject: customerGid,
    details: { ordersUnlinked: orders.rowCount ?? 0, payloadsScrubbed: scrubbed.rowCount ?? 0, feedback, emailAddressesSuppressed: addresses.size, inboxId: input.inboxId },
  });
}

/** Deletes every row the app holds for a shop (shop/redact, 48 h after uninstall). */
export async function purgeShop(db: Db, input: { shop: string; inboxId: string }) {
  const { shop } = input;
  const counts: Record<string, number> = {};
  // Children before parents; every table the app keeps per shop (tests/integration/privacy
  // checks that none is left out).
  const tables = [
    ...FEEDBACK_TABLES,
    "segment_membership_changes", "segment_members", "tag_writes", "app_added_tags", "segments", "segment_shop_versions",
    "loyalty_redemptions", "loyalty_tier_changes", "loyalty_ledger", "loyalty_program_versions", "loyalty_programs",
    "line_items", "refunds", "orders", "customer_tags", "customers", "products", "bulk_operations", "data_exports", "audit_log",
    "email_outbox", "email_suppressions", "email_settings",
  ];
  for (const table of tables) {
    const result = await db.query(`DELETE FROM ${table} WHERE shop = $1`, [shop]);
    counts[table] = result.rowCount ?? 0;
  }
  const events = await db.query(`DELETE FROM webhook_events WHERE shop = $1 AND id <> $2`, [shop, input.inboxId]);
  counts.webhook_events = events.rowCount ?? 0;
  await db.query(`DELETE FROM "Session" WHERE shop = $1`, [shop]);
  await db.query(`DELETE FROM shops WHERE domain = $1`, [shop]);
  await writeAudit(db, { shop, actor: "shopify", action: "shop.redacted", details: { deleted: counts, inboxId: input.inboxId } });
}
