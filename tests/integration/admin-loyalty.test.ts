// The loyalty admin pages' service on a real database: the dashboard's aggregations with
// exact figures on a hand-seeded ledger (weeks in two time zones, window edges, liability with
// a negative balance and a deleted customer, tier distribution with a retired tier, the money
// value of a point), the settings form (field errors, nothing stored when invalid, conflicts,
// cross-checks, a round trip), and the customer card (ledger pages, adjustments). The browser
// flow is tests/e2e/loyalty-ui.test.ts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import type { NewLedgerEntry } from "../../app/domain/loyalty/ledger";
import {
  adjustCustomerPoints,
  customerLedgerPage,
  getCustomerLoyalty,
  getLoyaltyDashboard,
  getProgramSettingsPage,
  loyaltyActivityByWeek,
  loyaltyCurrency,
  loyaltyHoldingsByTier,
  loyaltyLiabilityPoints,
  saveProgramSettings,
} from "../../app/services/admin-loyalty.server";
import { getProgram, saveProgram } from "../../app/services/loyalty/program.server";
import { insertEntries } from "../../app/services/loyalty/store.server";
import { formFields, newProgramFormValues } from "../../app/domain/loyalty/program-form";
import { useIntegrationEnv } from "../support/env";

const SHOP = "admin-loyalty-a.myshopify.com";
const OTHER = "admin-loyalty-b.myshopify.com";
const NOW = new Date("2026-03-11T12:00:00Z"); // a Wednesday: the current week starts Monday 2026-03-09
const ACTOR = "owner@example.com";

const gid = (n: number) => `gid://shopify/Customer/${n}`;
const at = (iso: string) => new Date(iso);
const A = gid(1);
const B = gid(2);
const C = gid(3); // deleted
const D = gid(4); // negative balance
const E = gid(5); // holds a tier the program no longer has
const F = gid(6); // a long ledger

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;

const PROGRAM = {
  earn: { pointsPerUnit: 1 },
  pendingDays: 14,
  expiry: { inactivityDays: 365 },
  tiers: {
    metric: "points_earned",
    window: "lifetime",
    levels: [
      { name: "Member", threshold: 0 },
      { name: "Silver", threshold: 100, tag: "crm:silver" },
      { name: "Gold", threshold: 500, tag: "crm:gold", multiplier: 2 },
    ],
  },
  rewards: [
    { id: "five-off", name: "$5 off", kind: "fixed_amount", value: "5.00", pointsCost: 100 },
    { id: "twelve-off", name: "$12 off", kind: "fixed_amount", value: "12.00", pointsCost: 200 },
    { id: "ten-percent", name: "10% off", kind: "percentage", value: 10, pointsCost: 50 },
    { id: "ship", name: "Free shipping", kind: "free_shipping", pointsCost: 80 },
  ],
};

let seq = 0;
function entry(customerGid: string, kind: NewLedgerEntry["kind"], points: number, occurred: string, available = occurred): NewLedgerEntry {
  return {
    customerGid,
    points,
    kind,
    status: at(available) > NOW ? "pending" : "available",
    availableAt: at(available),
    occurredAt: at(occurred),
    source: kind === "adjust" ? "staff:owner@example.com" : `test:${kind}`,
    orderGid: null,
    reason: `${kind} ${points}`,
    rule: {},
    idempotencyKey: `test:${++seq}`,
  };
}

async function seedCustomer(shop: string, customerGid: string, name: string, deleted = false) {
  await getPool().query(`INSERT INTO customers (shop, gid, email, first_name, last_name, deleted_at) VALUES ($1, $2, $3, $4, 'Tester', $5)`, [
    shop,
    customerGid,
    `${name.toLowerCase()}@example.com`,
    name,
    deleted ? NOW : null,
  ]);
}

async function tierChange(customerGid: string, from: string | null, to: string | null) {
  await getPool().query(
    `INSERT INTO loyalty_tier_changes (shop, customer_gid, from_tier, to_tier, metric, window_kind, value, program_version, cause) VALUES ($1, $2, $3, $4, 'points_earned', 'lifetime', 0, 1, 'test')`,
    [SHOP, customerGid, from, to],
  );
}

