// The ingress's checks of what the HMAC does not cover (docs/decisions/027): the topic
// header against the route, the shop domain header against the shop the body names, and
// the record of a delivery that fails them. Such a delivery is authentic (its body is
// signed) but not what its headers say; it is answered 200 so Shopify does not retry it,
// and stored as `ignored` with the reason, for operators, changing nothing else.
import { getIngressPool } from "../db.server";
import { payloadMismatch } from "../shopify/webhook-payload-checks";
import { routeTopicProblem } from "../shopify/webhook-routes";

/** Why this delivery must not be applied, or null. `payload` is the parsed body. */
export function deliveryMismatch({ path, topic, shop, payload }: { path: string; topic: string; shop: string; payload: unknown }): string | null {
  return routeTopicProblem({ path, topic }) ?? payloadMismatch({ topic, shop, payload });
}

export type IgnoredDelivery = {
  shop: string;
  webhookId: string;
  eventId: string | null;
  topic: string;
  apiVersion: string;
  triggeredAt: string | null;
  payload: string;
};

/**
 * Stores the delivery as already handled: status `ignored`, the reason in `last_error`,
 * no job. Deduplicated on (shop, webhook id) like every delivery. Returns the new row's
 * id, or undefined for a duplicate.
 */
export async function recordIgnoredDelivery(row: IgnoredDelivery, reason: string): Promise<string | undefined> {
  const { rows } = await getIngressPool().query<{ id: string }>({
    name: "crm-inbox-insert-ignored",
    text: `INSERT INTO webhook_events (shop, webhook_id, event_id, topic, api_version, triggered_at, payload, status, last_error, processed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'ignored', $8, now())
           ON CONFLICT (shop, webhook_id) DO NOTHING
           RETURNING id`,
    values: [row.shop, row.webhookId, row.eventId, row.topic, row.apiVersion, row.triggeredAt, row.payload, reason.slice(0, 2000)],
  });
  return rows[0]?.id;
}
