// Earning and reversals for one order, through duplicate and out-of-order events: each case
// runs the planner the way the service does (plan against what is stored, store the plan),
// step by step, on an in-memory append-only ledger that refuses a duplicate key.
import { describe, expect, it } from "vitest";
import type { LoyaltyOrder } from "../../app/domain/loyalty/earning";
import type { LoyaltyRefund } from "../../app/domain/loyalty/plan-order";
import type { ProgramVersion } from "../../app/domain/loyalty/program";
import { MemoryLedger, at, days, order, refund, version } from "./loyalty-fixtures";

const T = at("2026-03-01T12:00:00Z");
const L1 = "gid://shopify/LineItem/1";
const L2 = "gid://shopify/LineItem/2";
const L3 = "gid://shopify/LineItem/3";

/** $100.00 in three lines: 2 x $20 (40 points), 1 x $30 (30), 3 x $10 (30) at 1 point per dollar. */
const threeLines = (extra: Partial<Parameters<typeof order>[0]> = {}) =>
  order({
    lines: [
      { gid: L1, quantity: 2, price: 2000 },
      { gid: L2, quantity: 1, price: 3000 },
      { gid: L3, quantity: 3, price: 1000 },
    ],
    createdAt: T,
    ...extra,
  });

type Step = {
  now: Date;
  order?: LoyaltyOrder;
  refunds?: LoyaltyRefund[];
  redeem?: number;
  /** Points the step must add to the ledger, entry by entry. */
  adds?: number[];
};

type Case = {
  name: string;
  versions?: ProgramVersion[];
  steps: Step[];
  expected: { earned: number; reversed: number; balance: number; pending?: number };
};

const v1 = [version({})];

