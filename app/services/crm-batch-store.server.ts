// Set-based persistence of the CRM model's customers, orders, line items and refunds for a
// batch of one shop's events (a batch of one included): one statement per kind of row,
// whatever the batch size, and the only SQL that writes those rows from events (decision 042).
// Every write is guarded (Shopify updated_at, keyed refunds, deleted/redacted customers) so a
// batch leaves the model exactly as applying its events one by one would. Callers run these
// in one transaction and take the locks first (lockOrders, then lockCustomers).
import type { PoolClient } from "pg";
import type { CustomerInput, OrderInput, RefundInput } from "../domain/crm-events";
import { computeCustomerAggregates } from "../domain/customers/aggregates";

type Db = Pick<PoolClient, "query">;

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const iso = (date: Date | null) => (date ? date.toISOString() : null);

// Locks: a batch takes its orders' advisory locks (sorted), then its customer rows (sorted,
// created empty when missing), always in that order (order, then customer).
// Two batches that share orders or customers queue behind each other instead of deadlocking.

/**
 * The orders' advisory locks, in key order: every change to one order (its row and its
 * refunds) is serialised, whether or not the order row exists yet (a refund that read "no
 * such order" while the order's own transaction was uncommitted was never counted).
 */
export async function lockOrders(db: Db, shop: string, orderLegacyIds: readonly string[]): Promise<void> {
  if (orderLegacyIds.length === 0) return;
  const keys = [...new Set(orderLegacyIds)].map((id) => `order:${shop}:${id}`).sort(byString);
  await db.query({
    name: "crm-batch-lock-orders",
    text: `SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) FROM unnest($1::text[]) WITH ORDINALITY AS t(k, n)`,
    values: [keys],
  });
}

/** Creates missing customer rows and locks all of them in gid order; returns the redacted ones. */
export async function lockCustomers(db: Db, shop: string, customerGids: readonly string[]): Promise<{ redacted: Set<string> }> {
  const redacted = new Set<string>();
  if (customerGids.length === 0) return { redacted };
  const gids = [...new Set(customerGids)].sort(byString);
  await db.query({
    name: "crm-batch-stub-customers",
    text: `INSERT INTO customers (shop, gid) SELECT $1, gid FROM unnest($2::text[]) WITH ORDINALITY AS t(gid, n) ORDER BY n
           ON CONFLICT (shop, gid) DO NOTHING`,
    values: [shop, gids],
  });
  const { rows } = await db.query<{ gid: string; redacted: boolean }>({
    name: "crm-batch-lock-customers",
    text: `SELECT gid, redacted_at IS NOT NULL AS redacted FROM customers WHERE shop = $1 AND gid = ANY($2::text[]) ORDER BY gid FOR UPDATE`,
    values: [shop, gids],
  });
  for (const row of rows) if (row.redacted) redacted.add(row.gid);
  return { redacted };
}

/** The stored order rows (by legacy id) the batch touches: their current customer. */
export async function getOrderCustomers(db: Db, shop: string, orderLegacyIds: readonly string[]): Promise<Map<string, string | null>> {
  const result = new Map<string, string | null>();
  if (orderLegacyIds.length === 0) return result;
  const { rows } = await db.query<{ legacy_id: string; customer_gid: string | null }>({
    name: "crm-batch-order-customers",
    text: `SELECT legacy_id, customer_gid FROM orders WHERE shop = $1 AND legacy_id = ANY($2::text[])`,
    values: [shop, [...new Set(orderLegacyIds)]],
  });
  for (const row of rows) result.set(row.legacy_id, row.customer_gid);
  return result;
}

function customerRecord(c: CustomerInput, embedded: boolean) {
  const location = c.defaultAddress ?? c.addresses.find((a) => a.isDefault) ?? c.addresses[0] ?? null;
  return {
    gid: c.gid,
    email: c.email,
    first_name: c.firstName,
    last_name: c.lastName,
    phone: c.phone,
    state: c.state,
    note: c.note,
    verified_email: c.verifiedEmail,
    currency: c.currency,
    country_code: location?.countryCode ?? null,
    province: location?.province ?? null,
    city: location?.city ?? null,
    // A customer embedded in an order carries only its default address: keep the stored list.
    addresses: embedded ? null : c.addresses,
    created_at: iso(c.createdAt),
    updated_at: iso(c.updatedAt),
  };
}

/**
 * Upserts customers (at most one per gid) unless the stored copy is newer, deleted or
 * redacted; the rows must already be locked. `embedded` customers come from orders and
 * leave the stored address list alone.
 */
