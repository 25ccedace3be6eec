// The event kinds applyCrmBatch (apply-crm-batch.server.ts, the CRM model's one write path)
// applies one at a time, in delivery order, inside its transaction: rare kinds with no
// set-based form, and the compliance, deletion and uninstall events whose effect depends
// on what came before them. Orders, refunds and customers never come here: they are
// written only by the set-based statements of crm-batch-store.server.ts.
// Idempotent: every write is keyed, and guarded by the resource's own time where it has one.
import type { PoolClient } from "pg";
import type { CrmEvent, ProductInput } from "../domain/crm-events";
import { writeAudit } from "./crm-store.server";
import { buildCustomerExport } from "./customer-export.server";
import { applyCheckout, applySmsConsent } from "./customer-facts.server";
import { redactCustomer, purgeShop } from "./privacy.server";
import { storeShopSettings } from "./shop-settings.server";

type Db = Pick<PoolClient, "query">;

/** Every kind but the set-based ones (order, refund, customer). */
export type UnbatchedEvent = Exclude<CrmEvent, { kind: "order" | "refund" | "customer" }>;
export type UnbatchedContext = { shop: string; inboxId: string; eventTime: Date };

/**
 * Applies one event inside the caller's transaction. The caller (applyCrmBatch) has already
 * taken the locks, in the batch's order: the customer rows named by customer_tags and
 * email_consent exist and are locked.
 */
export async function applyUnbatchedEvent(db: Db, event: UnbatchedEvent, ctx: UnbatchedContext): Promise<void> {
  const { shop } = ctx;
  switch (event.kind) {
    case "customer_deleted":
      await db.query(
        `INSERT INTO customers (shop, gid, deleted_at) VALUES ($1, $2, $3)
         ON CONFLICT (shop, gid) DO UPDATE SET deleted_at = COALESCE(customers.deleted_at, EXCLUDED.deleted_at), updated_at = now()`,
        [shop, event.customerGid, ctx.eventTime],
      );
      return;
    case "customer_tags": {
      // A redacted customer stays erased: its tags are not stored again.
      if (await isRedacted(db, shop, event.customerGid)) return;
      await db.query(
        `INSERT INTO customer_tags (shop, customer_gid, tag, present, occurred_at)
         SELECT $1, $2, tag, $4, $5 FROM unnest($3::text[]) AS tag
         ON CONFLICT (shop, customer_gid, tag) DO UPDATE SET present = EXCLUDED.present, occurred_at = EXCLUDED.occurred_at
         WHERE customer_tags.occurred_at <= EXCLUDED.occurred_at`,
        [shop, event.customerGid, event.tags, event.present, event.occurredAt],
      );
      await db.query(
        `UPDATE customers SET tags = COALESCE((SELECT array_agg(tag ORDER BY tag) FROM customer_tags
                                                WHERE shop = $1 AND customer_gid = $2 AND present), '{}'), updated_at = now()
          WHERE shop = $1 AND gid = $2`,
        [shop, event.customerGid],
      );
      return;
    }
    case "email_consent": {
      if (await isRedacted(db, shop, event.customerGid)) return;
      const at = event.consentUpdatedAt ?? ctx.eventTime;
      await db.query(
        `UPDATE customers SET email_marketing_state = $3, email_opt_in_level = $4, email_consent_at = $5, updated_at = now()
          WHERE shop = $1 AND gid = $2 AND (email_consent_at IS NULL OR email_consent_at <= $5)`,
        [shop, event.customerGid, event.state, event.optInLevel, at],
      );
      return;
    }
    case "sms_consent":
      await applySmsConsent(db, shop, event, ctx.eventTime);
      return;
    case "checkout":
      await applyCheckout(db, shop, event.checkout);
      return;
    case "product":
      await upsertProduct(db, shop, event.product);
      return;
    case "product_deleted":
      await db.query(
        `INSERT INTO products (shop, gid, deleted_at) VALUES ($1, $2, $3)
         ON CONFLICT (shop, gid) DO UPDATE SET deleted_at = COALESCE(products.deleted_at, EXCLUDED.deleted_at)`,
        [shop, event.productGid, ctx.eventTime],
      );
      return;
    case "app_uninstalled":
      await db.query(`DELETE FROM "Session" WHERE shop = $1`, [shop]);
      await db.query(
        `UPDATE shops SET uninstalled_at = $2, name = COALESCE($3, name), "currencyCode" = COALESCE($4, "currencyCode"), updated_at = now()
          WHERE domain = $1 AND installed_at <= $2`,
        [shop, ctx.eventTime, event.shopName, event.currency],
      );
      await writeAudit(db, { shop, actor: "shopify", action: "app.uninstalled", details: { inboxId: ctx.inboxId } });
      return;
    case "scopes_update":
      await db.query(`UPDATE "Session" SET scope = $2 WHERE shop = $1`, [shop, event.scopes.join(",")]);
      await db.query(`UPDATE shops SET scopes = $2, updated_at = now() WHERE domain = $1`, [shop, event.scopes.join(",")]);
      return;
    case "shop_updated":
      await storeShopSettings(db, shop, event.settings, { eventTime: ctx.eventTime });
      return;
    case "bulk_operation_finished":
      await db.query(
        `INSERT INTO bulk_operations (shop, gid, type, status, error_code, completed_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6, now())
         ON CONFLICT (shop, gid) DO UPDATE SET type = EXCLUDED.type, status = EXCLUDED.status,
           error_code = EXCLUDED.error_code, completed_at = EXCLUDED.completed_at, updated_at = now()`,
        [shop, event.gid, event.type, event.status, event.errorCode, event.completedAt],
      );
      return;
    case "customer_data_request": {
      const data = await buildCustomerExport(db, shop, event.customerGid);
      const exported = data ?? { shop, customer: null, note: "the app holds no data for this customer" };
      await db.query(`INSERT INTO data_exports (shop, customer_gid, request_id, data) VALUES ($1, $2, $3, $4::jsonb)`, [
        shop, event.customerGid, event.requestId, JSON.stringify(exported),
      ]);
      await writeAudit(db, {
        shop,
        actor: "shopify",
        action: "customer.data_requested",
        subject: event.customerGid,
        details: { requestId: event.requestId, found: data !== null, inboxId: ctx.inboxId },
      });
      return;
    }
    case "customer_redact":
      await redactCustomer(db, { shop, customerGid: event.customerGid, orderLegacyIds: event.orderLegacyIds, inboxId: ctx.inboxId });
      return;
    case "shop_redact":
      await purgeShop(db, { shop, inboxId: ctx.inboxId });
      return;
  }
}

async function isRedacted(db: Db, shop: string, customerGid: string): Promise<boolean> {
  const { rows } = await db.query<{ redacted: boolean }>(`SELECT redacted_at IS NOT NULL AS redacted FROM customers WHERE shop = $1 AND gid = $2`, [shop, customerGid]);
  return rows[0]?.redacted ?? false;
}

async function upsertProduct(db: Db, shop: string, p: ProductInput): Promise<void> {
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
