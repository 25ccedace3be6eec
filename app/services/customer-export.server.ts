// Everything the app holds about one customer, as plain JSON. Used by the operator
// CLI and by the customers/data_request compliance webhook.
import type { PoolClient } from "pg";
import { buildFeedbackExport } from "./feedback/privacy.server";
import { formatMinorUnits } from "../domain/money";
import type { CustomerRow, OrderRow } from "./db-rows";

type Db = Pick<PoolClient, "query">;

const money = (minor: string | bigint, currency: string | null) => {
  const code = currency ?? "USD";
  return { amount: formatMinorUnits(BigInt(minor), code), currencyCode: code };
};
const iso = (value: Date | null) => (value ? value.toISOString() : null);

type ExportCustomerRow = Pick<
  CustomerRow,
  | "gid" | "email" | "first_name" | "last_name" | "phone" | "state" | "note" | "verified_email" | "country_code" | "province" | "city" | "addresses"
  | "tags" | "email_marketing_state" | "email_opt_in_level" | "email_consent_at" | "sms_marketing_state" | "sms_opt_in_level" | "sms_consent_at"
  | "locale" | "birth_date" | "shopify_created_at" | "shopify_updated_at" | "redacted_at"
  | "deleted_at" | "orders_count" | "total_spent_minor" | "refunded_minor" | "aov_minor" | "aggregate_currency" | "currency" | "first_order_at"
  | "last_order_at"
>;

type ExportOrderRow = Pick<
  OrderRow,
  | "gid" | "legacy_id" | "name" | "email" | "currency" | "total_price_minor" | "refunded_minor" | "financial_status" | "fulfillment_status"
  | "cancelled_at" | "cancel_reason" | "test" | "tags" | "discount_codes" | "shopify_created_at" | "shopify_updated_at"
>;

const CUSTOMER_COLUMNS = `gid, email, first_name, last_name, phone, state, note, verified_email, country_code, province, city,
  addresses, tags, email_marketing_state, email_opt_in_level, email_consent_at, sms_marketing_state, sms_opt_in_level, sms_consent_at,
  locale, birth_date::text AS birth_date, shopify_created_at, shopify_updated_at,
  redacted_at, deleted_at, orders_count, total_spent_minor, refunded_minor, aov_minor, aggregate_currency, currency, first_order_at, last_order_at`;

/**
 * The customer's full export, or null when the app holds nothing about the customer. A
 * customer deleted in Shopify (customers/delete) is still exported: the app still holds its
 * data until customers/redact (decision 038).
 */

/**
 * Runs the steps one after another, like Promise.all's result: `db` may be one client inside
 * the worker's transaction (data_request), which runs one query at a time.
 */
async function inOrder<T extends unknown[]>(steps: readonly [...{ [K in keyof T]: () => Promise<T[K]> }]): Promise<T> {
  const results: unknown[] = [];
  for (const step of steps) results.push(await step());
  return results as T;
}

export async function buildCustomerExport(db: Db, shop: string, customerGid: string) {
  const { rows } = await db.query<ExportCustomerRow>(
    `SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE shop = $1 AND gid = $2`,
    [shop, customerGid],
  );
  const customer = rows[0];
  if (!customer) return null;
  return assembleExport(db, shop, customer);
}

/** Every (not deleted) customer's export, in batches, for `customers export`. */
export async function* exportAllCustomers(db: Db, shop: string, batchSize = 500) {
  let after = 0n;
  for (;;) {
    const { rows } = await db.query<ExportCustomerRow & { id: string }>(
      `SELECT id, ${CUSTOMER_COLUMNS} FROM customers WHERE shop = $1 AND deleted_at IS NULL AND id > $2 ORDER BY id LIMIT $3`,
      [shop, after.toString(), batchSize],
    );
    for (const row of rows) yield await assembleExport(db, shop, row);
    if (rows.length < batchSize) return;
    after = BigInt(rows[rows.length - 1]!.id);
  }
}

