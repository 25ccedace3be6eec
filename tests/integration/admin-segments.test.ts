// The segment pages' service on a real database: form validation and error mapping (nothing
// invalid is stored), keyset member pages in both directions, the tag sync dry run and
// setting, and delete. The browser flow is tests/e2e/segments-ui.test.ts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { closeQueues, closeTagSyncQueue } from "../../app/queues.server";
import {
  getSegmentList,
  getSegmentPage,
  listMembersPage,
  previewForEditor,
  previewTagSync,
  removeSegment,
  saveSegment,
  saveTagSetting,
} from "../../app/services/admin-segments.server";
import type { SegmentFormValues } from "../../app/domain/admin/segment-view-models";
import { useIntegrationEnv } from "../support/env";

const SHOP = "admin-segments-a.myshopify.com";
const OTHER = "admin-segments-b.myshopify.com";
const ACTOR = "test";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;

const gid = (n: number) => `gid://shopify/Customer/${n}`;

async function seedCustomer(shop: string, n: number, spentMinor: number, orders = 1, tags: string[] = []) {
  await getPool().query(
    `INSERT INTO customers (shop, gid, email, first_name, last_name, tags, total_spent_minor, orders_count, aov_minor, shopify_created_at)
     VALUES ($1, $2, $3, $4, 'Buyer', $5, $6::bigint, $7::int, $6::bigint / greatest($7::int, 1), now())`,
    [shop, gid(n), `c${n}@example.com`, `C${n}`, tags, spentMinor, orders],
  );
}

const form = (over: Partial<SegmentFormValues> = {}): SegmentFormValues => ({ name: "Spenders", query: "amount_spent >= 10", tag: "", tagSyncEnabled: false, ...over });

async function segmentCount(shop = SHOP): Promise<number> {
  const { rows } = await getPool().query<{ n: number }>(`SELECT count(*)::int AS n FROM segments WHERE shop = $1`, [shop]);
  return rows[0]!.n;
}

beforeAll(async () => {
  env = await useIntegrationEnv();
});

beforeEach(async () => {
  await getPool().query(`TRUNCATE segments, segment_members, segment_membership_changes, segment_shop_versions, tag_writes, app_added_tags, customers CASCADE`);
  // Seven customers of SHOP spend 10..70; one has 250 tags; another store's customer spends a lot.
  for (let n = 1; n <= 7; n++) await seedCustomer(SHOP, n, n * 1000);
  await getPool().query(`UPDATE customers SET tags = (SELECT array_agg('t' || i) FROM generate_series(1, 250) i) WHERE gid = $1`, [gid(7)]);
  await seedCustomer(OTHER, 100, 999_900);
});

