// Stored segment membership on a real database: definitions, entries and exits with their
// cause, exact recompute deltas, the worker's hook, the locking protocol under concurrency,
// and tenant isolation.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closeDb, getPool, withTransaction } from "../../app/db.server";
import { closeQueues } from "../../app/queues.server";
import {
  SegmentServiceError,
  createSegment,
  deleteSegment,
  getSegment,
  listSegmentMembers,
  listSegments,
  previewAll,
  previewSegment,
  recomputeSegment,
  refreshRelativeSegments,
  segmentChangeSeries,
  updateSegment,
} from "../../app/services/segments/segments.server";
import { applySegmentCountDeltas } from "../../app/services/segments/membership.server";
import { reevaluateSegmentsForCustomers } from "../../app/services/segments/reevaluate.server";
import { useIntegrationEnv } from "../support/env";
import { waitUntil } from "../support/pipeline";
import { closeSegmentRefreshQueue, getSegmentRefreshQueue, requestSegmentRefresh, startSegmentRefresh } from "../../jobs/segment-refresh";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;

const SHOP = "segments-a.myshopify.com";
const OTHER = "segments-b.myshopify.com";
const EMPTY = "segments-none.myshopify.com";
const NOW = new Date("2026-11-20T12:00:00Z");
const DAY = 24 * 3600 * 1000;

const gid = (n: number) => `gid://shopify/Customer/${n}`;

type CustomerSeed = {
  shop?: string;
  n: number;
  spentMinor?: number;
  orders?: number;
  tags?: string[];
  lastOrderAt?: Date | null;
  email?: string;
  deleted?: boolean;
  redacted?: boolean;
};

async function seedCustomers(customers: CustomerSeed[]): Promise<void> {
  for (const c of customers) {
    await getPool().query(
      `INSERT INTO customers (shop, gid, email, first_name, tags, total_spent_minor, orders_count, aov_minor, last_order_at, first_order_at,
                              shopify_created_at, deleted_at, redacted_at)
       VALUES ($1, $2, $3, $4, $5, $6::bigint, $7::int, CASE WHEN $7::int > 0 THEN $6::bigint / $7::int ELSE 0 END, $8, $8, $9, $10, $11)`,
      [
        c.shop ?? SHOP,
        gid(c.n),
        c.email ?? `c${c.n}@example.com`,
        `C${c.n}`,
        c.tags ?? [],
        c.spentMinor ?? 0,
        c.orders ?? (c.spentMinor ? 1 : 0),
        c.lastOrderAt ?? null,
        new Date("2025-01-01T00:00:00Z"),
        c.deleted ? NOW : null,
        c.redacted ? NOW : null,
      ],
    );
  }
}

/** Changes customers' spend without telling segments (drift a recompute must find). */
async function setSpent(gids: string[], spentMinor: number) {
  await getPool().query(`UPDATE customers SET total_spent_minor = $3, orders_count = GREATEST(orders_count, 1) WHERE shop = $1 AND gid = ANY($2)`, [SHOP, gids, spentMinor]);
}

async function members(segmentId: string): Promise<string[]> {
  const { rows } = await getPool().query<{ customer_gid: string }>(`SELECT customer_gid FROM segment_members WHERE segment_id = $1 ORDER BY customer_gid`, [segmentId]);
  return rows.map((r) => r.customer_gid);
}

async function matching(shop: string, predicate: string): Promise<string[]> {
  const { rows } = await getPool().query<{ gid: string }>(
    `SELECT gid FROM customers WHERE shop = $1 AND deleted_at IS NULL AND redacted_at IS NULL AND (${predicate}) ORDER BY gid`,
    [shop],
  );
  return rows.map((r) => r.gid);
}

type HistoryRow = { customer_gid: string; change: string; cause: string; inbox_id: string | null };
async function history(segmentId: string): Promise<HistoryRow[]> {
  const { rows } = await getPool().query<HistoryRow>(
    `SELECT customer_gid, change::text, cause::text, inbox_id FROM segment_membership_changes WHERE segment_id = $1 ORDER BY id`,
    [segmentId],
  );
  return rows;
}

const byCustomer = (rows: HistoryRow[]) => [...rows].sort((a, b) => a.customer_gid.localeCompare(b.customer_gid) || a.change.localeCompare(b.change));

async function memberCount(segmentId: string): Promise<{ stored: number; actual: number }> {
  const { rows } = await getPool().query<{ stored: number; actual: number }>(
    `SELECT member_count AS stored, (SELECT count(*)::int FROM segment_members WHERE segment_id = $1) AS actual FROM segments WHERE id = $1`,
    [segmentId],
  );
  return rows[0]!;
}

