// Recomputes the RFM scores and group (rfm_group) of every live customer of a shop in one
// SQL statement. The scoring rules and the group grid live in app/domain/segments/rfm.ts;
// this statement is generated from them (the grid travels as a parameter), and the
// integration test checks it against computeRfm() on random data.
import type { PoolClient } from "pg";
import { NO_ORDERS_GROUP, RFM_GRID_CELLS } from "../../domain/segments/rfm";

type Db = Pick<PoolClient, "query">;

/** Score 1 + floor(5 * below / population) where `below` counts strictly lower values (RANK() - 1). */
const quintile = (orderBy: string) => `1 + (5 * (rank() OVER (ORDER BY ${orderBy}) - 1)) / count(*) OVER ()`;

const LIVE = "shop = $1 AND deleted_at IS NULL AND redacted_at IS NULL";

/**
 * $1 shop, $2 the grid's cells row by row (text[25]), $3 the no-orders group, $4 now.
 * Window functions rank only the customers with orders; customers without orders that are
 * not yet `prospects` (with no scores) join them; one UPDATE by primary key writes only the
 * rows whose values change (rfm_computed_at is when they were set), so a refresh of an
 * unchanged shop rewrites nothing.
 */
export const RECOMPUTE_RFM_SQL = `
WITH scored AS (
  SELECT id,
         ${quintile("last_order_at")} AS r,
         ${quintile("orders_count")} AS f,
         ${quintile("total_spent_minor")} AS m
    FROM customers
   WHERE ${LIVE} AND orders_count > 0
), target AS (
  SELECT id, r, f, m, ($2::text[])[(r - 1) * 5 + (f + m + 1) / 2] AS rfm_group FROM scored
  UNION ALL
  SELECT id, NULL, NULL, NULL, $3::text
    FROM customers
   WHERE ${LIVE} AND orders_count <= 0
     AND (rfm_group IS DISTINCT FROM $3::text OR rfm_recency IS NOT NULL OR rfm_frequency IS NOT NULL OR rfm_monetary IS NOT NULL)
), written AS (
  UPDATE customers c
     SET rfm_recency = target.r, rfm_frequency = target.f, rfm_monetary = target.m,
         rfm_group = target.rfm_group, rfm_computed_at = $4
    FROM target
   WHERE c.id = target.id
     AND (c.rfm_group IS DISTINCT FROM target.rfm_group OR c.rfm_recency IS DISTINCT FROM target.r
          OR c.rfm_frequency IS DISTINCT FROM target.f OR c.rfm_monetary IS DISTINCT FROM target.m)
  RETURNING 1
)
SELECT (SELECT count(*) FROM customers WHERE ${LIVE}) AS customers, (SELECT count(*) FROM written) AS changed`;

export type RfmRecomputeResult = {
  /** Live customers of the shop (each has a group afterwards). */
  customers: number;
  /** Customers whose scores or group changed. */
  changed: number;
};

export async function recomputeShopRfm(db: Db, shop: string, now: Date): Promise<RfmRecomputeResult> {
  const { rows } = await db.query<{ customers: string; changed: string }>(RECOMPUTE_RFM_SQL, [shop, RFM_GRID_CELLS, NO_ORDERS_GROUP, now]);
  const row = rows[0];
  return { customers: Number(row?.customers ?? 0), changed: Number(row?.changed ?? 0) };
}
