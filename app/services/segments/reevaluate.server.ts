// The webhook worker's hook: after a transaction changed some customers, re-evaluate them
// against every segment of the shop, in that same transaction.
//
// Cost: one round trip (take the shop's segment lock shared and read the definitions
// version) when the shop has no segments; two when it has (plus two to load definitions
// after they changed). The membership statement is prepared and runs a generic plan. Each process caches the checked segment trees per shop, keyed by the
// version, which every definition change replaces under the exclusive lock: the web app
// and the worker are different processes and each notices the other's changes through it.
import { logger } from "../../logger.server";
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
  targets: MembershipTarget[];
  /** Compiled filters for one calendar day: relative dates resolve to days, so they are valid all day. */
  compiled?: { day: string; value: CompiledTargets };
};

const cache = new Map<string, CachedShop>();

/** Forgets cached definitions (tests that rebuild a database under a running process). */
export function clearSegmentDefinitionCache(): void {
  cache.clear();
}

async function loadShop(db: Db, shop: string, version: string): Promise<CachedShop> {
  const [segments, shopRow] = [
    await db.query<{ id: string; query: string }>({ name: "crm-segments-definitions", text: `SELECT id, query FROM segments WHERE shop = $1 ORDER BY id`, values: [shop] }),
    await db.query<{ currency_code: string | null }>({ name: "crm-segments-shop-currency", text: `SELECT "currencyCode" AS currency_code FROM shops WHERE domain = $1`, values: [shop] }),
  ];
  const currency = shopRow.rows[0]?.currency_code ?? null;
  const targets: MembershipTarget[] = [];
  for (const row of segments.rows) {
    const definition = analyzeSegmentQuery(row.query);
    if (!definition.ok) {
      // Stored queries were checked when saved; one that no longer checks (the catalogue
      // changed) is left out here and reported, and the refresh job reports it too.
      logger.error({ shop, segmentId: row.id, errors: definition.errors.map((e) => e.message) }, "segment.definition_invalid");
      continue;
    }
    try {
      compileTargets([{ id: row.id, ast: definition.ast }], 1, { now: new Date(), currency });
    } catch (error) {
      logger.error({ shop, segmentId: row.id, err: error }, "segment.definition_uncompilable");
      continue;
    }
    targets.push({ id: row.id, ast: definition.ast });
  }
  const entry = { version, currency, targets };
  cache.set(shop, entry);
  return entry;
}

/**
 * Re-evaluates these customers against all of the shop's segments and applies the entries
 * and exits (history cause `event`, with the inbox id when given). Call it inside the
 * transaction that changed the customers, once, after its last customer write: it holds the
 * shop's segment lock shared until that transaction ends, so a segment edit or recompute
 * waits for it (and it waits for them).
 */
export async function reevaluateSegmentsForCustomers(
  db: Db,
  shop: string,
  customerGids: readonly string[],
  cause: { kind: "event"; inboxId?: string | null },
  options: { now?: Date; deferCounts?: boolean } = {},
): Promise<MembershipResult & { countDeltas?: SegmentCountDeltas }> {
  if (customerGids.length === 0) return { entered: 0, exited: 0 };
  const { version, previousPlanCacheMode } = await lockShopSegmentsShared(db, shop);
  if (version === "0") return { entered: 0, exited: 0 };
  let entry = cache.get(shop);
  if (!entry || entry.version !== version) entry = await loadShop(db, shop, version);
  if (entry.targets.length === 0) {
    await setPlanCacheMode(db, previousPlanCacheMode);
    return { entered: 0, exited: 0 };
  }
  const now = options.now ?? new Date();
  const context = { now, currency: entry.currency };
  // Shops are evaluated in UTC (app/domain/segments/dates.ts): the UTC day keys the cache.
  const day = now.toISOString().slice(0, 10);
  if (entry.compiled?.day !== day) entry.compiled = { day, value: compileTargets(entry.targets, FIRST_FILTER_PARAM.customers, context) };
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
  // Prepared: the text only changes with the definitions, so each connection plans it once.
  return applyMembership(db, statement, { prepared: true });
}