/** Replaying the history of every customer must give the stored membership. */
async function expectHistoryConsistent(segmentId: string): Promise<void> {
  const state = new Map<string, boolean>();
  for (const row of await history(segmentId)) {
    const was = state.get(row.customer_gid) ?? false;
    expect(was, `${row.customer_gid} ${row.change} twice in a row`).toBe(row.change === "exited");
    state.set(row.customer_gid, row.change === "entered");
  }
  const replayed = [...state].filter(([, inside]) => inside).map(([g]) => g).sort();
  expect(replayed).toEqual(await members(segmentId));
}

/**
 * What the webhook worker does: change customers and call the hook in one transaction, with
 * the member counts deferred to the end of the transaction (process-inbox-event.server.ts).
 */
async function applyEvent(gids: string[], spentMinor: number, inboxId: string | null = null) {
  return withTransaction(async (db) => {
    await db.query(`UPDATE customers SET total_spent_minor = $3, orders_count = GREATEST(orders_count, 1) WHERE shop = $1 AND gid = ANY($2)`, [SHOP, gids, spentMinor]);
    const result = await reevaluateSegmentsForCustomers(db, SHOP, gids, { kind: "event", inboxId }, { now: NOW, deferCounts: true });
    await db.query(`SELECT pg_sleep(0.002)`); // the rest of the worker's transaction (loyalty)
    await applySegmentCountDeltas(db, result.countDeltas ?? []);
    return { entered: result.entered, exited: result.exited };
  });
}

async function resetSegments() {
  await getPool().query(`DELETE FROM segments; DELETE FROM customers; DELETE FROM segment_shop_versions`);
}

beforeAll(async () => {
  env = await useIntegrationEnv();
});

