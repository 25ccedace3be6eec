// The twin's auth endpoints driven by the real @shopify/shopify-api 15 client (token
// exchange, refresh, OAuth authorization code) through the app's fetch override, plus the
// rejections Shopify answers, and Admin GraphQL accepting only the tokens it issued.
import "@shopify/shopify-api/adapters/web-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiVersion, HttpResponseError, LogSeverity, RequestedTokenType, shopifyApi } from "@shopify/shopify-api";
import { setAbstractFetchFunc } from "@shopify/shopify-api/runtime";
import { createTwinFetch, rewriteForTwin } from "../../app/shopify/twin-fetch.server";
import { AdminTwin, startAdminTwin } from "./admin-graphql";
import { ID_TOKEN_TYPE, OFFLINE_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT, mintSessionToken, verifySessionToken } from "./auth";

const SHOP = "auth-twin.myshopify.com";
const OTHER_SHOP = "other-twin.myshopify.com";
const API_KEY = "twin-auth-key";
const API_SECRET = "twin-auth-secret";
const UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36";

let twin: AdminTwin;
let clock = Date.now();
const api = shopifyApi({
  apiKey: API_KEY,
  apiSecretKey: API_SECRET,
  apiVersion: ApiVersion.July26,
  hostName: "crm.example.test",
  hostScheme: "https",
  isEmbeddedApp: true,
  scopes: ["read_customers", "read_orders"],
  logger: { level: LogSeverity.Error },
});

beforeAll(async () => {
  twin = await startAdminTwin({ apps: [{ apiKey: API_KEY, apiSecret: API_SECRET, scopes: ["read_customers", "read_orders"] }], now: () => clock });
  setAbstractFetchFunc(createTwinFetch(twin.url));
});
afterAll(async () => {
  await twin.close();
});

