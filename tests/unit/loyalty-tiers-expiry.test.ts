// Tier transitions in each window kind, expiry after inactivity, and where a debit is taken from.
import { describe, expect, it } from "vitest";
import { expiryOutlook, planExpiry } from "../../app/domain/loyalty/expiry";
import { takeDebit, walletFromEntries, type LedgerEntry, type LedgerKind } from "../../app/domain/loyalty/ledger";
import type { TierWindow } from "../../app/domain/loyalty/program";
import { evaluateTier, tierWindowStart, type TierFact } from "../../app/domain/loyalty/tiers";
import { at, days, version } from "./loyalty-fixtures";

const levels = [
  { name: "Member", threshold: 0, tag: null, multiplier: 1 },
  { name: "Silver", threshold: 500, tag: "crm:silver", multiplier: 1.25 },
  { name: "Gold", threshold: 1000, tag: "crm:gold", multiplier: 2 },
];

const fact = (iso: string, value: number): TierFact => ({ at: at(iso), value: BigInt(value) });

describe("tier window start", () => {
  it.each([
    { window: "lifetime", timeZone: "UTC", now: "2026-06-15T10:00:00Z", start: null },
    { window: "rolling_12_months", timeZone: "UTC", now: "2026-06-15T10:00:00Z", start: "2025-06-15T10:00:00.000Z" },
    { window: "rolling_12_months", timeZone: "UTC", now: "2024-02-29T10:00:00Z", start: "2023-02-28T10:00:00.000Z" },
    { window: "calendar_year", timeZone: "UTC", now: "2026-06-15T10:00:00Z", start: "2026-01-01T00:00:00.000Z" },
    { window: "calendar_year", timeZone: "America/New_York", now: "2026-06-15T10:00:00Z", start: "2026-01-01T05:00:00.000Z" },
    { window: "calendar_year", timeZone: "Asia/Tokyo", now: "2026-12-31T16:00:00Z", start: "2026-12-31T15:00:00.000Z" },
  ] as const)("$window in $timeZone at $now starts $start", ({ window, timeZone, now, start }) => {
    expect(tierWindowStart({ window, timeZone, now: at(now) })?.toISOString() ?? null).toBe(start);
  });
});

describe("tier transitions", () => {
  type Step = { now: string; tier: string | null; value: number };
  const cases: { name: string; window: TierWindow; timeZone?: string; facts: TierFact[]; steps: Step[] }[] = [
    {
      name: "lifetime: up as points accumulate, down when a refund takes points back",
      window: "lifetime",
      facts: [fact("2020-01-01T00:00:00Z", 600), fact("2026-01-10T00:00:00Z", 450), fact("2026-02-10T00:00:00Z", -100)],
      steps: [
        { now: "2019-12-31T00:00:00Z", tier: "Member", value: 0 },
        { now: "2020-01-02T00:00:00Z", tier: "Silver", value: 600 },
        { now: "2026-01-10T00:00:00Z", tier: "Gold", value: 1050 },
        { now: "2026-02-10T00:00:00Z", tier: "Silver", value: 950 },
        { now: "2040-01-01T00:00:00Z", tier: "Silver", value: 950 },
      ],
    },
    {
      name: "rolling 12 months: down as old activity leaves the window",
      window: "rolling_12_months",
      facts: [fact("2025-04-01T00:00:00Z", 600), fact("2026-01-15T00:00:00Z", 500)],
      steps: [
        { now: "2026-01-15T00:00:00Z", tier: "Gold", value: 1100 },
        { now: "2026-04-01T00:00:00Z", tier: "Gold", value: 1100 },
        { now: "2026-04-01T00:00:01Z", tier: "Silver", value: 500 },
        { now: "2027-01-15T00:00:01Z", tier: "Member", value: 0 },
      ],
    },
    {
      name: "calendar year in the shop's time zone: resets at local midnight on 1 January",
      window: "calendar_year",
      timeZone: "America/New_York",
      facts: [fact("2026-06-01T00:00:00Z", 700), fact("2027-01-01T04:30:00Z", 400)], // the second is 31 December 23:30 in New York
      steps: [
        { now: "2026-06-01T00:00:00Z", tier: "Silver", value: 700 },
        { now: "2027-01-01T04:59:59Z", tier: "Gold", value: 1100 },
        { now: "2027-01-01T05:00:00Z", tier: "Member", value: 0 },
      ],
    },
  ];

  it.each(cases)("$name", ({ window, timeZone = "UTC", facts, steps }) => {
    for (const step of steps) {
      const result = evaluateTier({ levels, window, timeZone, facts, now: at(step.now) });
      expect({ now: step.now, tier: result.tier, value: Number(result.value) }).toEqual(step);
    }
  });

  it("net spend in minor units; below the first threshold there is no tier", () => {
    const spendLevels = [
      { name: "Insider", threshold: 10_000, tag: null, multiplier: 1 },
      { name: "VIP", threshold: 100_000, tag: "crm:vip", multiplier: 2 },
    ];
    const facts = [fact("2026-01-01T00:00:00Z", 9_999), fact("2026-02-01T00:00:00Z", 1), fact("2026-03-01T00:00:00Z", 90_000)];
    expect(evaluateTier({ levels: spendLevels, window: "lifetime", timeZone: "UTC", facts, now: at("2026-01-02T00:00:00Z") }).tier).toBeNull();
    expect(evaluateTier({ levels: spendLevels, window: "lifetime", timeZone: "UTC", facts, now: at("2026-02-01T00:00:00Z") }).tier).toBe("Insider");
    expect(evaluateTier({ levels: spendLevels, window: "lifetime", timeZone: "UTC", facts, now: at("2026-03-01T00:00:00Z") }).tier).toBe("VIP");
  });
});