afterAll(async () => {
  await closeSegmentRefreshQueue();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

describe("segment definitions", () => {
  beforeEach(async () => {
    await resetSegments();
    await seedCustomers([
      { n: 1, spentMinor: 50_00 },
      { n: 2, spentMinor: 150_00, tags: ["vip"] },
      { n: 3, spentMinor: 250_00 },
      { n: 4, spentMinor: 900_00, deleted: true },
      { n: 5, spentMinor: 900_00, redacted: true },
      { n: 6 },
      // Another shop, same spend: never a member of SHOP's segments.
      { shop: OTHER, n: 2, spentMinor: 150_00 },
      { shop: OTHER, n: 7, spentMinor: 999_00 },
    ]);
  });

  it("rejects an invalid query with positioned errors and stores nothing", async () => {
    const attempt = createSegment({ shop: SHOP, name: "Typo", query: "amount_spend > 100", now: NOW });
    await expect(attempt).rejects.toBeInstanceOf(SegmentServiceError);
    const error = (await attempt.catch((e: unknown) => e)) as SegmentServiceError;
    expect(error.kind).toBe("invalid");
    expect(error.errors).toEqual([expect.objectContaining({ line: 1, column: 1, message: expect.stringContaining("did you mean `amount_spent`") })]);
    const typeError = (await createSegment({ shop: SHOP, name: "Wrong", query: "amount_spent > 1 AND\n  last_order_date = 5", now: NOW }).catch((e: unknown) => e)) as SegmentServiceError;
    expect(typeError.errors[0]).toMatchObject({ line: 2, column: 21 });
    const syntax = (await createSegment({ shop: SHOP, name: "Syntax", query: "amount_spent >", now: NOW }).catch((e: unknown) => e)) as SegmentServiceError;
    expect(syntax.kind).toBe("invalid");
    expect(syntax.errors[0]).toMatchObject({ line: 1 });
    expect((await getPool().query(`SELECT count(*)::int AS n FROM segments`)).rows[0].n).toBe(0);
    expect((await getPool().query(`SELECT count(*)::int AS n FROM segment_shop_versions`)).rows[0].n).toBe(0);
  });

  it("create: members are exactly the shop's live matching customers, each entry recorded with cause `created`", async () => {
    const { segment, membership } = await createSegment({ shop: SHOP, name: "Big spenders", query: "amount_spent > 100", now: NOW });
    expect(membership).toEqual({ entered: 2, exited: 0 });
    expect(await members(segment.id)).toEqual([gid(2), gid(3)]);
    expect(segment).toMatchObject({ shop: SHOP, name: "Big spenders", memberCount: 2, relativeTime: false, tag: null, tagSyncEnabled: false });
    expect(segment.lastRefreshedAt).toEqual(NOW);
    expect(byCustomer(await history(segment.id))).toEqual([
      { customer_gid: gid(2), change: "entered", cause: "created", inbox_id: null },
      { customer_gid: gid(3), change: "entered", cause: "created", inbox_id: null },
    ]);
    // Tenant isolation: the other shop's customers with the same data are not members, and
    // its own segment holds only its customers.
    const other = await createSegment({ shop: OTHER, name: "Big spenders", query: "amount_spent > 100", now: NOW });
    expect(await members(other.segment.id)).toEqual([gid(2), gid(7)]);
    const { rows } = await getPool().query(`SELECT DISTINCT shop FROM segment_members WHERE segment_id = $1`, [segment.id]);
    expect(rows).toEqual([{ shop: SHOP }]);
  });

  it("names are unique per shop; tags are validated; a tag turns tag sync on", async () => {
    await createSegment({ shop: SHOP, name: "VIP", query: "customer_tags CONTAINS 'vip'", tag: "crm:vip", now: NOW });
    await expect(createSegment({ shop: SHOP, name: " VIP ", query: "amount_spent > 1", now: NOW })).rejects.toMatchObject({ kind: "conflict" });
    await expect(createSegment({ shop: SHOP, name: "Bad tag", query: "amount_spent > 1", tag: "a,b", now: NOW })).rejects.toMatchObject({ kind: "invalid" });
    await expect(createSegment({ shop: SHOP, name: "Long tag", query: "amount_spent > 1", tag: "x".repeat(256), now: NOW })).rejects.toMatchObject({ kind: "invalid" });
    await expect(createSegment({ shop: SHOP, name: "", query: "amount_spent > 1", now: NOW })).rejects.toMatchObject({ kind: "invalid" });
    const vip = await getSegment(SHOP, "VIP");
    expect(vip).toMatchObject({ tag: "crm:vip", tagSyncEnabled: true, memberCount: 1 });
    expect(await getSegment(SHOP, vip!.id)).toMatchObject({ name: "VIP" });
    expect(await getSegment(OTHER, "VIP")).toBeNull();
    expect(await getSegment(OTHER, vip!.id)).toBeNull();
  });

  it("edit: re-evaluates everyone with cause `edited`; renaming alone changes no membership", async () => {
    const { segment } = await createSegment({ shop: SHOP, name: "Spend", query: "amount_spent > 100", now: NOW });
    const later = new Date(NOW.getTime() + 1000);
    const edited = await updateSegment({ shop: SHOP, id: segment.id, query: "amount_spent > 200 OR customer_tags CONTAINS 'none'", now: later });
    expect(edited.membership).toEqual({ entered: 0, exited: 1 });
    const widened = await updateSegment({ shop: SHOP, id: segment.id, query: "amount_spent >= 50", now: later });
    expect(widened.membership).toEqual({ entered: 2, exited: 0 });
    expect(await members(segment.id)).toEqual([gid(1), gid(2), gid(3)]);
    const rows = await history(segment.id);
    expect(rows.slice(2, 3)).toEqual([{ customer_gid: gid(2), change: "exited", cause: "edited", inbox_id: null }]);
    expect(byCustomer(rows.slice(3))).toEqual([gid(1), gid(2)].map((g) => ({ customer_gid: g, change: "entered", cause: "edited", inbox_id: null })));
    const renamed = await updateSegment({ shop: SHOP, id: segment.id, name: "Spend (renamed)", now: later });
    expect(renamed.membership).toBeNull();
    expect(renamed.segment).toMatchObject({ name: "Spend (renamed)", query: "amount_spent >= 50", memberCount: 3 });
    const invalid = (await updateSegment({ shop: SHOP, id: segment.id, query: "amount_spent >> 1" }).catch((e: unknown) => e)) as SegmentServiceError;
    expect(invalid.kind).toBe("invalid");
    expect(invalid.errors[0]?.column).toBeGreaterThan(1);
    expect((await getSegment(SHOP, segment.id))!.query).toBe("amount_spent >= 50");
    await expect(updateSegment({ shop: OTHER, id: segment.id, name: "stolen" })).rejects.toMatchObject({ kind: "not_found" });
    expect(await memberCount(segment.id)).toEqual({ stored: 3, actual: 3 });
    await expectHistoryConsistent(segment.id);
  });

  it("delete: removes the segment with its members and history; other shops cannot delete it", async () => {
    const { segment } = await createSegment({ shop: SHOP, name: "Gone", query: "amount_spent > 100", now: NOW });
    await expect(deleteSegment({ shop: OTHER, id: segment.id })).rejects.toMatchObject({ kind: "not_found" });
    await deleteSegment({ shop: SHOP, id: segment.id });
    expect(await members(segment.id)).toEqual([]);
    expect(await history(segment.id)).toEqual([]);
    expect(await getSegment(SHOP, segment.id)).toBeNull();
    // The hook sees the shop has no segments left.
    expect(await applyEvent([gid(1)], 500_00)).toEqual({ entered: 0, exited: 0 });
  });

  it("preview: count and sample, all ids, positioned errors; never another shop's customers", async () => {
    const preview = await previewSegment(SHOP, "amount_spent > 100", { sampleSize: 5, now: NOW });
    expect(preview).toMatchObject({ ok: true, count: 2 });
    if (!preview.ok) throw new Error("unreachable");
    expect(preview.sample.map((s) => s.gid).sort()).toEqual([gid(2), gid(3)]);
    expect(await previewAll(SHOP, "amount_spent > 100", { now: NOW })).toEqual({ ok: true, customerIds: [gid(2), gid(3)] });
    expect(await previewAll(OTHER, "amount_spent > 100", { now: NOW })).toEqual({ ok: true, customerIds: [gid(2), gid(7)] });
    const bad = await previewSegment(SHOP, "number_of_orders > 'x'");
    expect(bad).toMatchObject({ ok: false, errors: [{ line: 1, column: 20 }] });
    // A value that looks like SQL is only a value.
    expect(await previewAll(SHOP, "customer_tags CONTAINS 'vip''); DROP TABLE customers; --'", { now: NOW })).toEqual({ ok: true, customerIds: [] });
    expect(await previewAll(SHOP, "customer_tags CONTAINS 'VIP'", { now: NOW })).toEqual({ ok: true, customerIds: [gid(2)] });
  });
});

describe("recompute and the worker's hook", () => {
  let segmentId: string;
  beforeEach(async () => {
    await resetSegments();
    await seedCustomers(Array.from({ length: 40 }, (_, i) => ({ n: i + 1, spentMinor: (i % 2 === 0 ? 150 : 50) * 100 })));
    await seedCustomers([{ shop: OTHER, n: 99, spentMinor: 500_00 }]);
    segmentId = (await createSegment({ shop: SHOP, name: "Spend", query: "amount_spent > 100", now: NOW })).segment.id;
  });

  it("recompute applies exactly the delta, with cause `refresh`, and keeps member_count", async () => {
    const before = await members(segmentId);
    expect(before).toHaveLength(20);
    // Drift: data changed behind the segments' back.
    await setSpent([gid(2), gid(4)], 500_00); // enter
    await setSpent([gid(1), gid(3), gid(5)], 0); // exit
    const historyBefore = (await history(segmentId)).length;
    const result = await recomputeSegment(SHOP, segmentId, "refresh", { now: NOW });
    expect(result).toMatchObject({ segmentId, entered: 2, exited: 3, candidates: 5 });
    expect(await members(segmentId)).toEqual(await matching(SHOP, "total_spent_minor > 10000"));
    const added = (await history(segmentId)).slice(historyBefore);
    expect(added.filter((r) => r.change === "entered").map((r) => r.customer_gid).sort()).toEqual([gid(2), gid(4)].sort());
    expect(added.filter((r) => r.change === "exited").map((r) => r.customer_gid).sort()).toEqual([gid(1), gid(3), gid(5)].sort());
    expect(added.every((r) => r.cause === "refresh")).toBe(true);
    expect(await memberCount(segmentId)).toEqual({ stored: 19, actual: 19 });
    // Nothing drifted: a second recompute changes nothing.
    expect(await recomputeSegment(SHOP, segmentId, "refresh", { now: NOW })).toMatchObject({ entered: 0, exited: 0, candidates: 0 });
    await expectHistoryConsistent(segmentId);
  });

  it("the hook re-evaluates only the given customers, records the inbox id, and follows a customer leaving and entering", async () => {
    await setSpent([gid(2)], 999_00); // drift on a customer the event does not name: left alone
    expect(await applyEvent([gid(1)], 10_00, "41")).toEqual({ entered: 0, exited: 1 });
    expect(await applyEvent([gid(1)], 300_00, "42")).toEqual({ entered: 1, exited: 0 });
    expect(await applyEvent([gid(3), gid(4)], 300_00, "43")).toEqual({ entered: 1, exited: 0 }); // 3 stays, 4 enters
    expect(await applyEvent([gid(1)], 300_00, "44")).toEqual({ entered: 0, exited: 0 });
    const rows = (await history(segmentId)).filter((r) => r.cause === "event");
    expect(rows).toEqual([
      { customer_gid: gid(1), change: "exited", cause: "event", inbox_id: "41" },
      { customer_gid: gid(1), change: "entered", cause: "event", inbox_id: "42" },
      { customer_gid: gid(4), change: "entered", cause: "event", inbox_id: "43" },
    ]);
    expect((await members(segmentId)).includes(gid(2))).toBe(false);
    expect(await memberCount(segmentId)).toEqual({ stored: 21, actual: 21 });
    await expectHistoryConsistent(segmentId);
  });

  it("the hook evaluates every segment of the shop at once, picks up new definitions, and never admits another shop's customer", async () => {
    const vip = (await createSegment({ shop: SHOP, name: "Huge", query: "amount_spent >= 1000", now: NOW })).segment.id;
    expect(await applyEvent([gid(2)], 2_000_00)).toEqual({ entered: 2, exited: 0 }); // enters Spend and Huge
    expect(await applyEvent([gid(2)], 20_00)).toEqual({ entered: 0, exited: 2 });
    // A definition edited after this process cached the shop's segments.
    await updateSegment({ shop: SHOP, id: vip, query: "amount_spent >= 10", now: NOW });
    expect(await members(vip)).toContain(gid(2));
    expect(await applyEvent([gid(2)], 5_00)).toEqual({ entered: 0, exited: 1 });
    // A gid of another shop named in this shop's event: not this shop's customer.
    const crossed = await withTransaction((db) => reevaluateSegmentsForCustomers(db, SHOP, [gid(99)], { kind: "event" }, { now: NOW }));
    expect(crossed).toEqual({ entered: 0, exited: 0 });
    const { rows } = await getPool().query(`SELECT count(*)::int AS n FROM segment_members WHERE shop <> $1 AND segment_id IN ($2, $3)`, [SHOP, segmentId, vip]);
    expect(rows[0].n).toBe(0);
    for (const id of [segmentId, vip]) {
      const counts = await memberCount(id);
      expect(counts.stored).toBe(counts.actual);
      await expectHistoryConsistent(id);
    }
  });

  it("the hook leaves the transaction's plan_cache_mode as it found it", async () => {
    for (const shop of [SHOP, EMPTY]) {
      const mode = await withTransaction(async (db) => {
        await db.query(`SET LOCAL plan_cache_mode = force_custom_plan`);
        await reevaluateSegmentsForCustomers(db, shop, [gid(1)], { kind: "event" }, { now: NOW });
        return (await db.query<{ mode: string }>(`SELECT current_setting('plan_cache_mode') AS mode`)).rows[0]!.mode;
      });
      expect(mode).toBe("force_custom_plan");
    }
  });

  it("the hook costs nothing for a shop without segments", async () => {
    const result = await withTransaction((db) => reevaluateSegmentsForCustomers(db, EMPTY, [gid(1)], { kind: "event" }));
    expect(result).toEqual({ entered: 0, exited: 0 });
  });

  it("a customer deleted or redacted by an event leaves", async () => {
    const exited = await withTransaction(async (db) => {
      await db.query(`UPDATE customers SET deleted_at = now() WHERE shop = $1 AND gid = $2`, [SHOP, gid(1)]);
      await db.query(`UPDATE customers SET redacted_at = now() WHERE shop = $1 AND gid = $2`, [SHOP, gid(3)]);
      return reevaluateSegmentsForCustomers(db, SHOP, [gid(1), gid(3)], { kind: "event" }, { now: NOW });
    });
    expect(exited).toEqual({ entered: 0, exited: 2 });
  });
});

describe("locking: recompute and the hook never corrupt membership", () => {
  let segmentId: string;
  beforeEach(async () => {
    await resetSegments();
    await seedCustomers(Array.from({ length: 60 }, (_, i) => ({ n: i + 1, spentMinor: (i % 3 === 0 ? 150 : 50) * 100 })));
    segmentId = (await createSegment({ shop: SHOP, name: "Spend", query: "amount_spent > 100", now: NOW })).segment.id;
  });

  it("a candidate changed by an event between the two phases is applied on fresh data", async () => {
    await setSpent([gid(2)], 500_00); // drift: 2 should enter
    await setSpent([gid(1)], 0); // drift: 1 should exit
    const result = await recomputeSegment(SHOP, segmentId, "refresh", {
      now: NOW,
      beforeApply: async (candidates) => {
        expect([...candidates].sort()).toEqual([gid(1), gid(2)].sort());
        // Meanwhile events move both back, through the hook.
        await applyEvent([gid(2)], 0);
        await applyEvent([gid(1)], 500_00);
      },
    });
    expect(result).toMatchObject({ entered: 0, exited: 0, candidates: 2 });
    expect(await members(segmentId)).toEqual(await matching(SHOP, "total_spent_minor > 10000"));
    expect(await memberCount(segmentId)).toEqual({ stored: 20, actual: 20 });
    await expectHistoryConsistent(segmentId);
  });

  it("the apply phase waits for an event transaction in flight (shared lock) and then sees its data", async () => {
    await setSpent([gid(2)], 500_00);
    const order: string[] = [];
    let releaseEvent!: () => void;
    const eventHeld = new Promise<void>((resolve) => (releaseEvent = resolve));
    let eventStarted!: () => void;
    const started = new Promise<void>((resolve) => (eventStarted = resolve));
    const event = withTransaction(async (db) => {
      await db.query(`UPDATE customers SET total_spent_minor = 0 WHERE shop = $1 AND gid = $2`, [SHOP, gid(2)]);
      const result = await reevaluateSegmentsForCustomers(db, SHOP, [gid(2)], { kind: "event" }, { now: NOW });
      eventStarted();
      await eventHeld;
      order.push("event committed");
      return result;
    });
    const recompute = (async () => {
      await started; // the event holds the shared lock and has not committed
      const r = await recomputeSegment(SHOP, segmentId, "refresh", { now: NOW });
      order.push("recompute done");
      return r;
    })();
    await started;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(order).toEqual([]); // the recompute is waiting for the lock
    releaseEvent();
    const [eventResult, recomputeResult] = await Promise.all([event, recompute]);
    expect(order).toEqual(["event committed", "recompute done"]);
    expect(eventResult).toEqual({ entered: 0, exited: 0 }); // 2 was not a member and does not match
    expect(recomputeResult).toMatchObject({ entered: 0, exited: 0 }); // fresh data: 2 no longer matches
    expect(await members(segmentId)).toEqual(await matching(SHOP, "total_spent_minor > 10000"));
  });

  it("an edit waits for event transactions in flight and the next event uses the new definition", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const inFlight = new Promise<void>((resolve) => (started = resolve));
    const event = withTransaction(async (db) => {
      await db.query(`UPDATE customers SET total_spent_minor = 12000 WHERE shop = $1 AND gid = $2`, [SHOP, gid(2)]);
      const r = await reevaluateSegmentsForCustomers(db, SHOP, [gid(2)], { kind: "event" }, { now: NOW });
      started();
      await held;
      return r;
    });
    await inFlight;
    const edit = updateSegment({ shop: SHOP, id: segmentId, query: "amount_spent > 130", now: NOW });
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    expect(await event).toEqual({ entered: 1, exited: 0 }); // under the old definition
    expect((await edit).membership).toMatchObject({ exited: 1 }); // 2 (120) leaves under the new one
    expect(await applyEvent([gid(3)], 125_00)).toEqual({ entered: 0, exited: 0 }); // 125 < 130
    expect(await members(segmentId)).toEqual(await matching(SHOP, "total_spent_minor > 13000"));
    await expectHistoryConsistent(segmentId);
  });

  it("concurrent events on several segments and repeated recomputes with drift: exact membership, counts and history, no deadlock", async () => {
    const second = (await createSegment({ shop: SHOP, name: "Mid", query: "amount_spent > 80", now: NOW })).segment.id;
    const third = (await createSegment({ shop: SHOP, name: "Low", query: "amount_spent > 60 AND number_of_orders >= 1", now: NOW })).segment.id;
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const amounts = [0, 70_00, 90_00, 150_00];
    const pick = () => gid(1 + Math.floor(random() * 60));
    let stop = false;
    const writers = Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 40; i++) {
        const gids = [...new Set([pick(), pick()])];
        await applyEvent(gids, amounts[Math.floor(random() * amounts.length)]!);
      }
    });
    const recomputes = (async () => {
      let runs = 0;
      while (!stop || runs < 3) {
        // Drift on customers no event names, then recompute every segment.
        await setSpent([pick()], amounts[Math.floor(random() * amounts.length)]!);
        for (const id of [segmentId, second, third]) await recomputeSegment(SHOP, id, "refresh", { now: NOW });
        runs += 1;
      }
      return runs;
    })();
    await Promise.all(writers);
    stop = true;
    expect(await recomputes).toBeGreaterThanOrEqual(3);
    // Drift introduced by the last loop iteration was fixed by its own recomputes.
    for (const [id, predicate] of [
      [segmentId, "total_spent_minor > 10000"],
      [second, "total_spent_minor > 8000"],
      [third, "total_spent_minor > 6000 AND orders_count >= 1"],
    ] as const) {
      expect(await members(id)).toEqual(await matching(SHOP, predicate));
      const counts = await memberCount(id);
      expect(counts.stored).toBe(counts.actual);
      await expectHistoryConsistent(id);
    }
  });
});

