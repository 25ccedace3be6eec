// Program settings validation, the earning basis, rounding, multipliers and bonuses.
import { describe, expect, it } from "vitest";
import { buildBirthdayBonus, buildFeedbackBonus, buildSignupBonus } from "../../app/domain/loyalty/bonuses";
import { allocateProportionally, buildEarnEntry, earnMultiplier, earnability, merchandiseLines, orderPoints } from "../../app/domain/loyalty/earning";
import { loyaltyOrderGids } from "../../app/domain/loyalty/batch";
import { parseProgramSettings, programInForce } from "../../app/domain/loyalty/program";
import { at, days, order, version } from "./loyalty-fixtures";

const T = at("2026-03-01T12:00:00Z");

describe("program settings", () => {
  it("fills the documented defaults", () => {
    const parsed = parseProgramSettings({ earn: { pointsPerUnit: 1 } });
    expect(parsed).toEqual({
      ok: true,
      settings: {
        enabled: true,
        timeZone: "UTC",
        earn: { pointsPerUnit: 1, basis: "net_merchandise", rounding: "floor", on: "paid" },
        pendingDays: 14,
        retroactiveDays: 0,
        expiry: null,
        bonuses: { firstOrder: 0, birthday: 0, signup: 0, feedback: 0 },
        segmentMultipliers: [],
        tiers: null,
        negativeBalance: "pending_first",
        rewards: [],
      },
    });
  });

  it.each([
    [{}, "earn", "expected object"],
    [{ earn: { pointsPerUnit: -1 } }, "earn.pointsPerUnit", "earn.pointsPerUnit cannot be negative"],
    [{ earn: { pointsPerUnit: 0.12345 } }, "earn.pointsPerUnit", "earn.pointsPerUnit has at most 4 decimal places"],
    [{ earn: { pointsPerUnit: 1, basis: "total" } }, "earn.basis", ""],
    [{ earn: { pointsPerUnit: 1 }, pendingDays: 2.5 }, "pendingDays", "pendingDays must be a whole number of days"],
    [{ earn: { pointsPerUnit: 1 }, timeZone: "Mars/Olympus" }, "timeZone", "timeZone must be an IANA time zone such as America/New_York"],
    [{ earn: { pointsPerUnit: 1 }, bonuses: { firstOrder: 1.5 } }, "bonuses.firstOrder", "bonuses.firstOrder must be a whole number of points"],
    [{ earn: { pointsPerUnit: 1 }, negativeBalance: "sometimes" }, "negativeBalance", ""],
    [{ earn: { pointsPerUnit: 1 }, surprise: true }, "", "surprise"],
    [
      { earn: { pointsPerUnit: 1 }, tiers: { metric: "points_earned", window: "lifetime", levels: [{ name: "Gold", threshold: 500 }, { name: "Silver", threshold: 100 }] } },
      "tiers.levels.1.threshold",
      "tier thresholds must increase from one tier to the next",
    ],
    [
      { earn: { pointsPerUnit: 1 }, tiers: { metric: "points_earned", window: "lifetime", levels: [{ name: "Gold", threshold: 0 }, { name: "gold", threshold: 100 }] } },
      "tiers.levels.1.name",
      'tier name "gold" is used twice',
    ],
    [
      { earn: { pointsPerUnit: 1 }, tiers: { metric: "points_earned", window: "weekly", levels: [{ name: "Gold", threshold: 0 }] } },
      "tiers.window",
      "tiers.window must be one of lifetime, rolling_12_months, calendar_year",
    ],
    [
      { earn: { pointsPerUnit: 1 }, tiers: { metric: "net_spend", window: "lifetime", levels: [{ name: "VIP", threshold: 0, tag: "vip" }] } },
      "tiers.levels.0.tag",
      "the tag must be namespaced, for example `crm:vip`",
    ],
  ])("rejects %j at %s", (input, path, message) => {
    const parsed = parseProgramSettings(input);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    const issue = parsed.errors.find((e) => e.path === path);
    expect(issue, JSON.stringify(parsed.errors)).toBeDefined();
    expect(issue!.message).toContain(message);
  });

  it("the version in force is the last one that took effect at or before the instant", () => {
    const versions = [version({}, 1, at("2026-01-01T00:00:00Z")), version({}, 2, at("2026-02-01T00:00:00Z")), version({}, 3, at("2026-03-01T00:00:00Z"))];
    expect(programInForce({ versions, at: at("2025-12-31T23:59:59Z") })).toBeNull();
    expect(programInForce({ versions, at: at("2026-01-15T00:00:00Z") })?.version).toBe(1);
    expect(programInForce({ versions, at: at("2026-02-01T00:00:00Z") })?.version).toBe(2);
    expect(programInForce({ versions, at: at("2027-01-01T00:00:00Z") })?.version).toBe(3);
  });
});

