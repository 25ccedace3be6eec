// The predictions refit job (issue 15, docs/analytics.md): every CLV_REFIT_INTERVAL_MS (a BullMQ
// job scheduler, default daily) and on demand, refit each shop's BG/NBD + Gamma-Gamma model on
// the orders held now and replace its customers' predictions (refitClv: one transaction a shop).
//
// How it fails: job data is parsed first and bad data is unrecoverable (no retry). A shop that
// fails (database down, a statement over its time limit) is logged (analytics.clv_refit_shop_failed)
// and the other shops still run; the attempt then fails so BullMQ retries with exponential
// backoff. A refit is idempotent (it recomputes from the orders and replaces the shop's
// predictions in one transaction; a rolled-back attempt leaves the previous fit in force), so a
// retry that redoes the shops that succeeded only adds a newer fit of the same data.
// A refit changes the prediction attributes of segments (predicted_clv, churn_risk,
// expected_next_order_date, predicted_spend_tier): after each shop's refit the job asks for that
// shop's segment refresh (jobs/segment-refresh.ts, which re-evaluates the segments using them). If
// that request fails (Redis down) it is logged (analytics.clv_refit_refresh_request_failed) and the
// attempt fails so the retry asks again; the scheduled refresh catches up in any case.
import { UnrecoverableError, Worker, type Job, type JobsOptions } from "bullmq";
import { z } from "zod";
import { logger } from "../app/logger.server";
import { createRedis } from "../app/redis.server";
import { sharedQueue } from "../app/queues.server";
import { installScheduleWithRetry } from "./schedules";
import { listClvShops, refitClv } from "../app/services/analytics/clv.server";
import { refitAffinity, refitClusters } from "../app/services/analytics/clusters.server";
import { isShopDomain } from "../app/shopify/shop-domain";
import { requestSegmentRefresh } from "./segment-refresh";

export const CLV_REFIT_QUEUE = "crm-clv-refit";
const SCHEDULER_ID = "clv-refit-every";

export type ClvRefitJob = { shop?: string | null; reason: "schedule" | "on-demand" };

const JobData = z.object({
  shop: z.string().refine(isShopDomain, "shop must be a *.myshopify.com domain").nullish(),
  reason: z.enum(["schedule", "on-demand"]),
});

const jobOptions: JobsOptions = {
  attempts: 3,
  backoff: { type: "exponential", delay: 60_000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 1_000 },
};

const queue = sharedQueue<ClvRefitJob>(CLV_REFIT_QUEUE);
export const getClvRefitQueue = queue.get;
export const closeClvRefitQueue = queue.close;

/** Asks for a refit now (one shop, or every shop with orders); requests while one waits or runs collapse into one more run. */
export async function requestClvRefit(target: { shop?: string } = {}): Promise<string | undefined> {
  const data = JobData.parse({ shop: target.shop ?? null, reason: "on-demand" });
  const key = `clvrefit-${(data.shop ?? "all-shops").replace(/[^A-Za-z0-9.-]/g, "-")}`;
  const job = await getClvRefitQueue().add("refit", data, { ...jobOptions, deduplication: { id: key, keepLastIfActive: true } });
  return job.id;
}

/** Creates or updates the repeating schedule (idempotent: one scheduler id for every worker process). */
export async function scheduleClvRefit(intervalMs: number): Promise<void> {
  await getClvRefitQueue().upsertJobScheduler(SCHEDULER_ID, { every: intervalMs }, { name: "refit", data: { reason: "schedule" }, opts: jobOptions });
}

export type ClvRefitSummary = { shops: Array<{ shop: string; customers: number; method: string | null; ms: number }>; failed: Array<{ shop: string; error: string }> };

export async function clvRefitProcessor(job: Job<ClvRefitJob>): Promise<ClvRefitSummary> {
  const parsed = JobData.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`invalid clv refit job data: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  const log = logger.child({ jobId: job.id, shop: parsed.data.shop ?? undefined, reason: parsed.data.reason });
  const shops = parsed.data.shop ? [parsed.data.shop] : await listClvShops();
  const summary: ClvRefitSummary = { shops: [], failed: [] };
  for (const shop of shops) {
    try {
      const report = await refitClv({ shop, asOf: new Date() });
      // Clusters and product affinity (decision 059) with the same schedule, each in its own transaction.
      await refitClusters({ shop, asOf: new Date() });
      await refitAffinity({ shop, asOf: new Date() });
      summary.shops.push({ shop, customers: report.model?.customers ?? 0, method: report.model?.method ?? null, ms: Math.round(report.ms.total) });
    } catch (error) {
      log.error({ err: error, failedShop: shop }, "analytics.clv_refit_shop_failed");
      summary.failed.push({ shop, error: (error as Error).message });
      continue;
    }
    try {
      // The refresh only recomputes segments that need it (those using predictions among them).
      await requestSegmentRefresh({ shop });
    } catch (error) {
      log.error({ err: error, failedShop: shop }, "analytics.clv_refit_refresh_request_failed");
      summary.failed.push({ shop, error: `segment refresh request: ${(error as Error).message}` });
    }
  }
  if (summary.failed.length > 0) {
    const attempts = job.opts.attempts ?? 1;
    const final = job.attemptsMade + 1 >= attempts;
    log[final ? "error" : "warn"]({ failed: summary.failed.length, attempt: job.attemptsMade + 1, attempts }, final ? "analytics.clv_refit_failed" : "analytics.clv_refit_retrying");
    throw new Error(`clv refit: ${summary.failed.length} shop(s) failed: ${summary.failed.map((f) => `${f.shop}: ${f.error}`).join("; ").slice(0, 1_000)}`);
  }
  log.info({ shops: summary.shops.length }, "analytics.clv_refit_done");
  return summary;
}

/** Runs the refit worker (one job at a time) and installs the schedule. Returns a close function for shutdown. */
export async function startClvRefit({ intervalMs }: { intervalMs: number }): Promise<{ close: () => Promise<void> }> {
  const connection = createRedis("worker");
  connection.on("error", (error) => logger.warn({ err: error.message }, "redis.error"));
  const worker = new Worker<ClvRefitJob>(CLV_REFIT_QUEUE, clvRefitProcessor, { connection, concurrency: 1 });
  worker.on("error", (error) => logger.warn({ err: error.message }, "analytics.clv_refit_worker_error"));
  const cancelSchedule = installScheduleWithRetry(() => scheduleClvRefit(intervalMs), { done: "analytics.clv_refit_scheduled", failed: "analytics.clv_refit_schedule_failed" }, { queue: CLV_REFIT_QUEUE, intervalMs });
  return {
    close: async () => {
      cancelSchedule();
      await worker.close();
      await closeClvRefitQueue();
      connection.disconnect();
    },
  };
}
