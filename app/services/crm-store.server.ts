// The shop row and the audit log, written by the apply step and by the admin services.
// The CRM model's own rows (customers, orders, line items, refunds) are written only by the
// set-based statements of crm-batch-store.server.ts, through applyCrmBatch (decision 042).
import type { PoolClient } from "pg";

type Db = Pick<PoolClient, "query">;

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

export async function writeAudit(db: Db, entry: { shop: string; actor: string; action: string; subject?: string | null; details?: unknown }): Promise<void> {
  await db.query({ name: "crm-audit", text: `INSERT INTO audit_log (shop, actor, action, subject, details) VALUES ($1, $2, $3, $4, $5::jsonb)`, values: [
    entry.shop, entry.actor, entry.action, entry.subject ?? null, JSON.stringify(entry.details ?? {}),
  ] });
}
