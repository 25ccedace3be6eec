// The storefront path end to end: the twin's storefront app proxy (tests/twin/app-proxy.ts)
// signs requests as Shopify does and forwards them to the real built app server
// (build/index.js), whose proxy routes verify them and answer from real PostgreSQL; points
// come from order webhooks applied by the real worker; redemption creates the discount code
// in the twin. Nothing leaves the machine (the server's egress guard reports any attempt).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool, withTransaction } from "../../app/db.server";
import { applyLoyaltyForOrders } from "../../app/services/loyalty/apply-orders.server";
import { saveProgram } from "../../app/services/loyalty/program.server";
import { closeQueues } from "../../app/queues.server";
import { useIntegrationEnv } from "../support/env";
import { customerPayload, orderPayload } from "../support/factories";
import { deliverAndSettle, startInProcessWorker } from "../support/pipeline";
import type { AppServer } from "../support/admin-app-server";
import { startAppServerBehindStorefrontProxy } from "../support/e2e-app";
import { storeOfflineSession } from "../support/admin-seed";
import { startAdminTwin, type AdminTwin } from "../twin/admin-graphql";
import { generateStore } from "../twin/store-generator";
import { twinDiscountByCode } from "./loyalty-rewards.support";

const SHOP = "proxy-e2e.myshopify.com";
const HOUR = 3_600_000;

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let twin: AdminTwin;
let server: AppServer;
let ana: { id: bigint; email: string };
let bruno: { id: bigint; email: string };
const gidOf = (c: { id: bigint }) => `gid://shopify/Customer/${c.id}`;

type Json = Record<string, unknown>;

