// The webhook worker's hook: after a transaction changed some customers, re-evaluate them
// against every segment of the shop, in that same transaction.
//
// Cost: one round trip (take the shop's segment lock shared and read the definitions
// version) when the shop has no segments; two when it has (plus two to load definitions
// after they changed), and two more for the savepoint around the membership statement
// (decision 026). The membership statement is prepared and runs a generic plan. Each process caches the checked segment trees per shop, keyed by the
// version, which every definition change replaces under the exclusive lock: the web app
// and the worker are different processes and each notices the other's changes through it.
import { logger } from "../../logger.server";
import { isTimeZone } from "../../domain/format";
import { calendarDayAt } from "../../domain/segments/dates";
import { brokenReason, isSegmentFault, markSegmentsBroken, type BrokenMark } from "./broken.server";
import { analyzeSegmentQuery } from "./definition";
import {
  applyMembership,
  buildMembershipStatement,
  FIRST_FILTER_PARAM,
  compileTargets,
  lockShopSegmentsShared,
  setPlanCacheMode,
  type CompiledTargets,
  type Db,
  type MembershipResult,
  type SegmentCountDeltas,
  type MembershipTarget,
} from "./membership.server";

type CachedShop = {
  version: string;
  currency: string | null;
  /** The shop's time zone (relative dates resolve in it; a change bumps the definitions version). */
  timeZone: string;
  /** The shop's segments that are not broken, with the query text each was checked from. */
  targets: (MembershipTarget & { query: string })[];
  /** Compiled filters for one calendar day: relative dates resolve to days, so they are valid all day. */
  compiled?: { day: string; value: CompiledTargets };
  /**
   * Segments found broken by this process, until their mark is known to be stored: the mark is
   * written in the caller's transaction, which may roll back for another reason, so it is
   * written again by each later call until an update finds nothing left to mark.
   */
  pending: Map<string, BrokenMark>;
  /** Whether a live segment uses the app's feedback or loyalty attributes (definition.ts usesAppData). */
  usesAppData: boolean;
};

const cache = new Map<string, CachedShop>();

/** Forgets cached definitions (tests that rebuild a database under a running process). */
export function clearSegmentDefinitionCache(): void {
  cache.clear();
}

async function loadShop(db: Db, shop: string, version: string): Promise<CachedShop> {
  const [segments, shopRow] = [
    await db.query<{ id: string; query: string }>({
      name: "crm-segments-live-definitions",
      text: `SELECT id, query FROM segments WHERE shop = $1 AND broken_at IS NULL ORDER BY id`,
      values: [shop],
    }),
    await db.query<{ currency_code: string | null; zone: string | null }>({
      name: "crm-segments-shop-settings",
      text: `SELECT "currencyCode" AS currency_code, "ianaTimezone" AS zone FROM shops WHERE domain = $1`,
      values: [shop],
    }),
  ];
  const currency = shopRow.rows[0]?.currency_code ?? null;
  const zone = shopRow.rows[0]?.zone;
  const timeZone = isTimeZone(zone) ? zone : "UTC";
  const entry: CachedShop = { version, currency, timeZone, targets: [], pending: new Map(), usesAppData: false };
  for (const row of segments.rows) {
    const definition = analyzeSegmentQuery(row.query);
    if (!definition.ok) {
      // Stored queries were checked when saved; one that no longer checks (the catalogue or
      // the checker's bounds changed, or it was written around the checker) is marked broken.
      const reason = brokenReason("check", new Error(definition.errors.map((e) => e.message).join("; ")));
      logger.error({ shop, segmentId: row.id, reason }, "segment.broken");
      entry.pending.set(row.id, { id: row.id, query: row.query, reason });
      continue;
    }
    entry.targets.push({ id: row.id, ast: definition.ast, query: row.query });
    if (definition.usesAppData) entry.usesAppData = true;
  }
  cache.set(shop, entry);
  return entry;
}

/** Compiles the targets for the scoped statement; a target the compiler rejects is marked broken and left out. */
function compileForDay(shop: string, entry: CachedShop, context: { now: Date; currency: string | null; timeZone: string }): CompiledTargets {
  try {
    return compileTargets(entry.targets, FIRST_FILTER_PARAM.customers, context);
  } catch {
    // Find which: compile each alone (pure and cheap), keep those that compile.
    const kept: CachedShop["targets"] = [];
    for (const target of entry.targets) {
      try {
        compileTargets([target], FIRST_FILTER_PARAM.customers, context);
        kept.push(target);
      } catch (error) {
        const reason = brokenReason("compile", error);
        logger.error({ shop, segmentId: target.id, reason }, "segment.broken");
        entry.pending.set(target.id, { id: target.id, query: target.query, reason });
      }
    }
    entry.targets = kept;
    return compileTargets(entry.targets, FIRST_FILTER_PARAM.customers, context);
  }
}

/** Writes the pending marks; forgets them once an update finds nothing left to mark (stored by an earlier, committed call). */
async function flushPending(db: Db, shop: string, entry: CachedShop, now: Date): Promise<void> {
  if (entry.pending.size === 0) return;
  const changed = await markSegmentsBroken(db, shop, [...entry.pending.values()], now);
  if (changed === 0) entry.pending.clear();
}

const SAVEPOINT = "crm_segment_membership";
const SAVEPOINT_ONE = "crm_segment_membership_one";

