// The product rating writer: publishes each changed product's average rating and rating
// count to Shopify's standard product review metafields (reviews.rating, reviews.rating_count;
// decision 037), paced on the shop's cost bucket like the tag writer (decision 015).
//
// A pass over one shop:
// 1. rows left in flight by a crashed pass go back to pending (or are superseded);
// 2. once per shop, the standard definitions are enabled (standardMetafieldDefinitionEnable;
//    TAKEN means they exist already) and the result recorded in shop_metafield_definitions; a
//    refusal is recorded and tried again an hour later, and the ratings are written anyway
//    (each metafield carries its type, so no definition is needed to write it);
// 3. due rows are claimed 12 products at a time (2 metafields each, Shopify takes 25 per
//    call); the average (one decimal) and count are computed from feedback_product_ratings
//    now, and sent in one metafieldsSet, paced by app/shopify/paced-admin.server.ts.
// THROTTLED is re-sent when the bucket allows (no attempt counted); transient failures go back
// to pending with backoff; metafieldsSet is atomic, so an element's userError fails that
// product and the others are sent again without it; a product Shopify does not know is
// skipped; a product without ratings left is skipped (its metafields are left as they were);
// an invalid token, missing session or forbidden shop stops the pass and defers the shop.
import { logger } from "../../logger.server";
import { RATING_DEFINITIONS, formatAverage, ratingMetafields } from "../../domain/feedback/product-ratings";
import { ShopifyAdmin, ShopifyAdminError, classifyAdminError, METAFIELDS_SET_LIMIT, type AdminResult } from "../../shopify/admin-api.server";
import { HALT_DELAY_MS, PacedAdmin, backoffMs, type AdminPassStats } from "../../shopify/paced-admin.server";
import { claimDue, definitionRecords, deferShop, nextDueAt, ratingAggregates, recordDefinition, recordOutcomes, releaseStale, type RatingOutcome, type RatingWrite } from "./outbox.server";

export type RatingsDrainOptions = {
  /** A pass stops claiming after this long. */
  maxPassMs?: number;
  /** In-flight rows claimed longer ago than this belong to a pass that died. */
  staleMs?: number;
  /** Stops the pass early (worker shutdown). */
  shouldStop?: () => boolean;
};

export type RatingsDrainReport = AdminPassStats & {
  shop: string;
  halted: ShopifyAdminError["kind"] | null;
  definitions: { enabled: number; existing: number; failed: number };
  recorded: Record<RatingOutcome["kind"], number>;
  released: number;
  nextDueAt: Date | null;
  ms: number;
};

/** Products per metafieldsSet call (two metafields each). */
export const PRODUCTS_PER_CALL = Math.floor(METAFIELDS_SET_LIMIT / 2);
/** A mutation's cost until Shopify has said what a call of this pass costs. */
const DEFAULT_WRITE_COST = 10;
const DEFINITION_RETRY_MS = 60 * 60_000;

class RatingsPass {
  readonly report: RatingsDrainReport;
  private readonly admin: PacedAdmin;
  private writeCost = DEFAULT_WRITE_COST;
  private readonly started = Date.now();
  private readonly log;
  private readonly o: Required<Omit<RatingsDrainOptions, "shouldStop">> & Pick<RatingsDrainOptions, "shouldStop">;

  constructor(
    readonly shop: string,
    options: RatingsDrainOptions,
  ) {
    this.o = { maxPassMs: 120_000, staleMs: 10 * 60_000, ...options };
    this.log = logger.child({ shop });
    this.report = {
      shop,
      halted: null,
      requests: 0,
      throttled: 0,
      transientErrors: 0,
      definitions: { enabled: 0, existing: 0, failed: 0 },
      recorded: { done: 0, skipped: 0, failed: 0, retry: 0 },
      released: 0,
      costSpent: 0,
      lastThrottleStatus: null,
      nextDueAt: null,
      ms: 0,
    };
    this.admin = new PacedAdmin(shop, this.report);
  }

  private stopping(): boolean {
    return !!this.o.shouldStop?.() || Date.now() - this.started > this.o.maxPassMs;
  }

  /** One request, sent when the bucket model says it fits; THROTTLED is re-sent (not transient failures). */
  private async call<T>(fn: (admin: ShopifyAdmin) => Promise<AdminResult<T>>): Promise<AdminResult<T>> {
    const result = await this.admin.call(this.writeCost, fn);
    // The next call is paced on what this one was charged up front.
    if (result.cost?.requestedQueryCost) this.writeCost = Math.max(DEFAULT_WRITE_COST, result.cost.requestedQueryCost);
    return result;
  }

  private async record(outcomes: RatingOutcome[]) {
    const counts = await recordOutcomes(outcomes);
    for (const k of Object.keys(counts) as RatingOutcome["kind"][]) this.report.recorded[k] += counts[k];
  }

  async run(): Promise<void> {
    this.report.released = await releaseStale(this.shop, this.o.staleMs);
    let claimed: RatingWrite[] = [];
    try {
      await this.admin.client();
      await this.ensureDefinitions();
      while (!this.stopping()) {
        claimed = await claimDue(this.shop, PRODUCTS_PER_CALL);
        if (claimed.length === 0) break;
        await this.send(claimed);
        claimed = [];
      }
    } catch (e) {
      const error = e instanceof ShopifyAdminError ? e : null;
      // Whatever was claimed and not answered goes back, no attempt counted.
      if (claimed.length) await this.record(claimed.map((w) => ({ id: w.id, kind: "retry" as const, error: error ? `${error.kind}: ${error.message}` : null, delayMs: error?.haltsShop ? HALT_DELAY_MS : 0, attempt: false })));
      if (!error?.haltsShop) throw e;
      this.report.halted = error.kind;
      await deferShop(this.shop, HALT_DELAY_MS, `${error.kind}: ${error.message}`);
      this.log.warn({ kind: error.kind, err: error.message }, "product_ratings.shop_halted");
    }
    this.report.nextDueAt = await nextDueAt(this.shop);
    this.report.ms = Date.now() - this.started;
  }

