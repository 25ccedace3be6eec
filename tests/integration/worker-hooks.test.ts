// What the worker does after applying CRM data, on a real database and Redis with the real
// ingress and worker: segment membership and loyalty, in the apply transaction (one delivered
// order enters a segment, earns at that segment's multiplier, and a duplicate writes nothing
// more; a failing loyalty step rolls the whole event back and the retry applies it), and the
// loyalty maintenance job (jobs/loyalty-maintenance.ts) on BullMQ: expiry once, bad job data
// unrecoverable, a failing shop fails the attempt after the other shops ran.
import { afterAll, describe, expect, it } from "vitest";
import type { Job } from "bullmq";
import { getPool } from "../../app/db.server";
import { getBalance, getExpiryOutlook, ledger } from "../../app/services/loyalty/balance.server";
import { saveProgram } from "../../app/services/loyalty/program.server";
import { createSegment } from "../../app/services/segments/segments.server";
import {
  getLoyaltyMaintenanceQueue,
  loyaltyMaintenanceProcessor,
  BIRTHDAY_BONUSES,
  MAINTAIN,
  RECOVER_REDEMPTIONS,
  requestLoyaltyMaintenance,
  startLoyaltyMaintenance,
  type LoyaltyMaintenanceJob,
} from "../../jobs/loyalty-maintenance";
import { closeTagSyncQueue, getTagSyncQueue } from "../../app/queues.server";
import { customerPayload, orderPayload, type CustomerSpec } from "../support/factories";
import { deliver, deliverAndSettle, inboxRows, orderRow, setUpPipelineHarness, waitUntil } from "../support/pipeline";

setUpPipelineHarness();

const DAY_MS = 24 * 60 * 60 * 1000;
const T0 = Math.floor(Date.now() / 1000) * 1000;
const ago = (days: number) => new Date(T0 - days * DAY_MS);
const iso = (date: Date) => date.toISOString();
const customerGid = (c: CustomerSpec) => `gid://shopify/Customer/${c.id}`;
const orderGid = (id: bigint) => `gid://shopify/Order/${id}`;

async function program(shop: string, settings: Record<string, unknown>, now: Date) {
  return saveProgram({ shop, settings: { earn: { pointsPerUnit: 1 }, pendingDays: 0, ...settings }, actor: "owner@example.com", now });
}

const send = (shop: string, topic: string, payload: unknown, webhookId?: string) => deliverAndSettle(topic, payload, { shop, ...(webhookId ? { webhookId } : {}) });

async function membershipChanges(shop: string) {
  const { rows } = await getPool().query(
    `SELECT segment_id::text AS segment_id, customer_gid, change::text AS change, cause::text AS cause, inbox_id::text AS inbox_id
       FROM segment_membership_changes WHERE shop = $1 ORDER BY id`,
    [shop],
  );
  return rows;
}

async function segmentMembers(segmentId: string) {
  const { rows } = await getPool().query<{ customer_gid: string }>(`SELECT customer_gid FROM segment_members WHERE segment_id = $1 ORDER BY customer_gid`, [segmentId]);
  return rows.map((r) => r.customer_gid);
}

async function ledgerCount(shop: string) {
  const { rows } = await getPool().query<{ n: string }>(`SELECT count(*) AS n FROM loyalty_ledger WHERE shop = $1`, [shop]);
  return Number(rows[0]!.n);
}

