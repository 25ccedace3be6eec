// Loyalty on a real database. Two ways in, each where it is honest:
// - Through the real pipeline (signed webhooks into the real ingress, the real worker in this
//   process): the worker applies the loyalty step in the apply transaction, at the wall clock,
//   so these cases date their orders and refunds relative to now and assert the ledger the
//   worker wrote (reversals, duplicate deliveries, refunds before orders, cancellations, rule
//   changes, bonuses).
// - Directly, at a controlled clock (applyAt: mapWebhook + applyCrmBatch + the loyalty step in
//   one transaction, what the worker does with a batch), where a case needs time to move:
//   tiers over days, rolling windows, expiry. The worker would apply those at the wall clock.
// Each test uses its own shop (or customer), so program versions do not leak between tests.
import { describe, expect, it } from "vitest";
import { getPool, withTransaction } from "../../app/db.server";
import { loyaltyOrderGids } from "../../app/domain/loyalty/batch";
import type { CrmEvent } from "../../app/domain/crm-events";
import { applyCrmBatch } from "../../app/services/apply-crm-batch.server";
import { ensureShop } from "../../app/services/crm-store.server";
import { adjustPoints } from "../../app/services/loyalty/adjust.server";
import { applyLoyaltyForCustomers, applyLoyaltyForOrders } from "../../app/services/loyalty/apply-orders.server";
import { getBalance, getExpiryOutlook, ledger } from "../../app/services/loyalty/balance.server";
import { LoyaltyError } from "../../app/services/loyalty/errors";
import { runLoyaltyMaintenance } from "../../app/services/loyalty/maintenance.server";
import { getProgram, saveProgram } from "../../app/services/loyalty/program.server";
import { insertEntries } from "../../app/services/loyalty/store.server";
import { mapWebhook } from "../../app/shopify/webhook-payloads";
import { customerPayload, orderPayload, refundPayload, toBody, type CustomerSpec, type LineSpec, type RefundSpec } from "../support/factories";
import { deliverAndSettle, inboxRows, setUpPipelineHarness } from "../support/pipeline";

setUpPipelineHarness();

const at = (iso: string) => new Date(iso);
const customerGid = (c: CustomerSpec) => `gid://shopify/Customer/${c.id}`;
const orderGid = (id: bigint) => `gid://shopify/Order/${id}`;
const PROGRAM_START = at("2026-01-01T00:00:00Z");

// Wall-clock cases: instants relative to when the file started (whole seconds, as Shopify sends them).
const DAY_MS = 24 * 60 * 60 * 1000;
const T0 = Math.floor(Date.now() / 1000) * 1000;
const ago = (days: number) => new Date(T0 - days * DAY_MS);
const iso = (date: Date) => date.toISOString();

async function program(shop: string, settings: Record<string, unknown>, now = PROGRAM_START) {
  return saveProgram({ shop, settings: { earn: { pointsPerUnit: 1 }, pendingDays: 0, ...settings }, actor: "owner@example.com", now });
}

/** Delivers through the real ingress and waits for the real worker (which applies loyalty at the wall clock). */
const send = (shop: string, topic: string, payload: unknown, webhookId?: string) => deliverAndSettle(topic, payload, { shop, ...(webhookId ? { webhookId } : {}) });

type Delivery = { topic: string; payload: unknown };

function toEvents(deliveries: readonly Delivery[]): CrmEvent[] {
  return deliveries.map(({ topic, payload }) => {
    const mapped = mapWebhook(topic, toBody(payload));
    if (!mapped.ok) throw new Error(`${topic}: ${mapped.reason}`);
    return mapped.event;
  });
}

/**
 * The worker's apply step for one batch at a controlled clock: the deliveries mapped and applied
 * (applyCrmBatch), then the loyalty step (orders, then signup bonuses), in one transaction.
 */
async function applyAt(shop: string, deliveries: readonly Delivery[], now: Date) {
  const events = toEvents(deliveries);
  return withTransaction(async (db) => {
    await ensureShop(db, shop, now);
    const applied = await applyCrmBatch(db, shop, events.map((event, n) => ({ inboxId: String(n + 1), event, eventTime: now })));
    const orders = await applyLoyaltyForOrders(db, shop, loyaltyOrderGids(events), { now });
    const signup = await applyLoyaltyForCustomers(db, shop, [...applied.customers].sort(), { now });
    return { ...orders, signup };
  });
}

