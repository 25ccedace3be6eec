// The tag sync reconciler: for one source (a segment with tag sync, later a loyalty tier),
// desired = the customers that should carry its tag, applied = the customers the app tagged
// for it (app_added_tags); the difference goes into the outbox (tag_writes) for the writer.
//
// Rules (issue 4, "Tag sync to Shopify"):
// - the tag is validated against Shopify's limits (app/shopify/customer-tags.ts);
// - a customer who already has 250 tags is never pushed over: the add is recorded as
//   skipped with reason tag_limit (once), and counted as overLimit in the dry run;
// - a customer who already has the tag without the app having added it is left alone
//   (nothing is sent, and the app will never remove that tag);
// - the app only removes tags recorded in app_added_tags for this source;
// - a pending write that is no longer wanted is skipped (superseded), never sent;
// - an intent is never queued twice (partial unique index on open writes, ON CONFLICT DO NOTHING).
// Customer tag counts and current tags come from the local CRM (customers.tags, kept by
// the customer.tags_added / customer.tags_removed webhooks); Shopify's own userError is
// the last guard when they are stale (the writer records it as skipped too).
//
// Segments are stored by the segments service (tables segments, segment_members); they are
// read here with plain SQL.
import type pg from "pg";
import { withConnection, withTransaction, getPool } from "../../db.server";
import { enqueueTagSyncDrain } from "../../queues.server";
import type { SegmentRow } from "../db-rows";
import { MAX_TAGS_PER_CUSTOMER, checkSyncTag, tagKey } from "../../shopify/customer-tags";

export type TagSyncErrorKind = "invalid" | "not_found" | "conflict";

