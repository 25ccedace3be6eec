// Loyalty rewards and redemption (issue 5) against the Shopify twin (in this process, behind
// a fault-injecting proxy at the network edge) and real PostgreSQL: each reward kind issues a
// single-use code for the customer, refusals and outages give the points back, recovery
// settles redemptions a dead process left pending, and twenty simultaneous redemptions of
// one customer spend the points once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeDb, getPool, withTransaction } from "../../app/db.server";
import { adjustPoints } from "../../app/services/loyalty/adjust.server";
import { getBalance } from "../../app/services/loyalty/balance.server";
import { LoyaltyError } from "../../app/services/loyalty/errors";
import { saveProgram } from "../../app/services/loyalty/program.server";
import { affordableRewards, listRedemptions, listRewards, recoverPendingRedemptions, redeemReward, type Redemption } from "../../app/services/loyalty/rewards.server";
import { insertEntries } from "../../app/services/loyalty/store.server";
import { redactCustomer } from "../../app/services/privacy.server";
import { closeQueues } from "../../app/queues.server";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { runCli, spawnChild, TSX } from "../support/pipeline";
import { startAdminTwin, type AdminTwin } from "../twin/admin-graphql";
import { loadRealSchema } from "../twin/schema-subset";
import { generateStore } from "../twin/store-generator";
import { SHARED_PRESENT, SKIP_REASON } from "../contract/conformance";
import { coerceLoggedVariables } from "../contract/variables-coerce";
import { RedemptionProxy, twinDiscountByCode, twinDiscountsOf } from "./loyalty-rewards.support";
import { seedLocalCustomers, storeOfflineSession, TOKEN } from "./tag-sync.support";

const SHOP = "loyalty-rewards.myshopify.com";
const OTHER_SHOP = "loyalty-rewards-none.myshopify.com";
const DAY = 24 * 60 * 60 * 1000;

const REWARDS = [
  { id: "five-off", name: "$5 off", kind: "fixed_amount", value: "5.00", pointsCost: 500, minimumOrder: "25.00" },
  { id: "fifteen-pct", name: "15% off", kind: "percentage", value: 15, pointsCost: 1000, validityDays: 7 },
  { id: "ship", name: "Free shipping", kind: "free_shipping", pointsCost: 300, validityDays: 60 },
];

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let cliEnv: NodeJS.ProcessEnv;
let twin: AdminTwin;
let proxy: RedemptionProxy;
let gids: string[];
let next = 0;
/** A customer of the twin no other test touches. */
const freshCustomer = () => gids[next++]!;

/** Every Admin GraphQL request the app sends in this file (checked against the real schema last). */
const REQUEST_LOG = join(mkdtempSync(join(tmpdir(), "loyalty-rewards-")), "admin-requests.jsonl");

beforeAll(async () => {
  twin = await startAdminTwin({ accessTokens: { [SHOP]: TOKEN }, requestLog: REQUEST_LOG });
  twin.shop(SHOP).loadStore(generateStore({ seed: 5, customers: 80, shopDomain: SHOP }), { maxOrders: 0 });
  gids = twin.shop(SHOP).sortedIds("customers").map((id) => `gid://shopify/Customer/${id}`);
  proxy = new RedemptionProxy(twin);
  await proxy.listen();
  env = await useIntegrationEnv({ SHOPIFY_TWIN_URL: proxy.url });
  cliEnv = childProcessEnv();
  await storeOfflineSession(SHOP);
  await seedLocalCustomers(SHOP, gids);
  await seedLocalCustomers(OTHER_SHOP, gids.slice(0, 2));
  await saveProgram({ shop: SHOP, settings: { earn: { pointsPerUnit: 1 }, rewards: REWARDS }, actor: "owner", now: new Date(Date.now() - DAY) });
});

