// The worker's batch coordination in one process (processInboxBatch): a job whose row another
// batch of the process holds waits for it in memory (no connection blocked on the row lock), and
// one whose row another process holds waits on the lock without taking a batch slot;
// at most `batchesInFlight` batches run at once; after a full batch the next one starts without
// waiting for a job (continuation), and a continuation that fails loses nothing.
// No BullMQ worker runs here: the test calls processInboxBatch as the jobs would.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { processInboxBatch, stopContinuationBatches, type AppliedBatch } from "../../app/services/process-inbox-event.server";
import { closeQueues } from "../../app/queues.server";
import { useIntegrationEnv } from "../support/env";
import { orderPayload } from "../support/factories";
import { deliver, inboxRows, waitUntil } from "../support/pipeline";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;

beforeAll(async () => {
  env = await useIntegrationEnv();
});

afterAll(async () => {
  await stopContinuationBatches();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

/** Delivers `count` orders (through the ingress: inbox rows, jobs left in Redis) and returns their inbox ids in order. */
async function deliverOrders(prefix: string, count: number, firstId: number, name = "#1001"): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const webhookId = `${prefix}-${i}`;
    const response = await deliver("orders/create", orderPayload({ id: BigInt(firstId + i), customer: { id: BigInt(firstId + (i % 7)) }, totalPrice: "10.00", name }), { webhookId });
    expect(response.status).toBe(200);
    ids.push((await inboxRows({ webhookId }))[0]!.id);
  }
  return ids;
}

async function statusOf(ids: readonly string[]): Promise<Map<string, { status: string; attempts: number }>> {
  const { rows } = await getPool().query<{ id: string; status: string; attempts: number }>(`SELECT id, status, attempts FROM webhook_events WHERE id = ANY($1::bigint[])`, [ids]);
  return new Map(rows.map((r) => [r.id, { status: r.status, attempts: r.attempts }]));
}

/** Makes the transaction that marks the order named `name` processed sleep before it commits. */
async function slowDownOrder(name: string, seconds: number): Promise<void> {
  await getPool().query(`
    CREATE OR REPLACE FUNCTION test_slow_order() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.name = '${name}' THEN PERFORM pg_sleep(${seconds}); END IF;
      RETURN NEW;
    END $$;
    DROP TRIGGER IF EXISTS test_slow_order ON orders;
    CREATE TRIGGER test_slow_order BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION test_slow_order();`);
}

async function sessionsWaitingOnLocks(): Promise<number> {
  const { rows } = await getPool().query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
  );
  return rows[0]!.n;
}

