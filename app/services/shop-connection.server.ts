// Connecting a shop (decision 047). Two ways:
// - embedded install (token exchange): shopify-app-remix stores the offline session and calls
//   afterAuth (app/shopify.server.ts), which calls onShopInstalled: settings, then the import;
// - self-hosting for one's own store: `crm shop connect --shop <domain> --access-token <token>`
//   with a custom app's Admin API token. The token is stored as the shop's offline session
//   (encrypted like every token, decision 035), verified with a `shop` query, the app's
//   webhook subscriptions are registered with webhookSubscriptionCreate (a custom app does not
//   get the toml's), the shop's settings are stored and the history import starts.
import { Session } from "@shopify/shopify-api";
import { getPool, withTransaction } from "../db.server";
import { getEnv } from "../env.server";
import { logger } from "../logger.server";
import { getShopify } from "../shopify.server";
import { ShopifyAdminError, getShopifyAdmin, type ShopDetails } from "../shopify/admin-api.server";
import { isShopDomain } from "../shopify/shop-domain";
import { shopSettingsFromDetails } from "../shopify/shop-settings";
import { WEBHOOK_ROUTE_TOPICS } from "../shopify/webhook-routes";
import { ensureShop } from "./crm-store.server";
import { storeShopSettings } from "./shop-settings.server";

export class ShopConnectionError extends Error {
  constructor(
    readonly kind: "invalid" | "refused" | "unavailable",
    message: string,
  ) {
    super(message);
    this.name = "ShopConnectionError";
  }
}

/**
 * Starts the shop's history import (unless one is running or done: a reconnect does not
 * re-import; `crm import start` does on demand). The worker's import job runs it.
 */
export type ImportStarter = (shop: string) => Promise<unknown>;
// The history import (decision 045): loaded when called, as the import service reaches
// Shopify through modules that import this one. Tests may replace it.
let importStarter: ImportStarter | null = async (shop) => (await import("./history-import/import.server")).startImportOnInstall(shop);

export function setImportStarter(starter: ImportStarter | null): void {
  importStarter = starter;
}

async function startImportIfWired(shop: string): Promise<"started" | "not_available"> {
  if (!importStarter) {
    logger.warn({ shop }, "shop.import_not_wired");
    return "not_available";
  }
  await importStarter(shop);
  return "started";
}

/** Topics that are never subscribed through the API (compliance topics come from the app's configuration only). */
const CONFIG_ONLY_ROUTES = new Set(["/webhooks/compliance"]);

/** shopify.app.toml's topic as the API's WebhookSubscriptionTopic: orders/create -> ORDERS_CREATE, customer.tags_added -> CUSTOMER_TAGS_ADDED. */
export function subscriptionTopicOf(topic: string): string {
  return topic.toUpperCase().replace(/[/.]/g, "_");
}

/** The subscriptions a custom app needs: every topic of the route table, at the app's public URL (SHOPIFY_APP_URL). */
export function requiredSubscriptions(appUrl: string): { topic: string; uri: string }[] {
  const out: { topic: string; uri: string }[] = [];
  for (const [route, topics] of Object.entries(WEBHOOK_ROUTE_TOPICS)) {
    if (CONFIG_ONLY_ROUTES.has(route)) continue;
    const uri = new URL(route, appUrl).toString();
    for (const topic of topics) out.push({ topic: subscriptionTopicOf(topic), uri });
  }
  return out;
}

export type WebhookRegistration = { created: string[]; existing: string[]; failed: { topic: string; message: string }[] };

async function registerWebhooks(shop: string): Promise<WebhookRegistration> {
  const admin = await getShopifyAdmin(shop);
  const result: WebhookRegistration = { created: [], existing: [], failed: [] };
  for (const { topic, uri } of requiredSubscriptions(getEnv().SHOPIFY_APP_URL)) {
    const { data } = await admin.webhookSubscriptionCreate(topic, uri);
    if (data.userErrors.length === 0) result.created.push(topic);
    else if (data.userErrors.some((e) => /already been taken/i.test(e.message))) result.existing.push(topic);
    else result.failed.push({ topic, message: data.userErrors.map((e) => e.message).join("; ") });
  }
  return result;
}

async function fetchAndStoreSettings(shop: string, connectedVia: "install" | "token"): Promise<ShopDetails> {
  const admin = await getShopifyAdmin(shop);
  const { data } = await admin.shopDetails();
  await withTransaction(async (db) => {
    await ensureShop(db, shop);
    await db.query(`UPDATE shops SET uninstalled_at = NULL, installed_at = CASE WHEN uninstalled_at IS NULL THEN installed_at ELSE now() END WHERE domain = $1`, [shop]);
    await storeShopSettings(db, shop, shopSettingsFromDetails(data), { connectedVia });
  });
  return data;
}

export type ConnectResult = {
  shop: string;
  name: string;
  email: string;
  ianaTimezone: string;
  currencyCode: string;
  webhooks: WebhookRegistration;
  import: "started" | "not_available";
};

