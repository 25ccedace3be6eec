import { describe, expect, it } from "vitest";
import { computeCustomerAggregates, countsTowardsAggregates, type CustomerAggregates, type OrderForAggregates } from "../../app/domain/customers/aggregates";

const at = (day: number) => new Date(Date.UTC(2026, 0, day, 12));
const order = (o: Partial<OrderForAggregates> & { total: bigint; day: number }): OrderForAggregates => ({
  totalPriceMinor: o.total,
  refundedMinor: o.refundedMinor ?? 0n,
  cancelled: o.cancelled ?? false,
  test: o.test ?? false,
  createdAt: at(o.day),
});

const none: CustomerAggregates = { ordersCount: 0, totalSpentMinor: 0n, refundedMinor: 0n, aovMinor: 0n, firstOrderAt: null, lastOrderAt: null };

describe("computeCustomerAggregates", () => {
  it.each<[string, OrderForAggregates[], CustomerAggregates]>([
    ["no orders", [], none],
    [
      "one order",
      [order({ total: 12448n, day: 5 })],
      { ordersCount: 1, totalSpentMinor: 12448n, refundedMinor: 0n, aovMinor: 12448n, firstOrderAt: at(5), lastOrderAt: at(5) },
    ],
    [
      "two orders: sums, AOV, first and last by created_at whatever the input order",
      [order({ total: 3000n, day: 20 }), order({ total: 1000n, day: 3 })],
      { ordersCount: 2, totalSpentMinor: 4000n, refundedMinor: 0n, aovMinor: 2000n, firstOrderAt: at(3), lastOrderAt: at(20) },
    ],
    [
      "cancelled order excluded from every figure, including first/last",
      [order({ total: 1000n, day: 10 }), order({ total: 99999n, day: 1, cancelled: true }), order({ total: 5000n, day: 30, cancelled: true })],
      { ordersCount: 1, totalSpentMinor: 1000n, refundedMinor: 0n, aovMinor: 1000n, firstOrderAt: at(10), lastOrderAt: at(10) },
    ],
    [
      "test order excluded",
      [order({ total: 1000n, day: 10 }), order({ total: 7777n, day: 11, test: true })],
      { ordersCount: 1, totalSpentMinor: 1000n, refundedMinor: 0n, aovMinor: 1000n, firstOrderAt: at(10), lastOrderAt: at(10) },
    ],
    ["only cancelled and test orders", [order({ total: 1000n, day: 1, cancelled: true }), order({ total: 1000n, day: 2, test: true })], none],
    [
      "refunds subtracted from total spent and reported",
      [order({ total: 10000n, day: 1, refundedMinor: 2440n }), order({ total: 5000n, day: 2, refundedMinor: 5000n })],
      { ordersCount: 2, totalSpentMinor: 7560n, refundedMinor: 7440n, aovMinor: 3780n, firstOrderAt: at(1), lastOrderAt: at(2) },
    ],
    [
      "refunds of a cancelled order are not subtracted (the order does not count at all)",
      [order({ total: 10000n, day: 1 }), order({ total: 4000n, day: 2, cancelled: true, refundedMinor: 4000n })],
      { ordersCount: 1, totalSpentMinor: 10000n, refundedMinor: 0n, aovMinor: 10000n, firstOrderAt: at(1), lastOrderAt: at(1) },
    ],
    [
      "a fully refunded order still counts as an order",
      [order({ total: 2500n, day: 4, refundedMinor: 2500n })],
      { ordersCount: 1, totalSpentMinor: 0n, refundedMinor: 2500n, aovMinor: 0n, firstOrderAt: at(4), lastOrderAt: at(4) },
    ],
    [
      "AOV rounds half up: 1000/3 = 333.33.. -> 333",
      [order({ total: 333n, day: 1 }), order({ total: 333n, day: 2 }), order({ total: 334n, day: 3 })],
      { ordersCount: 3, totalSpentMinor: 1000n, refundedMinor: 0n, aovMinor: 333n, firstOrderAt: at(1), lastOrderAt: at(3) },
    ],
    [
      "AOV rounds half up: 2000/3 = 666.66.. -> 667",
      [order({ total: 1000n, day: 1 }), order({ total: 500n, day: 2 }), order({ total: 500n, day: 3 })],
      { ordersCount: 3, totalSpentMinor: 2000n, refundedMinor: 0n, aovMinor: 667n, firstOrderAt: at(1), lastOrderAt: at(3) },
    ],
    [
      "AOV rounds half up: 5/2 = 2.5 -> 3",
      [order({ total: 2n, day: 1 }), order({ total: 3n, day: 2 })],
      { ordersCount: 2, totalSpentMinor: 5n, refundedMinor: 0n, aovMinor: 3n, firstOrderAt: at(1), lastOrderAt: at(2) },
    ],
    [
      "negative net (refund above total) rounds away from zero: -5/2 -> -3",
      [order({ total: 0n, day: 1, refundedMinor: 2n }), order({ total: 0n, day: 2, refundedMinor: 3n })],
      { ordersCount: 2, totalSpentMinor: -5n, refundedMinor: 5n, aovMinor: -3n, firstOrderAt: at(1), lastOrderAt: at(2) },
    ],
    [
      "amounts beyond 2^53 stay exact",
      [order({ total: 9007199254740993n, day: 1 }), order({ total: 9007199254740993n, day: 2 })],
      { ordersCount: 2, totalSpentMinor: 18014398509481986n, refundedMinor: 0n, aovMinor: 9007199254740993n, firstOrderAt: at(1), lastOrderAt: at(2) },
    ],
  ])("%s", (_name, orders, expected) => {
    expect(computeCustomerAggregates({ orders })).toEqual(expected);
  });

  it("does not mutate or depend on the order of its input", () => {
    const orders = [order({ total: 100n, day: 9 }), order({ total: 200n, day: 2, refundedMinor: 50n }), order({ total: 300n, day: 5, test: true })];
    const copy = structuredClone(orders);
    const forward = computeCustomerAggregates({ orders });
    const backward = computeCustomerAggregates({ orders: [...orders].reverse() });
    expect(backward).toEqual(forward);
    expect(orders).toEqual(copy);
  });
});

describe("countsTowardsAggregates", () => {
  it.each([
    [false, false, true],
    [true, false, false],
    [false, true, false],
    [true, true, false],
  ])("cancelled=%s test=%s -> %s", (cancelled, test, expected) => {
    expect(countsTowardsAggregates({ cancelled, test })).toBe(expected);
  });
});
