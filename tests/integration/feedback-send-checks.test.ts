// The scheduler's send-time checks against the database as it is when the request comes due:
// the rule's segment query (the segment compiler, evaluated now), refunds, the minimum total,
// product types, a missing address, the frequency cap, an unsubscribed address, a disabled rule.
import { describe, expect, it } from "vitest";
import { getPool, withTransaction } from "../../app/db.server";
import { setFeedbackRules } from "../../app/services/feedback/rules.server";
import { runFeedbackScheduler } from "../../app/services/feedback/scheduler.server";
import { suppressAddress } from "../../app/services/email/suppression.server";
import { orderPayload, productPayload, refundPayload } from "../support/factories";
import { deliverAndSettle, setUpPipelineHarness } from "../support/pipeline";
import { TEST_SHOP } from "../support/webhooks";

setUpPipelineHarness();

const db = () => getPool();
const customer = (id: bigint, email: string | null = `c${id}@checks.example`) => ({ id, email: email ?? undefined, firstName: `C${id}` });

async function statuses(): Promise<Record<string, string>> {
  const { rows } = await db().query<{ order_gid: string; rule: string; status: string; skip_reason: string | null }>(
    `SELECT r.order_gid, fr.name AS rule, r.status, r.skip_reason FROM feedback_requests r JOIN feedback_rules fr ON fr.id = r.rule_id WHERE r.shop = $1`,
    [TEST_SHOP],
  );
  return Object.fromEntries(rows.map((r) => [`${r.rule} ${r.order_gid.replace("gid://shopify/Order/", "")}`, r.skip_reason ? `skipped:${r.skip_reason}` : r.status]));
}