export async function upsertCustomers(db: Db, shop: string, customers: readonly CustomerInput[], options: { embedded: boolean }): Promise<void> {
  if (customers.length === 0) return;
  const records = [...customers].sort((a, b) => byString(a.gid, b.gid)).map((c) => customerRecord(c, options.embedded));
  await db.query({
    name: options.embedded ? "crm-batch-upsert-embedded-customers" : "crm-batch-upsert-customers",
    text: `INSERT INTO customers (shop, gid, email, first_name, last_name, phone, state, note, verified_email, currency,
                                  country_code, province, city, addresses, shopify_created_at, shopify_updated_at, updated_at)
     SELECT $1, x.gid, x.email, x.first_name, x.last_name, x.phone, x.state, x.note, x.verified_email, x.currency,
            x.country_code, x.province, x.city, COALESCE(x.addresses, '[]'::jsonb), x.created_at, x.updated_at, now()
       FROM jsonb_to_recordset($2::jsonb) AS x(gid text, email text, first_name text, last_name text, phone text, state text,
            note text, verified_email boolean, currency text, country_code text, province text, city text, addresses jsonb,
            created_at timestamptz, updated_at timestamptz)
     ON CONFLICT (shop, gid) DO UPDATE SET
       email = EXCLUDED.email, first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
       phone = EXCLUDED.phone, state = COALESCE(EXCLUDED.state, customers.state), note = EXCLUDED.note,
       verified_email = COALESCE(EXCLUDED.verified_email, customers.verified_email),
       currency = COALESCE(EXCLUDED.currency, customers.currency),
       country_code = EXCLUDED.country_code, province = EXCLUDED.province, city = EXCLUDED.city,
       addresses = ${options.embedded ? "COALESCE(customers.addresses, '[]'::jsonb)" : "EXCLUDED.addresses"},
       shopify_created_at = COALESCE(EXCLUDED.shopify_created_at, customers.shopify_created_at),
       shopify_updated_at = COALESCE(EXCLUDED.shopify_updated_at, customers.shopify_updated_at),
       updated_at = now()
     WHERE customers.deleted_at IS NULL AND customers.redacted_at IS NULL
       AND (customers.shopify_updated_at IS NULL OR EXCLUDED.shopify_updated_at IS NULL
            OR customers.shopify_updated_at <= EXCLUDED.shopify_updated_at)`,
    values: [shop, JSON.stringify(records)],
  });
}

/** The order upsert's conflict clause: an older version never overwrites a newer one. */
export const ORDER_UPSERT_CONFLICT = `ON CONFLICT (shop, gid) DO UPDATE SET
       customer_gid = EXCLUDED.customer_gid, name = EXCLUDED.name, email = EXCLUDED.email, currency = EXCLUDED.currency,
       presentment_currency = EXCLUDED.presentment_currency, total_price_minor = EXCLUDED.total_price_minor,
       subtotal_minor = EXCLUDED.subtotal_minor, total_tax_minor = EXCLUDED.total_tax_minor,
       total_discounts_minor = EXCLUDED.total_discounts_minor, shipping_minor = EXCLUDED.shipping_minor,
       financial_status = EXCLUDED.financial_status, fulfillment_status = EXCLUDED.fulfillment_status,
       cancelled_at = EXCLUDED.cancelled_at, cancel_reason = EXCLUDED.cancel_reason, test = EXCLUDED.test,
       source_name = EXCLUDED.source_name, tags = EXCLUDED.tags, discount_codes = EXCLUDED.discount_codes,
       shopify_created_at = EXCLUDED.shopify_created_at, shopify_updated_at = EXCLUDED.shopify_updated_at,
       processed_at = EXCLUDED.processed_at, closed_at = EXCLUDED.closed_at, updated_at = now()
     WHERE orders.shopify_updated_at <= EXCLUDED.shopify_updated_at`;

/**
 * Upserts orders (at most one per gid) unless the stored order is newer, and replaces the
 * line items of those written. Returns the gids written.
 */