async function assembleExport(db: Db, shop: string, c: ExportCustomerRow) {
  const currency = c.aggregate_currency ?? c.currency;
  const orders = await db.query<ExportOrderRow>(
    `SELECT gid, legacy_id, name, email, currency, total_price_minor, refunded_minor, financial_status, fulfillment_status,
            cancelled_at, cancel_reason, test, tags, discount_codes, shopify_created_at, shopify_updated_at
       FROM orders WHERE shop = $1 AND customer_gid = $2 ORDER BY shopify_created_at, gid`,
    [shop, c.gid],
  );
  const orderGids = orders.rows.map((o) => o.gid);
  const legacyIds = orders.rows.map((o) => o.legacy_id);
  const [lineItems, refunds] = await inOrder([
    () => db.query<{ order_gid: string; gid: string; product_gid: string | null; title: string; variant_title: string | null; sku: string | null; quantity: number; price_minor: string; product_type: string | null }>(
      `SELECT li.order_gid, li.gid, li.product_gid, li.title, li.variant_title, li.sku, li.quantity, li.price_minor, p.product_type
         FROM line_items li LEFT JOIN products p ON p.shop = li.shop AND p.gid = li.product_gid
        WHERE li.shop = $1 AND li.order_gid = ANY($2::text[]) ORDER BY li.gid`,
      [shop, orderGids],
    ),
    () => db.query<{ gid: string; order_legacy_id: string; amount_minor: string; currency: string | null; note: string | null; refunded_at: Date }>(
      `SELECT gid, order_legacy_id, amount_minor, currency, note, refunded_at FROM refunds
        WHERE shop = $1 AND order_legacy_id = ANY($2::text[]) ORDER BY refunded_at, gid`,
      [shop, legacyIds],
    ),
  ]);
  const feedback = await buildFeedbackExport(db, shop, c.gid);
  const [loyalty, segments, emails, appTags, checkouts] = await inOrder([
    () => loyaltyExport(db, shop, c.gid),
    () => segmentsExport(db, shop, c.gid),
    () => emailsExport(db, shop, c.gid),
    () => db.query<{ tag: string; source: string; added_at: Date }>(
      `SELECT tag, source, added_at FROM app_added_tags WHERE shop = $1 AND customer_gid = $2 ORDER BY tag_key`,
      [shop, c.gid],
    ),
    () => db.query<{ token: string; shopify_created_at: Date | null; shopify_updated_at: Date | null; completed_at: Date | null; order_gid: string | null }>(
      `SELECT token, shopify_created_at, shopify_updated_at, completed_at, order_gid FROM checkouts WHERE shop = $1 AND customer_gid = $2 ORDER BY shopify_created_at, token`,
      [shop, c.gid],
    ),
  ]);
  return {
    shop,
    customer: {
      id: c.gid,
      email: c.email,
      firstName: c.first_name,
      lastName: c.last_name,
      phone: c.phone,
      state: c.state,
      note: c.note,
      verifiedEmail: c.verified_email,
      tags: c.tags,
      location: { countryCode: c.country_code, province: c.province, city: c.city },
      addresses: c.addresses ?? [],
      emailMarketingConsent: { state: c.email_marketing_state, optInLevel: c.email_opt_in_level, updatedAt: iso(c.email_consent_at) },
      smsMarketingConsent: { state: c.sms_marketing_state, optInLevel: c.sms_opt_in_level, updatedAt: iso(c.sms_consent_at) },
      locale: c.locale,
      birthDate: c.birth_date,
      createdAt: iso(c.shopify_created_at),
      updatedAt: iso(c.shopify_updated_at),
      redacted: c.redacted_at !== null,
      deletedInShopifyAt: iso(c.deleted_at),
      tagsAddedByTheApp: appTags.rows.map((t) => ({ tag: t.tag, source: t.source, addedAt: t.added_at.toISOString() })),
      ordersCount: c.orders_count,
      totalSpent: money(c.total_spent_minor, currency),
      refunded: money(c.refunded_minor, currency),
      averageOrderValue: money(c.aov_minor, currency),
      firstOrderAt: iso(c.first_order_at),
      lastOrderAt: iso(c.last_order_at),
    },
    orders: orders.rows.map((o) => ({
      id: o.gid,
      name: o.name,
      email: o.email,
      createdAt: o.shopify_created_at.toISOString(),
      updatedAt: o.shopify_updated_at.toISOString(),
      totalPrice: money(o.total_price_minor, o.currency),
      refunded: money(o.refunded_minor, o.currency),
      cancelledAt: iso(o.cancelled_at),
      cancelReason: o.cancel_reason,
      financialStatus: o.financial_status,
      fulfillmentStatus: o.fulfillment_status,
      test: o.test,
      tags: o.tags,
      discountCodes: o.discount_codes,
      lineItems: lineItems.rows
        .filter((li) => li.order_gid === o.gid)
        .map((li) => ({
          id: li.gid,
          productId: li.product_gid,
          productType: li.product_type,
          title: li.title,
          variantTitle: li.variant_title,
          sku: li.sku,
          quantity: li.quantity,
          price: money(li.price_minor, o.currency),
        })),
      refunds: refunds.rows
        .filter((r) => r.order_legacy_id === o.legacy_id)
        .map((r) => ({ id: r.gid, amount: money(r.amount_minor, r.currency ?? o.currency), note: r.note, refundedAt: r.refunded_at.toISOString() })),
    })),
    // Checkouts (abandoned_checkout_date): abandoned while neither completed nor ordered.
    checkouts: checkouts.rows.map((k) => ({
      token: k.token,
      createdAt: iso(k.shopify_created_at),
      updatedAt: iso(k.shopify_updated_at),
      completedAt: iso(k.completed_at),
      orderId: k.order_gid,
    })),
    // Feedback requests, answers (with product ratings and reviews) and service-recovery cases.
    feedback,
    // Points: balance, every ledger entry, redemptions and tier history.
    loyalty,
    // Segment memberships now and every entry and exit.
    segments,
    // Emails the app sent or queued to the customer.
    emails,
  };
}

