// One producer-side BullMQ queue per process for a queue name, created on first use and closed
// on shutdown: the plumbing every scheduled job (segment refresh, tag sync, loyalty
// maintenance) shares. Connection errors are left to the callers' own retries and logs.
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { createRedis } from "../app/redis.server";
import { logger } from "../app/logger.server";

export function sharedQueue<T>(name: string): { get: () => Queue<T>; close: () => Promise<void> } {
  let shared: { connection: Redis; queue: Queue<T> } | undefined;
  return {
    get() {
      if (!shared) {
        const connection = createRedis("producer");
        connection.on("error", () => undefined);
        const queue = new Queue<T>(name, { connection });
        queue.on("error", () => undefined);
        shared = { connection, queue };
      }
      return shared.queue;
    },
    async close() {
      const current = shared;
      shared = undefined;
      if (!current) return;
      await current.queue.close().catch(() => undefined);
      current.connection.disconnect();
    },
  };
}

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