export async function upsertOrders(db: Db, shop: string, orders: readonly OrderInput[]): Promise<Set<string>> {
  const written = new Set<string>();
  if (orders.length === 0) return written;
  const sorted = [...orders].sort((a, b) => byString(a.gid, b.gid));
  const records = sorted.map((o) => ({
    gid: o.gid,
    legacy_id: o.legacyId,
    customer_gid: o.customer?.gid ?? null,
    name: o.name,
    email: o.email,
    currency: o.currency,
    presentment_currency: o.presentmentCurrency,
    total_price_minor: o.totalPriceMinor.toString(),
    subtotal_minor: o.subtotalMinor.toString(),
    total_tax_minor: o.totalTaxMinor.toString(),
    total_discounts_minor: o.totalDiscountsMinor.toString(),
    shipping_minor: o.shippingMinor.toString(),
    financial_status: o.financialStatus,
    fulfillment_status: o.fulfillmentStatus,
    cancelled_at: iso(o.cancelledAt),
    cancel_reason: o.cancelReason,
    test: o.test,
    source_name: o.sourceName,
    tags: o.tags,
    discount_codes: o.discountCodes,
    created_at: iso(o.createdAt),
    updated_at: iso(o.updatedAt),
    processed_at: iso(o.processedAt),
    closed_at: iso(o.closedAt),
  }));
  const { rows } = await db.query<{ gid: string }>({
    name: "crm-batch-upsert-orders",
    text: `INSERT INTO orders (shop, gid, legacy_id, customer_gid, name, email, currency, presentment_currency, total_price_minor,
                               subtotal_minor, total_tax_minor, total_discounts_minor, shipping_minor, financial_status,
                               fulfillment_status, cancelled_at, cancel_reason, test, source_name, tags, discount_codes,
                               shopify_created_at, shopify_updated_at, processed_at, closed_at, updated_at)
     SELECT $1, x.gid, x.legacy_id, x.customer_gid, x.name, x.email, x.currency, x.presentment_currency, x.total_price_minor,
            x.subtotal_minor, x.total_tax_minor, x.total_discounts_minor, x.shipping_minor, x.financial_status,
            x.fulfillment_status, x.cancelled_at, x.cancel_reason, x.test, x.source_name, x.tags, x.discount_codes,
            x.created_at, x.updated_at, x.processed_at, x.closed_at, now()
       FROM jsonb_to_recordset($2::jsonb) AS x(gid text, legacy_id text, customer_gid text, name text, email text, currency text,
            presentment_currency text, total_price_minor bigint, subtotal_minor bigint, total_tax_minor bigint,
            total_discounts_minor bigint, shipping_minor bigint, financial_status text, fulfillment_status text,
            cancelled_at timestamptz, cancel_reason text, test boolean, source_name text, tags text[], discount_codes text[],
            created_at timestamptz, updated_at timestamptz, processed_at timestamptz, closed_at timestamptz)
     ${ORDER_UPSERT_CONFLICT}
     RETURNING gid`,
    values: [shop, JSON.stringify(records)],
  });
  for (const row of rows) written.add(row.gid);
  if (written.size === 0) return written;

  const writtenOrders = sorted.filter((o) => written.has(o.gid));
  const items = writtenOrders.flatMap((o) => o.lineItems.map((li) => ({ order_gid: o.gid, ...li })));
  await db.query({
    name: "crm-batch-delete-stale-line-items",
    text: `DELETE FROM line_items WHERE shop = $1 AND order_gid = ANY($2::text[]) AND NOT (gid = ANY($3::text[]))`,
    values: [shop, writtenOrders.map((o) => o.gid), items.map((li) => li.gid)],
  });
  if (items.length > 0) {
    const itemRecords = items.map((li) => ({
      order_gid: li.order_gid,
      gid: li.gid,
      product_gid: li.productGid,
      variant_gid: li.variantGid,
      title: li.title,
      variant_title: li.variantTitle,
      sku: li.sku,
      vendor: li.vendor,
      quantity: li.quantity,
      price_minor: li.priceMinor.toString(),
      total_discount_minor: li.totalDiscountMinor.toString(),
      gift_card: li.giftCard,
    }));
    await db.query({
      name: "crm-batch-upsert-line-items",
      text: `INSERT INTO line_items (shop, order_gid, gid, product_gid, variant_gid, title, variant_title, sku, vendor, quantity,
                                     price_minor, total_discount_minor, gift_card)
       SELECT $1, x.order_gid, x.gid, x.product_gid, x.variant_gid, x.title, x.variant_title, x.sku, x.vendor, x.quantity,
              x.price_minor, x.total_discount_minor, x.gift_card
         FROM jsonb_to_recordset($2::jsonb) AS x(order_gid text, gid text, product_gid text, variant_gid text, title text,
              variant_title text, sku text, vendor text, quantity int, price_minor bigint, total_discount_minor bigint, gift_card boolean)
       ON CONFLICT (shop, gid) DO UPDATE SET order_gid = EXCLUDED.order_gid, product_gid = EXCLUDED.product_gid,
         variant_gid = EXCLUDED.variant_gid, title = EXCLUDED.title, variant_title = EXCLUDED.variant_title,
         sku = EXCLUDED.sku, vendor = EXCLUDED.vendor, quantity = EXCLUDED.quantity, price_minor = EXCLUDED.price_minor,
         total_discount_minor = EXCLUDED.total_discount_minor, gift_card = EXCLUDED.gift_card`,
      values: [shop, JSON.stringify(itemRecords)],
    });
  }
  return written;
}

