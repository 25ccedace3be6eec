// Queue definitions and producers. Job ids carry a prefix and no ':' (BullMQ rule).
import { Queue, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import { createRedis } from "../app/redis.server";

export const WEBHOOK_QUEUE = "crm-webhooks";

export type ApplyWebhookJob = { inboxId: string };

/** Retries with exponential backoff; after the last attempt the event is dead-lettered. */
export const APPLY_WEBHOOK_ATTEMPTS = 8;

const applyJobOptions: JobsOptions = {
  attempts: APPLY_WEBHOOK_ATTEMPTS,
  backoff: { type: "exponential", delay: 1_000 },
  removeOnComplete: { count: 1_000 },
  removeOnFail: { count: 10_000 },
};

export function applyWebhookJobId(inboxId: string, replays = 0): string {
  return replays > 0 ? `wh-${inboxId}-r${replays}` : `wh-${inboxId}`;
}

let shared: { connection: Redis; queue: Queue<ApplyWebhookJob> } | undefined;

export function getWebhookQueue(): Queue<ApplyWebhookJob> {
  if (!shared) {
    const connection = createRedis("producer");
    // An unreachable Redis must not crash the process: producers fail fast and the
    // inbox sweeper re-enqueues what was missed.
    connection.on("error", () => undefined);
    const queue = new Queue<ApplyWebhookJob>(WEBHOOK_QUEUE, { connection });
    queue.on("error", () => undefined);
    shared = { connection, queue };
  }
  return shared.queue;
}

/** How long a webhook acknowledgement waits for Redis before leaving the row to the sweeper. */
export const ENQUEUE_TIMEOUT_MS = 1_000;

export class EnqueueTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`enqueue did not complete within ${timeoutMs} ms (Redis unavailable?)`);
    this.name = "EnqueueTimeoutError";
  }
}

/**
 * BullMQ waits for a Redis connection without a limit, and Shopify gives up on a delivery
 * after 5 s: callers on the acknowledgement path bound the wait. An add that completes
 * later is harmless (the job id dedupes it; the worker skips processed rows).
 */
async function within<T>(work: Promise<T>, timeoutMs: number | undefined): Promise<T> {
  if (timeoutMs === undefined) return work;
  work.catch(() => undefined); // a late rejection after the timeout is expected; the sweeper covers it
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new EnqueueTimeoutError(timeoutMs)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function enqueueApplyWebhooks(
  items: { inboxId: string; replays: number }[],
  options: { timeoutMs?: number } = {},
): Promise<void> {
  if (items.length === 0) return;
  const adding = getWebhookQueue().addBulk(
    items.map(({ inboxId, replays }) => ({
      name: "apply",
      data: { inboxId },
      opts: { ...applyJobOptions, jobId: applyWebhookJobId(inboxId, replays) },
    })),
  );
  await within(adding, options.timeoutMs);
}

export async function closeQueues(): Promise<void> {
  const current = shared;
  shared = undefined;
  if (!current) return;
  await current.queue.close().catch(() => undefined);
  current.connection.disconnect();
}