const cases: Case[] = [
  {
    name: "partial refund of one line of three: that line's share for the refunded unit",
    steps: [
      { now: T, adds: [100] },
      { now: days(T, 2), refunds: [refund("1", days(T, 2), [[L1, 1]])], adds: [-20] },
    ],
    expected: { earned: 100, reversed: -20, balance: 80 },
  },
  {
    name: "two partial refunds of a line: the second reverses only the rest",
    steps: [
      { now: T, adds: [100] },
      { now: days(T, 1), refunds: [refund("1", days(T, 1), [[L3, 1]])], adds: [-10] },
      { now: days(T, 2), refunds: [refund("1", days(T, 1), [[L3, 1]]), refund("2", days(T, 2), [[L3, 2]])], adds: [-20] },
    ],
    expected: { earned: 100, reversed: -30, balance: 70 },
  },
  {
    name: "two partial refunds of different lines",
    steps: [
      { now: T, adds: [100] },
      { now: days(T, 1), refunds: [refund("1", days(T, 1), [[L2, 1]])], adds: [-30] },
      { now: days(T, 2), refunds: [refund("1", days(T, 1), [[L2, 1]]), refund("2", days(T, 2), [[L1, 2], [L3, 1]])], adds: [-50] },
    ],
    expected: { earned: 100, reversed: -80, balance: 20 },
  },
  {
    name: "refunds adding up to more units than were bought never reverse more than the line earned",
    steps: [
      { now: T, adds: [100] },
      { now: days(T, 1), refunds: [refund("1", days(T, 1), [[L1, 1]]), refund("2", days(T, 1), [[L1, 2]])], adds: [-20, -20] },
    ],
    expected: { earned: 100, reversed: -40, balance: 60 },
  },
  {
    name: "full refund: exactly what was earned",
    steps: [
      { now: T, adds: [100] },
      { now: days(T, 3), refunds: [refund("1", days(T, 3), [[L1, 2], [L2, 1], [L3, 3]])], adds: [-100] },
    ],
    expected: { earned: 100, reversed: -100, balance: 0 },
  },
  {
    name: "unit by unit refunds of a line whose points do not divide: rounded down, the last unit takes the rest",
    steps: [
      { now: T, order: order({ lines: [{ gid: L1, quantity: 3, price: 340 }], createdAt: T }), adds: [10] },
      { now: days(T, 1), order: order({ lines: [{ gid: L1, quantity: 3, price: 340 }], createdAt: T }), refunds: [refund("1", days(T, 1), [[L1, 1]])], adds: [-3] },
      {
        now: days(T, 2),
        order: order({ lines: [{ gid: L1, quantity: 3, price: 340 }], createdAt: T }),
        refunds: [refund("1", days(T, 1), [[L1, 1]]), refund("2", days(T, 2), [[L1, 1]])],
        adds: [-3],
      },
      {
        now: days(T, 3),
        order: order({ lines: [{ gid: L1, quantity: 3, price: 340 }], createdAt: T }),
        refunds: [refund("1", days(T, 1), [[L1, 1]]), refund("2", days(T, 2), [[L1, 1]]), refund("3", days(T, 3), [[L1, 1]])],
        adds: [-4],
      },
    ],
    expected: { earned: 10, reversed: -10, balance: 0 },
  },
  {
    name: "rule changed between earning and refund: reversed at the rate the points were earned with",
    versions: [version({}, 1), version({ earn: { pointsPerUnit: 5 } }, 2, days(T, 1))],
    steps: [
      { now: T, adds: [100] },
      { now: days(T, 5), refunds: [refund("1", days(T, 5), [[L1, 1]])], adds: [-20] },
    ],
    expected: { earned: 100, reversed: -20, balance: 80 },
  },
  {
    name: "duplicate refund delivery: the second delivery writes nothing",
    steps: [
      { now: T, adds: [100] },
      { now: days(T, 1), refunds: [refund("1", days(T, 1), [[L2, 1]])], adds: [-30] },
      { now: days(T, 1), refunds: [refund("1", days(T, 1), [[L2, 1]])], adds: [] },
      { now: days(T, 4), refunds: [refund("1", days(T, 1), [[L2, 1]])], adds: [] },
    ],
    expected: { earned: 100, reversed: -30, balance: 70 },
  },
  {
    name: "duplicate order delivery: earned once",
    steps: [
      { now: T, adds: [100] },
      { now: T, adds: [] },
      { now: days(T, 1), adds: [] },
    ],
    expected: { earned: 100, reversed: 0, balance: 100 },
  },
  {
    name: "refund before the order event arrives: earned and reversed when the order comes",
    steps: [{ now: days(T, 1), refunds: [refund("1", days(T, 1), [[L1, 1]])], adds: [100, -20] }],
    expected: { earned: 100, reversed: -20, balance: 80 },
  },
  {
    name: "refunds arriving in the opposite order: the same total",
    steps: [
      { now: T, adds: [100] },
      { now: days(T, 2), refunds: [refund("2", days(T, 2), [[L3, 2]])], adds: [-20] },
      { now: days(T, 3), refunds: [refund("2", days(T, 2), [[L3, 2]]), refund("1", days(T, 1), [[L3, 1]])], adds: [-10] },
    ],
    expected: { earned: 100, reversed: -30, balance: 70 },
  },
  {
    name: "partial refund, then cancellation: the cancellation reverses the rest",
    steps: [
      { now: T, adds: [100] },
      { now: days(T, 1), refunds: [refund("1", days(T, 1), [[L1, 1]])], adds: [-20] },
      { now: days(T, 2), order: threeLines({ cancelledAt: days(T, 2) }), refunds: [refund("1", days(T, 1), [[L1, 1]])], adds: [-80] },
    ],
    expected: { earned: 100, reversed: -100, balance: 0 },
  },
  {
    name: "cancellation, then its refund arrives: nothing more to reverse",
    steps: [
      { now: T, adds: [100] },
      { now: days(T, 1), order: threeLines({ cancelledAt: days(T, 1) }), adds: [-100] },
      { now: days(T, 1), order: threeLines({ cancelledAt: days(T, 1) }), refunds: [refund("1", days(T, 1), [[L1, 2], [L2, 1], [L3, 3]])], adds: [] },
    ],
    expected: { earned: 100, reversed: -100, balance: 0 },
  },
  {
    name: "an order that arrives already cancelled earns nothing",
    steps: [{ now: days(T, 1), order: threeLines({ cancelledAt: days(T, 1) }), adds: [] }],
    expected: { earned: 0, reversed: 0, balance: 0 },
  },
  {
    name: "a refund of shipping or an amount without line items does not touch points",
    steps: [
      { now: T, adds: [100] },
      { now: days(T, 1), refunds: [refund("1", days(T, 1), [])], adds: [] },
    ],
    expected: { earned: 100, reversed: 0, balance: 100 },
  },
  {
    name: "earns when paid: nothing while pending payment, then earned once paid",
    steps: [
      { now: T, order: threeLines({ status: "pending" }), adds: [] },
      { now: days(T, 1), order: threeLines({ status: "paid" }), adds: [100] },
    ],
    expected: { earned: 100, reversed: 0, balance: 100 },
  },
  {
    name: "refund inside the pending window reduces pending points, not the balance",
    versions: [version({ pendingDays: 14 })],
    steps: [
      { now: T, adds: [100] },
      { now: days(T, 3), refunds: [refund("1", days(T, 3), [[L2, 1]])], adds: [-30] },
    ],
    expected: { earned: 100, reversed: -30, balance: 0, pending: 70 },
  },
];

