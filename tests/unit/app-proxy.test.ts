// The app proxy gate, through the routes' own loader and action: requests signed by a signer
// written here from Shopify's algorithm (PLATFORM.md 5.3), valid and broken in every way the
// brief lists: expired and future timestamps, tampered or added parameters, a missing
// signature, repeated single-value parameters, the wrong secret, another customer named in
// the query or the body, a signed-out shopper, a shop that is not *.myshopify.com or has not
// installed the app. Real HMACs, a real database (sessions, program, ledger); no Shopify call
// (nothing here reaches the discount mutation).
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { closeDb, getPool } from "../../app/db.server";
import { saveProgram } from "../../app/services/loyalty/program.server";
import { closeQueues } from "../../app/queues.server";
import { TEST_API_SECRET, TEST_APP_URL, useIntegrationEnv } from "../support/env";
import { storeOfflineSession } from "../support/admin-seed";
import { appProxySignature } from "../twin/app-proxy";

const SHOP = "proxy-unit.myshopify.com";
const NOT_INSTALLED = "proxy-unit-other.myshopify.com";
const NO_PROGRAM = "proxy-unit-empty.myshopify.com";
const CUSTOMER = "7200000000001";
const OTHER_CUSTOMER = "7200000000002";
const DAY = 86_400_000;

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let stateLoader: (args: LoaderFunctionArgs) => Promise<Response>;
let stateAction: (args: ActionFunctionArgs) => Promise<Response>;
let redeemAction: (args: ActionFunctionArgs) => Promise<Response>;
let redeemLoader: (args: LoaderFunctionArgs) => Promise<Response>;

// ---------------------------------------------------------------- the test signer

/** Shopify's app proxy signature, from the algorithm: sorted keys, repeated values joined by ",", no separator, hex HMAC-SHA256. */
function sign(query: [string, string][], secret = TEST_API_SECRET): string {
  const byKey = new Map<string, string[]>();
  for (const [key, value] of query) if (key !== "signature") byKey.set(key, [...(byKey.get(key) ?? []), value]);
  const message = [...byKey.keys()]
    .sort()
    .map((key) => `${key}=${byKey.get(key)!.join(",")}`)
    .join("");
  return createHmac("sha256", secret).update(message).digest("hex");
}

const nowSeconds = () => Math.trunc(Date.now() / 1000);

type Signed = { params: [string, string][]; signature: string };

/** Shopify's parameters for a request, signed; `extra` are the shopper's own query parameters. */
function signed({
  shop = SHOP,
  customer = CUSTOMER as string | null,
  timestamp = nowSeconds(),
  extra = [] as [string, string][],
  secret = TEST_API_SECRET,
} = {}): Signed {
  const params: [string, string][] = [...extra, ["shop", shop], ["logged_in_customer_id", customer ?? ""], ["path_prefix", "/apps/crm"], ["timestamp", String(timestamp)]];
  return { params, signature: sign(params, secret) };
}

function url(path: string, params: [string, string][]): string {
  return `${TEST_APP_URL}${path}?${new URLSearchParams(params)}`;
}

const withSignature = ({ params, signature }: Signed): [string, string][] => [...params, ["signature", signature]];

