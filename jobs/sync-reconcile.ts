// The reconciliation job (decision 048): every SYNC_RECONCILE_INTERVAL_MS (default hourly, a
// BullMQ job scheduler) one "sweep" job fans out one job per connected shop; on demand a job
// for one shop (requestReconcile). Each shop job runs app/services/sync/reconcile.server.ts.
//
// How it fails: job data is parsed first and bad data is unrecoverable. A shop that cannot be
// used (no session, token refused, access denied) is unrecoverable for this run (the next
// schedule tries again); a run of the same shop already in progress makes the job a no-op;
// anything else (Shopify or PostgreSQL unavailable) fails the attempt and BullMQ retries with
// exponential backoff. A failed run does not move the shop's watermark, so nothing is skipped.
import { UnrecoverableError, Worker, type Job } from "bullmq";
import { logger } from "../app/logger.server";
import { createRedis } from "../app/redis.server";
import { ShopifyAdminError } from "../app/shopify/admin-api.server";
import { ReconcileBusyError, reconcileShop, shopsToReconcile } from "../app/services/sync/reconcile.server";
import {
  SYNC_RECONCILE_QUEUE,
  SyncReconcileJobData as JobData,
  closeSyncReconcileQueue,
  getSyncReconcileQueue,
  requestReconcile,
  syncReconcileJobOptions as jobOptions,
  type SyncReconcileJob,
} from "../app/queues.server";
import { installScheduleWithRetry } from "./schedules";

// The producer side (queue name, job data, requestReconcile) lives in app/queues.server.ts so
// the admin can enqueue without importing jobs/.
export { SYNC_RECONCILE_QUEUE, closeSyncReconcileQueue, getSyncReconcileQueue, requestReconcile, type SyncReconcileJob };
const SCHEDULER_ID = "sync-reconcile-every";

export async function scheduleReconcile(intervalMs: number): Promise<void> {
  await getSyncReconcileQueue().upsertJobScheduler(SCHEDULER_ID, { every: intervalMs }, { name: "sweep", data: { kind: "sweep" }, opts: jobOptions });
}

export async function syncReconcileProcessor(job: Job<SyncReconcileJob>): Promise<unknown> {
  const parsed = JobData.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`invalid reconcile job data: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  const data = parsed.data;
  if (data.kind === "sweep") {
    const shops = await shopsToReconcile();
    for (const shop of shops) await requestReconcile(shop, "schedule");
    logger.info({ jobId: job.id, shops: shops.length }, "sync.reconcile_sweep");
    return { shops: shops.length };
  }
  const log = logger.child({ jobId: job.id, shop: data.shop, trigger: data.trigger });
  try {
    const report = await reconcileShop({ shop: data.shop, trigger: data.trigger });
    return { checked: report.checked, repaired: report.repaired };
  } catch (error) {
    if (error instanceof ReconcileBusyError) {
      log.info("sync.reconcile_busy");
      return { skipped: "busy" };
    }
    if (error instanceof ShopifyAdminError && error.haltsShop) throw new UnrecoverableError(`${data.shop}: ${error.kind}: ${error.message}`);
    const attempts = job.opts.attempts ?? 1;
    const final = job.attemptsMade + 1 >= attempts;
    log[final ? "error" : "warn"]({ err: error, attempt: job.attemptsMade + 1, attempts }, final ? "sync.reconcile_job_failed" : "sync.reconcile_job_retrying");
    throw error;
  }
}

/** Runs the reconciliation worker (one shop at a time per process) and installs the schedule. */
export async function startSyncReconcile({ intervalMs }: { intervalMs: number }): Promise<{ close: () => Promise<void> }> {
  const connection = createRedis("worker");
  connection.on("error", (error) => logger.warn({ err: error.message }, "redis.error"));
  const worker = new Worker<SyncReconcileJob>(SYNC_RECONCILE_QUEUE, syncReconcileProcessor, { connection, concurrency: 1 });
  worker.on("error", (error) => logger.warn({ err: error.message }, "sync.reconcile_worker_error"));
  const cancelSchedule = installScheduleWithRetry(() => scheduleReconcile(intervalMs), { done: "sync.reconcile_scheduled", failed: "sync.reconcile_schedule_failed" }, { queue: SYNC_RECONCILE_QUEUE, intervalMs });
  return {
    close: async () => {
      cancelSchedule();
      await worker.close();
      await closeSyncReconcileQueue();
      connection.disconnect();
    },
  };
}