describe("earning basis and rounding", () => {
  it("splits an amount in proportion, exactly, remainders to the largest fractions", () => {
    expect(allocateProportionally(100n, [1n, 1n, 1n])).toEqual([34n, 33n, 33n]);
    expect(allocateProportionally(10n, [4000n, 3000n, 3000n])).toEqual([4n, 3n, 3n]);
    expect(allocateProportionally(7n, [0n, 5n, 0n])).toEqual([0n, 7n, 0n]);
    expect(allocateProportionally(5n, [0n, 0n])).toEqual([0n, 0n]);
    expect(allocateProportionally(1200n, [8800n, 3000n])).toEqual([895n, 305n]);
  });

  it("net merchandise: Shopify's example order (discount only in discount_allocations) earns on 106.00, not shipping or tax", () => {
    // PLATFORM.md 2.6: 4 x 22.00 + 30.00 = 118.00, discounts 12.00 (8.95 + 3.05 allocated), subtotal 106.00, tax 8.48, shipping 10.00.
    const o = order({ lines: [{ gid: "a", quantity: 4, price: 2200 }, { gid: "b", quantity: 1, price: 3000 }], subtotal: 10600 });
    expect(merchandiseLines({ order: o, basis: "net_merchandise" })).toEqual([
      { lineItemGid: "a", quantity: 4, netMinor: 7905n },
      { lineItemGid: "b", quantity: 1, netMinor: 2695n },
    ]);
    expect(merchandiseLines({ order: o, basis: "gross_merchandise" }).map((l) => l.netMinor)).toEqual([8800n, 3000n]);
    const entry = buildEarnEntry({ order: o, program: version({}), multiplier: { multiplier: 1, source: null }, now: T });
    expect(entry?.points).toBe(106);
  });

  it("line discounts already on the line are not taken twice; gift cards earn nothing and take no discount", () => {
    const o = order({
      lines: [
        { gid: "a", quantity: 2, price: 1000, discount: 200 },
        { gid: "gift", quantity: 1, price: 5000, giftCard: true },
      ],
      subtotal: 1800 + 5000,
    });
    expect(merchandiseLines({ order: o, basis: "net_merchandise" })).toEqual([{ lineItemGid: "a", quantity: 2, netMinor: 1800n }]);
  });

  it.each([
    { basis: 1999n, currency: "USD", rate: 1, multiplier: 1, rounding: "floor", points: 19 },
    { basis: 1999n, currency: "USD", rate: 1, multiplier: 1, rounding: "nearest", points: 20 },
    { basis: 1950n, currency: "USD", rate: 1, multiplier: 1, rounding: "nearest", points: 20 },
    { basis: 1949n, currency: "USD", rate: 1, multiplier: 1, rounding: "nearest", points: 19 },
    { basis: 1999n, currency: "USD", rate: 0.5, multiplier: 2, rounding: "floor", points: 19 },
    { basis: 1999n, currency: "USD", rate: 10, multiplier: 1.5, rounding: "floor", points: 299 },
    { basis: 1234n, currency: "JPY", rate: 0.01, multiplier: 1, rounding: "floor", points: 12 },
    { basis: 12345n, currency: "KWD", rate: 1, multiplier: 1, rounding: "floor", points: 12 },
    { basis: 33n, currency: "USD", rate: 3.0303, multiplier: 1, rounding: "floor", points: 0 },
  ] as const)("$basis $currency x $rate x $multiplier, $rounding -> $points", ({ basis, currency, rate, multiplier, rounding, points }) => {
    expect(orderPoints({ basisMinor: basis, currency, pointsPerUnit: rate, multiplier, rounding })).toBe(points);
  });

  it("rounds once per order, then shares the points out to lines adding up to the order's", () => {
    // 3 lines of $3.33 at 2 points per dollar: 19.98 floored once to 19 (rounding each line
    // would give 6 + 6 + 6 = 18); the lines get 7 + 6 + 6.
    const o = order({ lines: ["a", "b", "c"].map((gid) => ({ gid, quantity: 1, price: 333 })) });
    const entry = buildEarnEntry({ order: o, program: version({ earn: { pointsPerUnit: 2 } }), multiplier: { multiplier: 1, source: null }, now: T })!;
    expect(entry.points).toBe(19);
    expect((entry.rule as { lines: { points: number }[] }).lines.map((l) => l.points)).toEqual([7, 6, 6]);
  });

  it.each([
    [{}, true, ""],
    [{ status: "pending" }, false, "not paid (pending)"],
    [{ status: "authorized" }, false, "not paid (authorized)"],
    [{ status: "partially_refunded" }, true, ""],
    [{ status: "refunded" }, true, ""],
    [{ test: true }, false, "test order"],
    [{ customer: null }, false, "guest order"],
    [{ cancelledAt: T }, false, "cancelled"],
  ] as const)("earnability %j", (spec, earns, reason) => {
    const result = earnability({ order: order({ lines: [{ gid: "a", quantity: 1, price: 100 }], ...spec }), settings: version({}).settings });
    expect(result.earns).toBe(earns);
    if (!result.earns) expect(result.reason).toBe(reason);
  });

  it("earns at once when the program says placed; nothing when the program was disabled", () => {
    const o = order({ lines: [{ gid: "a", quantity: 1, price: 1000 }], status: "pending" });
    expect(earnability({ order: o, settings: version({ earn: { pointsPerUnit: 1, on: "placed" } }).settings }).earns).toBe(true);
    expect(earnability({ order: o, settings: version({ enabled: false, earn: { pointsPerUnit: 1, on: "placed" } }).settings })).toEqual({ earns: false, reason: "program disabled when the order was placed" });
  });

  it("pending points become available after pendingDays from the order", () => {
    const entry = buildEarnEntry({ order: order({ lines: [{ gid: "a", quantity: 1, price: 1000 }], createdAt: T }), program: version({ pendingDays: 30 }), multiplier: { multiplier: 1, source: null }, now: T })!;
    expect(entry.status).toBe("pending");
    expect(entry.availableAt).toEqual(days(T, 30));
  });
});