/** A storefront request through the twin's /apps/crm proxy, optionally signed in. */
async function storefront(path: string, { session, method = "GET", body, contentType = "application/json" }: { session?: string; method?: string; body?: unknown; contentType?: string } = {}) {
  const headers: Record<string, string> = { accept: "application/json" };
  if (session) headers.cookie = twin.storefront.cookieFor(session);
  if (body !== undefined) headers["content-type"] = contentType;
  const response = await fetch(`${twin.url}/${SHOP}/apps/crm${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Json, headers: response.headers };
}

async function ledgerOf(gid: string) {
  const { rows } = await getPool().query<{ kind: string; points: number }>(`SELECT kind::text, points FROM loyalty_ledger WHERE shop = $1 AND customer_gid = $2 ORDER BY id`, [SHOP, gid]);
  return rows;
}

beforeAll(async () => {
  twin = await startAdminTwin({ defaultShop: SHOP });
  twin.shop(SHOP).loadStore(generateStore({ seed: 11, customers: 10, shopDomain: SHOP }), { maxOrders: 0 });
  const [first, second] = twin.shop(SHOP).sortedIds("customers");
  ana = { id: BigInt(first!), email: "ana.proxy@example.com" };
  bruno = { id: BigInt(second!), email: "bruno.proxy@example.com" };
  env = await useIntegrationEnv({ SHOPIFY_TWIN_URL: twin.url });
  await storeOfflineSession(SHOP);
  await saveProgram({
    shop: SHOP,
    actor: "owner",
    now: new Date(Date.now() - 24 * HOUR),
    settings: {
      earn: { pointsPerUnit: 10, on: "placed" },
      pendingDays: 0,
      tiers: { metric: "points_earned", window: "rolling_12_months", levels: [{ name: "Member", threshold: 0 }, { name: "VIP", threshold: 1000 }] },
      rewards: [
        { id: "five-off", name: "$5 off", kind: "fixed_amount", value: "5.00", pointsCost: 400 },
        { id: "ship", name: "Free shipping", kind: "free_shipping", pointsCost: 1000 },
      ],
    },
  });
  // Ana's order of $42.50 earns 425 points through the real pipeline; Bruno has none.
  const worker = startInProcessWorker();
  try {
    await deliverAndSettle("customers/create", customerPayload(ana), { shop: SHOP });
    await deliverAndSettle("customers/create", customerPayload(bruno), { shop: SHOP });
    await deliverAndSettle("orders/create", orderPayload({ id: 8800001n, customer: ana, totalPrice: "42.50", createdAt: new Date(Date.now() - HOUR).toISOString() }), { shop: SHOP });
  } finally {
    await worker.close();
  }
  // The worker applies loyalty itself; applying again writes nothing more (idempotent keys).
  await withTransaction((db) => applyLoyaltyForOrders(db, SHOP, ["gid://shopify/Order/8800001"]));

  server = await startAppServerBehindStorefrontProxy(twin);
});

afterAll(async () => {
  expect(server?.egressAttempts() ?? []).toEqual([]);
  await server?.stop();
  await twin?.close();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

describe("storefront /apps/crm/loyalty through the twin's app proxy", () => {
  it("GIVEN nobody signed in THEN the app answers 401 signed_out (Shopify sent a blank, signed logged_in_customer_id)", async () => {
    const { status, body } = await storefront("/loyalty");
    expect(status).toBe(401);
    expect(body.error).toBe("signed_out");
    const forwarded = new URL(twin.storefront.log.at(-1)!.target);
    expect(forwarded.pathname).toBe("/proxy/loyalty");
    expect(forwarded.searchParams.get("logged_in_customer_id")).toBe("");
    expect(forwarded.searchParams.get("path_prefix")).toBe("/apps/crm");
    expect(forwarded.searchParams.get("signature")).toMatch(/^[0-9a-f]{64}$/);
  });

  it("GIVEN Ana signed in THEN she sees her points from the order, her tier progress and what she can afford", async () => {
    const session = twin.storefront.login(SHOP, ana.id);
    const { status, body, headers } = await storefront("/loyalty", { session });
    expect(status).toBe(200);
    expect(headers.get("cache-control")).toBe("private, no-store");
    expect(body).toMatchObject({
      balance: 425,
      pending: 0,
      currency: "USD", // no shop row yet: the currency of the customer's orders
      tier: { current: "Member", next: { name: "VIP", remaining: { unit: "points", points: 575 } }, permille: 425 },
    });
    expect((body.rewards as Json[]).map((r) => [r.id, r.affordable])).toEqual([
      ["five-off", true],
      ["ship", false],
    ]);
  });

  it("the customer is the signed one only: a shopper's own logged_in_customer_id or shop in the storefront URL changes nothing", async () => {
    const session = twin.storefront.login(SHOP, bruno.id);
    const { status, body } = await storefront(`/loyalty?logged_in_customer_id=${ana.id}&shop=other.myshopify.com`, { session });
    expect(status).toBe(200);
    expect(body.balance).toBe(0);
    expect(body.tier).toMatchObject({ current: "Member", next: { name: "VIP", remaining: { unit: "points", points: 1000 } }, permille: 0 });
  });

  it("a naming of another customer in the query is refused with 403", async () => {
    const session = twin.storefront.login(SHOP, bruno.id);
    const { status, body } = await storefront(`/loyalty?customer_id=${ana.id}`, { session });
    expect(status).toBe(403);
    expect(body.error).toBe("wrong_customer");
  });

  it("a signed URL replayed straight to the app works only as signed: another customer swapped in is refused", async () => {
    const session = twin.storefront.login(SHOP, ana.id);
    await storefront("/loyalty", { session });
    const signedUrl = twin.storefront.log.at(-1)!.target;
    const replay = await fetch(signedUrl);
    expect(replay.status).toBe(200);
    const tampered = new URL(signedUrl);
    tampered.searchParams.set("logged_in_customer_id", String(bruno.id));
    const refused = await fetch(tampered);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as Json).error).toBe("invalid_signature");
    const unsigned = await fetch(`${server.origin}/proxy/loyalty?shop=${SHOP}&logged_in_customer_id=${ana.id}`);
    expect(unsigned.status).toBe(403);
    expect(((await unsigned.json()) as Json).message).toMatch(/no signature/);
  });

  it("POST redeem naming another customer in the body is refused; nothing is spent", async () => {
    const session = twin.storefront.login(SHOP, ana.id);
    const { status, body } = await storefront("/loyalty/redeem", { session, method: "POST", body: { rewardId: "five-off", customerId: String(bruno.id) } });
    expect(status).toBe(403);
    expect(body.error).toBe("wrong_customer");
    expect(await ledgerOf(gidOf(ana))).toEqual([{ kind: "earn", points: 425 }]);
  });

  it("GIVEN Ana signed in WHEN she redeems $5 off THEN she gets a single-use code for her alone, in the twin, and 400 points are spent", async () => {
    const session = twin.storefront.login(SHOP, ana.id);
    const { status, body } = await storefront("/loyalty/redeem", { session, method: "POST", body: { rewardId: "five-off", requestKey: "ana-click-0001" } });
    expect(status).toBe(200);
    const redemption = body.redemption as { code: string; points: number; rewardId: string; expiresAt: string };
    expect(redemption).toMatchObject({ rewardId: "five-off", points: 400 });
    expect(redemption.code).toMatch(/^PTS-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/);
    expect(new Date(redemption.expiresAt).getTime()).toBeGreaterThan(Date.now() + 29 * 24 * HOUR);
    expect(body.loyalty).toMatchObject({ balance: 25, pending: 0 });

    const discount = twinDiscountByCode(twin, SHOP, redemption.code);
    expect(discount).toMatchObject({ kind: "DiscountCodeBasic", usageLimit: 1, context: { customers: [String(ana.id)] } });
    expect(await ledgerOf(gidOf(ana))).toEqual([
      { kind: "earn", points: 425 },
      { kind: "redeem", points: -400 },
    ]);

    // The same click retried (same requestKey) answers the same code and spends nothing more.
    const again = await storefront("/loyalty/redeem", { session, method: "POST", body: { rewardId: "five-off", requestKey: "ana-click-0001" } });
    expect(again.status).toBe(200);
    expect((again.body.redemption as { code: string }).code).toBe(redemption.code);
    expect(await ledgerOf(gidOf(ana))).toHaveLength(2);
  });

  it("WHEN Ana redeems again without the points THEN 409 not_enough_points with the figures; nothing spent", async () => {
    const session = twin.storefront.login(SHOP, ana.id);
    const { status, body } = await storefront("/loyalty/redeem", { session, method: "POST", body: { rewardId: "five-off" } });
    expect(status).toBe(409);
    expect(body).toMatchObject({ error: "not_enough_points", message: expect.stringContaining("25 spendable, 400 needed") });
    expect(await ledgerOf(gidOf(ana))).toHaveLength(2);
  });

  it("an unknown reward is 400 unknown_reward; a form post is 415", async () => {
    const session = twin.storefront.login(SHOP, ana.id);
    const unknown = await storefront("/loyalty/redeem", { session, method: "POST", body: { rewardId: "gold-bar" } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe("unknown_reward");
    const form = await storefront("/loyalty/redeem", { session, method: "POST", body: "rewardId=five-off", contentType: "application/x-www-form-urlencoded" });
    expect(form.status).toBe(415);
  });
});
