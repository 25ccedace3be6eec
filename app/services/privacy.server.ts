// The privacy compliance work: customers/redact and shop/redact.
import type { PoolClient } from "pg";
import type { CrmEvent } from "../domain/crm-events";
import { gidFor } from "../shopify/webhook-payloads";
import { eraseCustomerFeedback, FEEDBACK_TABLES } from "./feedback/privacy.server";
import { writeAudit } from "./crm-store.server";
import { eraseCustomerEmails } from "./email/outbox.server";
import { addressHash, suppressAddress } from "./email/suppression.server";

type Db = Pick<PoolClient, "query">;

/** What an erased inbox body is replaced with. */
export const REDACTED_PAYLOAD = JSON.stringify({ redacted: true });

/** A PostgreSQL regex matching `needle` literally and only as a whole token (id, email, phone). */
function tokenPattern(needle: string): string {
  const literal = needle.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const boundary = "[^A-Za-z0-9._%+@-]";
  return `(^|${boundary})${literal}($|${boundary})`;
}

/** The anonymous owner of ledger entries kept after customers/redact (never a Shopify gid). */
export const REDACTED_LEDGER_OWNER = "redacted";

/**
 * Erases a customer's personal data everywhere the app keeps it (decision 038):
 * - the customer row keeps only its id, aggregates and redaction time (it is the redaction
 *   record: created when the app never saw the customer, so later payloads stay erased);
 * - its orders are unlinked (customer, email, tags dropped; amounts kept) and marked redacted,
 *   their refunds lose their notes;
 * - tags (Shopify's and the app's), the tag outbox, segment membership and its history, tier
 *   changes and redemptions are deleted;
 * - loyalty ledger entries keep their amounts, kinds and dates but lose the link to the person
 *   and every free text (the trigger's sanctioned erasure path);
 * - audit entries about the customer keep their action and time, not their details;
 * - raw inbox payloads that mention it, feedback, emails and earlier data exports are erased.
 */
