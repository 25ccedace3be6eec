// Development and tests only: send the Shopify library's requests for https://{shop}
// (token exchange, token refresh, OAuth, Admin GraphQL) to the local Shopify twin
// (tests/twin/) instead of Shopify.
//
// The Shopify packages have no setting for the shop's host: @shopify/graphql-client forces
// https://{shop}, and the web-api adapter sets the library's fetch when it is imported.
// The supported seam is setAbstractFetchFunc from '@shopify/shopify-api/runtime', called
// after those imports (PLATFORM.md 4.6). Installed only when SHOPIFY_TWIN_URL is set,
// which app/env.server.ts refuses when NODE_ENV=production; installTwinFetch checks again
// and logs a warning when it installs, so it is never silent.
import { setAbstractFetchFunc } from "@shopify/shopify-api/runtime";
import type { Env } from "../env.server";
import { logger } from "../logger.server";

/** Header naming the shop of a rewritten request (the path prefix names it too). */
export const TWIN_SHOP_HEADER = "x-shopify-twin-shop";

const SHOP_HOST = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/i;

/**
 * https://{shop}.myshopify.com/admin/... -> {twin}/{shop}.myshopify.com/admin/...; any other
 * URL is returned unchanged (null).
 */
export function rewriteForTwin(url: string, twinOrigin: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (!SHOP_HOST.test(parsed.hostname)) return null;
  const twin = new URL(twinOrigin);
  return `${twin.origin}/${parsed.hostname.toLowerCase()}${parsed.pathname}${parsed.search}`;
}

/** A fetch that sends *.myshopify.com requests to the twin and everything else through `base`. */
export function createTwinFetch(twinOrigin: string, base: typeof fetch = globalThis.fetch): typeof fetch {
  return async (input: string | URL | Request, init?: RequestInit) => {
    const href = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const target = rewriteForTwin(href, twinOrigin);
    if (!target) return base(input, init);
    const shop = new URL(href).hostname.toLowerCase();
    // The library calls fetch(url string, init); a Request is read into the same shape.
    const source = input instanceof Request ? new Request(input, init) : undefined;
    const headers = new Headers(source ? source.headers : init?.headers);
    headers.set(TWIN_SHOP_HEADER, shop);
    if (!source) return base(target, { ...init, headers });
    const body = source.method === "GET" || source.method === "HEAD" ? undefined : await source.arrayBuffer();
    return base(target, { method: source.method, headers, body, signal: source.signal, redirect: source.redirect });
  };
}

let installedFor: string | undefined;

/**
 * Installs the twin fetch when the environment asks for it (SHOPIFY_TWIN_URL). Returns
 * whether it is installed. Call after the Shopify packages are imported (app/shopify.server.ts
 * does, when it builds the Shopify app).
 */
export function installTwinFetch(env: Pick<Env, "NODE_ENV" | "SHOPIFY_TWIN_URL">): boolean {
  if (!env.SHOPIFY_TWIN_URL) return false;
  if (env.NODE_ENV === "production") {
    // env.server.ts already refuses this combination; never rely on one check alone.
    throw new Error("SHOPIFY_TWIN_URL must not be set when NODE_ENV=production");
  }
  if (installedFor === env.SHOPIFY_TWIN_URL) return true;
  setAbstractFetchFunc(createTwinFetch(env.SHOPIFY_TWIN_URL));
  installedFor = env.SHOPIFY_TWIN_URL;
  logger.warn({ twin: env.SHOPIFY_TWIN_URL }, "shopify.twin_fetch_installed");
  return true;
}

/** The twin origin Shopify requests go to, or undefined when they go to Shopify. */
export function twinFetchTarget(): string | undefined {
  return installedFor;
}

const SHOPIFY_INSTALL_URL = /^https:\/\/admin\.shopify\.com\/store\/([a-z0-9][a-z0-9-]*)\/oauth\/install\?client_id=([^&]+)$/i;

/**
 * Development and tests with the twin only: `login()` sends a merchant who typed a valid
 * shop domain to Shopify's install page (admin.shopify.com/store/{store}/oauth/install);
 * the twin's admin opens the installed app at {twin}/store/{store}/apps/{api key}. Returns
 * that URL for an install redirect, otherwise null (the redirect is left alone).
 */
export function twinAdminUrlForInstallRedirect(location: string | null, twinOrigin: string): string | null {
  const match = location ? SHOPIFY_INSTALL_URL.exec(location) : null;
  if (!match) return null;
  return `${new URL(twinOrigin).origin}/store/${match[1]!.toLowerCase()}/apps/${encodeURIComponent(decodeURIComponent(match[2]!))}`;
}