  /** The standard definitions, once per shop (a refusal is tried again after an hour). */
  private async ensureDefinitions() {
    const records = await definitionRecords(this.shop);
    for (const d of RATING_DEFINITIONS) {
      const known = records.find((r) => r.ownerType === d.ownerType && r.namespace === d.namespace && r.key === d.key);
      if (known && (known.status !== "failed" || Date.now() - known.attemptedAt.getTime() < DEFINITION_RETRY_MS)) continue;
      let result;
      try {
        result = await this.call((a) => a.standardMetafieldDefinitionEnable(d.ownerType, d.namespace, d.key));
      } catch (e) {
        const error = classifyAdminError(this.shop, e);
        if (error.haltsShop) throw error;
        // Not fatal: the ratings carry their types; the next pass tries again.
        this.log.warn({ definition: `${d.namespace}.${d.key}`, kind: error.kind, err: error.message }, "product_ratings.definition_failed");
        continue;
      }
      const { createdDefinition, userErrors } = result.data;
      const taken = userErrors.length > 0 && userErrors.every((u) => u.code === "TAKEN" || u.code === "UNSTRUCTURED_ALREADY_EXISTS");
      const status = createdDefinition ? "enabled" : taken ? "existing" : "failed";
      this.report.definitions[status]++;
      await recordDefinition(this.shop, { ...d, status, definitionGid: createdDefinition?.id ?? null, outcome: createdDefinition ? { name: createdDefinition.name, type: createdDefinition.type.name } : { userErrors } });
      if (status === "failed") this.log.warn({ definition: `${d.namespace}.${d.key}`, userErrors }, "product_ratings.definition_refused");
      else this.log.info({ definition: `${d.namespace}.${d.key}`, status }, "product_ratings.definition_ready");
    }
  }

  /** One metafieldsSet for up to 12 products; element errors drop that product and re-send the rest. */
  private async send(writes: RatingWrite[]) {
    const aggregates = await ratingAggregates(this.shop, writes.map((w) => w.productGid));
    const outcomes: RatingOutcome[] = [];
    let batch: { write: RatingWrite; sum: number; count: number }[] = [];
    for (const w of writes) {
      const a = aggregates.get(w.productGid)!;
      if (a.count === 0) outcomes.push({ id: w.id, kind: "skipped", reason: "no_ratings", message: "the product has no ratings left; its metafields were left as they were", attempted: false });
      else batch.push({ write: w, sum: a.sum, count: a.count });
    }
    while (batch.length > 0) {
      const metafields = batch.flatMap((b) => ratingMetafields({ productGid: b.write.productGid, sum: b.sum, count: b.count }));
      let result;
      try {
        result = await this.call((a) => a.metafieldsSet(metafields));
      } catch (e) {
        const error = classifyAdminError(this.shop, e);
        if (error.haltsShop) {
          await this.record(outcomes);
          throw error;
        }
        if (error.kind === "transient" || error.kind === "throttled") this.report.transientErrors++;
        for (const b of batch) {
          const w = b.write;
          if (error.kind === "transient" || error.kind === "throttled") outcomes.push({ id: w.id, kind: "retry", error: error.message, delayMs: backoffMs(w.attempts), attempt: true });
          else outcomes.push({ id: w.id, kind: "failed", reason: error.kind, message: error.message, attempted: true });
        }
        break;
      }
      const errors = result.data.userErrors;
      if (errors.length === 0) {
        for (const b of batch) outcomes.push({ id: b.write.id, kind: "done", rating: formatAverage(b.sum, b.count), count: b.count });
        break;
      }
      // Atomic: nothing was set. Products named by an element's error are settled; the rest go again.
      const bad = new Map<number, string[]>();
      for (const u of errors) {
        if (typeof u.elementIndex !== "number") continue;
        const product = Math.floor(u.elementIndex / 2);
        bad.set(product, [...(bad.get(product) ?? []), `${u.code ?? ""} ${u.message}`.trim()]);
      }
      if (bad.size === 0) {
        const message = errors.map((u) => u.message).join("; ");
        for (const b of batch) outcomes.push({ id: b.write.id, kind: "failed", reason: "user_error", message, attempted: true });
        break;
      }
      for (const [i, messages] of bad) {
        const w = batch[i]!.write;
        const missing = errors.some((u) => u.elementIndex !== undefined && u.elementIndex !== null && Math.floor(u.elementIndex / 2) === i && u.field?.includes("ownerId"));
        outcomes.push({ id: w.id, kind: missing ? "skipped" : "failed", reason: missing ? "product_not_found" : "user_error", message: messages.join("; "), attempted: true });
      }
      batch = batch.filter((_, i) => !bad.has(i));
    }
    await this.record(outcomes);
  }
}

/** Drains one shop's product rating outbox. Throws only when the database fails (the job retries). */
export async function drainProductRatings(shop: string, options: RatingsDrainOptions = {}): Promise<RatingsDrainReport> {
  const pass = new RatingsPass(shop, options);
  await pass.run();
  return pass.report;
}
