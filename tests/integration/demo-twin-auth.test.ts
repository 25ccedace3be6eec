// The app's Shopify wiring (app/shopify.server.ts) against the local Shopify twin through
// SHOPIFY_TWIN_URL: the real token exchange stores an expiring offline session,
// `unauthenticated.admin(shop).admin.graphql` reaches the twin with the issued token, an
// expired token is refreshed through the twin. Without the setting the library's fetch
// is left alone; with NODE_ENV=production the setting stops the process at start.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { closeQueues } from "../../app/queues.server";
import { authenticate, getShopify, unauthenticated } from "../../app/shopify.server";
import { twinFetchTarget } from "../../app/shopify/twin-fetch.server";
import { createTokenCipher, parseEncryptionKey } from "../../app/shopify/token-encryption.server";
import { childProcessEnv, TEST_API_KEY, TEST_API_SECRET, TEST_APP_URL, TEST_SESSION_ENCRYPTION_KEY, useIntegrationEnv } from "../support/env";
import { DESKTOP_USER_AGENT } from "../support/browser";
import { REPO_ROOT } from "../support/admin-app-server";
import { AdminTwin, startAdminTwin } from "../twin/admin-graphql";
import { action as loginAction } from "../../app/routes/auth.login";
import { generateStore } from "../twin/store-generator";

const run = promisify(execFile);
const SHOP = "twin-auth.myshopify.com";
const STORE = "twin-auth";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let twin: AdminTwin;

beforeAll(async () => {
  twin = await startAdminTwin({ apps: [{ apiKey: TEST_API_KEY, apiSecret: TEST_API_SECRET, scopes: ["read_customers", "read_orders"], appUrl: TEST_APP_URL }] });
  twin.shop(SHOP).loadStore(generateStore({ seed: 3, customers: 20, shopDomain: SHOP }));
  env = await useIntegrationEnv({ SHOPIFY_TWIN_URL: twin.url });
});