describe("lists, pages, series and the scheduled refresh", () => {
  beforeEach(async () => {
    await resetSegments();
  });

  it("list: members and the 7-day change; members page by keyset; daily series with zeros", async () => {
    await seedCustomers(Array.from({ length: 7 }, (_, i) => ({ n: i + 1, spentMinor: 150_00 })));
    const old = new Date(NOW.getTime() - 10 * DAY);
    const { segment } = await createSegment({ shop: SHOP, name: "B", query: "amount_spent > 100", now: old });
    await createSegment({ shop: SHOP, name: "A", query: "amount_spent > 1000", now: NOW });
    await createSegment({ shop: OTHER, name: "Elsewhere", query: "amount_spent > 1", now: NOW });
    await withTransaction(async (db) => {
      await db.query(`UPDATE customers SET total_spent_minor = 0 WHERE shop = $1 AND gid = ANY($2)`, [SHOP, [gid(1), gid(2)]]);
      await reevaluateSegmentsForCustomers(db, SHOP, [gid(1), gid(2)], { kind: "event" }, { now: new Date(NOW.getTime() - DAY) });
    });
    await withTransaction(async (db) => {
      await db.query(`UPDATE customers SET total_spent_minor = 50000 WHERE shop = $1 AND gid = $2`, [SHOP, gid(1)]);
      await reevaluateSegmentsForCustomers(db, SHOP, [gid(1)], { kind: "event" }, { now: NOW });
    });
    const list = await listSegments(SHOP, { now: NOW });
    expect(list.map((s) => s.name)).toEqual(["A", "B"]);
    expect(list[1]).toMatchObject({ id: segment.id, memberCount: 6, change7d: { entered: 1, exited: 2, net: -1 } });
    expect(list[0]).toMatchObject({ memberCount: 0, change7d: { entered: 0, exited: 0, net: 0 } });

    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const result: Awaited<ReturnType<typeof listSegmentMembers>> = await listSegmentMembers({ shop: SHOP, segmentId: segment.id, after, limit: 4 });
      seen.push(...result.members.map((m) => m.customerGid));
      expect(result.members.every((m) => m.firstName?.startsWith("C"))).toBe(true);
      after = result.nextCursor;
      if (!after) break;
    }
    expect(seen).toEqual(await members(segment.id));
    expect((await listSegmentMembers({ shop: OTHER, segmentId: segment.id })).members).toEqual([]);

    const series = await segmentChangeSeries({ shop: SHOP, segmentId: segment.id, days: 12, now: NOW });
    expect(series).toHaveLength(12);
    expect(series[0]).toEqual({ day: "2026-11-09", entered: 0, exited: 0 });
    expect(series.find((d) => d.day === "2026-11-10")).toEqual({ day: "2026-11-10", entered: 7, exited: 0 });
    expect(series.find((d) => d.day === "2026-11-19")).toEqual({ day: "2026-11-19", entered: 0, exited: 2 });
    expect(series.at(-1)).toEqual({ day: "2026-11-20", entered: 1, exited: 0 });
    await expect(segmentChangeSeries({ shop: SHOP, segmentId: segment.id, timeZone: "Mars/Base" })).rejects.toThrow(/time zone/);
  });

  it("refresh re-evaluates time-relative segments as time passes (cause `refresh`) and leaves the others alone", async () => {
    await seedCustomers([
      { n: 1, spentMinor: 150_00, lastOrderAt: new Date(NOW.getTime() - 10 * DAY) },
      { n: 2, spentMinor: 150_00, lastOrderAt: new Date(NOW.getTime() - 40 * DAY) },
      { n: 3 },
    ]);
    const recent = (await createSegment({ shop: SHOP, name: "Recent", query: "last_order_date > -30d", now: NOW })).segment;
    const spenders = (await createSegment({ shop: SHOP, name: "Spenders", query: "amount_spent > 100", now: NOW })).segment;
    expect(recent.relativeTime).toBe(true);
    expect(spenders.relativeTime).toBe(false);
    expect(await members(recent.id)).toEqual([gid(1)]);
    const later = new Date(NOW.getTime() + 25 * DAY);
    const report = await refreshRelativeSegments({ shop: SHOP, now: later });
    expect(report.shops).toHaveLength(1);
    expect(report.shops[0]!.segments.map((s) => s.segmentId)).toEqual([recent.id]);
    expect(report.shops[0]!.segments[0]).toMatchObject({ entered: 0, exited: 1 });
    expect(report.shops[0]!.failed).toEqual([]);
    expect(await members(recent.id)).toEqual([]);
    expect((await history(recent.id)).at(-1)).toMatchObject({ customer_gid: gid(1), change: "exited", cause: "refresh" });
    expect((await getSegment(SHOP, recent.id))!.lastRefreshedAt).toEqual(later);
    expect((await getSegment(SHOP, spenders.id))!.lastRefreshedAt).toEqual(NOW);
    // A segment whose first computation never happened (its recompute failed) is computed.
    await getPool().query(`UPDATE segments SET last_refreshed_at = NULL WHERE id = $1`, [spenders.id]);
    await getPool().query(`DELETE FROM segment_members WHERE segment_id = $1`, [spenders.id]);
    await getPool().query(`UPDATE segments SET member_count = 0 WHERE id = $1`, [spenders.id]);
    const healed = await refreshRelativeSegments({ shop: SHOP, now: later });
    expect(healed.shops[0]!.segments.map((s) => s.segmentId).sort()).toEqual([recent.id, spenders.id].sort());
    expect(await members(spenders.id)).toEqual([gid(1), gid(2)]);
    expect(await memberCount(spenders.id)).toEqual({ stored: 2, actual: 2 });
    // Every shop with segments, and `all` recomputes the others too.
    await createSegment({ shop: OTHER, name: "Other", query: "amount_spent > 1", now: NOW });
    const everything = await refreshRelativeSegments({ now: later, all: true });
    expect(everything.shops.map((s) => s.shop)).toEqual([OTHER, SHOP].sort());
    expect(everything.shops.find((s) => s.shop === SHOP)!.segments).toHaveLength(2);
  });
});