describe("multipliers", () => {
  const settings = version({
    tiers: { metric: "points_earned", window: "lifetime", levels: [{ name: "Member", threshold: 0 }, { name: "VIP", threshold: 1000, multiplier: 2 }] },
    segmentMultipliers: [{ segmentId: "12", multiplier: 1.5 }, { segmentId: "13", multiplier: 3 }],
  }).settings;

  it.each([
    { tier: null, segments: [], multiplier: 1, source: null },
    { tier: "Member", segments: [], multiplier: 1, source: "tier:Member" },
    { tier: "VIP", segments: [], multiplier: 2, source: "tier:VIP" },
    { tier: "VIP", segments: ["12"], multiplier: 2, source: "tier:VIP" },
    { tier: "Member", segments: ["12"], multiplier: 1.5, source: "segment:12" },
    { tier: "VIP", segments: ["12", "13"], multiplier: 3, source: "segment:13" },
    { tier: "Retired tier", segments: [], multiplier: 1, source: null },
  ])("tier $tier, segments $segments -> x$multiplier", ({ tier, segments, multiplier, source }) => {
    expect(earnMultiplier({ settings, tier, segmentIds: new Set(segments) })).toEqual({ multiplier, source });
  });

  it("a VIP earns 2x and the snapshot says why", () => {
    const entry = buildEarnEntry({ order: order({ lines: [{ gid: "a", quantity: 1, price: 5000 }] }), program: version({}), multiplier: { multiplier: 2, source: "tier:VIP" }, now: T })!;
    expect(entry.points).toBe(100);
    expect(entry.rule).toMatchObject({ multiplier: 2, multiplierSource: "tier:VIP" });
  });
});

