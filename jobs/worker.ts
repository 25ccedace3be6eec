// Worker process entry: `npm run worker`. Applies webhook events (with segment membership and
// loyalty), sweeps the inbox for rows that were never enqueued, runs the segment refresh, tag
// sync and loyalty maintenance schedules and the email sender, publishes its metrics, and closes cleanly on SIGTERM.
process.env.CRM_SERVICE ??= "crm-worker";
import { Worker } from "bullmq";
import { getEnv, formatEnvIssues } from "../app/env.server";
import { logger } from "../app/logger.server";
import { closeDb } from "../app/db.server";
import { createRedis } from "../app/redis.server";
import { startMetricsPublisher } from "../app/services/metrics-publisher.server";
import { stopContinuationBatches } from "../app/services/process-inbox-event.server";
import { startInboxSweeper } from "./inbox-sweeper";
import { startInboxRetention } from "./inbox-retention";
import { startStatisticsKeeper } from "../app/services/table-statistics.server";
import { applyWebhookProcessor } from "./apply-webhook.processor";
import { WEBHOOK_QUEUE, closeQueues, type ApplyWebhookJob } from "../app/queues.server";
import { startLoyaltyMaintenance } from "./loyalty-maintenance";
import { startSegmentRefresh } from "./segment-refresh";
import { startTagSyncWriter } from "./tag-sync-writer";
import { startFeedbackScheduler } from "./feedback-scheduler";
import { startEmailSender } from "./email-sender";
import { startProductRatingsWriter } from "./product-ratings-writer";
import { startSyncReconcile } from "./sync-reconcile";
import { startAutomationRunner } from "./automation-runner";
import { startHistoryImport } from "./history-import";
import { startClvRefit } from "./clv-refit";
import { ZodError } from "zod";

async function main() {
  let env;
  try {
    env = getEnv();
  } catch (error) {
    process.stderr.write(`${error instanceof ZodError ? formatEnvIssues(error) : (error as Error).message}\n`);
    process.exit(1);
  }
  const connection = createRedis("worker");
  connection.on("error", (error) => logger.warn({ err: error.message }, "redis.error"));
  const worker = new Worker<ApplyWebhookJob>(WEBHOOK_QUEUE, applyWebhookProcessor, {
    connection,
    concurrency: env.WORKER_CONCURRENCY,
    autorun: true,
  });
  worker.on("error", (error) => logger.warn({ err: error.message }, "worker.error"));
  const sweeper = startInboxSweeper({ intervalMs: env.SWEEP_INTERVAL_MS });
  const retention = startInboxRetention({ intervalMs: env.INBOX_RETENTION_INTERVAL_MS, retentionDays: env.INBOX_RETENTION_DAYS });
  const publisher = startMetricsPublisher();
  const statistics = startStatisticsKeeper({ intervalMs: env.STATISTICS_INTERVAL_MS });
  const segmentRefresh = await startSegmentRefresh({ intervalMs: env.SEGMENT_REFRESH_INTERVAL_MS });
  const tagSync = await startTagSyncWriter({ sweepIntervalMs: env.TAG_SYNC_SWEEP_INTERVAL_MS, reconcileIntervalMs: env.TAG_SYNC_RECONCILE_INTERVAL_MS });
  const loyaltyMaintenance = await startLoyaltyMaintenance({ intervalMs: env.LOYALTY_MAINTENANCE_INTERVAL_MS, recoveryIntervalMs: env.LOYALTY_RECOVERY_INTERVAL_MS, birthdayIntervalMs: env.LOYALTY_BIRTHDAY_INTERVAL_MS });
  const feedbackScheduler = await startFeedbackScheduler({ intervalMs: env.FEEDBACK_SCHEDULER_INTERVAL_MS, batchSize: env.FEEDBACK_SCHEDULER_BATCH_SIZE });
  const emailSender = await startEmailSender({ sweepIntervalMs: env.EMAIL_SWEEP_INTERVAL_MS });
  const productRatings = await startProductRatingsWriter({ sweepIntervalMs: env.PRODUCT_RATINGS_SWEEP_INTERVAL_MS });
  const syncReconcile = await startSyncReconcile({ intervalMs: env.SYNC_RECONCILE_INTERVAL_MS });
  const automationRunner = await startAutomationRunner({ intervalMs: env.AUTOMATION_RUNNER_INTERVAL_MS });
  const historyImport = await startHistoryImport({ sweepIntervalMs: env.IMPORT_SWEEP_INTERVAL_MS, pollMs: env.IMPORT_POLL_INTERVAL_MS });
  const clvRefit = await startClvRefit({ intervalMs: env.CLV_REFIT_INTERVAL_MS });
  logger.info({ queue: WEBHOOK_QUEUE, concurrency: env.WORKER_CONCURRENCY }, "worker.started");

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, "worker.stopping");
    sweeper.stop();
    retention.stop();
    publisher.stop();
    statistics.stop();
    // Lets active jobs finish; a job cut off by a hard kill is retried (its transaction rolled back).
    await worker.close();
    await stopContinuationBatches();
    await segmentRefresh.close();
    await tagSync.close();
    await loyaltyMaintenance.close();
    await feedbackScheduler.close();
    await emailSender.close();
    await productRatings.close();
    await syncReconcile.close();
    await automationRunner.close();
    await historyImport.close();
    await clvRefit.close();
    await closeQueues();
    connection.disconnect();
    await closeDb();
    logger.info("worker.stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

void main();
