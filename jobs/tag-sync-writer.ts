// The tag sync writer job (issue 4, "Tag sync to Shopify"; later loyalty tier tags): drains
// each shop's tag write outbox to Shopify (app/services/tag-sync/writer.server.ts).
//
// Queue crm-tag-sync, three kinds of job:
// - drain {shop}: one pass over the shop's outbox. Deduplicated per shop (at most one
//   running and one waiting), and the pass itself holds the shop's advisory lock, so a shop
//   is drained by one worker at a time. A pass that stopped with work still due, or with a
//   bulk operation running, asks for the next pass itself.
// - sweep (every TAG_SYNC_SWEEP_INTERVAL_MS): a drain for every shop with writes due or in
//   flight (new writes, retries whose backoff ended, bulk operations, a crashed drainer's).
// - reconcile (every TAG_SYNC_RECONCILE_INTERVAL_MS, and on demand): every synced segment
//   compared with the tags the app added; the difference queued.
//
// How it fails: job data is parsed first, bad data is unrecoverable. Shopify failures are
// recorded on the writes (nothing is thrown for them); a database or Redis failure throws
// and BullMQ retries with backoff; the sweeper covers anything a lost job would have done.
import { UnrecoverableError, Worker, type Job } from "bullmq";
import { getEnv } from "../app/env.server";
import { logger } from "../app/logger.server";
import { TAG_SYNC_QUEUE, TagSyncJobData, closeTagSyncQueue, enqueueTagSyncDrain, getTagSyncQueue, tagSyncJobOptions, type TagSyncJob } from "../app/queues.server";
import { createRedis } from "../app/redis.server";
import { installScheduleWithRetry } from "./schedules";
import { shopsWithWorkDue } from "../app/services/tag-sync/outbox.server";
import { reconcileAllSegmentTagSyncs } from "../app/services/tag-sync/reconcile.server";
import { drainShop, type DrainOptions, type DrainReport } from "../app/services/tag-sync/writer.server";

const SWEEP_SCHEDULER = "tag-sync-sweep-every";
const RECONCILE_SCHEDULER = "tag-sync-reconcile-every";

export type TagSyncWriterOptions = Omit<DrainOptions, "shouldStop">;

let stopping = false;

function drainOptions(overrides: Partial<TagSyncWriterOptions> = {}): DrainOptions {
  return { bulkThreshold: getEnv().TAG_SYNC_BULK_THRESHOLD, ...overrides, shouldStop: () => stopping };
}

export function createTagSyncProcessor(overrides: Partial<TagSyncWriterOptions> = {}) {
  return async function tagSyncProcessor(job: Job<TagSyncJob>): Promise<unknown> {
    const parsed = TagSyncJobData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid tag sync job data: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
    const data = parsed.data;
    const log = logger.child({ jobId: job.id, kind: data.kind, shop: "shop" in data ? (data.shop ?? undefined) : undefined });
    try {
      if (data.kind === "drain") {
        const options = drainOptions(overrides);
        const report = await drainShop(data.shop, options);
        logDrain(log, report);
        if (report.locked && !stopping) {
          // Still due now (the pass stopped early) or a bulk operation to follow: the next pass.
          if (report.bulk.open > 0) await enqueueTagSyncDrain(data.shop, options.bulkPollMs ?? 2_000);
          else if (report.nextDueAt && report.nextDueAt.getTime() <= Date.now() && !report.halted) await enqueueTagSyncDrain(data.shop);
        }
        return summary(report);
      }
      if (data.kind === "sweep") {
        const shops = await shopsWithWorkDue();
        for (const shop of shops) await enqueueTagSyncDrain(shop);
        if (shops.length) log.debug({ shops: shops.length }, "tag_sync.swept");
        return { shops: shops.length };
      }
      const { results, failed } = await reconcileAllSegmentTagSyncs(data.shop ?? undefined);
      const shops = new Set(results.filter((r) => r.queuedAdds + r.queuedRemoves > 0).map((r) => r.shop));
      for (const shop of shops) await enqueueTagSyncDrain(shop);
      const queued = results.reduce((n, r) => n + r.queuedAdds + r.queuedRemoves, 0);
      if (failed.length) log.warn({ failed }, "tag_sync.reconcile_failed");
      log.info({ sources: results.length, queued, failed: failed.length }, "tag_sync.reconciled");
      return { sources: results.length, queued, failed: failed.length };
    } catch (error) {
      const attempts = job.opts.attempts ?? 1;
      const final = job.attemptsMade + 1 >= attempts;
      log[final ? "error" : "warn"]({ err: error, attempt: job.attemptsMade + 1, attempts }, final ? "tag_sync.job_failed" : "tag_sync.job_retrying");
      throw error;
    }
  };
}