afterAll(async () => {
  await twin?.close();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

async function sessionRow() {
  const { rows } = await getPool().query<{ id: string; accessToken: string; refreshToken: string | null; expires: Date | null }>(
    `SELECT id, "accessToken", "refreshToken", expires FROM "Session" WHERE shop = $1`,
    [SHOP],
  );
  return rows;
}

/** Runs tests/twin/auth-probe.ts in a fresh process with `extra` on top of this file's environment. */
async function probe(extra: Record<string, string | undefined>) {
  const childEnv = childProcessEnv();
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete childEnv[k];
    else childEnv[k] = v;
  }
  const { stdout } = await run(process.execPath, ["--import", "tsx", "tests/twin/auth-probe.ts"], { cwd: REPO_ROOT, env: childEnv, timeout: 30_000 });
  return JSON.parse(stdout.trim().split("\n").pop()!) as { libraryFetchIsGlobalFetch: boolean; twin: string | null };
}

describe("Shopify API calls to the twin (SHOPIFY_TWIN_URL)", () => {
  it("installs through the real token exchange, then unauthenticated.admin(shop).admin.graphql reaches the twin", async () => {
    getShopify();
    expect(twinFetchTarget()).toBe(twin.url);
    expect(await sessionRow()).toEqual([]);

    // The embedded app's first document load, as the Shopify admin opens it.
    const opened = await fetch(`${twin.url}/store/${STORE}/apps/${TEST_API_KEY}/app`, { redirect: "manual" });
    const appUrl = opened.headers.get("location")!;
    expect(appUrl.startsWith(`${TEST_APP_URL}/app?`)).toBe(true);
    const { session } = await authenticate.admin(new Request(appUrl, { headers: { "user-agent": DESKTOP_USER_AGENT } }));
    expect(session.id).toBe(`offline_${SHOP}`);
    expect(twin.auth.log).toEqual([expect.objectContaining({ shop: SHOP, grant: "urn:ietf:params:oauth:grant-type:token-exchange", status: 200 })]);
    const [issued] = twin.auth.issuedTokens(SHOP);
    const [row] = await sessionRow();
    // Stored encrypted (SESSION_ENCRYPTION_KEY): the row never holds the token itself.
    const cipher = createTokenCipher({ currentKey: parseEncryptionKey(TEST_SESSION_ENCRYPTION_KEY) });
    expect(row!.id).toBe(`offline_${SHOP}`);
    expect(row!.accessToken).toMatch(/^enc:v1:/);
    expect(row!.accessToken).not.toContain(issued!.token);
    expect(cipher.decrypt(row!.accessToken)).toBe(issued!.token);
    expect(row!.refreshToken).toMatch(/^enc:v1:/);
    expect(cipher.decrypt(row!.refreshToken!)).toMatch(/^shprt_/);
    expect(row!.expires!.getTime() - Date.now()).toBeGreaterThan(3_500_000);
    // The install stored the shop's settings (afterAuth -> onShopInstalled, decision 047).
    const { rows: shops } = await getPool().query(`SELECT name, "ianaTimezone" AS zone, connected_via FROM shops WHERE domain = $1`, [SHOP]);
    expect(shops).toEqual([{ name: twin.shop(SHOP).name, zone: twin.shop(SHOP).ianaTimezone, connected_via: "install" }]);

    const before = twin.requestCount;
    const { admin } = await unauthenticated.admin(SHOP);
    const response = await admin.graphql("{ shop { myshopifyDomain } customersCount { count } }");
    const body = (await response.json()) as { data: { shop: { myshopifyDomain: string }; customersCount: { count: number } } };
    expect(body.data).toEqual({ shop: { myshopifyDomain: SHOP }, customersCount: { count: 20 } });
    expect(twin.requestCount).toBe(before + 1);
  });

  it("refreshes an expired offline token through the twin and keeps working", async () => {
    const [old] = await sessionRow();
    twin.auth.expireToken(old!.accessToken);
    await getPool().query(`UPDATE "Session" SET expires = now() - interval '1 minute' WHERE shop = $1`, [SHOP]);

    const { admin } = await unauthenticated.admin(SHOP);
    const response = await admin.graphql("{ shop { myshopifyDomain } }");
    expect(((await response.json()) as { data: unknown }).data).toEqual({ shop: { myshopifyDomain: SHOP } });
    expect(twin.auth.log.at(-1)).toMatchObject({ grant: "refresh_token", status: 200 });
    const [fresh] = await sessionRow();
    expect(fresh!.accessToken).not.toBe(old!.accessToken);
    expect(fresh!.refreshToken).not.toBe(old!.refreshToken);
    expect(fresh!.expires!.getTime()).toBeGreaterThan(Date.now());
  });

  it("the login form sends a valid shop to the twin's admin, which opens the app with a session token", async () => {
    const request = new Request(`${TEST_APP_URL}/auth/login`, { method: "POST", body: new URLSearchParams({ shop: STORE }) });
    const thrown = await loginAction({ request, params: {}, context: {} }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(thrown).toBeInstanceOf(Response);
    const location = (thrown as Response).headers.get("location")!;
    expect(location).toBe(`${twin.url}/store/${STORE}/apps/${TEST_API_KEY}`); // not admin.shopify.com, unreachable here
    const opened = await fetch(location, { redirect: "manual" });
    const appUrl = new URL(opened.headers.get("location")!);
    expect(`${appUrl.origin}${appUrl.pathname}`).toBe(`${TEST_APP_URL}/app`);
    expect(appUrl.searchParams.get("shop")).toBe(SHOP);
    expect(appUrl.searchParams.get("id_token")).toBeTruthy();
  });

  it("without SHOPIFY_TWIN_URL the library's fetch is left alone; with it, it is replaced", async () => {
    expect(await probe({ SHOPIFY_TWIN_URL: undefined, NODE_ENV: "test" })).toEqual({ libraryFetchIsGlobalFetch: true, twin: null });
    expect(await probe({ SHOPIFY_TWIN_URL: "", NODE_ENV: "development" })).toEqual({ libraryFetchIsGlobalFetch: true, twin: null });
    expect(await probe({ SHOPIFY_TWIN_URL: twin.url, NODE_ENV: "development" })).toEqual({ libraryFetchIsGlobalFetch: false, twin: twin.url });
  });

  it("refuses SHOPIFY_TWIN_URL with NODE_ENV=production at start, naming the variable", async () => {
    const error = await run(process.execPath, ["--import", "tsx", "jobs/worker.ts"], {
      cwd: REPO_ROOT,
      env: childProcessEnv({ NODE_ENV: "production", SHOPIFY_TWIN_URL: twin.url }),
      timeout: 30_000,
    }).then(
      () => null,
      (e: { code?: number; stderr?: string }) => e,
    );
    expect(error?.code).toBe(1);
    expect(error?.stderr).toContain("SHOPIFY_TWIN_URL: must not be set when NODE_ENV=production");
  });
});