async function ledgerCount(customerGid: string): Promise<number> {
  const { rows } = await getPool().query<{ n: number }>(`SELECT count(*)::int AS n FROM loyalty_ledger WHERE shop = $1 AND customer_gid = $2`, [SHOP, customerGid]);
  return rows[0]!.n;
}

/** The seeded ledger: every figure the tests expect is worked out from these rows in the comments. */
async function seedLedger() {
  for (const [customerGid, name] of [
    [A, "Ana"],
    [B, "Bo"],
    [D, "Dee"],
    [E, "Eve"],
    [F, "Finn"],
  ] as const)
    await seedCustomer(SHOP, customerGid, name);
  await seedCustomer(SHOP, C, "Cy", true);
  await seedCustomer(OTHER, A, "Other");
  await insertEntries(getPool(), SHOP, [
    // Ana: 520 spendable, 80 pending.
    entry(A, "earn", 500, "2025-09-01T12:00:00Z", "2025-09-15T12:00:00Z"), // before the 26 weeks: counted in the balance, not the chart
    entry(A, "earn", 50, "2026-02-02T12:00:00Z", "2026-02-16T12:00:00Z"), // week 02-02: issued 50
    entry(A, "earn", 100, "2026-03-02T12:00:00Z", "2026-03-16T12:00:00Z"), // week 03-02: issued 100, still pending
    entry(A, "redeem", -30, "2026-03-03T12:00:00Z"), // week 03-02: redeemed 30
    entry(A, "reverse", -20, "2026-03-10T08:00:00Z", "2026-03-16T12:00:00Z"), // week 03-09: reversed 20, out of the pending lot
    // Bo: 37 spendable.
    entry(B, "bonus", 7, "2025-09-14T23:59:59Z"), // one second before the first week (UTC): not in the chart
    entry(B, "bonus", 5, "2025-09-15T00:00:00Z"), // the first instant of the first week (UTC): issued 5
    entry(B, "bonus", 25, "2026-01-05T12:00:00Z"), // week 01-05: issued 25
    entry(B, "adjust", 40, "2026-01-06T12:00:00Z"), // week 01-05: issued 40 (a staff addition)
    entry(B, "adjust", -15, "2026-01-07T12:00:00Z"), // week 01-05: reversed 15 (a staff removal)
    entry(B, "redeem", -10, "2026-02-17T12:00:00Z"), // week 02-16: a redemption ...
    entry(B, "refund_redeem", 10, "2026-02-17T12:05:00Z"), // ... given back: redeemed 0
    entry(B, "expire", -25, "2026-02-20T12:00:00Z"), // week 02-16: expired 25
    // Cy (deleted since): in the chart, not a member.
    entry(C, "earn", 70, "2026-01-12T12:00:00Z", "2026-01-26T12:00:00Z"), // week 01-12: issued 70
    // Dee: spent the points, then the order was refunded: -10 (owed).
    entry(D, "earn", 10, "2025-12-01T12:00:00Z", "2025-12-15T12:00:00Z"), // week 12-01: issued 10
    entry(D, "redeem", -10, "2025-12-20T12:00:00Z"), // week 12-15: redeemed 10
    entry(D, "reverse", -10, "2026-01-02T12:00:00Z"), // week 12-29: reversed 10
    // Eve: Monday 03:00 UTC is Sunday evening in New York.
    entry(E, "earn", 30, "2026-03-09T03:00:00Z"), // week 03-09 (UTC) / 03-02 (New York): issued 30
  ]);
  await insertEntries(getPool(), OTHER, [entry(A, "earn", 999, "2026-03-02T12:00:00Z")]); // another shop: never counted
  await tierChange(A, null, "Silver");
  await tierChange(A, "Silver", "Gold");
  await tierChange(B, null, "Silver");
  await tierChange(C, null, "Gold");
  await tierChange(E, null, "Bronze");
}

beforeAll(async () => {
  env = await useIntegrationEnv();
});