describe("the refresh job", () => {
  it("is scheduled, runs on demand, and refuses bad job data without retrying", async () => {
    await resetSegments();
    const now = new Date();
    await seedCustomers([{ n: 1, spentMinor: 10_00, lastOrderAt: new Date(now.getTime() - 5 * DAY) }]);
    const recent = (await createSegment({ shop: SHOP, name: "Recent", query: "last_order_date > -30d" })).segment;
    expect(await members(recent.id)).toEqual([gid(1)]);
    const refresher = await startSegmentRefresh({ intervalMs: 3_600_000 });
    try {
      const queue = getSegmentRefreshQueue();
      await waitUntil(async () => (await queue.getJobSchedulers()).find((s) => s.key === "segment-refresh-every" && s.every === 3_600_000), { what: "job scheduler" });
      // An interval schedule runs its first refresh at once: let it finish first.
      await waitUntil(async () => (await queue.getJobs(["completed"])).some((j) => j.data.reason === "schedule"), { what: "first scheduled refresh" });
      // The customer's last order moves out of the window behind the segment's back.
      await getPool().query(`UPDATE customers SET last_order_at = $2 WHERE shop = $1`, [SHOP, new Date(now.getTime() - 40 * DAY)]);
      const jobId = await requestSegmentRefresh({ shop: SHOP });
      expect(jobId).toBeTruthy();
      await waitUntil(async () => (await queue.getJob(jobId!))?.finishedOn, { what: "on-demand refresh" });
      const job = await queue.getJob(jobId!);
      expect(job?.returnvalue).toMatchObject({ shops: 1, segments: 1, exited: 1, failed: [] });
      expect(await members(recent.id)).toEqual([]);
      expect((await history(recent.id)).at(-1)).toMatchObject({ change: "exited", cause: "refresh" });

      const bad = await queue.add("refresh", { reason: "whenever" } as never, { attempts: 3 });
      await waitUntil(async () => (await queue.getJob(bad.id!))?.finishedOn, { what: "bad job to fail" });
      const failed = await queue.getJob(bad.id!);
      expect(failed?.failedReason).toMatch(/invalid segment refresh job data/);
      expect(failed?.attemptsMade).toBe(1);
      await expect(requestSegmentRefresh({ shop: "not-a-shop.example.com" })).rejects.toThrow(/myshopify/);
    } finally {
      await refresher.close();
    }
  });
});
