// The automation runner: every AUTOMATION_RUNNER_INTERVAL_MS (one BullMQ job scheduler, so
// Redis holds one repeating job however many firings wait), one job that scans the time-based
// triggers and runs the due firings (runAutomations: PostgreSQL rows claimed with a lease;
// app/services/automations/runner.server.ts, decision 049).
//
// How it fails: job data is parsed first and bad data is unrecoverable. A database error fails
// the attempt and BullMQ retries it with backoff; nothing is lost or done twice meanwhile (a
// claimed firing's lease ends and it is claimed again; every effect is keyed by firing and
// step). A failing action is recorded on its firing and retried by later runs, MAX_ATTEMPTS
// times at most, without failing the job.
import { UnrecoverableError, Worker, type Job, type JobsOptions } from "bullmq";
import { z } from "zod";
import { logger } from "../app/logger.server";
import { createRedis } from "../app/redis.server";
import { runAutomations, type RunnerReport } from "../app/services/automations/runner.server";
import { sharedQueue } from "../app/queues.server";
import { installScheduleWithRetry } from "./schedules";

export const AUTOMATION_RUNNER_QUEUE = "crm-automation-runner";
const SCHEDULER_ID = "automation-runner-every";

export type AutomationRunnerJob = { reason: "schedule" | "on-demand" };
const JobData = z.object({ reason: z.enum(["schedule", "on-demand"]) });

const jobOptions: JobsOptions = {
  attempts: 3,
  backoff: { type: "exponential", delay: 5_000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 1_000 },
};

const queue = sharedQueue<AutomationRunnerJob>(AUTOMATION_RUNNER_QUEUE);
export const getAutomationRunnerQueue = queue.get;
export const closeAutomationRunnerQueue = queue.close;

export async function automationRunnerProcessor(job: Job<AutomationRunnerJob>): Promise<RunnerReport> {
  const parsed = JobData.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`invalid automation runner job data: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  try {
    return await runAutomations();
  } catch (error) {
    const attempts = job.opts.attempts ?? 1;
    const final = job.attemptsMade + 1 >= attempts;
    logger[final ? "error" : "warn"]({ jobId: job.id, err: error, attempt: job.attemptsMade + 1, attempts }, final ? "automation.runner_failed" : "automation.runner_retrying");
    throw error;
  }
}

/** Runs the runner worker (one run at a time per process) and installs the schedule. */
export async function startAutomationRunner({ intervalMs }: { intervalMs: number }): Promise<{ close: () => Promise<void> }> {
  const connection = createRedis("worker");
  connection.on("error", (error) => logger.warn({ err: error.message }, "redis.error"));
  const worker = new Worker<AutomationRunnerJob>(AUTOMATION_RUNNER_QUEUE, automationRunnerProcessor, { connection, concurrency: 1 });
  worker.on("error", (error) => logger.warn({ err: error.message }, "automation.runner_worker_error"));
  const cancelSchedule = installScheduleWithRetry(
    () => getAutomationRunnerQueue().upsertJobScheduler(SCHEDULER_ID, { every: intervalMs }, { name: "run", data: { reason: "schedule" }, opts: jobOptions }).then(() => undefined),
    { done: "automation.runner_scheduled", failed: "automation.runner_schedule_failed" },
    { queue: AUTOMATION_RUNNER_QUEUE, intervalMs },
  );
  return {
    close: async () => {
      cancelSchedule();
      await worker.close();
      await closeAutomationRunnerQueue();
      connection.disconnect();
    },
  };
}
