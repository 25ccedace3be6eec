// Re-enqueues inbox rows that were persisted but never queued (Redis was down when
// the webhook arrived) or whose job was lost. Job ids make re-adding a queued job a no-op.
import { logger } from "../app/logger.server";
import { deadLetterUnrecorded, findUnqueuedInboxRows } from "../app/services/process-inbox-event.server";
import { applyWebhookJobId, enqueueApplyWebhooks, getWebhookQueue } from "../app/queues.server";

export async function sweepInboxOnce({ olderThanMs = 5_000, limit = 1_000 } = {}): Promise<number> {
  const rows = await findUnqueuedInboxRows(olderThanMs, limit);
  if (rows.length === 0) return 0;
  // Re-adding an existing job id is a no-op, so a row whose job BullMQ failed for good
  // without our processor recording it (a worker that died on it more than maxStalledCount
  // times: "job stalled more than allowable limit") would stay pending forever: dead-letter
  // it instead, with BullMQ's reason, for `crm events replay`.
  const queue = getWebhookQueue();
  const jobIds = rows.map((row) => applyWebhookJobId(row.id, row.replays));
  const states = await Promise.all(jobIds.map((jobId) => queue.getJobState(jobId)));
  const requeue: typeof rows = [];
  let deadLettered = 0;
  for (const [index, row] of rows.entries()) {
    if (states[index] !== "failed") {
      requeue.push(row);
      continue;
    }
    const job = await queue.getJob(jobIds[index]!);
    const reason = `job failed outside the processor: ${job?.failedReason ?? "unknown reason"}`;
    if (await deadLetterUnrecorded(row.id, reason)) {
      deadLettered += 1;
      logger.error({ inboxId: row.id, jobId: jobIds[index], reason }, "event.dead_lettered");
    }
  }
  if (requeue.length > 0) await enqueueApplyWebhooks(requeue.map((row) => ({ inboxId: row.id, replays: row.replays })));
  logger.info({ count: rows.length, deadLettered }, "inbox.swept");
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
