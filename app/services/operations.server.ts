// Health, metrics and pipeline statistics for operators.
import { createHash, timingSafeEqual } from "node:crypto";
import { getPool } from "../db.server";
import { getEnv } from "../env.server";
import { logger } from "../logger.server";
import { importLastDuration, importObjects, importRunning, inboxEvents, mergeSnapshots, oldestPendingSeconds, queueDepth, reconcileFailedRuns24h, reconcileLastSuccessAge, reconcileRepairs24h, registry } from "../metrics.server";
import { getReconcileFigures, type ReconcileFigures } from "./sync/health.server";
import { getImportFigures, type ImportFigures } from "./history-import/figures.server";
import { createRedis } from "../redis.server";
import { getWebhookQueue } from "../queues.server";
import { readPublishedSnapshots } from "./metrics-publisher.server";
import { autovacuumEnabled } from "./table-statistics.server";

let redis: ReturnType<typeof createRedis> | undefined;
function sharedRedis() {
  if (!redis) {
    redis = createRedis("client");
    redis.on("error", () => undefined);
  }
  return redis;
}

class CheckTimeout extends Error {}

/** One dependency's check. The answer says only "timeout" or "unavailable": the raw error
 * (hosts, users, driver messages) goes to the log, not to whoever asks /healthz. */
async function timed<T>(name: string, check: () => Promise<T>, timeoutMs = 2_000): Promise<{ ok: boolean; ms: number; error?: "timeout" | "unavailable" }> {
  const started = performance.now();
  try {
    await Promise.race([check(), new Promise((_, reject) => setTimeout(() => reject(new CheckTimeout()), timeoutMs).unref())]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (error) {
    logger.warn({ err: error, check: name }, "health.check_failed");
    return { ok: false, ms: Math.round(performance.now() - started), error: error instanceof CheckTimeout ? "timeout" : "unavailable" };
  }
}

export async function checkHealth() {
  const [database, redisCheck, autovacuum] = await Promise.all([
    timed("database", () => getPool().query("SELECT 1")),
    timed("redis", () => sharedRedis().ping()),
    autovacuumEnabled().catch(() => null),
  ]);
  // Warnings do not fail the check: the service works, an operator should know.
  const warnings = autovacuum === false ? ["PostgreSQL autovacuum is off: the worker analyses stale tables itself; schedule VACUUM to remove dead rows"] : [];
  return { ok: database.ok && redisCheck.ok, checks: { database, redis: redisCheck }, warnings };
}

export type EventStats = { received: number; processed: number; pending: number; failed: number; dead: number; ignored: number };

export async function getEventStats(shop?: string): Promise<EventStats> {
  const { rows } = await getPool().query<{ status: string; count: string }>(
    `SELECT status::text, count(*) AS count FROM webhook_events WHERE ($1::text IS NULL OR shop = $1) GROUP BY status`,
    [shop ?? null],
  );
  const by = Object.fromEntries(rows.map((r) => [r.status, Number(r.count)]));
  const processed = by.processed ?? 0;
  const pending = (by.received ?? 0) + (by.failed ?? 0);
  const failed = by.failed ?? 0;
  const dead = by.dead ?? 0;
  const ignored = by.ignored ?? 0;
  return { received: processed + pending + dead + ignored, processed, pending, failed, dead, ignored };
}

export async function getOldestPendingAgeSeconds(shop?: string): Promise<number> {
  const { rows } = await getPool().query<{ age: number | null }>(
    `SELECT EXTRACT(EPOCH FROM now() - min(received_at))::float8 AS age FROM webhook_events
      WHERE status IN ('received', 'failed') AND ($1::text IS NULL OR shop = $1)`,
    [shop ?? null],
  );
  return rows[0]?.age ?? 0;
}

/**
 * Whether a request may read /metrics: always when METRICS_BEARER_TOKEN is unset, otherwise
 * only with `Authorization: Bearer <token>` (compared in constant time).
 */
export function metricsAccessAllowed(authorization: string | null): boolean {
  const token = getEnv().METRICS_BEARER_TOKEN;
  if (!token) return true;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  if (!match) return false;
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(match[1]!), digest(token));
}

type InboxGauges = {
  stats: EventStats | null;
  oldest: number | null;
  counts: Record<string, number> | null;
  reconcile: ReconcileFigures | null;
  imports: ImportFigures | null;
};

/** The inbox and queue gauges, computed at most once per METRICS_CACHE_MS (one computation
 * in flight at a time): a scrape storm costs one count over the inbox per window. */
let inboxGauges: { at: number; value: Promise<InboxGauges> } | undefined;

function getInboxGauges(): Promise<InboxGauges> {
  const now = Date.now();
  if (!inboxGauges || now - inboxGauges.at >= getEnv().METRICS_CACHE_MS) {
    inboxGauges = {
      at: now,
      value: Promise.all([
        getEventStats().catch(() => null),
        getOldestPendingAgeSeconds().catch(() => null),
        getWebhookQueue().getJobCounts("waiting", "active", "delayed", "failed", "completed").catch(() => null),
        getReconcileFigures().catch(() => null),
        getImportFigures().catch(() => null),
      ]).then(([stats, oldest, counts, reconcile, imports]) => ({ stats, oldest, counts, reconcile, imports })),
    };
  }
  return inboxGauges.value;
}

/** Prometheus text: this process's metrics merged with what workers published. */
export async function renderMetrics(): Promise<{ contentType: string; body: string }> {
  const [{ stats, oldest, counts, reconcile, imports }, published] = await Promise.all([getInboxGauges(), readPublishedSnapshots(sharedRedis()).catch(() => [])]);
  const live = [inboxEvents, oldestPendingSeconds, queueDepth, reconcileLastSuccessAge, reconcileRepairs24h, reconcileFailedRuns24h, importObjects, importRunning, importLastDuration];
  live.forEach((gauge) => gauge.reset());
  if (stats) for (const status of ["processed", "pending", "failed", "dead", "ignored"] as const) inboxEvents.set({ status }, stats[status]);
  if (oldest !== null) oldestPendingSeconds.set(oldest);
  if (counts) for (const [state, value] of Object.entries(counts)) queueDepth.set({ state }, value);
  if (reconcile) {
    if (reconcile.lastSuccessAgeSeconds !== null) reconcileLastSuccessAge.set(reconcile.lastSuccessAgeSeconds);
    for (const r of reconcile.repairs24h) reconcileRepairs24h.set({ object: r.objectType, action: r.action }, r.count);
    reconcileFailedRuns24h.set(reconcile.failedRuns24h);
  }
  if (imports) {
    for (const o of imports.objects) importObjects.set({ type: o.type }, o.count);
    importRunning.set(imports.running);
    if (imports.lastDurationSeconds !== null) importLastDuration.set(imports.lastDurationSeconds);
  }
  const own = await registry.getMetricsAsJSON();
  const liveJson = await Promise.all(live.map((gauge) => gauge.get()));
  const merged = mergeSnapshots([[...own, ...liveJson] as never, ...published]);
  return { contentType: merged.contentType, body: await merged.metrics() };
}
