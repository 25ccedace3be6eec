// Which orders a batch of CRM events concerns, for the loyalty step that follows the apply
// (app/services/loyalty/apply-orders.server.ts). Pure.
import type { CrmEvent } from "../crm-events";

export const orderGidOf = (legacyId: string) => `gid://shopify/Order/${legacyId}`;

/** Orders whose events (order versions, refunds, refunds inside an order payload) are in the batch. */
export function loyaltyOrderGids(events: readonly CrmEvent[]): string[] {
  const gids = new Set<string>();
  for (const event of events) {
    if (event.kind === "order") gids.add(event.order.gid);
    else if (event.kind === "refund") gids.add(orderGidOf(event.refund.orderLegacyId));
  }
  return [...gids].sort();
}
