// Table statistics kept current by the app itself, so the apply step's speed never depends on
// autovacuum (off on some installs; behind on others). PostgreSQL counts each table's changes
// since its last ANALYZE (pg_stat_user_tables.n_mod_since_analyze, kept with track_counts even
// when autovacuum is off); a table whose changes pass the threshold is analysed, the same rule
// autovacuum's analyze uses (a base plus a fraction of the table). ANALYZE invalidates the
// cached generic plans of the prepared statements that read the table, so a plan made while a
// table was nearly empty (sequential scans) is replaced by one that uses its indexes.
import { getPool } from "../db.server";
import { logger } from "../logger.server";

/** Changes since the last ANALYZE that make a table stale: base + fraction of its rows. */
export const STATISTICS_THRESHOLD = { base: 500, fraction: 0.1 } as const;
const LOCK_KEY = "crm:analyze-stale-tables";

export type AnalyzedTable = { table: string; rows: number; changes: number; ms: number };

/**
 * Analyses the app's tables whose statistics are stale. One process at a time (an advisory
 * lock; a second caller returns at once with nothing done).
 */
export async function analyzeStaleTables({ base = STATISTICS_THRESHOLD.base, fraction = STATISTICS_THRESHOLD.fraction } = {}): Promise<AnalyzedTable[]> {
  const client = await getPool().connect();
  let released = false;
  try {
    const { rows: locked } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok`, [LOCK_KEY]);
    if (!locked[0]?.ok) return [];
    try {
      const { rows } = await client.query<{ table: string; rows: string; changes: string }>(
        `SELECT relname AS table, n_live_tup AS rows, n_mod_since_analyze AS changes
           FROM pg_stat_user_tables
          WHERE schemaname = current_schema() AND n_mod_since_analyze >= $1::float8 + $2::float8 * n_live_tup
          ORDER BY n_mod_since_analyze DESC`,
        [base, fraction],
      );
      const analyzed: AnalyzedTable[] = [];
      for (const row of rows) {
        const started = performance.now();
        await client.query(`ANALYZE ${client.escapeIdentifier(row.table)}`);
        analyzed.push({ table: row.table, rows: Number(row.rows), changes: Number(row.changes), ms: Math.round(performance.now() - started) });
      }
      if (analyzed.length > 0) logger.info({ tables: analyzed }, "statistics.analyzed");
      return analyzed;
    } finally {
      await client.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [LOCK_KEY]);
    }
  } catch (error) {
    released = true;
    client.release(error as Error);
    throw error;
  } finally {
    if (!released) client.release();
  }
}

/** Whether PostgreSQL's autovacuum runs (the Pipeline page and /healthz warn when it does not). */
export async function autovacuumEnabled(): Promise<boolean> {
  const { rows } = await getPool().query<{ autovacuum: string }>(`SHOW autovacuum`);
  return rows[0]?.autovacuum === "on";
}

/** Runs analyzeStaleTables every `intervalMs` in this process (the worker). */
export function startStatisticsKeeper({ intervalMs }: { intervalMs: number }) {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    analyzeStaleTables()
      .catch((error: unknown) => logger.warn({ err: error }, "statistics.analyze_failed"))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