describe("expiry", () => {
  const settings = version({ expiry: { inactivityDays: 90 } }).settings;
  const entry = (kind: LedgerKind, points: number, occurred: string, available = occurred, key = `${kind}:${occurred}:${points}`): LedgerEntry => ({
    customerGid: "c",
    points,
    kind,
    availableAt: at(available),
    occurredAt: at(occurred),
    orderGid: null,
    reason: "",
    rule: {},
    idempotencyKey: key,
  });

  it("the expiring amount and date are known in advance, and expire on the date", () => {
    const entries = [entry("earn", 100, "2026-01-01T00:00:00Z"), entry("earn", 40, "2026-01-10T00:00:00Z")];
    expect(expiryOutlook({ entries, settings })).toEqual({ lastActivityAt: at("2026-01-10T00:00:00Z"), expiresAt: at("2026-04-10T00:00:00Z"), points: 140 });
    expect(planExpiry({ customerGid: "c", entries, settings, now: at("2026-04-09T23:59:59Z") })).toBeNull();
    const due = planExpiry({ customerGid: "c", entries, settings, now: at("2026-04-11T00:00:00Z") })!;
    expect(due).toMatchObject({ points: -140, kind: "expire", idempotencyKey: "expire:c:2026-04-10T00:00:00.000Z", availableAt: at("2026-04-10T00:00:00Z") });
    // A second run writes nothing; so does a run after a late refund of an expired order.
    const after = [...entries, { ...entry("expire", -140, "2026-04-10T00:00:00Z"), idempotencyKey: due.idempotencyKey }];
    expect(planExpiry({ customerGid: "c", entries: after, settings, now: at("2026-05-01T00:00:00Z") })).toBeNull();
    expect(planExpiry({ customerGid: "c", entries: [...after, entry("reverse", -40, "2026-04-20T00:00:00Z", "2026-01-10T00:00:00Z")], settings, now: at("2026-05-01T00:00:00Z") })).toBeNull();
  });

  it("a redemption is activity; reversals, staff adjustments and the birthday bonus are not", () => {
    const entries = [
      entry("earn", 100, "2026-01-01T00:00:00Z"),
      entry("redeem", -30, "2026-02-01T00:00:00Z"),
      entry("reverse", -10, "2026-03-01T00:00:00Z"),
      entry("adjust", 5, "2026-03-02T00:00:00Z"),
      entry("bonus", 20, "2026-03-03T00:00:00Z", "2026-03-03T00:00:00Z", "bonus:birthday:c:2026"),
    ];
    expect(expiryOutlook({ entries, settings })).toEqual({ lastActivityAt: at("2026-02-01T00:00:00Z"), expiresAt: at("2026-05-02T00:00:00Z"), points: 85 });
    const withFeedback = [...entries, entry("bonus", 10, "2026-03-04T00:00:00Z", "2026-03-04T00:00:00Z", "bonus:feedback:9")];
    expect(expiryOutlook({ entries: withFeedback, settings })?.expiresAt).toEqual(at("2026-06-02T00:00:00Z"));
  });

  it("points still pending on the expiry date are kept", () => {
    const long = version({ expiry: { inactivityDays: 30 } }).settings;
    const entries = [entry("earn", 50, "2025-12-01T00:00:00Z"), entry("earn", 100, "2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z")];
    expect(expiryOutlook({ entries, settings: long })).toEqual({ lastActivityAt: at("2026-01-01T00:00:00Z"), expiresAt: at("2026-01-31T00:00:00Z"), points: 50 });
    expect(planExpiry({ customerGid: "c", entries, settings: long, now: at("2026-02-01T00:00:00Z") })?.points).toBe(-50);
  });

  it("nothing expires without an expiry setting or with a balance at or below zero", () => {
    const entries = [entry("earn", 100, "2026-01-01T00:00:00Z"), entry("redeem", -100, "2026-01-02T00:00:00Z")];
    expect(expiryOutlook({ entries, settings: version({}).settings })).toBeNull();
    expect(planExpiry({ customerGid: "c", entries, settings, now: at("2027-01-01T00:00:00Z") })).toBeNull();
  });
});