afterAll(async () => {
  expect(proxy?.errors ?? []).toEqual([]);
  await proxy?.close();
  await twin?.close();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

async function withPoints(points: number): Promise<string> {
  const gid = freshCustomer();
  await adjustPoints({ shop: SHOP, customerGid: gid, points, reason: "test points", actor: "test" });
  return gid;
}

async function ledgerOf(gid: string) {
  const { rows } = await getPool().query<{ kind: string; points: number; idempotency_key: string; source: string }>(
    `SELECT kind::text AS kind, points, idempotency_key, source FROM loyalty_ledger WHERE shop = $1 AND customer_gid = $2 ORDER BY id`,
    [SHOP, gid],
  );
  return rows;
}

async function redemptionRows(gid: string) {
  const { rows } = await getPool().query<{ id: string; status: string; code: string | null; discount_gid: string | null; failure_reason: string | null; attempts: number }>(
    `SELECT id, status::text AS status, code, discount_gid, failure_reason, attempts FROM loyalty_redemptions WHERE shop = $1 AND customer_gid = $2 ORDER BY id`,
    [SHOP, gid],
  );
  return rows;
}

async function expectLoyaltyError(promise: Promise<unknown>, kind: LoyaltyError["kind"], message: RegExp | string) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LoyaltyError);
  expect((error as LoyaltyError).kind).toBe(kind);
  expect((error as LoyaltyError).message).toMatch(message);
}

const seconds = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

describe("issuing codes", () => {
  it.each([
    ["five-off", { amount: "5.00", appliesOnEachItem: false }, { subtotal: "25.00" }, 30, 500],
    ["fifteen-pct", { percentage: 0.15 }, null, 7, 1000],
    ["ship", null, null, 60, 300],
  ] as const)("%s: a single-use code for the customer, with the reward's value and expiry, and one debit", async (rewardId, value, minimum, days, cost) => {
    const gid = await withPoints(1200);
    const now = new Date();
    const redemption = await redeemReward({ shop: SHOP, customerGid: gid, rewardId });
    expect(redemption).toMatchObject({ status: "issued", rewardId, points: cost, failureReason: null });
    expect(redemption.code).toMatch(/^PTS-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/);

    const discount = twinDiscountByCode(twin, SHOP, redemption.code!)!;
    expect(discount).toBeDefined();
    expect(discount.kind).toBe(rewardId === "ship" ? "DiscountCodeFreeShipping" : "DiscountCodeBasic");
    expect(discount.context).toEqual({ customers: [gid.split("/").pop()] });
    expect(discount.usageLimit).toBe(1);
    expect(discount.appliesOncePerCustomer).toBe(true);
    expect(discount.minimumRequirement).toEqual(minimum);
    if (value) expect(discount.customerGets?.value).toEqual(value);
    if (value) expect(discount.customerGets?.items).toEqual({ all: true });
    if (!value) expect(discount.destination).toEqual({ all: true });
    expect(Math.abs(Date.parse(discount.startsAt) - now.getTime())).toBeLessThan(5_000);
    expect(Date.parse(discount.endsAt!) - Date.parse(discount.startsAt)).toBe(days * DAY);
    expect(seconds(redemption.expiresAt!)).toBe(discount.endsAt);
    expect(discount.title).toContain(`[redemption ${redemption.id}]`);
    expect(twinDiscountsOf(twin, SHOP, gid)).toHaveLength(1);

    const rows = await redemptionRows(gid);
    expect(rows).toEqual([{ id: redemption.id, status: "issued", code: redemption.code, discount_gid: `gid://shopify/DiscountCodeNode/${discount.id}`, failure_reason: null, attempts: 1 }]);
    expect(await ledgerOf(gid)).toEqual([
      expect.objectContaining({ kind: "adjust", points: 1200 }),
      { kind: "redeem", points: -cost, idempotency_key: `redeem:${redemption.id}`, source: `redemption:${redemption.id}` },
    ]);
    expect((await getBalance(SHOP, gid)).balance).toBe(1200 - cost);
    expect(await listRedemptions(SHOP, gid)).toEqual([redemption]);
  });

  it("lists the rewards and which ones the spendable balance affords (pending points do not count)", async () => {
    const gid = await withPoints(600);
    const soon = new Date(Date.now() + 5 * DAY);
    await insertEntries(getPool(), SHOP, [
      { customerGid: gid, points: 900, kind: "bonus", status: "pending", availableAt: soon, occurredAt: new Date(), source: "test", orderGid: null, reason: "pending", rule: {}, idempotencyKey: `test:pending:${gid}` },
    ]);
    expect((await listRewards(SHOP)).map((r) => r.id)).toEqual(["five-off", "fifteen-pct", "ship"]);
    const { balance, rewards } = await affordableRewards(SHOP, gid);
    expect(balance).toBe(600);
    expect(rewards.map((r) => [r.id, r.affordable])).toEqual([
      ["five-off", true],
      ["fifteen-pct", false],
      ["ship", true],
    ]);
    await expectLoyaltyError(redeemReward({ shop: SHOP, customerGid: gid, rewardId: "fifteen-pct" }), "conflict", /600 spendable, 1000 needed.*900 more pending/);
    expect(await listRewards(OTHER_SHOP)).toEqual([]);
    expect(await affordableRewards(OTHER_SHOP, gids[0]!)).toEqual({ balance: 0, rewards: [] });
  });
});

