// Customer segments: definitions, stored membership with entry/exit history, previews,
// recompute and the scheduled refresh. Every statement is scoped by shop; merchant values
// travel as parameters (the compiler in app/domain/segments/sql.ts never puts them in text).
import { z } from "zod";
import { getPool, withTransaction } from "../../db.server";
import { logger } from "../../logger.server";
import { assertTimeZone } from "../../domain/segments/dates";
import { isTimeZone } from "../../domain/format";
import type { SegmentError as PositionedError } from "../../domain/segments/lexer";
import type { SegmentRow } from "../db-rows";
import { recomputeShopRfm } from "./rfm.server";
import { brokenReason, isSegmentFault, markSegmentsBroken } from "./broken.server";
import { acquirePreviewSlot, isStatementTimeout, previewTimeoutMs, recomputeTimeoutMs, restoreStatementTimeout, setStatementTimeout } from "./limits.server";
import { analyzeSegmentQuery, needsScheduledRefresh, type SegmentDefinition } from "./definition";
import {
  LIVE_CUSTOMER,
  applyMembership,
  bumpSegmentsVersion,
  buildMembershipStatement,
  compileTargets,
  findMembershipCandidates,
  lockShopSegmentsExclusive,
  type Db,
  type MembershipCause,
  type MembershipResult,
} from "./membership.server";

/** `too_expensive`: a preview or recompute ran past its time limit; `busy`: too many previews of the shop at once. */
export type SegmentErrorKind = "invalid" | "not_found" | "conflict" | "too_expensive" | "busy";

export const PREVIEW_TOO_EXPENSIVE = "This segment is too expensive to preview; simplify it";
export const RECOMPUTE_TOO_EXPENSIVE = "This segment is too expensive to recompute; simplify it";
export const PREVIEW_BUSY = "Too many previews are running for this shop; try again in a moment";

/** A segment request that cannot be served; `errors` carry positions for an invalid query. */
export class SegmentServiceError extends Error {
  override readonly name = "SegmentServiceError";
  constructor(
    readonly kind: SegmentErrorKind,
    message: string,
    readonly errors: readonly PositionedError[] = [],
  ) {
    super(message);
  }
}

export type Segment = {
  id: string;
  shop: string;
  name: string;
  query: string;
  tag: string | null;
  tagSyncEnabled: boolean;
  memberCount: number;
  relativeTime: boolean;
  lastRefreshedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** Evaluating it failed (decision 026): skipped by the worker and the refresh until saved with a valid query. */
  broken: boolean;
  brokenAt: Date | null;
  brokenReason: string | null;
};

export type SegmentListItem = Segment & { change7d: { entered: number; exited: number; net: number } };

const SEGMENT_COLUMNS = `id, shop, name, query, tag, tag_sync_enabled, member_count, relative_time, last_refreshed_at, created_at, updated_at, broken_at, broken_reason`;

const toSegment = (r: SegmentRow): Segment => ({
  id: r.id,
  shop: r.shop,
  name: r.name,
  query: r.query,
  tag: r.tag,
  tagSyncEnabled: r.tag_sync_enabled,
  memberCount: r.member_count,
  relativeTime: r.relative_time,
  lastRefreshedAt: r.last_refreshed_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  broken: r.broken_at !== null,
  brokenAt: r.broken_at,
  brokenReason: r.broken_reason,
});

// For this transaction only: a full recompute hashes a shop's customers and members (memory),
// and its statements are costly enough to trigger PostgreSQL's JIT compilation, which costs
// far more here (seconds, measured on the 1,000,000-customer bench store) than it saves.
const RECOMPUTE_SETTINGS = "SET LOCAL work_mem = '64MB'; SET LOCAL jit = off";
const PREVIEW_SETTINGS = "SET LOCAL jit = off";

export const SegmentName = z
  .string({ message: "name must be text" })
  .trim()
  .min(1, "name must not be empty")
  .max(100, "name must be at most 100 characters");

