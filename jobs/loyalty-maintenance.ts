// The loyalty maintenance job: every LOYALTY_MAINTENANCE_INTERVAL_MS (a BullMQ job scheduler),
// one job per run that calls runLoyaltyMaintenance (points expiry, tier refresh for windows
// that move with time alone, tier tags through the tag outbox) for each shop with a loyalty
// program, at the wall clock.
//
// How it fails: job data is parsed first and bad data is unrecoverable (no retry). A shop that
// fails is logged (loyalty.maintenance_shop_failed) and the other shops still run; the attempt
// then fails so BullMQ retries with exponential backoff. runLoyaltyMaintenance is idempotent
// (entries are keyed, tiers compare with the last change), so a retry that redoes the shops
// that succeeded writes nothing twice. Every outcome is logged as loyalty.maintenance_*.
//
// The same queue runs a second schedule, every LOYALTY_RECOVERY_INTERVAL_MS: redemptions left
// pending for more than ten minutes (Shopify unreachable, a process killed between the debit
// and Shopify's answer) are settled by asking Shopify whether their code exists
// (recoverPendingRedemptions: issued, or failed with the points given back). Rows Shopify still
// cannot be asked about stay pending for the next run; that is logged, not failed.
//
// A third schedule, every LOYALTY_BIRTHDAY_INTERVAL_MS (default daily), reads each program
// shop's customers' `facts.birth_date` metafield through the Admin API and awards birthday
// bonuses (runBirthdayBonuses; keyed per customer and year). A shop that fails is logged and
// the attempt fails after the others ran, so BullMQ retries; a retry awards nothing twice.
import { UnrecoverableError, Worker, type Job, type JobsOptions } from "bullmq";
import { z } from "zod";
import { logger } from "../app/logger.server";
import { createRedis } from "../app/redis.server";
import { sharedQueue } from "../app/queues.server";
import { installScheduleWithRetry } from "./schedules";
import { listLoyaltyShops, runLoyaltyMaintenance } from "../app/services/loyalty/maintenance.server";
import { listAnniversaryShops, runBirthdayBonuses, type BirthdayRunReport } from "../app/services/loyalty/birthdays.server";
import { recoverPendingRedemptions, type RecoveryReport } from "../app/services/loyalty/rewards.server";
import { isShopDomain } from "../app/shopify/shop-domain";

export const LOYALTY_MAINTENANCE_QUEUE = "crm-loyalty-maintenance";
const SCHEDULER_ID = "loyalty-maintenance-every";
const RECOVERY_SCHEDULER_ID = "loyalty-redemption-recovery-every";
const BIRTHDAY_SCHEDULER_ID = "loyalty-birthdays-every";
/** Job names on the queue. */
export const MAINTAIN = "maintain";
export const RECOVER_REDEMPTIONS = "recover-redemptions";
export const BIRTHDAY_BONUSES = "birthday-bonuses";
/** A live redemption attempt takes at most about two minutes: only older pending rows are settled. */
const RECOVER_OLDER_THAN_MS = 10 * 60_000;

export type LoyaltyMaintenanceJob = { shop?: string | null; reason: "schedule" | "on-demand" };

const JobData = z.object({
  shop: z.string().refine(isShopDomain, "shop must be a *.myshopify.com domain").nullish(),
  reason: z.enum(["schedule", "on-demand"]),
});

const jobOptions: JobsOptions = {
  attempts: 3,
  backoff: { type: "exponential", delay: 60_000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 1_000 },
};

const queue = sharedQueue<LoyaltyMaintenanceJob>(LOYALTY_MAINTENANCE_QUEUE);
export const getLoyaltyMaintenanceQueue = queue.get;
export const closeLoyaltyMaintenanceQueue = queue.close;

/**
 * Asks for a maintenance run now (one shop, or every shop with a program), e.g. after a
 * program change. Requests made while one for the same target waits or runs collapse into at
 * most one more run.
 */
