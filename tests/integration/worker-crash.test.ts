// The real worker process (`node --import tsx jobs/worker.ts`) hard-killed in the middle of a stream of a
// few hundred shuffled, partly duplicated deliveries, then restarted: every event is
// applied exactly once and every customer's aggregates equal a reference computed here
// from the payloads sent. And SIGTERM stops a busy worker cleanly with exit code 0.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { closeQueues, getWebhookQueue } from "../../app/queues.server";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { customerPayload, dataRequestPayload, orderPayload, refundPayload, type CustomerSpec, type RefundSpec } from "../support/factories";
import { NODE_TSX, deliver, spawnChild, waitForInboxSettled, waitUntil, type ChildHandle } from "../support/pipeline";
import { TEST_SHOP } from "../support/webhooks";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
const workers: ChildHandle[] = [];

beforeAll(async () => {
  env = await useIntegrationEnv();
});

afterAll(async () => {
  for (const w of workers) w.killGroup("SIGKILL");
  await Promise.all(workers.map((w) => w.exited));
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

/** Starts `node --import tsx jobs/worker.ts` and waits until it says it is consuming. */
async function startWorker(): Promise<ChildHandle> {
  const handle = spawnChild(NODE_TSX[0], [...NODE_TSX[1], "jobs/worker.ts"], childProcessEnv({ LOG_LEVEL: "info", WORKER_CONCURRENCY: "4", SWEEP_INTERVAL_MS: "1000" }));
  workers.push(handle);
  await waitUntil(async () => {
    if (handle.child.exitCode !== null) throw new Error(`worker exited early: ${handle.stderr()}`);
    return handle.stdout().includes('"worker.started"');
  }, { timeoutMs: 30_000, what: "worker.started" });
  return handle;
}

// ---------------------------------------------------------------------------
// A reproducible workload and its reference model

function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Delivery = { topic: string; payload: unknown; webhookId: string };
type OrderVersion = { updatedAt: string; totalCents: number; cancelled: boolean; test: boolean };
type Reference = Map<string, { firstName: string; orders: Map<bigint, OrderVersion[]>; refunds: Map<bigint, { orderId: bigint; cents: number }> }>;

const at = (day: number, minutes: number) => new Date(Date.UTC(2026, 1, day, 12, minutes)).toISOString();
const money = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;

function buildWorkload(seed: number, customers: number, firstId: bigint) {
  const random = prng(seed);
  const pick = (n: number) => Math.floor(random() * n);
  const deliveries: Delivery[] = [];
  const reference: Reference = new Map();
  let webhook = 0;
  const add = (topic: string, payload: unknown) => deliveries.push({ topic, payload, webhookId: `crash-${seed}-${++webhook}` });

  for (let i = 0; i < customers; i++) {
    const id = firstId + BigInt(i);
    const gid = `gid://shopify/Customer/${id}`;
    const ref = { firstName: `Final${i}`, orders: new Map<bigint, OrderVersion[]>(), refunds: new Map<bigint, { orderId: bigint; cents: number }>() };
    reference.set(gid, ref);
    const spec = (firstName: string, minutes: number): CustomerSpec => ({ id, firstName, updatedAt: at(1, minutes) });
    add("customers/create", customerPayload(spec(`First${i}`, 0)));
    add("customers/update", customerPayload(spec(`Final${i}`, 30)));
    // Not idempotent by nature (each one stores an export): shows exactly-once directly.
    add("customers/data_request", dataRequestPayload({ shop: TEST_SHOP, customerId: id }));
    const embedded = spec(`First${i}`, 0);

    const orderCount = 2 + pick(3);
    for (let j = 0; j < orderCount; j++) {
      const orderId = id * 100n + BigInt(j);
      const day = 2 + j;
      const createdAt = at(day, 0);
      const test = pick(10) === 0;
      const cancel = pick(6) === 0;
      const versions: OrderVersion[] = [];
      const send = (topic: string, v: OrderVersion, financialStatus: string, refunds: RefundSpec[] = []) => {
        add(topic, orderPayload({ id: orderId, customer: embedded, totalPrice: money(v.totalCents), createdAt, updatedAt: v.updatedAt, test: v.test, financialStatus, cancelledAt: v.cancelled ? v.updatedAt : null, refunds }));
      };
      const created: OrderVersion = { updatedAt: createdAt, totalCents: 1000 + pick(20000), cancelled: false, test };
      const paid: OrderVersion = { updatedAt: at(day, 60), totalCents: created.totalCents + pick(500), cancelled: false, test };
      send("orders/create", created, "pending");
      send("orders/updated", paid, "paid");
      versions.push(created, paid);
      // A stale update, older than the paid one, that must lose whenever it arrives.
      if (pick(3) === 0) send("orders/updated", { updatedAt: at(day, 30), totalCents: 1, cancelled: false, test }, "authorized");
      let last = paid;
      if (cancel) {
        last = { ...paid, updatedAt: at(day, 120), cancelled: true };
        send("orders/cancelled", last, "voided");
        versions.push(last);
      }
      // Refunds: as refunds/create, and some of them again inside a later orders/updated.
      const refunds: RefundSpec[] = [];
      for (let r = 0, n = pick(3); r < n; r++) {
        const refundId = orderId * 10n + BigInt(r);
        const cents = 1 + pick(Math.floor(last.totalCents / 4));
        const refund: RefundSpec = { id: refundId, orderId, amount: money(cents), createdAt: at(day, 200 + r) };
        refunds.push(refund);
        ref.refunds.set(refundId, { orderId, cents });
        if (pick(4) !== 0) add("refunds/create", refundPayload(refund));
      }
      if (refunds.length > 0) {
        const withRefunds = { ...last, updatedAt: at(day, 300) };
        send("orders/updated", withRefunds, "partially_refunded", refunds);
        versions.push(withRefunds);
      }
      ref.orders.set(orderId, versions);
    }
  }
  // Shopify redelivers some (same webhook id), and nothing arrives in order.
  const duplicates = deliveries.filter(() => pick(12) === 0).map((d) => ({ ...d }));
  const all = [...deliveries, ...duplicates];
  for (let i = all.length - 1; i > 0; i--) {
    const j = pick(i + 1);
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return { deliveries: all, uniqueDeliveries: deliveries.length, reference };
}

/** What the aggregates must be: the newest version of each order, its refunds counted once. */
function expectedAggregates(reference: Reference) {
  const expected = new Map<string, { first_name: string; orders_count: number; total_spent_minor: string; refunded_minor: string }>();
  for (const [gid, ref] of reference) {
    let count = 0;
    let spent = 0;
    let refunded = 0;
    for (const [orderId, versions] of ref.orders) {
      const final = versions.reduce((a, b) => (a.updatedAt >= b.updatedAt ? a : b));
      if (final.cancelled || final.test) continue;
      const orderRefunds = [...ref.refunds.values()].filter((r) => r.orderId === orderId).reduce((sum, r) => sum + r.cents, 0);
      count += 1;
      spent += final.totalCents - orderRefunds;
      refunded += orderRefunds;
    }
    expected.set(gid, { first_name: ref.firstName, orders_count: count, total_spent_minor: String(spent), refunded_minor: String(refunded) });
  }
  return expected;
}

async function actualAggregates(gids: string[]) {
  const { rows } = await getPool().query(
    `SELECT gid, first_name, orders_count, total_spent_minor, refunded_minor FROM customers WHERE shop = $1 AND gid = ANY($2) ORDER BY gid`,
    [TEST_SHOP, gids],
  );
  return new Map(rows.map(({ gid, ...rest }) => [gid as string, rest]));
}

/** Sends deliveries through the real ingress, `parallel` at a time; every one must get 200. */
async function send(deliveries: Delivery[], parallel = 8) {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < deliveries.length) {
        const d = deliveries[next++]!;
        const response = await deliver(d.topic, d.payload, { webhookId: d.webhookId });
        if (response.status !== 200) throw new Error(`${d.topic} ${d.webhookId}: HTTP ${response.status}`);
      }
    }),
  );
}

