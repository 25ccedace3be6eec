// Streams a bulk result (JSONL, one object per line) into the import's staging tables:
// lines are read one at a time, mapped (app/shopify/bulk-import-records.ts) and encoded for
// COPY, and every STAGE_BATCH root objects one COPY per table sends them. Memory stays
// bounded whatever the file size: one batch of encoded rows plus the seq of the most recent
// parents. Children (`__parentId` lines: an order's line items) come after their parent in
// Shopify's files, so each child is staged with its parent's seq and joined set-based later.
import type pg from "pg";
import { withConnection } from "../../db.server";
import { mapImportLine } from "../../shopify/bulk-import-records";
import { CopyJson, copyRows, encodeCopyRow } from "./copy-rows.server";
import type { ObjectType } from "./runs.server";

export const STAGE_BATCH = 2_000;
/** How many recent parents a child may look back to (Shopify puts children right after their parent). */
const RECENT_PARENTS = 1_000;

const CUSTOMER_COLUMNS = [
  "run_id", "seq", "gid", "email", "first_name", "last_name", "phone", "state", "note", "verified_email", "country_code", "province", "city",
  "addresses", "tags", "email_state", "email_opt_in_level", "email_consent_at", "created_at", "updated_at", "amount_spent_minor",
  "amount_spent_currency", "number_of_orders",
] as const;
const ORDER_COLUMNS = [
  "run_id", "seq", "gid", "legacy_id", "customer_gid", "name", "email", "currency", "presentment_currency", "total_price_minor", "subtotal_minor",
  "total_tax_minor", "total_discounts_minor", "shipping_minor", "financial_status", "fulfillment_status", "cancelled_at", "cancel_reason", "test",
  "source_name", "tags", "discount_codes", "created_at", "updated_at", "processed_at", "closed_at",
] as const;
const LINE_ITEM_COLUMNS = [
  "run_id", "parent_seq", "order_gid", "gid", "product_gid", "variant_gid", "title", "variant_title", "sku", "vendor", "quantity", "price_minor",
  "total_discount_minor", "gift_card",
] as const;
const REFUND_COLUMNS = ["run_id", "parent_seq", "gid", "legacy_id", "order_legacy_id", "amount_minor", "currency", "note", "refunded_at"] as const;
const PRODUCT_COLUMNS = ["run_id", "seq", "gid", "title", "product_type", "vendor", "status", "tags", "created_at", "updated_at"] as const;

const STAGING_TABLES: Record<ObjectType, readonly string[]> = {
  customers: ["import_stage_customers"],
  orders: ["import_stage_orders", "import_stage_line_items", "import_stage_refunds"],
  products: ["import_stage_products"],
};

export class StagingError extends Error {
  override name = "StagingError";
}

/** Removes what an interrupted staging of this run and type left (the file is read again from the start). */
export async function clearStaging(db: Pick<pg.PoolClient, "query">, runId: string, type: ObjectType): Promise<void> {
  if (type === "orders") {
    await db.query(`DELETE FROM import_stage_orders WHERE run_id = $1`, [runId]);
    await db.query(`DELETE FROM import_stage_line_items WHERE run_id = $1`, [runId]);
    await db.query(`DELETE FROM import_stage_refunds WHERE run_id = $1`, [runId]);
  } else if (type === "customers") await db.query(`DELETE FROM import_stage_customers WHERE run_id = $1`, [runId]);
  else await db.query(`DELETE FROM import_stage_products WHERE run_id = $1`, [runId]);
}

/**
 * Stages every line of `lines` for `type`; returns the number of root objects. `onBatch`
 * hears the running count after each batch (progress, counts that survive restarts).
 */