describe("the worker's apply transaction: segments, then loyalty", () => {
  it("one delivered order enters a segment and earns at its multiplier; a duplicate delivery writes nothing more", async () => {
    const shop = "worker-hooks.myshopify.com";
    const cu: CustomerSpec = { id: 6201n, email: "cu.hooks@example.com", createdAt: iso(ago(100)), updatedAt: iso(ago(100)) };
    const gid = customerGid(cu);
    // GIVEN a customer without orders, a segment of customers who spent $50 or more, and a
    // program that earns double for that segment's members.
    await send(shop, "customers/create", customerPayload(cu));
    const { segment } = await createSegment({ shop, name: "Big spenders", query: "amount_spent >= 50" });
    expect(await segmentMembers(segment.id)).toEqual([]);
    await program(shop, { segmentMultipliers: [{ segmentId: segment.id, multiplier: 2 }] }, ago(30));

    // WHEN one order of $60 is delivered and the worker applies it.
    const order = orderPayload({ id: 62001n, customer: cu, totalPrice: "60.00", createdAt: iso(ago(1)) });
    await send(shop, "orders/create", order, "hooks-order-1");
    const [inbox] = await inboxRows({ shop, webhookId: "hooks-order-1" });
    expect(inbox).toMatchObject({ status: "processed", attempts: 1 });

    // THEN the customer entered the segment, the change naming the inbox row, and the
    // segment's member count (applied last in the worker's transaction) says so,
    expect(await segmentMembers(segment.id)).toEqual([gid]);
    expect((await getPool().query(`SELECT member_count FROM segments WHERE id = $1`, [segment.id])).rows).toEqual([{ member_count: 1 }]);
    const entered = [{ segment_id: segment.id, customer_gid: gid, change: "entered", cause: "event", inbox_id: inbox!.id }];
    expect(await membershipChanges(shop)).toEqual(entered);
    // and the order earned, at the multiplier of the segment it had just entered (the segment
    // hook runs before loyalty, in the same transaction).
    const earned = [["earn", 120, `earn:${orderGid(62001n)}`]];
    const rows = await ledger(shop, gid);
    expect(rows.map((r) => [r.kind, r.points, r.idempotencyKey])).toEqual(earned);
    expect(rows[0]!.rule).toMatchObject({ multiplier: 2, multiplierSource: `segment:${segment.id}`, basisMinor: "6000" });
    expect(await getBalance(shop, gid)).toEqual({ balance: 120, pending: 0, tier: null });

    // A duplicate delivery (the same webhook id) is acknowledged and stored once; the same order
    // under a new webhook id is applied again and changes nothing.
    const again = await deliver("orders/create", order, { shop, webhookId: "hooks-order-1" });
    expect(again.status).toBe(200);
    await send(shop, "orders/create", order, "hooks-order-1-resent");
    expect((await inboxRows({ shop, webhookId: "hooks-order-1" })).length).toBe(1);
    expect((await inboxRows({ shop, webhookId: "hooks-order-1-resent" })).map((r) => r.status)).toEqual(["processed"]);
    expect(await membershipChanges(shop)).toEqual(entered);
    expect((await ledger(shop, gid)).map((r) => [r.kind, r.points, r.idempotencyKey])).toEqual(earned);
    expect(await segmentMembers(segment.id)).toEqual([gid]);
    expect((await getPool().query(`SELECT member_count FROM segments WHERE id = $1`, [segment.id])).rows).toEqual([{ member_count: 1 }]);
    // The membership change asked for one (delayed, deduplicated) tag sync reconcile of the shop.
    const reconciles = (await getTagSyncQueue().getDelayed()).filter((j) => j.data.kind === "reconcile" && "shop" in j.data && j.data.shop === shop);
    expect(reconciles).toHaveLength(1);
    await closeTagSyncQueue();
  });

  it("a failing loyalty step rolls the whole event back (CRM data, membership); the retry applies everything", async () => {
    const shop = "worker-hooks-rollback.myshopify.com";
    const dv: CustomerSpec = { id: 6301n, email: "dv.hooks@example.com" };
    const gid = customerGid(dv);
    const { segment } = await createSegment({ shop, name: "Buyers", query: "number_of_orders >= 1" });
    await program(shop, {}, ago(30));
    // A stored program version that no longer parses: the loyalty step throws.
    const { rows: saved } = await getPool().query<{ settings: unknown }>(`SELECT settings FROM loyalty_program_versions WHERE shop = $1`, [shop]);
    await getPool().query(`UPDATE loyalty_program_versions SET settings = '{"earn": {"pointsPerUnit": -1}}'::jsonb WHERE shop = $1`, [shop]);

    const response = await deliver("orders/create", orderPayload({ id: 63001n, customer: dv, totalPrice: "25.00", createdAt: iso(ago(1)) }), { shop, webhookId: "hooks-rollback-1" });
    expect(response.status).toBe(200);
    const failed = await waitUntil(async () => (await inboxRows({ shop, webhookId: "hooks-rollback-1" })).find((r) => r.status === "failed"), { what: "the first attempt to fail" });
    expect(failed.last_error).toMatch(/pointsPerUnit/);
    expect(await orderRow(shop, orderGid(63001n))).toBeNull();
    expect(await membershipChanges(shop)).toEqual([]);
    expect(await ledgerCount(shop)).toBe(0);

    // Repaired: the retry (BullMQ backoff) applies the order, the membership and the points together.
    await getPool().query(`UPDATE loyalty_program_versions SET settings = $2::jsonb WHERE shop = $1`, [shop, JSON.stringify(saved[0]!.settings)]);
    await waitUntil(async () => (await inboxRows({ shop, webhookId: "hooks-rollback-1" })).find((r) => r.status === "processed"), { what: "the retry", timeoutMs: 20_000 });
    expect(await orderRow(shop, orderGid(63001n))).not.toBeNull();
    expect(await membershipChanges(shop)).toEqual([{ segment_id: segment.id, customer_gid: gid, change: "entered", cause: "event", inbox_id: failed.id }]);
    expect((await ledger(shop, gid)).map((r) => [r.kind, r.points])).toEqual([["earn", 25]]);
  });
});

