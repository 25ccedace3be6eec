// History import figures for /metrics (issue 13): whole-installation gauges from
// import_runs / import_run_objects, no per-shop labels (like the reconciliation's).
import { getPool } from "../../db.server";

export type ImportFigures = {
  /** Objects saved by each shop's latest import, summed over shops, by object type. */
  objects: { type: string; count: number }[];
  /** Imports running now. */
  running: number;
  /** Duration of the import that finished last (done or failed), in seconds; null: none yet. */
  lastDurationSeconds: number | null;
};

export async function getImportFigures(): Promise<ImportFigures> {
  const pool = getPool();
  const { rows: objects } = await pool.query<{ type: string; n: string }>(
    `SELECT o.object_type AS type, sum(o.merged)::text AS n
       FROM (SELECT DISTINCT ON (shop) id FROM import_runs ORDER BY shop, id DESC) latest
       JOIN import_run_objects o ON o.run_id = latest.id
      GROUP BY o.object_type ORDER BY o.object_type`,
  );
  const { rows: running } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM import_runs WHERE state = 'running'`);
  const { rows: last } = await pool.query<{ seconds: number }>(
    `SELECT EXTRACT(EPOCH FROM finished_at - started_at)::float8 AS seconds FROM import_runs
      WHERE finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1`,
  );
  return {
    objects: objects.map((r) => ({ type: r.type, count: Number(r.n) })),
    running: running[0]?.n ?? 0,
    lastDurationSeconds: last[0]?.seconds ?? null,
  };
}