export class TagSyncError extends Error {
  override readonly name = "TagSyncError";
  constructor(
    readonly kind: TagSyncErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** The source of a segment's tag writes. */
export const segmentSource = (segmentId: string) => `segment:${segmentId}`;

/** Customers that should carry the tag: a query returning a `customer_gid` column. */
export type DesiredSet = { sql: string; params: unknown[] };

export type ReconcileResult = {
  shop: string;
  source: string;
  tag: string | null;
  /** Adds queued now. */
  queuedAdds: number;
  /** Removes queued now. */
  queuedRemoves: number;
  /** Pending writes skipped because they are no longer wanted. */
  superseded: number;
  /** Wanted customers at Shopify's 250-tag limit (reported as skipped writes; newly reported ones in overLimitReported). */
  overLimit: number;
  overLimitReported: number;
  /** Wanted customers who already carry the tag without the app having added it (left alone). */
  alreadyTagged: number;
};

export type DryRun = { tag: string | null; add: number; remove: number; overLimit: number; alreadyTagged: number };

const LIMIT = MAX_TAGS_PER_CUSTOMER;

// Conditions shared by the reconcile statements and the dry run. $1 shop, $2 source, $3 tag, $4 tag key.
const NOT_APPLIED = `NOT EXISTS (SELECT 1 FROM app_added_tags a WHERE a.shop = $1 AND a.customer_gid = d.customer_gid AND a.tag_key = $4)`;
const HAS_TAG_LOCALLY = `EXISTS (SELECT 1 FROM unnest(c.tags) t WHERE lower(t) = $4)`;
const NO_OPEN_WRITE = (customer: string) =>
  `NOT EXISTS (SELECT 1 FROM tag_writes o WHERE o.shop = $1 AND o.customer_gid = ${customer} AND o.tag_key = $4 AND o.status IN ('pending', 'in_flight'))`;
const NOT_MISSING_IN_SHOPIFY = `NOT EXISTS (SELECT 1 FROM tag_writes f WHERE f.shop = $1 AND f.customer_gid = d.customer_gid AND f.status = 'failed' AND f.outcome->>'reason' = 'not_found')`;
const WANTED = (customer: string) => `($3::text IS NOT NULL AND EXISTS (SELECT 1 FROM tag_sync_desired d WHERE d.customer_gid = ${customer}))`;

function requireTag(tag: string | null): string | null {
  if (tag === null) return null;
  const check = checkSyncTag(tag);
  if (!check.ok) throw new TagSyncError("invalid", `tag \`${tag.length > 60 ? `${tag.slice(0, 60)}…` : tag}\`: ${check.message}`);
  return check.tag;
}

async function loadDesired(client: pg.PoolClient, desired: DesiredSet | null) {
  await client.query(`CREATE TEMP TABLE tag_sync_desired (customer_gid text PRIMARY KEY) ON COMMIT DROP`);
  if (desired) {
    await client.query(`INSERT INTO tag_sync_desired (customer_gid) SELECT DISTINCT customer_gid FROM (${desired.sql}) s WHERE customer_gid IS NOT NULL`, desired.params);
    await client.query(`ANALYZE tag_sync_desired`);
  }
}

async function checkOwnership(client: pg.PoolClient, shop: string, source: string, key: string) {
  const { rows } = await client.query<{ source: string }>(
    `SELECT source FROM app_added_tags WHERE shop = $1 AND tag_key = $2 AND source <> $3
     UNION SELECT source FROM tag_writes WHERE shop = $1 AND tag_key = $2 AND source <> $3 AND status IN ('pending', 'in_flight')
     LIMIT 1`,
    [shop, key, source],
  );
  if (rows[0]) throw new TagSyncError("conflict", `the tag is already synced by ${rows[0].source}; a tag is synced by one source at a time`);
}

/**
 * Reconciles one source: queues the adds and removes that make Shopify match `desired`
 * (null: nothing desired, e.g. sync disabled or the segment deleted: every tag the app
 * added for the source is removed). Serialised per source.
 */
export async function reconcileTagSource(args: { shop: string; source: string; tag: string | null; desired: DesiredSet | null }): Promise<ReconcileResult> {
  const tag = requireTag(args.tag);
  const key = tag === null ? null : tagKey(tag);
  const { shop, source } = args;
  return withTransaction(async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('crm-tag-sync-source:' || $1 || ':' || $2, 0))`, [shop, source]);
    if (key !== null) await checkOwnership(client, shop, source, key);
    await loadDesired(client, tag === null ? null : args.desired);
    const p = [shop, source, tag, key];
    const superseded =
      (
        await client.query(
          `UPDATE tag_writes w SET status = 'skipped', completed_at = now(), updated_at = now(),
                  outcome = jsonb_build_object('reason', 'superseded', 'message', 'no longer wanted when the source was reconciled')
            WHERE w.shop = $1 AND w.source = $2 AND w.status = 'pending'
              AND ((w.action = 'add' AND NOT (w.tag_key = $4 AND ${WANTED("w.customer_gid")}))
                OR (w.action = 'remove' AND w.tag_key = $4 AND ${WANTED("w.customer_gid")}))`,
          p,
        )
      ).rowCount ?? 0;
    const queuedAdds =
      (
        await client.query(
          `INSERT INTO tag_writes (shop, customer_gid, tag, tag_key, action, source)
           SELECT $1, d.customer_gid, $3, $4, 'add', $2
             FROM tag_sync_desired d LEFT JOIN customers c ON c.shop = $1 AND c.gid = d.customer_gid
            WHERE $3::text IS NOT NULL AND ${NOT_APPLIED} AND ${NO_OPEN_WRITE("d.customer_gid")} AND NOT ${HAS_TAG_LOCALLY}
              AND coalesce(cardinality(c.tags), 0) < ${LIMIT} AND ${NOT_MISSING_IN_SHOPIFY}
            ORDER BY d.customer_gid
           ON CONFLICT DO NOTHING`,
          p,
        )
      ).rowCount ?? 0;
    const overLimitReported =
      (
        await client.query(
          `INSERT INTO tag_writes (shop, customer_gid, tag, tag_key, action, source, status, outcome, completed_at)
           SELECT $1, d.customer_gid, $3, $4, 'add', $2, 'skipped',
                  jsonb_build_object('reason', 'tag_limit', 'attempted', false, 'tagCount', cardinality(c.tags),
                    'message', 'the customer already has ' || cardinality(c.tags) || ' tags; Shopify allows at most ${LIMIT}'),
                  now()
             FROM tag_sync_desired d JOIN customers c ON c.shop = $1 AND c.gid = d.customer_gid
            WHERE $3::text IS NOT NULL AND ${NOT_APPLIED} AND ${NO_OPEN_WRITE("d.customer_gid")} AND NOT ${HAS_TAG_LOCALLY}
              AND cardinality(c.tags) >= ${LIMIT}
              AND NOT EXISTS (SELECT 1 FROM tag_writes s WHERE s.shop = $1 AND s.customer_gid = d.customer_gid AND s.tag_key = $4
                                 AND s.source = $2 AND s.action = 'add' AND s.status = 'skipped' AND s.outcome->>'reason' = 'tag_limit')
           ON CONFLICT DO NOTHING`,
          p,
        )
      ).rowCount ?? 0;
    const queuedRemoves =
      (
        await client.query(
          `INSERT INTO tag_writes (shop, customer_gid, tag, tag_key, action, source)
           SELECT a.shop, a.customer_gid, a.tag, a.tag_key, 'remove', $2
             FROM app_added_tags a
            WHERE a.shop = $1 AND a.source = $2 AND NOT (a.tag_key = $4 AND ${WANTED("a.customer_gid")})
              AND NOT EXISTS (SELECT 1 FROM tag_writes o WHERE o.shop = $1 AND o.customer_gid = a.customer_gid AND o.tag_key = a.tag_key
                                 AND o.status IN ('pending', 'in_flight'))
            ORDER BY a.customer_gid
           ON CONFLICT DO NOTHING`,
          p,
        )
      ).rowCount ?? 0;
    const counts = await countDesired(client, p);
    return { shop, source, tag, queuedAdds, queuedRemoves, superseded, overLimit: counts.overLimit, overLimitReported, alreadyTagged: counts.alreadyTagged };
  });
}

async function countDesired(client: pg.PoolClient, p: unknown[]) {
  const { rows } = await client.query<{ add: string; over_limit: string; already: string }>(
    `SELECT count(*) FILTER (WHERE NOT has_tag AND n < ${LIMIT}) AS add,
            count(*) FILTER (WHERE NOT has_tag AND n >= ${LIMIT}) AS over_limit,
            count(*) FILTER (WHERE has_tag) AS already
       FROM (SELECT coalesce(cardinality(c.tags), 0) AS n, ${HAS_TAG_LOCALLY} AS has_tag
               FROM tag_sync_desired d LEFT JOIN customers c ON c.shop = $1 AND c.gid = d.customer_gid
              WHERE $3::text IS NOT NULL AND ${NOT_APPLIED} AND ${NOT_MISSING_IN_SHOPIFY}
                AND $2::text IS NOT NULL /* every statement takes the same four parameters */) x`,
    p,
  );
  return { add: Number(rows[0]!.add), overLimit: Number(rows[0]!.over_limit), alreadyTagged: Number(rows[0]!.already) };
}

/** What reconciling would do from the current state, without queuing anything. */
export async function dryRunTagSource(args: { shop: string; source: string; tag: string | null; desired: DesiredSet | null }): Promise<DryRun> {
  const tag = requireTag(args.tag);
  const key = tag === null ? null : tagKey(tag);
  // Rolled back at the end: the temporary table is all it writes. A failure destroys the
  // connection instead (withConnection), which ends the transaction as well.
  return withConnection(getPool(), async (client) => {
    await client.query("BEGIN");
    await loadDesired(client, tag === null ? null : args.desired);
    const p = [args.shop, args.source, tag, key];
    const counts = await countDesired(client, p);
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM app_added_tags a WHERE a.shop = $1 AND a.source = $2 AND NOT (a.tag_key = $4 AND ${WANTED("a.customer_gid")})`,
      p,
    );
    await client.query("ROLLBACK");
    return { tag, add: counts.add, remove: Number(rows[0]!.n), overLimit: counts.overLimit, alreadyTagged: counts.alreadyTagged };
  });
}

