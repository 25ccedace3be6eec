// BullMQ processor for the webhook queue. Says how it fails: a malformed or unknown
// event is not an error (the inbox row is marked ignored and kept); a transient
// fault throws and BullMQ retries with backoff; the last failed attempt dead-letters
// the inbox row with its reason, for `crm events replay`.
import { UnrecoverableError, type Job } from "bullmq";
import { z } from "zod";
import { logger } from "../app/logger.server";
import { eventLagSeconds, eventProcessingSeconds, eventsApplied } from "../app/metrics.server";
import { processInboxEvent, recordInboxFailure } from "../app/services/process-inbox-event.server";
import type { ApplyWebhookJob } from "./queues";

const JobData = z.object({ inboxId: z.string().regex(/^\d+$/) });

export async function applyWebhookProcessor(job: Job<ApplyWebhookJob>): Promise<string> {
  const parsed = JobData.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`invalid job data: ${parsed.error.message}`);
  const { inboxId } = parsed.data;
  const log = logger.child({ jobId: job.id, inboxId });
  const started = performance.now();
  try {
    const result = await processInboxEvent(inboxId);
    const seconds = (performance.now() - started) / 1000;
    if (result.outcome === "processed") {
      eventProcessingSeconds.observe({ topic: result.topic }, seconds);
      eventLagSeconds.observe(Math.max(0, (Date.now() - result.receivedAt.getTime()) / 1000));
      eventsApplied.inc({ outcome: "processed", topic: result.topic });
      log.debug({ shop: result.shop, topic: result.topic }, "event.applied");
    } else if (result.outcome === "ignored") {
      eventsApplied.inc({ outcome: "ignored", topic: result.topic });
      log.warn({ shop: result.shop, topic: result.topic, reason: result.reason }, "event.ignored");
    }
    return result.outcome;
  } catch (error) {
    const attempts = job.opts.attempts ?? 1;
    const final = job.attemptsMade + 1 >= attempts;
    await recordInboxFailure(inboxId, error, final).catch((recordError) =>
      log.error({ err: recordError }, "event.failure_not_recorded"),
    );
    eventsApplied.inc({ outcome: final ? "dead" : "failed", topic: "unknown" });
    log[final ? "error" : "warn"]({ err: error, attempt: job.attemptsMade + 1, attempts }, final ? "event.dead_lettered" : "event.failed");
    throw error;
  }
}