/** Upserts refunds (at most one per gid): immutable and keyed, so any copy is the refund. */
export async function upsertRefunds(db: Db, shop: string, refunds: readonly RefundInput[]): Promise<void> {
  if (refunds.length === 0) return;
  const records = [...refunds]
    .sort((a, b) => byString(a.gid, b.gid))
    .map((r) => ({
      gid: r.gid,
      legacy_id: r.legacyId,
      order_legacy_id: r.orderLegacyId,
      amount_minor: r.amountMinor.toString(),
      currency: r.currency,
      note: r.note,
      line_items: r.lines.map((l) => ({ ...l, subtotalMinor: l.subtotalMinor.toString(), totalTaxMinor: l.totalTaxMinor.toString() })),
      refunded_at: iso(r.refundedAt),
    }));
  await db.query({
    name: "crm-batch-upsert-refunds",
    text: `INSERT INTO refunds (shop, gid, legacy_id, order_legacy_id, amount_minor, currency, note, line_items, refunded_at)
     SELECT $1, x.gid, x.legacy_id, x.order_legacy_id, x.amount_minor, x.currency, x.note, x.line_items, x.refunded_at
       FROM jsonb_to_recordset($2::jsonb) AS x(gid text, legacy_id text, order_legacy_id text, amount_minor bigint, currency text,
            note text, line_items jsonb, refunded_at timestamptz)
     ON CONFLICT (shop, gid) DO UPDATE SET amount_minor = EXCLUDED.amount_minor, currency = EXCLUDED.currency,
       note = EXCLUDED.note, line_items = EXCLUDED.line_items, refunded_at = EXCLUDED.refunded_at`,
    values: [shop, JSON.stringify(records)],
  });
}

/** Sets each order's refunded total from its refund rows. */
export async function refreshOrdersRefunds(db: Db, shop: string, orderLegacyIds: readonly string[]): Promise<void> {
  if (orderLegacyIds.length === 0) return;
  await db.query({
    name: "crm-batch-refresh-refunds",
    text: `UPDATE orders o SET refunded_minor = COALESCE((SELECT SUM(r.amount_minor) FROM refunds r
                                                          WHERE r.shop = o.shop AND r.order_legacy_id = o.legacy_id), 0)
            WHERE o.shop = $1 AND o.legacy_id = ANY($2::text[])`,
    values: [shop, [...new Set(orderLegacyIds)]],
  });
}

/** Recomputes the aggregates of these customers from their own orders (the pure domain rule). */
export async function recomputeCustomersAggregates(db: Db, shop: string, customerGids: readonly string[]): Promise<void> {
  if (customerGids.length === 0) return;
  const gids = [...new Set(customerGids)].sort(byString);
  const { rows } = await db.query<{ customer_gid: string; total: string; refunded: string; cancelled: boolean; test: boolean; created: Date; currency: string }>({
    name: "crm-batch-customers-orders",
    text: `SELECT customer_gid, total_price_minor AS total, refunded_minor AS refunded, cancelled_at IS NOT NULL AS cancelled, test,
                  shopify_created_at AS created, currency
             FROM orders WHERE shop = $1 AND customer_gid = ANY($2::text[])`,
    values: [shop, gids],
  });
  const ordersOf = new Map<string, typeof rows>();
  for (const row of rows) {
    const list = ordersOf.get(row.customer_gid);
    if (list) list.push(row);
    else ordersOf.set(row.customer_gid, [row]);
  }
  const records = gids.map((gid) => {
    const orders = ordersOf.get(gid) ?? [];
    const a = computeCustomerAggregates({
      orders: orders.map((r) => ({
        totalPriceMinor: BigInt(r.total),
        refundedMinor: BigInt(r.refunded),
        cancelled: r.cancelled,
        test: r.test,
        createdAt: r.created,
      })),
    });
    return {
      gid,
      orders_count: a.ordersCount,
      total_spent_minor: a.totalSpentMinor.toString(),
      refunded_minor: a.refundedMinor.toString(),
      aov_minor: a.aovMinor.toString(),
      first_order_at: iso(a.firstOrderAt),
      last_order_at: iso(a.lastOrderAt),
      currency: orders[0]?.currency ?? null,
    };
  });
  await db.query({
    name: "crm-batch-update-aggregates",
    text: `UPDATE customers c SET orders_count = x.orders_count, total_spent_minor = x.total_spent_minor, refunded_minor = x.refunded_minor,
                  aov_minor = x.aov_minor, first_order_at = x.first_order_at, last_order_at = x.last_order_at,
                  aggregate_currency = COALESCE(x.currency, c.aggregate_currency), updated_at = now()
             FROM jsonb_to_recordset($2::jsonb) AS x(gid text, orders_count int, total_spent_minor bigint, refunded_minor bigint,
                  aov_minor bigint, first_order_at timestamptz, last_order_at timestamptz, currency text)
            WHERE c.shop = $1 AND c.gid = x.gid`,
    values: [shop, JSON.stringify(records)],
  });
}