beforeEach(async () => {
  await getPool().query(
    `TRUNCATE loyalty_ledger, loyalty_programs, loyalty_program_versions, loyalty_tier_changes, customers, segments, audit_log, shops, orders CASCADE`,
  );
});

afterAll(async () => {
  await closeDb();
  await env?.dropDatabase();
});

const nonZeroWeeks = (weeks: { weekStart: string; issued: number; redeemed: number; reversed: number; expired: number }[]) =>
  Object.fromEntries(weeks.filter((w) => w.issued || w.redeemed || w.reversed || w.expired).map(({ weekStart, ...rest }) => [weekStart, rest]));

describe("dashboard aggregations", () => {
  it("GIVEN no program THEN there is no dashboard and the settings start from the defaults", async () => {
    expect(await getLoyaltyDashboard({ shop: SHOP, now: NOW })).toBeNull();
    const page = await getProgramSettingsPage({ shop: SHOP });
    const { timeZones, shopTimeZone, ...rest } = page;
    expect(rest).toEqual({ version: null, updatedAt: null, values: newProgramFormValues(), currency: "USD", segments: [] });
    expect(shopTimeZone).toBe("UTC");
    expect(timeZones[0]).toBe("UTC");
    // A new program starts on the shop's own zone, offered in the select.
    const inTokyo = await getProgramSettingsPage({ shop: SHOP, defaultTimeZone: "Asia/Tokyo" });
    expect(inTokyo.values.timeZone).toBe("Asia/Tokyo");
    expect(inTokyo.shopTimeZone).toBe("Asia/Tokyo");
    expect(inTokyo.timeZones).toContain("Asia/Tokyo");
  });

  it("counts points per week, Monday to Monday, over the last 26 weeks (UTC)", async () => {
    await seedLedger();
    const weeks = await loyaltyActivityByWeek({ shop: SHOP, now: NOW });
    expect(weeks).toHaveLength(26);
    expect(weeks[0]!.weekStart).toBe("2025-09-15");
    expect(weeks[25]!.weekStart).toBe("2026-03-09");
    expect(nonZeroWeeks(weeks)).toEqual({
      "2025-09-15": { issued: 5, redeemed: 0, reversed: 0, expired: 0 },
      "2025-12-01": { issued: 10, redeemed: 0, reversed: 0, expired: 0 },
      "2025-12-15": { issued: 0, redeemed: 10, reversed: 0, expired: 0 },
      "2025-12-29": { issued: 0, redeemed: 0, reversed: 10, expired: 0 },
      "2026-01-05": { issued: 65, redeemed: 0, reversed: 15, expired: 0 },
      "2026-01-12": { issued: 70, redeemed: 0, reversed: 0, expired: 0 },
      "2026-02-02": { issued: 50, redeemed: 0, reversed: 0, expired: 0 },
      "2026-02-16": { issued: 0, redeemed: 0, reversed: 0, expired: 25 },
      "2026-03-02": { issued: 100, redeemed: 30, reversed: 0, expired: 0 },
      "2026-03-09": { issued: 30, redeemed: 0, reversed: 20, expired: 0 },
    });
  });

  it("uses the program's time zone for the weeks", async () => {
    await seedLedger();
    const weeks = await loyaltyActivityByWeek({ shop: SHOP, now: NOW, timeZone: "America/New_York" });
    expect(weeks[0]!.weekStart).toBe("2025-09-15");
    const figures = nonZeroWeeks(weeks);
    expect(figures["2025-09-15"]).toBeUndefined(); // Bo's bonus at 00:00 UTC is Sunday 14 September in New York: before the window
    expect(figures["2026-03-02"]).toEqual({ issued: 130, redeemed: 30, reversed: 0, expired: 0 }); // Eve's Sunday-evening order joins the week before
    expect(figures["2026-03-09"]).toEqual({ issued: 0, redeemed: 0, reversed: 20, expired: 0 });
  });

  it("sums the liability of live members: positive balances and pending points; negative balances are owed, not liability", async () => {
    await seedLedger();
    // Ana 500 + 50 - 30 = 520 spendable, 100 - 20 = 80 pending; Bo 7 + 5 + 25 + 40 - 15 - 10 + 10 - 25 = 37; Dee -10; Eve 30; Finn none; Cy deleted.
    expect(await loyaltyLiabilityPoints({ shop: SHOP, now: NOW })).toEqual({ members: 4, spendablePoints: 587, pendingPoints: 80, owedPoints: 10 });
    // The same, by current tier (Cy's Gold does not count: deleted).
    expect(await loyaltyHoldingsByTier({ shop: SHOP, now: NOW })).toEqual([
      { tier: "Bronze", members: 1, spendablePoints: 30, pendingPoints: 0, owedPoints: 0 },
      { tier: "Gold", members: 1, spendablePoints: 520, pendingPoints: 80, owedPoints: 0 },
      { tier: "Silver", members: 1, spendablePoints: 37, pendingPoints: 0, owedPoints: 0 },
      { tier: null, members: 1, spendablePoints: 0, pendingPoints: 0, owedPoints: 10 },
    ]);
    // Once Ana's pending lot matures it is spendable.
    expect(await loyaltyLiabilityPoints({ shop: SHOP, now: at("2026-03-16T12:00:00Z") })).toEqual({ members: 4, spendablePoints: 667, pendingPoints: 0, owedPoints: 10 });
  });

  it("builds the dashboard: members, totals, liability in money at the best fixed-amount rate, tiers in the program's order", async () => {
    await saveProgram({ shop: SHOP, settings: PROGRAM, actor: ACTOR, now: at("2025-06-01T00:00:00Z") });
    await seedLedger();
    const dashboard = await getLoyaltyDashboard({ shop: SHOP, now: NOW });
    expect(dashboard).not.toBeNull();
    expect(dashboard!.members).toBe(4);
    expect(dashboard!.totals).toEqual({ issued: 330, redeemed: 40, reversed: 45, expired: 25 });
    expect(dashboard!.weeks[25]).toMatchObject({ weekStart: "2026-03-09", label: "Mar 9" });
    // $12 for 200 points (6 cents a point) beats $5 for 100; percentage and free shipping have no fixed value.
    expect(dashboard!.liability).toEqual({
      spendablePoints: 587,
      pendingPoints: 80,
      owedPoints: 10,
      money: {
        spendable: "$35.22",
        pending: "$4.80",
        total: "$40.02",
        totalMinor: "4002",
        perPoint: "$0.06",
        basis: "“$12 off”: $12.00 off for 200 points",
      },
    });
    expect(dashboard!.tiers).toEqual([
      { tier: "Gold", label: "Gold", members: 1, share: "25%", retired: false },
      { tier: "Silver", label: "Silver", members: 1, share: "25%", retired: false },
      { tier: "Member", label: "Member", members: 0, share: "0%", retired: false },
      { tier: "Bronze", label: "Bronze (no longer in the program)", members: 1, share: "25%", retired: true },
      { tier: null, label: "No tier", members: 1, share: "25%", retired: false },
    ]);
    expect(dashboard!.program).toMatchObject({ version: 1, enabled: true, pointsPerUnit: "1 point per $1.00", pendingDays: 14, timeZone: "UTC" });
    // Another shop's dashboard sees none of it.
    await saveProgram({ shop: OTHER, settings: { earn: { pointsPerUnit: 1 } }, actor: ACTOR, now: at("2025-06-01T00:00:00Z") });
    const other = await getLoyaltyDashboard({ shop: OTHER, now: NOW });
    expect(other!.members).toBe(1);
    expect(other!.totals.issued).toBe(999);
    expect(other!.liability.money).toBeNull(); // no fixed-amount reward: no money value
    expect(other!.tiers).toBeNull();
  });

  it("takes the shop's currency from the shop record, else its latest order, else USD", async () => {
    await getPool().query(`INSERT INTO shops (domain, "currencyCode") VALUES ($1, 'eur')`, [OTHER]);
    expect(await loyaltyCurrency(OTHER)).toBe("EUR");
    expect(await loyaltyCurrency(SHOP)).toBe("USD");
    await getPool().query(
      `INSERT INTO orders (shop, gid, legacy_id, currency, total_price_minor, shopify_created_at, shopify_updated_at)
       VALUES ($1, 'gid://shopify/Order/1', '1', 'CAD', 100, '2026-01-01', '2026-01-01'), ($1, 'gid://shopify/Order/2', '2', 'JPY', 100, '2025-01-01', '2025-01-01')`,
      [SHOP],
    );
    expect(await loyaltyCurrency(SHOP)).toBe("CAD");
  });
});