describe("refusals and bad input lose nothing", () => {
  it("not enough points: a conflict that says how many it has and needs; nothing debited, nothing created", async () => {
    const gid = await withPoints(499);
    const before = proxy.count(/DiscountCode/);
    await expectLoyaltyError(redeemReward({ shop: SHOP, customerGid: gid, rewardId: "five-off" }), "conflict", 'not enough points for "$5 off": 499 spendable, 500 needed');
    expect(await ledgerOf(gid)).toHaveLength(1);
    expect(await redemptionRows(gid)).toEqual([]);
    expect(proxy.count(/DiscountCode/)).toBe(before);
  });

  it.each([
    [{ rewardId: "nope" }, "invalid", 'unknown reward "nope"'],
    [{ rewardId: "" }, "invalid", "rewardId is required"],
    [{ customerGid: "12345" }, "invalid", "customer must be a customer gid"],
    [{ customerGid: "gid://shopify/Customer/999999" }, "not_found", "customer gid://shopify/Customer/999999 not found"],
    [{ shop: OTHER_SHOP }, "invalid", `${OTHER_SHOP} has no loyalty program`],
    [{ shop: "not a shop" }, "invalid", "shop must be a *.myshopify.com domain"],
    [{ requestKey: " " }, "invalid", "requestKey cannot be blank"],
  ] as const)("%j -> %s", async (change, kind, message) => {
    const gid = await withPoints(2000);
    await expectLoyaltyError(redeemReward({ shop: SHOP, customerGid: gid, rewardId: "five-off", ...change }), kind, message);
    expect(await ledgerOf(gid)).toHaveLength(1);
    expect(await redemptionRows(gid)).toEqual([]);
  });

  it("Shopify refuses the discount (userErrors): failed, the reason recorded, the points given back", async () => {
    const gid = await withPoints(800);
    proxy.refuseNextDiscount([{ field: ["basicCodeDiscount", "endsAt"], message: "Ends at needs to be after starts_at", code: "INVALID" }]);
    const redemption = await redeemReward({ shop: SHOP, customerGid: gid, rewardId: "five-off" });
    expect(redemption).toEqual({
      id: expect.any(String),
      status: "failed",
      rewardId: "five-off",
      points: 500,
      code: null,
      expiresAt: null,
      failureReason: "Shopify refused the discount: basicCodeDiscount.endsAt: Ends at needs to be after starts_at (INVALID)",
    });
    expect(twinDiscountsOf(twin, SHOP, gid)).toEqual([]);
    expect((await ledgerOf(gid)).map((e) => [e.kind, e.points, e.idempotency_key])).toEqual([
      ["adjust", 800, expect.any(String)],
      ["redeem", -500, `redeem:${redemption.id}`],
      ["refund_redeem", 500, `refund_redeem:${redemption.id}`],
    ]);
    expect((await getBalance(SHOP, gid)).balance).toBe(800);
  });

  it("a code another discount already has: a new code is generated and the reward issued", async () => {
    const gid = await withPoints(500);
    proxy.refuseNextDiscount([{ field: ["basicCodeDiscount", "code"], message: "Code must be unique. Please try a different code.", code: "TAKEN" }]);
    const lookups = proxy.count(/CodeDiscountNodeByCode/);
    const redemption = await redeemReward({ shop: SHOP, customerGid: gid, rewardId: "five-off" });
    expect(redemption.status).toBe("issued");
    expect(proxy.count(/CodeDiscountNodeByCode/)).toBe(lookups + 1);
    expect(twinDiscountsOf(twin, SHOP, gid).map((d) => d.codes[0]!.code)).toEqual([redemption.code]);
    expect((await redemptionRows(gid))[0]!.attempts).toBe(2);
  });
});

