// A segment that fails to evaluate never fails the worker's apply step (decision 026): it is
// marked broken and skipped, the CRM write, the other segments' membership and the other
// shops' events of the batch commit; the admin list and `crm segments list` show it; saving
// it with a valid query repairs it; the scheduled refresh skips it.
//
// Three ways a stored segment fails: its query no longer passes the checker (written around
// it, or saved before the checker bounded dates), the compiler throws, or PostgreSQL rejects
// its filter. The last two cannot be reached through the checker any more, so this file
// stands in for a compiler defect: queries on two marker tags compile to a throw and to SQL
// that fails at run time (division by zero, SQLSTATE 22012), as a compiler bug would.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { closeDb, getPool, withTransaction } from "../../app/db.server";
import { processInboxBatch, stopContinuationBatches } from "../../app/services/process-inbox-event.server";
import { getSegmentList } from "../../app/services/admin-segments.server";
import { bumpSegmentsVersion } from "../../app/services/segments/membership.server";
import { clearSegmentDefinitionCache } from "../../app/services/segments/reevaluate.server";
import { createSegment, getSegment, listSegments, recomputeSegment, refreshRelativeSegments, updateSegment } from "../../app/services/segments/segments.server";
import { closeQueues } from "../../app/queues.server";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { customerPayload } from "../support/factories";
import { deliver, inboxRows, runCli } from "../support/pipeline";
import { TEST_SHOP } from "../support/webhooks";

vi.mock("../../app/domain/segments/sql", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../app/domain/segments/sql")>();
  const marker = (ast: unknown) => {
    const text = JSON.stringify(ast);
    return text.includes('"value":"boom-compile"') ? "compile" : text.includes('"value":"boom-sql"') ? "sql" : null;
  };
  return {
    ...original,
    compileSegmentFilter: (ast: Parameters<typeof original.compileSegmentFilter>[0], options: Parameters<typeof original.compileSegmentFilter>[1]) => {
      const kind = marker(ast);
      if (kind === "compile") throw new RangeError("not a calendar day: \"10000-01-01\"");
      // Fails per row at run time, like a filter whose value overflows a column type.
      if (kind === "sql") return { text: `(1 / (${options.customerAlias}.orders_count * 0) = 1)`, values: [] };
      return original.compileSegmentFilter(ast, options);
    },
  };
});

const SHOP = TEST_SHOP;
const OTHER = "broken-other.myshopify.com";
let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let customerId = 91_000n;

beforeAll(async () => {
  env = await useIntegrationEnv();
});

afterEach(async () => {
  vi.useRealTimers();
  await getPool().query(`DELETE FROM segments`);
  await getPool().query(`DELETE FROM webhook_events`);
  await getPool().query(`DELETE FROM customers`);
  clearSegmentDefinitionCache();
});

