// One shop's Admin API access for an outbox writer's pass (the tag writer, the product rating
// writer): requests paced on the shop's cost bucket (cost-pacer.ts), THROTTLED re-sent when
// the bucket allows, transient failures optionally retried with backoff, and the pass's
// figures (requests, throttles, cost spent) counted into the pass's report. Also the retry
// policy both outboxes share (backoffMs, HALT_DELAY_MS).
import { setTimeout as sleep } from "node:timers/promises";
import { classifyAdminError, getShopifyAdmin, type AdminResult, type QueryCost, type ShopifyAdmin } from "./admin-api.server";
import { CostPacer, type ThrottleStatus } from "./cost-pacer";

/** When a shop cannot be written to (invalid token, no session, forbidden), its writes wait this long. */
export const HALT_DELAY_MS = 5 * 60_000;
/** Admin access is re-obtained this often within a pass (the library refreshes expiring tokens). */
const ADMIN_MAX_AGE_MS = 4 * 60_000;
/** THROTTLED answers re-sent at most this many times per request. */
const THROTTLE_RETRIES = 50;

/** An outbox row's retry delay after `attempts` failed attempts: exponential, capped at 5 min, jittered down to half. */
export function backoffMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(300_000, 1_000 * 2 ** Math.min(attempts, 12));
  return Math.round(base * (0.5 + random() * 0.5));
}

/** The figures a pass reports about its Admin requests (the pass's report is updated in place). */
export type AdminPassStats = {
  requests: number;
  throttled: number;
  transientErrors: number;
  /** Sum of actualQueryCost over the pass's answered requests. */
  costSpent: number;
  lastThrottleStatus: ThrottleStatus | null;
};

export class PacedAdmin {
  readonly pacer = new CostPacer();
  private admin: { client: ShopifyAdmin; at: number } | null = null;

  constructor(
    readonly shop: string,
    private readonly stats: AdminPassStats,
  ) {}

  /** The shop's Admin client, re-obtained every few minutes within a long pass. */
  async client(): Promise<ShopifyAdmin> {
    if (!this.admin || Date.now() - this.admin.at > ADMIN_MAX_AGE_MS) this.admin = { client: await getShopifyAdmin(this.shop), at: Date.now() };
    return this.admin.client;
  }

  noteCost(cost: QueryCost | null | undefined): void {
    if (!cost) return;
    this.stats.costSpent += cost.actualQueryCost ?? 0;
    this.stats.lastThrottleStatus = cost.throttleStatus;
  }

  /** Waits until the bucket model says a request of `cost` points fits. */
  async paced(cost: number): Promise<void> {
    for (let wait = this.pacer.delayFor(cost); wait > 0; wait = this.pacer.delayFor(cost)) await sleep(Math.min(wait, 250));
  }

  /**
   * One paced request. THROTTLED is re-sent when the bucket allows; a transient failure is
   * retried `transientRetries` times with backoff; anything else is thrown, classified
   * (ShopifyAdminError).
   */
  async call<T>(cost: number, fn: (admin: ShopifyAdmin) => Promise<AdminResult<T>>, { transientRetries = 0 }: { transientRetries?: number } = {}): Promise<AdminResult<T>> {
    for (let attempt = 0; ; attempt++) {
      const admin = await this.client();
      await this.paced(cost);
      this.pacer.sent(cost);
      this.stats.requests++;
      try {
        const result = await fn(admin);
        this.pacer.answered(cost, result.cost?.throttleStatus);
        this.noteCost(result.cost);
        return result;
      } catch (e) {
        const error = classifyAdminError(this.shop, e);
        this.pacer.answered(cost, error.details.cost?.throttleStatus);
        if (error.kind === "throttled" && attempt < THROTTLE_RETRIES) {
          this.stats.throttled++;
          if (error.details.retryAfterMs) this.pacer.pause(Date.now() + error.details.retryAfterMs);
          continue;
        }
        if (error.kind === "transient" && attempt < transientRetries) {
          this.stats.transientErrors++;
          await sleep(backoffMs(attempt));
          continue;
        }
        throw error;
      }
    }
  }
}
