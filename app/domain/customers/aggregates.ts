// Customer aggregates, recomputed from the customer's own orders after every change.
// Pure: no I/O, no clock.

export type OrderForAggregates = {
  totalPriceMinor: bigint;
  refundedMinor: bigint;
  cancelled: boolean;
  test: boolean;
  createdAt: Date;
};

export type CustomerAggregates = {
  ordersCount: number;
  totalSpentMinor: bigint;
  refundedMinor: bigint;
  aovMinor: bigint;
  firstOrderAt: Date | null;
  lastOrderAt: Date | null;
};

/** Orders that count: neither cancelled nor test. */
export function countsTowardsAggregates(order: Pick<OrderForAggregates, "cancelled" | "test">): boolean {
  return !order.cancelled && !order.test;
}

/**
 * ordersCount = orders neither cancelled nor test; totalSpent = the sum over those
 * orders of total price minus refunded amounts; AOV = totalSpent / ordersCount,
 * rounded half up to the minor unit; first/last order = earliest/latest created_at.
 */
export function computeCustomerAggregates({ orders }: { orders: readonly OrderForAggregates[] }): CustomerAggregates {
  let ordersCount = 0;
  let totalSpentMinor = 0n;
  let refundedMinor = 0n;
  let firstOrderAt: Date | null = null;
  let lastOrderAt: Date | null = null;
  for (const order of orders) {
    if (!countsTowardsAggregates(order)) continue;
    ordersCount += 1;
    totalSpentMinor += order.totalPriceMinor - order.refundedMinor;
    refundedMinor += order.refundedMinor;
    if (!firstOrderAt || order.createdAt < firstOrderAt) firstOrderAt = order.createdAt;
    if (!lastOrderAt || order.createdAt > lastOrderAt) lastOrderAt = order.createdAt;
  }
  return {
    ordersCount,
    totalSpentMinor,
    refundedMinor,
    aovMinor: ordersCount === 0 ? 0n : divideRoundHalfUp(totalSpentMinor, BigInt(ordersCount)),
    firstOrderAt,
    lastOrderAt,
  };
}

/** numerator / denominator rounded half away from zero (AOV, amounts per customer). */
export function divideRoundHalfUp(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n;
  const magnitude = negative ? -numerator : numerator;
  const rounded = (magnitude * 2n + denominator) / (denominator * 2n);
  return negative ? -rounded : rounded;
}
