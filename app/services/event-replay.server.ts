// Operator replay of dead-lettered (or ignored) events: the row goes back to
// `received` with a new job id, and the usual exactly-once processing applies.
import { getPool } from "../db.server";
import { enqueueApplyWebhooks } from "../../jobs/queues";
import { REDACTED_PAYLOAD } from "./privacy.server";

export type ReplayableStatus = "dead" | "ignored" | "failed";

/**
 * Rows whose body is gone cannot be replayed: dropped by the inbox retention policy (payload
 * NULL) or erased by customers/redact (the redaction marker). They are left as they are and
 * listed in `refused` with the reason.
 */
export async function replayEvents({ shop, status, ids }: { shop: string; status: ReplayableStatus; ids?: string[] }) {
  const { rows: refusedRows } = await getPool().query<{ id: string; dropped: boolean }>(
    `SELECT id::text AS id, payload IS NULL AS dropped FROM webhook_events
      WHERE shop = $1 AND status = $2::"WebhookStatus" AND ($3::bigint[] IS NULL OR id = ANY($3::bigint[]))
        AND (payload IS NULL OR payload = $4) ORDER BY id`,
    [shop, status, ids ?? null, REDACTED_PAYLOAD],
  );
  const refused = refusedRows.map((r) => ({
    id: r.id,
    reason: r.dropped ? "payload dropped by the inbox retention policy (INBOX_RETENTION_DAYS)" : "payload erased by customers/redact",
  }));
  const { rows } = await getPool().query<{ id: string; replays: number }>(
    `UPDATE webhook_events SET status = 'received', replays = replays + 1, last_error = NULL, processed_at = NULL
      WHERE shop = $1 AND status = $2::"WebhookStatus" AND ($3::bigint[] IS NULL OR id = ANY($3::bigint[]))
        AND payload IS NOT NULL AND payload <> $4
      RETURNING id, replays`,
    [shop, status, ids ?? null, REDACTED_PAYLOAD],
  );
  let enqueued = true;
  try {
    await enqueueApplyWebhooks(rows.map((r) => ({ inboxId: r.id, replays: r.replays })));
  } catch {
    // The rows are back to `received`: the worker's sweeper enqueues them once Redis answers.
    enqueued = false;
  }
  return { replayed: rows.length, ids: rows.map((r) => r.id), enqueued, ...(refused.length > 0 ? { refused } : {}) };
}