/** Stores the deliveries' CRM data only (no loyalty step), for the tests of the loyalty step alone. */
async function storeOnly(shop: string, deliveries: readonly Delivery[], now: Date) {
  const events = toEvents(deliveries);
  await withTransaction(async (db) => {
    await ensureShop(db, shop, now);
    await applyCrmBatch(db, shop, events.map((event, n) => ({ inboxId: String(n + 1), event, eventTime: now })));
  });
}

/** The loyalty step alone for these orders, as the worker runs it after a batch. */
async function applyLoyalty(shop: string, orderIds: bigint[], now: Date) {
  return withTransaction((db) => applyLoyaltyForOrders(db, shop, orderIds.map(orderGid), { now }));
}

/** $100 in three lines: 2 x $20, 1 x $30, 3 x $10 (line ids <order>1, <order>2, <order>3). */
const threeLines = (id: bigint): LineSpec[] => [
  { id: id * 10n + 1n, price: "20.00", quantity: 2 },
  { id: id * 10n + 2n, price: "30.00", quantity: 1 },
  { id: id * 10n + 3n, price: "10.00", quantity: 3 },
];

async function entryCount(shop: string) {
  const { rows } = await getPool().query<{ n: string }>(`SELECT count(*) AS n FROM loyalty_ledger WHERE shop = $1`, [shop]);
  return Number(rows[0]!.n);
}

