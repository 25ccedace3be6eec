// A failing processor: BullMQ retries it; a transient fault heals by itself; after the
// last attempt the inbox row is 'dead' with its reason, and `crm events replay` re-runs
// it to 'processed'. Faults are injected with test-only triggers in this file's database.
import { UnrecoverableError, Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { getEventStats } from "../../app/services/operations.server";
import { replayEvents } from "../../app/services/event-replay.server";
import { createRedis } from "../../app/redis.server";
import { sweepInboxOnce } from "../../jobs/inbox-sweeper";
import { WEBHOOK_QUEUE, closeQueues, getWebhookQueue } from "../../app/queues.server";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { orderPayload } from "../support/factories";
import { customerRow, deliver, inboxRows, runCli, startInProcessWorker, waitForInboxSettled, waitUntil } from "../support/pipeline";
import { TEST_SHOP } from "../support/webhooks";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let worker: ReturnType<typeof startInProcessWorker>;

beforeAll(async () => {
  env = await useIntegrationEnv();
  worker = startInProcessWorker();
  await getPool().query(`
    CREATE SEQUENCE test_flaky_attempts;
    CREATE FUNCTION test_inject_fault() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      -- Always fails for this order name: a bug or an outage that outlasts every retry.
      IF NEW.name = '#BROKEN' THEN RAISE EXCEPTION 'injected fault: orders table rejects %', NEW.gid; END IF;
      -- Fails twice, then works (a sequence is not rolled back with the transaction).
      IF NEW.name = '#FLAKY' AND nextval('test_flaky_attempts') <= 2 THEN RAISE EXCEPTION 'injected transient fault'; END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER test_inject_fault BEFORE INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION test_inject_fault();`);
});

afterAll(async () => {
  await worker?.close();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

describe("processor failures", () => {
  it("a transient fault is retried with backoff and then applied once", async () => {
    const customer = { id: 2101n };
    expect((await deliver("orders/create", orderPayload({ id: 21010n, customer, totalPrice: "12.00", name: "#FLAKY" }), { webhookId: "flaky" })).status).toBe(200);
    const seen = new Set<string>();
    await waitUntil(
      async () => {
        const [row] = await inboxRows({ webhookId: "flaky" });
        seen.add(row!.status);
        return row!.status === "processed";
      },
      { timeoutMs: 30_000, intervalMs: 20, what: "the flaky event to be processed" },
    );
    expect(seen.has("failed")).toBe(true);
    const [row] = await inboxRows({ webhookId: "flaky" });
    expect(row).toMatchObject({ status: "processed", attempts: 3, last_error: null });
    const job = await getWebhookQueue().getJob(`wh-${row!.id}`);
    expect(job?.attemptsMade).toBe(3); // two failed attempts, then the one that completed
    expect(await customerRow(TEST_SHOP, "gid://shopify/Customer/2101")).toMatchObject({ orders_count: 1, total_spent_minor: "1200" });
  });

  it("after the last attempt the event is dead with its reason; replay re-runs it to processed", async () => {
    const customer = { id: 2102n };
    // A healthy order of the same customer, applied normally.
    expect((await deliver("orders/create", orderPayload({ id: 21020n, customer, totalPrice: "5.00" }))).status).toBe(200);
    await waitForInboxSettled();

    // The real job has 8 attempts with exponential backoff (minutes in all); this one is
    // re-added with the same id and 3 quick attempts, run by the same processor.
    await worker.close(); // no worker may take the job before it is swapped
    expect((await deliver("orders/create", orderPayload({ id: 21021n, customer, totalPrice: "7.50", name: "#BROKEN" }), { webhookId: "broken" })).status).toBe(200);
    const [stored] = await inboxRows({ webhookId: "broken" });
    expect(stored).toMatchObject({ status: "received", attempts: 0 });
    const queue = getWebhookQueue();
    const original = await queue.getJob(`wh-${stored!.id}`);
    expect(await original?.getState()).toBe("waiting");
    await original!.remove();
    await queue.add("apply", { inboxId: stored!.id }, { jobId: `wh-${stored!.id}`, attempts: 3, backoff: { type: "fixed", delay: 200 } });
    worker = startInProcessWorker();

    const dead = await waitUntil(
      async () => {
        const [row] = await inboxRows({ webhookId: "broken" });
        return row!.status === "dead" ? row : null;
      },
      { timeoutMs: 30_000, what: "the event to be dead-lettered" },
    );
    expect(dead).toMatchObject({ status: "dead", attempts: 3 });
    expect(dead.last_error).toContain("injected fault: orders table rejects gid://shopify/Order/21021");
    const job = await queue.getJob(`wh-${stored!.id}`);
    expect(await job?.getState()).toBe("failed");
    expect(job?.attemptsMade).toBe(3);
    // Nothing of the failed event leaked into the model.
    expect(await customerRow(TEST_SHOP, "gid://shopify/Customer/2102")).toMatchObject({ orders_count: 1, total_spent_minor: "500" });
    expect(await getEventStats(TEST_SHOP)).toMatchObject({ dead: 1, pending: 0 });

    // The fault is repaired; the operator replays the dead event from the CLI.
    await getPool().query(`DROP TRIGGER test_inject_fault ON orders`);
    const replay = await runCli(["events", "replay", "--shop", TEST_SHOP, "--status", "dead"], childProcessEnv());
    expect(replay.stderr).toBe("");
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.stdout)).toEqual({ replayed: 1, ids: [stored!.id], enqueued: true });
    await waitForInboxSettled();

    const [replayed] = await inboxRows({ webhookId: "broken" });
    expect(replayed).toMatchObject({ status: "processed", replays: 1, last_error: null });
    expect(await customerRow(TEST_SHOP, "gid://shopify/Customer/2102")).toMatchObject({ orders_count: 2, total_spent_minor: "1250" });
    expect(await getEventStats(TEST_SHOP)).toMatchObject({ dead: 0, pending: 0, processed: 3 });

    // Replaying again finds nothing.
    expect(await replayEvents({ shop: TEST_SHOP, status: "dead" })).toMatchObject({ replayed: 0 });
  });

  it("a job BullMQ fails on its own (a worker died on it twice) is dead-lettered by the sweeper, not left pending forever", async () => {
    const customer = { id: 2103n };
    await worker.close();
    expect((await deliver("orders/create", orderPayload({ id: 21030n, customer, totalPrice: "3.00" }), { webhookId: "stalled" })).status).toBe(200);
    const [stored] = await inboxRows({ webhookId: "stalled" });

    // What BullMQ's stalled-job check does to a job whose worker died on it more than
    // maxStalledCount times: it fails the job without our processor ever running.
    const connection = createRedis("worker");
    const taker = new Worker(WEBHOOK_QUEUE, null, { connection });
    const job = await taker.getNextJob("test-token");
    expect(job?.id).toBe(`wh-${stored!.id}`);
    await job!.moveToFailed(new UnrecoverableError("job stalled more than allowable limit"), "test-token");
    await taker.close();
    connection.disconnect();
    expect(await getWebhookQueue().getJobState(`wh-${stored!.id}`)).toBe("failed");
    expect((await inboxRows({ webhookId: "stalled" }))[0]).toMatchObject({ status: "received" });

    await sweepInboxOnce({ olderThanMs: 0 });
    const [swept] = await inboxRows({ webhookId: "stalled" });
    expect(swept).toMatchObject({ status: "dead" });
    expect(swept!.last_error).toContain("job stalled more than allowable limit");
    expect(await getEventStats(TEST_SHOP)).toMatchObject({ dead: 1, pending: 0 });

    // Replayable like any dead event.
    worker = startInProcessWorker();
    expect(await replayEvents({ shop: TEST_SHOP, status: "dead" })).toMatchObject({ replayed: 1, enqueued: true });
    await waitForInboxSettled();
    expect((await inboxRows({ webhookId: "stalled" }))[0]).toMatchObject({ status: "processed", replays: 1 });
    expect(await customerRow(TEST_SHOP, "gid://shopify/Customer/2103")).toMatchObject({ orders_count: 1, total_spent_minor: "300" });
  });
});
