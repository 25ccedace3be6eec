// Persistence of the CRM model in PostgreSQL (parametrised SQL on the hot path).
// Every statement is scoped by shop. Callers run these inside one transaction.
import type { PoolClient } from "pg";
import type { CustomerInput, OrderInput, ProductInput, RefundInput } from "../domain/crm-events";
import { computeCustomerAggregates } from "../domain/customers/aggregates";

type Db = Pick<PoolClient, "query">;

// Hot-path statements are named: each connection parses and plans them once (node-postgres
// prepared statements) instead of on every event.

/**
 * Creates the shop row on its first event. The app was installed no later than that event
 * was triggered, so installed_at is the event's time (never in the future), not the time
 * the worker got to it: otherwise an app/uninstalled that is the shop's first event would
 * look older than the install and be ignored.
 */
export async function ensureShop(db: Db, shop: string, eventTime?: Date): Promise<void> {
  await db.query({
    name: "crm-ensure-shop",
    text: `INSERT INTO shops (domain, installed_at) VALUES ($1, LEAST(COALESCE($2::timestamptz, now()), now()))
           ON CONFLICT (domain) DO NOTHING`,
    values: [shop, eventTime ?? null],
  });
}

/**
 * Inserts or updates a customer unless the stored copy is newer (Shopify updated_at),
 * deleted or redacted. Always leaves the customer row locked until the transaction ends,
 * which serialises every change to one customer's orders and aggregates.
 */
export async function upsertCustomer(
  db: Db,
  shop: string,
  c: CustomerInput,
  options: { embedded: boolean },
): Promise<{ redacted: boolean }> {
  const location = c.defaultAddress ?? c.addresses.find((a) => a.isDefault) ?? c.addresses[0] ?? null;
  // A customer embedded in an order carries only its default address: keep the full list.
  const addresses = options.embedded ? null : JSON.stringify(c.addresses);
  const written = await db.query({ name: "crm-upsert-customer", text: `INSERT INTO customers (shop, gid, email, first_name, last_name, phone, state, note, verified_email, currency,
                            country_code, province, city, addresses, shopify_created_at, shopify_updated_at, updated_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,COALESCE($14::jsonb, '[]'::jsonb),$15,$16, now())
     ON CONFLICT (shop, gid) DO UPDATE SET
       email = EXCLUDED.email, first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
       phone = EXCLUDED.phone, state = COALESCE(EXCLUDED.state, customers.state), note = EXCLUDED.note,
       verified_email = COALESCE(EXCLUDED.verified_email, customers.verified_email),
       currency = COALESCE(EXCLUDED.currency, customers.currency),
       country_code = EXCLUDED.country_code, province = EXCLUDED.province, city = EXCLUDED.city,
       addresses = COALESCE($14::jsonb, customers.addresses, '[]'::jsonb),
       shopify_created_at = COALESCE(EXCLUDED.shopify_created_at, customers.shopify_created_at),
       shopify_updated_at = COALESCE(EXCLUDED.shopify_updated_at, customers.shopify_updated_at),
       updated_at = now()
     WHERE customers.deleted_at IS NULL AND customers.redacted_at IS NULL
       AND (customers.shopify_updated_at IS NULL OR EXCLUDED.shopify_updated_at IS NULL
            OR customers.shopify_updated_at <= EXCLUDED.shopify_updated_at)
     RETURNING 1`, values: [
      shop, c.gid, c.email, c.firstName, c.lastName, c.phone, c.state, c.note, c.verifiedEmail, c.currency,
      location?.countryCode ?? null, location?.province ?? null, location?.city ?? null, addresses,
      c.createdAt, c.updatedAt,
    ] });
  if (written.rowCount) return { redacted: false };
  // Not written: stale, deleted or redacted. Only the last one changes what callers may store.
  const { rows } = await db.query<{ redacted: boolean }>({ name: "crm-customer-redacted", text: `SELECT redacted_at IS NOT NULL AS redacted FROM customers WHERE shop = $1 AND gid = $2`, values: [shop, c.gid] });
  return { redacted: rows[0]?.redacted ?? false };
}

/**
 * Serialises every change to one order (its row and its refunds) until the transaction
 * ends, whether or not the order row exists yet: a refund read "no such order" while the
 * order's own transaction was uncommitted, and the refund was then never counted.
 * Taken before any customer lock, in every path, so lock order stays order -> customer.
 */