describe("reversals through the pipeline (the worker's loyalty step, wall clock)", () => {
  const shop = "loyalty-reversals.myshopify.com";

  it("earns pending points, reverses refunds line by line out of them, ignores duplicate deliveries, never reverses more than earned", async () => {
    await program(shop, { pendingDays: 14 }, ago(60));
    const ana: CustomerSpec = { id: 5101n, email: "ana.loyalty@example.com" };
    const gid = customerGid(ana);
    const id = 51001n;
    const placed = ago(3);
    const order = (extra: Record<string, unknown> = {}) => orderPayload({ id, customer: ana, totalPrice: "100.00", lines: threeLines(id), createdAt: iso(placed), ...extra });
    const spec1: RefundSpec = { id: 5100101n, orderId: id, amount: "20.00", createdAt: iso(ago(2)), lines: [{ lineItemId: id * 10n + 1n, quantity: 1, subtotal: "20.00" }] };
    const spec2: RefundSpec = { id: 5100102n, orderId: id, amount: "20.00", createdAt: iso(ago(1)), lines: [{ lineItemId: id * 10n + 3n, quantity: 2, subtotal: "20.00" }] };
    const spec3: RefundSpec = {
      id: 5100103n,
      orderId: id,
      amount: "60.00",
      createdAt: iso(ago(0.5)),
      lines: [
        { lineItemId: id * 10n + 1n, quantity: 1, subtotal: "20.00" },
        { lineItemId: id * 10n + 2n, quantity: 1, subtotal: "30.00" },
        { lineItemId: id * 10n + 3n, quantity: 1, subtotal: "10.00" },
      ],
    };

    await send(shop, "orders/create", order());
    expect(await getBalance(shop, gid)).toEqual({ balance: 0, pending: 100, tier: null });

    // GIVEN a refund of one unit of the first line inside the return window: the pending points go down.
    await send(shop, "refunds/create", refundPayload(spec1));
    expect(await getBalance(shop, gid)).toEqual({ balance: 0, pending: 80, tier: null });
    await send(shop, "refunds/create", refundPayload(spec2), "loyalty-refund-2");
    expect(await getBalance(shop, gid)).toEqual({ balance: 0, pending: 60, tier: null });

    // Duplicate deliveries: the same delivery again (same webhook id), the same refund under a new
    // webhook id, the refunds again inside orders/updated; then the step itself replayed.
    const before = await entryCount(shop);
    await send(shop, "refunds/create", refundPayload(spec2), "loyalty-refund-2");
    await send(shop, "refunds/create", refundPayload(spec2));
    await send(shop, "orders/updated", order({ updatedAt: iso(ago(1)), financialStatus: "partially_refunded", refunds: [spec1, spec2] }));
    expect((await inboxRows({ shop, webhookId: "loyalty-refund-2" })).map((r) => r.status)).toEqual(["processed"]);
    expect((await applyLoyalty(shop, [id], new Date())).entries).toBe(0);
    expect(await entryCount(shop)).toBe(before);

    // The rest of the order refunded: exactly what was earned is reversed, not more.
    await send(shop, "refunds/create", refundPayload(spec3));
    expect(await getBalance(shop, gid)).toEqual({ balance: 0, pending: 0, tier: null });
    const rows = await ledger(shop, gid);
    expect(rows.map((r) => [r.kind, r.points, r.idempotencyKey])).toEqual([
      ["earn", 100, `earn:${orderGid(id)}`],
      ["reverse", -20, "reverse:refund:gid://shopify/Refund/5100101"],
      ["reverse", -20, "reverse:refund:gid://shopify/Refund/5100102"],
      ["reverse", -60, "reverse:refund:gid://shopify/Refund/5100103"],
    ]);
    const availableAt = iso(new Date(placed.getTime() + 14 * DAY_MS));
    expect(rows[0]).toMatchObject({ status: "pending", availableAt, occurredAt: iso(placed), orderGid: orderGid(id), rule: { programVersion: 1, pointsPerUnit: 1, basisMinor: "10000" } });
    // Taken from the order's own pending lot: the reversals mature when the points would have.
    expect(rows.slice(1).map((r) => r.availableAt)).toEqual([availableAt, availableAt, availableAt]);
    expect(rows[3]!.rule).toMatchObject({ method: "refund", lines: [{ points: 20 }, { points: 30 }, { points: 10 }] });
  });

  it("a refund after the pending period comes out of the spendable balance", async () => {
    const eve: CustomerSpec = { id: 5103n, email: "eve.loyalty@example.com" };
    const id = 51003n;
    const placed = ago(20); // pendingDays 14: available since 6 days ago
    await send(shop, "orders/create", orderPayload({ id, customer: eve, totalPrice: "100.00", lines: threeLines(id), createdAt: iso(placed) }));
    expect(await getBalance(shop, customerGid(eve))).toEqual({ balance: 100, pending: 0, tier: null });
    await send(shop, "refunds/create", refundPayload({ id: 5100301n, orderId: id, amount: "20.00", createdAt: iso(ago(1)), lines: [{ lineItemId: id * 10n + 3n, quantity: 2, subtotal: "20.00" }] }));
    expect(await getBalance(shop, customerGid(eve))).toEqual({ balance: 80, pending: 0, tier: null });
    const rows = await ledger(shop, customerGid(eve));
    expect(rows.map((r) => [r.kind, r.points, r.status])).toEqual([
      ["earn", 100, "available"],
      ["reverse", -20, "available"],
    ]);
    expect(rows[1]!.availableAt).toBe(rows[0]!.availableAt);
  });

  it("a refund that arrives before its order is reversed when the order arrives", async () => {
    const bo: CustomerSpec = { id: 5102n, email: "bo.loyalty@example.com" };
    const early = 51002n;
    const before = await entryCount(shop);
    await send(shop, "refunds/create", refundPayload({ id: 5100201n, orderId: early, amount: "30.00", createdAt: iso(ago(1)), lines: [{ lineItemId: early * 10n + 2n, quantity: 1, subtotal: "30.00" }] }));
    expect(await entryCount(shop)).toBe(before);
    await send(shop, "orders/create", orderPayload({ id: early, customer: bo, totalPrice: "100.00", lines: threeLines(early), createdAt: iso(ago(2)) }));
    expect(await getBalance(shop, customerGid(bo))).toEqual({ balance: 0, pending: 70, tier: null });
    expect((await ledger(shop, customerGid(bo))).map((r) => [r.kind, r.points, r.idempotencyKey])).toEqual([
      ["earn", 100, `earn:${orderGid(early)}`],
      ["reverse", -30, "reverse:refund:gid://shopify/Refund/5100201"],
    ]);
  });

  it("the ledger refuses updates: corrections are new entries", async () => {
    await expect(getPool().query(`UPDATE loyalty_ledger SET points = points + 1 WHERE shop = $1`, [shop])).rejects.toThrow(/append-only/);
  });
});

