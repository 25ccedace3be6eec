import { describe, expect, it } from "vitest";
import { receiveWebhook } from "../../app/services/webhook-ingress.server";
import { getPool } from "../../app/db.server";
import { customerPayload, orderPayload, refundPayload, toBody } from "../support/factories";
import { TEST_SHOP, webhookRequest } from "../support/webhooks";
import { customerRow, waitForInboxSettled, setUpPipelineHarness } from "../support/pipeline";

setUpPipelineHarness();

const send = async (topic: string, payload: unknown, extra: Partial<Parameters<typeof webhookRequest>[0]> = {}) =>
  receiveWebhook(webhookRequest({ topic, body: toBody(payload), ...extra }));

describe("webhook pipeline: orders, refunds, customers", () => {
  it("GIVEN an order and a partial refund WHEN both arrive THEN aggregates are exact", async () => {
    const customer = { id: 9007199254740993n, email: "big@example.com" }; // above 2^53
    const orderId = 9007199254741000n;
    expect((await send("customers/create", customerPayload(customer))).status).toBe(200);
    expect((await send("orders/create", orderPayload({ id: orderId, customer, totalPrice: "124.48" }))).status).toBe(200);
    expect((await send("refunds/create", refundPayload({ orderId, amount: "24.40" }))).status).toBe(200);
    await waitForInboxSettled();
    const row = await customerRow(TEST_SHOP, "gid://shopify/Customer/9007199254740993");
    expect(row).toMatchObject({ email: "big@example.com", orders_count: 1, total_spent_minor: "10008", refunded_minor: "2440" });
    const order = await getPool().query(`SELECT legacy_id, refunded_minor FROM orders WHERE gid = $1`, [`gid://shopify/Order/${orderId}`]);
    expect(order.rows[0]).toEqual({ legacy_id: "9007199254741000", refunded_minor: "2440" });
  });
});