describe("the loyalty maintenance job", () => {
  const shop = "worker-hooks-expiry.myshopify.com";
  const ex: CustomerSpec = { id: 6401n, email: "ex.hooks@example.com" };
  let maintenance: Awaited<ReturnType<typeof startLoyaltyMaintenance>> | undefined;

  afterAll(async () => {
    await maintenance?.close();
  });

  it("the scheduled run expires points once; a run after it expires nothing", async () => {
    // GIVEN points earned 60 days ago under a program whose points expire after 30 days without activity.
    await program(shop, { expiry: { inactivityDays: 30 } }, ago(120));
    await send(shop, "orders/create", orderPayload({ id: 64001n, customer: ex, totalPrice: "80.00", createdAt: iso(ago(60)) }));
    expect(await getBalance(shop, customerGid(ex))).toMatchObject({ balance: 80 });
    expect(await getExpiryOutlook(shop, customerGid(ex))).toEqual({ lastActivityAt: ago(60), expiresAt: ago(30), points: 80 });

    // WHEN the worker's schedule is installed (an interval schedule runs its first job at once).
    maintenance = await startLoyaltyMaintenance({ intervalMs: 3_600_000, recoveryIntervalMs: 3_600_000 });
    const queue = getLoyaltyMaintenanceQueue();
    await waitUntil(async () => (await queue.getJobSchedulers()).find((s) => s.key === "loyalty-maintenance-every" && s.every === 3_600_000), { what: "job scheduler" });
    const scheduled = await waitUntil(async () => (await queue.getJobs(["completed"])).find((j) => j.name === MAINTAIN && j.data.reason === "schedule"), { what: "first scheduled run" });
    // THEN the points expired, once.
    expect(scheduled.returnvalue).toMatchObject({ expired: { customers: 1, points: 80 }, failed: [] });
    expect((scheduled.returnvalue as { shops: number }).shops).toBeGreaterThanOrEqual(1);
    expect(await getBalance(shop, customerGid(ex))).toMatchObject({ balance: 0 });

    const jobId = await requestLoyaltyMaintenance({ shop });
    await waitUntil(async () => (await queue.getJob(jobId!))?.finishedOn, { what: "on-demand run" });
    expect((await queue.getJob(jobId!))?.returnvalue).toEqual({ shops: 1, expired: { customers: 0, points: 0 }, tierChanges: 0, failed: [] });
    expect((await ledger(shop, customerGid(ex))).map((r) => [r.kind, r.points])).toEqual([
      ["earn", 80],
      ["expire", -80],
    ]);
  });

  it("the recovery schedule settles what it can and leaves a redemption Shopify cannot be asked about pending", async () => {
    // GIVEN a redemption left pending 20 minutes ago (its process died) in a shop without an
    // offline session: Shopify cannot be asked whether its code exists.
    const stuck = "worker-hooks-recovery.myshopify.com";
    const { rows } = await getPool().query<{ id: string }>(
      `INSERT INTO loyalty_redemptions (shop, customer_gid, reward_id, reward, points, starts_at, expires_at, request_key, created_at)
       VALUES ($1, 'gid://shopify/Customer/6601', 'r1', '{}'::jsonb, 100, now(), now() + interval '30 days', 'k1', now() - interval '20 minutes') RETURNING id`,
      [stuck],
    );
    const queue = getLoyaltyMaintenanceQueue();
    await waitUntil(async () => (await queue.getJobSchedulers()).find((s) => s.key === "loyalty-redemption-recovery-every"), { what: "recovery scheduler" });
    // WHEN a recovery run for that shop is processed
    const job = await queue.add(RECOVER_REDEMPTIONS, { shop: stuck, reason: "on-demand" }, { attempts: 1 });
    await waitUntil(async () => (await queue.getJob(job.id!))?.finishedOn, { what: "the recovery run" });
    // THEN it completed (a later run tries again), reporting the row as still pending, untouched.
    const done = await queue.getJob(job.id!);
    expect(done?.failedReason).toBeUndefined();
    expect(done?.returnvalue).toEqual({ checked: 1, issued: 0, failed: 0, stillPending: 1, voided: 0 });
    const { rows: after } = await getPool().query(`SELECT status FROM loyalty_redemptions WHERE id = $1`, [rows[0]!.id]);
    expect(after).toEqual([{ status: "pending" }]);
  });

  it("the birthday job fails (to be retried) for a shop whose customers cannot be read, naming it", async () => {
    const noSession = "worker-hooks-birthdays.myshopify.com";
    await program(noSession, { bonuses: { birthday: 25 } }, ago(30));
    const queue = getLoyaltyMaintenanceQueue();
    await waitUntil(async () => (await queue.getJobSchedulers()).find((s) => s.key === "loyalty-birthdays-every"), { what: "birthday scheduler" });
    const job = await queue.add(BIRTHDAY_BONUSES, { shop: noSession, reason: "on-demand" }, { attempts: 1 });
    await waitUntil(async () => (await queue.getJob(job.id!))?.finishedOn, { what: "the birthday run" });
    expect((await queue.getJob(job.id!))?.failedReason).toMatch(/birthday bonuses: 1 of 1 shop\(s\) failed: worker-hooks-birthdays\.myshopify\.com/);
  });

  it("bad job data is unrecoverable: one attempt, no retry, a clear reason", async () => {
    const queue = getLoyaltyMaintenanceQueue();
    const bad = await queue.add("maintain", { reason: "whenever" } as never, { attempts: 3 });
    await waitUntil(async () => (await queue.getJob(bad.id!))?.finishedOn, { what: "bad job to fail" });
    const failed = await queue.getJob(bad.id!);
    expect(failed?.failedReason).toMatch(/invalid loyalty maintenance job data/);
    expect(failed?.attemptsMade).toBe(1);
    await expect(requestLoyaltyMaintenance({ shop: "not-a-shop.example.com" })).rejects.toThrow(/myshopify/);
  });

  it("a shop that fails is reported, the other shops still run, and the attempt fails so BullMQ retries", async () => {
    const broken = "worker-hooks-broken.myshopify.com";
    const good = "worker-hooks-good.myshopify.com";
    const gd: CustomerSpec = { id: 6501n, email: "gd.hooks@example.com" };
    await program(good, { expiry: { inactivityDays: 30 } }, ago(120));
    await send(good, "orders/create", orderPayload({ id: 65001n, customer: gd, totalPrice: "40.00", createdAt: iso(ago(45)) }));
    await program(broken, {}, ago(120));
    await getPool().query(`UPDATE loyalty_program_versions SET settings = '{"tiers": {"levels": "many"}}'::jsonb WHERE shop = $1`, [broken]);
    try {
      // The processor itself: the good shop is maintained, then the attempt fails with a plain (retryable) error.
      const fakeJob = { id: "direct-1", data: { reason: "on-demand" }, opts: { attempts: 1 }, attemptsMade: 0 } as unknown as Job<LoyaltyMaintenanceJob>;
      const error = await loyaltyMaintenanceProcessor(fakeJob).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).name).toBe("Error");
      expect((error as Error).message).toMatch(/loyalty maintenance: 1 of \d+ shop\(s\) failed: worker-hooks-broken\.myshopify\.com: /);
      expect((await ledger(good, customerGid(gd))).map((r) => [r.kind, r.points])).toEqual([
        ["earn", 40],
        ["expire", -40],
      ]);

      // Through BullMQ: retried (not unrecoverable), and the retry writes nothing twice.
      const queue = getLoyaltyMaintenanceQueue();
      const job = await queue.add("maintain", { reason: "on-demand" }, { attempts: 2, backoff: { type: "fixed", delay: 50 } });
      await waitUntil(async () => (await queue.getJob(job.id!))?.finishedOn, { what: "the retried job to fail" });
      const done = await queue.getJob(job.id!);
      expect(done?.attemptsMade).toBe(2);
      expect(done?.failedReason).toMatch(/worker-hooks-broken\.myshopify\.com/);
      expect(await ledgerCount(good)).toBe(2);
    } finally {
      await getPool().query(`DELETE FROM loyalty_program_versions WHERE shop = $1`, [broken]);
      await getPool().query(`DELETE FROM loyalty_programs WHERE shop = $1`, [broken]);
    }
  });
});
