// Re-enqueues inbox rows that were persisted but never queued (Redis was down when
// the webhook arrived) or whose job was lost. Job ids make re-adding a queued job a no-op.
import { logger } from "../app/logger.server";
import { findUnqueuedInboxRows } from "../app/services/process-inbox-event.server";
import { enqueueApplyWebhooks } from "./queues";

export async function sweepInboxOnce({ olderThanMs = 5_000, limit = 1_000 } = {}): Promise<number> {
  const rows = await findUnqueuedInboxRows(olderThanMs, limit);
  if (rows.length === 0) return 0;
  await enqueueApplyWebhooks(rows.map((row) => ({ inboxId: row.id, replays: row.replays })));
  logger.info({ count: rows.length }, "inbox.swept");
  return rows.length;
}

export function startInboxSweeper({ intervalMs }: { intervalMs: number }) {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweepInboxOnce()
      .catch((error) => logger.warn({ err: (error as Error).message }, "inbox.sweep_failed"))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  return { stop: () => clearInterval(timer) };
}