async function getState(params: [string, string][]) {
  const response = await stateLoader({ request: new Request(url("/proxy/loyalty", params)), params: {}, context: {} });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

async function postRedeem(params: [string, string][], body: unknown, contentType = "application/json") {
  const request = new Request(url("/proxy/loyalty/redeem", params), {
    method: "POST",
    headers: { "content-type": contentType },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const response = await redeemAction({ request, params: {}, context: {} });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function redemptionCount(): Promise<number> {
  const { rows } = await getPool().query<{ n: number }>(`SELECT count(*)::int AS n FROM loyalty_redemptions`);
  return rows[0]!.n;
}

async function ledgerCount(): Promise<number> {
  const { rows } = await getPool().query<{ n: number }>(`SELECT count(*)::int AS n FROM loyalty_ledger`);
  return rows[0]!.n;
}

beforeAll(async () => {
  env = await useIntegrationEnv();
  ({ loader: stateLoader, action: stateAction } = await import("../../app/routes/proxy.loyalty"));
  ({ action: redeemAction, loader: redeemLoader } = await import("../../app/routes/proxy.loyalty.redeem"));
  await storeOfflineSession(SHOP);
  await storeOfflineSession(NO_PROGRAM);
  const pool = getPool();
  await pool.query(`INSERT INTO shops (domain, "currencyCode") VALUES ($1, 'EUR')`, [SHOP]);
  for (const id of [CUSTOMER, OTHER_CUSTOMER]) {
    await pool.query(`INSERT INTO customers (shop, gid, email, shopify_created_at) VALUES ($1, $2, $3, now())`, [SHOP, `gid://shopify/Customer/${id}`, `c${id}@example.com`]);
  }
  await saveProgram({
    shop: SHOP,
    actor: "owner",
    now: new Date(Date.now() - 60 * DAY),
    settings: {
      earn: { pointsPerUnit: 1 },
      tiers: { metric: "points_earned", window: "lifetime", levels: [{ name: "Member", threshold: 0 }, { name: "Silver", threshold: 500 }, { name: "Gold", threshold: 1000 }] },
      rewards: [
        { id: "five-off", name: "5 off", kind: "fixed_amount", value: "5.00", pointsCost: 200 },
        { id: "free-ship", name: "Free shipping", kind: "free_shipping", pointsCost: 500, minimumOrder: "30.00" },
      ],
    },
  });
  // 300 points spendable (an order 30 days ago), 50 pending (an order yesterday, 14-day window).
  const earn = `INSERT INTO loyalty_ledger (shop, customer_gid, points, kind, status, available_at, occurred_at, source, reason, idempotency_key)
                VALUES ($1, $2, $3, 'earn', $4, $5, $6, $7, 'Order', $8)`;
  const gid = `gid://shopify/Customer/${CUSTOMER}`;
  await pool.query(earn, [SHOP, gid, 300, "available", new Date(Date.now() - 16 * DAY), new Date(Date.now() - 30 * DAY), "gid://shopify/Order/1", "earn:gid://shopify/Order/1"]);
  await pool.query(earn, [SHOP, gid, 50, "pending", new Date(Date.now() + 13 * DAY), new Date(Date.now() - DAY), "gid://shopify/Order/2", "earn:gid://shopify/Order/2"]);
});

afterAll(async () => {
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

describe("the signers reproduce Shopify's documented example (shopify.dev, Authenticate app proxies; secret \"hush\")", () => {
  const documented = "extra=1&extra=2&shop=shop-name.myshopify.com&logged_in_customer_id=1&path_prefix=%2Fapps%2Fawesome_reviews&timestamp=1317327555";
  const anonymous = documented.replace("logged_in_customer_id=1", "logged_in_customer_id=");
  it.each([
    ["a signed-in customer, a repeated shopper parameter", documented, "4c68c8624d737112c91818c11017d24d334b524cb5c2b8ba08daa056f7395ddb"],
    ["signed out (blank logged_in_customer_id)", anonymous, "e072b6d7e6622d85912a5214b860d3100dc1e73d9bc29f43796ac8c9ff8093cb"],
  ])("%s", (_name, query, expected) => {
    expect(sign([...new URLSearchParams(query)], "hush")).toBe(expected);
    expect(appProxySignature(new URLSearchParams(query), "hush")).toBe(expected);
  });
});

describe("GET /proxy/loyalty: a valid signature", () => {
  it("answers the signed-in customer's points, pending points, tier progress and rewards, never cached", async () => {
    const { status, body, headers } = await getState(withSignature(signed()));
    expect(status).toBe(200);
    expect(headers.get("cache-control")).toBe("private, no-store");
    expect(body).toEqual({
      balance: 300,
      pending: 50,
      currency: "EUR",
      tier: {
        metric: "points_earned",
        window: "lifetime",
        current: "Member",
        value: { unit: "points", points: 350 },
        next: { name: "Silver", remaining: { unit: "points", points: 150 } },
        permille: 700,
      },
      rewards: [
        { id: "five-off", name: "5 off", kind: "fixed_amount", value: "5.00", minimumOrder: null, pointsCost: 200, affordable: true },
        { id: "free-ship", name: "Free shipping", kind: "free_shipping", value: null, minimumOrder: "30.00", pointsCost: 500, affordable: false },
      ],
    });
  });

  it("accepts a timestamp 85 s old or 85 s ahead (Shopify allows 90 s either way)", async () => {
    expect((await getState(withSignature(signed({ timestamp: nowSeconds() - 85 })))).status).toBe(200);
    expect((await getState(withSignature(signed({ timestamp: nowSeconds() + 85 })))).status).toBe(200);
  });

  it("accepts the shopper's own query parameters, which Shopify signs too", async () => {
    expect((await getState(withSignature(signed({ extra: [["utm_source", "newsletter"], ["tag", "a"], ["tag", "b"]] })))).status).toBe(200);
  });

  it("accepts a customer id in the query equal to the signed one", async () => {
    expect((await getState(withSignature(signed({ extra: [["customer_id", `gid://shopify/Customer/${CUSTOMER}`]] })))).status).toBe(200);
  });

  it("gives a signed-in customer the CRM has not stored yet 0 points and nothing affordable", async () => {
    const { status, body } = await getState(withSignature(signed({ customer: "7299999999999" })));
    expect(status).toBe(200);
    expect(body).toMatchObject({ balance: 0, pending: 0, tier: { current: "Member", next: { name: "Silver", remaining: { unit: "points", points: 500 } }, permille: 0 } });
    expect((body.rewards as { affordable: boolean }[]).map((r) => r.affordable)).toEqual([false, false]);
  });
});

describe("refused signatures: 403 invalid_signature with the reason", () => {
  const cases: [string, () => [string, string][], RegExp][] = [
    ["timestamp expired (91 s old)", () => withSignature(signed({ timestamp: nowSeconds() - 91 })), /timestamp is 9\d s old/],
    ["timestamp an hour old", () => withSignature(signed({ timestamp: nowSeconds() - 3600 })), /timestamp is 360\d s old/],
    ["timestamp in the future (120 s)", () => withSignature(signed({ timestamp: nowSeconds() + 120 })), /in the future/],
    ["timestamp not a number", () => withSignature(signed({ timestamp: "soon" as unknown as number })), /timestamp is missing or not a whole number/],
    [
      "tampered: another customer swapped in after signing",
      () => {
        const s = signed();
        return withSignature({ ...s, params: s.params.map(([k, v]) => [k, k === "logged_in_customer_id" ? OTHER_CUSTOMER : v] as [string, string]) });
      },
      /signature does not match/,
    ],
    [
      "tampered: another shop swapped in after signing",
      () => {
        const s = signed();
        return withSignature({ ...s, params: s.params.map(([k, v]) => [k, k === "shop" ? NO_PROGRAM : v] as [string, string]) });
      },
      /signature does not match/,
    ],
    ["tampered: a parameter added after signing", () => [...withSignature(signed()), ["customer_id", CUSTOMER]], /signature does not match/],
    ["tampered: the signature's last digit changed", () => {
      const s = signed();
      return withSignature({ ...s, signature: s.signature.slice(0, -1) + (s.signature.endsWith("0") ? "1" : "0") });
    }, /signature does not match/],
    ["missing signature", () => signed().params, /has no signature/],
    ["empty signature", () => [...signed().params, ["signature", ""]], /has no signature/],
    ["signature repeated", () => { const s = signed(); return [...withSignature(s), ["signature", s.signature]]; }, /"signature" appears more than once/],
    [
      "shop repeated (both copies signed)",
      () => {
        const params: [string, string][] = [["shop", SHOP], ["shop", NO_PROGRAM], ["logged_in_customer_id", CUSTOMER], ["path_prefix", "/apps/crm"], ["timestamp", String(nowSeconds())]];
        return [...params, ["signature", sign(params)]];
      },
      /"shop" appears more than once/,
    ],
    [
      "timestamp repeated (both copies signed)",
      () => {
        const params: [string, string][] = [["shop", SHOP], ["logged_in_customer_id", CUSTOMER], ["path_prefix", "/apps/crm"], ["timestamp", String(nowSeconds())], ["timestamp", String(nowSeconds())]];
        return [...params, ["signature", sign(params)]];
      },
      /"timestamp" appears more than once/,
    ],
    ["signed with another app's secret", () => withSignature(signed({ secret: "someone-elses-secret" })), /signature does not match/],
    ["signature in base64 instead of hex", () => {
      const s = signed();
      return withSignature({ ...s, signature: Buffer.from(s.signature, "hex").toString("base64") });
    }, /signature does not match/],
  ];

  it.each(cases)("%s", async (_name, params, reason) => {
    const { status, body } = await getState(params());
    expect(status).toBe(403);
    expect(body.error).toBe("invalid_signature");
    expect(body.message).toMatch(reason);
  });

  it("refuses a redemption with a bad signature before reading the body: nothing spent", async () => {
    const before = [await redemptionCount(), await ledgerCount()];
    const { status, body } = await postRedeem(withSignature(signed({ timestamp: nowSeconds() - 120 })), { rewardId: "five-off" });
    expect(status).toBe(403);
    expect(body.error).toBe("invalid_signature");
    expect([await redemptionCount(), await ledgerCount()]).toEqual(before);
  });
});

describe("the app's own checks on a correctly signed request", () => {
  it("a signed-out shopper (blank logged_in_customer_id) gets 401 signed_out", async () => {
    const { status, body } = await getState(withSignature(signed({ customer: null })));
    expect(status).toBe(401);
    expect(body).toEqual({ error: "signed_out", message: "sign in to your account to see your points" });
    const redeem = await postRedeem(withSignature(signed({ customer: null })), { rewardId: "five-off" });
    expect(redeem.status).toBe(401);
  });

  it("a signed request without logged_in_customer_id at all is signed out too", async () => {
    const params: [string, string][] = [["shop", SHOP], ["path_prefix", "/apps/crm"], ["timestamp", String(nowSeconds())]];
    const { status, body } = await getState([...params, ["signature", sign(params)]]);
    expect(status).toBe(401);
    expect(body.error).toBe("signed_out");
  });

  it.each([
    ["customer_id", OTHER_CUSTOMER],
    ["customerId", `gid://shopify/Customer/${OTHER_CUSTOMER}`],
    ["customer", "not-a-customer"],
  ])("wrong customer: the query names %s=%s besides the signed customer -> 403", async (name, value) => {
    const { status, body } = await getState(withSignature(signed({ extra: [[name, value]] })));
    expect(status).toBe(403);
    expect(body.error).toBe("wrong_customer");
    expect(body.message).toContain(`query parameter ${name}`);
  });

  it("wrong customer: logged_in_customer_id twice (a shopper's copy, also signed) -> 403", async () => {
    const { status, body } = await getState(withSignature(signed({ extra: [["logged_in_customer_id", OTHER_CUSTOMER]] })));
    expect(status).toBe(403);
    expect(body.error).toBe("wrong_customer");
  });

  it("a shop that is not *.myshopify.com -> 403 unknown_shop", async () => {
    const { status, body } = await getState(withSignature(signed({ shop: "evil.example.com" })));
    expect(status).toBe(403);
    expect(body.error).toBe("unknown_shop");
  });

  it("a signed request naming no shop -> 403 unknown_shop", async () => {
    const params: [string, string][] = [["logged_in_customer_id", CUSTOMER], ["path_prefix", "/apps/crm"], ["timestamp", String(nowSeconds())]];
    const { status, body } = await getState([...params, ["signature", sign(params)]]);
    expect(status).toBe(403);
    expect(body).toEqual({ error: "unknown_shop", message: "the request names no shop" });
  });

  it("a shop that has not installed the app (no offline session) -> 403 not_installed", async () => {
    const { status, body } = await getState(withSignature(signed({ shop: NOT_INSTALLED })));
    expect(status).toBe(403);
    expect(body).toEqual({ error: "not_installed", message: `${NOT_INSTALLED} has not installed the app` });
  });

  it("an installed shop without a loyalty program -> 404 no_program", async () => {
    const { status, body } = await getState(withSignature(signed({ shop: NO_PROGRAM })));
    expect(status).toBe(404);
    expect(body).toEqual({ error: "no_program", message: "this store has no loyalty program" });
  });

  it("POST to the state route and GET on the redeem route answer 405 JSON", async () => {
    const post = await stateAction({ request: new Request(url("/proxy/loyalty", withSignature(signed())), { method: "POST" }), params: {}, context: {} });
    expect(post.status).toBe(405);
    expect(((await post.json()) as { error: string }).error).toBe("method_not_allowed");
    const get = await redeemLoader({ request: new Request(url("/proxy/loyalty/redeem", withSignature(signed()))), params: {}, context: {} });
    expect(get.status).toBe(405);
  });
});

describe("POST /proxy/loyalty/redeem: bad input gets a clear error and spends nothing", () => {
  const cases: [string, unknown, string, number, string, RegExp][] = [
    ["another customer in the body (customerId)", { rewardId: "five-off", customerId: OTHER_CUSTOMER }, "application/json", 403, "wrong_customer", /body field customerId/],
    ["another customer in the body (customer_id gid)", { rewardId: "five-off", customer_id: `gid://shopify/Customer/${OTHER_CUSTOMER}` }, "application/json", 403, "wrong_customer", /body field customer_id/],
    ["a form post instead of JSON", "rewardId=five-off", "application/x-www-form-urlencoded", 415, "unsupported_media_type", /JSON/],
    ["text/plain (a cross-site simple request)", '{"rewardId":"five-off"}', "text/plain", 415, "unsupported_media_type", /JSON/],
    ["not JSON", "{rewardId:", "application/json", 400, "invalid_request", /not valid JSON/],
    ["a JSON array", "[]", "application/json", 400, "invalid_request", /JSON object/],
    ["no rewardId", {}, "application/json", 400, "invalid_request", /rewardId: rewardId is required/],
    ["an unexpected field", { rewardId: "five-off", points: 1 }, "application/json", 400, "invalid_request", /Unrecognized key/],
    ["a malformed requestKey", { rewardId: "five-off", requestKey: "x" }, "application/json", 400, "invalid_request", /requestKey must be 8-100/],
    ["a body over 4 KB", { rewardId: "five-off", requestKey: "k".repeat(5000) }, "application/json", 413, "payload_too_large", /4096 bytes/],
    ["an unknown reward", { rewardId: "no-such-reward" }, "application/json", 400, "unknown_reward", /unknown reward "no-such-reward"/],
    ["a reward costing more than the spendable balance (pending points do not count)", { rewardId: "free-ship" }, "application/json", 409, "not_enough_points", /300 spendable, 500 needed \(50 more pending/],
  ];

  it.each(cases)("%s", async (_name, body, contentType, status, error, message) => {
    const before = [await redemptionCount(), await ledgerCount()];
    const result = await postRedeem(withSignature(signed()), body, contentType);
    expect(result.status).toBe(status);
    expect(result.body.error).toBe(error);
    expect(result.body.message).toMatch(message);
    expect([await redemptionCount(), await ledgerCount()]).toEqual(before);
  });

  it("a customer the CRM does not know cannot redeem: 404 unknown_customer", async () => {
    const result = await postRedeem(withSignature(signed({ customer: "7299999999999" })), { rewardId: "five-off" });
    expect(result.status).toBe(404);
    expect(result.body.error).toBe("unknown_customer");
  });
});
