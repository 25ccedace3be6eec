// Stored segment membership: one set-based statement evaluates segments (compiled by
// app/domain/segments/sql.ts) over a scope of customers and applies the difference to
// segment_members, appends one history row per entry and exit, and keeps member_count.
//
// Locking (docs/decisions/012-segment-membership-locking.md): callers hold the shop's segment
// lock, exclusively (definition changes, recompute) or shared (the webhook worker's hook),
// for the rest of their transaction, so a statement never applies a difference computed
// from data another writer of the same membership is changing.
import { createHash } from "node:crypto";
import type { PoolClient } from "pg";
import type { Condition } from "../../domain/segments/ast";
import { compileSegmentFilter } from "../../domain/segments/sql";

export type Db = Pick<PoolClient, "query">;

export type MembershipCause = "created" | "edited" | "event" | "refresh" | "import";

/** A segment to evaluate: its id and checked tree. */
export type MembershipTarget = { id: string; ast: Condition };

export type MembershipScope =
  /** Every customer of the shop (a full recompute). */
  | { kind: "all" }
  /** Only these customers (an event's customers, or a recompute's candidates). */
  | { kind: "customers"; gids: readonly string[] };

export type CompileContext = { now: Date; currency?: string | null; timeZone?: string };

/** The customers a segment may hold: the shop's, neither deleted nor redacted. */
export const LIVE_CUSTOMER = "c.shop = $1 AND c.deleted_at IS NULL AND c.redacted_at IS NULL";

export type CompiledTargets = { filters: string[]; values: unknown[] };

/** Where the compiled filters' placeholders start in a membership statement of each scope. */
export const FIRST_FILTER_PARAM: Record<MembershipScope["kind"], number> = { all: 6, customers: 7 };

/** Compiles each target's filter with consecutive placeholders from firstParamIndex. */
export function compileTargets(targets: readonly MembershipTarget[], firstParamIndex: number, context: CompileContext) {
  const values: unknown[] = [];
  const filters = targets.map((target) => {
    const compiled = compileSegmentFilter(target.ast, {
      customerAlias: "c",
      firstParamIndex: firstParamIndex + values.length,
      now: context.now,
      timeZone: context.timeZone,
      currency: context.currency ?? undefined,
    });
    values.push(...compiled.values);
    return compiled.text;
  });
  return { filters, values };
}

/**
 * The membership statement. Parameters: $1 shop, $2 segment ids (bigint[], in target order),
 * $3 cause, $4 inbox id, $5 time of the change, [$6 customer gids when scoped], then the
 * compiled filters' values. Returns one row { entered, exited }.
 *
 * Concurrent writers: member rows of one customer are serialised by the apply transaction's
 * customer row lock and the segment lock; member_count rows are locked in id order (the
 * `locked` step) so two transactions changing several segments' counts never deadlock.
 *
 * `deferCounts`: the statement does not touch `segments.member_count`; it returns the count
 * changes as `deltas` ([segment id, delta] pairs) for the caller to apply with
 * applySegmentCountDeltas at the end of its transaction. The worker does this: the count rows
 * are shared by every event of a shop, and locking them here would hold them through the rest
 * of the apply (the loyalty step), serialising all of the shop's batches.
 */
