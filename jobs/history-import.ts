// The history import job (issue 13, decision 045). A scheduler (every IMPORT_SWEEP_INTERVAL_MS)
// enqueues one job per shop with a running import: a run started by the embedded install or
// `crm shop connect`, and any run a killed or restarted worker left behind, so progress
// resumes by itself. The job runs the import to its end in this process
// (app/services/history-import/import.server.ts); a bulk_operations/finish webhook, stored by
// the webhook worker, wakes its wait at once, polling is the fallback.
//
// How it fails: bad job data is unrecoverable. A run held by another process answers `busy`
// (no error). Shopify refusing the shop or a query fails the run (state `failed`, with the
// reason); a transient fault (database, network) fails the attempt and BullMQ retries; the
// run resumes from its last committed step either way.
import { UnrecoverableError, Worker, type Job, type JobsOptions } from "bullmq";
import { z } from "zod";
import { logger } from "../app/logger.server";
import { createRedis } from "../app/redis.server";
import { getPool } from "../app/db.server";
import { runImport } from "../app/services/history-import/import.server";
import { listRunningShops } from "../app/services/history-import/runs.server";
import { isShopDomain } from "../app/shopify/shop-domain";
import { sharedQueue } from "../app/queues.server";
import { installScheduleWithRetry } from "./schedules";

export const HISTORY_IMPORT_QUEUE = "crm-history-import";
const SCHEDULER_ID = "history-import-sweep";

export type HistoryImportJob = { kind: "sweep" } | { kind: "run"; shop: string };

const JobData = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("sweep") }),
  z.object({ kind: z.literal("run"), shop: z.string().refine(isShopDomain, "shop must be a *.myshopify.com domain") }),
]);

const jobOptions: JobsOptions = {
  attempts: 5,
  backoff: { type: "exponential", delay: 10_000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 1_000 },
};

const queue = sharedQueue<HistoryImportJob>(HISTORY_IMPORT_QUEUE);
export const getHistoryImportQueue = queue.get;
export const closeHistoryImportQueue = queue.close;

/** Enqueues the run of one shop's import (at most one waiting per shop). */
export async function requestImportRun(shop: string): Promise<void> {
  const key = `import-${shop.replace(/[^A-Za-z0-9.-]/g, "-")}`;
  await getHistoryImportQueue().add("run", { kind: "run", shop }, { ...jobOptions, deduplication: { id: key } });
}

export async function historyImportProcessor(job: Job<HistoryImportJob>, options: { pollMs?: number; signal?: AbortSignal } = {}): Promise<string> {
  const parsed = JobData.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`invalid history import job data: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  const data = parsed.data;
  if (data.kind === "sweep") {
    const shops = await listRunningShops(getPool());
    for (const shop of shops) await requestImportRun(shop);
    return `${shops.length} running`;
  }
  const log = logger.child({ jobId: job.id, shop: data.shop });
  try {
    const result = await runImport(data.shop, { pollMs: options.pollMs, signal: options.signal });
    log.info({ outcome: result.outcome }, "import.job_done");
    return result.outcome;
  } catch (error) {
    const attempts = job.opts.attempts ?? 1;
    const final = job.attemptsMade + 1 >= attempts;
    log[final ? "error" : "warn"]({ err: error, attempt: job.attemptsMade + 1, attempts }, final ? "import.job_failed" : "import.job_retrying");
    throw error;
  }
}

/** Runs the import worker and installs the sweep schedule. Returns a close function for shutdown. */
export async function startHistoryImport({ sweepIntervalMs, pollMs, concurrency = 2 }: { sweepIntervalMs: number; pollMs?: number; concurrency?: number }): Promise<{ close: () => Promise<void> }> {
  const connection = createRedis("worker");
  connection.on("error", (error) => logger.warn({ err: error.message }, "redis.error"));
  // Shutdown stops a running import between two steps (it resumes on the next start) instead of waiting for its end.
  const stopping = new AbortController();
  const worker = new Worker<HistoryImportJob>(HISTORY_IMPORT_QUEUE, (job) => historyImportProcessor(job, { pollMs, signal: stopping.signal }), {
    connection,
    concurrency,
    // An import job runs for minutes: its lock is renewed while it runs; a killed worker's job is taken over after this.
    lockDuration: 60_000,
  });
  worker.on("error", (error) => logger.warn({ err: error.message }, "import.worker_error"));
  const cancelSchedule = installScheduleWithRetry(
    () => getHistoryImportQueue().upsertJobScheduler(SCHEDULER_ID, { every: sweepIntervalMs }, { name: "sweep", data: { kind: "sweep" }, opts: jobOptions }).then(() => undefined),
    { done: "import.sweep_scheduled", failed: "import.sweep_schedule_failed" },
    { queue: HISTORY_IMPORT_QUEUE, intervalMs: sweepIntervalMs },
  );
  return {
    close: async () => {
      cancelSchedule();
      stopping.abort();
      await worker.close();
      await closeHistoryImportQueue();
      connection.disconnect();
    },
  };
}
