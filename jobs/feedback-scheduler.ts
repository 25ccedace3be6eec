// The feedback scheduler: every FEEDBACK_SCHEDULER_INTERVAL_MS (one BullMQ job scheduler, so
// Redis holds one repeating job however many requests wait), one job that sends the feedback
// requests and reminders that are due (runFeedbackScheduler: PostgreSQL rows claimed with FOR
// UPDATE SKIP LOCKED in bounded batches, the email written to the outbox in the same
// transaction).
//
// How it fails: job data is parsed first and bad data is unrecoverable. A database error fails
// the attempt and BullMQ retries it with backoff; nothing is lost or sent twice meanwhile (the
// rows stay due, and the outbox's idempotency key is derived from the request). A request whose
// email cannot be rendered or queued is logged (feedback.send_failed) and tried again an hour
// later without holding up the others.
import { UnrecoverableError, Worker, type Job, type JobsOptions } from "bullmq";
import { z } from "zod";
import { logger } from "../app/logger.server";
import { createRedis } from "../app/redis.server";
import { runFeedbackScheduler, type SchedulerReport } from "../app/services/feedback/scheduler.server";
import { sharedQueue } from "../app/queues.server";
import { installScheduleWithRetry } from "./schedules";

export const FEEDBACK_SCHEDULER_QUEUE = "crm-feedback-scheduler";
const SCHEDULER_ID = "feedback-scheduler-every";

export type FeedbackSchedulerJob = { reason: "schedule" | "on-demand" };
const JobData = z.object({ reason: z.enum(["schedule", "on-demand"]) });

const jobOptions: JobsOptions = {
  attempts: 3,
  backoff: { type: "exponential", delay: 30_000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 1_000 },
};

const queue = sharedQueue<FeedbackSchedulerJob>(FEEDBACK_SCHEDULER_QUEUE);
export const getFeedbackSchedulerQueue = queue.get;
export const closeFeedbackSchedulerQueue = queue.close;

export async function scheduleFeedbackScheduler(intervalMs: number): Promise<void> {
  await getFeedbackSchedulerQueue().upsertJobScheduler(SCHEDULER_ID, { every: intervalMs }, { name: "run", data: { reason: "schedule" }, opts: jobOptions });
}

export function feedbackSchedulerProcessor(batchSize: number) {
  return async (job: Job<FeedbackSchedulerJob>): Promise<SchedulerReport> => {
    const parsed = JobData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid feedback scheduler job data: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
    const log = logger.child({ jobId: job.id, reason: parsed.data.reason });
    try {
      return await runFeedbackScheduler({ batchSize });
    } catch (error) {
      const attempts = job.opts.attempts ?? 1;
      const final = job.attemptsMade + 1 >= attempts;
      log[final ? "error" : "warn"]({ err: error, attempt: job.attemptsMade + 1, attempts }, final ? "feedback.scheduler_failed" : "feedback.scheduler_retrying");
      throw error;
    }
  };
}

/** Runs the scheduler worker (one run at a time per process) and installs the schedule. */
export async function startFeedbackScheduler({ intervalMs, batchSize }: { intervalMs: number; batchSize: number }): Promise<{ close: () => Promise<void> }> {
  const connection = createRedis("worker");
  connection.on("error", (error) => logger.warn({ err: error.message }, "redis.error"));
  const worker = new Worker<FeedbackSchedulerJob>(FEEDBACK_SCHEDULER_QUEUE, feedbackSchedulerProcessor(batchSize), { connection, concurrency: 1 });
  worker.on("error", (error) => logger.warn({ err: error.message }, "feedback.scheduler_worker_error"));
  const cancelSchedule = installScheduleWithRetry(
    () => scheduleFeedbackScheduler(intervalMs),
    { done: "feedback.scheduler_scheduled", failed: "feedback.scheduler_schedule_failed" },
    { queue: FEEDBACK_SCHEDULER_QUEUE, intervalMs },
  );
  return {
    close: async () => {
      cancelSchedule();
      await worker.close();
      await closeFeedbackSchedulerQueue();
      connection.disconnect();
    },
  };
}
