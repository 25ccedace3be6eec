// The product rating writer's queue (producer side): a wake-up per shop. The outbox in
// PostgreSQL (product_rating_writes) is the source of truth; a lost job is replaced by the
// periodic sweep (PRODUCT_RATINGS_SWEEP_INTERVAL_MS). Job ids carry no ':' (BullMQ).
import type { JobsOptions } from "bullmq";
import { sharedQueue } from "./shared-queue";

export const PRODUCT_RATINGS_QUEUE = "crm-product-ratings";
export type ProductRatingsJob = { kind: "drain"; shop: string } | { kind: "sweep" };

export const productRatingsJobOptions: JobsOptions = {
  attempts: 5,
  backoff: { type: "exponential", delay: 5_000 },
  removeOnComplete: { count: 1_000 },
  removeOnFail: { count: 1_000 },
};

const queue = sharedQueue<ProductRatingsJob>(PRODUCT_RATINGS_QUEUE);
export const getProductRatingsQueue = queue.get;
export const closeProductRatingsQueue = queue.close;

/** Asks for a drain pass of a shop (collapses with one already waiting; one more runs after a running one). */
export async function enqueueProductRatingsDrain(shop: string, delayMs = 0): Promise<void> {
  await getProductRatingsQueue().add("drain", { kind: "drain", shop }, { ...productRatingsJobOptions, delay: delayMs, deduplication: { id: `ratings-drain-${shop}`, keepLastIfActive: true } });
}
