// The set-based merge of staged import rows into the CRM tables, one chunk (a range of staging
// seq) per transaction. The rule is the webhooks' (crm-batch-store.server.ts,
// "the updated_at guard"): a row is written only when the stored copy is not newer by Shopify's
// updated_at, never over a deleted or redacted customer; refunds are keyed by their gid and
// immutable, and an order's refunded total is always recomputed from its refund rows; tags are
// per (customer, tag) by time; email consent by consent time. The order conflict clause is the
// webhooks' own (ORDER_UPSERT_CONFLICT), the order locks are their function (lockOrders); the
// customer and product guards and the refund refresh are written out below in the same words
// as theirs. So an import overlapping live webhooks keeps the newer
// version of every row and counts each refund once. Aggregates are recomputed after the last
// chunk (finalize.server.ts), for every customer, under the customer locks.
import type { PoolClient } from "pg";
import { lockOrders } from "../crm-batch-store.server";
import { ORDER_UPSERT_CONFLICT } from "../crm-batch-store.server";

type Db = Pick<PoolClient, "query">;

export const MERGE_CHUNK: Record<"customers" | "orders" | "products", number> = { customers: 2_000, orders: 1_000, products: 2_000 };

/** Highest staged seq of the run for the type (0 when nothing was staged). */
export async function stagedThrough(db: Db, runId: string, type: "customers" | "orders" | "products"): Promise<number> {
  const table = type === "customers" ? "import_stage_customers" : type === "orders" ? "import_stage_orders" : "import_stage_products";
  const { rows } = await db.query<{ max: string | null }>(`SELECT max(seq)::text AS max FROM ${table} WHERE run_id = $1`, [runId]);
  return Number(rows[0]?.max ?? 0);
}