const statusCounts = async () => {
  const { rows } = await getPool().query<{ status: string; n: number }>(`SELECT status::text, count(*)::int AS n FROM webhook_events GROUP BY status`);
  return Object.fromEntries(rows.map((r) => [r.status, r.n])) as Record<string, number>;
};

describe("worker process", () => {
  it("killed with SIGKILL mid-stream and restarted: every event applied exactly once, aggregates exact", async () => {
    const { deliveries, uniqueDeliveries, reference } = buildWorkload(20261123, 36, 600_000n);
    expect(uniqueDeliveries).toBeGreaterThan(250);
    const expected = expectedAggregates(reference);

    let worker = await startWorker();
    const firstPart = Math.floor(deliveries.length * 0.6);
    await send(deliveries.slice(0, firstPart));
    // Let it get well into the backlog, then pull the plug.
    await waitUntil(async () => ((await statusCounts()).processed ?? 0) >= Math.floor(uniqueDeliveries / 4), { timeoutMs: 60_000, what: "a quarter processed" });
    worker.killGroup("SIGKILL");
    expect((await worker.exited).signal).toBe("SIGKILL");
    const abandoned = await getWebhookQueue().getActiveCount();
    const processedAtKill = (await statusCounts()).processed ?? 0;
    expect(abandoned).toBeGreaterThan(0); // it really died holding jobs
    expect(processedAtKill).toBeLessThan(uniqueDeliveries);

    // The rest of the stream arrives while no worker runs.
    await send(deliveries.slice(firstPart));
    worker = await startWorker();
    // Abandoned jobs come back once their 30 s locks expire (BullMQ stalled-job check).
    await waitForInboxSettled(120_000);

    const counts = await statusCounts();
    expect(counts).toEqual({ processed: uniqueDeliveries });
    const { rows: attempts } = await getPool().query(`SELECT count(*)::int AS n FROM webhook_events WHERE processed_at IS NULL OR last_error IS NOT NULL`);
    expect(attempts[0]).toEqual({ n: 0 });

    const actual = await actualAggregates([...expected.keys()]);
    const mismatches = [...expected].filter(([gid, want]) => JSON.stringify(actual.get(gid)) !== JSON.stringify(want));
    expect(mismatches.map(([gid, want]) => ({ gid, want, got: actual.get(gid) }))).toEqual([]);

    const refundCount = [...reference.values()].reduce((n, r) => n + r.refunds.size, 0);
    const orderCount = [...reference.values()].reduce((n, r) => n + r.orders.size, 0);
    const { rows: db } = await getPool().query(
      `SELECT (SELECT count(*)::int FROM refunds WHERE shop = $1) AS refunds, (SELECT count(*)::int FROM orders WHERE shop = $1) AS orders,
              (SELECT count(*)::int FROM customers WHERE shop = $1) AS customers,
              (SELECT count(*)::int FROM data_exports WHERE shop = $1) AS exports,
              (SELECT count(DISTINCT customer_gid)::int FROM data_exports WHERE shop = $1) AS exported_customers,
              (SELECT count(*)::int FROM audit_log WHERE shop = $1 AND action = 'customer.data_requested') AS audits`,
      [TEST_SHOP],
    );
    // One export (and one audit entry) per data request: none lost, none doubled by the crash.
    expect(db[0]).toEqual({ refunds: refundCount, orders: orderCount, customers: reference.size, exports: reference.size, exported_customers: reference.size, audits: reference.size });

    worker.child.kill("SIGTERM");
    expect((await worker.exited).code).toBe(0);
  }, 240_000);

  it("SIGTERM while busy: finishes its active jobs, leaves the rest queued, exits 0", async () => {
    const { deliveries, uniqueDeliveries, reference } = buildWorkload(7, 12, 700_000n);
    const before = (await statusCounts()).processed ?? 0;
    // Jobs the SIGKILLed worker above held stay 'active' in Redis until a stalled-job check
    // (30 s) returns them; their rows were applied meanwhile by batches of other jobs.
    const stalledBefore = new Set((await getWebhookQueue().getJobs(["active"])).map((job) => job.id));
    const worker = await startWorker();
    await send(deliveries);
    await waitUntil(async () => ((await statusCounts()).processed ?? 0) >= before + 10, { timeoutMs: 60_000, what: "some processed" });

    worker.child.kill("SIGTERM"); // what a process manager sends to the process it started
    const exit = await Promise.race([worker.exited, new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 20_000))]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(worker.stdout()).toContain('"worker.stopped"');
    expect(worker.stderr()).toBe("");
    // Nothing was cut off: no job left active, no event failed.
    const activeNow = (await getWebhookQueue().getJobs(["active"])).map((job) => job.id);
    expect(activeNow.filter((id) => !stalledBefore.has(id))).toEqual([]);
    const counts = await statusCounts();
    expect(counts.failed ?? 0).toBe(0);
    expect(counts.dead ?? 0).toBe(0);

    // What it did not get to is picked up by the next worker.
    const next = await startWorker();
    await waitForInboxSettled(60_000);
    expect((await statusCounts()).processed).toBe(before + uniqueDeliveries);
    const expected = expectedAggregates(reference);
    const actual = await actualAggregates([...expected.keys()]);
    expect(Object.fromEntries(actual)).toEqual(Object.fromEntries(expected));
    next.child.kill("SIGTERM");
    expect((await next.exited).code).toBe(0);
  }, 120_000);
});
