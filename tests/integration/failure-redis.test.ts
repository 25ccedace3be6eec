// Redis unavailable during deliveries: the ingress still answers 200 (the inbox row is the
// durable record), and once Redis is back the sweeper enqueues what was missed and the
// worker applies it. The outage is a private redis-server this test stops and restarts.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb } from "../../app/db.server";
import { closeQueues } from "../../app/queues.server";
import { sweepInboxOnce } from "../../jobs/inbox-sweeper";
import { useIntegrationEnv } from "../support/env";
import { customerPayload, orderPayload } from "../support/factories";
import {
  customerRow,
  deliver,
  freePort,
  inboxRows,
  startInProcessWorker,
  startRedisServer,
  waitForInboxSettled,
  waitUntil,
  type ChildHandle,
} from "../support/pipeline";
import { TEST_SHOP } from "../support/webhooks";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let redis: ChildHandle | undefined;
let port: number;
let worker: ReturnType<typeof startInProcessWorker> | undefined;

async function stopRedis() {
  redis?.killGroup("SIGKILL");
  await redis?.exited;
  redis = undefined;
}

beforeAll(async () => {
  port = await freePort();
  redis = await startRedisServer(port);
  env = await useIntegrationEnv({ REDIS_URL: `redis://127.0.0.1:${port}/0` });
});

afterAll(async () => {
  await worker?.close();
  await closeQueues();
  await closeDb();
  await stopRedis();
  await env?.dropDatabase();
});

describe("Redis unavailable", () => {
  it("acknowledges and keeps deliveries while Redis is down; the sweeper enqueues them once it is back", async () => {
    const customer = { id: 951n, email: "outage@example.com" };
    // Up: one delivery goes the normal way (and the producer connection exists).
    expect((await deliver("customers/create", customerPayload(customer))).status).toBe(200);

    await stopRedis();
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const payloads = [
      orderPayload({ id: 9510n, customer, totalPrice: "10.00" }),
      orderPayload({ id: 9511n, customer, totalPrice: "20.00" }),
      orderPayload({ id: 9512n, customer, totalPrice: "30.05" }),
    ];
    for (const [index, payload] of payloads.entries()) {
      const started = Date.now();
      const response = await deliver("orders/create", payload, { webhookId: ids[index] });
      expect(response.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(5_000); // inside Shopify's 5 s window
    }
    for (const webhookId of ids) expect(await inboxRows({ webhookId })).toEqual([expect.objectContaining({ status: "received" })]);

    // Back: nothing is queued for those rows until the sweeper runs.
    redis = await startRedisServer(port);
    worker = startInProcessWorker();
    const swept = await waitUntil(
      async () => {
        try {
          return (await sweepInboxOnce({ olderThanMs: 0 })) || false;
        } catch {
          return false; // the producer is still reconnecting
        }
      },
      { timeoutMs: 20_000, what: "a successful sweep" },
    );
    // The three missed rows, plus the first one if its job died with the old Redis.
    expect(swept).toBeGreaterThanOrEqual(3);
    await waitForInboxSettled();

    expect((await inboxRows({ shop: TEST_SHOP })).map((row) => row.status)).toEqual(["processed", "processed", "processed", "processed"]);
    expect(await customerRow(TEST_SHOP, "gid://shopify/Customer/951")).toMatchObject({ email: "outage@example.com", orders_count: 3, total_spent_minor: "6005" });

    // A second sweep finds nothing left to do.
    expect(await sweepInboxOnce({ olderThanMs: 0 })).toBe(0);
  });

  let freshProcessAckMs = Number.POSITIVE_INFINITY;

  it("a process that starts while Redis is down stores the delivery first and applies it once Redis is back", async () => {
    await worker?.close();
    worker = undefined;
    await closeQueues(); // forget the producer: the next delivery creates it while Redis is down
    await stopRedis();
    const webhookId = randomUUID();
    const started = Date.now();
    const pending = deliver("orders/create", orderPayload({ id: 9513n, customer: { id: 951n }, totalPrice: "1.00" }), { webhookId }).then((response) => {
      freshProcessAckMs = Date.now() - started;
      return response;
    });
    // The row is durable before any answer.
    await waitUntil(async () => (await inboxRows({ webhookId })).length === 1, { timeoutMs: 5_000, what: "the inbox row" });
    expect(await inboxRows({ webhookId })).toEqual([expect.objectContaining({ status: "received" })]);
    await Promise.race([pending, new Promise((resolve) => setTimeout(resolve, Math.max(0, 5_000 - (Date.now() - started))))]);

    redis = await startRedisServer(port);
    expect((await pending).status).toBe(200);
    worker = startInProcessWorker();
    await waitUntil(async () => (await sweepInboxOnce({ olderThanMs: 0 }).then(() => true).catch(() => false)), { timeoutMs: 20_000, what: "a successful sweep" });
    await waitForInboxSettled();
    expect(await customerRow(TEST_SHOP, "gid://shopify/Customer/951")).toMatchObject({ orders_count: 4, total_spent_minor: "6105" });
  });

  // The enqueue is bounded in time (ENQUEUE_TIMEOUT_MS); the sweeper covers the rest.
  it("...and answers that delivery within Shopify's 5 s window", () => {
    expect(freshProcessAckMs).toBeLessThan(5_000);
  });
});