/** Shopify's limit is 255 characters per tag; a comma would split it into two tags. */
export const SegmentTag = z
  .string({ message: "tag must be text" })
  .trim()
  .min(1, "tag must not be empty")
  .max(255, "tag must be at most 255 characters (Shopify's limit)")
  .refine((tag) => !tag.includes(","), "tag must not contain a comma");

const SegmentId = z.string().regex(/^\d{1,18}$/, "segment id must be a number");

function parseInput<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new SegmentServiceError("invalid", parsed.error.issues.map((i) => i.message).join("; "));
  return parsed.data;
}

function requireDefinition(query: string): SegmentDefinition {
  const definition = analyzeSegmentQuery(query);
  if (!definition.ok) throw new SegmentServiceError("invalid", definition.errors.map((e) => e.message).join("\n"), definition.errors);
  return definition;
}

/**
 * What a segment compiles with for this shop: its currency and its time zone, in which
 * relative dates (today, -30d) resolve (decision 047; UTC until the shop's zone is known).
 */
async function shopCompileSettings(db: Db, shop: string): Promise<{ currency: string | null; timeZone: string }> {
  const { rows } = await db.query<{ currency_code: string | null; zone: string | null }>(
    `SELECT "currencyCode" AS currency_code, "ianaTimezone" AS zone FROM shops WHERE domain = $1`,
    [shop],
  );
  const zone = rows[0]?.zone;
  return { currency: rows[0]?.currency_code ?? null, timeZone: isTimeZone(zone) ? zone : "UTC" };
}

async function selectSegment(db: Db, shop: string, id: string, lock = false): Promise<SegmentRow | undefined> {
  const { rows } = await db.query<SegmentRow>(`SELECT ${SEGMENT_COLUMNS} FROM segments WHERE shop = $1 AND id = $2${lock ? " FOR NO KEY UPDATE" : ""}`, [shop, id]);
  return rows[0];
}

async function nameTaken(db: Db, shop: string, name: string, exceptId?: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM segments WHERE shop = $1 AND name = $2 AND ($3::bigint IS NULL OR id <> $3)`, [shop, name, exceptId ?? null]);
  return rows.length > 0;
}

export type SegmentWriteResult = { segment: Segment; membership: MembershipResult | null };

/**
 * Creates a segment and computes its members (history cause `created`). An invalid query
 * is rejected with its positioned errors and nothing is stored.
 *
 * The definition is committed first, under the exclusive lock (short), then the members are
 * computed by the two-phase recompute: the webhook worker waits only for the apply phase, not
 * for a scan of every customer. Until then the segment has last_refreshed_at NULL; if the
 * recompute fails, the error is thrown and the next scheduled refresh computes it.
 */
export async function createSegment(input: {
  shop: string;
  name: string;
  query: string;
  tag?: string | null;
  tagSyncEnabled?: boolean;
  now?: Date;
}): Promise<SegmentWriteResult> {
  const name = parseInput(SegmentName, input.name);
  const tag = input.tag == null ? null : parseInput(SegmentTag, input.tag);
  const definition = requireDefinition(input.query);
  const now = input.now ?? new Date();
  const id = await withTransaction(async (db) => {
    // Definition changes hold the shop's segment lock: the name check cannot race, and the
    // worker's hook never evaluates against half-applied definitions.
    await lockShopSegmentsExclusive(db, input.shop);
    if (await nameTaken(db, input.shop, name)) throw new SegmentServiceError("conflict", `a segment named "${name}" already exists`);
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO segments (shop, name, query, tag, tag_sync_enabled, relative_time, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`,
      [input.shop, name, input.query, tag, input.tagSyncEnabled ?? tag !== null, definition.relativeTime, now],
    );
    await bumpSegmentsVersion(db, input.shop);
    return rows[0]!.id;
  });
  const { entered, exited } = await recomputeSegment(input.shop, id, "created", { now });
  const segment = (await getSegment(input.shop, id))!;
  logger.info({ shop: input.shop, segmentId: id, entered, exited }, "segment.created");
  return { segment, membership: { entered, exited } };
}

