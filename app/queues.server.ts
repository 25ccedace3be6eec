// The queues the app produces to, in one place (decision 041): each queue's name, job data,
// options and enqueue helpers. The web process, the CLI and services enqueue through this
// module; the worker (jobs/) consumes the same names with its processors. Queues only the
// worker itself schedules (segment refresh, loyalty maintenance, feedback scheduler) are
// declared next to their processors in jobs/.
// Job ids and deduplication keys carry a prefix and no ':' (BullMQ rule); shop domains have none.
import { Queue, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import { z } from "zod";
import { createRedis } from "./redis.server";
import { isShopDomain } from "./shopify/shop-domain";

/**
 * One producer-side BullMQ queue per process for a queue name, created on first use and closed
 * on shutdown. An unreachable Redis must not crash the process: connection errors are left to
 * the callers' own retries and logs (and the sweepers re-enqueue what was missed).
 */
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

const ShopDomain = z.string().refine(isShopDomain, "shop must be a *.myshopify.com domain");

// ---------------------------------------------------------------- webhooks (apply)


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

// Producers fail fast when Redis is unreachable; the inbox sweeper re-enqueues what was missed.
const webhookQueue = sharedQueue<ApplyWebhookJob>(WEBHOOK_QUEUE);
export const getWebhookQueue = webhookQueue.get;

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

/** Closes this process's webhook queue (the web process and the CLI on shutdown). */
export const closeQueues = webhookQueue.close;

// ---------------------------------------------------------------- tag sync (crm-tag-sync)

export const TAG_SYNC_QUEUE = "crm-tag-sync";

/** drain {shop}: one pass over the shop's outbox; sweep: a drain for every shop with work due; reconcile: synced segments vs tags. */
export const TagSyncJobData = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("drain"), shop: ShopDomain }),
  z.object({ kind: z.literal("sweep") }),
  z.object({ kind: z.literal("reconcile"), shop: ShopDomain.nullish() }),
]);
export type TagSyncJob = z.infer<typeof TagSyncJobData>;

export const tagSyncJobOptions: JobsOptions = {
  attempts: 5,
  backoff: { type: "exponential", delay: 5_000 },
  removeOnComplete: { count: 1_000 },
  removeOnFail: { count: 1_000 },
};

const tagSyncQueue = sharedQueue<TagSyncJob>(TAG_SYNC_QUEUE);
export const getTagSyncQueue = tagSyncQueue.get;
export const closeTagSyncQueue = tagSyncQueue.close;

/**
 * Asks for a reconcile of a shop's synced segments after `delayMs` (the worker calls it when a
 * batch changed membership): requests made while one waits collapse into it, so a stream of
 * events costs one reconcile per delay window, and tags follow membership within about that
 * long instead of waiting for the periodic reconcile.
 */
export async function requestTagSyncReconcile(shop: string, delayMs: number): Promise<void> {
  const data = TagSyncJobData.parse({ kind: "reconcile", shop });
  await getTagSyncQueue().add("reconcile", data, { ...tagSyncJobOptions, delay: delayMs, deduplication: { id: `tagsync-reconcile-${shop}`, keepLastIfActive: true } });
}

/** Asks for a drain pass of a shop's outbox (collapses with one already waiting or running). */
export async function enqueueTagSyncDrain(shop: string, delayMs = 0): Promise<void> {
  const data = TagSyncJobData.parse({ kind: "drain", shop });
  await getTagSyncQueue().add("drain", data, { ...tagSyncJobOptions, delay: delayMs, deduplication: { id: `tagsync-drain-${shop}`, keepLastIfActive: true } });
}

// ---------------------------------------------------------------- email (crm-email)
// A wake-up, nothing more: the outbox in PostgreSQL is the source of truth; a drain job lost
// with Redis is replaced by the periodic one (EMAIL_SWEEP_INTERVAL_MS).