/**
 * Re-evaluates these customers against all of the shop's segments and applies the entries
 * and exits (history cause `event`, with the inbox id when given). Call it inside the
 * transaction that changed the customers, once, after its last customer write: it holds the
 * shop's segment lock shared until that transaction ends, so a segment edit or recompute
 * waits for it (and it waits for them).
 *
 * Containment (decision 026): a segment that cannot be evaluated never fails the caller's
 * transaction. The compiler's failures are found before any SQL runs; the statement runs
 * under a savepoint (one per call, that is per shop per batch), and when PostgreSQL rejects
 * it for a fault of a segment's filter, each segment is re-run alone under its own savepoint
 * and the ones that fail are marked broken and skipped from then on. A transient error
 * (timeout, deadlock, lost connection) is thrown as before, for the caller's retry.
 */
export async function reevaluateSegmentsForCustomers(
  db: Db,
  shop: string,
  customerGids: readonly string[],
  cause: { kind: "event"; inboxId?: string | null },
  options: {
    now?: Date;
    deferCounts?: boolean;
    /**
     * Only when a segment of the shop uses feedback or loyalty attributes (a second pass after
     * loyalty changed points or tiers). Decided from this process's cached definitions first,
     * so a shop known to have none costs no round trip.
     */
    onlyIfAppData?: boolean;
  } = {},
): Promise<MembershipResult & { countDeltas?: SegmentCountDeltas }> {
  if (customerGids.length === 0) return { entered: 0, exited: 0 };
  if (options.onlyIfAppData && cache.get(shop)?.usesAppData === false) return { entered: 0, exited: 0 };
  const { version, previousPlanCacheMode } = await lockShopSegmentsShared(db, shop);
  if (version === "0") return { entered: 0, exited: 0 };
  let entry = cache.get(shop);
  if (!entry || entry.version !== version) entry = await loadShop(db, shop, version);
  if (options.onlyIfAppData && !entry.usesAppData) {
    await setPlanCacheMode(db, previousPlanCacheMode);
    return { entered: 0, exited: 0 };
  }
  const now = options.now ?? new Date();
  const context = { now, currency: entry.currency, timeZone: entry.timeZone };
  // Relative dates resolve to days in the shop's zone (decision 047): that calendar day keys the cache.
  const day = calendarDayAt(now, entry.timeZone);
  if (entry.compiled?.day !== day) entry.compiled = { day, value: compileForDay(shop, entry, context) };
  await flushPending(db, shop, entry, now);
  if (entry.targets.length === 0) {
    await setPlanCacheMode(db, previousPlanCacheMode);
    return { entered: 0, exited: 0 };
  }
  const statement = buildMembershipStatement({
    shop,
    targets: entry.targets,
    scope: { kind: "customers", gids: customerGids },
    cause: cause.kind,
    inboxId: cause.inboxId ?? null,
    changedAt: now,
    context,
    compiled: entry.compiled.value,
    restorePlanCacheMode: previousPlanCacheMode,
    deferCounts: options.deferCounts ?? false,
  });
  await db.query(`SAVEPOINT ${SAVEPOINT}`);
  try {
    // Prepared: the text only changes with the definitions, so each connection plans it once.
    const result = await applyMembership(db, statement, { prepared: true });
    await db.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
    return result;
  } catch (error) {
    await db.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
    if (!isSegmentFault(error)) throw error;
    const result = await applyOneByOne(db, shop, entry, { customerGids, cause, now, context, deferCounts: options.deferCounts ?? false });
    await db.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
    // The failed statement's plan_cache_mode change was rolled back with it.
    await setPlanCacheMode(db, previousPlanCacheMode);
    return result;
  }
}

/** Each segment alone under its own savepoint; the ones PostgreSQL rejects are marked broken. */
async function applyOneByOne(
  db: Db,
  shop: string,
  entry: CachedShop,
  input: {
    customerGids: readonly string[];
    cause: { kind: "event"; inboxId?: string | null };
    now: Date;
    context: { now: Date; currency: string | null; timeZone?: string };
    deferCounts: boolean;
  },
): Promise<MembershipResult & { countDeltas?: SegmentCountDeltas }> {
  const total: MembershipResult & { countDeltas?: SegmentCountDeltas } = { entered: 0, exited: 0 };
  const broken: string[] = [];
  for (const target of entry.targets) {
    const statement = buildMembershipStatement({
      shop,
      targets: [target],
      scope: { kind: "customers", gids: input.customerGids },
      cause: input.cause.kind,
      inboxId: input.cause.inboxId ?? null,
      changedAt: input.now,
      context: input.context,
      deferCounts: input.deferCounts,
    });
    await db.query(`SAVEPOINT ${SAVEPOINT_ONE}`);
    try {
      const result: MembershipResult & { countDeltas?: SegmentCountDeltas } = await applyMembership(db, statement);
      await db.query(`RELEASE SAVEPOINT ${SAVEPOINT_ONE}`);
      total.entered += result.entered;
      total.exited += result.exited;
      if (result.countDeltas) (total.countDeltas ??= []).push(...result.countDeltas);
    } catch (error) {
      await db.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT_ONE}`);
      if (!isSegmentFault(error)) throw error;
      const reason = brokenReason("database", error);
      logger.error({ shop, segmentId: target.id, reason }, "segment.broken");
      entry.pending.set(target.id, { id: target.id, query: target.query, reason });
      broken.push(target.id);
    }
  }
  if (input.deferCounts) total.countDeltas ??= [];
  if (broken.length > 0) {
    entry.targets = entry.targets.filter((t) => !broken.includes(t.id));
    entry.compiled = undefined;
    await flushPending(db, shop, entry, input.now);
  }
  return total;
}
