// RFM groups (rfm_group), computed locally. Pure: the table and the scoring rules; the
// SQL recompute (app/services/segments/rfm.server.ts) is generated from the same table.
//
// Method (docs/segments.md, "How rfm_group is computed"):
// 1. Population: the shop's live customers (neither deleted nor redacted) with at least one
//    order that counts (neither cancelled nor test). Everyone else with no orders is
//    `prospects`, with no scores.
// 2. Recency R, frequency F and monetary M are quintile scores 1..5 of last_order_at,
//    orders_count and total_spent_minor (net of refunds): a customer whose value is
//    higher than that of a share s of the population scores 1 + floor(5 s). Equal values
//    score equally (unlike NTILE, which splits ties by physical row order), so the score
//    never depends on anything but the values.
// 3. FM = ceil((F + M) / 2), the combined frequency-monetary score.
// 4. The group is RFM_GRID[R][FM], a grid shaped after Shopify's descriptions of its groups
//    (CustomerRfmGroup: "very recent purchases, many orders, the most spend" = champions ...).

import { RFM_GROUPS } from "./fields";

export type RfmGroup = (typeof RFM_GROUPS)[number];
export type RfmScores = { readonly recency: number; readonly frequency: number; readonly monetary: number };

/** The group of customers without orders. */
export const NO_ORDERS_GROUP: RfmGroup = "prospects";

/**
 * Rows: recency score 1 (longest ago) to 5 (most recent). Columns: FM score 1 to 5.
 * Every group but prospects appears.
 */
export const RFM_GRID: readonly (readonly [RfmGroup, RfmGroup, RfmGroup, RfmGroup, RfmGroup])[] = [
  /* R=1 */ ["dormant", "dormant", "almost_lost", "at_risk", "previously_loyal"],
  /* R=2 */ ["almost_lost", "almost_lost", "almost_lost", "at_risk", "previously_loyal"],
  /* R=3 */ ["needs_attention", "needs_attention", "needs_attention", "loyal", "loyal"],
  /* R=4 */ ["promising", "promising", "active", "loyal", "loyal"],
  /* R=5 */ ["new", "new", "active", "champions", "champions"],
];

/** The grid flattened row by row: group of (R, FM) at index (R - 1) * 5 + FM - 1 (SQL arrays: + 1). */
export const RFM_GRID_CELLS: readonly RfmGroup[] = RFM_GRID.flat();

const isScore = (n: number) => Number.isInteger(n) && n >= 1 && n <= 5;

/** ceil((F + M) / 2). */
export function frequencyMonetaryScore(frequency: number, monetary: number): number {
  return Math.floor((frequency + monetary + 1) / 2);
}

export function rfmGroupOf(scores: RfmScores): RfmGroup {
  const { recency, frequency, monetary } = scores;
  if (!isScore(recency) || !isScore(frequency) || !isScore(monetary)) throw new RangeError(`RFM scores are integers 1..5, got ${JSON.stringify(scores)}`);
  return RFM_GRID_CELLS[(recency - 1) * 5 + frequencyMonetaryScore(frequency, monetary) - 1] as RfmGroup;
}

/** Quintile score of a value higher than `below` of `population` values: 1 + floor(5 * below / population). */
export function quintileScore(below: number, population: number): number {
  if (!Number.isInteger(below) || !Number.isInteger(population) || below < 0 || below >= population) {
    throw new RangeError(`need 0 <= below < population, got ${below} of ${population}`);
  }
  return 1 + Math.floor((5 * below) / population);
}

export type RfmInput = {
  readonly gid: string;
  readonly ordersCount: number;
  readonly totalSpentMinor: bigint;
  readonly lastOrderAt: Date | null;
};

export type RfmResult = { readonly scores: RfmScores | null; readonly group: RfmGroup };

/** Scores one dimension: for each value, how many values of the population are strictly lower. */
function scoreDimension<T>(values: readonly T[], compare: (a: T, b: T) => number): number[] {
  const order = values.map((_, i) => i).sort((a, b) => compare(values[a] as T, values[b] as T));
  const scores = new Array<number>(values.length);
  let below = 0;
  for (let k = 0; k < order.length; k++) {
    const index = order[k] as number;
    if (k > 0 && compare(values[order[k - 1] as number] as T, values[index] as T) !== 0) below = k;
    scores[index] = quintileScore(below, values.length);
  }
  return scores;
}

/** The reference computation for one shop's live customers (the SQL recompute must agree). */
export function computeRfm(customers: readonly RfmInput[]): Map<string, RfmResult> {
  const result = new Map<string, RfmResult>();
  const ordering = customers.filter((c) => c.ordersCount > 0);
  for (const c of customers) if (c.ordersCount <= 0) result.set(c.gid, { scores: null, group: NO_ORDERS_GROUP });
  if (ordering.length === 0) return result;
  const cmp = (a: bigint | number, b: bigint | number) => (a < b ? -1 : a > b ? 1 : 0);
  const recency = scoreDimension(
    ordering.map((c) => {
      if (!c.lastOrderAt) throw new RangeError(`customer ${c.gid} has orders but no last order date`);
      return c.lastOrderAt.getTime();
    }),
    cmp,
  );
  const frequency = scoreDimension(
    ordering.map((c) => c.ordersCount),
    cmp,
  );
  const monetary = scoreDimension(
    ordering.map((c) => c.totalSpentMinor),
    cmp,
  );
  ordering.forEach((c, i) => {
    const scores = { recency: recency[i] as number, frequency: frequency[i] as number, monetary: monetary[i] as number };
    result.set(c.gid, { scores, group: rfmGroupOf(scores) });
  });
  return result;
}