/**
 * Edits a segment. A changed query is checked (errors come back with positions, nothing is
 * stored) and re-evaluated for every customer (history cause `edited`), committed first and
 * recomputed in two phases like createSegment.
 */
export async function updateSegment(input: {
  shop: string;
  id: string;
  name?: string;
  query?: string;
  tag?: string | null;
  tagSyncEnabled?: boolean;
  now?: Date;
}): Promise<SegmentWriteResult> {
  const id = parseInput(SegmentId, input.id);
  const name = input.name === undefined ? undefined : parseInput(SegmentName, input.name);
  const tag = input.tag === undefined || input.tag === null ? input.tag : parseInput(SegmentTag, input.tag);
  const definition = input.query === undefined ? undefined : requireDefinition(input.query);
  const now = input.now ?? new Date();
  const queryChanged = await withTransaction(async (db) => {
    await lockShopSegmentsExclusive(db, input.shop);
    const current = await selectSegment(db, input.shop, id, true);
    if (!current) throw new SegmentServiceError("not_found", `segment ${id} not found`);
    if (name !== undefined && name !== current.name && (await nameTaken(db, input.shop, name, id))) {
      throw new SegmentServiceError("conflict", `a segment named "${name}" already exists`);
    }
    // Saving a broken segment with a valid query (the same text included) repairs it: the mark
    // is cleared and the members recomputed, like an edit.
    const changed = definition !== undefined && (input.query !== current.query || current.broken_at !== null);
    await db.query(
      `UPDATE segments SET name = $3, query = $4, tag = $5, tag_sync_enabled = $6, relative_time = $7, updated_at = $8,
              last_refreshed_at = CASE WHEN $9 THEN NULL ELSE last_refreshed_at END,
              broken_at = CASE WHEN $9 THEN NULL ELSE broken_at END,
              broken_reason = CASE WHEN $9 THEN NULL ELSE broken_reason END
        WHERE shop = $1 AND id = $2`,
      [
        input.shop,
        id,
        name ?? current.name,
        changed ? input.query : current.query,
        tag === undefined ? current.tag : tag,
        input.tagSyncEnabled ?? current.tag_sync_enabled,
        changed ? definition.relativeTime : current.relative_time,
        now,
        changed,
      ],
    );
    if (changed) await bumpSegmentsVersion(db, input.shop);
    return changed;
  });
  let membership: MembershipResult | null = null;
  if (queryChanged) {
    const { entered, exited } = await recomputeSegment(input.shop, id, "edited", { now });
    membership = { entered, exited };
  }
  const segment = (await getSegment(input.shop, id))!;
  logger.info({ shop: input.shop, segmentId: id, queryChanged, ...(membership ?? {}) }, "segment.updated");
  return { segment, membership };
}

/** Deletes a segment with its members and history. */
export async function deleteSegment(input: { shop: string; id: string }): Promise<void> {
  const id = parseInput(SegmentId, input.id);
  await withTransaction(async (db) => {
    await lockShopSegmentsExclusive(db, input.shop);
    const { rowCount } = await db.query(`DELETE FROM segments WHERE shop = $1 AND id = $2`, [input.shop, id]);
    if (!rowCount) throw new SegmentServiceError("not_found", `segment ${id} not found`);
    await bumpSegmentsVersion(db, input.shop);
  });
  logger.info({ shop: input.shop, segmentId: id }, "segment.deleted");
}

/** The shop's segments by name, with members and the change over the last 7 days. */
export async function listSegments(shop: string, options: { now?: Date } = {}): Promise<SegmentListItem[]> {
  const since = new Date((options.now ?? new Date()).getTime() - 7 * 24 * 3600 * 1000);
  const { rows } = await getPool().query<SegmentRow & { entered: number; exited: number }>(
    `SELECT ${SEGMENT_COLUMNS.split(", ").map((c) => `s.${c}`).join(", ")}, coalesce(h.entered, 0)::int AS entered, coalesce(h.exited, 0)::int AS exited
       FROM segments s
       LEFT JOIN LATERAL (
         SELECT count(*) FILTER (WHERE change = 'entered') AS entered, count(*) FILTER (WHERE change = 'exited') AS exited
           FROM segment_membership_changes WHERE segment_id = s.id AND occurred_at >= $2
       ) h ON true
      WHERE s.shop = $1
      ORDER BY s.name, s.id`,
    [shop, since],
  );
  return rows.map((r) => ({ ...toSegment(r), change7d: { entered: r.entered, exited: r.exited, net: r.entered - r.exited } }));
}

