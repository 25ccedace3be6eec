// The loyalty job (run it periodically per shop, e.g. hourly): expire points after the
// program's inactivity period, re-evaluate windowed tiers (rolling 12 months and calendar year
// move with time alone), and queue tier tags through the tag outbox. Each customer chunk is its
// own transaction holding the customers' row locks, so the worker and staff adjustments queue
// behind it rather than interleave. Running it twice, or concurrently, writes nothing twice.
import { getPool, withTransaction } from "../../db.server";
import { reevaluateSegmentsForCustomers } from "../segments/reevaluate.server";
import { logger } from "../../logger.server";
import { planExpiry } from "../../domain/loyalty/expiry";
import { DAY_MS } from "../../domain/loyalty/earning";
import type { NewLedgerEntry } from "../../domain/loyalty/ledger";
import { latestVersion } from "../../domain/loyalty/program";
import { TagSyncError, reconcileTagSource, type ReconcileResult } from "../tag-sync/reconcile.server";
import { insertEntries, loadCustomerEntries, loadProgramVersions, lockLoyaltyCustomers } from "./store.server";
import { evaluateTiers, type TierChange } from "./tiers.server";

const CHUNK = 200;

export type MaintenanceResult = { expired: { customers: number; points: number }; tierChanges: TierChange[]; tagSync: ReconcileResult[] };

const chunks = <T>(items: readonly T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** Shops with a loyalty program (for the scheduler). */
export async function listLoyaltyShops(): Promise<string[]> {
  const { rows } = await getPool().query<{ shop: string }>(`SELECT shop FROM loyalty_programs ORDER BY shop`);
  return rows.map((r) => r.shop);
}

/** The job function: expiry, then tiers, then tier tags, at `now`. */
export async function runLoyaltyMaintenance({ shop, now = new Date(), syncTags = true }: { shop: string; now?: Date; syncTags?: boolean }): Promise<MaintenanceResult> {
  const result: MaintenanceResult = { expired: { customers: 0, points: 0 }, tierChanges: [], tagSync: [] };
  const current = latestVersion(await loadProgramVersions(getPool(), shop));
  if (!current) return result;

  const expiry = current.settings.expiry;
  if (expiry) {
    // Candidates: last activity before the cutoff and a positive total; the domain decides exactly.
    const { rows } = await getPool().query<{ customer_gid: string }>(
      `SELECT customer_gid FROM loyalty_ledger WHERE shop = $1 GROUP BY customer_gid
        HAVING max(occurred_at) FILTER (WHERE kind IN ('earn', 'redeem') OR (kind = 'bonus' AND idempotency_key NOT LIKE 'bonus:birthday:%')) <= $2
           AND sum(points) > 0
        ORDER BY customer_gid`,
      [shop, new Date(now.getTime() - expiry.inactivityDays * DAY_MS)],
    );
    for (const chunk of chunks(rows.map((r) => r.customer_gid), CHUNK)) {
      const written = await withTransaction(async (db) => {
        const live = await lockLoyaltyCustomers(db, shop, chunk);
        const entries = await loadCustomerEntries(db, shop, [...live]);
        const planned: NewLedgerEntry[] = [];
        for (const gid of live) {
          const entry = planExpiry({ customerGid: gid, entries: entries.filter((e) => e.customerGid === gid), settings: current.settings, now });
          if (entry) planned.push(entry);
        }
        const keys = await insertEntries(db, shop, planned);
        const expired = planned.filter((e) => keys.has(e.idempotencyKey));
        // Segments on loyalty_points follow the expiry in this transaction.
        await reevaluateSegmentsForCustomers(db, shop, expired.map((e) => e.customerGid), { kind: "event" }, { now });
        return expired;
      });
      result.expired.customers += written.length;
      result.expired.points += written.reduce((s, e) => s - e.points, 0);
    }
  }

  // Tiers: every member (anyone with ledger entries) and everyone holding a tier.
  const { rows: members } = await getPool().query<{ customer_gid: string }>(
    `SELECT customer_gid FROM loyalty_ledger WHERE shop = $1 UNION SELECT customer_gid FROM loyalty_tier_changes WHERE shop = $1 ORDER BY 1`,
    [shop],
  );
  for (const chunk of chunks(members.map((r) => r.customer_gid), CHUNK)) {
    const changes = await withTransaction(async (db) => {
      const live = await lockLoyaltyCustomers(db, shop, chunk);
      const changes = await evaluateTiers(db, shop, [...live], { program: current, now, cause: "refresh" });
      // Segments on loyalty_tier follow the new tiers in this transaction.
      await reevaluateSegmentsForCustomers(db, shop, changes.map((c) => c.customerGid), { kind: "event" }, { now });
      return changes;
    });
    result.tierChanges.push(...changes);
  }

  if (syncTags) result.tagSync = await syncTierTags(shop);
  if (result.expired.customers > 0 || result.tierChanges.length > 0) {
    logger.info({ shop, expiredCustomers: result.expired.customers, expiredPoints: result.expired.points, tierChanges: result.tierChanges.length }, "loyalty.maintained");
  }
  return result;
}

export const tierSource = (tierName: string) => `tier:${tierName}`;

/**
 * Queues tier tags through the tag outbox (the same writer as segment tags): each tier with a
 * tag is a source whose desired customers are the tier's current members; tiers removed from
 * the program, or whose tag was removed, get the tags the app added for them removed.
 */
export async function syncTierTags(shop: string): Promise<ReconcileResult[]> {
  const current = latestVersion(await loadProgramVersions(getPool(), shop));
  const levels = current?.settings.tiers?.levels ?? [];
  const results: ReconcileResult[] = [];
  const wanted = new Set<string>();
  for (const level of levels) {
    if (!level.tag) continue;
    wanted.add(tierSource(level.name));
    try {
      results.push(
        await reconcileTagSource({
          shop,
          source: tierSource(level.name),
          tag: level.tag,
          desired: {
            sql: `SELECT customer_gid FROM (SELECT DISTINCT ON (customer_gid) customer_gid, to_tier FROM loyalty_tier_changes
                                            WHERE shop = $1 ORDER BY customer_gid, id DESC) t WHERE to_tier = $2`,
            params: [shop, level.name],
          },
        }),
      );
    } catch (error) {
      // A tag another source already syncs (a segment): reported, and the other tiers still sync.
      if (!(error instanceof TagSyncError)) throw error;
      logger.warn({ shop, tier: level.name, err: error }, "loyalty.tier_tag_refused");
    }
  }
  const { rows } = await getPool().query<{ source: string }>(`SELECT DISTINCT source FROM app_added_tags WHERE shop = $1 AND source LIKE 'tier:%'`, [shop]);
  for (const { source } of rows) if (!wanted.has(source)) results.push(await reconcileTagSource({ shop, source, tag: null, desired: null }));
  return results;
}