export async function requestLoyaltyMaintenance(target: { shop?: string } = {}): Promise<string | undefined> {
  const data = JobData.parse({ shop: target.shop ?? null, reason: "on-demand" });
  const key = `loyaltymaint-${(data.shop ?? "all-shops").replace(/[^A-Za-z0-9.-]/g, "-")}`;
  const job = await getLoyaltyMaintenanceQueue().add("maintain", data, { ...jobOptions, deduplication: { id: key, keepLastIfActive: true } });
  return job.id;
}

/** Creates or updates the repeating schedules (idempotent: one scheduler id each for every worker process). */
export async function scheduleLoyaltyMaintenance(intervalMs: number, recoveryIntervalMs: number, birthdayIntervalMs = 86_400_000): Promise<void> {
  const queue = getLoyaltyMaintenanceQueue();
  await queue.upsertJobScheduler(BIRTHDAY_SCHEDULER_ID, { every: birthdayIntervalMs }, { name: BIRTHDAY_BONUSES, data: { reason: "schedule" }, opts: jobOptions });
  await queue.upsertJobScheduler(SCHEDULER_ID, { every: intervalMs }, { name: MAINTAIN, data: { reason: "schedule" }, opts: jobOptions });
  await queue.upsertJobScheduler(RECOVERY_SCHEDULER_ID, { every: recoveryIntervalMs }, { name: RECOVER_REDEMPTIONS, data: { reason: "schedule" }, opts: jobOptions });
}

export type LoyaltyMaintenanceSummary = {
  shops: number;
  expired: { customers: number; points: number };
  tierChanges: number;
  failed: { shop: string; error: string }[];
};

