// Sync health figures from the database (decision 048): what /metrics shows of
// reconciliation (and, after the merge, the admin's Sync page). Whole-installation figures,
// no per-shop labels (a Prometheus series per shop would grow without bound).
import { getPool } from "../../db.server";

export type ReconcileFigures = {
  /** Age of the oldest "last successful run" among shops that have had one (null: none yet). */
  lastSuccessAgeSeconds: number | null;
  repairs24h: { objectType: string; action: string; count: number }[];
  failedRuns24h: number;
};

export async function getReconcileFigures(): Promise<ReconcileFigures> {
  const pool = getPool();
  const { rows: age } = await pool.query<{ age: number | null }>(
    `SELECT EXTRACT(EPOCH FROM now() - min(last_done))::float8 AS age
       FROM (SELECT max(finished_at) AS last_done FROM reconciliation_runs WHERE state = 'done' GROUP BY shop) s`,
  );
  const { rows: repairs } = await pool.query<{ object_type: string; action: string; n: number }>(
    `SELECT object_type, action, count(*)::int AS n FROM reconciliation_repairs WHERE created_at > now() - interval '24 hours' GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  const { rows: failed } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM reconciliation_runs WHERE state = 'failed' AND started_at > now() - interval '24 hours'`,
  );
  return {
    lastSuccessAgeSeconds: age[0]?.age ?? null,
    repairs24h: repairs.map((r) => ({ objectType: r.object_type, action: r.action, count: r.n })),
    failedRuns24h: failed[0]?.n ?? 0,
  };
}

/** The shop's last reconciliation runs, newest first (CLI, later the Sync page). */
export async function listReconcileRuns(shop: string, limit = 10) {
  const { rows } = await getPool().query(
    `SELECT id::text AS "runId", "trigger", state, watermark_from AS "watermarkFrom", watermark_to AS "watermarkTo", checked, repaired, error,
            started_at AS "startedAt", finished_at AS "finishedAt"
       FROM reconciliation_runs WHERE shop = $1 ORDER BY started_at DESC LIMIT $2`,
    [shop, limit],
  );
  return rows;
}