function summary(r: DrainReport) {
  return {
    locked: r.locked,
    halted: r.halted,
    requests: r.requests,
    throttled: r.throttled,
    recorded: r.recorded,
    bulk: { submitted: r.bulk.submitted.length, finished: r.bulk.finished.length, open: r.bulk.open },
    ms: r.ms,
  };
}

function logDrain(log: typeof logger, r: DrainReport) {
  if (!r.locked) return log.debug("tag_sync.drain_skipped_locked");
  const level = r.halted || r.recorded.failed > 0 ? "warn" : r.requests > 0 ? "info" : "debug";
  log[level]({ ...summary(r), transientErrors: r.transientErrors, recovered: r.recovered, costSpent: r.costSpent }, "tag_sync.drained");
}

/** Creates or updates the repeating sweep and reconcile (idempotent: one id each for every worker process). */
export async function scheduleTagSync({ sweepIntervalMs, reconcileIntervalMs }: { sweepIntervalMs: number; reconcileIntervalMs: number }): Promise<void> {
  const queue = getTagSyncQueue();
  await queue.upsertJobScheduler(SWEEP_SCHEDULER, { every: sweepIntervalMs }, { name: "sweep", data: { kind: "sweep" }, opts: { ...tagSyncJobOptions, attempts: 1 } });
  await queue.upsertJobScheduler(RECONCILE_SCHEDULER, { every: reconcileIntervalMs }, { name: "reconcile", data: { kind: "reconcile" }, opts: tagSyncJobOptions });
}

/**
 * Runs the writer in this process (the worker entry calls it) and installs the schedules.
 * `concurrency` shops are drained at once; each pass holds one database connection (its lock).
 */
export async function startTagSyncWriter(options: {
  sweepIntervalMs: number;
  reconcileIntervalMs: number;
  concurrency?: number;
  drain?: Partial<TagSyncWriterOptions>;
  schedule?: boolean;
}): Promise<{ worker: Worker<TagSyncJob>; close: () => Promise<void> }> {
  stopping = false;
  const connection = createRedis("worker");
  connection.on("error", (error) => logger.warn({ err: error.message }, "redis.error"));
  const worker = new Worker<TagSyncJob>(TAG_SYNC_QUEUE, createTagSyncProcessor(options.drain), { connection, concurrency: options.concurrency ?? 2 });
  worker.on("error", (error) => logger.warn({ err: error.message }, "tag_sync.worker_error"));
  const cancelSchedule =
    (options.schedule ?? true)
      ? installScheduleWithRetry(() => scheduleTagSync(options), { done: "tag_sync.scheduled", failed: "tag_sync.schedule_failed" }, {
          queue: TAG_SYNC_QUEUE,
          sweepIntervalMs: options.sweepIntervalMs,
          reconcileIntervalMs: options.reconcileIntervalMs,
        })
      : () => undefined;
  return {
    worker,
    close: async () => {
      stopping = true; // running passes stop claiming and release what they hold
      cancelSchedule();
      await worker.close();
      await closeTagSyncQueue();
      connection.disconnect();
    },
  };
}