export async function loyaltyMaintenanceProcessor(job: Job<LoyaltyMaintenanceJob>): Promise<LoyaltyMaintenanceSummary | RecoveryReport | BirthdaySummary> {
  const parsed = JobData.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`invalid loyalty maintenance job data: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  if (job.name === RECOVER_REDEMPTIONS) return recoverRedemptions(job, parsed.data);
  if (job.name === BIRTHDAY_BONUSES) return birthdayBonuses(job, parsed.data);
  const log = logger.child({ jobId: job.id, shop: parsed.data.shop ?? undefined, reason: parsed.data.reason });
  const started = performance.now();
  try {
    const shops = parsed.data.shop ? [parsed.data.shop] : await listLoyaltyShops();
    const summary: LoyaltyMaintenanceSummary = { shops: shops.length, expired: { customers: 0, points: 0 }, tierChanges: 0, failed: [] };
    for (const shop of shops) {
      try {
        // The wall clock, per shop: expiry dates and tier windows are "as of now".
        const result = await runLoyaltyMaintenance({ shop });
        summary.expired.customers += result.expired.customers;
        summary.expired.points += result.expired.points;
        summary.tierChanges += result.tierChanges.length;
      } catch (error) {
        summary.failed.push({ shop, error: error instanceof Error ? error.message : String(error) });
        log.error({ shop, err: error }, "loyalty.maintenance_shop_failed");
      }
    }
    const ms = Math.round(performance.now() - started);
    if (summary.failed.length > 0) {
      // The other shops were maintained; fail the attempt so it is retried and visible.
      throw new Error(
        `loyalty maintenance: ${summary.failed.length} of ${shops.length} shop(s) failed: ${summary.failed.map((f) => `${f.shop}: ${f.error}`).join("; ").slice(0, 1_000)}`,
      );
    }
    log.info({ ...summary, ms }, "loyalty.maintenance_done");
    return summary;
  } catch (error) {
    const attempts = job.opts.attempts ?? 1;
    const final = job.attemptsMade + 1 >= attempts;
    log[final ? "error" : "warn"]({ err: error, attempt: job.attemptsMade + 1, attempts }, final ? "loyalty.maintenance_failed" : "loyalty.maintenance_retrying");
    throw error;
  }
}

export type BirthdaySummary = { shops: number; awarded: number; invalid: number; failed: { shop: string; error: string }[] };

async function birthdayBonuses(job: Job<LoyaltyMaintenanceJob>, data: z.infer<typeof JobData>): Promise<BirthdaySummary> {
  const log = logger.child({ jobId: job.id, shop: data.shop ?? undefined, reason: data.reason });
  // Loyalty shops (the bonus), shops whose segments use anniversary() and shops with a birthday automation rule (the stored birth dates, decision 043).
  const shops = data.shop ? [data.shop] : [...new Set([...(await listLoyaltyShops()), ...(await listAnniversaryShops())])].sort();
  const summary: BirthdaySummary = { shops: shops.length, awarded: 0, invalid: 0, failed: [] };
  for (const shop of shops) {
    try {
      const report: BirthdayRunReport = await runBirthdayBonuses({ shop });
      summary.awarded += report.awarded;
      summary.invalid += report.invalid;
    } catch (error) {
      summary.failed.push({ shop, error: error instanceof Error ? error.message : String(error) });
      log.error({ shop, err: error }, "loyalty.birthdays_shop_failed");
    }
  }
  if (summary.failed.length > 0) {
    throw new Error(`birthday bonuses: ${summary.failed.length} of ${shops.length} shop(s) failed: ${summary.failed.map((f) => `${f.shop}: ${f.error}`).join("; ").slice(0, 1_000)}`);
  }
  log.info(summary, "loyalty.birthdays_done");
  return summary;
}

async function recoverRedemptions(job: Job<LoyaltyMaintenanceJob>, data: z.infer<typeof JobData>): Promise<RecoveryReport> {
  const log = logger.child({ jobId: job.id, shop: data.shop ?? undefined, reason: data.reason });
  try {
    const report = await recoverPendingRedemptions(data.shop ?? undefined, RECOVER_OLDER_THAN_MS);
    if (report.checked > 0) log[report.stillPending > 0 ? "warn" : "info"](report, "loyalty.redemptions_recovered");
    return report;
  } catch (error) {
    const attempts = job.opts.attempts ?? 1;
    const final = job.attemptsMade + 1 >= attempts;
    log[final ? "error" : "warn"]({ err: error, attempt: job.attemptsMade + 1, attempts }, final ? "loyalty.recovery_failed" : "loyalty.recovery_retrying");
    throw error;
  }
}

/**
 * Runs the maintenance worker (one job at a time: runs never overlap within a process, and a
 * concurrent run elsewhere writes nothing twice) and installs the schedule. Returns a close
 * function for shutdown.
 */
export async function startLoyaltyMaintenance({
  intervalMs,
  recoveryIntervalMs,
  birthdayIntervalMs,
}: {
  intervalMs: number;
  recoveryIntervalMs: number;
  birthdayIntervalMs?: number;
}): Promise<{ close: () => Promise<void> }> {
  const connection = createRedis("worker");
  connection.on("error", (error) => logger.warn({ err: error.message }, "redis.error"));
  const worker = new Worker<LoyaltyMaintenanceJob>(LOYALTY_MAINTENANCE_QUEUE, loyaltyMaintenanceProcessor, { connection, concurrency: 1 });
  worker.on("error", (error) => logger.warn({ err: error.message }, "loyalty.maintenance_worker_error"));
  // Redis may be unreachable at start: keep trying to install the schedule until it is.
  const cancelSchedule = installScheduleWithRetry(
    () => scheduleLoyaltyMaintenance(intervalMs, recoveryIntervalMs, birthdayIntervalMs),
    { done: "loyalty.maintenance_scheduled", failed: "loyalty.maintenance_schedule_failed" },
    { queue: LOYALTY_MAINTENANCE_QUEUE, intervalMs, recoveryIntervalMs },
  );
  return {
    close: async () => {
      cancelSchedule();
      await worker.close();
      await closeLoyaltyMaintenanceQueue();
      connection.disconnect();
    },
  };
}
