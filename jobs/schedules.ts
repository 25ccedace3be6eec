// The worker's repeating schedules (BullMQ job schedulers): installed at start, retried until
// Redis answers. The queues themselves are declared in app/queues.server.ts (decision 041).
import { logger } from "../app/logger.server";

const SCHEDULE_RETRY_MS = 30_000;

/**
 * Installs a job's repeating schedule, retrying every 30 s until it succeeds (Redis may be
 * unreachable when the worker starts). Logs `events.done` on success and `events.failed` on
 * each failure. Returns a cancel for shutdown.
 */
export function installScheduleWithRetry(install: () => Promise<void>, events: { done: string; failed: string }, details: Record<string, unknown>): () => void {
  let retry: NodeJS.Timeout | undefined;
  let cancelled = false;
  const attempt = async () => {
    try {
      await install();
      logger.info(details, events.done);
    } catch (error) {
      logger.error({ err: error }, events.failed);
      if (cancelled) return;
      retry = setTimeout(() => void attempt(), SCHEDULE_RETRY_MS);
      retry.unref();
    }
  };
  void attempt();
  return () => {
    cancelled = true;
    clearTimeout(retry);
  };
}
