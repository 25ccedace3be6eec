// The twin's auth: what Shopify's /admin/oauth/* endpoints and the admin's session tokens
// do for an app, so the app's real auth code (@shopify/shopify-api 15 token exchange,
// refresh, OAuth callback) runs against the twin.
//
// - Session tokens (`id_token` / `Authorization: Bearer`): HS256 JWTs signed with the app
//   secret, aud = API key, iss = https://{shop}/admin, dest = https://{shop}
//   (`mintSessionToken`; the twin's admin page mints one for each app opening).
// - POST /admin/oauth/access_token (JSON or form body), with client_id + client_secret:
//   - token exchange: grant_type urn:ietf:params:oauth:grant-type:token-exchange,
//     subject_token = a session token (verified: signature with that app's secret,
//     aud = client_id, exp/nbf, dest = the shop), requested_token_type offline or online,
//     expiring=1 for expiring offline tokens (expires_in, refresh_token,
//     refresh_token_expires_in);
//   - refresh: grant_type refresh_token (rotates: the old refresh token stops working);
//   - authorization code: `code` from GET /admin/oauth/authorize (single use, 10 min).
//   Failures answer 400 with {error, error_description} like Shopify; a session token that
//   fails verification is `invalid_subject_token` (what shopify-app-remix looks for to
//   bounce the merchant through a fresh token).
// - Access tokens issued here are what the twin's Admin GraphQL accepts for that shop
//   (an expired one answers 401), see AdminTwin.
//
// Lifetimes are Shopify's (access 1 h, refresh 90 days, session token 1 min) unless the
// options shorten or lengthen them (tests use short ones; the demo longer session tokens,
// because the local App Bridge stand-in cannot fetch fresh ones).
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";

export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
export const ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token";
export const OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token";
export const ONLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:online-access-token";

/** Leeway on exp/nbf, as Shopify's libraries allow (10 s). */
const CLOCK_TOLERANCE_S = 10;

export type TwinApp = {
  apiKey: string;
  apiSecret: string;
  scopes: string[];
  /** The app's URL (application_url): where the twin's admin opens the embedded app. */
  appUrl?: string;
};
export type AuthLifetimes = {
  /** Expiring offline and online access tokens (Shopify: 3,600 s). */
  accessTokenSeconds: number;
  /** Refresh tokens (Shopify: 90 days). */
  refreshTokenSeconds: number;
  /** Session tokens minted by the twin's admin (Shopify: 60 s). */
  sessionTokenSeconds: number;
};
export const SHOPIFY_LIFETIMES: AuthLifetimes = { accessTokenSeconds: 3600, refreshTokenSeconds: 90 * 86_400, sessionTokenSeconds: 60 };

export type IssuedToken = { token: string; shop: string; apiKey: string; scope: string; online: boolean; expiresAt: number | null; issuedAt: number; grant: string };
type RefreshGrant = { shop: string; apiKey: string; scope: string; expiresAt: number };
type CodeGrant = { shop: string; apiKey: string; scope: string; expiresAt: number };