// ------------------------------------------------------------------ segments

type TagSyncSegmentRow = Pick<SegmentRow, "id" | "tag" | "tag_sync_enabled">;

async function readSegment(shop: string, segmentId: string): Promise<TagSyncSegmentRow | undefined> {
  if (!/^\d{1,18}$/.test(segmentId)) throw new TagSyncError("invalid", "segment id must be a number");
  const { rows } = await getPool().query<TagSyncSegmentRow>(`SELECT id, tag, tag_sync_enabled FROM segments WHERE shop = $1 AND id = $2`, [shop, segmentId]);
  return rows[0];
}

async function requireNoOtherSegmentWithTag(shop: string, segmentId: string, tag: string) {
  const { rows } = await getPool().query<{ id: string; name: string }>(
    `SELECT id, name FROM segments WHERE shop = $1 AND id <> $2 AND tag_sync_enabled AND lower(tag) = $3 LIMIT 1`,
    [shop, segmentId, tagKey(tag)],
  );
  if (rows[0]) throw new TagSyncError("conflict", `segment "${rows[0].name}" already syncs the tag ${tag}`);
}

const segmentMembers = (shop: string, segmentId: string): DesiredSet => ({
  sql: `SELECT customer_gid FROM segment_members WHERE segment_id = $1 AND shop = $2`,
  params: [segmentId, shop],
});