describe("bonuses", () => {
  const versions = [version({ bonuses: { signup: 50, birthday: 100, feedback: 10 }, timeZone: "America/New_York" }, 1, at("2026-01-01T00:00:00Z"))];

  it("signup: for customers created while the program was in force", () => {
    expect(buildSignupBonus({ customerGid: "c", createdAt: at("2025-12-31T00:00:00Z"), versions, now: T })).toBeNull();
    expect(buildSignupBonus({ customerGid: "c", createdAt: at("2026-02-01T00:00:00Z"), versions, now: T })).toMatchObject({ points: 50, kind: "bonus", idempotencyKey: "bonus:signup:c", status: "available" });
  });

  it("feedback: once per feedback id", () => {
    expect(buildFeedbackBonus({ customerGid: "c", feedbackId: "77", submittedAt: T, versions, now: T })).toMatchObject({ points: 10, idempotencyKey: "bonus:feedback:77", source: "feedback:77" });
  });

  it.each([
    { birthday: "1990-03-10", now: "2026-03-10T04:00:00Z", key: "bonus:birthday:c:2026" }, // midnight in New York (EDT since 8 March)
    { birthday: "03-10", now: "2026-03-16T12:00:00Z", key: "bonus:birthday:c:2026" }, // within the grace week
    { birthday: "03-10", now: "2026-03-10T03:59:59Z", key: null }, // still 9 March in New York
    { birthday: "03-10", now: "2026-03-17T04:00:00Z", key: null }, // grace week over
    { birthday: "2000-02-29", now: "2026-02-28T12:00:00Z", key: "bonus:birthday:c:2026" },
    { birthday: "2000-02-29", now: "2028-02-29T12:00:00Z", key: "bonus:birthday:c:2028" },
  ])("birthday $birthday at $now -> $key", ({ birthday, now, key }) => {
    const entry = buildBirthdayBonus({ customerGid: "c", birthday, versions, now: at(now) });
    expect(entry?.idempotencyKey ?? null).toBe(key);
    if (entry) expect(entry.points).toBe(100);
  });

  it("birthday: a malformed date is a clear error", () => {
    expect(() => buildBirthdayBonus({ customerGid: "c", birthday: "31/12", versions, now: T })).toThrow(/YYYY-MM-DD or MM-DD/);
    expect(() => buildBirthdayBonus({ customerGid: "c", birthday: "04-31", versions, now: T })).toThrow(/not a date/);
  });
});

describe("loyaltyOrderGids", () => {
  it("lists the orders of order and refund events, once each", () => {
    const refund = { gid: "gid://shopify/Refund/5", legacyId: "5", orderLegacyId: "42", amountMinor: 0n, currency: null, note: null, lines: [], refundedAt: T };
    expect(
      loyaltyOrderGids([
        { kind: "refund", refund },
        { kind: "refund", refund: { ...refund, gid: "gid://shopify/Refund/6" } },
        { kind: "customer_deleted", customerGid: "c" },
        { kind: "order", order: { gid: "gid://shopify/Order/41" } as never },
      ]),
    ).toEqual(["gid://shopify/Order/41", "gid://shopify/Order/42"]);
  });
});