afterAll(async () => {
  await stopContinuationBatches();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

/** Stores a segment as the database holds it, around the checker (an older release, a bug). */
async function storeRaw(shop: string, name: string, query: string): Promise<string> {
  return withTransaction(async (db) => {
    const { rows } = await db.query<{ id: string }>(`INSERT INTO segments (shop, name, query) VALUES ($1, $2, $3) RETURNING id`, [shop, name, query]);
    await bumpSegmentsVersion(db, shop);
    return rows[0]!.id;
  });
}

/** Delivers a new customer of the shop through the ingress; returns its gid and inbox id. */
async function deliverCustomer(shop: string): Promise<{ gid: string; inboxId: string }> {
  const id = ++customerId;
  const webhookId = `broken-${id}`;
  const response = await deliver("customers/create", customerPayload({ id, email: `c${id}@example.com` }), { shop, webhookId });
  expect(response.status).toBe(200);
  return { gid: `gid://shopify/Customer/${id}`, inboxId: (await inboxRows({ webhookId }))[0]!.id };
}

async function membersOf(segmentId: string): Promise<string[]> {
  const { rows } = await getPool().query<{ gid: string }>(`SELECT customer_gid AS gid FROM segment_members WHERE segment_id = $1 ORDER BY 1`, [segmentId]);
  return rows.map((r) => r.gid);
}

async function statusOf(inboxId: string): Promise<string> {
  return (await getPool().query<{ status: string }>(`SELECT status::text AS status FROM webhook_events WHERE id = $1`, [inboxId])).rows[0]!.status;
}

async function customerExists(shop: string, gid: string): Promise<boolean> {
  return ((await getPool().query(`SELECT 1 FROM customers WHERE shop = $1 AND gid = $2`, [shop, gid])).rowCount ?? 0) > 0;
}

describe("a segment that fails to evaluate in the worker's apply step", () => {
  it.each([
    ["its query no longer passes the checker", "last_order_date < 9999-12-31 OR number_of_orders = 0", /no longer passes the checker: date `9999-12-31` is out of range/],
    ["the compiler throws", "customer_tags NOT CONTAINS 'boom-compile'", /cannot be compiled: not a calendar day/],
    ["PostgreSQL rejects its filter", "customer_tags NOT CONTAINS 'boom-sql'", /the database rejected its filter \(SQLSTATE 22012\): division by zero/],
  ])("when %s: is marked broken and skipped; the shop's batch commits, the other shop is unaffected", async (_, query, reason) => {
    const good = (await createSegment({ shop: SHOP, name: "New customers", query: "number_of_orders = 0" })).segment.id;
    const otherGood = (await createSegment({ shop: OTHER, name: "New customers", query: "number_of_orders = 0" })).segment.id;
    const bad = await storeRaw(SHOP, "Bad", query);

    // The shop with the bad segment, and another shop's event (batches hold one shop's rows: decision 025).
    const mine = await deliverCustomer(SHOP);
    const theirs = await deliverCustomer(OTHER);
    const outcome = await processInboxBatch(mine.inboxId, { maxBatch: 10, batchesInFlight: 1 });
    expect(outcome.own).toMatchObject({ outcome: "processed" });
    expect((await processInboxBatch(theirs.inboxId, { maxBatch: 10, batchesInFlight: 1 })).own).toMatchObject({ outcome: "processed" });
    expect(await statusOf(mine.inboxId)).toBe("processed");
    expect(await statusOf(theirs.inboxId)).toBe("processed");
    expect(await customerExists(SHOP, mine.gid)).toBe(true);
    expect(await customerExists(OTHER, theirs.gid)).toBe(true);
    expect(await membersOf(good)).toEqual([mine.gid]);
    expect(await membersOf(otherGood)).toEqual([theirs.gid]);
    expect(await membersOf(bad)).toEqual([]);
    expect((await getSegment(SHOP, "New customers"))!.memberCount).toBe(1);

    const broken = (await getSegment(SHOP, bad))!;
    expect(broken.broken).toBe(true);
    expect(broken.brokenAt).toBeInstanceOf(Date);
    expect(broken.brokenReason).toMatch(reason);
    expect((await getSegment(SHOP, good))!.broken).toBe(false);

    // Later events of the shop skip it, in this process and in a fresh one (cache cleared).
    const next = await deliverCustomer(SHOP);
    expect((await processInboxBatch(next.inboxId, { maxBatch: 10, batchesInFlight: 1 })).own).toMatchObject({ outcome: "processed" });
    clearSegmentDefinitionCache();
    const third = await deliverCustomer(SHOP);
    expect((await processInboxBatch(third.inboxId, { maxBatch: 10, batchesInFlight: 1 })).own).toMatchObject({ outcome: "processed" });
    expect(await membersOf(good)).toEqual([mine.gid, next.gid, third.gid].sort());
    expect((await getSegment(SHOP, bad))!.brokenAt).toEqual(broken.brokenAt);

    // Visible in the admin list.
    const rows = await getSegmentList({ shop: SHOP });
    expect(rows.find((r) => r.id === bad)).toMatchObject({ brokenReason: expect.stringMatching(reason) });
    expect(rows.find((r) => r.id === good)).toMatchObject({ brokenReason: null });
  });

  it("+2912101d: compiled on the day it was loaded, throws from a later day; the apply step goes on", async () => {
    // Fake only the clock: the worker's process loaded the definitions today, and runs on.
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-12-07T12:00:00Z") });
    const good = (await createSegment({ shop: SHOP, name: "New customers", query: "number_of_orders = 0" })).segment.id;
    const bad = await storeRaw(SHOP, "Far future", "number_of_orders = 0 AND customer_added_date < +2912101d");
    const first = await deliverCustomer(SHOP);
    expect((await processInboxBatch(first.inboxId, { maxBatch: 1, batchesInFlight: 1 })).own).toMatchObject({ outcome: "processed" });
    vi.setSystemTime(new Date("2031-06-01T12:00:00Z"));
    const later = await deliverCustomer(SHOP);
    expect((await processInboxBatch(later.inboxId, { maxBatch: 1, batchesInFlight: 1 })).own).toMatchObject({ outcome: "processed" });
    expect(await statusOf(later.inboxId)).toBe("processed");
    expect(await membersOf(good)).toEqual([first.gid, later.gid].sort());
    expect((await getSegment(SHOP, bad))!.broken).toBe(true);
  });

  it("is repaired by saving it with a valid query (the same text once the cause is gone), and recomputed", async () => {
    const bad = await storeRaw(SHOP, "Bad", "customer_tags NOT CONTAINS 'boom-sql'");
    const customer = await deliverCustomer(SHOP);
    await processInboxBatch(customer.inboxId, { maxBatch: 1, batchesInFlight: 1 });
    expect((await getSegment(SHOP, bad))!.broken).toBe(true);
    // `crm segments list` shows it (JSON contract kept, fields added).
    const cli = await runCli(["segments", "list", "--shop", SHOP], childProcessEnv());
    expect(cli.stderr).toBe("");
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toEqual([
      expect.objectContaining({ id: bad, name: "Bad", broken: true, brokenAt: expect.any(String), brokenReason: expect.stringMatching(/SQLSTATE 22012/) }),
    ]);
    // A recompute of a broken segment says why it cannot run, and the refresh skips it.
    await expect(recomputeSegment(SHOP, bad)).rejects.toThrow(/is broken \(the database rejected its filter.*\); save it with a valid query to repair it/);
    const report = await refreshRelativeSegments({ shop: SHOP, all: true });
    expect(report.shops[0]).toMatchObject({ broken: [bad], failed: [] });

    const { segment, membership } = await updateSegment({ shop: SHOP, id: bad, query: "customer_tags NOT CONTAINS 'vip'" });
    expect(segment).toMatchObject({ broken: false, brokenAt: null, brokenReason: null, memberCount: 1 });
    expect(membership).toEqual({ entered: 1, exited: 0 });
    // Evaluated again by the worker.
    const next = await deliverCustomer(SHOP);
    await processInboxBatch(next.inboxId, { maxBatch: 1, batchesInFlight: 1 });
    expect(await membersOf(bad)).toEqual([customer.gid, next.gid].sort());
    expect((await listSegments(SHOP)).map((s) => s.broken)).toEqual([false]);
  });

  it("a recompute that the database rejects marks the segment broken (and says so)", async () => {
    const customer = await deliverCustomer(SHOP);
    await processInboxBatch(customer.inboxId, { maxBatch: 1, batchesInFlight: 1 });
    const bad = await storeRaw(SHOP, "Bad", "customer_tags NOT CONTAINS 'boom-sql'");
    await expect(recomputeSegment(SHOP, bad)).rejects.toThrow(/division by zero/);
    expect((await getSegment(SHOP, bad))!).toMatchObject({ broken: true, brokenReason: expect.stringMatching(/SQLSTATE 22012/) });
  });
});