export async function lockOrder(db: Db, shop: string, orderLegacyId: string): Promise<void> {
  await db.query({ name: "crm-lock-order", text: `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, values: [`order:${shop}:${orderLegacyId}`] });
}

/** Creates an empty customer row if none exists, and locks it. */
export async function lockCustomer(db: Db, shop: string, gid: string): Promise<void> {
  await db.query({ name: "crm-stub-customer", text: `INSERT INTO customers (shop, gid) VALUES ($1, $2) ON CONFLICT (shop, gid) DO NOTHING`, values: [shop, gid] });
  await db.query({ name: "crm-lock-customer", text: `SELECT 1 FROM customers WHERE shop = $1 AND gid = $2 FOR UPDATE`, values: [shop, gid] });
}

export async function recomputeCustomerAggregates(db: Db, shop: string, customerGid: string): Promise<void> {
  const { rows } = await db.query<{ total: string; refunded: string; cancelled: boolean; test: boolean; created: Date; currency: string }>({ name: "crm-customer-orders", text: `SELECT total_price_minor AS total, refunded_minor AS refunded, cancelled_at IS NOT NULL AS cancelled, test,
            shopify_created_at AS created, currency
       FROM orders WHERE shop = $1 AND customer_gid = $2`, values: [shop, customerGid] });
  const aggregates = computeCustomerAggregates({
    orders: rows.map((r) => ({
      totalPriceMinor: BigInt(r.total),
      refundedMinor: BigInt(r.refunded),
      cancelled: r.cancelled,
      test: r.test,
      createdAt: r.created,
    })),
  });
  await db.query({ name: "crm-update-aggregates", text: `UPDATE customers SET orders_count = $3, total_spent_minor = $4, refunded_minor = $5, aov_minor = $6,
            first_order_at = $7, last_order_at = $8, aggregate_currency = COALESCE($9, aggregate_currency), updated_at = now()
      WHERE shop = $1 AND gid = $2`, values: [
      shop, customerGid, aggregates.ordersCount, aggregates.totalSpentMinor.toString(), aggregates.refundedMinor.toString(),
      aggregates.aovMinor.toString(), aggregates.firstOrderAt, aggregates.lastOrderAt, rows[0]?.currency ?? null,
    ] });
}

export async function upsertRefund(db: Db, shop: string, r: RefundInput): Promise<void> {
  await db.query({ name: "crm-upsert-refund", text: `INSERT INTO refunds (shop, gid, legacy_id, order_legacy_id, amount_minor, currency, note, line_items, refunded_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8::jsonb,$9)
     ON CONFLICT (shop, gid) DO UPDATE SET amount_minor = EXCLUDED.amount_minor, currency = EXCLUDED.currency,
       note = EXCLUDED.note, line_items = EXCLUDED.line_items, refunded_at = EXCLUDED.refunded_at`, values: [
      shop, r.gid, r.legacyId, r.orderLegacyId, r.amountMinor.toString(), r.currency, r.note,
      JSON.stringify(r.lines.map((l) => ({ ...l, subtotalMinor: l.subtotalMinor.toString(), totalTaxMinor: l.totalTaxMinor.toString() }))),
      r.refundedAt,
    ] });
}

/** Sets the order's refunded total from its refund rows. */
export async function refreshOrderRefunds(db: Db, shop: string, orderLegacyId: string): Promise<void> {
  await db.query({ name: "crm-refresh-order-refunds", text: `UPDATE orders SET refunded_minor = COALESCE((SELECT SUM(amount_minor) FROM refunds
                                                   WHERE shop = $1 AND order_legacy_id = $2), 0)
      WHERE shop = $1 AND legacy_id = $2`, values: [shop, orderLegacyId] });
}

export async function getOrderHead(db: Db, shop: string, orderGid: string) {
  const { rows } = await db.query<{ customer_gid: string | null; shopify_updated_at: Date }>({ name: "crm-order-head", text: `SELECT customer_gid, shopify_updated_at FROM orders WHERE shop = $1 AND gid = $2`, values: [shop, orderGid] });
  return rows[0] ?? null;
}

export async function getOrderCustomerByLegacyId(db: Db, shop: string, legacyId: string): Promise<{ exists: boolean; customerGid: string | null }> {
  const { rows } = await db.query<{ customer_gid: string | null }>({ name: "crm-order-customer", text: `SELECT customer_gid FROM orders WHERE shop = $1 AND legacy_id = $2`, values: [shop, legacyId] });
  return rows[0] ? { exists: true, customerGid: rows[0].customer_gid } : { exists: false, customerGid: null };
}

/** The order upsert's conflict clause (one order or a batch): an older version never overwrites a newer one. */
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

/** Writes the order and its line items unless the stored order is newer. Returns whether it wrote. */
export async function upsertOrder(db: Db, shop: string, o: OrderInput): Promise<boolean> {
  const written = await db.query({ name: "crm-upsert-order", text: `INSERT INTO orders (shop, gid, legacy_id, customer_gid, name, email, currency, presentment_currency, total_price_minor,
                         subtotal_minor, total_tax_minor, total_discounts_minor, shipping_minor, financial_status,
                         fulfillment_status, cancelled_at, cancel_reason, test, source_name, tags, discount_codes,
                         shopify_created_at, shopify_updated_at, processed_at, closed_at, updated_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25, now())
     ${ORDER_UPSERT_CONFLICT}
     RETURNING 1`, values: [
      shop, o.gid, o.legacyId, o.customer?.gid ?? null, o.name, o.email, o.currency, o.presentmentCurrency,
      o.totalPriceMinor.toString(), o.subtotalMinor.toString(), o.totalTaxMinor.toString(), o.totalDiscountsMinor.toString(),
      o.shippingMinor.toString(), o.financialStatus, o.fulfillmentStatus, o.cancelledAt, o.cancelReason, o.test,
      o.sourceName, o.tags, o.discountCodes, o.createdAt, o.updatedAt, o.processedAt, o.closedAt,
    ] });
  if (written.rowCount === 0) return false;
  const items = o.lineItems;
  await db.query({ name: "crm-delete-stale-line-items", text: `DELETE FROM line_items WHERE shop = $1 AND order_gid = $2 AND NOT (gid = ANY($3::text[]))`, values: [
    shop, o.gid, items.map((li) => li.gid),
  ] });
  if (items.length > 0) {
    await db.query({ name: "crm-upsert-line-items", text: `INSERT INTO line_items (shop, order_gid, gid, product_gid, variant_gid, title, variant_title, sku, vendor, quantity,
                               price_minor, total_discount_minor, gift_card)
       SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                                    $10::int[], $11::bigint[], $12::bigint[], $13::boolean[])
       ON CONFLICT (shop, gid) DO UPDATE SET order_gid = EXCLUDED.order_gid, product_gid = EXCLUDED.product_gid,
         variant_gid = EXCLUDED.variant_gid, title = EXCLUDED.title, variant_title = EXCLUDED.variant_title,
         sku = EXCLUDED.sku, vendor = EXCLUDED.vendor, quantity = EXCLUDED.quantity, price_minor = EXCLUDED.price_minor,
         total_discount_minor = EXCLUDED.total_discount_minor, gift_card = EXCLUDED.gift_card`, values: [
        shop, o.gid,
        items.map((li) => li.gid), items.map((li) => li.productGid), items.map((li) => li.variantGid),
        items.map((li) => li.title), items.map((li) => li.variantTitle), items.map((li) => li.sku),
        items.map((li) => li.vendor), items.map((li) => li.quantity), items.map((li) => li.priceMinor.toString()),
        items.map((li) => li.totalDiscountMinor.toString()), items.map((li) => li.giftCard),
      ] });
  }
  return true;
}

export async function upsertProduct(db: Db, shop: string, p: ProductInput): Promise<void> {
  await db.query({ name: "crm-upsert-product", text: `INSERT INTO products (shop, gid, title, product_type, vendor, status, tags, shopify_created_at, shopify_updated_at, image_url)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
     ON CONFLICT (shop, gid) DO UPDATE SET title = EXCLUDED.title, product_type = EXCLUDED.product_type, image_url = EXCLUDED.image_url,
       vendor = EXCLUDED.vendor, status = EXCLUDED.status, tags = EXCLUDED.tags,
       shopify_created_at = COALESCE(EXCLUDED.shopify_created_at, products.shopify_created_at),
       shopify_updated_at = EXCLUDED.shopify_updated_at
     WHERE products.deleted_at IS NULL
       AND (products.shopify_updated_at IS NULL OR EXCLUDED.shopify_updated_at IS NULL
            OR products.shopify_updated_at <= EXCLUDED.shopify_updated_at)`, values: [shop, p.gid, p.title, p.productType, p.vendor, p.status, p.tags, p.createdAt, p.updatedAt, p.imageUrl] });
}

export async function writeAudit(db: Db, entry: { shop: string; actor: string; action: string; subject?: string | null; details?: unknown }): Promise<void> {
  await db.query({ name: "crm-audit", text: `INSERT INTO audit_log (shop, actor, action, subject, details) VALUES ($1, $2, $3, $4, $5::jsonb)`, values: [
    entry.shop, entry.actor, entry.action, entry.subject ?? null, JSON.stringify(entry.details ?? {}),
  ] });
}
