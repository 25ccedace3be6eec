// The email sender's queue (producer side): a wake-up, nothing more. The outbox in
// PostgreSQL is the source of truth; a drain job lost with Redis is replaced by the
// periodic one (EMAIL_SWEEP_INTERVAL_MS). Job ids carry no ':' (BullMQ).
import type { JobsOptions } from "bullmq";
import { sharedQueue } from "./shared-queue";

export const EMAIL_QUEUE = "crm-email";
export type EmailJob = { kind: "drain" };

export const emailJobOptions: JobsOptions = {
  attempts: 3,
  backoff: { type: "exponential", delay: 2_000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 1_000 },
};

const queue = sharedQueue<EmailJob>(EMAIL_QUEUE);
export const getEmailQueue = queue.get;
export const closeEmailQueue = queue.close;

/** Asks for a drain pass (collapses with one already waiting; one more runs after a running one). */
export async function enqueueEmailDrain(delayMs = 0): Promise<void> {
  await getEmailQueue().add("drain", { kind: "drain" }, { ...emailJobOptions, delay: delayMs, deduplication: { id: "email-drain", keepLastIfActive: true } });
}
