// One shop per batch (issue 11, item 3): a batch that fails rolls back every row it holds, so
// batches that mixed shops let one shop's poison row roll back (and hold up) other shops'
// events. A batch now takes only rows of one shop. Poison rows are orders a test-only trigger
// rejects, as in retries-replay.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { processInboxBatch, recordInboxFailure, stopContinuationBatches, type AppliedBatch } from "../../app/services/process-inbox-event.server";
import { closeQueues, getWebhookQueue } from "../../app/queues.server";
import { useIntegrationEnv } from "../support/env";
import { orderPayload } from "../support/factories";
import { customerRow, deliver, inboxRows, startInProcessWorker, waitUntil } from "../support/pipeline";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let worker: ReturnType<typeof startInProcessWorker> | undefined;

/** How long the slow poison row's statement runs before it fails. */
const SLOW_POISON_SECONDS = 2.5;

beforeAll(async () => {
  env = await useIntegrationEnv();
  await getPool().query(`
    CREATE FUNCTION test_poison_order() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.name = '#BROKEN' THEN RAISE EXCEPTION 'injected fault: orders table rejects %', NEW.gid; END IF;
      IF NEW.name = '#SLOW-BROKEN' THEN
        PERFORM pg_sleep(${SLOW_POISON_SECONDS});
        RAISE EXCEPTION 'injected fault after a slow statement: %', NEW.gid;
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER test_poison_order BEFORE INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION test_poison_order();`);
});

afterAll(async () => {
  await worker?.close();
  await stopContinuationBatches();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

const shopDomain = (name: string) => `${name}.myshopify.com`;

/** Delivers one orders/create to `shop` and returns its inbox id. */
async function deliverOrder(shop: string, orderId: number, customerId: number, name = "#1001"): Promise<string> {
  const webhookId = `${shop}-${orderId}`;
  const response = await deliver("orders/create", orderPayload({ id: BigInt(orderId), customer: { id: BigInt(customerId) }, totalPrice: "10.00", name }), { shop, webhookId });
  expect(response.status).toBe(200);
  return (await inboxRows({ shop, webhookId }))[0]!.id;
}

async function statusOf(ids: readonly string[]): Promise<Map<string, { status: string; attempts: number; last_error: string | null }>> {
  const { rows } = await getPool().query<{ id: string; status: string; attempts: number; last_error: string | null }>(
    `SELECT id, status::text AS status, attempts, last_error FROM webhook_events WHERE id = ANY($1::bigint[])`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, { status: r.status, attempts: r.attempts, last_error: r.last_error }]));
}

const shopsOf = (batch: { events: { shop: string }[] }) => [...new Set(batch.events.map((e) => e.shop))];

