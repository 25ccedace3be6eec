// Events about one order applied at the same time by two workers. The interleavings are
// forced with test-only triggers that pause a transaction at a chosen statement.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { processInboxEvent } from "../../app/services/process-inbox-event.server";
import { closeQueues } from "../../app/queues.server";
import { useIntegrationEnv } from "../support/env";
import { customerPayload, orderPayload, refundPayload, type CustomerSpec } from "../support/factories";
import { customerRow, deliver, inboxRows, orderRow } from "../support/pipeline";
import { TEST_SHOP } from "../support/webhooks";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;

beforeAll(async () => {
  // No worker: this file runs processInboxEvent itself, at chosen moments.
  env = await useIntegrationEnv();
  // The shop's first event creates its row, which would serialise everything after it.
  await deliver("customers/create", customerPayload({ id: 8001n }), { webhookId: "first-event" });
  await processInboxEvent(await inboxIdOf("first-event"));
});

afterAll(async () => {
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

afterEach(async () => {
  await getPool().query(`DROP TRIGGER IF EXISTS test_pause_commit ON webhook_events; DROP TRIGGER IF EXISTS test_pause_refund ON refunds`);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function inboxIdOf(webhookId: string) {
  const [row] = await inboxRows({ webhookId });
  return row!.id;
}

/** Pauses (inside its transaction) the worker that marks an inbox row of `topic` processed. */
async function pauseBeforeCommit(topic: string, seconds: number) {
  await getPool().query(`
    CREATE OR REPLACE FUNCTION test_pause_commit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.status = 'processed' AND NEW.topic = '${topic}' THEN PERFORM pg_sleep(${seconds}); END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER test_pause_commit BEFORE UPDATE ON webhook_events FOR EACH ROW EXECUTE FUNCTION test_pause_commit();`);
}

/** Pauses the worker that inserts a refund, after it has read the order. */
async function pauseRefundInsert(seconds: number) {
  await getPool().query(`
    CREATE OR REPLACE FUNCTION test_pause_refund() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_sleep(${seconds}); RETURN NEW; END $$;
    CREATE TRIGGER test_pause_refund BEFORE INSERT ON refunds FOR EACH ROW EXECUTE FUNCTION test_pause_refund();`);
}

describe("an order and its refund applied concurrently", () => {
  it("the refund counts even when it commits while the (new) order is still uncommitted", async () => {
    const customer: CustomerSpec = { id: 8101n };
    const orderId = 81010n;
    await deliver("orders/create", orderPayload({ id: orderId, customer, totalPrice: "100.00" }), { webhookId: "race-order" });
    await deliver("refunds/create", refundPayload({ orderId, amount: "20.00" }), { webhookId: "race-refund" });
    await pauseBeforeCommit("orders/create", 1);
    await pauseRefundInsert(0.3);

    // Worker A writes the order and then stalls before committing; worker B applies the refund meanwhile.
    const a = processInboxEvent(await inboxIdOf("race-order"));
    await sleep(250);
    const b = processInboxEvent(await inboxIdOf("race-refund"));
    const outcomes = await Promise.all([a, b]);
    expect(outcomes.map((o) => o.outcome)).toEqual(["processed", "processed"]);

    expect(await orderRow(TEST_SHOP, `gid://shopify/Order/${orderId}`)).toMatchObject({ refunded_minor: "2000" });
    expect(await customerRow(TEST_SHOP, `gid://shopify/Customer/${customer.id}`)).toMatchObject({ orders_count: 1, total_spent_minor: "8000", refunded_minor: "2000" });
  });

  it("a refund applied while its order moves to another customer lands on the new customer", async () => {
    const first: CustomerSpec = { id: 8201n };
    const second: CustomerSpec = { id: 8202n };
    const orderId = 82010n;
    await deliver("orders/create", orderPayload({ id: orderId, customer: first, totalPrice: "50.00" }), { webhookId: "move-create" });
    await processInboxEvent(await inboxIdOf("move-create"));
    await deliver("orders/updated", orderPayload({ id: orderId, customer: second, totalPrice: "50.00", updatedAt: "2026-01-15T10:00:00-05:00" }), { webhookId: "move-update" });
    await deliver("refunds/create", refundPayload({ orderId, amount: "5.00" }), { webhookId: "move-refund" });
    await pauseRefundInsert(1);

    // Worker B reads the order (still the first customer's) and stalls; worker A moves the order.
    const b = processInboxEvent(await inboxIdOf("move-refund"));
    await sleep(250);
    const a = processInboxEvent(await inboxIdOf("move-update"));
    expect((await Promise.all([a, b])).map((o) => o.outcome)).toEqual(["processed", "processed"]);

    expect(await customerRow(TEST_SHOP, `gid://shopify/Customer/${first.id}`)).toMatchObject({ orders_count: 0, total_spent_minor: "0", refunded_minor: "0" });
    expect(await customerRow(TEST_SHOP, `gid://shopify/Customer/${second.id}`)).toMatchObject({ orders_count: 1, total_spent_minor: "4500", refunded_minor: "500" });
  });
});
