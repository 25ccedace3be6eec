// The Pipeline page of the merchant admin: how this shop's webhook deliveries fared,
// how far behind the worker is, and the dead letters with a replay action.
import { autovacuumEnabled } from "./table-statistics.server";
import { getPool } from "../db.server";
import { logger } from "../logger.server";
import { WEBHOOK_STATUSES, type PipelineOverview, type ReplayResult, type WebhookStatusName } from "../domain/admin/view-models";
import { replayEvents } from "./event-replay.server";
import { writeAudit } from "./crm-store.server";
import { displayDuration } from "./admin-format.server";
import { createFormatter, type Formatter } from "../domain/format";

export const DEAD_LETTERS_SHOWN = 50;
/** One "replay all" request replays at most this many dead letters (decision 040). */
export const REPLAY_ALL_LIMIT = 1_000;

function pendingSummary(count: number, age: number | null): PipelineOverview["pending"] {
  return { count, oldestAge: count > 0 && age !== null ? displayDuration(age) : null };
}

export async function getPipelineOverview({ shop, now = new Date(), fmt = createFormatter() }: { shop: string; now?: Date; fmt?: Formatter }): Promise<PipelineOverview> {
  const pool = getPool();
  const [autovacuum, counts, pending, lag, dead] = await Promise.all([
    autovacuumEnabled().catch(() => null),
    pool.query<{ status: WebhookStatusName; count: number }>(
      `SELECT status::text AS status, count(*)::int AS count FROM webhook_events WHERE shop = $1 GROUP BY status`,
      [shop],
    ),
    pool.query<{ age: number | null }>(
      `SELECT EXTRACT(EPOCH FROM $2::timestamptz - min(received_at))::float8 AS age
         FROM webhook_events WHERE shop = $1 AND status IN ('received', 'failed')`,
      [shop, now],
    ),
    // Apply lag of the events received in the last hour that are applied (uses the
    // (status, received_at) index; replays of old events do not skew it).
    pool.query<{ samples: number; avg: number | null; max: number | null }>(
      `SELECT count(*)::int AS samples,
              avg(EXTRACT(EPOCH FROM processed_at - received_at))::float8 AS avg,
              max(EXTRACT(EPOCH FROM processed_at - received_at))::float8 AS max
         FROM webhook_events
        WHERE status = 'processed' AND received_at >= $2::timestamptz - interval '1 hour' AND shop = $1 AND processed_at IS NOT NULL`,
      [shop, now],
    ),
    pool.query<{ id: string; topic: string; received_at: Date; attempts: number; replays: number; last_error: string | null }>(
      `SELECT id, topic, received_at, attempts, replays, last_error FROM webhook_events
        WHERE shop = $1 AND status = 'dead' ORDER BY received_at DESC, id DESC LIMIT $2`,
      [shop, DEAD_LETTERS_SHOWN],
    ),
  ]);
  const byStatus = Object.fromEntries(WEBHOOK_STATUSES.map((s) => [s, 0])) as Record<WebhookStatusName, number>;
  for (const row of counts.rows) if (row.status in byStatus) byStatus[row.status] = row.count;
  const pendingRow = pending.rows[0];
  const lagRow = lag.rows[0];
  return {
    autovacuum,
    counts: byStatus,
    total: Object.values(byStatus).reduce((sum, n) => sum + n, 0),
    // Counted from the same snapshot as the outcomes, so the page always adds up while
    // deliveries keep arriving; the oldest age comes from its own query.
    pending: pendingSummary(byStatus.received + byStatus.failed, pendingRow?.age ?? null),
    applyLag: {
      samples: lagRow?.samples ?? 0,
      average: lagRow?.samples ? displayDuration(lagRow.avg) : null,
      max: lagRow?.samples ? displayDuration(lagRow.max) : null,
    },
    deadLetters: dead.rows.map((r) => ({
      id: r.id,
      topic: r.topic,
      receivedAt: fmt.dateTime(r.received_at) ?? "",
      attempts: r.attempts,
      replays: r.replays,
      lastError: r.last_error,
    })),
    deadTotal: byStatus.dead,
    replayAllLimit: REPLAY_ALL_LIMIT,
    generatedAt: fmt.dateTime(now) ?? "",
  };
}

/**
 * Sends this shop's dead-lettered events (the given ids, or the oldest `limit` of them,
 * in batches) back to the worker and records who asked in the audit log. For "all" the
 * result says how many remain dead-lettered, so the page can offer the next ones.
 */
export async function replayDeadLetters({
  shop,
  ids,
  actor,
  limit = REPLAY_ALL_LIMIT,
}: {
  shop: string;
  ids?: string[];
  actor: string;
  limit?: number;
}): Promise<ReplayResult> {
  const result = await replayEvents({ shop, status: "dead", ids, limit: ids ? undefined : limit });
  await writeAudit(getPool(), {
    shop,
    actor,
    action: "webhook_events.replay",
    subject: ids?.length === 1 ? `webhook_event:${ids[0]}` : null,
    details: { status: "dead", requested: ids ?? "all", replayed: result.ids, enqueued: result.enqueued },
  });
  logger.info({ shop, replayed: result.replayed, enqueued: result.enqueued, remaining: result.remaining }, "webhook_events.replayed");
  return { replayed: result.replayed, enqueued: result.enqueued, scope: ids ? "one" : "all", remaining: result.remaining ?? null, limit };
}
