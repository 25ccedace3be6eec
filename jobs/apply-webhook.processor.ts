// BullMQ processor for the webhook queue. Each job is for one inbox row; the row is applied
// together with the other rows waiting at that moment (processInboxBatch), so under load
// most jobs find their row already done. Says how it fails: a malformed or unknown
// event is not an error (the inbox row is marked ignored and kept); a transient
// fault throws and BullMQ retries with backoff; the last failed attempt dead-letters
// the inbox row with its reason, for `crm events replay`.
import { UnrecoverableError, type Job } from "bullmq";
import { z } from "zod";
import { logger, type Logger } from "../app/logger.server";
import { eventLagSeconds, eventProcessingSeconds, eventsApplied } from "../app/metrics.server";
import { getEnv } from "../app/env.server";
import { processInboxBatch, recordInboxFailure, type AppliedBatch } from "../app/services/process-inbox-event.server";
import { requestTagSyncReconcile, type ApplyWebhookJob } from "../app/queues.server";

const JobData = z.object({ inboxId: z.string().regex(/^\d+$/) });

/** The replay count a job id carries (`wh-<id>` or `wh-<id>-r<replays>`, see applyWebhookJobId). */
function replaysOf(jobId: string | undefined): number {
  const match = /-r(\d+)$/.exec(jobId ?? "");
  return match ? Number(match[1]) : 0;
}

/** Metrics and logs for the events one batch applied, and a tag sync reconcile for shops whose membership changed. */
async function reportBatch(batch: AppliedBatch, seconds: number, log: Logger): Promise<void> {
  const now = Date.now();
  for (const event of batch.events) {
    if (event.outcome === "processed") {
      eventProcessingSeconds.observe({ topic: event.topic }, seconds);
      eventLagSeconds.observe(Math.max(0, (now - event.receivedAt.getTime()) / 1000));
      eventsApplied.inc({ outcome: "processed", topic: event.topic });
    } else {
      eventsApplied.inc({ outcome: "ignored", topic: event.topic });
      log.warn({ inboxId: event.inboxId, shop: event.shop, topic: event.topic, reason: event.reason }, "event.ignored");
    }
  }
  if (batch.events.length > 0) log.debug({ events: batch.events.length, seconds }, "events.applied");
  // Committed: let the tag sync catch up with the membership changes (one delayed,
  // deduplicated reconcile per shop). A failure here loses nothing: the periodic reconcile
  // covers it.
  for (const shop of batch.membershipChanged ?? []) {
    await requestTagSyncReconcile(shop, getEnv().TAG_SYNC_EVENT_DELAY_MS).catch((error: unknown) => log.warn({ shop, err: error }, "tag_sync.reconcile_request_failed"));
  }
}

/** Batches started after a full one, not by a job (processInboxBatch's continueWith). */
async function reportContinuation(batch: AppliedBatch, seconds: number): Promise<void> {
  await reportBatch(batch, seconds, logger.child({ continuation: true }));
}

export async function applyWebhookProcessor(job: Job<ApplyWebhookJob>): Promise<string> {
  const parsed = JobData.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`invalid job data: ${parsed.error.message}`);
  const { inboxId } = parsed.data;
  const log = logger.child({ jobId: job.id, inboxId });
  const started = performance.now();
  try {
    const env = getEnv();
    const result = await processInboxBatch(inboxId, {
      maxBatch: env.WORKER_BATCH_SIZE,
      batchesInFlight: env.WORKER_BATCHES_IN_FLIGHT,
      replays: replaysOf(job.id),
      continueWith: reportContinuation,
    });
    if (result.batchError) log.warn({ err: result.batchError }, "event.batch_failed_applied_alone");
    await reportBatch(result, (performance.now() - started) / 1000, log);
    return result.own.outcome;
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