describe("outages and crashes", () => {
  it("transient failures (HTTP 503) are retried with backoff, then the code is issued once", async () => {
    const gid = await withPoints(500);
    const creates = proxy.count(/DiscountCodeBasicCreate/);
    proxy.failNext(2, 503);
    const redemption = await redeemReward({ shop: SHOP, customerGid: gid, rewardId: "five-off" });
    expect(redemption.status).toBe("issued");
    expect(proxy.count(/DiscountCodeBasicCreate/)).toBe(creates + 3);
    expect(twinDiscountsOf(twin, SHOP, gid)).toHaveLength(1);
    expect((await ledgerOf(gid)).filter((e) => e.kind === "redeem")).toHaveLength(1);
  });

  it("a lost answer (Shopify created the code, the connection dropped) is recognised by the title on the retry", async () => {
    const gid = await withPoints(500);
    // The first create reaches the twin but the connection is reset before the answer; the
    // client retries with the same code, gets TAKEN and finds its own discount by the title.
    const lookups = proxy.count(/CodeDiscountNodeByCode/);
    const lost = proxy.resetAfterNext(/DiscountCodeBasicCreate/);
    const redemption = await redeemReward({ shop: SHOP, customerGid: gid, rewardId: "five-off" });
    await lost;
    expect(redemption.status).toBe("issued");
    expect(proxy.count(/CodeDiscountNodeByCode/)).toBe(lookups + 1);
    expect(twinDiscountsOf(twin, SHOP, gid)).toHaveLength(1);
    expect(twinDiscountsOf(twin, SHOP, gid)[0]!.codes[0]!.code).toBe(redemption.code);
    expect((await ledgerOf(gid)).filter((e) => e.kind === "refund_redeem")).toEqual([]);
  });

  it("Shopify unreachable: `unavailable`, the redemption stays pending with the points held; recovery later gives them back", async () => {
    const gid = await withPoints(500);
    proxy.setDown(503);
    await expectLoyaltyError(redeemReward({ shop: SHOP, customerGid: gid, rewardId: "five-off" }, { retry: { backoffMs: 5 } }), "unavailable", /will be settled when it can be checked/);
    const [row] = await redemptionRows(gid);
    expect(row).toMatchObject({ status: "pending", discount_gid: null });
    expect((await getBalance(SHOP, gid)).balance).toBe(0);
    expect((await listRedemptions(SHOP, gid))[0]).toMatchObject({ status: "pending", code: null });

    // Still unreachable: recovery keeps it pending.
    expect(await recoverPendingRedemptions(SHOP, 0, { retry: { backoffMs: 5 } })).toMatchObject({ stillPending: 1, issued: 0, failed: 0 });
    proxy.setDown(null);
    // Back: the code was never created -> failed and credited.
    expect(await recoverPendingRedemptions(SHOP, 0)).toMatchObject({ checked: 1, failed: 1, stillPending: 0 });
    expect(await redemptionRows(gid)).toEqual([expect.objectContaining({ status: "failed", failure_reason: expect.stringContaining("not created in Shopify") })]);
    expect((await getBalance(SHOP, gid)).balance).toBe(500);
    // A second run finds nothing and credits nothing again.
    expect(await recoverPendingRedemptions(SHOP, 0)).toEqual({ checked: 0, issued: 0, failed: 0, stillPending: 0, voided: 0 });
    expect((await ledgerOf(gid)).filter((e) => e.kind === "refund_redeem")).toHaveLength(1);
  });

  it.each([
    ["before Shopify got the request", "failed", false, 500],
    ["after Shopify created the code, before the app recorded it", "issued", true, 0],
  ] as const)("the process dies %s: recovery settles it %s", async (_when, status, forward, balanceAfter) => {
    const gid = await withPoints(500);
    const held = proxy.holdNext(/LoyaltyDiscountCodeBasicCreate/, forward);
    const child = spawnChild(TSX, ["app/cli/crm.ts", "loyalty", "redeem", "--shop", SHOP, "--customer", gid, "--reward", "five-off"], cliEnv);
    await held;
    child.killGroup("SIGKILL");
    await child.exited;
    const [row] = await redemptionRows(gid);
    expect(row).toMatchObject({ status: "pending" });
    expect((await getBalance(SHOP, gid)).balance).toBe(0);
    expect(twinDiscountsOf(twin, SHOP, gid)).toHaveLength(forward ? 1 : 0);

    // Not yet old enough: left alone (a live redemption is never settled from under its caller).
    expect(await recoverPendingRedemptions(SHOP, 60_000)).toMatchObject({ checked: 0 });
    const report = await recoverPendingRedemptions(SHOP, 0);
    expect(report).toMatchObject({ checked: 1, [status]: 1 });
    const [settled] = await listRedemptions(SHOP, gid);
    expect(settled!.status).toBe(status);
    if (forward) expect(settled!.code).toBe(twinDiscountsOf(twin, SHOP, gid)[0]!.codes[0]!.code);
    expect((await getBalance(SHOP, gid)).balance).toBe(balanceAfter);
    expect(twinDiscountsOf(twin, SHOP, gid)).toHaveLength(forward ? 1 : 0);
  }, 60_000);
});