describe("settings form", () => {
  it("round-trips a stored program through the form unchanged (a new version, same settings)", async () => {
    const saved = await saveProgram({ shop: SHOP, settings: { ...PROGRAM, tiers: { ...PROGRAM.tiers, metric: "net_spend" } }, actor: ACTOR });
    const page = await getProgramSettingsPage({ shop: SHOP });
    expect(page.values.tiers.levels.map((l) => l.threshold)).toEqual(["0.00", "1.00", "5.00"]); // net spend is edited as money
    const result = await saveProgramSettings({ shop: SHOP, fields: { ...formFields(page.values), expectedVersion: "1" }, actor: ACTOR });
    expect(result).toEqual({ status: 200, result: { ok: true, version: 2 } });
    expect((await getProgram(SHOP))!.settings).toEqual(saved.settings);
    const { rows } = await getPool().query(`SELECT action, subject FROM audit_log WHERE shop = $1 ORDER BY id`, [SHOP]);
    expect(rows).toEqual([
      { action: "loyalty.program_saved", subject: "version 1" },
      { action: "loyalty.program_saved", subject: "version 2" },
    ]);
  });

  it("answers each bad field with its own message at its path, and stores nothing", async () => {
    const values = newProgramFormValues();
    values.earn.pointsPerUnit = "abc";
    values.pendingDays = "400";
    values.timeZone = "Mars/Olympus";
    values.tiers = {
      enabled: true,
      metric: "points_earned",
      window: "lifetime",
      levels: [
        { name: "Member", threshold: "0", tag: "", multiplier: "1" },
        { name: "Gold", threshold: "0", tag: "vip", multiplier: "2.5" },
        { name: "", threshold: "1.5", tag: "", multiplier: "x" },
      ],
    };
    values.rewards = [
      { id: "", name: "Big", kind: "percentage", value: "150", pointsCost: "", minimumOrder: "", validityDays: "" },
      { id: "", name: "Off", kind: "fixed_amount", value: "5.123456", pointsCost: "100", minimumOrder: "", validityDays: "30" },
    ];
    const result = await saveProgramSettings({ shop: SHOP, fields: { ...formFields(values), expectedVersion: "" }, actor: ACTOR });
    expect(result.status).toBe(400);
    expect(result.result).toEqual({
      ok: false,
      kind: "invalid",
      basedOn: null,
      errors: [
        { path: "rewards.0.pointsCost", message: "Enter a whole number" },
        { path: "earn.pointsPerUnit", message: "Enter a number, such as 1 or 1.5" },
        { path: "tiers.levels.2.threshold", message: "Enter a whole number" },
        { path: "tiers.levels.2.multiplier", message: "Enter a number, such as 1 or 1.5" },
        { path: "timeZone", message: "Must be an IANA time zone such as America/New_York" },
        { path: "pendingDays", message: "Must be at most 365" },
        { path: "tiers.levels.1.tag", message: "The tag must be namespaced, for example `crm:vip`" },
        { path: "tiers.levels.2.name", message: "A tier needs a name" },
        { path: "rewards.0.value", message: "Value must be a percentage from 1 to 100" },
        { path: "rewards.1.value", message: 'Value must be an amount as a decimal string, such as "5.00" (at most 3 decimal places)' },
      ],
    });
    expect(await getProgram(SHOP)).toBeNull();
    // Rules across tiers are checked once each tier is valid on its own.
    values.tiers.levels = values.tiers.levels.slice(0, 2).map((l) => ({ ...l, tag: "" }));
    values.rewards = [];
    values.earn.pointsPerUnit = "1.5";
    values.pendingDays = "14";
    values.timeZone = "Europe/Lisbon";
    const thresholds = await saveProgramSettings({ shop: SHOP, fields: { ...formFields(values), expectedVersion: "" }, actor: ACTOR });
    expect(thresholds.result).toEqual({
      ok: false,
      kind: "invalid",
      basedOn: null,
      errors: [{ path: "tiers.levels.1.threshold", message: "Tier thresholds must increase from one tier to the next" }],
    });
    expect(await getProgram(SHOP)).toBeNull();
  });

  it("refuses a save based on an older version (someone saved meanwhile), and a program nobody expected", async () => {
    await saveProgram({ shop: SHOP, settings: PROGRAM, actor: ACTOR });
    const page = await getProgramSettingsPage({ shop: SHOP });
    expect(page.version).toBe(1);
    await saveProgram({ shop: SHOP, settings: { ...PROGRAM, pendingDays: 30 }, actor: "colleague@example.com", expectedVersion: 1 });
    const stale = await saveProgramSettings({ shop: SHOP, fields: { ...formFields(page.values), expectedVersion: "1" }, actor: ACTOR });
    expect(stale.status).toBe(409);
    expect(stale.result).toMatchObject({ ok: false, kind: "conflict", basedOn: 1, message: expect.stringContaining("Someone else saved the program") });
    expect((await getProgram(SHOP))!).toMatchObject({ version: 2, settings: { pendingDays: 30 } });
    // A form opened before any program existed.
    const fresh = await saveProgramSettings({ shop: SHOP, fields: { ...formFields(newProgramFormValues()), expectedVersion: "" }, actor: ACTOR });
    expect(fresh).toMatchObject({ status: 409, result: { kind: "conflict", basedOn: null } });
    // A form without its version is not understood.
    const noVersion = await saveProgramSettings({ shop: SHOP, fields: formFields(newProgramFormValues()), actor: ACTOR });
    expect(noVersion).toMatchObject({ status: 400, result: { kind: "invalid", errors: [{ path: "", message: expect.stringContaining("not understood") }] } });
    expect((await getProgram(SHOP))!.version).toBe(2);
  });

  it("checks segment multipliers and tier tags against the shop's segments", async () => {
    const { rows } = await getPool().query<{ id: string }>(
      `INSERT INTO segments (shop, name, query, tag, tag_sync_enabled) VALUES ($1, 'VIPs', 'amount_spent >= 500', 'crm:vip', true), ($2, 'Theirs', 'amount_spent >= 1', NULL, false) RETURNING id::text`,
      [SHOP, OTHER],
    );
    const [vips, theirs] = rows.map((r) => r.id);
    const values = newProgramFormValues();
    values.segmentMultipliers = [
      { segmentId: vips!, multiplier: "1.5" },
      { segmentId: theirs!, multiplier: "2" }, // another shop's segment
    ];
    values.tiers = { enabled: true, metric: "points_earned", window: "lifetime", levels: [{ name: "VIP", threshold: "0", tag: "CRM:VIP", multiplier: "1" }] };
    const result = await saveProgramSettings({ shop: SHOP, fields: { ...formFields(values), expectedVersion: "" }, actor: ACTOR });
    expect(result).toEqual({
      status: 400,
      result: {
        ok: false,
        kind: "invalid",
        basedOn: null,
        errors: [
          { path: "segmentMultipliers.1.segmentId", message: `Segment ${theirs} no longer exists; choose another or remove this multiplier` },
          { path: "tiers.levels.0.tag", message: "The segment “VIPs” already syncs the tag CRM:VIP; a tag is synced by one segment or tier at a time" },
        ],
      },
    });
    values.segmentMultipliers = [{ segmentId: vips!, multiplier: "1.5" }];
    values.tiers.levels[0]!.tag = "crm:vip-tier";
    values.rewards = [{ id: "", name: "$5 off", kind: "fixed_amount", value: "5", pointsCost: "1,000", minimumOrder: "", validityDays: "" }];
    const saved = await saveProgramSettings({ shop: SHOP, fields: { ...formFields(values), expectedVersion: "" }, actor: ACTOR });
    expect(saved).toEqual({ status: 200, result: { ok: true, version: 1 } });
    const program = await getProgram(SHOP);
    expect(program!.settings.segmentMultipliers).toEqual([{ segmentId: vips, multiplier: 1.5 }]);
    expect(program!.settings.rewards).toEqual([{ id: "5-off", name: "$5 off", kind: "fixed_amount", value: "5", pointsCost: 1000, minimumOrder: null, validityDays: 30 }]);
    const page = await getProgramSettingsPage({ shop: SHOP });
    expect(page.segments).toEqual([{ id: vips, name: "VIPs" }]);
  });
});