/** `crm shop connect`: see the top of this file. A token Shopify refuses is not kept. */
export async function connectShop({ shop, accessToken }: { shop: string; accessToken: string }): Promise<ConnectResult> {
  if (!isShopDomain(shop)) throw new ShopConnectionError("invalid", "--shop must be a *.myshopify.com domain");
  if (!/^\S{8,}$/.test(accessToken)) throw new ShopConnectionError("invalid", "--access-token must be the custom app's Admin API access token (shpat_...)");
  const storage = getShopify().sessionStorage;
  const id = `offline_${shop}`;
  const previous = await storage.loadSession(id);
  await storage.storeSession(new Session({ id, shop, state: "", isOnline: false, accessToken, scope: getEnv().SCOPES }));
  let details: ShopDetails;
  try {
    details = await fetchAndStoreSettings(shop, "token");
  } catch (error) {
    // Put back what was there (an earlier working session), or remove the refused token.
    if (previous) await storage.storeSession(previous);
    else await storage.deleteSession(id);
    if (error instanceof ShopifyAdminError) {
      if (error.kind === "invalid_token" || error.kind === "forbidden")
        throw new ShopConnectionError("refused", `Shopify refused the access token for ${shop} (${error.message}): nothing was stored`);
      throw new ShopConnectionError("unavailable", `could not reach ${shop} (${error.kind}: ${error.message}): nothing was stored`);
    }
    throw error;
  }
  if (details.myshopifyDomain && details.myshopifyDomain.toLowerCase() !== shop) {
    logger.warn({ shop, answered: details.myshopifyDomain }, "shop.connect_domain_differs");
  }
  const webhooks = await registerWebhooks(shop);
  const imported = await startImportIfWired(shop);
  logger.info({ shop, created: webhooks.created.length, existing: webhooks.existing.length, failed: webhooks.failed.length, import: imported }, "shop.connected");
  return {
    shop,
    name: details.name,
    email: details.email,
    ianaTimezone: details.ianaTimezone,
    currencyCode: details.currencyCode,
    webhooks,
    import: imported,
  };
}

/**
 * After an embedded install (afterAuth): the shop's settings, then the import. Never throws
 * (the merchant's install must not fail on it): a failure is logged and the admin's
 * time-zone read (shop-format.server.ts) tries again later.
 */
export async function onShopInstalled(shop: string): Promise<void> {
  try {
    await fetchAndStoreSettings(shop, "install");
  } catch (error) {
    logger.warn({ shop, err: error instanceof Error ? { name: error.name, message: error.message } : String(error) }, "shop.settings_unavailable");
  }
  try {
    await startImportIfWired(shop);
  } catch (error) {
    logger.error({ shop, err: error instanceof Error ? { name: error.name, message: error.message } : String(error) }, "shop.import_start_failed");
  }
}

export type ShopView = {
  domain: string;
  name: string | null;
  email: string | null;
  currencyCode: string | null;
  ianaTimezone: string | null;
  scopes: string | null;
  connectedVia: string | null;
  installedAt: string;
  uninstalledAt: string | null;
  settingsUpdatedAt: string | null;
  settings: Record<string, unknown> | null;
  session: { offline: boolean; scope: string | null; expires: string | null };
};

/** `crm shop show`: the stored shop, without any token. Null when the shop is unknown. */
export async function showShop(shop: string): Promise<ShopView | null> {
  const pool = getPool();
  const { rows } = await pool.query<{
    domain: string;
    name: string | null;
    email: string | null;
    currency: string | null;
    zone: string | null;
    scopes: string | null;
    connected_via: string | null;
    installed_at: Date;
    uninstalled_at: Date | null;
    settings_updated_at: Date | null;
    settings: Record<string, unknown> | null;
  }>(
    `SELECT domain, name, email, "currencyCode" AS currency, "ianaTimezone" AS zone, scopes, connected_via, installed_at, uninstalled_at,
            settings_updated_at, settings
       FROM shops WHERE domain = $1`,
    [shop],
  );
  const row = rows[0];
  if (!row) return null;
  const { rows: sessions } = await pool.query<{ scope: string | null; expires: Date | null }>(
    `SELECT scope, expires FROM "Session" WHERE shop = $1 AND "isOnline" = false ORDER BY id LIMIT 1`,
    [shop],
  );
  const session = sessions[0];
  return {
    domain: row.domain,
    name: row.name,
    email: row.email,
    currencyCode: row.currency,
    ianaTimezone: row.zone,
    scopes: row.scopes,
    connectedVia: row.connected_via,
    installedAt: row.installed_at.toISOString(),
    uninstalledAt: row.uninstalled_at?.toISOString() ?? null,
    settingsUpdatedAt: row.settings_updated_at?.toISOString() ?? null,
    settings: row.settings,
    session: { offline: session !== undefined, scope: session?.scope ?? null, expires: session?.expires?.toISOString() ?? null },
  };
}