/** Customers with seq in (after, through]: returns how many were staged in the range. */
export async function mergeCustomers(db: Db, shop: string, runId: string, after: number, through: number): Promise<number> {
  // The same guard as crm-batch-store upsertCustomers (full payloads): the stored copy wins when
  // it is newer, deleted or redacted. Rows are taken in gid order (the worker's customer lock order).
  const written = await db.query<{ gid: string }>(
    `INSERT INTO customers (shop, gid, email, first_name, last_name, phone, state, note, verified_email,
                            country_code, province, city, addresses, shopify_created_at, shopify_updated_at, updated_at)
     SELECT $1, s.gid, s.email, s.first_name, s.last_name, s.phone, s.state, s.note, s.verified_email,
            s.country_code, s.province, s.city, COALESCE(s.addresses, '[]'::jsonb), s.created_at, s.updated_at, now()
       FROM import_stage_customers s WHERE s.run_id = $2 AND s.seq > $3 AND s.seq <= $4
      ORDER BY s.gid
     ON CONFLICT (shop, gid) DO UPDATE SET
       email = EXCLUDED.email, first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
       phone = EXCLUDED.phone, state = COALESCE(EXCLUDED.state, customers.state), note = EXCLUDED.note,
       verified_email = COALESCE(EXCLUDED.verified_email, customers.verified_email),
       country_code = EXCLUDED.country_code, province = EXCLUDED.province, city = EXCLUDED.city,
       addresses = EXCLUDED.addresses,
       shopify_created_at = COALESCE(EXCLUDED.shopify_created_at, customers.shopify_created_at),
       shopify_updated_at = COALESCE(EXCLUDED.shopify_updated_at, customers.shopify_updated_at),
       updated_at = now()
     WHERE customers.deleted_at IS NULL AND customers.redacted_at IS NULL
       AND (customers.shopify_updated_at IS NULL OR EXCLUDED.shopify_updated_at IS NULL
            OR customers.shopify_updated_at <= EXCLUDED.shopify_updated_at)
     RETURNING gid`,
    [shop, runId, after, through],
  );

  // Tags, per (customer, tag) by time as customer.tags_added / tags_removed: the imported list
  // is the state at the customer's updated_at. Redacted customers stay erased.
  await db.query(
    `INSERT INTO customer_tags (shop, customer_gid, tag, present, occurred_at)
     SELECT $1, s.gid, t.tag, true, s.updated_at
       FROM import_stage_customers s CROSS JOIN LATERAL unnest(s.tags) AS t(tag)
       JOIN customers c ON c.shop = $1 AND c.gid = s.gid AND c.redacted_at IS NULL
      WHERE s.run_id = $2 AND s.seq > $3 AND s.seq <= $4 AND s.updated_at IS NOT NULL
      ORDER BY s.gid, t.tag
     ON CONFLICT (shop, customer_gid, tag) DO UPDATE SET present = EXCLUDED.present, occurred_at = EXCLUDED.occurred_at
     WHERE customer_tags.occurred_at <= EXCLUDED.occurred_at`,
    [shop, runId, after, through],
  );
  await db.query(
    `UPDATE customer_tags ct SET present = false, occurred_at = s.updated_at
       FROM import_stage_customers s
      WHERE s.run_id = $2 AND s.seq > $3 AND s.seq <= $4 AND s.updated_at IS NOT NULL
        AND ct.shop = $1 AND ct.customer_gid = s.gid AND ct.present AND ct.occurred_at <= s.updated_at
        AND NOT (ct.tag = ANY(s.tags))`,
    [shop, runId, after, through],
  );
  await db.query(
    `UPDATE customers c SET tags = COALESCE((SELECT array_agg(ct.tag ORDER BY ct.tag) FROM customer_tags ct
                                              WHERE ct.shop = c.shop AND ct.customer_gid = c.gid AND ct.present), '{}'), updated_at = now()
       FROM import_stage_customers s
      WHERE s.run_id = $2 AND s.seq > $3 AND s.seq <= $4 AND c.shop = $1 AND c.gid = s.gid AND c.redacted_at IS NULL`,
    [shop, runId, after, through],
  );

  // Email consent by consent time (customers_email_marketing_consent/update's rule); a
  // consent without its own time counts from the customer's updated_at.
  await db.query(
    `UPDATE customers c SET email_marketing_state = s.email_state, email_opt_in_level = s.email_opt_in_level,
            email_consent_at = COALESCE(s.email_consent_at, s.updated_at), updated_at = now()
       FROM import_stage_customers s
      WHERE s.run_id = $2 AND s.seq > $3 AND s.seq <= $4 AND s.email_state IS NOT NULL
        AND c.shop = $1 AND c.gid = s.gid AND c.redacted_at IS NULL
        AND COALESCE(s.email_consent_at, s.updated_at) IS NOT NULL
        AND (c.email_consent_at IS NULL OR c.email_consent_at <= COALESCE(s.email_consent_at, s.updated_at))`,
    [shop, runId, after, through],
  );

  await db.query(
    `INSERT INTO customer_shopify_totals (shop, customer_gid, amount_spent_minor, amount_spent_currency, number_of_orders, read_at)
     SELECT $1, s.gid, s.amount_spent_minor, s.amount_spent_currency, s.number_of_orders, now()
       FROM import_stage_customers s WHERE s.run_id = $2 AND s.seq > $3 AND s.seq <= $4
     ON CONFLICT (shop, customer_gid) DO UPDATE SET amount_spent_minor = EXCLUDED.amount_spent_minor,
       amount_spent_currency = EXCLUDED.amount_spent_currency, number_of_orders = EXCLUDED.number_of_orders, read_at = EXCLUDED.read_at`,
    [shop, runId, after, through],
  );
  void written;
  const { rows } = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM import_stage_customers WHERE run_id = $1 AND seq > $2 AND seq <= $3`, [runId, after, through]);
  return Number(rows[0]?.n ?? 0);
}

/** Orders with seq in (after, through], their line items and refunds. Returns how many orders were in the range. */
export async function mergeOrders(db: Db, shop: string, runId: string, after: number, through: number): Promise<number> {
  const { rows: chunk } = await db.query<{ legacy_id: string }>(
    `SELECT legacy_id FROM import_stage_orders WHERE run_id = $1 AND seq > $2 AND seq <= $3`,
    [runId, after, through],
  );
  if (chunk.length === 0) return 0;
  const legacyIds = chunk.map((r) => r.legacy_id);
  // The webhooks' order locks (advisory, sorted): a refund or order event for one of these
  // orders waits for this chunk, and this chunk for it.
  await lockOrders(db, shop, legacyIds);
  // Customer rows the orders point at, created empty when missing (as lockCustomers does), in gid order.
  await db.query(
    `INSERT INTO customers (shop, gid)
     SELECT DISTINCT $1, s.customer_gid FROM import_stage_orders s
      WHERE s.run_id = $2 AND s.seq > $3 AND s.seq <= $4 AND s.customer_gid IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.shop = $1 AND c.gid = s.customer_gid)
      ORDER BY 2
     ON CONFLICT (shop, gid) DO NOTHING`,
    [shop, runId, after, through],
  );
  // A redacted customer stays erased: an imported order neither re-links it nor restores its email.
  const { rows: written } = await db.query<{ gid: string }>(
    `INSERT INTO orders (shop, gid, legacy_id, customer_gid, name, email, currency, presentment_currency, total_price_minor,
                         subtotal_minor, total_tax_minor, total_discounts_minor, shipping_minor, financial_status,
                         fulfillment_status, cancelled_at, cancel_reason, test, source_name, tags, discount_codes,
                         shopify_created_at, shopify_updated_at, processed_at, closed_at, updated_at)
     SELECT $1, s.gid, s.legacy_id, CASE WHEN c.redacted_at IS NULL THEN s.customer_gid END,
            s.name, CASE WHEN c.redacted_at IS NULL THEN s.email END, s.currency, s.presentment_currency, s.total_price_minor,
            s.subtotal_minor, s.total_tax_minor, s.total_discounts_minor, s.shipping_minor, s.financial_status,
            s.fulfillment_status, s.cancelled_at, s.cancel_reason, s.test, s.source_name, s.tags, s.discount_codes,
            s.created_at, s.updated_at, s.processed_at, s.closed_at, now()
       FROM import_stage_orders s
       LEFT JOIN customers c ON c.shop = $1 AND c.gid = s.customer_gid
      WHERE s.run_id = $2 AND s.seq > $3 AND s.seq <= $4
      ORDER BY s.gid
     ${ORDER_UPSERT_CONFLICT}
     RETURNING gid`,
    [shop, runId, after, through],
  );
  const writtenGids = written.map((r) => r.gid);
  if (writtenGids.length > 0) {
    // The written orders' line items become the imported ones (as upsertOrders replaces them).
    await db.query(
      `DELETE FROM line_items li WHERE li.shop = $1 AND li.order_gid = ANY($5::text[])
          AND NOT EXISTS (SELECT 1 FROM import_stage_line_items s
                           WHERE s.run_id = $2 AND s.parent_seq > $3 AND s.parent_seq <= $4 AND s.gid = li.gid AND s.order_gid = li.order_gid)`,
      [shop, runId, after, through, writtenGids],
    );
    await db.query(
      `INSERT INTO line_items (shop, order_gid, gid, product_gid, variant_gid, title, variant_title, sku, vendor, quantity,
                               price_minor, total_discount_minor, gift_card)
       SELECT $1, s.order_gid, s.gid, s.product_gid, s.variant_gid, s.title, s.variant_title, s.sku, s.vendor, s.quantity,
              s.price_minor, s.total_discount_minor, s.gift_card
         FROM import_stage_line_items s
         JOIN unnest($5::text[]) AS w(gid) ON w.gid = s.order_gid
        WHERE s.run_id = $2 AND s.parent_seq > $3 AND s.parent_seq <= $4
        ORDER BY s.gid
       ON CONFLICT (shop, gid) DO UPDATE SET order_gid = EXCLUDED.order_gid, product_gid = EXCLUDED.product_gid,
         variant_gid = EXCLUDED.variant_gid, title = EXCLUDED.title, variant_title = EXCLUDED.variant_title,
         sku = EXCLUDED.sku, vendor = EXCLUDED.vendor, quantity = EXCLUDED.quantity, price_minor = EXCLUDED.price_minor,
         total_discount_minor = EXCLUDED.total_discount_minor, gift_card = EXCLUDED.gift_card`,
      [shop, runId, after, through, writtenGids],
    );
  }
  // Refunds are immutable and keyed: taken even from an order version older than the stored
  // one, and a refund already stored (from refunds/create, with its refund lines) is kept.
  await db.query(
    `INSERT INTO refunds (shop, gid, legacy_id, order_legacy_id, amount_minor, currency, note, line_items, refunded_at)
     SELECT $1, s.gid, s.legacy_id, s.order_legacy_id, s.amount_minor, s.currency, s.note, '[]'::jsonb, s.refunded_at
       FROM import_stage_refunds s WHERE s.run_id = $2 AND s.parent_seq > $3 AND s.parent_seq <= $4
      ORDER BY s.gid
     ON CONFLICT (shop, gid) DO NOTHING`,
    [shop, runId, after, through],
  );
  // crm-batch-store refreshOrdersRefunds's rule (an order's refunded total is the sum of its
  // refund rows), leaving alone the orders whose total is already right (most have no refund):
  // rewriting every order of the chunk a second time would double the merge's writes.
  await db.query(
    `UPDATE orders o SET refunded_minor = x.refunded
       FROM (SELECT o2.id, COALESCE((SELECT SUM(r.amount_minor) FROM refunds r WHERE r.shop = o2.shop AND r.order_legacy_id = o2.legacy_id), 0) AS refunded
               FROM orders o2 WHERE o2.shop = $1 AND o2.legacy_id = ANY($2::text[])) x
      WHERE o.id = x.id AND o.refunded_minor IS DISTINCT FROM x.refunded`,
    [shop, legacyIds],
  );
  return chunk.length;
}

/** Products with seq in (after, through], under apply-crm-unbatched upsertProduct's guard (newer or deleted wins). */
export async function mergeProducts(db: Db, shop: string, runId: string, after: number, through: number): Promise<number> {
  const { rowCount } = await db.query(
    `INSERT INTO products (shop, gid, title, product_type, vendor, status, tags, shopify_created_at, shopify_updated_at)
     SELECT $1, s.gid, s.title, s.product_type, s.vendor, s.status, s.tags, s.created_at, s.updated_at
       FROM import_stage_products s WHERE s.run_id = $2 AND s.seq > $3 AND s.seq <= $4
      ORDER BY s.gid
     ON CONFLICT (shop, gid) DO UPDATE SET title = EXCLUDED.title, product_type = EXCLUDED.product_type,
       vendor = EXCLUDED.vendor, status = EXCLUDED.status, tags = EXCLUDED.tags,
       shopify_created_at = COALESCE(EXCLUDED.shopify_created_at, products.shopify_created_at),
       shopify_updated_at = EXCLUDED.shopify_updated_at
     WHERE products.deleted_at IS NULL
       AND (products.shopify_updated_at IS NULL OR EXCLUDED.shopify_updated_at IS NULL
            OR products.shopify_updated_at <= EXCLUDED.shopify_updated_at)`,
    [shop, runId, after, through],
  );
  void rowCount;
  const { rows } = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM import_stage_products WHERE run_id = $1 AND seq > $2 AND seq <= $3`, [runId, after, through]);
  return Number(rows[0]?.n ?? 0);
}
