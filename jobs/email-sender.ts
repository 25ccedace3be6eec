// The email sender job (issue 12, "Email channel"): drains the email outbox
// (app/services/email/sender.server.ts) in the worker process.
//
// Queue crm-email, one kind of job, `drain`: one pass over every shop's due emails. Asked
// for by wakeEmailSender (after a caller's transaction committed), and repeated every
// EMAIL_SWEEP_INTERVAL_MS by a job scheduler, so a wake-up lost with Redis (or never sent)
// delays an email by at most that long; retries whose backoff ended are picked up the same
// way. Any number of worker processes may drain at once (rows are claimed under a lease).
//
// How it fails: bad job data is unrecoverable; SMTP answers are recorded on the rows (nothing
// is thrown for them); a database failure throws and BullMQ retries the pass.
import { UnrecoverableError, Worker, type Job } from "bullmq";
import { z } from "zod";
import { logger } from "../app/logger.server";
import { createRedis } from "../app/redis.server";
import { closeSmtpTransport, drainEmailOutbox, type SenderOptions } from "../app/services/email/sender.server";
import { EMAIL_QUEUE, closeEmailQueue, emailJobOptions, enqueueEmailDrain, getEmailQueue, type EmailJob } from "../app/queues.server";
import { installScheduleWithRetry } from "./schedules";

const DRAIN_SCHEDULER = "email-drain-every";
const JobData = z.object({ kind: z.literal("drain") });

let stopping = false;

export function createEmailSenderProcessor(overrides: Omit<SenderOptions, "shouldStop"> = {}) {
  return async function emailSenderProcessor(job: Job<EmailJob>): Promise<unknown> {
    const parsed = JobData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid email job data: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
    const log = logger.child({ jobId: job.id });
    const report = await drainEmailOutbox({ ...overrides, shouldStop: () => stopping });
    if (report.claimed > 0) log.info(report, "email.drained");
    // Stopped with rows still due (the pass's time limit): the next pass at once.
    if (report.moreDue && !stopping) await enqueueEmailDrain().catch((error: Error) => log.warn({ err: error.message }, "email.wake_failed"));
    return report;
  };
}

/** Creates or updates the repeating drain (idempotent: one id for every worker process). */
export async function scheduleEmailSender(intervalMs: number): Promise<void> {
  await getEmailQueue().upsertJobScheduler(DRAIN_SCHEDULER, { every: intervalMs }, { name: "drain", data: { kind: "drain" }, opts: { ...emailJobOptions, attempts: 1 } });
}

/** Runs the sender in this process (the worker entry calls it) and installs the schedule. */
export async function startEmailSender(options: {
  sweepIntervalMs: number;
  sender?: Omit<SenderOptions, "shouldStop">;
  schedule?: boolean;
}): Promise<{ worker: Worker<EmailJob>; close: () => Promise<void> }> {
  stopping = false;
  const connection = createRedis("worker");
  connection.on("error", (error) => logger.warn({ err: error.message }, "redis.error"));
  // One pass at a time per process: a pass already sends over all the pool's connections.
  const worker = new Worker<EmailJob>(EMAIL_QUEUE, createEmailSenderProcessor(options.sender), { connection, concurrency: 1 });
  worker.on("error", (error) => logger.warn({ err: error.message }, "email.worker_error"));
  const cancelSchedule =
    (options.schedule ?? true)
      ? installScheduleWithRetry(() => scheduleEmailSender(options.sweepIntervalMs), { done: "email.scheduled", failed: "email.schedule_failed" }, {
          queue: EMAIL_QUEUE,
          sweepIntervalMs: options.sweepIntervalMs,
        })
      : () => undefined;
  return {
    worker,
    close: async () => {
      stopping = true;
      cancelSchedule();
      await worker.close();
      await closeEmailQueue();
      closeSmtpTransport();
      connection.disconnect();
    },
  };
}
