// Tag sync to Shopify (issue 4) against the real Shopify twin (in this process, behind a
// recording proxy) and real PostgreSQL / Redis: reconcile a synced segment into the outbox,
// drain it with the writer, and check the twin's customers afterwards.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeDb, getPool } from "../../app/db.server";
import { tagSyncDryRun, reconcileSegmentTagSync, reconcileTagSource, TagSyncError } from "../../app/services/tag-sync/reconcile.server";
import { drainShop, type DrainOptions, type DrainReport } from "../../app/services/tag-sync/writer.server";
import { checkSyncTag } from "../../app/shopify/customer-tags";
import { closeQueues, closeTagSyncQueue } from "../../app/queues.server";
import { syncSegmentTag } from "../../app/services/tag-sync/reconcile.server";
import { startTagSyncWriter } from "../../jobs/tag-sync-writer";
import { useIntegrationEnv } from "../support/env";
import { waitUntil } from "../support/pipeline";
import type { AdminTwin } from "../twin/admin-graphql";
import { loadRealSchema } from "../twin/schema-subset";
import { SHARED_PRESENT, SKIP_REASON } from "../contract/conformance";
import { coerceLoggedVariables } from "../contract/variables-coerce";
import {
  appAddedTags,
  countBy,
  createSegment,
  seedLocalCustomers,
  setLocalTags,
  setMembers,
  setSegment,
  setTwinTags,
  startTwinForShop,
  storeOfflineSession,
  twinTags,
  writes,
  type TwinProxy,
} from "./tag-sync.support";

const SHOP = "tag-sync.myshopify.com";
const CUSTOMERS = 400;

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let twin: AdminTwin;
let proxy: TwinProxy;
let gids: string[];

/** Every Admin GraphQL request the app sends in this file (checked against the real schema last). */
const REQUEST_LOG = join(mkdtempSync(join(tmpdir(), "tag-sync-")), "admin-requests.jsonl");

const FAST: DrainOptions = { bulkThreshold: 10_000, bulkPollMs: 50, bulkWaitMs: 20_000 };

beforeAll(async () => {
  ({ twin, proxy, gids } = await startTwinForShop(SHOP, CUSTOMERS, { requestLog: REQUEST_LOG }));
  env = await useIntegrationEnv({ SHOPIFY_TWIN_URL: proxy.url });
  await storeOfflineSession(SHOP);
  await seedLocalCustomers(SHOP, gids, (g) => twinTags(twin, SHOP, g));
});