describe("cancel after the points were spent (through the pipeline)", () => {
  const policies = [
    { policy: "allow", balance: -50, reversal: -50 },
    { policy: "pending_first", balance: -50, reversal: -50 },
    { policy: "never", balance: 0, reversal: 0 },
  ] as const;

  it.each(policies)("$policy: balance $balance", async ({ policy, balance, reversal }) => {
    const shop = `loyalty-cancel-${policy.replace("_", "-")}.myshopify.com`;
    const cy: CustomerSpec = { id: 5201n, email: `cy.${policy}@example.com` };
    const id = 52001n;
    const placed = iso(ago(10));
    await program(shop, { negativeBalance: policy }, ago(60));
    await send(shop, "orders/create", orderPayload({ id, customer: cy, totalPrice: "50.00", createdAt: placed }));
    expect(await getBalance(shop, customerGid(cy))).toMatchObject({ balance: 50 });
    // A redemption spends the points (written as the redemption increment writes it).
    await insertEntries(getPool(), shop, [
      { customerGid: customerGid(cy), points: -50, kind: "redeem", status: "available", availableAt: ago(5), occurredAt: ago(5), source: "redemption-1", orderGid: null, reason: "$5 off", rule: { cost: 50 }, idempotencyKey: "redeem:redemption-1" },
    ]);
    const cancelled = iso(ago(1));
    await send(shop, "orders/cancelled", orderPayload({ id, customer: cy, totalPrice: "50.00", createdAt: placed, updatedAt: cancelled, cancelledAt: cancelled, financialStatus: "refunded" }));
    // Replaying the step writes nothing more.
    expect((await applyLoyalty(shop, [id], new Date())).entries).toBe(0);
    expect(await getBalance(shop, customerGid(cy))).toEqual({ balance, pending: 0, tier: null });
    const rows = await ledger(shop, customerGid(cy));
    expect(rows.map((r) => [r.kind, r.points])).toEqual([["earn", 50], ["redeem", -50], ["reverse", reversal]]);
    expect(rows[2]!.rule).toMatchObject({ method: "cancel", reversed: 50, forgiven: policy === "never" ? 50 : 0 });
  });
});