export async function stageLines(
  pool: pg.Pool,
  runId: string,
  type: ObjectType,
  lines: AsyncIterable<string>,
  onBatch?: (staged: number) => Promise<void>,
): Promise<number> {
  return withConnection(pool, async (client) => {
    await clearStaging(client, runId, type);
    let seq = 0;
    let inBatch = 0;
    let customers: string[] = [];
    let orders: string[] = [];
    let lineItems: string[] = [];
    let refunds: string[] = [];
    let products: string[] = [];
    // gid -> seq of the latest parents, oldest first (a Map keeps insertion order).
    const recent = new Map<string, number>();

    // One batch is copied while the next is read and encoded (PostgreSQL and this process work
    // at the same time); at most one batch waits, so memory stays at two batches.
    let copying: Promise<void> | null = null;
    const flush = async () => {
      const batch = { customers, orders, lineItems, refunds, products, staged: seq };
      customers = [];
      orders = [];
      lineItems = [];
      refunds = [];
      products = [];
      inBatch = 0;
      if (copying) await copying;
      copying = (async () => {
        await copyRows(client, "import_stage_customers", CUSTOMER_COLUMNS, batch.customers);
        await copyRows(client, "import_stage_orders", ORDER_COLUMNS, batch.orders);
        await copyRows(client, "import_stage_line_items", LINE_ITEM_COLUMNS, batch.lineItems);
        await copyRows(client, "import_stage_refunds", REFUND_COLUMNS, batch.refunds);
        await copyRows(client, "import_stage_products", PRODUCT_COLUMNS, batch.products);
        await onBatch?.(batch.staged);
      })();
      // A failed copy is seen by the next flush's await; until then it must not be an unhandled rejection.
      copying.catch(() => undefined);
    };

    let lineNo = 0;
    for await (const raw of lines) {
      lineNo++;
      let record;
      try {
        record = mapImportLine(JSON.parse(raw));
      } catch (error) {
        throw new StagingError(`${type} result line ${lineNo}: ${(error as Error).message.slice(0, 300)}`, { cause: error });
      }
      switch (record.kind) {
        case "customer": {
          const c = record.customer;
          seq++;
          customers.push(
            encodeCopyRow([
              runId, seq, c.gid, c.email, c.firstName, c.lastName, c.phone, c.state, c.note, c.verifiedEmail, c.countryCode, c.province, c.city,
              new CopyJson(c.addresses), c.tags, c.emailState, c.emailOptInLevel, c.emailConsentAt, c.createdAt, c.updatedAt, c.amountSpentMinor,
              c.amountSpentCurrency, c.numberOfOrders,
            ]),
          );
          break;
        }
        case "order": {
          const o = record.order;
          seq++;
          recent.set(o.gid, seq);
          if (recent.size > RECENT_PARENTS) recent.delete(recent.keys().next().value!);
          orders.push(
            encodeCopyRow([
              runId, seq, o.gid, o.legacyId, o.customerGid, o.name, o.email, o.currency, o.presentmentCurrency, o.totalPriceMinor, o.subtotalMinor,
              o.totalTaxMinor, o.totalDiscountsMinor, o.shippingMinor, o.financialStatus, o.fulfillmentStatus, o.cancelledAt, o.cancelReason, o.test,
              o.sourceName, o.tags, o.discountCodes, o.createdAt, o.updatedAt, o.processedAt, o.closedAt,
            ]),
          );
          for (const r of record.refunds) refunds.push(encodeCopyRow([runId, seq, r.gid, r.legacyId, r.orderLegacyId, r.amountMinor, r.currency, r.note, r.refundedAt]));
          break;
        }
        case "line_item": {
          const parentSeq = recent.get(record.parentGid);
          if (parentSeq === undefined) throw new StagingError(`${type} result line ${lineNo}: line item ${record.lineItem.gid} does not follow its order ${record.parentGid}`);
          const l = record.lineItem;
          lineItems.push(
            encodeCopyRow([
              runId, parentSeq, l.orderGid, l.gid, l.productGid, l.variantGid, l.title, l.variantTitle, l.sku, l.vendor, l.quantity, l.priceMinor,
              l.totalDiscountMinor, l.giftCard,
            ]),
          );
          // A child never ends a batch: its parent's seq stays in this batch's range or an earlier one.
          continue;
        }
        case "product": {
          const p = record.product;
          seq++;
          products.push(encodeCopyRow([runId, seq, p.gid, p.title, p.productType, p.vendor, p.status, p.tags, p.createdAt, p.updatedAt]));
          break;
        }
      }
      if (++inBatch >= STAGE_BATCH) await flush();
    }
    await flush();
    await copying;
    // The merge reads the staging by seq ranges: without statistics (this PostgreSQL may run
    // with autovacuum off) the planner cannot know the BRIN index beats scanning everything.
    for (const table of STAGING_TABLES[type]) await client.query(`ANALYZE ${table}`);
    return seq;
  });
}