describe("send-time checks", () => {
  it("skips with the reason that applies when the request comes due, and sends the rest", async () => {
    await setFeedbackRules(TEST_SHOP, {
      rules: [
        { name: "big spenders", trigger: "order_paid", delayDays: 0, orders: { segment: "amount_spent >= 100" } },
        { name: "filtered", trigger: "order_paid", delayDays: 0, orders: { minimumTotal: "50.00", productTypes: { exclude: ["Sample"] } } },
      ],
    });
    await deliverAndSettle("products/create", productPayload({ id: 9501n, title: "Sample sachet", productType: "Sample" }));
    await deliverAndSettle("products/create", productPayload({ id: 9502n, title: "Full jar", productType: "Jar" }));
    const sample = [{ productId: 9501n, title: "Sample sachet", price: "60.00" }];
    const jar = [{ productId: 9502n, title: "Full jar", price: "150.00" }];
    // 75001: 150 spent, a jar: both rules send.
    await deliverAndSettle("orders/paid", orderPayload({ id: 75001n, customer: customer(7501n), totalPrice: "150.00", lines: jar }));
    // 75002: 20 spent: not in the segment, below the minimum.
    await deliverAndSettle("orders/paid", orderPayload({ id: 75002n, customer: customer(7502n), totalPrice: "20.00" }));
    // 75003: only a sample: nothing to rate for "filtered"; 60 spent: not a big spender.
    await deliverAndSettle("orders/paid", orderPayload({ id: 75003n, customer: customer(7503n), totalPrice: "60.00", lines: sample }));
    // 75004: fully refunded after payment.
    await deliverAndSettle("orders/paid", orderPayload({ id: 75004n, customer: customer(7504n), totalPrice: "150.00", lines: jar }));
    await deliverAndSettle("refunds/create", refundPayload({ orderId: 75004n, amount: "150.00" }));
    // 75005: the customer has no email address anywhere.
    const noEmail = { ...orderPayload({ id: 75005n, customer: customer(7505n), totalPrice: "150.00", lines: jar }), email: null, contact_email: null };
    noEmail.customer = { ...noEmail.customer!, email: null } as typeof noEmail.customer;
    await deliverAndSettle("orders/paid", noEmail);
    // 75006: the address unsubscribed.
    await deliverAndSettle("orders/paid", orderPayload({ id: 75006n, customer: customer(7506n), totalPrice: "150.00", lines: jar }));
    await withTransaction((client) => suppressAddress(client, { shop: TEST_SHOP, address: "c7506@checks.example", reason: "unsubscribed" }));

    const report = await runFeedbackScheduler();
    expect(report.failed).toBe(0);
    expect(await statuses()).toEqual({
      "big spenders 75001": "sent",
      // The frequency cap: one feedback request per customer per 30 days.
      "filtered 75001": "skipped:capped",
      "big spenders 75002": "skipped:not_in_segment",
      "filtered 75002": "skipped:below_minimum",
      "big spenders 75003": "skipped:not_in_segment",
      "filtered 75003": "skipped:no_products",
      "big spenders 75004": "skipped:refunded",
      "filtered 75004": "skipped:refunded",
      "big spenders 75005": "skipped:no_email",
      "filtered 75005": "skipped:no_email",
      "big spenders 75006": "skipped:unsubscribed",
      "filtered 75006": "skipped:unsubscribed",
    });
    const { rows } = await db().query(`SELECT to_address FROM email_outbox WHERE shop = $1 AND category = 'feedback_request'`, [TEST_SHOP]);
    expect(rows).toEqual([{ to_address: "c7501@checks.example" }]);
  });

  it("a rule disabled or removed before the send skips its scheduled requests", async () => {
    await setFeedbackRules(TEST_SHOP, {
      rules: [
        { name: "later", trigger: "order_paid", delayDays: 1 },
        { name: "to disable", trigger: "order_paid", delayDays: 1 },
      ],
    });
    await deliverAndSettle("orders/paid", orderPayload({ id: 75101n, customer: customer(7511n), totalPrice: "10.00" }));
    await setFeedbackRules(TEST_SHOP, { rules: [{ name: "to disable", trigger: "order_paid", delayDays: 1, enabled: false }] });
    await runFeedbackScheduler({ now: new Date(Date.now() + 2 * 86_400_000) });
    const all = await statuses();
    expect(all["later 75101"]).toBe("skipped:rule_removed");
    expect(all["to disable 75101"]).toBe("skipped:rule_disabled");
  });

  it("two schedulers running at once send each request once (SKIP LOCKED, keyed outbox)", async () => {
    await setFeedbackRules(TEST_SHOP, { rules: [{ name: "race", trigger: "order_paid", delayDays: 0 }] });
    for (let i = 0; i < 30; i++) {
      await deliverAndSettle("orders/paid", orderPayload({ id: 76000n + BigInt(i), customer: customer(7600n + BigInt(i)), totalPrice: "10.00" }));
    }
    const [a, b] = await Promise.all([runFeedbackScheduler({ batchSize: 4 }), runFeedbackScheduler({ batchSize: 4 })]);
    expect(a.sent + b.sent).toBe(30);
    expect(a.failed + b.failed).toBe(0);
    const { rows } = await db().query<{ n: number; keys: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT idempotency_key)::int AS keys FROM email_outbox WHERE shop = $1 AND idempotency_key LIKE 'feedback-request:%' AND to_address LIKE 'c76%'`,
      [TEST_SHOP],
    );
    expect(rows[0]).toEqual({ n: 30, keys: 30 });
  });

  it("reminders stop when the order is cancelled after the first send", async () => {
    await setFeedbackRules(TEST_SHOP, { rules: [{ name: "remind", trigger: "order_paid", delayDays: 0, reminders: { count: 3, spacingDays: 1 } }] });
    await deliverAndSettle("orders/paid", orderPayload({ id: 77001n, customer: customer(7701n), totalPrice: "10.00", updatedAt: new Date(Date.now() - 60_000).toISOString() }));
    const start = new Date();
    expect((await runFeedbackScheduler({ now: start })).sent).toBe(1);
    await deliverAndSettle("orders/cancelled", orderPayload({ id: 77001n, customer: customer(7701n), totalPrice: "10.00", cancelledAt: new Date().toISOString(), updatedAt: new Date().toISOString() }));
    const later = await runFeedbackScheduler({ now: new Date(start.getTime() + 86_400_000 + 60_000) });
    expect(later).toMatchObject({ reminded: 0, remindersStopped: 1 });
    const { rows } = await db().query(`SELECT status, reminders_sent, next_reminder_at FROM feedback_requests WHERE shop = $1 AND order_gid = 'gid://shopify/Order/77001'`, [TEST_SHOP]);
    expect(rows).toEqual([{ status: "sent", reminders_sent: 0, next_reminder_at: null }]);
    const { rows: reminders } = await db().query(`SELECT 1 FROM email_outbox WHERE shop = $1 AND category = 'feedback_reminder'`, [TEST_SHOP]);
    expect(reminders).toEqual([]);
  });
});