/**
 * Reconciles a segment's tag sync with its current members. A deleted segment, or one with
 * sync disabled, gets every tag the app added for it removed.
 */
export async function reconcileSegmentTagSync(shop: string, segmentId: string): Promise<ReconcileResult> {
  const segment = await readSegment(shop, segmentId);
  const enabled = !!segment && segment.tag_sync_enabled && segment.tag !== null;
  if (enabled) await requireNoOtherSegmentWithTag(shop, segmentId, segment.tag!);
  return reconcileTagSource({
    shop,
    source: segmentSource(segmentId),
    tag: enabled ? segment.tag : null,
    desired: enabled ? segmentMembers(shop, segmentId) : null,
  });
}

/**
 * The preview for the segment page: what syncing the segment's tag (or `proposal.tag`)
 * would do now ("will add the tag to 1,204 customers, remove it from 37"). With
 * `proposal.enabled: false`, what turning the sync off would do.
 */
export async function tagSyncDryRun(shop: string, segmentId: string, proposal: { tag?: string | null; enabled?: boolean } = {}): Promise<DryRun> {
  const segment = await readSegment(shop, segmentId);
  if (!segment) throw new TagSyncError("not_found", `no segment ${segmentId} in ${shop}`);
  const tag = proposal.tag === undefined ? segment.tag : proposal.tag;
  const enabled = proposal.enabled ?? true;
  if (enabled && tag === null) throw new TagSyncError("invalid", "the segment has no tag to sync");
  if (enabled && tag !== null) await requireNoOtherSegmentWithTag(shop, segmentId, requireTag(tag)!);
  return dryRunTagSource({
    shop,
    source: segmentSource(segmentId),
    tag: enabled ? tag : null,
    desired: enabled ? segmentMembers(shop, segmentId) : null,
  });
}

/**
 * Reconciles every segment source of every shop (or one shop): segments with sync enabled,
 * and sources that still have tags or open writes although their segment is gone or
 * disabled. Failures of one source do not stop the others; they are returned.
 */
export async function reconcileAllSegmentTagSyncs(shop?: string): Promise<{ results: ReconcileResult[]; failed: { shop: string; source: string; error: string }[] }> {
  const { rows } = await getPool().query<{ shop: string; segment_id: string }>(
    `SELECT shop, id::text AS segment_id FROM segments WHERE tag_sync_enabled AND tag IS NOT NULL AND ($1::text IS NULL OR shop = $1)
     UNION
     SELECT shop, substr(source, 9) FROM app_added_tags WHERE source LIKE 'segment:%' AND ($1::text IS NULL OR shop = $1)
     UNION
     SELECT shop, substr(source, 9) FROM tag_writes WHERE source LIKE 'segment:%' AND status = 'pending' AND ($1::text IS NULL OR shop = $1)
     ORDER BY 1, 2`,
    [shop ?? null],
  );
  const results: ReconcileResult[] = [];
  const failed: { shop: string; source: string; error: string }[] = [];
  for (const r of rows) {
    try {
      results.push(await reconcileSegmentTagSync(r.shop, r.segment_id));
    } catch (error) {
      failed.push({ shop: r.shop, source: segmentSource(r.segment_id), error: (error as Error).message });
    }
  }
  return { results, failed };
}

/**
 * Reconciles one segment's tag sync now and asks for a drain of what it queued: for the
 * segment page (sync turned on or off, tag changed) and after a membership change.
 */
export async function syncSegmentTag(shop: string, segmentId: string): Promise<ReconcileResult> {
  const result = await reconcileSegmentTagSync(shop, segmentId);
  if (result.queuedAdds + result.queuedRemoves > 0) await enqueueTagSyncDrain(shop);
  return result;
}