async function tokenRequest(shop: string, body: Record<string, unknown>) {
  const res = await fetch(`${twin.url}/${shop}/admin/oauth/access_token`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function graphql(shop: string, token: string) {
  const res = await fetch(`${twin.url}/${shop}/admin/api/2026-07/graphql.json`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-shopify-access-token": token },
    body: JSON.stringify({ query: "{ shop { myshopifyDomain } }" }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const exchangeBody = (subjectToken: string, overrides: Record<string, unknown> = {}) => ({
  client_id: API_KEY,
  client_secret: API_SECRET,
  grant_type: TOKEN_EXCHANGE_GRANT,
  subject_token: subjectToken,
  subject_token_type: ID_TOKEN_TYPE,
  requested_token_type: OFFLINE_TOKEN_TYPE,
  expiring: "1",
  ...overrides,
});

describe("twin auth", () => {
  it("rewrites only *.myshopify.com URLs, carrying the shop in the path", () => {
    expect(rewriteForTwin(`https://${SHOP}/admin/api/2026-07/graphql.json?x=1`, "http://127.0.0.1:4000")).toBe(`http://127.0.0.1:4000/${SHOP}/admin/api/2026-07/graphql.json?x=1`);
    expect(rewriteForTwin("https://cdn.shopify.com/x.js", "http://127.0.0.1:4000")).toBeNull();
    expect(rewriteForTwin("https://example.com/admin", "http://127.0.0.1:4000")).toBeNull();
  });

  it("exchanges a session token for an expiring offline token through shopify-api, and Admin GraphQL then requires it", async () => {
    const sessionToken = mintSessionToken({ shop: SHOP, apiKey: API_KEY, apiSecret: API_SECRET, now: clock });
    const { session } = await api.auth.tokenExchange({ shop: SHOP, sessionToken, requestedTokenType: RequestedTokenType.OfflineAccessToken, expiring: true });
    expect(session.id).toBe(`offline_${SHOP}`);
    expect(session.accessToken).toMatch(/^shpat_/);
    expect(session.refreshToken).toMatch(/^shprt_/);
    expect(session.scope).toBe("read_customers,read_orders");
    expect(session.expires!.getTime() - Date.now()).toBeGreaterThan(3590_000);
    expect(session.refreshTokenExpires!.getTime() - Date.now()).toBeGreaterThan(89 * 86_400_000);

    const client = new api.clients.Graphql({ session });
    const r = await client.request("{ shop { myshopifyDomain } }");
    expect(r.data).toEqual({ shop: { myshopifyDomain: SHOP } });

    // Now that the shop has issued tokens, anything else is refused like Shopify does.
    expect((await graphql(SHOP, "shpat_made_up")).status).toBe(401);
    expect((await graphql(SHOP, session.accessToken!)).status).toBe(200);
    // A token of one shop does not open another.
    const other = await api.auth.tokenExchange({
      shop: OTHER_SHOP,
      sessionToken: mintSessionToken({ shop: OTHER_SHOP, apiKey: API_KEY, apiSecret: API_SECRET, now: clock }),
      requestedTokenType: RequestedTokenType.OfflineAccessToken,
      expiring: true,
    });
    expect((await graphql(OTHER_SHOP, session.accessToken!)).status).toBe(401);
    expect((await graphql(OTHER_SHOP, other.session.accessToken!)).status).toBe(200);

    // Expired access token: 401, until the app refreshes it (rotating the refresh token).
    clock += 3601_000;
    expect((await graphql(SHOP, session.accessToken!)).status).toBe(401);
    const refreshed = await api.auth.refreshToken({ shop: SHOP, refreshToken: session.refreshToken! });
    expect(refreshed.session.accessToken).not.toBe(session.accessToken);
    expect(refreshed.session.refreshToken).not.toBe(session.refreshToken);
    expect((await graphql(SHOP, refreshed.session.accessToken!)).status).toBe(200);
    const reused = await tokenRequest(SHOP, { client_id: API_KEY, client_secret: API_SECRET, grant_type: "refresh_token", refresh_token: session.refreshToken });
    expect(reused).toEqual({ status: 400, body: { error: "invalid_grant", error_description: "Token has been expired or revoked." } });
    clock = Date.now(); // back in step with the library's own clock checks
  });

  it("rejects session tokens like Shopify: wrong secret, wrong audience, expired, another shop, missing", async () => {
    const expectInvalid = async (subjectToken: string, shop = SHOP) => {
      const r = await tokenRequest(shop, exchangeBody(subjectToken));
      expect(r.status).toBe(400);
      expect(r.body.error).toBe("invalid_subject_token");
    };
    await expectInvalid(mintSessionToken({ shop: SHOP, apiKey: API_KEY, apiSecret: "not-the-secret", now: clock }));
    await expectInvalid(mintSessionToken({ shop: SHOP, apiKey: "another-app", apiSecret: API_SECRET, now: clock }));
    await expectInvalid(mintSessionToken({ shop: SHOP, apiKey: API_KEY, apiSecret: API_SECRET, now: clock - 120_000 }));
    await expectInvalid(mintSessionToken({ shop: OTHER_SHOP, apiKey: API_KEY, apiSecret: API_SECRET, now: clock }));
    await expectInvalid("not.a.jwt");
    expect((await tokenRequest(SHOP, exchangeBody(""))).body.error).toBe("missing_subject_token");
    const valid = mintSessionToken({ shop: SHOP, apiKey: API_KEY, apiSecret: API_SECRET, now: clock });
    const badClient = await tokenRequest(SHOP, exchangeBody(valid, { client_secret: "wrong" }));
    expect(badClient.status).toBe(401);
    expect(badClient.body.error).toBe("invalid_client");

    // Through the library (which checks signature and expiry itself first): a token for
    // another shop reaches the twin and comes back as Shopify's 400 invalid_subject_token,
    // the error shopify-app-remix turns into a bounce through a fresh session token.
    const error = await api.auth
      .tokenExchange({
        shop: SHOP,
        sessionToken: mintSessionToken({ shop: OTHER_SHOP, apiKey: API_KEY, apiSecret: API_SECRET, now: clock }),
        requestedTokenType: RequestedTokenType.OfflineAccessToken,
        expiring: true,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpResponseError);
    expect((error as HttpResponseError).response.code).toBe(400);
    expect((error as HttpResponseError).response.body).toMatchObject({ error: "invalid_subject_token" });
  });

  it("issues online tokens with the associated user", async () => {
    const sessionToken = mintSessionToken({ shop: SHOP, apiKey: API_KEY, apiSecret: API_SECRET, userId: "42", now: clock });
    const { session } = await api.auth.tokenExchange({ shop: SHOP, sessionToken, requestedTokenType: RequestedTokenType.OnlineAccessToken });
    expect(session.isOnline).toBe(true);
    expect(session.onlineAccessInfo?.associated_user.id).toBe(42);
    expect(session.id).toBe(`${SHOP}_42`);
  });

  it("runs the OAuth authorization-code grant: begin -> authorize -> callback (HMAC, state cookie) -> token", async () => {
    clock = Date.now();
    const begin = (await api.auth.begin({ shop: SHOP, callbackPath: "/auth/callback", isOnline: false, rawRequest: new Request("https://crm.example.test/auth", { headers: { "user-agent": UA } }) })) as Response;
    expect(begin.status).toBe(302);
    const authorizeUrl = begin.headers.get("location")!;
    expect(authorizeUrl.startsWith(`https://${SHOP}/admin/oauth/authorize?`)).toBe(true);
    const cookie = begin.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    const approved = await fetch(rewriteForTwin(authorizeUrl, twin.url)!, { redirect: "manual" });
    expect(approved.status).toBe(302);
    const callbackUrl = approved.headers.get("location")!;
    expect(callbackUrl).toMatch(/^https:\/\/crm\.example\.test\/auth\/callback\?code=/);
    const { session } = await api.auth.callback({ rawRequest: new Request(callbackUrl, { headers: { cookie, "user-agent": UA } }), expiring: true });
    expect(session.shop).toBe(SHOP);
    expect(session.refreshToken).toMatch(/^shprt_/);
    expect((await graphql(SHOP, session.accessToken!)).status).toBe(200);

    // A code works once.
    const code = new URL(callbackUrl).searchParams.get("code");
    const again = await tokenRequest(SHOP, { client_id: API_KEY, client_secret: API_SECRET, code });
    expect(again.status).toBe(400);
    expect(again.body.error).toBe("invalid_request");
  });

  it("opens an app from the twin's admin with a fresh session token", async () => {
    twin.auth.registerApp({ apiKey: "page-app", apiSecret: "page-secret", scopes: ["read_customers"], appUrl: "http://127.0.0.1:9/" });
    const res = await fetch(`${twin.url}/store/auth-twin/apps/page-app/app/customers?q=ana`, { redirect: "manual" });
    expect(res.status).toBe(302);
    const target = new URL(res.headers.get("location")!);
    expect(`${target.origin}${target.pathname}`).toBe("http://127.0.0.1:9/app/customers");
    expect(target.searchParams.get("q")).toBe("ana");
    expect(target.searchParams.get("embedded")).toBe("1");
    expect(target.searchParams.get("shop")).toBe(SHOP);
    expect(Buffer.from(target.searchParams.get("host")!, "base64").toString()).toBe("admin.shopify.com/store/auth-twin");
    const claims = verifySessionToken(target.searchParams.get("id_token")!, { apiKey: "page-app", apiSecret: "page-secret" }, clock);
    expect(claims.dest).toBe(`https://${SHOP}`);
    expect((await fetch(`${twin.url}/store/auth-twin/apps/unknown-app`, { redirect: "manual" })).status).toBe(404);
  });
});