export function buildMembershipStatement({
  shop,
  targets,
  scope,
  cause,
  inboxId = null,
  changedAt,
  context,
  compiled,
  restorePlanCacheMode,
  deferCounts = false,
}: {
  shop: string;
  targets: readonly MembershipTarget[];
  scope: MembershipScope;
  cause: MembershipCause;
  inboxId?: string | null;
  changedAt: Date;
  context: CompileContext;
  /** The targets compiled for this scope (compileTargets from FIRST_FILTER_PARAM) with this context, when the caller caches them. */
  compiled?: CompiledTargets;
  /** Sets plan_cache_mode back to this value for the rest of the transaction, once this statement is planned. */
  restorePlanCacheMode?: string;
  /** Return the member_count changes instead of applying them (see above). */
  deferCounts?: boolean;
}): { text: string; values: unknown[] } {
  if (targets.length === 0) throw new RangeError("buildMembershipStatement needs at least one segment");
  const scoped = scope.kind === "customers";
  const head: unknown[] = [shop, targets.map((t) => t.id), cause, inboxId, changedAt];
  if (scoped) head.push([...new Set(scope.gids)]);
  const { filters, values } = compiled ?? compileTargets(targets, FIRST_FILTER_PARAM[scope.kind], context);
  if (filters.length !== targets.length) throw new RangeError("compiled filters do not match the segments");
  // Scoped: read the few candidate rows once and test every segment's filter on each in one
  // pass (an array of the filters' results: each is non-NULL), instead of one scan per segment.
  // Full: one scan of the shop's customers per segment, where the filter can use indexes.
  const matched = scoped
    ? `SELECT ($2::bigint[])[hit.i] AS segment_id, c.gid
    FROM customers c
   CROSS JOIN LATERAL unnest(ARRAY[
      ${filters.map((f) => `(${f})`).join(",\n      ")}
   ]::boolean[]) WITH ORDINALITY AS hit(matches, i)
   WHERE ${LIVE_CUSTOMER} AND c.gid = ANY($6::text[]) AND hit.matches`
    : filters.map((filter, i) => `SELECT ($2::bigint[])[${i + 1}] AS segment_id, c.gid FROM customers c WHERE ${LIVE_CUSTOMER} AND (${filter})`).join("\n  UNION ALL\n  ");
  const currentMembers = scoped
    ? `SELECT m.segment_id, m.customer_gid AS gid FROM segment_members m
   WHERE m.shop = $1 AND m.customer_gid = ANY($6::text[]) AND m.segment_id = ANY($2::bigint[])`
    : `SELECT m.segment_id, m.customer_gid AS gid FROM segment_members m WHERE m.segment_id = ANY($2::bigint[])`;
  const text = `WITH matched AS (
  ${matched}
),
current_members AS (
  ${currentMembers}
),
diff AS (
  SELECT coalesce(n.segment_id, o.segment_id) AS segment_id, coalesce(n.gid, o.gid) AS gid, n.gid IS NOT NULL AS entering
    FROM matched n FULL JOIN current_members o ON o.segment_id = n.segment_id AND o.gid = n.gid
   WHERE n.gid IS NULL OR o.gid IS NULL
),
entered AS (
  INSERT INTO segment_members (segment_id, customer_gid, shop, entered_at)
  SELECT segment_id, gid, $1, $5::timestamptz FROM diff WHERE entering
  ON CONFLICT (segment_id, customer_gid) DO NOTHING
  RETURNING segment_id, customer_gid
),
exited AS (
  DELETE FROM segment_members m USING diff d
   WHERE NOT d.entering AND m.segment_id = d.segment_id AND m.customer_gid = d.gid
  RETURNING m.segment_id, m.customer_gid
),
changes AS (
  SELECT segment_id, customer_gid, 'entered'::"SegmentChange" AS change FROM entered
  UNION ALL
  SELECT segment_id, customer_gid, 'exited'::"SegmentChange" FROM exited
),
history AS (
  INSERT INTO segment_membership_changes (shop, segment_id, customer_gid, change, cause, inbox_id, occurred_at)
  SELECT $1, segment_id, customer_gid, change, $3::"SegmentChangeCause", $4::bigint, $5::timestamptz FROM changes
),
deltas AS (
  SELECT segment_id, sum(CASE WHEN change = 'entered' THEN 1 ELSE -1 END)::int AS delta FROM changes GROUP BY segment_id
)${
    deferCounts
      ? ""
      : `,
locked AS (
  SELECT s.id FROM segments s WHERE s.id IN (SELECT segment_id FROM deltas) ORDER BY s.id FOR NO KEY UPDATE
),
counted AS (
  UPDATE segments s SET member_count = s.member_count + d.delta
    FROM deltas d JOIN locked l ON l.id = d.segment_id
   WHERE s.id = d.segment_id
)`
  }
SELECT (SELECT count(*) FROM entered)::int AS entered, (SELECT count(*) FROM exited)::int AS exited${
    deferCounts ? `,
       (SELECT coalesce(json_agg(json_build_array(segment_id::text, delta) ORDER BY segment_id), '[]'::json) FROM deltas WHERE delta <> 0) AS deltas` : ""
  }${
    restorePlanCacheMode === undefined ? "" : `, set_config('plan_cache_mode', $${head.length + values.length + 1}, true) AS plan_cache_mode`
  }`;
  return { text, values: restorePlanCacheMode === undefined ? [...head, ...values] : [...head, ...values, restorePlanCacheMode] };
}

export type MembershipResult = { entered: number; exited: number };
/** member_count changes left to the caller: [segment id, delta] pairs (deferCounts). */
export type SegmentCountDeltas = [string, number][];

/** A stable prepared-statement name for a statement text (each connection plans it once). */
const names = new Map<string, string>();
export function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `crm-seg-${createHash("sha1").update(text).digest("hex").slice(0, 20)}`;
    if (names.size >= 256) names.clear();
    names.set(text, name);
  }
  return name;
}

