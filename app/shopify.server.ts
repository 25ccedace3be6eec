// All Shopify wiring in one place: the app configuration, authentication helpers and
// the API version. Routes authenticate on their first line through these exports;
// workers reach a shop through `unauthenticated.admin(shop)`.
import "@shopify/shopify-app-remix/adapters/node";
import { ApiVersion, AppDistribution, shopifyApp } from "@shopify/shopify-app-remix/server";
import { LogSeverity, shopifyApi } from "@shopify/shopify-api";
import { PrismaSessionStorage } from "@shopify/shopify-app-session-storage-prisma";
import { getPrisma } from "./db.server";
import { getEnv } from "./env.server";
import { installTwinFetch } from "./shopify/twin-fetch.server";
import { EncryptedSessionStorage } from "./shopify/encrypted-session-storage.server";
import { tokenCipherFromEnv } from "./shopify/token-encryption.server";
import { logger } from "./logger.server";

/** Keep equal to `[webhooks] api_version` in shopify.app.toml. */
export const SHOPIFY_API_VERSION = ApiVersion.July26;

function createShopifyApp() {
  const env = getEnv();
  // Development/tests with SHOPIFY_TWIN_URL only (refused in production): after the
  // imports above, which set the library's fetch, send https://{shop} requests to the twin.
  installTwinFetch(env);
  return shopifyApp({
    apiKey: env.SHOPIFY_API_KEY,
    apiSecretKey: env.SHOPIFY_API_SECRET,
    apiVersion: SHOPIFY_API_VERSION,
    scopes: env.SCOPES.split(","),
    appUrl: env.SHOPIFY_APP_URL,
    authPathPrefix: "/auth",
    // Tokens encrypted at rest (SESSION_ENCRYPTION_KEY; docs/decisions/035-token-encryption.md).
    sessionStorage: new EncryptedSessionStorage(new PrismaSessionStorage(getPrisma()), tokenCipherFromEnv(env)),
    distribution: AppDistribution.AppStore,
    future: { unstable_newEmbeddedAuthStrategy: true, expiringOfflineAccessTokens: true },
    // After an install (a new offline token): the shop's settings, then its history import
    // (decision 047). Imported when called: the service imports this module.
    hooks: {
      afterAuth: async ({ session }) => {
        if (session.isOnline) return;
        const { onShopInstalled } = await import("./services/shop-connection.server");
        await onShopInstalled(session.shop);
      },
    },
    logger: { level: env.LOG_LEVEL === "debug" || env.LOG_LEVEL === "trace" ? 3 : 1 },
  });
}

type ShopifyApp = ReturnType<typeof createShopifyApp>;
let app: ShopifyApp | undefined;

export function getShopify(): ShopifyApp {
  app ??= createShopifyApp();
  return app;
}

type ShopifyApi = ReturnType<typeof shopifyApi>;
let api: ShopifyApi | undefined;

/**
 * The underlying @shopify/shopify-api instance with the same credentials. Its
 * `webhooks.validate` is the oracle the ingress's own check is tested against
 * (tests/unit/verify-webhook.test.ts).
 */
export function getShopifyApi(): ShopifyApi {
  if (!api) {
    const env = getEnv();
    installTwinFetch(env);
    const appUrl = new URL(env.SHOPIFY_APP_URL);
    api = shopifyApi({
      apiKey: env.SHOPIFY_API_KEY,
      apiSecretKey: env.SHOPIFY_API_SECRET,
      apiVersion: SHOPIFY_API_VERSION,
      hostName: appUrl.host,
      hostScheme: appUrl.protocol === "http:" ? "http" : "https",
      isEmbeddedApp: true,
      scopes: env.SCOPES.split(","),
      logger: { level: LogSeverity.Error },
    });
  }
  return api;
}

/**
 * authenticate.admin, with the library's own error answers logged: it throws Responses for
 * the normal flow (redirects, the bounce page, 401 re-authorize) but also 5xx Responses with
 * a developer message (for example when called on the login path). Those reach the merchant
 * only as a friendly boundary page, so the message goes to the log (path only: the query
 * carries the session token).
 */
async function authenticateAdmin(request: Request) {
  try {
    return await getShopify().authenticate.admin(request);
  } catch (thrown) {
    if (thrown instanceof Response && thrown.status >= 500) {
      const message = (await thrown.clone().text().catch(() => "")).slice(0, 500);
      logger.error({ status: thrown.status, path: new URL(request.url).pathname, message }, "auth.failed");
    }
    throw thrown;
  }
}

export const authenticate = {
  admin: authenticateAdmin,
  /** Storefront requests through the app proxy (PLATFORM.md 5.3): see app/shopify/app-proxy.server.ts. */
  public: {
    appProxy: (request: Request) => getShopify().authenticate.public.appProxy(request),
  },
};
export const unauthenticated = {
  admin: (shop: string) => getShopify().unauthenticated.admin(shop),
};
export const login = (request: Request) => getShopify().login(request);
export const addDocumentResponseHeaders = (request: Request, headers: Headers) =>
  getShopify().addDocumentResponseHeaders(request, headers);
