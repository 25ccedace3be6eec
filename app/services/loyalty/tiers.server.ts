// Tier evaluation: the value over the program's window (points earned, or net spend), the tier
// it reaches (app/domain/loyalty/tiers.ts), and a loyalty_tier_changes row when it differs
// from the customer's current tier. Callers hold the customers' row locks.
import type { Queryable } from "../../db.server";
import type { ProgramVersion } from "../../domain/loyalty/program";
import { tierFor, tierWindowStart } from "../../domain/loyalty/tiers";
import { loadCurrentTiers } from "./store.server";

export type TierChange = { customerGid: string; fromTier: string | null; toTier: string | null; value: bigint };

/**
 * Points earned over the window: earn and bonus entries and their reversals, each dated by its
 * order when it has one (a refund next year takes points from the year the order counted in).
 */
export async function pointsEarned(db: Queryable, shop: string, customerGids: readonly string[], start: Date | null, now: Date): Promise<Map<string, bigint>> {
  const { rows } = await db.query<{ customer_gid: string; value: string }>({
    name: "loyalty-tier-points",
    text: `SELECT l.customer_gid, sum(l.points) AS value
             FROM loyalty_ledger l LEFT JOIN orders o ON o.shop = l.shop AND o.gid = l.order_gid
            WHERE l.shop = $1 AND l.customer_gid = ANY($2::text[]) AND l.kind IN ('earn', 'bonus', 'reverse')
              AND COALESCE(o.shopify_created_at, l.occurred_at) <= $4
              AND ($3::timestamptz IS NULL OR COALESCE(o.shopify_created_at, l.occurred_at) >= $3)
            GROUP BY l.customer_gid`,
    values: [shop, [...customerGids], start, now],
  });
  return new Map(rows.map((r) => [r.customer_gid, BigInt(r.value)]));
}

/** Net spend over the window, in minor units: orders neither test nor cancelled, total minus refunds, dated by the order. */
export async function netSpend(db: Queryable, shop: string, customerGids: readonly string[], start: Date | null, now: Date): Promise<Map<string, bigint>> {
  const { rows } = await db.query<{ customer_gid: string; value: string }>({
    name: "loyalty-tier-spend",
    text: `SELECT customer_gid, sum(total_price_minor - refunded_minor) AS value
             FROM orders
            WHERE shop = $1 AND customer_gid = ANY($2::text[]) AND NOT test AND cancelled_at IS NULL
              AND shopify_created_at <= $4 AND ($3::timestamptz IS NULL OR shopify_created_at >= $3)
            GROUP BY customer_gid`,
    values: [shop, [...customerGids], start, now],
  });
  return new Map(rows.map((r) => [r.customer_gid, BigInt(r.value)]));
}

/**
 * Re-evaluates the customers' tiers under `program` (the version in force now) and records
 * the changes. With no tiers configured, a customer who had one goes to none.
 */
export async function evaluateTiers(db: Queryable, shop: string, customerGids: readonly string[], { program, now, cause }: { program: ProgramVersion; now: Date; cause: string }): Promise<TierChange[]> {
  if (customerGids.length === 0) return [];
  const gids = [...new Set(customerGids)].sort();
  const tiers = program.settings.tiers;
  const current = await loadCurrentTiers(db, shop, gids);
  const start = tiers ? tierWindowStart({ window: tiers.window, timeZone: program.settings.timeZone, now }) : null;
  const values = !tiers ? new Map<string, bigint>() : tiers.metric === "points_earned" ? await pointsEarned(db, shop, gids, start, now) : await netSpend(db, shop, gids, start, now);
  const changes: TierChange[] = [];
  for (const gid of gids) {
    const value = values.get(gid) ?? 0n;
    const toTier = tiers ? (tierFor({ levels: tiers.levels, value })?.name ?? null) : null;
    const fromTier = current.get(gid) ?? null;
    if (toTier !== fromTier) changes.push({ customerGid: gid, fromTier, toTier, value });
  }
  if (changes.length > 0) {
    await db.query({
      name: "loyalty-insert-tier-changes",
      text: `INSERT INTO loyalty_tier_changes (shop, customer_gid, from_tier, to_tier, metric, window_kind, value, program_version, cause, occurred_at)
             SELECT $1, x.customer_gid, x.from_tier, x.to_tier, $3, $4, x.value, $5, $6, $7
               FROM jsonb_to_recordset($2::jsonb) AS x(customer_gid text, from_tier text, to_tier text, value bigint)`,
      values: [
        shop,
        JSON.stringify(changes.map((c) => ({ customer_gid: c.customerGid, from_tier: c.fromTier, to_tier: c.toTier, value: c.value.toString() }))),
        tiers?.metric ?? "none",
        tiers?.window ?? "none",
        program.version,
        cause,
        now,
      ],
    });
  }
  return changes;
}