async function loyaltyExport(db: Db, shop: string, customerGid: string) {
  const now = new Date();
  const [entries, redemptions, tiers] = await inOrder([
    () => db.query<{ points: number; kind: string; available_at: Date; occurred_at: Date; source: string; order_gid: string | null; reason: string; rule: unknown }>(
      `SELECT points, kind::text AS kind, available_at, occurred_at, source, order_gid, reason, rule
         FROM loyalty_ledger WHERE shop = $1 AND customer_gid = $2 ORDER BY id`,
      [shop, customerGid],
    ),
    () => db.query<{ reward_id: string; reward: unknown; points: number; status: string; code: string | null; starts_at: Date; expires_at: Date; created_at: Date }>(
      `SELECT reward_id, reward, points, status::text AS status, code, starts_at, expires_at, created_at
         FROM loyalty_redemptions WHERE shop = $1 AND customer_gid = $2 ORDER BY id`,
      [shop, customerGid],
    ),
    () => db.query<{ from_tier: string | null; to_tier: string | null; metric: string; window_kind: string; value: string; cause: string; occurred_at: Date }>(
      `SELECT from_tier, to_tier, metric, window_kind, value::text AS value, cause, occurred_at
         FROM loyalty_tier_changes WHERE shop = $1 AND customer_gid = $2 ORDER BY id`,
      [shop, customerGid],
    ),
  ]);
  const available = (e: { available_at: Date }) => e.available_at.getTime() <= now.getTime();
  return {
    balance: entries.rows.filter(available).reduce((sum, e) => sum + e.points, 0),
    pending: entries.rows.filter((e) => !available(e)).reduce((sum, e) => sum + e.points, 0),
    tier: tiers.rows.at(-1)?.to_tier ?? null,
    ledger: entries.rows.map((e) => ({
      points: e.points,
      kind: e.kind,
      availableAt: e.available_at.toISOString(),
      occurredAt: e.occurred_at.toISOString(),
      source: e.source,
      orderId: e.order_gid,
      reason: e.reason,
      rule: e.rule,
    })),
    redemptions: redemptions.rows.map((r) => ({
      rewardId: r.reward_id,
      reward: r.reward,
      points: r.points,
      status: r.status,
      code: r.code,
      startsAt: r.starts_at.toISOString(),
      expiresAt: r.expires_at.toISOString(),
      createdAt: r.created_at.toISOString(),
    })),
    tierChanges: tiers.rows.map((t) => ({
      from: t.from_tier,
      to: t.to_tier,
      metric: t.metric,
      window: t.window_kind,
      value: t.value,
      cause: t.cause,
      occurredAt: t.occurred_at.toISOString(),
    })),
  };
}

async function segmentsExport(db: Db, shop: string, customerGid: string) {
  const [members, changes] = await inOrder([
    () => db.query<{ name: string; entered_at: Date }>(
      `SELECT s.name, m.entered_at FROM segment_members m JOIN segments s ON s.id = m.segment_id
        WHERE m.shop = $1 AND m.customer_gid = $2 ORDER BY s.name`,
      [shop, customerGid],
    ),
    () => db.query<{ name: string; change: string; cause: string; occurred_at: Date }>(
      `SELECT s.name, h.change::text AS change, h.cause::text AS cause, h.occurred_at
         FROM segment_membership_changes h JOIN segments s ON s.id = h.segment_id
        WHERE h.shop = $1 AND h.customer_gid = $2 ORDER BY h.id`,
      [shop, customerGid],
    ),
  ]);
  return {
    memberships: members.rows.map((m) => ({ segment: m.name, enteredAt: m.entered_at.toISOString() })),
    history: changes.rows.map((h) => ({ segment: h.name, change: h.change, cause: h.cause, occurredAt: h.occurred_at.toISOString() })),
  };
}

async function emailsExport(db: Db, shop: string, customerGid: string) {
  const { rows } = await db.query<{ to_address: string | null; category: string; subject: string; status: string; sent_at: Date | null; created_at: Date }>(
    `SELECT to_address, category, subject, status::text AS status, sent_at, created_at
       FROM email_outbox WHERE shop = $1 AND customer_gid = $2 ORDER BY id`,
    [shop, customerGid],
  );
  return rows.map((e) => ({ to: e.to_address, category: e.category, subject: e.subject, status: e.status, sentAt: iso(e.sent_at), queuedAt: e.created_at.toISOString() }));
}

export type CustomerExport = NonNullable<Awaited<ReturnType<typeof buildCustomerExport>>>;
