// The product rating writer job (issue 12, "Product ratings back to Shopify"; decision 037):
// drains each shop's product_rating_writes outbox to Shopify's reviews.rating and
// reviews.rating_count product metafields (app/services/product-ratings/writer.server.ts).
//
// Queue crm-product-ratings: `drain {shop}` (deduplicated per shop; a pass that stopped with
// work still due asks for the next one) and `sweep` (every PRODUCT_RATINGS_SWEEP_INTERVAL_MS:
// a drain for every shop with rows due or left in flight).
//
// How it fails: job data is parsed first, bad data is unrecoverable. Shopify failures are
// recorded on the rows (nothing is thrown for them); a database or Redis failure throws and
// BullMQ retries with backoff; the sweep covers anything a lost job would have done.
import { UnrecoverableError, Worker, type Job } from "bullmq";
import { logger } from "../app/logger.server";
import {
  PRODUCT_RATINGS_QUEUE,
  ProductRatingsJobData,
  closeProductRatingsQueue,
  enqueueProductRatingsDrain,
  getProductRatingsQueue,
  productRatingsJobOptions,
  type ProductRatingsJob,
} from "../app/queues.server";
import { createRedis } from "../app/redis.server";
import { shopsWithWorkDue } from "../app/services/product-ratings/outbox.server";
import { drainProductRatings, type RatingsDrainOptions } from "../app/services/product-ratings/writer.server";
import { installScheduleWithRetry } from "./schedules";

const SWEEP_SCHEDULER = "product-ratings-sweep-every";

let stopping = false;

export function createProductRatingsProcessor(overrides: Omit<RatingsDrainOptions, "shouldStop"> = {}) {
  return async function productRatingsProcessor(job: Job<ProductRatingsJob>): Promise<unknown> {
    const parsed = ProductRatingsJobData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid product ratings job data: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
    const data = parsed.data;
    const log = logger.child({ jobId: job.id, kind: data.kind, shop: data.kind === "drain" ? data.shop : undefined });
    try {
      if (data.kind === "sweep") {
        const shops = await shopsWithWorkDue();
        for (const shop of shops) await enqueueProductRatingsDrain(shop);
        return { shops: shops.length };
      }
      const report = await drainProductRatings(data.shop, { ...overrides, shouldStop: () => stopping });
      const level = report.halted || report.recorded.failed > 0 ? "warn" : report.requests > 0 ? "info" : "debug";
      log[level]({ requests: report.requests, throttled: report.throttled, recorded: report.recorded, definitions: report.definitions, halted: report.halted, ms: report.ms }, "product_ratings.drained");
      if (!stopping && !report.halted && report.nextDueAt && report.nextDueAt.getTime() <= Date.now()) await enqueueProductRatingsDrain(data.shop);
      return { requests: report.requests, recorded: report.recorded, halted: report.halted };
    } catch (error) {
      const attempts = job.opts.attempts ?? 1;
      const final = job.attemptsMade + 1 >= attempts;
      log[final ? "error" : "warn"]({ err: error, attempt: job.attemptsMade + 1, attempts }, final ? "product_ratings.job_failed" : "product_ratings.job_retrying");
      throw error;
    }
  };
}

/** Runs the writer in this process (the worker entry calls it) and installs the sweep. */
export async function startProductRatingsWriter(options: { sweepIntervalMs: number; concurrency?: number; schedule?: boolean; drain?: Omit<RatingsDrainOptions, "shouldStop"> }) {
  stopping = false;
  const connection = createRedis("worker");
  connection.on("error", (error) => logger.warn({ err: error.message }, "redis.error"));
  const worker = new Worker<ProductRatingsJob>(PRODUCT_RATINGS_QUEUE, createProductRatingsProcessor(options.drain), { connection, concurrency: options.concurrency ?? 2 });
  worker.on("error", (error) => logger.warn({ err: error.message }, "product_ratings.worker_error"));
  const cancelSchedule =
    (options.schedule ?? true)
      ? installScheduleWithRetry(
          () =>
            getProductRatingsQueue()
              .upsertJobScheduler(SWEEP_SCHEDULER, { every: options.sweepIntervalMs }, { name: "sweep", data: { kind: "sweep" }, opts: { ...productRatingsJobOptions, attempts: 1 } })
              .then(() => undefined),
          { done: "product_ratings.scheduled", failed: "product_ratings.schedule_failed" },
          { queue: PRODUCT_RATINGS_QUEUE, sweepIntervalMs: options.sweepIntervalMs },
        )
      : () => undefined;
  return {
    worker,
    close: async () => {
      stopping = true;
      cancelSchedule();
      await worker.close();
      await closeProductRatingsQueue();
      connection.disconnect();
    },
  };
}