afterAll(async () => {
  await closeTagSyncQueue();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

describe("saveSegment", () => {
  it("GIVEN a query with a typo THEN it answers the checker's positioned error and stores nothing", async () => {
    const result = await saveSegment({ shop: SHOP, id: null, values: form({ query: "amount_spend >= 10" }), actor: ACTOR });
    expect(result).toEqual({
      ok: false,
      status: 400,
      errors: {
        query: [{ message: "unknown attribute `amount_spend` at 1:1, did you mean `amount_spent`?", line: 1, column: 1, offset: 0 }],
        queryText: "amount_spend >= 10",
      },
    });
    expect(await segmentCount()).toBe(0);
  });

  it("rejects a blank name, a blank query, an un-namespaced tag and sync without a tag, all at once", async () => {
    const result = await saveSegment({ shop: SHOP, id: null, values: form({ name: "  ", query: " ", tag: "vip" }), actor: ACTOR });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.name).toBe("Name must not be empty");
    expect(result.errors.query?.[0]?.message).toBe("Write a query, or start from an example");
    expect(result.errors.tag).toBe("The tag must be namespaced, for example `crm:vip`");
    const noTag = await saveSegment({ shop: SHOP, id: null, values: form({ tagSyncEnabled: true }), actor: ACTOR });
    expect(noTag).toMatchObject({ ok: false, errors: { tag: "Enter the tag to sync, for example crm:vip" } });
    const comma = await saveSegment({ shop: SHOP, id: null, values: form({ tag: "crm:a,b" }), actor: ACTOR });
    expect(comma).toMatchObject({ ok: false, errors: { tag: "A tag cannot contain a comma (Shopify splits it into several tags)" } });
    expect(await segmentCount()).toBe(0);
  });

  it("creates, computes members, audits, and answers a name conflict with 409", async () => {
    const created = await saveSegment({ shop: SHOP, id: null, values: form({ query: "amount_spent >= 30" }), actor: ACTOR });
    expect(created).toMatchObject({ ok: true, tagSyncWarning: null, segment: { name: "Spenders", memberCount: 5 } });
    const again = await saveSegment({ shop: SHOP, id: null, values: form(), actor: ACTOR });
    expect(again).toEqual({ ok: false, status: 409, errors: { name: 'A segment named "Spenders" already exists' } });
    const { rows } = await getPool().query(`SELECT action, subject FROM audit_log WHERE shop = $1 ORDER BY id`, [SHOP]);
    expect(rows).toEqual([{ action: "segment.create", subject: `segment:${created.ok ? created.segment.id : ""}` }]);
    const list = await getSegmentList({ shop: SHOP });
    expect(list).toMatchObject([{ name: "Spenders", members: 5, change7d: { entered: 5, exited: 0, net: 5 }, syncedTag: null }]);
    expect(await getSegmentList({ shop: OTHER })).toEqual([]);
  });

  it("lets one segment at a time sync a tag (case-insensitively, as Shopify compares tags)", async () => {
    const first = await saveSegment({ shop: SHOP, id: null, values: form({ tag: "crm:vip", tagSyncEnabled: true }), actor: ACTOR });
    expect(first.ok).toBe(true);
    const second = await saveSegment({ shop: SHOP, id: null, values: form({ name: "Other", tag: "CRM:VIP", tagSyncEnabled: true }), actor: ACTOR });
    expect(second).toMatchObject({ ok: false, status: 400, errors: { tag: expect.stringContaining("already syncs the tag CRM:VIP") } });
    // Keeping the tag without syncing it is fine.
    const unsynced = await saveSegment({ shop: SHOP, id: null, values: form({ name: "Other", tag: "crm:vip", tagSyncEnabled: false }), actor: ACTOR });
    expect(unsynced.ok).toBe(true);
  });
});

describe("previewForEditor", () => {
  it("counts live customers of this shop only, with a linked sample, or returns positioned errors", async () => {
    const preview = await previewForEditor({ shop: SHOP, query: "amount_spent >= 60" });
    expect(preview).toMatchObject({ query: "amount_spent >= 60", ok: true, count: 2 });
    expect(preview.ok && preview.sample.map((c) => c.id).sort()).toEqual(["6", "7"]);
    expect(preview.ok && preview.sample[0]!.name).toMatch(/^C[67] Buyer$/);
    const broken = await previewForEditor({ shop: SHOP, query: "last_order_date > 5" });
    expect(broken).toEqual({
      query: "last_order_date > 5",
      ok: false,
      errors: [{ message: "`last_order_date` compares with a date, got a number at 1:19", line: 1, column: 19, offset: 18 }],
    });
  });
});

describe("listMembersPage", () => {
  it("walks members forwards and backwards by keyset, with cursors only where there is a page", async () => {
    const saved = await saveSegment({ shop: SHOP, id: null, values: form(), actor: ACTOR });
    if (!saved.ok) throw new Error("not saved");
    const id = saved.segment.id;
    const ids = (page: { members: { id: string }[] }) => page.members.map((m) => m.id);
    const first = await listMembersPage({ shop: SHOP, segmentId: id, pageSize: 3 });
    expect(ids(first)).toEqual(["1", "2", "3"]);
    expect(first.before).toBeNull();
    const second = await listMembersPage({ shop: SHOP, segmentId: id, after: first.after, pageSize: 3 });
    expect(ids(second)).toEqual(["4", "5", "6"]);
    const third = await listMembersPage({ shop: SHOP, segmentId: id, after: second.after, pageSize: 3 });
    expect(ids(third)).toEqual(["7"]);
    expect(third.after).toBeNull();
    const back = await listMembersPage({ shop: SHOP, segmentId: id, before: third.before, pageSize: 3 });
    expect(ids(back)).toEqual(["4", "5", "6"]);
    expect(back.after).toBe(gid(6));
    const start = await listMembersPage({ shop: SHOP, segmentId: id, before: back.before, pageSize: 3 });
    expect(ids(start)).toEqual(["1", "2", "3"]);
    expect(start.before).toBeNull();
    expect(start.members[0]).toMatchObject({ name: "C1 Buyer", email: "c1@example.com", ordersCount: 1, amountSpent: "$10.00" });
    // Another shop cannot read this segment's members.
    expect((await listMembersPage({ shop: OTHER, segmentId: id })).members).toEqual([]);
    expect(await getSegmentPage({ shop: OTHER, id })).toBeNull();
  });
});

describe("tag sync from the segment page", () => {
  it("previews, saves, and on delete supersedes the writes still pending", async () => {
    const saved = await saveSegment({ shop: SHOP, id: null, values: form(), actor: ACTOR });
    if (!saved.ok) throw new Error("not saved");
    const id = saved.segment.id;
    expect(await previewTagSync({ shop: SHOP, id, tag: "vip", enabled: true })).toEqual({
      tag: "vip",
      enabled: true,
      ok: false,
      error: "The tag must be namespaced, for example `crm:vip`",
    });
    // Seven members, one of them at Shopify's 250-tag limit.
    expect(await previewTagSync({ shop: SHOP, id, tag: "crm:spenders", enabled: true })).toEqual({
      tag: "crm:spenders",
      enabled: true,
      ok: true,
      add: 6,
      remove: 0,
      overLimit: 1,
      alreadyTagged: 0,
    });
    expect(await saveTagSetting({ shop: SHOP, id, tag: "crm:spenders", enabled: true, actor: ACTOR })).toEqual({ ok: true, tagSyncWarning: null });
    const page = await getSegmentPage({ shop: SHOP, id });
    expect(page?.segment).toMatchObject({ tag: "crm:spenders", tagSyncEnabled: true });
    expect(page?.tagOutbox).toEqual({ waiting: 6, written: 0, failed: 0, skipped: 1 });
    // Turning it off: the app added nothing yet, so there is nothing to remove.
    expect(await previewTagSync({ shop: SHOP, id, tag: "crm:spenders", enabled: false })).toMatchObject({ ok: true, remove: 0 });
    expect(await removeSegment({ shop: SHOP, id, actor: ACTOR })).toEqual({ name: "Spenders" });
    const { rows } = await getPool().query<{ status: string; n: number }>(
      `SELECT status::text, count(*)::int AS n FROM tag_writes WHERE shop = $1 GROUP BY 1 ORDER BY 1`,
      [SHOP],
    );
    expect(rows).toEqual([{ status: "skipped", n: 7 }]); // the six pending adds superseded, the over-limit one reported
    expect(await removeSegment({ shop: SHOP, id, actor: ACTOR })).toBeNull();
  });
});
