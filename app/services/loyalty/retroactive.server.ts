// Retroactive points after a history import (issue 13, decision 057): when the program's
// `retroactiveDays` is above 0, the imported orders placed in the last that many days earn as
// if they had arrived as live webhooks (applyLoyaltyForOrders: the same plan, the same ledger
// keys `earn:<order gid>`, the first-order bonus and refund reversals included). An order placed
// before any program version was in force earns under the newest version. Orders that already
// have an earn entry (earned live, or by an earlier import) are skipped, and the keys make a
// second run (a re-run import, a retried finalize) award nothing. Tier changes it causes carry
// the cause `import`, so automations do not fire on them.
//
// How it fails: each chunk of orders is one transaction (customers locked in gid order, as the
// worker locks them); an error stops the run and is thrown to the import, whose finalize is
// retried as a whole: chunks already written are skipped by their keys.
import { getPool, withTransaction } from "../../db.server";
import { logger } from "../../logger.server";
import { latestVersion } from "../../domain/loyalty/program";
import { applyLoyaltyForOrders } from "./apply-orders.server";
import { loadProgramVersions } from "./store.server";

const DAY_MS = 86_400_000;
const CHUNK = 500;

export type RetroactiveReport = { days: number; orders: number; entries: number; points: number };

export async function awardRetroactivePoints(shop: string, now: Date = new Date()): Promise<RetroactiveReport> {
  const program = latestVersion(await loadProgramVersions(getPool(), shop));
  const days = program?.settings.retroactiveDays ?? 0;
  const report: RetroactiveReport = { days, orders: 0, entries: 0, points: 0 };
  if (!program || days <= 0) return report;
  const since = new Date(now.getTime() - days * DAY_MS);
  let after = "";
  for (;;) {
    const { rows } = await getPool().query<{ gid: string }>(
      `SELECT o.gid FROM orders o
        WHERE o.shop = $1 AND o.customer_gid IS NOT NULL AND NOT o.test AND o.cancelled_at IS NULL
          AND o.shopify_created_at >= $2 AND o.shopify_created_at <= $3 AND o.gid > $4
          AND NOT EXISTS (SELECT 1 FROM loyalty_ledger l WHERE l.shop = $1 AND l.idempotency_key = 'earn:' || o.gid)
        ORDER BY o.gid LIMIT $5`,
      [shop, since, now, after, CHUNK],
    );
    if (rows.length === 0) break;
    const gids = rows.map((r) => r.gid);
    const applied = await withTransaction((db) => applyLoyaltyForOrders(db, shop, gids, { now, retroactive: true, tierCause: "import" }));
    report.orders += gids.length;
    report.entries += applied.entries;
    report.points += applied.points;
    after = gids[gids.length - 1]!;
  }
  logger.info({ shop, ...report }, "loyalty.retroactive_awarded");
  return report;
}