describe("batches in one worker process", () => {
  it("a job whose row a running batch holds waits for that batch without blocking a connection, then skips", async () => {
    const ids = await deliverOrders("hold", 5, 510_000, "#SLOW-HOLD");
    await slowDownOrder("#SLOW-HOLD", 0.6);
    const first = processInboxBatch(ids[0]!, { maxBatch: 10, batchesInFlight: 2 });
    await waitUntil(async () => (await getPool().query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'`)).rowCount, {
      what: "the first batch to be inside its transaction",
    });
    // Rows 1..4 were claimed by the first batch: their jobs wait in memory.
    const waiting = ids.slice(1).map((id) => processInboxBatch(id, { maxBatch: 10, batchesInFlight: 2 }));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await sessionsWaitingOnLocks()).toBe(0);
    const outcome = await first;
    expect(outcome.own.outcome).toBe("processed");
    expect(outcome.events.map((e) => e.inboxId).sort()).toEqual([...ids].sort());
    for (const result of await Promise.all(waiting)) expect(result.own).toEqual({ outcome: "skipped", reason: "already done" });
    for (const row of (await statusOf(ids)).values()) expect(row).toEqual({ status: "processed", attempts: 1 });
  });

  it("no more than batchesInFlight batches run at once: a row arriving meanwhile waits for the slot", async () => {
    const [a] = await deliverOrders("slot-a", 1, 520_000, "#SLOW-SLOT");
    await slowDownOrder("#SLOW-SLOT", 0.5);
    const startedAt = Date.now();
    const first = processInboxBatch(a!, { maxBatch: 10, batchesInFlight: 1 });
    await waitUntil(async () => (await getPool().query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'`)).rowCount, {
      what: "the first batch to be inside its transaction",
    });
    const [b] = await deliverOrders("slot-b", 1, 520_100); // not claimed by the first batch: it was locked after the claim
    let secondDoneAt = 0;
    const second = processInboxBatch(b!, { maxBatch: 10, batchesInFlight: 1 }).then((r) => ((secondDoneAt = Date.now()), r));
    const firstOutcome = await first;
    const firstDoneAt = Date.now();
    expect(firstOutcome.events.map((e) => e.inboxId)).toEqual([a]);
    const secondOutcome = await second;
    expect(secondOutcome.own.outcome).toBe("processed");
    expect(secondDoneAt).toBeGreaterThanOrEqual(firstDoneAt);
    expect(firstDoneAt - startedAt).toBeGreaterThanOrEqual(450);
  });

  it("a job whose row another process's transaction holds waits on the row lock without a batch slot, then applies the row", async () => {
    const [held] = await deliverOrders("held-elsewhere", 1, 525_000);
    const [other] = await deliverOrders("held-other", 1, 525_100);
    // Another worker process's batch, as far as this process can tell: a transaction of its own holding the row.
    const elsewhere = await getPool().connect();
    try {
      await elsewhere.query("BEGIN");
      await elsewhere.query(`SELECT 1 FROM webhook_events WHERE id = $1 FOR UPDATE`, [held]);
      const heldJob = processInboxBatch(held!, { maxBatch: 10, batchesInFlight: 1 });
      await waitUntil(async () => (await sessionsWaitingOnLocks()) === 1, { what: "the job to wait on the row lock" });
      // The only slot is free: the next job's batch runs (and leaves the held row alone).
      const otherOutcome = await processInboxBatch(other!, { maxBatch: 10, batchesInFlight: 1 });
      expect(otherOutcome.events.map((e) => e.inboxId)).toEqual([other]);
      expect((await statusOf([held!])).get(held!)).toEqual({ status: "received", attempts: 0 });
      // The holder ends without applying it (a rolled-back batch): the waiting job applies it.
      await elsewhere.query("ROLLBACK");
      const heldOutcome = await heldJob;
      expect(heldOutcome.own.outcome).toBe("processed");
      for (const row of (await statusOf([held!, other!])).values()) expect(row).toEqual({ status: "processed", attempts: 1 });
    } finally {
      await elsewhere.query("ROLLBACK").catch(() => undefined);
      elsewhere.release();
    }
  });

  it("after a full batch, continuation batches apply the backlog without jobs, each row once", async () => {
    await getPool().query(`DROP TRIGGER IF EXISTS test_slow_order ON orders`);
    const ids = await deliverOrders("backlog", 47, 530_000);
    const reports: AppliedBatch[] = [];
    const own = await processInboxBatch(ids[0]!, { maxBatch: 10, batchesInFlight: 2, continueWith: async (batch) => void reports.push(batch) });
    expect(own.events).toHaveLength(10);
    await waitUntil(async () => [...(await statusOf(ids)).values()].every((r) => r.status === "processed"), { what: "the backlog to be applied", timeoutMs: 20_000 });
    await stopContinuationBatches();
    // 10 (the job's batch) + 10 + 10 + 10 + 7: the last continuation was not full, so it stopped there.
    expect(reports.map((r) => r.events.length)).toEqual([10, 10, 10, 7]);
    const applied = [...own.events, ...reports.flatMap((r) => r.events)].map((e) => e.inboxId);
    expect(new Set(applied).size).toBe(applied.length);
    expect([...applied].sort()).toEqual([...ids].sort());
    for (const row of (await statusOf(ids)).values()) expect(row).toEqual({ status: "processed", attempts: 1 });
    // The jobs of those rows, when they run, skip without touching the database.
    for (const id of ids.slice(1)) expect((await processInboxBatch(id, { maxBatch: 10 })).own).toEqual({ outcome: "skipped", reason: "already done" });
  });

  it("a continuation batch that fails leaves its rows waiting for their own jobs, which apply them", async () => {
    await getPool().query(`
      CREATE OR REPLACE FUNCTION test_broken_order() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.name = '#BROKEN' THEN RAISE EXCEPTION 'injected fault: orders table rejects %', NEW.gid; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_broken_order BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION test_broken_order();`);
    const ids = await deliverOrders("cont-fail", 10, 540_000);
    const [broken] = await deliverOrders("cont-broken", 1, 540_100, "#BROKEN");
    const after = await deliverOrders("cont-after", 4, 540_200);
    const reports: AppliedBatch[] = [];
    const own = await processInboxBatch(ids[0]!, { maxBatch: 10, batchesInFlight: 2, continueWith: async (batch) => void reports.push(batch) });
    expect(own.events).toHaveLength(10);
    await stopContinuationBatches(); // the continuation ran (and failed) or is waited for here
    expect(reports).toEqual([]);
    const waiting = await statusOf([broken!, ...after]);
    for (const row of waiting.values()) expect(row).toEqual({ status: "received", attempts: 0 });
    // The jobs: each healthy row is applied (the broken one drops out of their batches and fails alone).
    for (const id of after) {
      const result = await processInboxBatch(id, { maxBatch: 10 });
      expect(["processed", "skipped"]).toContain(result.own.outcome);
    }
    for (const id of after) expect((await statusOf([id])).get(id)).toMatchObject({ status: "processed" });
    await expect(processInboxBatch(broken!, { maxBatch: 10 })).rejects.toThrow(/injected fault/);
  });
});
