// BullMQ processor for the webhook queue. Each job is for one inbox row; the row is applied
// together with the other rows waiting at that moment (processInboxBatch), so under load
// most jobs find their row already done. Says how it fails: a malformed or unknown
// event is not an error (the inbox row is marked ignored and kept); a transient
// fault throws and BullMQ retries with backoff; the last failed attempt dead-letters
// the inbox row with its reason, for `crm events replay`.
import { UnrecoverableError, type Job } from "bullmq";
import { z } from "zod";
import { logger } from "../app/logger.server";
import { eventLagSeconds, eventProcessingSeconds, eventsApplied } from "../app/metrics.server";
import { getEnv } from "../app/env.server";
import { processInboxBatch, recordInboxFailure } from "../app/services/process-inbox-event.server";
import { requestTagSyncReconcile } from "./tag-sync-writer";
import type { ApplyWebhookJob } from "./queues";

const JobData = z.object({ inboxId: z.string().regex(/^\d+$/) });

/** The replay count a job id carries (`wh-<id>` or `wh-<id>-r<replays>`, see applyWebhookJobId). */
function replaysOf(jobId: string | undefined): number {
  const match = /-r(\d+)$/.exec(jobId ?? "");
  return match ? Number(match[1]) : 0;
}

export async function applyWebhookProcessor(job: Job<ApplyWebhookJob>): Promise<string> {
  const parsed = JobData.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`invalid job data: ${parsed.error.message}`);
  const { inboxId } = parsed.data;
  const log = logger.child({ jobId: job.id, inboxId });
  const started = performance.now();
  try {
    const result = await processInboxBatch(inboxId, { maxBatch: getEnv().WORKER_BATCH_SIZE, replays: replaysOf(job.id) });
    const seconds = (performance.now() - started) / 1000;
    if (result.batchError) log.warn({ err: result.batchError }, "event.batch_failed_applied_alone");
    const now = Date.now();
    for (const event of result.events) {
      if (event.outcome === "processed") {
        eventProcessingSeconds.observe({ topic: event.topic }, seconds);
        eventLagSeconds.observe(Math.max(0, (now - event.receivedAt.getTime()) / 1000));
        eventsApplied.inc({ outcome: "processed", topic: event.topic });
      } else {
        eventsApplied.inc({ outcome: "ignored", topic: event.topic });
        log.warn({ inboxId: event.inboxId, shop: event.shop, topic: event.topic, reason: event.reason }, "event.ignored");
      }
    }
    if (result.events.length > 0) log.debug({ events: result.events.length, seconds }, "events.applied");
    // Committed: let the tag sync catch up with the membership changes (one delayed,
    // deduplicated reconcile per shop). A failure here loses nothing: the periodic reconcile
    // covers it.
    for (const shop of result.membershipChanged ?? []) {
      await requestTagSyncReconcile(shop, getEnv().TAG_SYNC_EVENT_DELAY_MS).catch((error: unknown) => log.warn({ shop, err: error }, "tag_sync.reconcile_request_failed"));
    }
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