describe("races and retries", () => {
  it("twenty simultaneous redemptions with points for one: one code, one debit, nineteen conflicts", async () => {
    const gid = await withPoints(500);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => redeemReward({ shop: SHOP, customerGid: gid, rewardId: "five-off" })));
    const issued = results.filter((r): r is PromiseFulfilledResult<Redemption> => r.status === "fulfilled");
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(issued).toHaveLength(1);
    expect(issued[0]!.value.status).toBe("issued");
    expect(refused).toHaveLength(19);
    for (const r of refused) {
      expect(r.reason).toBeInstanceOf(LoyaltyError);
      expect((r.reason as LoyaltyError).kind).toBe("conflict");
      expect((r.reason as LoyaltyError).message).toContain("0 spendable, 500 needed");
    }
    expect(twinDiscountsOf(twin, SHOP, gid)).toHaveLength(1);
    expect((await ledgerOf(gid)).filter((e) => e.kind === "redeem")).toHaveLength(1);
    expect(await redemptionRows(gid)).toHaveLength(1);
    expect((await getBalance(SHOP, gid)).balance).toBe(0);
  });

  it("a redemption whose clock is behind the previous debit still sees that debit (no double spend across clocks)", async () => {
    // The benchmark found it: a call that read the clock before waiting for the lock saw the
    // debit written meanwhile as dated in the future, so not yet taken from the balance.
    const gid = freshCustomer();
    const dayAgo = new Date(Date.now() - DAY);
    await insertEntries(getPool(), SHOP, [
      { customerGid: gid, points: 500, kind: "adjust", status: "available", availableAt: dayAgo, occurredAt: dayAgo, source: "staff:test", orderGid: null, reason: "old points", rule: {}, idempotencyKey: `test:old:${gid}` },
    ]);
    const first = await redeemReward({ shop: SHOP, customerGid: gid, rewardId: "five-off" });
    expect(first.status).toBe("issued");
    await expectLoyaltyError(redeemReward({ shop: SHOP, customerGid: gid, rewardId: "five-off", now: new Date(Date.now() - 60_000) }), "conflict", "0 spendable, 500 needed");
    expect((await affordableRewards(SHOP, gid)).balance).toBe(0);
    expect(twinDiscountsOf(twin, SHOP, gid)).toHaveLength(1);
  });

  it("a repeated requestKey returns the same redemption, concurrently or later: one code, one debit", async () => {
    const gid = await withPoints(5000);
    const requestKey = "storefront-click-1";
    const [a, b] = await Promise.all([
      redeemReward({ shop: SHOP, customerGid: gid, rewardId: "five-off", requestKey }),
      redeemReward({ shop: SHOP, customerGid: gid, rewardId: "five-off", requestKey }),
    ]);
    const c = await redeemReward({ shop: SHOP, customerGid: gid, rewardId: "five-off", requestKey });
    expect(a.status).toBe("issued");
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(twinDiscountsOf(twin, SHOP, gid)).toHaveLength(1);
    expect((await ledgerOf(gid)).filter((e) => e.kind === "redeem")).toHaveLength(1);
    // The same key for another reward is a mistake, not a new redemption.
    await expectLoyaltyError(redeemReward({ shop: SHOP, customerGid: gid, rewardId: "ship", requestKey }), "conflict", 'requestKey storefront-click-1 was used for another reward ("five-off")');
    // Another key is another redemption.
    const d = await redeemReward({ shop: SHOP, customerGid: gid, rewardId: "five-off", requestKey: "storefront-click-2" });
    expect(d.id).not.toBe(a.id);
    expect((await listRedemptions(SHOP, gid)).map((r) => r.id)).toEqual([d.id, a.id]);
  });
});