export const EMAIL_QUEUE = "crm-email";
export type EmailJob = { kind: "drain" };

export const emailJobOptions: JobsOptions = {
  attempts: 3,
  backoff: { type: "exponential", delay: 2_000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 1_000 },
};

const emailQueue = sharedQueue<EmailJob>(EMAIL_QUEUE);
export const getEmailQueue = emailQueue.get;
export const closeEmailQueue = emailQueue.close;

/** Asks for a drain pass (collapses with one already waiting; one more runs after a running one). */
export async function enqueueEmailDrain(delayMs = 0): Promise<void> {
  await getEmailQueue().add("drain", { kind: "drain" }, { ...emailJobOptions, delay: delayMs, deduplication: { id: "email-drain", keepLastIfActive: true } });
}

// ---------------------------------------------------------------- product ratings (crm-product-ratings)
// A wake-up per shop: the outbox (product_rating_writes) is the source of truth; a lost job is
// replaced by the periodic sweep (PRODUCT_RATINGS_SWEEP_INTERVAL_MS).

export const PRODUCT_RATINGS_QUEUE = "crm-product-ratings";

export const ProductRatingsJobData = z.discriminatedUnion("kind", [z.object({ kind: z.literal("drain"), shop: ShopDomain }), z.object({ kind: z.literal("sweep") })]);
export type ProductRatingsJob = z.infer<typeof ProductRatingsJobData>;

export const productRatingsJobOptions: JobsOptions = {
  attempts: 5,
  backoff: { type: "exponential", delay: 5_000 },
  removeOnComplete: { count: 1_000 },
  removeOnFail: { count: 1_000 },
};

const productRatingsQueue = sharedQueue<ProductRatingsJob>(PRODUCT_RATINGS_QUEUE);
export const getProductRatingsQueue = productRatingsQueue.get;
export const closeProductRatingsQueue = productRatingsQueue.close;

/** Asks for a drain pass of a shop (collapses with one already waiting; one more runs after a running one). */
export async function enqueueProductRatingsDrain(shop: string, delayMs = 0): Promise<void> {
  await getProductRatingsQueue().add("drain", { kind: "drain", shop }, { ...productRatingsJobOptions, delay: delayMs, deduplication: { id: `ratings-drain-${shop}`, keepLastIfActive: true } });
}

// ---------------------------------------------------------------- reconciliation (crm-sync-reconcile)
// Decision 048; the processor is jobs/sync-reconcile.ts. The admin's Sync page and the CLI
// ask for a run of one shop through requestReconcile.

export const SYNC_RECONCILE_QUEUE = "crm-sync-reconcile";

export const SyncReconcileJobData = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("sweep") }),
  z.object({ kind: z.literal("shop"), shop: ShopDomain, trigger: z.enum(["schedule", "manual"]) }),
]);
export type SyncReconcileJob = z.infer<typeof SyncReconcileJobData>;

export const syncReconcileJobOptions: JobsOptions = {
  attempts: 3,
  backoff: { type: "exponential", delay: 60_000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 1_000 },
};

const syncReconcileQueue = sharedQueue<SyncReconcileJob>(SYNC_RECONCILE_QUEUE);
export const getSyncReconcileQueue = syncReconcileQueue.get;
export const closeSyncReconcileQueue = syncReconcileQueue.close;

const reconcileJobId = (shop: string) => `reconcile-${shop.replace(/[^A-Za-z0-9.-]/g, "-")}`;

/** Asks for a reconciliation of one shop now (collapses with one already waiting for the shop). */
export async function requestReconcile(shop: string, trigger: "schedule" | "manual" = "manual"): Promise<string | undefined> {
  const data = SyncReconcileJobData.parse({ kind: "shop", shop, trigger });
  const job = await getSyncReconcileQueue().add("reconcile", data, { ...syncReconcileJobOptions, deduplication: { id: reconcileJobId(shop), keepLastIfActive: true } });
  return job.id;
}
