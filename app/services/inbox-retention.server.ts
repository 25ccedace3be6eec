// Inbox retention (decision 038): the raw body of a processed or ignored inbox row is
// dropped (payload NULL, payload_dropped_at set) once the row is older than the retention
// period (INBOX_RETENTION_DAYS, default 30). The row itself (shop, topic, ids, times,
// status) stays: it keeps dedupe working and the pipeline's history readable. Rows still
// waiting, failed or dead keep their bodies (they may be applied or replayed). Such a row
// can no longer be replayed: replayEvents refuses it with the reason.
import type { Queryable } from "../db.server";

export const DAY_MS = 86_400_000;

export type RetentionReport = { dropped: number; batches: number; cutoff: string; complete: boolean };

/**
 * Drops the bodies of processed/ignored rows processed before `now - retentionDays`, in
 * batches of `batchSize` rows (each its own statement, rows locked by another transaction
 * skipped), at most `maxBatches` per call; `complete` says whether nothing old is left.
 */
export async function dropExpiredInboxPayloads(
  db: Queryable,
  { retentionDays, now = new Date(), batchSize = 1_000, maxBatches = 100 }: { retentionDays: number; now?: Date; batchSize?: number; maxBatches?: number },
): Promise<RetentionReport> {
  if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new Error(`retentionDays must be a whole number of days >= 1, got ${retentionDays}`);
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MS);
  let dropped = 0;
  let batches = 0;
  while (batches < maxBatches) {
    batches += 1;
    const result = await db.query({
      name: "crm-inbox-retention-drop",
      // The subquery reads the partial index webhook_events_retention_idx in processed_at order.
      text: `UPDATE webhook_events SET payload = NULL, payload_dropped_at = $2
              WHERE id IN (SELECT id FROM webhook_events
                            WHERE payload IS NOT NULL AND status IN ('processed', 'ignored') AND processed_at < $1
                            ORDER BY processed_at LIMIT $3 FOR UPDATE SKIP LOCKED)`,
      values: [cutoff, now, batchSize],
    });
    const count = result.rowCount ?? 0;
    dropped += count;
    if (count < batchSize) return { dropped, batches, cutoff: cutoff.toISOString(), complete: true };
  }
  return { dropped, batches, cutoff: cutoff.toISOString(), complete: false };
}