describe("customers/redact while a redemption waits on Shopify (decision 038, 041)", () => {
  async function heldAbout(gid: string) {
    const { rows } = await getPool().query<{ place: string; n: number }>(
      `SELECT 'ledger' AS place, count(*)::int AS n FROM loyalty_ledger WHERE shop = $1 AND customer_gid = $2
       UNION ALL SELECT 'redemptions', count(*)::int FROM loyalty_redemptions WHERE shop = $1 AND customer_gid = $2
       UNION ALL SELECT 'tier changes', count(*)::int FROM loyalty_tier_changes WHERE shop = $1 AND customer_gid = $2
       UNION ALL SELECT 'ledger text', count(*)::int FROM loyalty_ledger WHERE shop = $1 AND (reason LIKE '%' || $3 || '%' OR source LIKE '%' || $3 || '%' OR rule::text LIKE '%' || $3 || '%')`,
      [SHOP, gid, gid.split("/").pop()],
    );
    return Object.fromEntries(rows.map((r) => [r.place, r.n]));
  }

  it.each([
    ["Shopify creates the code", false],
    ["Shopify refuses the code", true],
  ] as const)("%s after the redaction: the redemption is voided cleanly, nothing of the customer is left", async (_what, refuse) => {
    const gid = await withPoints(500);
    const paused = proxy.pauseNext(/DiscountCodeBasicCreate/);
    if (refuse) proxy.refuseNextDiscount([{ field: ["basicCodeDiscount", "title"], message: "Title is invalid", code: "INVALID" }]);
    const redeeming = redeemReward({ shop: SHOP, customerGid: gid, rewardId: "five-off" }).then(
      (redemption) => ({ redemption, error: null }),
      (error: unknown) => ({ redemption: null, error }),
    );
    await paused.arrived;
    // The points are debited and the redemption pending when the redaction commits.
    expect(await redemptionRows(gid)).toEqual([expect.objectContaining({ status: "pending" })]);
    await withTransaction((db) => redactCustomer(db, { shop: SHOP, customerGid: gid, orderLegacyIds: [], inboxId: "0" }));
    paused.release();

    const { redemption, error } = await redeeming;
    expect(redemption).toBeNull();
    expect(error).toBeInstanceOf(LoyaltyError);
    expect((error as LoyaltyError).kind).toBe("not_found");
    expect((error as LoyaltyError).message).toMatch(/voided: the customer was redacted/);
    expect((error as LoyaltyError).message).not.toContain(gid.split("/").pop()!);
    // Nothing about the person: no redemption, no ledger entry linked or naming it (the debit
    // stays as an anonymous amount, no credit is written back to a person that is gone).
    expect(await heldAbout(gid)).toEqual({ ledger: 0, redemptions: 0, "tier changes": 0, "ledger text": 0 });
    // Nothing left for recovery to settle.
    expect(await recoverPendingRedemptions(SHOP, 0)).toMatchObject({ checked: 0 });
  });

  it("recovery settling a pending redemption when the redaction commits: voided, the other rows still settled", async () => {
    const gid = await withPoints(500);
    const other = await withPoints(500);
    proxy.setDown(503);
    for (const customerGid of [gid, other]) {
      await expectLoyaltyError(redeemReward({ shop: SHOP, customerGid, rewardId: "five-off" }, { retry: { backoffMs: 5 } }), "unavailable", /will be settled/);
    }
    proxy.setDown(null);
    // Recovery takes both rows, then waits on Shopify's answer about the first one's code.
    const paused = proxy.pauseNext(/CodeDiscountNodeByCode/);
    const recovering = recoverPendingRedemptions(SHOP, 0);
    await paused.arrived;
    await withTransaction((db) => redactCustomer(db, { shop: SHOP, customerGid: gid, orderLegacyIds: [], inboxId: "0" }));
    paused.release();
    expect(await recovering).toEqual({ checked: 2, issued: 0, failed: 1, stillPending: 0, voided: 1 });
    expect(await heldAbout(gid)).toEqual({ ledger: 0, redemptions: 0, "tier changes": 0, "ledger text": 0 });
    expect((await getBalance(SHOP, other)).balance).toBe(500);
  });
});

