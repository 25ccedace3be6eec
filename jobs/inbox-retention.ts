// The inbox retention timer of the worker: every INBOX_RETENTION_INTERVAL_MS, drops the raw
// bodies of processed and ignored inbox rows older than INBOX_RETENTION_DAYS
// (app/services/inbox-retention.server.ts). Bounded: at most 100 batches of 1,000 rows per
// run; the rest is taken by the next run. How it fails: a run that throws (database down) is
// logged as inbox.retention_failed and the next run tries again; it is idempotent (rows
// already dropped are not matched), and several workers running it at once skip each
// other's locked rows.
import { getPool } from "../app/db.server";
import { logger } from "../app/logger.server";
import { dropExpiredInboxPayloads } from "../app/services/inbox-retention.server";

export async function runInboxRetentionOnce(retentionDays: number) {
  const report = await dropExpiredInboxPayloads(getPool(), { retentionDays });
  if (report.dropped > 0) logger.info({ ...report, retentionDays }, "inbox.retention_done");
  return report;
}

export function startInboxRetention({ intervalMs, retentionDays }: { intervalMs: number; retentionDays: number }) {
  let running = false;
  const tick = () => {
    if (running) return;
    running = true;
    runInboxRetentionOnce(retentionDays)
      .catch((error) => logger.warn({ err: (error as Error).message }, "inbox.retention_failed"))
      .finally(() => {
        running = false;
      });
  };
  const timer = setInterval(tick, intervalMs);
  return { stop: () => clearInterval(timer) };
}