describe("planOrderLoyalty: earning and reversals", () => {
  it.each(cases)("$name", ({ versions = v1, steps, expected }) => {
    const ledger = new MemoryLedger();
    for (const [index, step] of steps.entries()) {
      if (step.redeem) ledger.redeem(`r${index}`, step.redeem, step.now);
      const added = ledger.applyOrder({ order: step.order ?? threeLines(), refunds: step.refunds, versions, now: step.now });
      if (step.adds) expect(added.map((e) => e.points), `step ${index}`).toEqual(step.adds);
    }
    const end = steps[steps.length - 1]!.now;
    expect(ledger.sum("earn:")).toBe(expected.earned);
    expect(ledger.sum("reverse:")).toBe(expected.reversed);
    expect(ledger.balance(end)).toBe(expected.balance);
    expect(ledger.pending(end)).toBe(expected.pending ?? 0);
  });

  it("stores the rule snapshot on the earn and reverses with it", () => {
    const ledger = new MemoryLedger();
    const versions = [version({}, 1), version({ earn: { pointsPerUnit: 5 } }, 2, days(T, 1))];
    ledger.applyOrder({ order: threeLines(), versions, now: T });
    const [reversal] = ledger.applyOrder({ order: threeLines(), refunds: [refund("1", days(T, 5), [[L1, 1]])], versions, now: days(T, 5) });
    const earn = ledger.entries.find((e) => e.kind === "earn")!;
    expect(earn.rule).toMatchObject({
      programVersion: 1,
      pointsPerUnit: 1,
      basis: "net_merchandise",
      rounding: "floor",
      multiplier: 1,
      basisMinor: "10000",
      lines: [
        { lineItemGid: L1, quantity: 2, netMinor: "4000", points: 40 },
        { lineItemGid: L2, quantity: 1, netMinor: "3000", points: 30 },
        { lineItemGid: L3, quantity: 3, netMinor: "3000", points: 30 },
      ],
    });
    expect(reversal!.rule).toMatchObject({ reversalOf: "earn:gid://shopify/Order/1", method: "refund", programVersion: 1, pointsPerUnit: 1, lines: [{ lineItemGid: L1, quantity: 1, points: 20 }] });
    expect(reversal!.idempotencyKey).toBe("reverse:refund:gid://shopify/Refund/1");
    // A later order earns under version 2.
    const later = ledger.applyOrder({ order: threeLines({ gid: "gid://shopify/Order/2", createdAt: days(T, 2) }), versions, now: days(T, 2) });
    expect(later.map((e) => e.points)).toEqual([500]);
  });
});

