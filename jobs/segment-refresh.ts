// The segment refresh job: every SEGMENT_REFRESH_INTERVAL_MS (a BullMQ job scheduler) and on
// demand, recompute RFM groups and re-evaluate the segments whose membership changes without
// a customer event (time-relative values, rfm_group, product data).
//
// How it fails: job data is parsed first and bad data is unrecoverable (no retry). Any other
// error (database down, a segment that failed while the others ran) fails the attempt and
// BullMQ retries with exponential backoff; the refresh is idempotent (it recomputes from the
// data), so a retry redoes the work safely. Every outcome is logged as segments.refresh_*.
import { UnrecoverableError, Worker, type Job, type JobsOptions } from "bullmq";
import { z } from "zod";
import { logger } from "../app/logger.server";
import { createRedis } from "../app/redis.server";
import { sharedQueue } from "../app/queues.server";
import { installScheduleWithRetry } from "./schedules";
import { refreshRelativeSegments, type RefreshReport } from "../app/services/segments/segments.server";
import { isShopDomain } from "../app/shopify/shop-domain";

export const SEGMENT_REFRESH_QUEUE = "crm-segment-refresh";
const SCHEDULER_ID = "segment-refresh-every";

export type SegmentRefreshJob = { shop?: string | null; all?: boolean; reason: "schedule" | "on-demand" };

const JobData = z.object({
  shop: z.string().refine(isShopDomain, "shop must be a *.myshopify.com domain").nullish(),
  all: z.boolean().optional(),
  reason: z.enum(["schedule", "on-demand"]),
});

const jobOptions: JobsOptions = {
  attempts: 3,
  backoff: { type: "exponential", delay: 30_000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 1_000 },
};

const queue = sharedQueue<SegmentRefreshJob>(SEGMENT_REFRESH_QUEUE);
export const getSegmentRefreshQueue = queue.get;
export const closeSegmentRefreshQueue = queue.close;

/**
 * Asks for a refresh now (one shop, or every shop with segments). Requests made while one
 * for the same target waits or runs collapse into at most one more run.
 */
export async function requestSegmentRefresh(target: { shop?: string; all?: boolean } = {}): Promise<string | undefined> {
  const data = JobData.parse({ shop: target.shop ?? null, all: target.all ?? false, reason: "on-demand" });
  const key = `segrefresh-${(data.shop ?? "all-shops").replace(/[^A-Za-z0-9.-]/g, "-")}`;
  const job = await getSegmentRefreshQueue().add("refresh", data, { ...jobOptions, deduplication: { id: key, keepLastIfActive: true } });
  return job.id;
}

/** Creates or updates the repeating schedule (idempotent: one scheduler id for every worker process). */
export async function scheduleSegmentRefresh(intervalMs: number): Promise<void> {
  await getSegmentRefreshQueue().upsertJobScheduler(SCHEDULER_ID, { every: intervalMs }, { name: "refresh", data: { reason: "schedule" }, opts: jobOptions });
}

const summarise = (report: RefreshReport) => ({
  shops: report.shops.length,
  segments: report.shops.reduce((n, s) => n + s.segments.length, 0),
  entered: report.shops.reduce((n, s) => n + s.segments.reduce((m, r) => m + r.entered, 0), 0),
  exited: report.shops.reduce((n, s) => n + s.segments.reduce((m, r) => m + r.exited, 0), 0),
  failed: report.shops.flatMap((s) => s.failed.map((f) => ({ shop: s.shop, ...f }))),
  /** Skipped until edited (decision 026); not a failure of this run. */
  broken: report.shops.flatMap((s) => s.broken.map((segmentId) => ({ shop: s.shop, segmentId }))),
});

export async function segmentRefreshProcessor(job: Job<SegmentRefreshJob>): Promise<ReturnType<typeof summarise>> {
  const parsed = JobData.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`invalid segment refresh job data: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  const log = logger.child({ jobId: job.id, shop: parsed.data.shop ?? undefined, reason: parsed.data.reason });
  const started = performance.now();
  try {
    const report = await refreshRelativeSegments({ shop: parsed.data.shop ?? undefined, all: parsed.data.all, now: new Date() });
    const summary = summarise(report);
    const ms = Math.round(performance.now() - started);
    if (summary.failed.length > 0) {
      // The other segments were refreshed; fail the attempt so it is retried and visible.
      throw new Error(`segment refresh: ${summary.failed.length} segment(s) failed: ${summary.failed.map((f) => `${f.shop}/${f.segmentId}: ${f.error}`).join("; ").slice(0, 1_000)}`);
    }
    log.info({ ...summary, ms }, "segments.refresh_done");
    return summary;
  } catch (error) {
    const attempts = job.opts.attempts ?? 1;
    const final = job.attemptsMade + 1 >= attempts;
    log[final ? "error" : "warn"]({ err: error, attempt: job.attemptsMade + 1, attempts }, final ? "segments.refresh_failed" : "segments.refresh_retrying");
    throw error;
  }
}

/**
 * Runs the refresh worker (one job at a time: refreshes of one database never overlap)
 * and installs the schedule. Returns a close function for shutdown.
 */
export async function startSegmentRefresh({ intervalMs }: { intervalMs: number }): Promise<{ close: () => Promise<void> }> {
  const connection = createRedis("worker");
  connection.on("error", (error) => logger.warn({ err: error.message }, "redis.error"));
  const worker = new Worker<SegmentRefreshJob>(SEGMENT_REFRESH_QUEUE, segmentRefreshProcessor, { connection, concurrency: 1 });
  worker.on("error", (error) => logger.warn({ err: error.message }, "segments.refresh_worker_error"));
  // Redis may be unreachable at start: keep trying to install the schedule until it is.
  const cancelSchedule = installScheduleWithRetry(() => scheduleSegmentRefresh(intervalMs), { done: "segments.refresh_scheduled", failed: "segments.refresh_schedule_failed" }, { queue: SEGMENT_REFRESH_QUEUE, intervalMs });
  return {
    close: async () => {
      cancelSchedule();
      await worker.close();
      await closeSegmentRefreshQueue();
      connection.disconnect();
    },
  };
}
