// Applies one CrmEvent to the CRM model inside the caller's transaction.
// Idempotent: every write is keyed, guarded by Shopify's updated_at where the
// resource has one, and aggregates are recomputed from the customer's own rows.
import type { PoolClient } from "pg";
import type { CrmEvent, OrderInput } from "../domain/crm-events";
import { legacyIdOf } from "../shopify/webhook-payloads";
import {
  getOrderCustomerByLegacyId,
  getOrderHead,
  lockCustomer,
  lockOrder,
  recomputeCustomerAggregates,
  refreshOrderRefunds,
  upsertCustomer,
  upsertOrder,
  upsertProduct,
  upsertRefund,
  writeAudit,
} from "./crm-store.server";
import { buildCustomerExport } from "./customer-export.server";
import { redactCustomer, purgeShop } from "./privacy.server";
import { storeShopSettings } from "./shop-settings.server";

type Db = Pick<PoolClient, "query">;
export type ApplyContext = { shop: string; inboxId: string; eventTime: Date };

export async function applyCrmEvent(db: Db, event: CrmEvent, ctx: ApplyContext): Promise<void> {
  const { shop } = ctx;
  switch (event.kind) {
    case "order":
      return applyOrder(db, shop, event.order);
    case "refund": {
      const { refund } = event;
      await lockOrder(db, shop, refund.orderLegacyId);
      const order = await getOrderCustomerByLegacyId(db, shop, refund.orderLegacyId);
      if (order.customerGid) await lockCustomer(db, shop, order.customerGid);
      await upsertRefund(db, shop, refund);
      if (order.exists) await refreshOrderRefunds(db, shop, refund.orderLegacyId);
      if (order.customerGid) await recomputeCustomerAggregates(db, shop, order.customerGid);
      return;
    }
    case "customer":
      await upsertCustomer(db, shop, event.customer, { embedded: false });
      return;
    case "customer_deleted":
      await db.query(
        `INSERT INTO customers (shop, gid, deleted_at) VALUES ($1, $2, $3)
         ON CONFLICT (shop, gid) DO UPDATE SET deleted_at = COALESCE(customers.deleted_at, EXCLUDED.deleted_at), updated_at = now()`,
        [shop, event.customerGid, ctx.eventTime],
      );
      return;
    case "customer_tags": {
      await lockCustomer(db, shop, event.customerGid);
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
      await lockCustomer(db, shop, event.customerGid);
      if (await isRedacted(db, shop, event.customerGid)) return;
      const at = event.consentUpdatedAt ?? ctx.eventTime;
      await db.query(
        `UPDATE customers SET email_marketing_state = $3, email_opt_in_level = $4, email_consent_at = $5, updated_at = now()
          WHERE shop = $1 AND gid = $2 AND (email_consent_at IS NULL OR email_consent_at <= $5)`,
        [shop, event.customerGid, event.state, event.optInLevel, at],
      );
      return;
    }
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

async function applyOrder(db: Db, shop: string, incoming: OrderInput): Promise<void> {
  let order = incoming;
  await lockOrder(db, shop, order.legacyId);
  // Then the customer: every change to one customer's orders is serialised.
  if (order.customer) {
    const { redacted } = await upsertCustomer(db, shop, order.customer, { embedded: true });
    // A redacted customer stays erased: a late order event neither re-links it nor restores its email.
    if (redacted) order = { ...order, customer: null, email: null };
  }
  const customerGid = order.customer?.gid ?? null;
  const before = await getOrderHead(db, shop, order.gid);
  const previousCustomer = before?.customer_gid ?? null;
  if (previousCustomer && previousCustomer !== customerGid) await lockCustomer(db, shop, previousCustomer);

  const written = await upsertOrder(db, shop, order);
  // Refunds are immutable and keyed: take them even from a stale order payload.
  for (const refund of order.refunds) await upsertRefund(db, shop, refund);
  await refreshOrderRefunds(db, shop, legacyIdOf(order.gid));

  if (customerGid && (written || order.refunds.length > 0)) await recomputeCustomerAggregates(db, shop, customerGid);
  if (written && previousCustomer && previousCustomer !== customerGid) await recomputeCustomerAggregates(db, shop, previousCustomer);
}
