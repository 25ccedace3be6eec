// Authentic deliveries the CRM cannot use (unknown topic, wrong shape) are acknowledged,
// kept, marked 'ignored' with the reason, never retried, and break nothing else.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { getEventStats } from "../../app/services/operations.server";
import { processInboxEvent } from "../../app/services/process-inbox-event.server";
import { getWebhookQueue } from "../../app/queues.server";
import { customerPayload, orderPayload, toBody } from "../support/factories";
import { customerRow, deliver, inboxRows, waitForInboxSettled, setUpPipelineHarness } from "../support/pipeline";
import { TEST_SHOP } from "../support/webhooks";

setUpPipelineHarness();

const order = orderPayload({ id: 3001n, customer: { id: 301n }, totalPrice: "10.00" });
const { admin_graphql_api_id: _dropped, ...orderWithoutGid } = order;

describe("unprocessable but authentic deliveries", () => {
  // A topic the app does not subscribe to cannot have come from a subscription: the ingress
  // records it as ignored at once (docs/decisions/027), without a job.
  it.each<[string, string, string, RegExp]>([
    ["unknown topic", "inventory_levels/update", toBody({ inventory_item_id: 1, available: 3 }), /unknown topic "inventory_levels\/update"/],
    ["unknown topic shaped like a prototype member", "constructor", toBody({ a: 1 }), /unknown topic "constructor"/],
  ])("%s: 200, kept, ignored at the ingress with a reason, no job", async (_name, topic, body, reason) => {
    const webhookId = randomUUID();
    const response = await deliver(topic, body, { webhookId });
    expect(response.status).toBe(200);
    await waitForInboxSettled();
    const [row] = await inboxRows({ webhookId });
    expect(row).toMatchObject({ topic, status: "ignored", attempts: 0, payload: body });
    expect(row!.last_error).toMatch(reason);
    expect(await getWebhookQueue().getJob(`wh-${row!.id}`)).toBeUndefined();
    expect(await processInboxEvent(row!.id)).toEqual({ outcome: "skipped", reason: "already done" });
  });

  it.each<[string, string, string, RegExp]>([
    ["order without admin_graphql_api_id", "orders/create", toBody(orderWithoutGid), /admin_graphql_api_id/],
    ["customer with a wrong-type gid", "customers/update", toBody({ ...customerPayload({ id: 302n }), admin_graphql_api_id: "gid://shopify/Order/302" }), /admin_graphql_api_id/],
    ["refund without order_id", "refunds/create", toBody({ id: 1, admin_graphql_api_id: "gid://shopify/Refund/1", created_at: "2026-01-01T00:00:00Z" }), /order_id/],
    ["order with a non-decimal price", "orders/updated", toBody({ ...order, total_price_set: null, total_price: "ten" }), /not a decimal amount/],
    ["tags event without tags", "customer.tags_added", toBody({ customerId: "gid://shopify/Customer/301", occurredAt: "2026-01-01T00:00:00Z" }), /tags/],
  ])("%s: 200, kept, ignored with a reason, not retried", async (_name, topic, body, reason) => {
    const webhookId = randomUUID();
    const response = await deliver(topic, body, { webhookId });
    expect(response.status).toBe(200);
    await waitForInboxSettled();
    const [row] = await inboxRows({ webhookId });
    expect(row).toMatchObject({ topic, status: "ignored", attempts: 1, payload: body });
    expect(row!.last_error).toMatch(reason);

    // Not retried: its job completed (no failure, no retry scheduled)...
    const job = await getWebhookQueue().getJob(`wh-${row!.id}`);
    expect(job?.attemptsMade ?? 0).toBeLessThanOrEqual(1);
    expect(job?.failedReason ?? null).toBeFalsy();
    expect(await job?.getState()).toBe("completed");
    // ...and running it again is a no-op.
    expect(await processInboxEvent(row!.id)).toEqual({ outcome: "skipped", reason: "already done" });
    expect((await inboxRows({ webhookId }))[0]).toMatchObject({ status: "ignored", attempts: 1 });
  });

  it("the pipeline keeps working around ignored events, and stats count them", async () => {
    const customer = { id: 303n, email: "still-works@example.com" };
    const responses = await Promise.all([
      deliver("orders/create", toBody({ nonsense: true })),
      deliver("orders/create", orderPayload({ id: 3031n, customer, totalPrice: "12.34" })),
      deliver("not/a-topic", "{}"),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    await waitForInboxSettled();
    expect(await customerRow(TEST_SHOP, "gid://shopify/Customer/303")).toMatchObject({ email: "still-works@example.com", orders_count: 1, total_spent_minor: "1234" });
    const stats = await getEventStats(TEST_SHOP);
    expect(stats).toMatchObject({ ignored: 9, processed: 1, pending: 0, failed: 0, dead: 0 });
    expect(stats.received).toBe(10);
  });
});
