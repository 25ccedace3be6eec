// Operator replay of dead-lettered (or ignored) events: the row goes back to
// `received` with a new job id, and the usual exactly-once processing applies.
// "Replay all" works in batches (decision 040): each batch of at most
// REPLAY_BATCH_SIZE rows is one short UPDATE, enqueued at once, and walks the
// (received_at, id) order with a cursor, so an event dead-lettered again while the
// replay runs is not picked up twice by the same call. A bounded call (`limit`) says how
// many remain; calling it again replays the next ones (replayed rows are no longer in
// the status, so a repeated call never replays an event twice).
import { getPool } from "../db.server";
import { enqueueApplyWebhooks } from "../queues.server";
import { REDACTED_PAYLOAD } from "./privacy.server";

export type ReplayableStatus = "dead" | "ignored" | "failed";

export const REPLAY_BATCH_SIZE = 100;

export type ReplayOutcome = {
  replayed: number;
  ids: string[];
  enqueued: boolean;
  /** Events whose body is gone (inbox retention, customers/redact): left as they are, with the reason. */
  refused?: { id: string; reason: string }[];
  /** Replayable events still in the status after this call (only counted for a bounded call). */
  remaining?: number;
};

type BatchRow = { id: string; replays: number; received_key: string; last: boolean };

async function enqueue(rows: { id: string; replays: number }[]): Promise<boolean> {
  if (rows.length === 0) return true;
  try {
    await enqueueApplyWebhooks(rows.map((r) => ({ inboxId: r.id, replays: r.replays })));
    return true;
  } catch {
    // The rows are back to `received`: the worker's sweeper enqueues them once Redis answers.
    return false;
  }
}

export async function replayEvents({
  shop,
  status,
  ids,
  limit,
  batchSize = REPLAY_BATCH_SIZE,
}: {
  shop: string;
  status: ReplayableStatus;
  /** Only these events (a short list from the admin); otherwise every event in the status. */
  ids?: string[];
  /** At most this many events (in batches); unbounded when omitted (the CLI). */
  limit?: number;
  batchSize?: number;
}): Promise<ReplayOutcome> {
  const pool = getPool();
  // Rows whose body is gone cannot be replayed: dropped by the inbox retention policy (payload
  // NULL) or erased by customers/redact (the redaction marker).
  const { rows: refusedRows } = await pool.query<{ id: string; dropped: boolean }>(
    `SELECT id::text AS id, payload IS NULL AS dropped FROM webhook_events
      WHERE shop = $1 AND status = $2::"WebhookStatus" AND ($3::bigint[] IS NULL OR id = ANY($3::bigint[]))
        AND (payload IS NULL OR payload = $4) ORDER BY id`,
    [shop, status, ids ?? null, REDACTED_PAYLOAD],
  );
  const refused = refusedRows.map((r) => ({
    id: r.id,
    reason: r.dropped ? "payload dropped by the inbox retention policy (INBOX_RETENTION_DAYS)" : "payload erased by customers/redact",
  }));
  const withRefused = (outcome: ReplayOutcome): ReplayOutcome => (refused.length > 0 ? { ...outcome, refused } : outcome);
  if (ids) {
    const { rows } = await pool.query<{ id: string; replays: number }>(
      `UPDATE webhook_events SET status = 'received', replays = replays + 1, last_error = NULL, processed_at = NULL
        WHERE shop = $1 AND status = $2::"WebhookStatus" AND id = ANY($3::bigint[])
          AND payload IS NOT NULL AND payload <> $4
        RETURNING id, replays`,
      [shop, status, ids, REDACTED_PAYLOAD],
    );
    return withRefused({ replayed: rows.length, ids: rows.map((r) => r.id), enqueued: await enqueue(rows) });
  }
  const replayedIds: string[] = [];
  let enqueued = true;
  let cursor: { receivedAt: string; id: string } | null = null;
  for (;;) {
    const size = limit === undefined ? batchSize : Math.min(batchSize, limit - replayedIds.length);
    if (size <= 0) break;
    const after: { receivedAt: string; id: string } | null = cursor;
    const { rows } = await pool.query<BatchRow>(
      `WITH batch AS (
         SELECT id, received_at FROM webhook_events
          WHERE shop = $1 AND status = $2::"WebhookStatus"
            AND payload IS NOT NULL AND payload <> $6
            AND ($3::timestamptz IS NULL OR (received_at, id) > ($3::timestamptz, $4::bigint))
          ORDER BY received_at, id
          LIMIT $5
          FOR UPDATE SKIP LOCKED
       ), edge AS (
         SELECT id FROM batch ORDER BY received_at DESC, id DESC LIMIT 1
       )
       UPDATE webhook_events w SET status = 'received', replays = w.replays + 1, last_error = NULL, processed_at = NULL
         FROM batch
        WHERE w.id = batch.id
       RETURNING w.id, w.replays, batch.received_at::text AS received_key, w.id = (SELECT id FROM edge) AS last`,
      [shop, status, after?.receivedAt ?? null, after?.id ?? null, size, REDACTED_PAYLOAD],
    );
    if (rows.length === 0) break;
    if (!(await enqueue(rows))) enqueued = false;
    replayedIds.push(...rows.map((r) => r.id));
    const edge: BatchRow = rows.find((r) => r.last) ?? rows[rows.length - 1]!;
    cursor = { receivedAt: edge.received_key, id: edge.id };
    if (rows.length < size) break;
  }
  const outcome: ReplayOutcome = { replayed: replayedIds.length, ids: replayedIds, enqueued };
  if (limit !== undefined) {
    const { rows } = await pool.query<{ remaining: number }>(
      `SELECT count(*)::int AS remaining FROM webhook_events
        WHERE shop = $1 AND status = $2::"WebhookStatus" AND payload IS NOT NULL AND payload <> $3`,
      [shop, status, REDACTED_PAYLOAD],
    );
    outcome.remaining = rows[0]?.remaining ?? 0;
  }
  return withRefused(outcome);
}