describe("customer card", () => {
  beforeEach(async () => {
    await saveProgram({ shop: SHOP, settings: PROGRAM, actor: ACTOR, now: at("2025-06-01T00:00:00Z") });
    await seedLedger();
  });

  it("shows balance, pending, tier, the points that will expire and the ledger newest first", async () => {
    const card = await getCustomerLoyalty({ shop: SHOP, customerGid: A, now: NOW });
    expect(card).toMatchObject({
      programEnabled: true,
      balance: 520,
      pending: 80,
      tier: "Gold",
      // Last activity: the redemption on 3 March 2026; everything available by then (pending included, it matures first) expires a year later.
      expiring: { points: 600, on: "Mar 3, 2027" },
      ledger: { total: 5, olderCursor: null, isFirstPage: true },
    });
    expect(card!.ledger.rows.map((r) => [r.kindLabel, r.pointsText, r.pendingUntil])).toEqual([
      ["Reversed", "−20", "Mar 16, 2026"],
      ["Redeemed", "−30", null],
      ["Earned", "+100", "Mar 16, 2026"],
      ["Earned", "+50", null],
      ["Earned", "+500", null],
    ]);
    expect(card!.adjustmentKey).toMatch(/^[0-9a-f-]{36}$/);
    // Unknown customer, another shop's customer, a shop without a program: no card.
    expect(await getCustomerLoyalty({ shop: SHOP, customerGid: gid(999), now: NOW })).toBeNull();
    expect(await getCustomerLoyalty({ shop: OTHER, customerGid: A, now: NOW })).toBeNull();
    expect(await getCustomerLoyalty({ shop: SHOP, customerGid: "not-a-gid", now: NOW })).toBeNull();
  });

  it("pages through a long ledger by keyset, 50 at a time", async () => {
    await insertEntries(
      getPool(),
      SHOP,
      Array.from({ length: 55 }, (_, i) => entry(F, "adjust", i + 1, `2026-01-${String((i % 28) + 1).padStart(2, "0")}T12:00:00Z`)),
    );
    const first = await getCustomerLoyalty({ shop: SHOP, customerGid: F, now: NOW });
    expect(first!.ledger.rows).toHaveLength(50);
    expect(first!.ledger.rows[0]!.points).toBe(55);
    expect(first!.ledger.total).toBe(55);
    expect(first!.ledger.olderCursor).not.toBeNull();
    expect(first!.ledger.rows[0]!.staff).toBe("owner@example.com");
    const second = await getCustomerLoyalty({ shop: SHOP, customerGid: F, before: first!.ledger.olderCursor, now: NOW });
    expect(second!.ledger.rows.map((r) => r.points)).toEqual([5, 4, 3, 2, 1]);
    expect(second!.ledger).toMatchObject({ olderCursor: null, isFirstPage: false });
    // A malformed cursor shows the first page.
    expect((await getCustomerLoyalty({ shop: SHOP, customerGid: F, before: "1;DROP", now: NOW }))!.ledger.isFirstPage).toBe(true);
    expect((await customerLedgerPage({ shop: OTHER, customerGid: F })).rows).toEqual([]);
  });

  it("adjusts points with a reason (audited), writes once per form, and explains every refusal at its field", async () => {
    const key = "6f1d2c1e-8a4b-4c3d-9e2f-0a1b2c3d4e5f";
    const fields = (points: string, reason: string, adjustmentKey = key) => ({ intent: "adjust-points", points, reason, adjustmentKey });
    expect(await adjustCustomerPoints({ shop: SHOP, customerGid: A, fields: fields("ten", ""), actor: ACTOR, now: NOW })).toEqual({
      status: 400,
      result: {
        intent: "adjust-points",
        ok: false,
        errors: { points: "Enter a whole number of points: 50 adds points, -20 removes them", reason: "A reason is required: it is kept in the ledger and the audit log" },
      },
    });
    expect(await adjustCustomerPoints({ shop: SHOP, customerGid: A, fields: fields("0", "x"), actor: ACTOR, now: NOW })).toMatchObject({
      status: 400,
      result: { errors: { points: "Enter a number of points other than 0" } },
    });
    expect(await adjustCustomerPoints({ shop: SHOP, customerGid: A, fields: fields("2,000,000", "x"), actor: ACTOR, now: NOW })).toMatchObject({
      status: 400,
      result: { errors: { points: "An adjustment is at most 1,000,000 points either way" } },
    });
    expect(await adjustCustomerPoints({ shop: SHOP, customerGid: A, fields: { ...fields("5", "x"), adjustmentKey: "nope" }, actor: ACTOR, now: NOW })).toMatchObject({
      status: 400,
      result: { errors: { form: "The form was not understood; reload the page and try again." } },
    });
    // Dee is at -10: the program (pending_first) does not let staff take her further below zero.
    expect(await adjustCustomerPoints({ shop: SHOP, customerGid: D, fields: fields("−5", "Correction"), actor: ACTOR, now: NOW })).toEqual({
      status: 409,
      result: {
        intent: "adjust-points",
        ok: false,
        errors: { points: "Removing 5 points would leave a balance of -15; the program does not allow a negative balance" },
      },
    });
    expect(await ledgerCount(A)).toBe(5);
    expect(await ledgerCount(D)).toBe(3);

    const added = await adjustCustomerPoints({ shop: SHOP, customerGid: A, fields: fields("+25", "Goodwill for a late delivery"), actor: ACTOR, now: NOW });
    expect(added).toEqual({ status: 200, result: { intent: "adjust-points", ok: true, points: 25, balance: 545 } });
    // The same form posted twice (a double click): one entry.
    const again = await adjustCustomerPoints({ shop: SHOP, customerGid: A, fields: fields("+25", "Goodwill for a late delivery"), actor: ACTOR, now: NOW });
    expect(again).toEqual({ status: 200, result: { intent: "adjust-points", ok: true, points: 25, balance: 545 } });
    // The same form key for a different adjustment is refused.
    expect(await adjustCustomerPoints({ shop: SHOP, customerGid: A, fields: fields("30", "Other"), actor: ACTOR, now: NOW })).toMatchObject({
      status: 409,
      result: { errors: { form: expect.stringContaining("already used") } },
    });
    expect(await ledgerCount(A)).toBe(6);
    const card = await getCustomerLoyalty({ shop: SHOP, customerGid: A, now: NOW });
    expect(card!.balance).toBe(545);
    expect(card!.ledger.rows[0]).toMatchObject({ kindLabel: "Adjusted by staff", pointsText: "+25", reason: "Goodwill for a late delivery", staff: ACTOR });
    const { rows } = await getPool().query(`SELECT actor, action, subject, details->>'points' AS points FROM audit_log WHERE shop = $1 AND action = 'loyalty.points_adjusted'`, [SHOP]);
    expect(rows).toEqual([{ actor: ACTOR, action: "loyalty.points_adjusted", subject: A, points: "25" }]);
    // A deleted customer cannot be adjusted.
    expect(await adjustCustomerPoints({ shop: SHOP, customerGid: C, fields: fields("5", "x", "0f1d2c1e-8a4b-4c3d-9e2f-0a1b2c3d4e5f"), actor: ACTOR, now: NOW })).toMatchObject({
      status: 404,
      result: { errors: { form: expect.stringContaining("not found") } },
    });
  });
});