describe("one shop per batch", () => {
  it("a job's batch takes only rows of its own shop: shop A's poison row never rolls back shop B's rows", async () => {
    const [a, b] = [shopDomain("iso-a"), shopDomain("iso-b")];
    // Queued together, interleaved, the poison row oldest.
    const poison = await deliverOrder(a, 810_000, 81, "#BROKEN");
    const b1 = await deliverOrder(b, 820_001, 82);
    const a1 = await deliverOrder(a, 810_001, 81);
    const b2 = await deliverOrder(b, 820_002, 83);
    const b3 = await deliverOrder(b, 820_003, 82);
    const a2 = await deliverOrder(a, 810_002, 84);

    const batchB = await processInboxBatch(b1, { maxBatch: 10 });
    expect(batchB.batchError).toBeUndefined();
    expect(batchB.own.outcome).toBe("processed");
    expect(batchB.events.map((e) => e.inboxId).sort()).toEqual([b1, b2, b3].sort());
    const afterB = await statusOf([poison, a1, a2, b1, b2, b3]);
    for (const id of [b1, b2, b3]) expect(afterB.get(id)).toMatchObject({ status: "processed", attempts: 1 });
    for (const id of [poison, a1, a2]) expect(afterB.get(id)).toMatchObject({ status: "received", attempts: 0 });
    expect(await customerRow(b, "gid://shopify/Customer/82")).toMatchObject({ orders_count: 2 });

    // Shop A's own batch holds the poison row and fails: contained to shop A, its job applies its row alone.
    const batchA = await processInboxBatch(a1, { maxBatch: 10 });
    expect(String(batchA.batchError)).toMatch(/injected fault/);
    expect(batchA.own.outcome).toBe("processed");
    expect((await statusOf([a2])).get(a2)).toMatchObject({ status: "received", attempts: 0 });
    const failure = await processInboxBatch(poison, { maxBatch: 10 }).catch((error: unknown) => error);
    expect(String(failure)).toMatch(/injected fault/);
    await recordInboxFailure(poison, failure, true); // as the processor's last attempt does
    expect((await processInboxBatch(a2, { maxBatch: 10 })).own.outcome).toBe("processed");
  });

  it("continuation batches take the oldest waiting row's shop, one shop per batch", async () => {
    const [c, d] = [shopDomain("iso-c"), shopDomain("iso-d")];
    // Nothing else waiting (a row left over by the test above would be the oldest).
    await getPool().query(`UPDATE webhook_events SET status = 'dead' WHERE status IN ('received', 'failed')`);
    const cIds: string[] = [];
    const dIds: string[] = [];
    for (let i = 0; i < 13; i++) {
      cIds.push(await deliverOrder(c, 830_000 + i, 830 + (i % 3)));
      dIds.push(await deliverOrder(d, 840_000 + i, 840 + (i % 3)));
    }
    const reports: AppliedBatch[] = [];
    const own = await processInboxBatch(cIds[0]!, { maxBatch: 10, batchesInFlight: 2, continueWith: async (batch) => void reports.push(batch) });
    await waitUntil(async () => reports.length >= 2, { what: "two continuation batches", timeoutMs: 20_000 });
    await stopContinuationBatches();
    // C1..C10 (the job's, full), then the oldest waiting row's shop: D1..D10 (full), then C11..C13 (not full: it stops).
    expect([own, ...reports].map((batch) => [shopsOf(batch), batch.events.length])).toEqual([
      [[c], 10],
      [[d], 10],
      [[c], 3],
    ]);
    // The rest waits for its jobs.
    expect((await processInboxBatch(dIds[10]!, { maxBatch: 10 })).events.map((e) => e.inboxId).sort()).toEqual(dIds.slice(10).sort());
    for (const row of (await statusOf([...cIds, ...dIds])).values()) expect(row).toMatchObject({ status: "processed", attempts: 1 });
  });

  it("the claim reads only the rows it takes, whatever the statistics (25,000 rows of one shop waiting, never analysed)", async () => {
    const shop = shopDomain("iso-backlog");
    await getPool().query(
      `INSERT INTO webhook_events (shop, webhook_id, topic, api_version, payload, received_at)
       SELECT $1, 'backlog-' || g, 'orders/create', '2026-07', '{"note":"' || repeat('x', 1500) || '"}', now() - interval '1 hour' + g * interval '1 ms'
         FROM generate_series(1, 25000) g`,
      [shop],
    );
    const client = await getPool().connect();
    try {
      // Tuples this backend has read from the table (its not yet reported counts: they include
      // earlier transactions of this connection, so the claim's share is the difference).
      const tuplesRead = async () => {
        const { rows } = await client.query<{ fetched: string; seq: string }>(
          `SELECT idx_tup_fetch AS fetched, seq_tup_read AS seq FROM pg_stat_xact_user_tables WHERE relname = 'webhook_events'`,
        );
        return { fetched: Number(rows[0]?.fetched ?? 0), seq: Number(rows[0]?.seq ?? 0) };
      };
      await client.query("BEGIN");
      const before = await tuplesRead();
      const { rows } = await client.query<{ webhook_id: string }>(`SELECT webhook_id FROM crm_claim_waiting_inbox_rows($1, 0, 99)`, [shop]);
      expect(rows.map((r) => r.webhook_id)).toEqual(Array.from({ length: 99 }, (_, i) => `backlog-${i + 1}`));
      const after = await tuplesRead();
      // The 99 taken, not the shop's whole backlog read and sorted.
      expect(after.fetched - before.fetched).toBeLessThanOrEqual(99);
      expect(after.seq - before.seq).toBe(0);
    } finally {
      await client.query("ROLLBACK");
      client.release();
    }
    await getPool().query(`UPDATE webhook_events SET status = 'dead' WHERE shop = $1`, [shop]);
  });

  it("with the real worker, shop B's events apply at once while shop A's slow poison row is retried and dead-lettered", async () => {
    const [a, b] = [shopDomain("iso-slow-a"), shopDomain("iso-slow-b")];
    await getWebhookQueue().obliterate({ force: true }); // the jobs of the rows above
    const poison = await deliverOrder(a, 850_000, 85, "#SLOW-BROKEN");
    const bIds: string[] = [];
    const aIds: string[] = [];
    for (let i = 1; i <= 6; i++) {
      bIds.push(await deliverOrder(b, 860_000 + i, 86 + (i % 2)));
      if (i % 2 === 0) aIds.push(await deliverOrder(a, 850_000 + i, 88));
    }
    // The real job has 8 attempts with exponential backoff (minutes in all): this one gets 3 quick ones.
    const queue = getWebhookQueue();
    await (await queue.getJob(`wh-${poison}`))!.remove();
    await queue.add("apply", { inboxId: poison }, { jobId: `wh-${poison}`, attempts: 3, backoff: { type: "fixed", delay: 100 } });

    const started = Date.now();
    worker = startInProcessWorker();
    await waitUntil(async () => [...(await statusOf(bIds)).values()].every((r) => r.status === "processed"), { what: "shop B's events", intervalMs: 20 });
    const bDoneMs = Date.now() - started;
    // Before the poison row's first statement (SLOW_POISON_SECONDS) has even failed.
    expect(bDoneMs).toBeLessThan(1_500);
    expect(await customerRow(b, "gid://shopify/Customer/86")).toMatchObject({ orders_count: 3, total_spent_minor: "3000" });
    expect(await customerRow(b, "gid://shopify/Customer/87")).toMatchObject({ orders_count: 3, total_spent_minor: "3000" });

    const dead = await waitUntil(
      async () => {
        const row = (await statusOf([poison])).get(poison)!;
        return row.status === "dead" ? row : null;
      },
      { what: "shop A's poison row to be dead-lettered", timeoutMs: 40_000, intervalMs: 100 },
    );
    expect(dead).toMatchObject({ attempts: 3 });
    expect(dead.last_error).toMatch(/injected fault after a slow statement/);
    // Shop A's healthy rows were applied too (alone, or in batches without the poison row).
    for (const row of (await statusOf(aIds)).values()) expect(row).toMatchObject({ status: "processed" });
    expect(await customerRow(a, "gid://shopify/Customer/88")).toMatchObject({ orders_count: aIds.length });
  }, 60_000);
});