describe("takeDebit", () => {
  const now = at("2026-03-01T00:00:00Z");
  const wallet = () => walletFromEntries([
    { points: 30, availableAt: days(now, -10) },
    { points: 50, availableAt: days(now, 5) },
    { points: 20, availableAt: days(now, 9) },
  ], now);

  it.each([
    { name: "own pending lot first", own: days(now, 5), amount: 40, policy: "allow", parts: [[40, 5]], forgiven: 0, shortfall: 0 },
    { name: "own lot, then the balance", own: days(now, 9), amount: 40, policy: "allow", parts: [[20, 9], [20, 0]], forgiven: 0, shortfall: 0 },
    { name: "available points: the balance, then negative (allow)", own: days(now, -20), amount: 50, policy: "allow", parts: [[50, -20]], forgiven: 0, shortfall: 20 },
    { name: "pending_first: other pending lots soonest first", own: days(now, -20), amount: 90, policy: "pending_first", parts: [[30, -20], [50, 5], [10, 9]], forgiven: 0, shortfall: 0 },
    { name: "pending_first: then negative", own: days(now, -20), amount: 120, policy: "pending_first", parts: [[30, -20], [50, 5], [20, 9], [20, -20]], forgiven: 0, shortfall: 20 },
    { name: "never: forgive what nothing covers", own: days(now, -20), amount: 120, policy: "never", parts: [[30, -20], [50, 5], [20, 9]], forgiven: 20, shortfall: 0 },
  ] as const)("$name", ({ own, amount, policy, parts, forgiven, shortfall }) => {
    const w = wallet();
    const result = takeDebit({ wallet: w, amount, ownAvailableAt: own, policy, now });
    expect(result.parts.map((p) => [p.points, Math.round((p.availableAt.getTime() - now.getTime()) / 86_400_000)])).toEqual(parts);
    expect([result.forgiven, result.shortfall]).toEqual([forgiven, shortfall]);
    expect(w.available + w.pending.reduce((s, l) => s + l.points, 0)).toBe(100 - amount + forgiven);
    expect(w.pending.every((l) => l.points >= 0)).toBe(true);
  });
});
