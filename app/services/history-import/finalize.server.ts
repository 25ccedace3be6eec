// After the merge: customer aggregates, RFM groups, loyalty tiers and segment memberships
// recomputed set-based for the whole shop. Segment entries and exits get the cause `import`
// (later automations must not fire on them). No loyalty points are awarded for imported
// orders (decision 045) unless the program's `retroactiveDays` asks for the last N days' orders
// (awardRetroactivePoints, decision 057: the live ledger keys, so nothing is awarded twice).
import { getPool, withTransaction } from "../../db.server";
import { logger } from "../../logger.server";
import { latestVersion } from "../../domain/loyalty/program";
import { awardRetroactivePoints, type RetroactiveReport } from "../loyalty/retroactive.server";
import { loadProgramVersions, lockLoyaltyCustomers } from "../loyalty/store.server";
import { evaluateTiers } from "../loyalty/tiers.server";
import { analyzeSegmentQuery } from "../segments/definition";
import { recomputeShopRfm } from "../segments/rfm.server";
import { recomputeSegment } from "../segments/segments.server";

const AGGREGATE_CHUNK = 2_000;
const TIER_CHUNK = 200;

/**
 * The aggregates of app/domain/customers/aggregates.ts computeCustomerAggregates, in SQL:
 * orders that count are neither cancelled nor test; total spent = sum(total - refunded);
 * AOV = total spent / count rounded half away from zero; first/last order = min/max created;
 * the aggregate currency is one of the customer's orders' (kept when it has none). The
 * differential test (import against webhooks) holds the two to the same results.
 */
const RECOMPUTE_AGGREGATES_SQL = `
WITH locked AS (
  SELECT c.id, c.gid FROM customers c WHERE c.shop = $1 AND c.gid = ANY($2::text[]) ORDER BY c.gid FOR UPDATE
), agg AS (
  SELECT l.id,
         count(o.id) FILTER (WHERE o.cancelled_at IS NULL AND NOT o.test) AS orders_count,
         COALESCE(sum(o.total_price_minor - o.refunded_minor) FILTER (WHERE o.cancelled_at IS NULL AND NOT o.test), 0) AS spent,
         COALESCE(sum(o.refunded_minor) FILTER (WHERE o.cancelled_at IS NULL AND NOT o.test), 0) AS refunded,
         min(o.shopify_created_at) FILTER (WHERE o.cancelled_at IS NULL AND NOT o.test) AS first_at,
         max(o.shopify_created_at) FILTER (WHERE o.cancelled_at IS NULL AND NOT o.test) AS last_at,
         (array_agg(o.currency))[1] AS currency
    FROM locked l LEFT JOIN orders o ON o.shop = $1 AND o.customer_gid = l.gid
   GROUP BY l.id
)
UPDATE customers c SET orders_count = a.orders_count, total_spent_minor = a.spent, refunded_minor = a.refunded,
       aov_minor = CASE WHEN a.orders_count = 0 THEN 0
                        ELSE sign(a.spent) * floor((2 * abs(a.spent) + a.orders_count) / (2 * a.orders_count)) END,
       first_order_at = a.first_at, last_order_at = a.last_at, aggregate_currency = COALESCE(a.currency, c.aggregate_currency), updated_at = now()
  FROM agg a
 WHERE c.id = a.id
   AND (c.orders_count, c.total_spent_minor, c.refunded_minor, c.first_order_at, c.last_order_at, c.aggregate_currency)
       IS DISTINCT FROM (a.orders_count::int, a.spent, a.refunded, a.first_at, a.last_at, COALESCE(a.currency, c.aggregate_currency))`;

/** Every customer's aggregates, in chunks of customers locked in gid order (the worker's lock order). */
export async function recomputeAllAggregates(shop: string): Promise<number> {
  let after = "";
  let customers = 0;
  for (;;) {
    const { rows } = await getPool().query<{ gid: string }>(`SELECT gid FROM customers WHERE shop = $1 AND gid > $2 ORDER BY gid LIMIT $3`, [shop, after, AGGREGATE_CHUNK]);
    if (rows.length === 0) return customers;
    const gids = rows.map((r) => r.gid);
    await withTransaction((db) => db.query(RECOMPUTE_AGGREGATES_SQL, [shop, gids]));
    customers += gids.length;
    after = gids[gids.length - 1]!;
  }
}

/** Tiers of every customer with orders or loyalty history, when the program has tiers. */
async function recomputeTiers(shop: string, now: Date): Promise<number> {
  const program = latestVersion(await loadProgramVersions(getPool(), shop));
  if (!program?.settings.tiers) return 0;
  const { rows } = await getPool().query<{ gid: string }>(
    `SELECT gid FROM customers WHERE shop = $1 AND orders_count > 0
     UNION SELECT customer_gid FROM loyalty_ledger WHERE shop = $1
     UNION SELECT customer_gid FROM loyalty_tier_changes WHERE shop = $1 ORDER BY 1`,
    [shop],
  );
  let changed = 0;
  for (let i = 0; i < rows.length; i += TIER_CHUNK) {
    const chunk = rows.slice(i, i + TIER_CHUNK).map((r) => r.gid);
    changed += await withTransaction(async (db) => {
      const live = await lockLoyaltyCustomers(db, shop, chunk);
      return (await evaluateTiers(db, shop, [...live], { program, now, cause: "import" })).length;
    });
  }
  return changed;
}

export type FinalizeReport = {
  customers: number;
  rfmChanged: number;
  /** Retroactive points (the program's retroactiveDays; nothing by default). */
  retroactive: RetroactiveReport;
  tierChanges: number;
  segments: number;
  entered: number;
  exited: number;
  failedSegments: string[];
};

export async function finalizeImport(shop: string, now: Date = new Date()): Promise<FinalizeReport> {
  // Fresh statistics for the set-based passes below (the merge just filled these tables).
  for (const table of ["customers", "orders"]) await getPool().query(`ANALYZE ${table}`);
  const customers = await recomputeAllAggregates(shop);
  const rfm = await recomputeShopRfm(getPool(), shop, now);
  // Before the tiers: points earned retroactively count toward them.
  const retroactive = await awardRetroactivePoints(shop, now);
  const tierChanges = await recomputeTiers(shop, now);
  const { rows } = await getPool().query<{ id: string; query: string }>(`SELECT id, query FROM segments WHERE shop = $1 AND broken_at IS NULL ORDER BY id`, [shop]);
  const report: FinalizeReport = { customers, rfmChanged: rfm.changed, retroactive, tierChanges, segments: 0, entered: 0, exited: 0, failedSegments: [] };
  for (const row of rows) {
    if (!analyzeSegmentQuery(row.query).ok) continue;
    try {
      const result = await recomputeSegment(shop, row.id, "import", { now });
      report.segments++;
      report.entered += result.entered;
      report.exited += result.exited;
    } catch (error) {
      report.failedSegments.push(row.id);
      logger.error({ shop, segmentId: row.id, err: error }, "import.segment_failed");
    }
  }
  return report;
}
