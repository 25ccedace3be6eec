// Product ratings as Shopify's standard product review metafields (pure; decision 037).
//
// Themes read a product's stars from `reviews.rating` (type `rating`, value JSON
// {"value": "4.5", "scale_min": "1.0", "scale_max": "5.0"}) and its number of ratings from
// `reviews.rating_count` (type `number_integer`). The app publishes the average of every
// star rating the product received (anonymous ratings of erased customers included), one
// decimal, and the count.

export const RATING_NAMESPACE = "reviews";
export const RATING_KEY = "rating";
export const RATING_COUNT_KEY = "rating_count";
export const RATING_SCALE = { min: 1, max: 5 } as const;

/** The standard definitions the writer enables once per shop. */
export const RATING_DEFINITIONS = [
  { ownerType: "PRODUCT", namespace: RATING_NAMESPACE, key: RATING_KEY },
  { ownerType: "PRODUCT", namespace: RATING_NAMESPACE, key: RATING_COUNT_KEY },
] as const;

export type ProductRatingAggregate = { productGid: string; sum: number; count: number };
export type RatingMetafield = { ownerId: string; namespace: string; key: string; type: "rating" | "number_integer"; value: string };

/** The average as Shopify's rating value: one decimal, half up (4.25 -> "4.3", 4 -> "4.0"). */
export function formatAverage(sum: number, count: number): string {
  if (!Number.isInteger(sum) || !Number.isInteger(count) || count <= 0) throw new RangeError("an average needs a positive whole count and a whole sum");
  // Integer arithmetic: tenths = round(10 * sum / count), half up.
  const tenths = Math.floor((20 * sum + count) / (2 * count));
  const clamped = Math.min(RATING_SCALE.max * 10, Math.max(RATING_SCALE.min * 10, tenths));
  return `${Math.floor(clamped / 10)}.${clamped % 10}`;
}

/** The two metafields of a rated product (none for a product without ratings). */
export function ratingMetafields(a: ProductRatingAggregate): RatingMetafield[] {
  if (a.count <= 0) return [];
  const value = JSON.stringify({ value: formatAverage(a.sum, a.count), scale_min: `${RATING_SCALE.min}.0`, scale_max: `${RATING_SCALE.max}.0` });
  return [
    { ownerId: a.productGid, namespace: RATING_NAMESPACE, key: RATING_KEY, type: "rating", value },
    { ownerId: a.productGid, namespace: RATING_NAMESPACE, key: RATING_COUNT_KEY, type: "number_integer", value: String(a.count) },
  ];
}