export async function applyMembership(
  db: Db,
  statement: { text: string; values: unknown[] },
  options: { prepared?: boolean } = {},
): Promise<MembershipResult> {
  const { rows } = await db.query<MembershipResult & { deltas?: SegmentCountDeltas }>(
    options.prepared ? { name: statementName(statement.text), text: statement.text, values: statement.values } : { text: statement.text, values: statement.values },
  );
  const result: MembershipResult & { countDeltas?: SegmentCountDeltas } = { entered: rows[0]?.entered ?? 0, exited: rows[0]?.exited ?? 0 };
  if (rows[0]?.deltas) result.countDeltas = rows[0].deltas;
  return result;
}

/**
 * Applies member_count changes returned by deferred membership statements; call it last in
 * the transaction. Rows are locked in id order, so concurrent callers never deadlock.
 */
export async function applySegmentCountDeltas(db: Db, deltas: SegmentCountDeltas): Promise<void> {
  const merged = new Map<string, number>();
  for (const [id, delta] of deltas) merged.set(id, (merged.get(id) ?? 0) + delta);
  const changes = [...merged].filter(([, delta]) => delta !== 0).sort(([a], [b]) => (BigInt(a) < BigInt(b) ? -1 : 1));
  if (changes.length === 0) return;
  await db.query({
    name: "crm-segment-count-deltas",
    text: `WITH d AS (SELECT * FROM unnest($1::bigint[], $2::int[]) AS d(id, delta)),
                locked AS (SELECT s.id FROM segments s JOIN d ON d.id = s.id ORDER BY s.id FOR NO KEY UPDATE)
           UPDATE segments s SET member_count = s.member_count + d.delta FROM d JOIN locked l ON l.id = d.id WHERE s.id = d.id`,
    values: [changes.map(([id]) => id), changes.map(([, delta]) => delta)],
  });
}

/**
 * Customers whose membership of one segment differs from its filter, read without locks
 * (phase one of a recompute): every customer that must enter or exit, as of one snapshot.
 */
export async function findMembershipCandidates(db: Db, shop: string, target: MembershipTarget, context: CompileContext): Promise<string[]> {
  const { filters, values } = compileTargets([target], 3, context);
  const { rows } = await db.query<{ gid: string }>(
    `WITH matched AS (SELECT c.gid FROM customers c WHERE ${LIVE_CUSTOMER} AND (${filters[0]})),
          current_members AS (SELECT customer_gid AS gid FROM segment_members WHERE segment_id = $2)
     SELECT coalesce(n.gid, o.gid) AS gid FROM matched n FULL JOIN current_members o ON o.gid = n.gid
      WHERE n.gid IS NULL OR o.gid IS NULL`,
    [shop, target.id, ...values],
  );
  return rows.map((r) => r.gid);
}

/** Takes the shop's segment lock exclusively until the transaction ends. */
export async function lockShopSegmentsExclusive(db: Db, shop: string): Promise<void> {
  await db.query({ name: "crm-segments-lock-exclusive", text: `SELECT pg_advisory_xact_lock(crm_segment_lock_key($1))`, values: [shop] });
}

/**
 * Takes the shop's segment lock shared until the transaction ends and returns the definitions
 * version ("0": never had segments). When there are segments it also switches this
 * transaction to generic plans (plan_cache_mode), returning the previous mode: planning the
 * prepared membership statement (one filter per segment) costs more than running it, and
 * PostgreSQL's plan cache would otherwise keep re-planning it. The membership statement
 * restores the mode once it is planned, so the caller's later statements are unaffected.
 */
export async function lockShopSegmentsShared(db: Db, shop: string): Promise<{ version: string; previousPlanCacheMode: string }> {
  const { rows } = await db.query<{ version: string; previous: string }>({
    name: "crm-segments-lock-shared",
    text: `SELECT l.version, l.previous, CASE WHEN l.version <> 0 THEN set_config('plan_cache_mode', 'force_generic_plan', true) END AS mode
             FROM (SELECT crm_segments_lock_shared($1) AS version, current_setting('plan_cache_mode') AS previous OFFSET 0) l`,
    values: [shop],
  });
  return { version: rows[0]?.version ?? "0", previousPlanCacheMode: rows[0]?.previous ?? "auto" };
}

export async function setPlanCacheMode(db: Db, mode: string): Promise<void> {
  await db.query({ name: "crm-segments-plan-cache-mode", text: `SELECT set_config('plan_cache_mode', $1, true)`, values: [mode] });
}

/** Marks a change to the shop's segment definitions (call under the exclusive lock). */
export async function bumpSegmentsVersion(db: Db, shop: string): Promise<void> {
  // Any new value will do: processes compare versions for equality only. A random one stays
  // distinct even if the database is rebuilt under a running process.
  await db.query(
    `INSERT INTO segment_shop_versions (shop, version, updated_at) VALUES ($1, 1 + floor(random() * 9e15)::bigint, now())
     ON CONFLICT (shop) DO UPDATE SET version = 1 + floor(random() * 9e15)::bigint, updated_at = now()`,
    [shop],
  );
}