describe("cancel after the points were spent, per negative-balance policy", () => {
  // Order A (100 points, available after 14 days) is spent in full; order B (50 points) is still
  // pending when A is cancelled.
  const placedA = days(T, -20);
  const placedB = days(T, -1);
  const orderA = (cancelledAt: Date | null) => threeLines({ gid: "gid://shopify/Order/A", createdAt: placedA, cancelledAt });
  const orderB = order({ gid: "gid://shopify/Order/B", lines: [{ gid: "gid://shopify/LineItem/9", quantity: 1, price: 5000 }], createdAt: placedB });

  it.each([
    { policy: "allow", balance: -100, pending: 50, adds: [-100], forgiven: 0 },
    { policy: "pending_first", balance: -50, pending: 0, adds: [-50, -50], forgiven: 0 },
    { policy: "never", balance: 0, pending: 0, adds: [-50], forgiven: 50 },
  ] as const)("$policy: balance $balance, pending $pending", ({ policy, balance, pending, adds, forgiven }) => {
    const versions = [version({ pendingDays: 14, negativeBalance: policy })];
    const ledger = new MemoryLedger();
    ledger.applyOrder({ order: orderA(null), versions, now: placedA });
    ledger.redeem("spent", 100, days(placedA, 15));
    ledger.applyOrder({ order: orderB, versions, now: placedB });
    expect([ledger.balance(T), ledger.pending(T)]).toEqual([0, 50]);

    const added = ledger.applyOrder({ order: orderA(T), versions, now: T });
    expect(added.map((e) => e.points)).toEqual(adds);
    expect(added[0]!.rule).toMatchObject({ method: "cancel", reversed: 100, forgiven });
    expect([ledger.balance(T), ledger.pending(T)]).toEqual([balance, pending]);
    // Once B's points mature, what is left of them is spendable.
    expect(ledger.balance(days(placedB, 15))).toBe(balance + pending);
    // Planning again (a replayed orders/cancelled) changes nothing.
    expect(ledger.applyOrder({ order: orderA(T), versions, now: days(T, 1) })).toEqual([]);
  });

  it("never: points forgiven are not taken later, when the customer has earned again", () => {
    const versions = [version({ pendingDays: 0, negativeBalance: "never" })];
    const ledger = new MemoryLedger();
    ledger.applyOrder({ order: orderA(null), versions, now: placedA });
    ledger.redeem("spent", 100, days(placedA, 1));
    const added = ledger.applyOrder({ order: orderA(T), versions, now: T });
    expect(added.map((e) => e.points)).toEqual([0]);
    ledger.applyOrder({ order: orderB, versions, now: days(T, 1) });
    expect(ledger.applyOrder({ order: orderA(T), versions, now: days(T, 2) })).toEqual([]);
    expect(ledger.balance(days(T, 2))).toBe(50);
  });
});

describe("first-order bonus", () => {
  const versions = [version({ bonuses: { firstOrder: 25 } })];

  it("is given with the first order and taken back when that order is cancelled, never given again", () => {
    const ledger = new MemoryLedger();
    expect(ledger.applyOrder({ order: threeLines(), versions, now: T, firstOrder: true }).map((e) => [e.kind, e.points])).toEqual([
      ["earn", 100],
      ["bonus", 25],
    ]);
    const cancelled = ledger.applyOrder({ order: threeLines({ cancelledAt: days(T, 1) }), versions, now: days(T, 1), firstOrder: true });
    expect(cancelled.map((e) => [e.idempotencyKey, e.points])).toEqual([
      ["reverse:cancel:gid://shopify/Order/1", -100],
      ["reverse:bonus:first_order:gid://shopify/Customer/7", -25],
    ]);
    const second = ledger.applyOrder({ order: threeLines({ gid: "gid://shopify/Order/2", createdAt: days(T, 2) }), versions, now: days(T, 2), firstOrder: true });
    expect(second.map((e) => e.kind)).toEqual(["earn"]);
    expect(ledger.balance(days(T, 2))).toBe(100);
  });

  it("is taken back when every unit of the order is refunded", () => {
    const ledger = new MemoryLedger();
    ledger.applyOrder({ order: threeLines(), versions, now: T, firstOrder: true });
    ledger.applyOrder({ order: threeLines(), refunds: [refund("1", days(T, 1), [[L1, 2], [L2, 1]])], versions, now: days(T, 1), firstOrder: true });
    expect(ledger.balance(days(T, 1))).toBe(125 - 70);
    ledger.applyOrder({ order: threeLines(), refunds: [refund("1", days(T, 1), [[L1, 2], [L2, 1]]), refund("2", days(T, 2), [[L3, 3]])], versions, now: days(T, 2) });
    expect(ledger.balance(days(T, 2))).toBe(0);
  });
});
