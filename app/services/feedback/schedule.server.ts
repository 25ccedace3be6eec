// The feedback step of the worker's apply: order events schedule requests in the same
// transaction (process-inbox-event.server.ts, after loyalty). One request per rule and order
// (unique key): a duplicate or replayed event, or a later event of the same order, changes
// nothing. A request is only a row with its send time; the scheduler job finds it when due
// (Redis holds one repeating job, never one job per request).
import type { Queryable } from "../../db.server";
import type { OrderRow } from "../db-rows";
import { logger } from "../../logger.server";
import { sendAtFor, shouldSchedule, type FeedbackOrder } from "../../domain/feedback/rules";
import { loadSchedulingRules } from "./rules.server";

type ScheduledOrderRow = Pick<
  OrderRow,
  | "gid" | "customer_gid" | "currency" | "total_price_minor" | "refunded_minor" | "financial_status" | "fulfillment_status" | "cancelled_at" | "test"
  | "source_name"
>;

export const ORDER_COLUMNS = `o.gid, o.customer_gid, o.currency, o.total_price_minor::text AS total_price_minor, o.refunded_minor::text AS refunded_minor,
  o.financial_status, o.fulfillment_status, o.cancelled_at, o.test, o.source_name`;

export const toFeedbackOrder = (r: ScheduledOrderRow): FeedbackOrder => ({
  gid: r.gid,
  customerGid: r.customer_gid,
  currency: r.currency,
  totalPriceMinor: BigInt(r.total_price_minor),
  refundedMinor: BigInt(r.refunded_minor),
  financialStatus: r.financial_status,
  fulfillmentStatus: r.fulfillment_status,
  cancelledAt: r.cancelled_at,
  test: r.test,
  sourceName: r.source_name,
});

export type OrderRowForFeedback = ScheduledOrderRow;

/**
 * Schedules the requests the shop's rules call for, for these orders as stored now.
 * `triggeredAt` per order: when its event happened (the delay counts from then).
 */
export async function scheduleFeedbackForOrders(db: Queryable, shop: string, triggeredAt: ReadonlyMap<string, Date>): Promise<{ scheduled: number }> {
  if (triggeredAt.size === 0) return { scheduled: 0 };
  const rules = await loadSchedulingRules(db, shop);
  if (rules.length === 0) return { scheduled: 0 };
  const { rows } = await db.query<ScheduledOrderRow>({
    name: "feedback-schedule-orders",
    text: `SELECT ${ORDER_COLUMNS} FROM orders o WHERE o.shop = $1 AND o.gid = ANY($2::text[])`,
    values: [shop, [...triggeredAt.keys()]],
  });
  const ruleIds: string[] = [];
  const orderGids: string[] = [];
  const customers: (string | null)[] = [];
  const triggers: Date[] = [];
  const sendAts: Date[] = [];
  for (const row of rows) {
    const order = toFeedbackOrder(row);
    const at = triggeredAt.get(order.gid)!;
    for (const { id, rule } of rules) {
      if (!shouldSchedule({ rule, order })) continue;
      ruleIds.push(id);
      orderGids.push(order.gid);
      customers.push(order.customerGid);
      triggers.push(at);
      sendAts.push(sendAtFor(rule, order, at));
    }
  }
  if (ruleIds.length === 0) return { scheduled: 0 };
  const result = await db.query({
    name: "feedback-schedule-insert",
    text: `INSERT INTO feedback_requests (shop, rule_id, order_gid, customer_gid, triggered_at, send_at)
           SELECT $1, r, o, c, t, s FROM unnest($2::bigint[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[]) AS x(r, o, c, t, s)
           ORDER BY r, o
           ON CONFLICT (shop, rule_id, order_gid) DO NOTHING`,
    values: [shop, ruleIds, orderGids, customers, triggers, sendAts],
  });
  const scheduled = result.rowCount ?? 0;
  if (scheduled > 0) logger.debug({ shop, scheduled }, "feedback.scheduled");
  return { scheduled };
}