/** One segment by id, or by exact name; null when the shop has no such segment. */
export async function getSegment(shop: string, idOrName: string): Promise<Segment | null> {
  const byId = /^\d{1,18}$/.test(idOrName);
  const { rows } = await getPool().query<SegmentRow>(
    `SELECT ${SEGMENT_COLUMNS} FROM segments WHERE shop = $1 AND ${byId ? "(id = $2::bigint OR name = $3)" : "name = $3"} ORDER BY (id IS NOT DISTINCT FROM $2::bigint) DESC LIMIT 1`,
    [shop, byId ? idOrName : null, idOrName],
  );
  return rows[0] ? toSegment(rows[0]) : null;
}

export type SegmentMemberView = {
  customerGid: string;
  enteredAt: Date;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  redacted: boolean;
};

/** One page of members in customer-id order; pass the previous page's `nextCursor` as `after`. */
export async function listSegmentMembers(input: {
  shop: string;
  segmentId: string;
  after?: string | null;
  limit?: number;
}): Promise<{ members: SegmentMemberView[]; nextCursor: string | null }> {
  const id = parseInput(SegmentId, input.segmentId);
  const limit = parseInput(z.number().int().min(1).max(500), input.limit ?? 50);
  const { rows } = await getPool().query<{
    customer_gid: string;
    entered_at: Date;
    first_name: string | null;
    last_name: string | null;
    email: string | null;
    redacted: boolean;
  }>(
    `SELECT m.customer_gid, m.entered_at, c.first_name, c.last_name, c.email, c.redacted_at IS NOT NULL AS redacted
       FROM segment_members m
       LEFT JOIN customers c ON c.shop = m.shop AND c.gid = m.customer_gid
      WHERE m.segment_id = $2 AND m.shop = $1 AND ($3::text IS NULL OR m.customer_gid > $3)
      ORDER BY m.customer_gid
      LIMIT $4`,
    [input.shop, id, input.after ?? null, limit + 1],
  );
  const page = rows.slice(0, limit);
  return {
    members: page.map((r) => ({
      customerGid: r.customer_gid,
      enteredAt: r.entered_at,
      firstName: r.redacted ? null : r.first_name,
      lastName: r.redacted ? null : r.last_name,
      email: r.redacted ? null : r.email,
      redacted: r.redacted,
    })),
    nextCursor: rows.length > limit ? page[page.length - 1]!.customer_gid : null,
  };
}

export type SegmentChangeDay = { day: string; entered: number; exited: number };

/** Entries and exits per calendar day (in timeZone) over the last `days` days, today included, zeros filled. */
export async function segmentChangeSeries(input: {
  shop: string;
  segmentId: string;
  days?: number;
  now?: Date;
  timeZone?: string;
}): Promise<SegmentChangeDay[]> {
  const id = parseInput(SegmentId, input.segmentId);
  const days = parseInput(z.number().int().min(1).max(366), input.days ?? 30);
  const timeZone = input.timeZone ?? "UTC";
  assertTimeZone(timeZone);
  const { rows } = await getPool().query<SegmentChangeDay>(
    `WITH bounds AS (SELECT ($3::timestamptz AT TIME ZONE $5)::date AS last_day),
          per_day AS (
            SELECT (h.occurred_at AT TIME ZONE $5)::date AS day,
                   count(*) FILTER (WHERE h.change = 'entered')::int AS entered,
                   count(*) FILTER (WHERE h.change = 'exited')::int AS exited
              FROM segment_membership_changes h, bounds b
             WHERE h.segment_id = $2 AND h.shop = $1
               AND h.occurred_at >= ((b.last_day - ($4::int - 1))::timestamp AT TIME ZONE $5)
               AND h.occurred_at < ((b.last_day + 1)::timestamp AT TIME ZONE $5)
             GROUP BY 1
          )
     SELECT to_char(d, 'YYYY-MM-DD') AS day, coalesce(p.entered, 0) AS entered, coalesce(p.exited, 0) AS exited
       FROM bounds b, generate_series((b.last_day - ($4::int - 1))::timestamp, b.last_day::timestamp, interval '1 day') AS d
       LEFT JOIN per_day p ON p.day = d::date
      ORDER BY d`,
    [input.shop, id, input.now ?? new Date(), days, timeZone],
  );
  return rows;
}