export type TokenResponse = { status: number; body: Record<string, unknown> };

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/** A session token as the Shopify admin's App Bridge hands it to an embedded app. */
export function mintSessionToken(options: {
  shop: string;
  apiKey: string;
  apiSecret: string;
  userId?: string;
  lifetimeSeconds?: number;
  now?: number;
}): string {
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const header = { alg: "HS256", typ: "JWT" };
  const payload = {
    iss: `https://${options.shop}/admin`,
    dest: `https://${options.shop}`,
    aud: options.apiKey,
    sub: options.userId ?? "1",
    exp: now + (options.lifetimeSeconds ?? SHOPIFY_LIFETIMES.sessionTokenSeconds),
    nbf: now,
    iat: now,
    jti: randomUUID(),
    sid: randomBytes(16).toString("hex"),
  };
  const unsigned = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${unsigned}.${createHmac("sha256", options.apiSecret).update(unsigned).digest("base64url")}`;
}

export type SessionTokenClaims = { iss: string; dest: string; aud: string; sub?: string; exp: number; nbf?: number; iat?: number; jti?: string; sid?: string };

/** Verifies a session token like Shopify: HS256 with the secret, aud, exp and nbf. Throws with the reason. */
export function verifySessionToken(token: string, app: Pick<TwinApp, "apiKey" | "apiSecret">, nowMs = Date.now()): SessionTokenClaims {
  const parts = token.split(".");
  if (parts.length !== 3) throw new Error("malformed JWT");
  const [h, p, s] = parts as [string, string, string];
  let header: { alg?: string };
  let claims: SessionTokenClaims;
  try {
    header = JSON.parse(Buffer.from(h, "base64url").toString("utf8"));
    claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8"));
  } catch {
    throw new Error("malformed JWT");
  }
  if (header.alg !== "HS256") throw new Error(`unexpected alg ${String(header.alg)}`);
  const expected = createHmac("sha256", app.apiSecret).update(`${h}.${p}`).digest();
  const given = Buffer.from(s, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new Error("signature verification failed");
  const now = nowMs / 1000;
  if (typeof claims.exp !== "number" || claims.exp + CLOCK_TOLERANCE_S < now) throw new Error("token expired");
  if (typeof claims.nbf === "number" && claims.nbf - CLOCK_TOLERANCE_S > now) throw new Error("token not yet valid");
  if (claims.aud !== app.apiKey) throw new Error("aud does not match the client id");
  return claims;
}

const hostOf = (url: unknown) => {
  try {
    return new URL(String(url)).hostname;
  } catch {
    return "";
  }
};

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Shopify's admin-signed query HMAC (OAuth callback): sorted keys, URL-encoded, hex HMAC-SHA256. */
export function signAdminQuery(params: Record<string, string>, secret: string): string {
  const q = new URLSearchParams();
  for (const key of Object.keys(params).sort((a, b) => a.localeCompare(b))) q.append(key, params[key]!);
  return createHmac("sha256", secret).update(q.toString().replace(/\+/g, "%20")).digest("hex");
}

export class TwinAuth {
  private readonly apps = new Map<string, TwinApp>();
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly tokensByShop = new Map<string, Set<string>>();
  private readonly refreshGrants = new Map<string, RefreshGrant>();
  private readonly codes = new Map<string, CodeGrant>();
  readonly lifetimes: AuthLifetimes;
  /** Every token request and its outcome, oldest first (tests and the demo read it). */
  readonly log: { at: number; shop: string; grant: string; status: number; error?: string }[] = [];

  constructor(
    apps: TwinApp[] = [],
    lifetimes: Partial<AuthLifetimes> = {},
    private readonly now: () => number = Date.now,
  ) {
    for (const app of apps) this.registerApp(app);
    this.lifetimes = { ...SHOPIFY_LIFETIMES, ...lifetimes };
  }

  registerApp(app: TwinApp) {
    this.apps.set(app.apiKey, app);
  }

  app(apiKey: string): TwinApp | undefined {
    return this.apps.get(apiKey);
  }

  /** A session token for an app opened in this shop's admin. */
  sessionToken(shop: string, apiKey: string, options: { userId?: string; lifetimeSeconds?: number } = {}): string {
    const app = this.apps.get(apiKey);
    if (!app) throw new Error(`twin: unknown app ${apiKey}`);
    return mintSessionToken({ shop, apiKey, apiSecret: app.apiSecret, userId: options.userId, lifetimeSeconds: options.lifetimeSeconds ?? this.lifetimes.sessionTokenSeconds, now: this.now() });
  }

  /** True when the shop has been issued tokens through this twin: only those are accepted then. */
  hasIssuedTokens(shop: string): boolean {
    return (this.tokensByShop.get(shop)?.size ?? 0) > 0;
  }

  /** The issued token if it belongs to the shop and has not expired. */
  validToken(shop: string, token: string): IssuedToken | undefined {
    const t = this.tokens.get(token);
    if (!t || t.shop !== shop) return undefined;
    if (t.expiresAt !== null && t.expiresAt <= this.now()) return undefined;
    return t;
  }

  issuedTokens(shop?: string): IssuedToken[] {
    return [...this.tokens.values()].filter((t) => shop === undefined || t.shop === shop);
  }

  /** Expires an access token now (tests: the app must refresh). */
  expireToken(token: string) {
    const t = this.tokens.get(token);
    if (t) t.expiresAt = this.now() - 1;
  }

  /** Starts OAuth (GET /admin/oauth/authorize): the merchant approves at once; returns the redirect URL. */
  authorize(shop: string, query: URLSearchParams): { status: number; location?: string; body?: Record<string, unknown> } {
    const apiKey = query.get("client_id") ?? "";
    const app = this.apps.get(apiKey);
    const redirectUri = query.get("redirect_uri");
    if (!app) return { status: 400, body: { error: "invalid_request", error_description: "Oauth error invalid_request: The client_id is invalid" } };
    if (!redirectUri || !/^https?:\/\//.test(redirectUri)) return { status: 400, body: { error: "invalid_request", error_description: "Oauth error invalid_request: The redirect_uri is missing or not whitelisted" } };
    const code = randomBytes(16).toString("hex");
    const scope = query.get("scope") || app.scopes.join(",");
    this.codes.set(code, { shop, apiKey, scope, expiresAt: this.now() + 10 * 60_000 });
    const storeName = shop.replace(/\.myshopify\.com$/, "");
    const params: Record<string, string> = {
      code,
      host: Buffer.from(`admin.shopify.com/store/${storeName}`).toString("base64url"),
      shop,
      state: query.get("state") ?? "",
      timestamp: String(Math.floor(this.now() / 1000)),
    };
    const location = new URL(redirectUri);
    for (const [k, v] of Object.entries(params)) location.searchParams.set(k, v);
    location.searchParams.set("hmac", signAdminQuery(params, app.apiSecret));
    return { status: 302, location: location.toString() };
  }

  /** POST /admin/oauth/access_token for a shop. */
  tokenRequest(shop: string, body: Record<string, unknown>): TokenResponse {
    const grant = String(body.grant_type ?? (body.code !== undefined ? "authorization_code" : ""));
    const result = this.token(shop, body, grant);
    this.log.push({ at: this.now(), shop, grant, status: result.status, ...(result.status !== 200 ? { error: String(result.body.error) } : {}) });
    return result;
  }

  private token(shop: string, body: Record<string, unknown>, grant: string): TokenResponse {
    const fail = (error: string, description: string, status = 400): TokenResponse => ({ status, body: { error, error_description: description } });
    const apiKey = String(body.client_id ?? "");
    const app = this.apps.get(apiKey);
    if (!app || typeof body.client_secret !== "string" || !safeEqual(body.client_secret, app.apiSecret))
      return fail("invalid_client", "Client credentials are invalid", 401);
    const expiring = String(body.expiring ?? "0") === "1";

    if (grant === TOKEN_EXCHANGE_GRANT) {
      if (typeof body.subject_token !== "string" || body.subject_token === "") return fail("missing_subject_token", "");
      if (body.subject_token_type !== ID_TOKEN_TYPE) return fail("invalid_request", "Unsupported subject_token_type");
      let claims: SessionTokenClaims;
      try {
        claims = verifySessionToken(body.subject_token, app, this.now());
      } catch (e) {
        return fail("invalid_subject_token", `Session token is invalid: ${(e as Error).message}`);
      }
      if (hostOf(claims.dest) !== shop) return fail("invalid_subject_token", "Session token was issued for another shop");
      const requested = body.requested_token_type ?? OFFLINE_TOKEN_TYPE;
      if (requested === ONLINE_TOKEN_TYPE) return { status: 200, body: this.issueOnline(shop, app, claims) };
      if (requested !== OFFLINE_TOKEN_TYPE) return fail("invalid_request", "Unsupported requested_token_type");
      return { status: 200, body: this.issueOffline(shop, app, app.scopes.join(","), expiring, "token_exchange") };
    }

    if (grant === "refresh_token") {
      const refresh = typeof body.refresh_token === "string" ? this.refreshGrants.get(body.refresh_token) : undefined;
      if (!refresh || refresh.shop !== shop || refresh.apiKey !== apiKey || refresh.expiresAt <= this.now())
        return fail("invalid_grant", "Token has been expired or revoked.");
      this.refreshGrants.delete(String(body.refresh_token)); // rotation
      return { status: 200, body: this.issueOffline(shop, app, refresh.scope, true, "refresh_token") };
    }

    if (grant === "authorization_code") {
      const code = typeof body.code === "string" ? this.codes.get(body.code) : undefined;
      if (!code || code.shop !== shop || code.apiKey !== apiKey || code.expiresAt <= this.now())
        return fail("invalid_request", "The authorization code was not found or was already used");
      this.codes.delete(String(body.code)); // single use
      return { status: 200, body: this.issueOffline(shop, app, code.scope, expiring, "authorization_code") };
    }

    return fail("unsupported_grant_type", `Unsupported grant_type ${grant || "(none)"}`);
  }

  private remember(t: IssuedToken) {
    this.tokens.set(t.token, t);
    let set = this.tokensByShop.get(t.shop);
    if (!set) this.tokensByShop.set(t.shop, (set = new Set()));
    set.add(t.token);
  }

  private issueOffline(shop: string, app: TwinApp, scope: string, expiring: boolean, grant: string): Record<string, unknown> {
    const now = this.now();
    const token = `shpat_${randomBytes(16).toString("hex")}`;
    this.remember({ token, shop, apiKey: app.apiKey, scope, online: false, expiresAt: expiring ? now + this.lifetimes.accessTokenSeconds * 1000 : null, issuedAt: now, grant });
    if (!expiring) return { access_token: token, scope };
    const refreshToken = `shprt_${randomBytes(16).toString("hex")}`;
    this.refreshGrants.set(refreshToken, { shop, apiKey: app.apiKey, scope, expiresAt: now + this.lifetimes.refreshTokenSeconds * 1000 });
    return {
      access_token: token,
      expires_in: this.lifetimes.accessTokenSeconds,
      refresh_token: refreshToken,
      refresh_token_expires_in: this.lifetimes.refreshTokenSeconds,
      scope,
    };
  }

  private issueOnline(shop: string, app: TwinApp, claims: SessionTokenClaims): Record<string, unknown> {
    const now = this.now();
    const token = `shpua_${randomBytes(16).toString("hex")}`;
    const scope = app.scopes.join(",");
    this.remember({ token, shop, apiKey: app.apiKey, scope, online: true, expiresAt: now + this.lifetimes.accessTokenSeconds * 1000, issuedAt: now, grant: "token_exchange" });
    const userId = Number(claims.sub ?? 1);
    return {
      access_token: token,
      scope,
      expires_in: this.lifetimes.accessTokenSeconds,
      associated_user_scope: scope,
      session: claims.sid ?? randomUUID(),
      account_number: 0,
      associated_user: {
        id: userId,
        first_name: "Twin",
        last_name: "Merchant",
        email: `merchant+${userId}@example.com`,
        account_owner: true,
        locale: "en",
        collaborator: false,
        email_verified: true,
      },
    };
  }
}

/** Parses a token request body: JSON (what shopify-api sends) or a form. */
export function parseTokenBody(raw: Buffer, contentType: string | undefined): Record<string, unknown> | undefined {
  const text = raw.toString("utf8");
  if ((contentType ?? "").includes("application/x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(text));
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