describe("rules and tiers", () => {
  it("rule changed between earning and refund: reversed at the earning rule (through the pipeline)", async () => {
    const shop = "loyalty-rule-change.myshopify.com";
    const di: CustomerSpec = { id: 5301n, email: "di.loyalty@example.com" };
    await program(shop, {}, ago(60));
    await send(shop, "orders/create", orderPayload({ id: 53001n, customer: di, totalPrice: "100.00", lines: threeLines(53001n), createdAt: iso(ago(30)) }));
    // Version 2 (5 points per dollar) in force from 20 days ago: later orders earn under it.
    await program(shop, { earn: { pointsPerUnit: 5 } }, ago(20));
    await send(shop, "orders/create", orderPayload({ id: 53002n, customer: di, totalPrice: "10.00", createdAt: iso(ago(10)) }));
    await send(shop, "refunds/create", refundPayload({ id: 5300101n, orderId: 53001n, amount: "30.00", createdAt: iso(ago(5)), lines: [{ lineItemId: 53001n * 10n + 2n, quantity: 1, subtotal: "30.00" }] }));
    const rows = await ledger(shop, customerGid(di));
    expect(rows.map((r) => [r.kind, r.points, (r.rule as { programVersion?: number }).programVersion])).toEqual([
      ["earn", 100, 1],
      ["earn", 50, 2],
      ["reverse", -30, 1],
    ]);
    expect((await getProgram(shop))?.version).toBe(2);
  });

  it("tier transitions, the tier multiplier, and tier tags queued through the tag outbox (controlled clock)", async () => {
    const shop = "loyalty-tiers.myshopify.com";
    const ed: CustomerSpec = { id: 5401n, email: "ed.loyalty@example.com" };
    await program(shop, {
      tiers: {
        metric: "points_earned",
        window: "lifetime",
        levels: [
          { name: "Member", threshold: 0 },
          { name: "Gold", threshold: 150, tag: "crm:gold", multiplier: 2 },
        ],
      },
    });
    const gid = customerGid(ed);
    const place = (id: bigint, day: string) =>
      applyAt(shop, [{ topic: "orders/create", payload: orderPayload({ id, customer: ed, totalPrice: "100.00", createdAt: `2026-02-${day}T10:00:00Z` }) }], at(`2026-02-${day}T11:00:00Z`));
    const refund = (id: bigint, orderId: bigint, day: string) =>
      applyAt(
        shop,
        [{ topic: "refunds/create", payload: refundPayload({ id, orderId, amount: "100.00", createdAt: `2026-02-${day}T10:00:00Z`, lines: [{ lineItemId: orderId * 10n, quantity: 1, subtotal: "100.00" }] }) }],
        at(`2026-02-${day}T11:00:00Z`),
      );
    expect((await place(54001n, "01")).tierChanges).toEqual([{ customerGid: gid, fromTier: null, toTier: "Member", value: 100n }]);
    expect((await place(54002n, "02")).tierChanges).toEqual([{ customerGid: gid, fromTier: "Member", toTier: "Gold", value: 200n }]);
    // Gold earns 2x.
    expect((await place(54003n, "03")).points).toBe(200);
    expect(await getBalance(shop, gid, at("2026-02-04T00:00:00Z"))).toEqual({ balance: 400, pending: 0, tier: "Gold" });

    await runLoyaltyMaintenance({ shop, now: at("2026-02-04T00:00:00Z") });
    const writes = async () =>
      (await getPool().query(`SELECT customer_gid, tag, action::text AS action, source, status::text AS status FROM tag_writes WHERE shop = $1 ORDER BY id`, [shop])).rows;
    expect(await writes()).toEqual([{ customer_gid: gid, tag: "crm:gold", action: "add", source: "tier:Gold", status: "pending" }]);

    // Refunding the 2x order reverses 200 at its own multiplier: 200 points earned remain, still Gold.
    expect((await refund(5400301n, 54003n, "05")).points).toBe(-200);
    expect((await getBalance(shop, gid, at("2026-02-05T11:00:00Z"))).tier).toBe("Gold");
    const down = await refund(5400201n, 54002n, "06");
    expect(down.tierChanges).toEqual([{ customerGid: gid, fromTier: "Gold", toTier: "Member", value: 100n }]);

    // The pending add is no longer wanted: superseded, never sent.
    await runLoyaltyMaintenance({ shop, now: at("2026-02-07T00:00:00Z") });
    expect(await writes()).toEqual([{ customer_gid: gid, tag: "crm:gold", action: "add", source: "tier:Gold", status: "skipped" }]);
    const { rows: changes } = await getPool().query(`SELECT from_tier, to_tier, metric, window_kind, cause FROM loyalty_tier_changes WHERE shop = $1 ORDER BY id`, [shop]);
    expect(changes).toEqual([
      { from_tier: null, to_tier: "Member", metric: "points_earned", window_kind: "lifetime", cause: "order" },
      { from_tier: "Member", to_tier: "Gold", metric: "points_earned", window_kind: "lifetime", cause: "order" },
      { from_tier: "Gold", to_tier: "Member", metric: "points_earned", window_kind: "lifetime", cause: "order" },
    ]);
  });

  it("rolling 12-month net-spend tiers fall with time alone, in the maintenance job (controlled clock)", async () => {
    const shop = "loyalty-rolling.myshopify.com";
    const fa: CustomerSpec = { id: 5501n, email: "fa.loyalty@example.com" };
    await program(shop, { tiers: { metric: "net_spend", window: "rolling_12_months", levels: [{ name: "Insider", threshold: 5000 }] } });
    const placed = await applyAt(shop, [{ topic: "orders/create", payload: orderPayload({ id: 55001n, customer: fa, totalPrice: "60.00", createdAt: "2026-02-01T10:00:00Z" }) }], at("2026-02-01T11:00:00Z"));
    expect(placed.tierChanges.map((c) => c.toTier)).toEqual(["Insider"]);
    expect((await runLoyaltyMaintenance({ shop, now: at("2027-01-31T00:00:00Z") })).tierChanges).toEqual([]);
    const fell = await runLoyaltyMaintenance({ shop, now: at("2027-02-01T10:00:01Z") });
    expect(fell.tierChanges).toEqual([{ customerGid: customerGid(fa), fromTier: "Insider", toTier: null, value: 0n }]);
  });
});