export type PreviewResult =
  | { ok: true; count: number; sample: { gid: string; firstName: string | null; lastName: string | null; email: string | null }[] }
  | { ok: false; errors: readonly PositionedError[] };

async function compiledWhere(shop: string, definition: SegmentDefinition, now: Date) {
  const { filters, values } = compileTargets([{ id: "0", ast: definition.ast }], 2, { now, ...(await shopCompileSettings(getPool(), shop)) });
  return { where: `${LIVE_CUSTOMER} AND (${filters[0]})`, values: [shop, ...values] };
}

/**
 * Runs a preview's statements under the shop's preview slot and one time limit for all of
 * them (SEGMENT_PREVIEW_TIMEOUT_MS, enforced by PostgreSQL): past it, or with no slot free
 * after a short wait, a clear SegmentServiceError (`too_expensive`, `busy`).
 */
async function runPreview<T>(shop: string, fn: (db: Db, statementTimeout: () => Promise<void>) => Promise<T>): Promise<T> {
  const release = await acquirePreviewSlot(shop);
  if (!release) throw new SegmentServiceError("busy", PREVIEW_BUSY);
  const deadline = Date.now() + previewTimeoutMs();
  try {
    return await withTransaction(async (db) => {
      await db.query(PREVIEW_SETTINGS);
      // Before each statement: what is left of the preview's time.
      const statementTimeout = async () => {
        const left = deadline - Date.now();
        if (left <= 0) throw new SegmentServiceError("too_expensive", PREVIEW_TOO_EXPENSIVE);
        await setStatementTimeout(db, left);
      };
      return fn(db, statementTimeout);
    });
  } catch (error) {
    if (isStatementTimeout(error)) throw new SegmentServiceError("too_expensive", PREVIEW_TOO_EXPENSIVE);
    throw error;
  } finally {
    release();
  }
}