export async function redactCustomer(db: Db, input: { shop: string; customerGid: string; orderLegacyIds: string[]; inboxId: string }) {
  const { shop, customerGid } = input;
  const before = await db.query<{ email: string | null; phone: string | null }>(
    `SELECT email, phone FROM customers WHERE shop = $1 AND gid = $2 FOR UPDATE`,
    [shop, customerGid],
  );
  await db.query(
    `INSERT INTO customers (shop, gid, redacted_at) VALUES ($1, $2, now())
     ON CONFLICT (shop, gid) DO UPDATE SET email = NULL, first_name = NULL, last_name = NULL, phone = NULL, note = NULL,
            addresses = '[]'::jsonb, province = NULL, city = NULL, country_code = NULL, state = NULL, verified_email = NULL,
            tags = '{}', email_marketing_state = NULL, email_opt_in_level = NULL, email_consent_at = NULL,
            sms_marketing_state = NULL, sms_opt_in_level = NULL, sms_consent_at = NULL, locale = NULL, locale_at = NULL, birth_date = NULL, abandoned_checkout_at = NULL,
            redacted_at = COALESCE(customers.redacted_at, now()), updated_at = now()`,
    [shop, customerGid],
  );
  const orderGids = input.orderLegacyIds.map((id) => gidFor("Order", id));
  const orders = await db.query<{ gid: string; legacy_id: string }>(
    `UPDATE orders SET email = NULL, customer_gid = NULL, tags = '{}', redacted_at = COALESCE(redacted_at, now()), updated_at = now()
      WHERE shop = $1 AND (customer_gid = $2 OR gid = ANY($3::text[])) RETURNING gid, legacy_id`,
    [shop, customerGid, orderGids],
  );
  const legacyIds = [...new Set([...orders.rows.map((o) => o.legacy_id), ...input.orderLegacyIds])];
  const refunds = await db.query(`UPDATE refunds SET note = NULL WHERE shop = $1 AND order_legacy_id = ANY($2::text[]) AND note IS NOT NULL`, [shop, legacyIds]);
  await db.query(`DELETE FROM data_exports WHERE shop = $1 AND customer_gid = $2`, [shop, customerGid]);
  // Predicted value and churn (docs/analytics.md): derived from the person's orders.
  await db.query(`DELETE FROM customer_predictions p USING customers c WHERE p.shop = $1 AND c.shop = $1 AND c.gid = $2 AND p.customer_id = c.id`, [shop, customerGid]);
  await db.query(`DELETE FROM customer_clusters k USING customers c WHERE k.shop = $1 AND c.shop = $1 AND c.gid = $2 AND k.customer_id = c.id`, [shop, customerGid]);
  const feedback = await eraseCustomerFeedback(db, { shop, customerGid, orderGids: [...orders.rows.map((o) => o.gid), ...orderGids] });

  // Tags, the tag outbox, segments, loyalty: what links the person to the shop's programs.
  const erased: Record<string, number> = {};
  for (const table of ["customer_tags", "app_added_tags", "tag_writes", "segment_membership_changes", "loyalty_tier_changes", "loyalty_redemptions", "checkouts", "automation_moments", "automation_firings", "flow_action_runs"]) {
    erased[table] = (await db.query(`DELETE FROM ${table} WHERE shop = $1 AND customer_gid = $2`, [shop, customerGid])).rowCount ?? 0;
  }
  // Checkouts that became one of the customer's orders (an order can name its checkout before the checkout arrives).
  erased.checkouts = (erased.checkouts ?? 0) + ((await db.query(`DELETE FROM checkouts WHERE shop = $1 AND order_gid = ANY($2::text[])`, [shop, [...orders.rows.map((o) => o.gid), ...orderGids]])).rowCount ?? 0);
  const members = await db.query<{ segment_id: string }>(`DELETE FROM segment_members WHERE shop = $1 AND customer_gid = $2 RETURNING segment_id::text AS segment_id`, [shop, customerGid]);
  erased.segment_members = members.rowCount ?? 0;
  if (members.rows.length > 0) {
    await db.query(`UPDATE segments SET member_count = GREATEST(member_count - 1, 0) WHERE id = ANY($1::bigint[])`, [members.rows.map((m) => m.segment_id)]);
  }
  // The ledger keeps anonymous amounts (the shop's points liability stays right); the trigger
  // lets exactly this change through while the setting is on, for this transaction only.
  await db.query(`SELECT set_config('crm.loyalty_ledger_erasure', 'on', true)`);
  const ledger = await db.query(
    `UPDATE loyalty_ledger SET customer_gid = $3, source = 'redacted', reason = 'redacted', order_gid = NULL, rule = '{}'::jsonb,
            idempotency_key = 'redacted:' || id::text
      WHERE shop = $1 AND customer_gid = $2`,
    [shop, customerGid, REDACTED_LEDGER_OWNER],
  );
  await db.query(`SELECT set_config('crm.loyalty_ledger_erasure', 'off', true)`);
  erased.loyalty_ledger_anonymised = ledger.rowCount ?? 0;

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
  // The emptied messages stay for the shop's sending history, no longer linked to the person.
  await db.query(`UPDATE email_outbox SET customer_gid = NULL WHERE shop = $1 AND customer_gid = $2`, [shop, customerGid]);
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
  // Compliance and consent payloads name the customer by its numeric id only; refunds name the order by its numeric id.
  const legacyId = customerGid.slice(customerGid.lastIndexOf("/") + 1);
  if (/^\d+$/.test(legacyId)) {
    patterns.push(`"customer_id"\\s*:\\s*"?${legacyId}([^0-9]|$)`, `"customer"\\s*:\\s*\\{\\s*"id"\\s*:\\s*"?${legacyId}([^0-9]|$)`);
  }
  for (const id of legacyIds) if (/^\d+$/.test(id)) patterns.push(`"order_id"\\s*:\\s*"?${id}([^0-9]|$)`);
  const scrubbed = await db.query(
    `UPDATE webhook_events SET payload = $3, last_error = NULL
      WHERE shop = $1 AND payload IS NOT NULL AND payload <> $3 AND (payload ~ ANY ($2::text[]) OR id = $4)`,
    [shop, patterns, REDACTED_PAYLOAD, input.inboxId],
  );
  // Audit entries about the customer (a points adjustment's reason, a data request): the
  // action and time stay, the details go.
  const audits = await db.query(
    `UPDATE audit_log SET details = $3::jsonb
      WHERE shop = $1 AND action <> 'customer.redacted' AND details <> $3::jsonb AND (subject = $4 OR details::text ~ ANY ($2::text[]))`,
    [shop, patterns, REDACTED_PAYLOAD, customerGid],
  );
  await writeAudit(db, {
    shop,
    actor: "shopify",
    action: "customer.redacted",
    subject: customerGid,
    details: {
      ordersUnlinked: orders.rowCount ?? 0,
      refundNotesErased: refunds.rowCount ?? 0,
      payloadsScrubbed: scrubbed.rowCount ?? 0,
      auditEntriesScrubbed: audits.rowCount ?? 0,
      erased,
      feedback,
      emailAddressesSuppressed: addresses.size,
      inboxId: input.inboxId,
    },
  });
}