describe("expiry, bonuses and adjustments", () => {
  it("expires points after inactivity, known in advance, once (controlled clock)", async () => {
    const shop = "loyalty-expiry.myshopify.com";
    const gi: CustomerSpec = { id: 5601n, email: "gi.loyalty@example.com" };
    await program(shop, { expiry: { inactivityDays: 30 } });
    await applyAt(shop, [{ topic: "orders/create", payload: orderPayload({ id: 56001n, customer: gi, totalPrice: "80.00", createdAt: "2026-02-01T10:00:00Z" }) }], at("2026-02-01T11:00:00Z"));
    expect(await getExpiryOutlook(shop, customerGid(gi))).toEqual({ lastActivityAt: at("2026-02-01T10:00:00Z"), expiresAt: at("2026-03-03T10:00:00Z"), points: 80 });
    expect((await runLoyaltyMaintenance({ shop, now: at("2026-03-03T09:00:00Z") })).expired).toEqual({ customers: 0, points: 0 });
    expect((await runLoyaltyMaintenance({ shop, now: at("2026-03-04T00:00:00Z") })).expired).toEqual({ customers: 1, points: 80 });
    expect((await runLoyaltyMaintenance({ shop, now: at("2026-03-05T00:00:00Z") })).expired).toEqual({ customers: 0, points: 0 });
    expect(await getBalance(shop, customerGid(gi), at("2026-03-05T00:00:00Z"))).toMatchObject({ balance: 0 });
    // New activity starts a new period.
    await applyAt(shop, [{ topic: "orders/create", payload: orderPayload({ id: 56002n, customer: gi, totalPrice: "10.00", createdAt: "2026-04-01T10:00:00Z" }) }], at("2026-04-01T11:00:00Z"));
    expect(await getBalance(shop, customerGid(gi), at("2026-04-01T11:00:00Z"))).toMatchObject({ balance: 10 });
  });

  it("first-order and account-creation bonuses are given once, by the worker (through the pipeline)", async () => {
    const shop = "loyalty-bonuses.myshopify.com";
    const hu: CustomerSpec = { id: 5701n, email: "hu.loyalty@example.com", createdAt: iso(ago(10)), updatedAt: iso(ago(10)) };
    const gid = customerGid(hu);
    await program(shop, { bonuses: { firstOrder: 25, signup: 10 } }, ago(60));
    await send(shop, "customers/create", customerPayload(hu));
    expect((await ledger(shop, gid)).map((r) => [r.kind, r.points, r.idempotencyKey])).toEqual([["bonus", 10, `bonus:signup:${gid}`]]);
    // The customer again (an update, and the create re-sent under a new webhook id), and the step replayed: nothing more.
    await send(shop, "customers/update", customerPayload({ ...hu, firstName: "Hugo", updatedAt: iso(ago(9)) }));
    await send(shop, "customers/create", customerPayload(hu));
    expect((await withTransaction((db) => applyLoyaltyForCustomers(db, shop, [gid]))).entries).toBe(0);
    expect(await entryCount(shop)).toBe(1);

    // A customer created before the program existed gets no account-creation bonus.
    const old: CustomerSpec = { id: 5702n, email: "old.loyalty@example.com", createdAt: iso(ago(90)), updatedAt: iso(ago(2)) };
    await send(shop, "customers/update", customerPayload(old));
    expect(await ledger(shop, customerGid(old))).toEqual([]);

    // The second order arrives first: the bonus comes with the first order stored; never twice.
    await send(shop, "orders/create", orderPayload({ id: 57002n, customer: hu, totalPrice: "20.00", createdAt: iso(ago(4)) }));
    await send(shop, "orders/create", orderPayload({ id: 57001n, customer: hu, totalPrice: "10.00", createdAt: iso(ago(5)) }));
    const rows = await ledger(shop, gid);
    expect(rows.map((r) => [r.kind, r.points, r.idempotencyKey])).toEqual([
      ["bonus", 10, `bonus:signup:${gid}`],
      ["earn", 20, `earn:${orderGid(57002n)}`],
      ["bonus", 25, `bonus:first_order:${gid}`],
      ["earn", 10, `earn:${orderGid(57001n)}`],
    ]);
    expect(rows[0]).toMatchObject({ occurredAt: iso(ago(10)), source: gid });
  });

  it("staff adjustments: audited, idempotent, and refused when they would overdraw", async () => {
    const shop = "loyalty-adjust.myshopify.com";
    const io: CustomerSpec = { id: 5801n, email: "io.loyalty@example.com" };
    const gid = customerGid(io);
    await expect(adjustPoints({ shop, customerGid: gid, points: 5, reason: "x", actor: "a" })).rejects.toMatchObject({ kind: "not_found" });
    await program(shop, {});
    await send(shop, "customers/create", customerPayload(io));
    const first = await adjustPoints({ shop, customerGid: gid, points: 25, reason: "Late delivery goodwill", actor: "staff@example.com", idempotencyKey: "ticket-77" });
    expect(first).toEqual({ created: true, idempotencyKey: "adjust:ticket-77", points: 25, balance: 25 });
    expect(await adjustPoints({ shop, customerGid: gid, points: 25, reason: "Late delivery goodwill", actor: "staff@example.com", idempotencyKey: "ticket-77" })).toMatchObject({ created: false, balance: 25 });
    await expect(adjustPoints({ shop, customerGid: gid, points: 30, reason: "other", actor: "staff@example.com", idempotencyKey: "ticket-77" })).rejects.toMatchObject({ kind: "conflict" });
    await expect(adjustPoints({ shop, customerGid: gid, points: -26, reason: "Typo", actor: "staff@example.com" })).rejects.toThrow(/balance of -1/);
    await expect(adjustPoints({ shop, customerGid: gid, points: 0, reason: "Nothing", actor: "staff@example.com" })).rejects.toThrow(/0 points/);
    await expect(adjustPoints({ shop, customerGid: gid, points: 3, reason: " ", actor: "staff@example.com" })).rejects.toThrow(/reason is required/);
    await expect(adjustPoints({ shop, customerGid: "gid://shopify/Customer/999999", points: 3, reason: "r", actor: "s" })).rejects.toBeInstanceOf(LoyaltyError);
    expect(await getBalance(shop, gid)).toMatchObject({ balance: 25 });
    const { rows } = await getPool().query(`SELECT actor, action, subject, details FROM audit_log WHERE shop = $1 ORDER BY id`, [shop]);
    expect(rows.map((r) => r.action)).toEqual(["loyalty.program_saved", "loyalty.points_adjusted"]);
    expect(rows[1]).toMatchObject({ actor: "staff@example.com", subject: gid, details: { points: 25, reason: "Late delivery goodwill", balanceAfter: 25 } });
  });

  it("program settings: validation errors name the field; a stale save is a conflict", async () => {
    const shop = "loyalty-settings.myshopify.com";
    const invalid = await saveProgram({ shop, settings: { earn: { pointsPerUnit: -1 } }, actor: "owner" }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(LoyaltyError);
    expect((invalid as LoyaltyError).errors).toEqual([{ path: "earn.pointsPerUnit", message: "earn.pointsPerUnit cannot be negative" }]);
    await program(shop, {});
    await expect(saveProgram({ shop, settings: { earn: { pointsPerUnit: 2 } }, actor: "owner", expectedVersion: null })).rejects.toMatchObject({ kind: "conflict" });
    expect((await saveProgram({ shop, settings: { earn: { pointsPerUnit: 2 } }, actor: "owner", expectedVersion: 1 })).version).toBe(2);
  });
});

describe("concurrency: batches touching the same customer", () => {
  it("concurrent batches with overlapping and duplicate events award and reverse exactly once", async () => {
    const shop = "loyalty-concurrency.myshopify.com";
    const jo: CustomerSpec = { id: 5901n, email: "jo.loyalty@example.com" };
    await program(shop, { bonuses: { firstOrder: 7 }, negativeBalance: "allow" });
    await withTransaction((db) => ensureShop(db, shop));
    const ids = Array.from({ length: 12 }, (_, i) => 59001n + BigInt(i));
    // Each order: 2 units at $(10 + i); each refund returns 1 unit (so the first-order bonus stays, whichever order gets it).
    const orderEvent = (id: bigint, i: number): CrmEvent => {
      const payload = orderPayload({ id, customer: jo, totalPrice: `${20 + 2 * i}.00`, lines: [{ price: `${10 + i}.00`, quantity: 2 }], createdAt: `2026-02-${String(1 + i).padStart(2, "0")}T10:00:00Z` });
      const mapped = mapWebhook("orders/create", toBody(payload));
      if (!mapped.ok) throw new Error(mapped.reason);
      return mapped.event;
    };
    const refundEvent = (id: bigint, orderId: bigint, amount: string): CrmEvent => {
      const mapped = mapWebhook("refunds/create", toBody(refundPayload({ id, orderId, amount, createdAt: "2026-03-01T10:00:00Z", lines: [{ lineItemId: orderId * 10n, quantity: 1, subtotal: amount }] })));
      if (!mapped.ok) throw new Error(mapped.reason);
      return mapped.event;
    };
    const orders = ids.map(orderEvent);
    const refunds = [refundEvent(5900101n, ids[0]!, "10.00"), refundEvent(5900501n, ids[4]!, "14.00")];
    // What the worker does with a batch: apply, then the loyalty step, in one transaction (here at a fixed clock).
    const batch = (events: CrmEvent[]) =>
      withTransaction(async (db) => {
        await applyCrmBatch(db, shop, events.map((event, n) => ({ inboxId: String(n), event, eventTime: at("2026-03-02T00:00:00Z") })));
        return applyLoyaltyForOrders(db, shop, loyaltyOrderGids(events), { now: at("2026-03-02T00:00:00Z") });
      });
    // Four batches at once: every order in two of them, refunds in two, some refunds before their order.
    const results = await Promise.all([
      batch([...orders.slice(0, 8), refunds[0]!]),
      batch([refunds[1]!, ...orders.slice(4, 12)]),
      batch([...orders.slice(8, 12), ...orders.slice(0, 4), refunds[0]!]),
      batch([refunds[1]!, ...orders.slice(4, 8)]),
    ]);
    // A staff adjustment racing with a replayed batch.
    await Promise.all([batch([...orders, ...refunds]), adjustPoints({ shop, customerGid: customerGid(jo), points: 3, reason: "race", actor: "staff" }, { now: at("2026-03-02T00:00:00Z") })]);
    const rows = await ledger(shop, customerGid(jo));
    const earns = rows.filter((r) => r.kind === "earn");
    expect(earns.map((r) => r.idempotencyKey).sort()).toEqual(ids.map((id) => `earn:${orderGid(id)}`).sort());
    expect(new Set(rows.map((r) => r.idempotencyKey)).size).toBe(rows.length);
    const earned = ids.reduce((s, _, i) => s + 20 + 2 * i, 0);
    expect(rows.filter((r) => r.kind === "bonus")).toHaveLength(1);
    expect(rows.filter((r) => r.kind === "reverse").map((r) => r.points).sort((a, b) => a - b)).toEqual([-14, -10]);
    expect(results.reduce((s, r) => s + r.entries, 0)).toBe(12 + 1 + 2);
    expect(await getBalance(shop, customerGid(jo), at("2026-03-02T00:00:00Z"))).toEqual({ balance: earned + 7 - 24 + 3, pending: 0, tier: null });
  });

  it("the loyalty step alone, run by six transactions at once for the same orders, writes each entry once", async () => {
    // Without the apply's own customer locks: the loyalty step's lock is what serialises them.
    const shop = "loyalty-concurrency-2.myshopify.com";
    const ka: CustomerSpec = { id: 5902n, email: "ka.loyalty@example.com" };
    await program(shop, { bonuses: { firstOrder: 5 } });
    const ids = [59101n, 59102n, 59103n];
    // The orders and the refund are stored without the loyalty step (the worker would run it itself).
    await storeOnly(
      shop,
      [
        ...ids.map((id, i) => ({ topic: "orders/create", payload: orderPayload({ id, customer: ka, totalPrice: `${10 * (i + 1)}.00`, lines: [{ price: `${5 * (i + 1)}.00`, quantity: 2 }], createdAt: `2026-02-0${i + 1}T10:00:00Z` }) })),
        { topic: "refunds/create", payload: refundPayload({ id: 5910101n, orderId: ids[0]!, amount: "5.00", createdAt: "2026-02-05T10:00:00Z", lines: [{ lineItemId: ids[0]! * 10n, quantity: 1, subtotal: "5.00" }] }) },
      ],
      at("2026-02-05T11:00:00Z"),
    );
    expect(await entryCount(shop)).toBe(0);
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => applyLoyalty(shop, ids, at("2026-02-06T00:00:00Z"))));
    expect(outcomes.map((o) => o.status)).toEqual(Array(6).fill("fulfilled"));
    expect(outcomes.reduce((s, o) => s + (o.status === "fulfilled" ? o.value.entries : 0), 0)).toBe(3 + 1 + 1);
    expect(await getBalance(shop, customerGid(ka), at("2026-02-06T00:00:00Z"))).toEqual({ balance: 60 + 5 - 5, pending: 0, tier: null });
  });
});
