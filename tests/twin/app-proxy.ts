// The twin's storefront and app proxy (PLATFORM.md 5.2-5.3): what https://{shop}/apps/crm/*
// does on Shopify. A request to /{prefix}/{subpath}/rest?query is forwarded to
// {application_url}{[app_proxy] url}/rest with the shopper's query plus Shopify's own
// parameters: shop, logged_in_customer_id (blank when nobody is signed in), path_prefix,
// timestamp, and the signature (hex HMAC-SHA256 with the app secret of the sorted
// `key=value` pairs, no separator, repeated keys joined with ","). The shopper's cookies are
// not forwarded, nor are cookies the app sets; a POST body and its Content-Type are, with
// X-Forwarded-Host (the shop) and X-Forwarded-For (the shopper's address) as Shopify adds.
//
// The storefront around it, for tests and the demo:
// - GET /account/login?customer_id=N[&return_to=/path]: signs the browser in as customer N
//   of that shop (a session cookie; a stand-in for Shopify's customer login), and
//   GET /account/logout signs it out;
// - pages a test registers (`setPage`), e.g. a page with the theme app block rendered in it;
// - GET /cdn/extensions/{handle}/assets/{file}: the theme app extension's assets, which
//   Shopify serves from its CDN (`asset_url`).
// Every route also answers under a /{shop}.myshopify.com prefix; without one the shop is
// the twin's default shop (one twin origin = one storefront in a browser).
import { createHmac, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { dirname, extname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseToml } from "smol-toml";
import { APP_TOML_PATH } from "./webhook-sender";

const here = dirname(fileURLToPath(import.meta.url));
export const EXTENSIONS_DIR = resolve(here, "../../extensions");

export type AppProxyConfig = { url: string; prefix: string; subpath: string };

/** Reads [app_proxy] of shopify.app.toml (the CLI's schema: url, prefix, subpath). */
export function readAppProxyConfig(path = APP_TOML_PATH): AppProxyConfig {
  const toml = parseToml(readFileSync(path, "utf8")) as { app_proxy?: Partial<AppProxyConfig> };
  const proxy = toml.app_proxy;
  if (!proxy?.url || !proxy.prefix || !proxy.subpath) throw new Error(`${path}: [app_proxy] needs url, prefix and subpath`);
  if (!["apps", "a", "community", "tools"].includes(proxy.prefix)) throw new Error(`${path}: [app_proxy] prefix must be apps, a, community or tools`);
  if (!/^[A-Za-z0-9_-]{1,30}$/.test(proxy.subpath)) throw new Error(`${path}: [app_proxy] subpath must be 1-30 letters, digits, - or _`);
  return { url: proxy.url, prefix: proxy.prefix, subpath: proxy.subpath };
}

/**
 * Shopify's app proxy signature of a query (PLATFORM.md 5.3): `signature` left out, keys
 * sorted, repeated keys' values joined with ",", `key=value` concatenated without a separator
 * or URL-encoding, hex HMAC-SHA256 with the app secret.
 */
export function appProxySignature(query: URLSearchParams, secret: string): string {
  const keys = [...new Set(query.keys())].filter((key) => key !== "signature").sort();
  const message = keys.map((key) => `${key}=${query.getAll(key).join(",")}`).join("");
  return createHmac("sha256", secret).update(message, "utf8").digest("hex");
}

export type ProxyQuery = {
  shop: string;
  /** Numeric customer id, or null when nobody is signed in (sent blank, as Shopify does). */
  loggedInCustomerId: string | null;
  pathPrefix: string;
  /** Seconds since the epoch. */
  timestamp: number;
};

/** The query Shopify sends the app: the shopper's parameters, Shopify's, and the signature. */
export function signedProxyQuery(shopperQuery: URLSearchParams, { shop, loggedInCustomerId, pathPrefix, timestamp }: ProxyQuery, secret: string): URLSearchParams {
  const query = new URLSearchParams();
  for (const [key, value] of shopperQuery) if (!RESERVED_PARAMS.has(key)) query.append(key, value);
  query.set("shop", shop);
  query.set("logged_in_customer_id", loggedInCustomerId ?? "");
  query.set("path_prefix", pathPrefix);
  query.set("timestamp", String(timestamp));
  query.set("signature", appProxySignature(query, secret));
  return query;
}

/** Parameters Shopify sets itself: a shopper's copies are dropped, never forwarded. */
const RESERVED_PARAMS = new Set(["shop", "logged_in_customer_id", "path_prefix", "timestamp", "signature", "hmac"]);

export type ProxiedApp = { apiSecret: string; appUrl: string; config?: AppProxyConfig };
export type ProxyLogEntry = { method: string; shop: string; customerId: string | null; target: string; status: number | null };

const SESSION_COOKIE = "twin_customer_session";
const CONTENT_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};
/** Request headers the proxy passes on (Shopify strips cookies). */
const FORWARDED_REQUEST_HEADERS = ["accept", "accept-language", "content-type", "user-agent"];

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolvePromise(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function cookieValue(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

export class StorefrontAppProxy {
  private app: (ProxiedApp & { config: AppProxyConfig }) | undefined;
  private readonly sessions = new Map<string, { shop: string; customerId: string }>();
  private readonly pages = new Map<string, string>();
  /** Every proxied request, oldest first. */
  readonly log: ProxyLogEntry[] = [];
  /** Time the proxy response may take (Shopify gives up after about 10 s). */
  timeoutMs = 10_000;

  constructor(
    private readonly now: () => number,
    app?: ProxiedApp,
  ) {
    if (app) this.setApp(app);
  }

  /** The app the proxy forwards to (its URL is known once its server runs). */
  setApp(app: ProxiedApp): void {
    this.app = { ...app, config: app.config ?? readAppProxyConfig() };
  }

  get pathPrefix(): string {
    const config = this.app?.config ?? readAppProxyConfig();
    return `/${config.prefix}/${config.subpath}`;
  }

  /** Signs a browser in as a customer of `shop`: the value of the session cookie. */
  login(shop: string, customerId: string | bigint): string {
    const token = randomBytes(18).toString("base64url");
    this.sessions.set(token, { shop, customerId: String(customerId) });
    return token;
  }

  /** The cookie header a fetch-based test sends to be signed in. */
  cookieFor(token: string): string {
    return `${SESSION_COOKIE}=${token}`;
  }

  /** Serves `html` at `path` of the shop's storefront (e.g. "/pages/rewards"). */
  setPage(shop: string, path: string, html: string): void {
    this.pages.set(`${shop}${path}`, html);
  }

  /**
   * Answers storefront routes; false when the path is not one (the Admin twin goes on).
   * `shopFor(pathShop)` names the shop as the Admin twin does.
   */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL, shopFor: (pathShop: string | undefined) => string): Promise<boolean> {
    const match = /^(?:\/([a-z0-9][a-z0-9-]*\.myshopify\.com))?(\/.*)$/.exec(url.pathname);
    if (!match) return false;
    const pathShop = match[1];
    const path = match[2]!;
    const text = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers });
      res.end(body);
    };

    const prefix = this.pathPrefix;
    if (path === prefix || path.startsWith(`${prefix}/`)) {
      await this.forward(req, res, url, shopFor(pathShop), path.slice(prefix.length));
      return true;
    }
    if (path === "/account/login" && req.method === "GET") {
      const customerId = url.searchParams.get("customer_id") ?? "";
      if (!/^[1-9]\d{0,19}$/.test(customerId)) {
        text(400, "customer_id must be a customer id");
        return true;
      }
      const token = this.login(shopFor(pathShop), customerId);
      const returnTo = url.searchParams.get("return_to");
      const location = returnTo && returnTo.startsWith("/") && !returnTo.startsWith("//") ? returnTo : null;
      const cookie = `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax`;
      if (location) res.writeHead(302, { location, "set-cookie": cookie, "content-length": 0 }).end();
      else text(200, `signed in as customer ${customerId}`, { "set-cookie": cookie });
      return true;
    }
    if (path === "/account/logout" && req.method === "GET") {
      const token = cookieValue(req, SESSION_COOKIE);
      if (token) this.sessions.delete(token);
      text(200, "signed out", { "set-cookie": `${SESSION_COOKIE}=; Path=/; Max-Age=0` });
      return true;
    }
    const asset = /^\/cdn\/extensions\/([a-z0-9-]+)\/assets\/([A-Za-z0-9._-]+)$/.exec(path);
    if (asset && req.method === "GET") {
      const file = resolve(EXTENSIONS_DIR, asset[1]!, "assets", asset[2]!);
      if (!file.startsWith(EXTENSIONS_DIR) || !existsSync(file)) text(404, "Not Found");
      else {
        const body = readFileSync(file);
        res.writeHead(200, { "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream", "content-length": body.length });
        res.end(body);
      }
      return true;
    }
    const page = req.method === "GET" ? this.pages.get(`${shopFor(pathShop)}${path}`) : undefined;
    if (page !== undefined) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(page);
      return true;
    }
    return false;
  }

  private async forward(req: IncomingMessage, res: ServerResponse, url: URL, shop: string, rest: string): Promise<void> {
    const app = this.app;
    if (!app) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("No app proxy is configured on this twin (StorefrontAppProxy.setApp).");
      return;
    }
    const token = cookieValue(req, SESSION_COOKIE);
    const session = token ? this.sessions.get(token) : undefined;
    const customerId = session && session.shop === shop ? session.customerId : null;
    const query = signedProxyQuery(url.searchParams, { shop, loggedInCustomerId: customerId, pathPrefix: this.pathPrefix, timestamp: Math.trunc(this.now() / 1000) }, app.apiSecret);
    const base = /^https?:\/\//.test(app.config.url) ? app.config.url : `${app.appUrl.replace(/\/+$/, "")}${app.config.url}`;
    const target = `${base.replace(/\/+$/, "")}${rest}?${query}`;

    const headers = new Headers({ "x-forwarded-host": shop, "x-forwarded-for": req.socket.remoteAddress ?? "127.0.0.1" });
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = req.headers[name];
      if (typeof value === "string") headers.set(name, value);
    }
    const method = req.method ?? "GET";
    const body = method === "GET" || method === "HEAD" ? undefined : new Uint8Array(await readBody(req));
    const entry: ProxyLogEntry = { method, shop, customerId, target, status: null };
    this.log.push(entry);
    let response: Response;
    try {
      response = await fetch(target, { method, headers, body, redirect: "manual", signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      res.writeHead(502, { "content-type": "text/plain; charset=utf-8" }).end(`The app proxy could not reach the app: ${(error as Error).message}`);
      return;
    }
    entry.status = response.status;
    const out: Record<string, string> = {};
    for (const name of ["content-type", "cache-control", "location"]) {
      const value = response.headers.get(name);
      if (value) out[name] = value;
    }
    const payload = Buffer.from(await response.arrayBuffer());
    out["content-length"] = String(payload.length);
    res.writeHead(response.status, out);
    res.end(payload);
  }
}