/**
 * After a batch is applied: events that concern a redacted customer or one of its orders
 * (late deliveries: the apply step already kept the person out of the model) get their raw
 * body replaced, orders they name are marked redacted, and refunds of redacted orders lose
 * their notes. One indexed read when the batch names no redacted customer.
 */
export async function scrubLatePayloads(db: Db, shop: string, items: readonly { inboxId: string; event: CrmEvent }[]): Promise<number> {
  const customerOf = (event: CrmEvent): string | null => {
    switch (event.kind) {
      case "order":
        return event.order.customer?.gid ?? null;
      case "customer":
        return event.customer.gid;
      case "customer_tags":
      case "email_consent":
      case "sms_consent":
      case "customer_deleted":
      case "customer_data_request":
        return event.customerGid;
      case "checkout":
        return event.checkout.customerGid;
      default:
        return null;
    }
  };
  const orderOf = (event: CrmEvent): string | null => (event.kind === "order" ? event.order.legacyId : event.kind === "refund" ? event.refund.orderLegacyId : null);
  const customerGids = [...new Set(items.map((i) => customerOf(i.event)).filter((g): g is string => g !== null))];
  const legacyIds = [...new Set(items.map((i) => orderOf(i.event)).filter((g): g is string => g !== null))];
  if (customerGids.length === 0 && legacyIds.length === 0) return 0;
  const { rows: redactedCustomers } = await db.query<{ gid: string }>({
    name: "crm-privacy-redacted-customers",
    text: `SELECT gid FROM customers WHERE shop = $1 AND gid = ANY($2::text[]) AND redacted_at IS NOT NULL`,
    values: [shop, customerGids],
  });
  const customers = new Set(redactedCustomers.map((r) => r.gid));
  // Orders placed by a redacted customer that this batch wrote (unlinked by the apply step).
  const newlyRedacted = items.flatMap((i) => (i.event.kind === "order" && i.event.order.customer && customers.has(i.event.order.customer.gid) ? [i.event.order.legacyId] : []));
  if (newlyRedacted.length > 0) {
    await db.query(`UPDATE orders SET redacted_at = COALESCE(redacted_at, now()), tags = '{}' WHERE shop = $1 AND legacy_id = ANY($2::text[])`, [shop, newlyRedacted]);
  }
  const { rows: redactedOrders } = await db.query<{ legacy_id: string }>({
    name: "crm-privacy-redacted-orders",
    text: `SELECT legacy_id FROM orders WHERE shop = $1 AND legacy_id = ANY($2::text[]) AND redacted_at IS NOT NULL`,
    values: [shop, legacyIds],
  });
  const orders = new Set(redactedOrders.map((r) => r.legacy_id));
  if (orders.size > 0) await db.query(`UPDATE refunds SET note = NULL WHERE shop = $1 AND order_legacy_id = ANY($2::text[]) AND note IS NOT NULL`, [shop, [...orders]]);
  const scrub = items.filter((i) => {
    const customer = customerOf(i.event);
    const order = orderOf(i.event);
    return (customer !== null && customers.has(customer)) || (order !== null && orders.has(order));
  });
  if (scrub.length === 0) return 0;
  await db.query(`UPDATE webhook_events SET payload = $3 WHERE shop = $1 AND id = ANY($2::bigint[])`, [shop, scrub.map((i) => i.inboxId), REDACTED_PAYLOAD]);
  return scrub.length;
}

/** Deletes every row the app holds for a shop (shop/redact, 48 h after uninstall). */
export async function purgeShop(db: Db, input: { shop: string; inboxId: string }) {
  const { shop } = input;
  const counts: Record<string, number> = {};
  // Children before parents; every table the app keeps per shop (tests/integration/privacy
  // checks that none is left out).
  const tables = [
    ...FEEDBACK_TABLES,
    "customer_predictions", "clv_models",
    "customer_clusters", "clusters", "cluster_models", "product_affinity",
    "segment_membership_changes", "segment_members", "tag_writes", "app_added_tags", "segments", "segment_shop_versions",
    "loyalty_redemptions", "loyalty_tier_changes", "loyalty_ledger", "loyalty_program_versions", "loyalty_programs",
    "line_items", "refunds", "orders", "checkouts", "customer_tags", "customers", "products", "bulk_operations", "data_exports", "audit_log",
    "email_outbox", "email_suppressions", "email_settings",
    "automation_moments", "automation_firings", "automation_rules", "automation_cursors", "automation_settings", "flow_action_runs",
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
