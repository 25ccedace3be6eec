// The cross-check (decision 048): customers whose order count or net spent in the CRM differs
// from Shopify's own numberOfOrders / amountSpent, with both values and, where a documented
// semantic choice of the CRM accounts for the difference (test and cancelled orders are not
// counted, refunds are subtracted: app/domain/customers/aggregates.ts), that explanation.
// Pages every customer of the shop through the Admin API, paced on the cost bucket.
import { getPool } from "../../db.server";
import { toMinorUnits } from "../../domain/money";
import { crossCheckCustomer, type CrossCheckMismatch, type CrossCheckOrder } from "../../domain/sync/reconcile";
import { PacedAdmin } from "./reconcile.server";

const PAGE_SIZE = 250;

/** Yields each mismatch as it is found; `report.checked` counts the customers compared. */
export async function* crossCheckShop(shop: string, report: { checked: number } = { checked: 0 }): AsyncGenerator<CrossCheckMismatch> {
  const admin = new PacedAdmin(shop);
  const pool = getPool();
  for (let after: string | null = null; ; ) {
    const page = await admin.call("crossCheck", (a) => a.crossCheckCustomers(PAGE_SIZE, after));
    const gids = page.nodes.map((n) => n.id);
    const { rows: customers } = await pool.query<{ gid: string; orders_count: number; total_spent_minor: string; gone: boolean }>(
      `SELECT gid, orders_count, total_spent_minor::text, (deleted_at IS NOT NULL OR redacted_at IS NOT NULL) AS gone
         FROM customers WHERE shop = $1 AND gid = ANY($2::text[])`,
      [shop, gids],
    );
    const { rows: orders } = await pool.query<{ customer_gid: string; total: string; refunded: string; cancelled: boolean; test: boolean; voided: boolean }>(
      `SELECT customer_gid, total_price_minor::text AS total, refunded_minor::text AS refunded, cancelled_at IS NOT NULL AS cancelled, test,
              lower(coalesce(financial_status, '')) = 'voided' AS voided
         FROM orders WHERE shop = $1 AND customer_gid = ANY($2::text[])`,
      [shop, gids],
    );
    const local = new Map(customers.map((c) => [c.gid, c]));
    const byCustomer = new Map<string, CrossCheckOrder[]>();
    for (const o of orders) {
      const list = byCustomer.get(o.customer_gid) ?? [];
      list.push({ totalPriceMinor: BigInt(o.total), refundedMinor: BigInt(o.refunded), cancelled: o.cancelled, test: o.test, voided: o.voided });
      byCustomer.set(o.customer_gid, list);
    }
    for (const remote of page.nodes) {
      report.checked++;
      const row = local.get(remote.id);
      if (row?.gone) continue;
      const currency = remote.amountSpent.currencyCode;
      const mismatch = crossCheckCustomer({
        customerGid: remote.id,
        local: { ordersCount: row?.orders_count ?? 0, netSpentMinor: BigInt(row?.total_spent_minor ?? "0") },
        orders: byCustomer.get(remote.id) ?? [],
        shopify: { numberOfOrders: Number(remote.numberOfOrders), amountSpentMinor: toMinorUnits(remote.amountSpent.amount, currency) },
        currency,
      });
      if (mismatch) yield row ? mismatch : { ...mismatch, explanation: mismatch.explanation ?? "the customer is not in the CRM (run crm sync reconcile)" };
    }
    if (!page.next) return;
    after = page.next;
  }
}
