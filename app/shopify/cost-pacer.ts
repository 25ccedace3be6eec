// Pacing Admin GraphQL requests on a shop's cost bucket (pure: the clock is injected).
//
// Shopify limits each (app, shop) pair with a leaky bucket of cost points: every response
// carries extensions.cost.throttleStatus {maximumAvailable, currentlyAvailable,
// restoreRate}; a request whose requested cost exceeds what is available is answered
// THROTTLED (PLATFORM.md 3.7). Rather than sending until THROTTLED and then sleeping, the
// pacer models the bucket from the latest throttleStatus and lets a request go as soon as
// the model says it fits, so requests flow at the restore rate once the bucket's initial
// content is spent.
//
// The model is conservative: the last reported level, refilled at restoreRate since it was
// received (not since Shopify measured it), minus the requested cost of every request still
// in flight (even those Shopify may already have counted). Before the first answer it knows
// nothing and lets one request through to learn the bucket.
export type ThrottleStatus = { maximumAvailable: number; currentlyAvailable: number; restoreRate: number };

export type CostPacerOptions = {
  now?: () => number;
  /** Points left untouched for the app's other Admin calls (UI, loyalty): a fraction of maximumAvailable. */
  reserveFraction?: number;
};

export class CostPacer {
  private readonly now: () => number;
  private readonly reserveFraction: number;
  private level: { available: number; at: number; max: number; rate: number } | undefined;
  private inFlightCost = 0;
  private inFlightCount = 0;
  private pausedUntil = 0;

  constructor(options: CostPacerOptions = {}) {
    this.now = options.now ?? Date.now;
    this.reserveFraction = options.reserveFraction ?? 0.05;
  }

  /** The last throttleStatus seen, if any. */
  get bucket(): { maximumAvailable: number; restoreRate: number } | undefined {
    return this.level ? { maximumAvailable: this.level.max, restoreRate: this.level.rate } : undefined;
  }

  /** Points the model expects to be available now (after in-flight requests). */
  estimate(at = this.now()): number | undefined {
    if (!this.level) return undefined;
    const refilled = Math.min(this.level.max, this.level.available + (Math.max(0, at - this.level.at) / 1000) * this.level.rate);
    return refilled - this.inFlightCost;
  }

  /** Milliseconds to wait before a request of `cost` points may be sent (0: now). */
  delayFor(cost: number, at = this.now()): number {
    const pause = Math.max(0, this.pausedUntil - at);
    if (!this.level) return this.inFlightCount === 0 ? pause : Math.max(pause, 5);
    const reserve = Math.min(this.level.max - cost, this.level.max * this.reserveFraction);
    const missing = cost + Math.max(0, reserve) - this.estimate(at)!;
    if (missing <= 0) return pause;
    if (this.level.rate <= 0) return Math.max(pause, 1_000);
    return Math.max(pause, Math.ceil((missing / this.level.rate) * 1000));
  }

  /** Records a request of `cost` points as sent. */
  sent(cost: number): void {
    this.inFlightCost += cost;
    this.inFlightCount++;
  }

  /** Records the answer to a sent request; `status` is its throttleStatus when it had one. */
  answered(cost: number, status: ThrottleStatus | null | undefined, at = this.now()): void {
    this.inFlightCost = Math.max(0, this.inFlightCost - cost);
    this.inFlightCount = Math.max(0, this.inFlightCount - 1);
    if (status && status.maximumAvailable > 0) {
      this.level = { available: status.currentlyAvailable, at, max: status.maximumAvailable, rate: status.restoreRate };
    }
  }

  /** Sends nothing before `untilMs` (HTTP 429 Retry-After). */
  pause(untilMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, untilMs);
  }

  get inFlight(): number {
    return this.inFlightCount;
  }
}