/** Live count and a sample of matching customers for the editor; positioned errors for invalid text. */
export async function previewSegment(shop: string, text: string, options: { sampleSize?: number; now?: Date } = {}): Promise<PreviewResult> {
  const definition = analyzeSegmentQuery(text);
  if (!definition.ok) return { ok: false, errors: definition.errors };
  const sampleSize = parseInput(z.number().int().min(0).max(100), options.sampleSize ?? 10);
  const { where, values } = await compiledWhere(shop, definition, options.now ?? new Date());
  const [count, sample] = await runPreview(shop, async (db, statementTimeout) => {
    await statementTimeout();
    const counted = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM customers c WHERE ${where}`, values);
    if (sampleSize === 0) return [counted, { rows: [] }] as const;
    await statementTimeout();
    const sampled = await db.query<{ gid: string; first_name: string | null; last_name: string | null; email: string | null }>(
      `SELECT c.gid, c.first_name, c.last_name, c.email FROM customers c WHERE ${where} LIMIT $${values.length + 1}`,
      [...values, sampleSize],
    );
    return [counted, sampled] as const;
  });
  return {
    ok: true,
    count: count.rows[0]?.n ?? 0,
    sample: sample.rows.map((r) => ({ gid: r.gid, firstName: r.first_name, lastName: r.last_name, email: r.email })),
  };
}

/** Every matching customer gid (creation order), for the CLI. */
export async function previewAll(
  shop: string,
  text: string,
  options: { now?: Date } = {},
): Promise<{ ok: true; customerIds: string[] } | { ok: false; errors: readonly PositionedError[] }> {
  const definition = analyzeSegmentQuery(text);
  if (!definition.ok) return { ok: false, errors: definition.errors };
  const { where, values } = await compiledWhere(shop, definition, options.now ?? new Date());
  const { rows } = await runPreview(shop, async (db, statementTimeout) => {
    await statementTimeout();
    return db.query<{ gid: string }>(`SELECT c.gid FROM customers c WHERE ${where} ORDER BY c.id`, values);
  });
  return { ok: true, customerIds: rows.map((r) => r.gid) };
}

export type RecomputeResult = MembershipResult & { segmentId: string; candidates: number; skipped?: "definition changed" };

/**
 * Recomputes one segment's membership in two phases: the customers whose membership differs
 * from the filter are found without locks (the expensive part, over every customer), then,
 * holding the shop's segment lock exclusively, only those candidates are re-evaluated on
 * fresh data and the difference applied. Customers whose data changed in between were
 * re-evaluated by the worker's hook (which holds the lock shared), so the webhook worker is
 * held up only for the short second phase.
 */
export async function recomputeSegment(
  shop: string,
  segmentId: string,
  cause: MembershipCause = "refresh",
  options: {
    now?: Date;
    /** Runs between the two phases, before the lock is taken (tests of the locking protocol). */
    beforeApply?: (candidates: readonly string[]) => Promise<void>;
  } = {},
): Promise<RecomputeResult> {
  const id = parseInput(SegmentId, segmentId);
  const now = options.now ?? new Date();
  // Set when the segment itself is at fault: marked broken once this transaction has rolled back.
  let fault: { query: string; reason: string } | undefined;
  let storedQuery: string | undefined;
  try {
    return await recomputeInTransaction();
  } catch (error) {
    if (!fault && storedQuery !== undefined && isSegmentFault(error)) fault = { query: storedQuery, reason: brokenReason("database", error) };
    if (fault) {
      const mark = fault;
      await withTransaction((db) => markSegmentsBroken(db, shop, [{ id, ...mark }], now));
      logger.error({ shop, segmentId: id, reason: mark.reason }, "segment.broken");
    }
    if (isStatementTimeout(error)) throw new SegmentServiceError("too_expensive", RECOMPUTE_TOO_EXPENSIVE);
    throw error;
  }

  async function recomputeInTransaction(): Promise<RecomputeResult> {
    return withTransaction(async (db) => {
      await db.query(RECOMPUTE_SETTINGS);
      const row = await selectSegment(db, shop, id);
      if (!row) throw new SegmentServiceError("not_found", `segment ${id} not found`);
      if (row.broken_at !== null) {
        throw new SegmentServiceError("invalid", `segment ${id} is broken (${row.broken_reason ?? "its evaluation failed"}); save it with a valid query to repair it`);
      }
      storedQuery = row.query;
      const definition = analyzeSegmentQuery(row.query);
      if (!definition.ok) {
        fault = { query: row.query, reason: brokenReason("check", new Error(definition.errors.map((e) => e.message).join("; "))) };
        throw new SegmentServiceError("invalid", `stored query of segment ${id} no longer checks: ${definition.errors.map((e) => e.message).join("; ")}`, definition.errors);
      }
      const target = { id, ast: definition.ast };
      const context = { now, ...(await shopCompileSettings(db, shop)) };
      try {
        compileTargets([target], 1, context);
      } catch (error) {
        fault = { query: row.query, reason: brokenReason("compile", error) };
        throw new SegmentServiceError("invalid", `segment ${id} cannot be evaluated: ${(error as Error).message}`);
      }
      // Each statement gets SEGMENT_RECOMPUTE_TIMEOUT_MS; the wait for the exclusive lock does not count.
      const previousTimeout = await setStatementTimeout(db, recomputeTimeoutMs());
      const candidates = await findMembershipCandidates(db, shop, target, context);
      await restoreStatementTimeout(db, previousTimeout);
      await options.beforeApply?.(candidates);
      await lockShopSegmentsExclusive(db, shop);
      const { rows: fresh } = await db.query<{ query: string }>(`SELECT query FROM segments WHERE shop = $1 AND id = $2 FOR NO KEY UPDATE`, [shop, id]);
      if (fresh[0]?.query !== row.query) {
        // Edited or deleted meanwhile: the edit recomputed it under the lock already.
        return { segmentId: id, entered: 0, exited: 0, candidates: candidates.length, skipped: "definition changed" as const };
      }
      await setStatementTimeout(db, recomputeTimeoutMs());
      let result: MembershipResult = { entered: 0, exited: 0 };
      if (candidates.length > 0) {
        result = await applyMembership(
          db,
          buildMembershipStatement({ shop, targets: [target], scope: { kind: "customers", gids: candidates }, cause, changedAt: now, context }),
        );
      }
      await restoreStatementTimeout(db, previousTimeout);
      await db.query(`UPDATE segments SET last_refreshed_at = $2 WHERE id = $1`, [id, now]);
      return { segmentId: id, candidates: candidates.length, ...result };
    });
  }
}

export type RefreshReport = {
  shops: {
    shop: string;
    rfmCustomers: number;
    segments: RecomputeResult[];
    failed: { segmentId: string; error: string }[];
    /** Broken segments, skipped (decision 026). */
    broken: string[];
  }[];
};

/**
 * The scheduled refresh: for one shop or every shop with segments, recomputes the RFM
 * groups, then every segment whose membership can change without a customer event
 * (time-relative values, rfm_group, product data; every segment with `all`) or that was
 * never computed (a create or edit whose recompute failed), with history cause `refresh`. A segment that fails is reported and the others still run.
 */
export async function refreshRelativeSegments(input: { shop?: string; now?: Date; all?: boolean } = {}): Promise<RefreshReport> {
  const now = input.now ?? new Date();
  const pool = getPool();
  const shops = input.shop
    ? [input.shop]
    : (await pool.query<{ shop: string }>(`SELECT DISTINCT shop FROM segments ORDER BY shop`)).rows.map((r) => r.shop);
  const report: RefreshReport = { shops: [] };
  for (const shop of shops) {
    const log = logger.child({ shop });
    const rfm = await recomputeShopRfm(pool, shop, now);
    const { rows } = await pool.query<{ id: string; query: string; computed: boolean; broken: boolean }>(
      `SELECT id, query, last_refreshed_at IS NOT NULL AS computed, broken_at IS NOT NULL AS broken FROM segments WHERE shop = $1 ORDER BY id`,
      [shop],
    );
    const entry: RefreshReport["shops"][number] = { shop, rfmCustomers: rfm.customers, segments: [], failed: [], broken: [] };
    for (const row of rows) {
      // Broken segments wait for an edit (decision 026): retrying them would fail the same way.
      if (row.broken) {
        entry.broken.push(row.id);
        continue;
      }
      const definition = analyzeSegmentQuery(row.query);
      // Never computed (a create or edit whose recompute failed) or drifting: recompute.
      if (definition.ok && row.computed && !input.all && !needsScheduledRefresh(definition)) continue;
      try {
        const result = await recomputeSegment(shop, row.id, "refresh", { now });
        entry.segments.push(result);
      } catch (error) {
        entry.failed.push({ segmentId: row.id, error: (error as Error).message });
        log.error({ segmentId: row.id, err: error }, "segment.refresh_failed");
      }
    }
    log.info(
      {
        rfmCustomers: rfm.customers,
        segments: entry.segments.length,
        failed: entry.failed.length,
        entered: entry.segments.reduce((n, s) => n + s.entered, 0),
        exited: entry.segments.reduce((n, s) => n + s.exited, 0),
      },
      "segments.refreshed",
    );
    report.shops.push(entry);
  }
  return report;
}