afterAll(async () => {
  expect(proxy?.errors ?? []).toEqual([]);
  await proxy?.close();
  await twin?.close();
  await closeTagSyncQueue();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

let segmentCounter = 0;
/** A fresh tag and segment per test, so tests do not see each other's writes. */
async function segmentWith(members: string[], tag = `crm:t${++segmentCounter}`) {
  const id = await createSegment(SHOP, `segment ${++segmentCounter}`, tag);
  await setMembers(SHOP, id, members);
  return { id, tag, source: `segment:${id}` };
}

/** Drains until no write of the shop is pending or in flight (retries wait for their backoff). */
async function drainAll(options: DrainOptions = FAST, timeoutMs = 60_000): Promise<DrainReport[]> {
  const reports: DrainReport[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    reports.push(await drainShop(SHOP, options));
    const { rows } = await getPool().query<{ n: string; due: Date | null }>(
      `SELECT count(*) AS n, min(next_attempt_at) AS due FROM tag_writes WHERE shop = $1 AND status IN ('pending', 'in_flight')`,
      [SHOP],
    );
    if (rows[0]!.n === "0") return reports;
    if (Date.now() > deadline) throw new Error(`writes still open after ${timeoutMs} ms: ${rows[0]!.n}`);
    const wait = rows[0]!.due ? rows[0]!.due.getTime() - Date.now() : 0;
    await new Promise((resolve) => setTimeout(resolve, Math.max(20, Math.min(wait, 2_000))));
  }
}

const sum = (reports: DrainReport[], f: (r: DrainReport) => number) => reports.reduce((n, r) => n + f(r), 0);

beforeEach(() => {
  twin.setBucket({ maximumAvailable: 2_000, restoreRate: 1_000 });
});

describe("tag sync: reconcile a segment into the outbox", () => {
  it("queues one add per member that lacks the tag, never twice, and previews it in a dry run", async () => {
    const members = gids.slice(0, 30);
    const { id, tag, source } = await segmentWith(members);
    expect(await tagSyncDryRun(SHOP, id)).toEqual({ tag, add: 30, remove: 0, overLimit: 0, alreadyTagged: 0 });

    // Two reconciles at once and one more: 30 intents in all.
    const [a, b] = await Promise.all([reconcileSegmentTagSync(SHOP, id), reconcileSegmentTagSync(SHOP, id)]);
    expect(a.queuedAdds + b.queuedAdds).toBe(30);
    expect((await reconcileSegmentTagSync(SHOP, id)).queuedAdds).toBe(0);
    const rows = (await writes(SHOP)).filter((w) => w.source === source);
    expect(rows).toHaveLength(30);
    expect(new Set(rows.map((w) => w.customer_gid)).size).toBe(30);

    // The database refuses a second open intent for the same customer and tag, in any casing.
    await expect(
      getPool().query(`INSERT INTO tag_writes (shop, customer_gid, tag, tag_key, action, source) VALUES ($1, $2, $3, lower($3), 'remove', 'segment:x')`, [
        SHOP,
        members[0],
        tag.toUpperCase(),
      ]),
    ).rejects.toMatchObject({ code: "23505" });

    // A pending write that is no longer wanted is skipped, never sent.
    await setMembers(SHOP, id, members.slice(0, 25));
    expect((await reconcileSegmentTagSync(SHOP, id)).superseded).toBe(5);
    await drainAll();
    const after = (await writes(SHOP)).filter((w) => w.source === source);
    expect(countBy(after, (w) => w.status)).toEqual({ done: 25, skipped: 5 });
    expect(after.filter((w) => w.status === "skipped").every((w) => w.outcome?.reason === "superseded")).toBe(true);
    for (const g of members.slice(25)) expect(proxy.appliedCount("add", g, tag)).toBe(0);
    expect(await tagSyncDryRun(SHOP, id)).toEqual({ tag, add: 0, remove: 0, overLimit: 0, alreadyTagged: 0 });
  });

  it("refuses a tag over 255 characters, un-namespaced or with a comma, and queues nothing", async () => {
    const long = `crm:${"x".repeat(252)}`;
    expect(long).toHaveLength(256);
    const { id } = await segmentWith(gids.slice(0, 3), long);
    await expect(reconcileSegmentTagSync(SHOP, id)).rejects.toThrow(TagSyncError);
    await expect(reconcileSegmentTagSync(SHOP, id)).rejects.toMatchObject({ kind: "invalid", message: expect.stringContaining("at most 255 characters") });
    await expect(tagSyncDryRun(SHOP, id)).rejects.toMatchObject({ kind: "invalid" });
    expect((await writes(SHOP)).filter((w) => w.source === `segment:${id}`)).toEqual([]);
    // 255 characters is allowed.
    expect(checkSyncTag(`crm:${"x".repeat(251)}`)).toEqual({ ok: true, tag: `crm:${"x".repeat(251)}` });
    for (const [tag, message] of [
      ["vip", "namespaced"],
      ["crm:a,b", "comma"],
      [" crm:vip", "spaces"],
      ["", "empty"],
    ]) {
      expect(checkSyncTag(tag!)).toEqual({ ok: false, message: expect.stringContaining(message!) });
      await expect(reconcileTagSource({ shop: SHOP, source: "segment:none", tag: tag!, desired: null })).rejects.toMatchObject({ kind: "invalid" });
    }
    // The database refuses it too.
    await expect(
      getPool().query(`INSERT INTO tag_writes (shop, customer_gid, tag, tag_key, action, source) VALUES ($1, $2, $3, lower($3), 'add', 'x')`, [SHOP, gids[0], long]),
    ).rejects.toMatchObject({ code: "23514" });
  });

  it("refuses a tag another synced segment already syncs", async () => {
    const first = await segmentWith(gids.slice(0, 2), "crm:shared");
    const second = await segmentWith(gids.slice(2, 4), "crm:SHARED");
    await expect(reconcileSegmentTagSync(SHOP, second.id)).rejects.toMatchObject({ kind: "conflict" });
    await setSegment(second.id, { enabled: false });
    await setSegment(first.id, { enabled: false });
  });
});

describe("tag sync: the writer against the twin", () => {
  it("end to end through the worker job: the twin shows the tag on every member, written once each", async () => {
    const members = gids.slice(40, 90);
    const { id, tag, source } = await segmentWith(members);
    const writer = await startTagSyncWriter({ sweepIntervalMs: 200, reconcileIntervalMs: 60_000, drain: { bulkThreshold: 10_000 } });
    try {
      const result = await syncSegmentTag(SHOP, id);
      expect(result.queuedAdds).toBe(50);
      await waitUntil(async () => (await writes(SHOP)).filter((w) => w.source === source).every((w) => w.status === "done"), { what: "all writes done" });
    } finally {
      await writer.close();
    }
    for (const g of members) {
      expect(twinTags(twin, SHOP, g)).toContain(tag);
      expect(proxy.appliedCount("add", g, tag)).toBe(1);
    }
    expect(gids.slice(90, 100).some((g) => twinTags(twin, SHOP, g).includes(tag))).toBe(false);
    expect((await appAddedTags(SHOP)).filter((t) => t.source === source)).toHaveLength(50);
    expect((await writes(SHOP)).filter((w) => w.source === source).every((w) => w.attempts === 1 && w.outcome?.result === "added")).toBe(true);
  });

  it("only ever removes tags it added: a customer who had the tag before keeps it", async () => {
    const tag = `crm:t${++segmentCounter}`;
    const merchantTagged = gids[100]!;
    setTwinTags(twin, SHOP, merchantTagged, [...twinTags(twin, SHOP, merchantTagged), tag]);
    await setLocalTags(SHOP, merchantTagged, [tag]);
    const appTagged = gids.slice(101, 104);
    const { id, source } = await segmentWith([merchantTagged, ...appTagged], tag);

    expect(await tagSyncDryRun(SHOP, id)).toMatchObject({ add: 3, alreadyTagged: 1 });
    expect(await reconcileSegmentTagSync(SHOP, id)).toMatchObject({ queuedAdds: 3, alreadyTagged: 1 });
    await drainAll();
    expect(proxy.appliedCount("add", merchantTagged, tag)).toBe(0);

    // Everyone leaves the segment: the app removes its own three, not the merchant's.
    await setMembers(SHOP, id, []);
    expect(await tagSyncDryRun(SHOP, id)).toMatchObject({ add: 0, remove: 3 });
    expect(await reconcileSegmentTagSync(SHOP, id)).toMatchObject({ queuedRemoves: 3 });
    // A remove queued for a tag the app did not add is skipped by the writer, never sent.
    await getPool().query(`INSERT INTO tag_writes (shop, customer_gid, tag, tag_key, action, source) VALUES ($1, $2, $3, lower($3), 'remove', $4)`, [
      SHOP,
      merchantTagged,
      tag,
      source,
    ]);
    await drainAll();
    for (const g of appTagged) {
      expect(twinTags(twin, SHOP, g)).not.toContain(tag);
      expect(proxy.appliedCount("remove", g, tag)).toBe(1);
    }
    expect(twinTags(twin, SHOP, merchantTagged)).toContain(tag);
    expect(proxy.appliedCount("remove", merchantTagged, tag)).toBe(0);
    const skipped = (await writes(SHOP)).find((w) => w.customer_gid === merchantTagged && w.action === "remove");
    expect(skipped).toMatchObject({ status: "skipped", outcome: { reason: "not_added_by_app" } });
    expect((await appAddedTags(SHOP)).filter((t) => t.source === source)).toEqual([]);
  });

  it("never pushes a customer over 250 tags: skipped and reported, whether the CRM or Shopify knows it", async () => {
    const full = Array.from({ length: 250 }, (_, i) => `legacy-${i}`);
    const [knownFull, staleFull, normal] = [gids[110]!, gids[111]!, gids[112]!];
    // The CRM knows knownFull has 250 tags; it believes staleFull has none (stale), Shopify has 250.
    setTwinTags(twin, SHOP, knownFull, full);
    await setLocalTags(SHOP, knownFull, full);
    setTwinTags(twin, SHOP, staleFull, full);
    await setLocalTags(SHOP, staleFull, []);
    const { id, tag, source } = await segmentWith([knownFull, staleFull, normal]);

    expect(await tagSyncDryRun(SHOP, id)).toMatchObject({ add: 2, overLimit: 1 });
    expect(await reconcileSegmentTagSync(SHOP, id)).toMatchObject({ queuedAdds: 2, overLimit: 1, overLimitReported: 1 });
    // Reported once, not again on the next reconcile.
    expect(await reconcileSegmentTagSync(SHOP, id)).toMatchObject({ queuedAdds: 0, overLimit: 1, overLimitReported: 0 });
    await drainAll();
    const rows = (await writes(SHOP)).filter((w) => w.source === source);
    expect(rows.find((w) => w.customer_gid === knownFull)).toMatchObject({ status: "skipped", attempts: 0, outcome: { reason: "tag_limit", tagCount: 250 } });
    expect(rows.find((w) => w.customer_gid === staleFull)).toMatchObject({
      status: "skipped",
      attempts: 1,
      outcome: { reason: "tag_limit", message: "Tags cannot be more than 250" },
    });
    expect(rows.find((w) => w.customer_gid === normal)).toMatchObject({ status: "done" });
    expect(twinTags(twin, SHOP, knownFull)).toHaveLength(250);
    expect(twinTags(twin, SHOP, staleFull)).toHaveLength(250);
    expect(twinTags(twin, SHOP, normal)).toContain(tag);
    expect(proxy.appliedCount("add", knownFull, tag)).toBe(0);
  });

  it("paces on the cost bucket: no THROTTLED from a full bucket, at least 80% of the restore rate used", async () => {
    twin.setBucket({ maximumAvailable: 200, restoreRate: 100 });
    const members = gids.slice(240, 340);
    const { id, tag } = await segmentWith(members);
    await reconcileSegmentTagSync(SHOP, id);
    const throttledBefore = proxy.throttled;
    const startLevel = twin.available(SHOP);
    const started = Date.now();
    const reports = await drainAll({ ...FAST, maxInFlight: 4 });
    const seconds = (Date.now() - started) / 1000;
    const endLevel = twin.available(SHOP);
    // Points Shopify restored during the run and the writer spent: the writes' cost minus what the bucket gave up.
    const spent = sum(reports, (r) => r.costSpent);
    expect(spent).toBe(100 * 10);
    const share = (spent - (startLevel - endLevel)) / (100 * seconds);
    expect(proxy.throttled - throttledBefore).toBe(0);
    expect(sum(reports, (r) => r.throttled)).toBe(0);
    expect(share).toBeGreaterThanOrEqual(0.8);
    expect(share).toBeLessThanOrEqual(1.05);
    for (const g of members) expect(proxy.appliedCount("add", g, tag)).toBe(1);
  });

  it("re-sends THROTTLED writes when the bucket allows, losing and duplicating nothing", async () => {
    twin.setBucket({ maximumAvailable: 100, restoreRate: 20 });
    const members = gids.slice(180, 190);
    const { id, tag, source } = await segmentWith(members);
    await reconcileSegmentTagSync(SHOP, id);
    // Another client of the same app empties the shop's bucket just before the writer starts.
    const spend = (query: string) => {
      let answer;
      do answer = twin.executeRequest(SHOP, { query });
      while (!answer.errors?.some((e) => e.extensions?.code === "THROTTLED"));
    };
    spend("{ customers(first: 50) { nodes { id tags } } }");
    spend("{ shop { name } }");
    expect(twin.available(SHOP)).toBeLessThan(2);
    const throttledBefore = proxy.throttled;
    const reports = await drainAll();
    expect(sum(reports, (r) => r.throttled)).toBeGreaterThanOrEqual(1);
    expect(proxy.throttled - throttledBefore).toBe(sum(reports, (r) => r.throttled));
    const rows = (await writes(SHOP)).filter((w) => w.source === source);
    expect(countBy(rows, (w) => w.status)).toEqual({ done: 10 });
    // THROTTLED answers are not attempts.
    expect(rows.every((w) => w.attempts === 1)).toBe(true);
    for (const g of members) {
      expect(twinTags(twin, SHOP, g)).toContain(tag);
      expect(proxy.appliedCount("add", g, tag)).toBe(1);
    }
  });

  it("retries a transient 5xx with backoff and records the attempt", async () => {
    const members = gids.slice(200, 205);
    const { id, tag, source } = await segmentWith(members);
    await reconcileSegmentTagSync(SHOP, id);
    proxy.failNext(2, 503);
    const reports = await drainAll({ ...FAST, maxInFlight: 1 });
    expect(sum(reports, (r) => r.transientErrors)).toBe(2);
    expect(reports[0]!.recorded.retry).toBe(2);
    const rows = (await writes(SHOP)).filter((w) => w.source === source);
    expect(countBy(rows, (w) => w.status)).toEqual({ done: 5 });
    expect(rows.map((w) => w.attempts).sort()).toEqual([1, 1, 1, 2, 2]);
    for (const g of members) expect(proxy.appliedCount("add", g, tag)).toBe(1);
  });

  it("sends a large change as one bulk mutation (staged JSONL upload) and records each line's result", async () => {
    const members = gids.slice(120, 240);
    const full = Array.from({ length: 250 }, (_, i) => `old-${i}`);
    setTwinTags(twin, SHOP, members[7]!, full); // the CRM does not know: Shopify refuses that line
    const { id, tag, source } = await segmentWith(members);
    await reconcileSegmentTagSync(SHOP, id);
    const before = { ...Object.fromEntries(proxy.operations) };
    const reports = await drainAll({ ...FAST, bulkThreshold: 100 });
    const ops = (name: string) => (proxy.operations.get(name) ?? 0) - (before[name] ?? 0);
    expect(ops("BulkOperationRunMutation")).toBe(1);
    expect(ops("StagedUploadsCreate")).toBe(1);
    expect(ops("TagsAdd")).toBe(0);
    expect(ops("BulkOperation")).toBeGreaterThanOrEqual(1);
    expect(sum(reports, (r) => r.bulk.finished.length)).toBe(1);
    const rows = (await writes(SHOP)).filter((w) => w.source === source);
    expect(countBy(rows, (w) => w.status)).toEqual({ done: 119, skipped: 1 });
    expect(new Set(rows.map((w) => w.bulk_operation_gid))).toEqual(new Set([reports[0]!.bulk.submitted[0]]));
    expect(rows.find((w) => w.customer_gid === members[7])).toMatchObject({ status: "skipped", outcome: { reason: "tag_limit" } });
    for (const [i, g] of members.entries()) expect(twinTags(twin, SHOP, g).includes(tag)).toBe(i !== 7);
    expect(twinTags(twin, SHOP, members[7]!)).toHaveLength(250);

    // Turning the sync off removes them again, in bulk too.
    await setSegment(id, { enabled: false });
    expect(await reconcileSegmentTagSync(SHOP, id)).toMatchObject({ queuedRemoves: 119 });
    await drainAll({ ...FAST, bulkThreshold: 100 });
    expect(ops("BulkOperationRunMutation")).toBe(2);
    for (const g of members) expect(twinTags(twin, SHOP, g)).not.toContain(tag);
    expect((await appAddedTags(SHOP)).filter((t) => t.source === source)).toEqual([]);
  });

  it("defers the shop's writes when its token is refused, and resumes when it works again", async () => {
    const members = gids.slice(350, 353);
    const { id, tag, source } = await segmentWith(members);
    await reconcileSegmentTagSync(SHOP, id);
    await getPool().query(`UPDATE "Session" SET "accessToken" = 'shpat_revoked' WHERE shop = $1`, [SHOP]);
    const report = await drainShop(SHOP, FAST);
    expect(report.halted).toBe("invalid_token");
    const rows = (await writes(SHOP)).filter((w) => w.source === source);
    expect(rows.every((w) => w.status === "pending" && w.attempts === 0 && /invalid_token/.test(w.last_error ?? ""))).toBe(true);
    expect(report.nextDueAt!.getTime()).toBeGreaterThan(Date.now() + 60_000);

    await storeOfflineSession(SHOP);
    await getPool().query(`UPDATE tag_writes SET next_attempt_at = now() WHERE shop = $1 AND status = 'pending'`, [SHOP]);
    await drainAll();
    for (const g of members) expect(proxy.appliedCount("add", g, tag)).toBe(1);
  });
});

describe.skipIf(!SHARED_PRESENT)(`contract: what the app sent${SHARED_PRESENT ? "" : ` (skipped: ${SKIP_REASON})`}`, () => {
  it("every Admin request of this file has variables that coerce against the real Admin schema", () => {
    const report = coerceLoggedVariables(REQUEST_LOG, loadRealSchema());
    expect(report.errors).toEqual([]);
    expect(report.operations).toEqual(expect.arrayContaining(["BulkOperation", "BulkOperationRunMutation", "StagedUploadsCreate", "TagsAdd", "TagsRemove"]));
  });
});