describe("crm loyalty redeem", () => {
  it("prints the redemption as JSON", async () => {
    const gid = await withPoints(300);
    const { code, stdout, stderr } = await runCli(["loyalty", "redeem", "--shop", SHOP, "--customer", gid.split("/").pop()!, "--reward", "ship"], cliEnv);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const printed = JSON.parse(stdout);
    expect(Object.keys(printed).sort()).toEqual(["code", "expiresAt", "failureReason", "id", "points", "rewardId", "status"]);
    expect(printed).toMatchObject({ status: "issued", rewardId: "ship", points: 300, failureReason: null });
    expect(twinDiscountByCode(twin, SHOP, printed.code)?.endsAt).toBe(seconds(new Date(printed.expiresAt)));
  });

  it.each([
    [["--reward", "five-off"], "not enough points"],
    [[], "--reward must be the id of a reward"],
  ])("%j fails with exit code 2: %s", async (extra, message) => {
    const gid = await withPoints(10);
    const { code, stdout, stderr } = await runCli(["loyalty", "redeem", "--shop", SHOP, "--customer", gid, ...extra], cliEnv);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain(message);
  });
});

describe.skipIf(!SHARED_PRESENT)(`contract: what the app sent${SHARED_PRESENT ? "" : ` (skipped: ${SKIP_REASON})`}`, () => {
  it("every Admin request of this file has variables that coerce against the real Admin schema", () => {
    const report = coerceLoggedVariables(REQUEST_LOG, loadRealSchema());
    expect(report.errors).toEqual([]);
    expect(report.operations).toEqual(expect.arrayContaining(["LoyaltyCodeDiscountNodeByCode", "LoyaltyDiscountCodeBasicCreate", "LoyaltyDiscountCodeFreeShippingCreate"]));
  });
});
