// The twin's Admin GraphQL API: POST /admin/api/{version}/graphql.json on node:http,
// executing documents with `graphql` against tests/twin/schema.graphql (a strict subset
// of the real 2026-07 Admin schema) and the in-memory state of each shop.
//
// Like Shopify:
// - X-Shopify-Access-Token is required (401 without it, or with a wrong one);
// - requests fail validation with graphql-ruby's messages and codes (graphql-errors.ts);
// - every executed request carries extensions.cost {requestedQueryCost, actualQueryCost,
//   throttleStatus}; a leaky bucket per shop (default 2,000 points, 100/s) answers
//   THROTTLED (HTTP 200) when it cannot cover the requested cost; queries above 1,000
//   points fail with MAX_COST_EXCEEDED;
// - bulk operations write JSONL files served by the twin (bulk-operations.ts);
// - auth (auth.ts): POST /admin/oauth/access_token (token exchange, refresh, authorization
//   code), GET /admin/oauth/authorize, and an admin page that opens an embedded app with a
//   fresh session token: GET /store/{store}/apps/{api key}[/path]. Once a shop has been
//   issued a token here, Admin GraphQL accepts only unexpired issued tokens (and the one
//   in `accessTokens`).
// Any route also answers under a /{shop}.myshopify.com prefix, which is how the app's
// fetch override (app/shopify/twin-fetch.server.ts) names the shop.
//
// TWIN_REQUEST_LOG=<path> appends every Admin GraphQL request as one JSON line
// {"query","variables","operationName"}.
import { appendFileSync, createReadStream, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  GraphQLError,
  Kind,
  buildSchema,
  executeRootSelectionSet,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  parse,
  typeFromAST,
  validateExecutionArgs,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidatedExecutionArgs,
} from "graphql";
import { fieldResolver, typeResolver, type TwinContext } from "./resolvers";
import { ANY_CALLER, type TwinCaller } from "./resolvers/shared";
import { TwinAuth, parseTokenBody, type AuthLifetimes, type TwinApp } from "./auth";
import { StorefrontAppProxy, type ProxiedApp } from "./app-proxy";
import { ShopState } from "./admin-state";
import { BulkRunner } from "./bulk-operations";
import { TwinWebhookDelivery, type TwinWebhookOptions } from "./webhook-delivery";
import { bulkOperationFinishMessage } from "./webhook-payloads";
import { inputSizeErrors, locationOf, rubySyntaxError, staticErrors, variableErrors, type ShopifyError } from "./graphql-errors";
import { MAX_SINGLE_QUERY_COST, actualQueryCost, requestedQueryCost } from "./query-cost";
import { TWIN_SCHEMA_PATH } from "./schema-subset";

export type BucketOptions = { maximumAvailable: number; restoreRate: number };
export type AdminTwinOptions = {
  port?: number;
  host?: string;
  bucket?: BucketOptions;
  /** Access tokens per shop domain. A shop without a registered token accepts any non-empty token. */
  accessTokens?: Record<string, string>;
  /**
   * Scopes granted to the `accessTokens` tokens, per shop (default: every scope, as a custom
   * app's Admin API token with all the app's scopes). Without `read_all_orders` only the
   * last 60 days of orders are visible.
   */
  accessTokenScopes?: Record<string, string[]>;
  /** Secret of the custom app behind `accessTokens`: signs the webhooks it registers. */
  customAppSecret?: string;
  /** Shop used when the request does not name one (Host is not *.myshopify.com). */
  defaultShop?: string;
  /** Path of the request log; defaults to process.env.TWIN_REQUEST_LOG. */
  requestLog?: string | null;
  /** Clock in milliseconds (bucket refills, timestamps). */
  now?: () => number;
  /** Numeric id of the calling app (resolves `$app` metafield namespaces). */
  appId?: string;
  /** Delay before a bulk operation completes (ms). */
  bulkDelayMs?: number;
  /** Called when a bulk operation finishes (e.g. to send bulk_operations/finish). */
  onBulkOperationFinish?: (shop: string, operation: import("./admin-state").BulkOperation) => void;
  /** Delivery of the twin's own webhooks (bulk_operations/finish, `webhooks.send`): webhook-delivery.ts. */
  webhooks?: TwinWebhookOptions;
  /** Apps known to the twin's auth endpoints (client id, secret, scopes, app URL). */
  apps?: TwinApp[];
  /** Token lifetimes (default: Shopify's). */
  authLifetimes?: Partial<AuthLifetimes>;
  /** The app behind the storefront's app proxy (app-proxy.ts); also settable later with `storefront.setApp`. */
  appProxy?: ProxiedApp;
};

export const THROTTLED_DOC = "https://shopify.dev/api/usage/rate-limits";
const INVALID_TOKEN_BODY = { errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" };

let schemaCache: GraphQLSchema | undefined;
export function twinSchema(): GraphQLSchema {
  if (!schemaCache) schemaCache = buildSchema(readFileSync(TWIN_SCHEMA_PATH, "utf8"));
  return schemaCache;
}

type Bucket = { available: number; at: number };
export type GraphQLResponseBody = {
  errors?: ShopifyError[];
  data?: Record<string, unknown> | null;
  extensions?: { cost: CostExtension };
};
export type CostExtension = {
  requestedQueryCost: number;
  actualQueryCost: number | null;
  throttleStatus: { maximumAvailable: number; currentlyAvailable: number; restoreRate: number };
};

export type GraphQLRequest = { query?: unknown; variables?: unknown; operationName?: unknown };

export class AdminTwin {
  readonly schema = twinSchema();
  readonly options: AdminTwinOptions;
  private readonly shops = new Map<string, ShopState>();
  private readonly buckets = new Map<string, Bucket>();
  private bucketConfig: BucketOptions;
  readonly bulk: BulkRunner;
  readonly auth: TwinAuth;
  /** The twin's webhooks to registered (and optionally toml) subscriptions (webhook-delivery.ts). */
  readonly webhooks: TwinWebhookDelivery;
  /** The storefront: app proxy, customer sign-in, pages, extension assets (app-proxy.ts). */
  readonly storefront: StorefrontAppProxy;
  private server: Server | undefined;
  url = "";
  requestCount = 0;

  constructor(options: AdminTwinOptions = {}) {
    this.options = options;
    this.bucketConfig = options.bucket ?? { maximumAvailable: 2000, restoreRate: 100 };
    this.auth = new TwinAuth(options.apps ?? [], options.authLifetimes ?? {}, () => this.now());
    this.webhooks = new TwinWebhookDelivery(this.auth, options.webhooks);
    this.bulk = new BulkRunner(this, {
      delayMs: options.bulkDelayMs ?? 20,
      onFinish: (shop, op) => {
        options.onBulkOperationFinish?.(shop, op);
        void this.webhooks.send(this.shop(shop), [bulkOperationFinishMessage(op)]);
      },
    });
    this.storefront = new StorefrontAppProxy(() => this.now(), options.appProxy);
  }

  now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** The state of a shop (created on first use). */
  shop(domain = this.options.defaultShop ?? "crm-twin.myshopify.com"): ShopState {
    let s = this.shops.get(domain);
    if (!s) {
      s = new ShopState(domain, () => this.now());
      this.shops.set(domain, s);
    }
    return s;
  }

  setBucket(config: BucketOptions) {
    this.bucketConfig = config;
    this.buckets.clear();
  }

  /** Current bucket level of a shop (after refill). */
  available(domain: string): number {
    return this.refill(domain).available;
  }

  private refill(domain: string): Bucket {
    const now = this.now();
    let b = this.buckets.get(domain);
    if (!b) {
      b = { available: this.bucketConfig.maximumAvailable, at: now };
      this.buckets.set(domain, b);
    }
    const elapsed = Math.max(0, now - b.at) / 1000;
    b.available = Math.min(this.bucketConfig.maximumAvailable, b.available + elapsed * this.bucketConfig.restoreRate);
    b.at = now;
    return b;
  }

  private throttleStatus(domain: string) {
    const b = this.refill(domain);
    return {
      maximumAvailable: this.bucketConfig.maximumAvailable,
      currentlyAvailable: Math.floor(b.available),
      restoreRate: this.bucketConfig.restoreRate,
    };
  }

  context(domain: string, apiVersion = "2026-07", caller: TwinCaller = ANY_CALLER): TwinContext {
    return { shop: this.shop(domain), baseUrl: this.url, apiVersion, appId: this.options.appId ?? "1234567", bulk: this.bulk, caller };
  }

  /**
   * The app behind an access token: an issued token carries the scopes it was granted and
   * its app's secret; a token from `accessTokens` is a custom app's Admin API token, with
   * `accessTokenScopes[shop]` (default: every scope) and `customAppSecret`.
   */
  callerFor(domain: string, token: string | undefined): TwinCaller {
    if (token && token === this.options.accessTokens?.[domain])
      return { scopes: this.options.accessTokenScopes?.[domain] ?? null, apiKey: null, secret: this.options.customAppSecret ?? null };
    const issued = token ? this.auth.validToken(domain, token) : undefined;
    if (issued) {
      const app = this.auth.app(issued.apiKey);
      return { scopes: issued.scope.split(",").map((x) => x.trim()).filter(Boolean), apiKey: issued.apiKey, secret: app?.apiSecret ?? null };
    }
    return { ...ANY_CALLER, secret: this.options.customAppSecret ?? null };
  }

  // ---------------------------------------------------------------- execution

  /** Executes one Admin GraphQL request for a shop, exactly as the HTTP endpoint would. */
  executeRequest(domain: string, body: GraphQLRequest, options: { apiVersion?: string; chargeCost?: boolean; caller?: TwinCaller } = {}): GraphQLResponseBody {
    const chargeCost = options.chargeCost ?? true;
    if (typeof body.query !== "string" || body.query.trim() === "") return { errors: [{ message: "No query string was present" }] };
    const variables = (body.variables && typeof body.variables === "object" ? body.variables : {}) as Record<string, unknown>;
    const prepared = this.prepare(body.query, typeof body.operationName === "string" && body.operationName ? body.operationName : null);
    if ("errors" in prepared) return { errors: prepared.errors };
    const { op, fragments } = prepared;
    const varErrs = variableErrors(this.schema, op, variables);
    if (varErrs.length > 0) return { errors: varErrs };

    const requested = requestedQueryCost(this.schema, op, fragments, variables);
    const status = () => this.throttleStatus(domain);
    if (requested > MAX_SINGLE_QUERY_COST) {
      return {
        errors: [
          {
            message:
              `Query cost is ${requested}, which exceeds the single query max cost limit (${MAX_SINGLE_QUERY_COST}).\n\n` +
              "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\n" +
              "To query larger amounts of data with fewer limits, bulk operations should be used instead.\n" +
              "See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n",
            extensions: { code: "MAX_COST_EXCEEDED", cost: requested, maxCost: MAX_SINGLE_QUERY_COST },
          },
        ],
        extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: status() } },
      };
    }
    const bucket = this.refill(domain);
    if (chargeCost && bucket.available < requested) {
      return {
        errors: [{ message: "Throttled", extensions: { code: "THROTTLED", documentation: THROTTLED_DOC } }],
        extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: status() } },
      };
    }
    if (chargeCost) bucket.available -= requested;

    // Input arrays over the limit are rejected before execution, cost charged (captured shape).
    const sizeErrs = inputSizeErrors(op, variables, (field, arg) => (field === "metafieldsSet" && arg === "metafields" ? 25 : undefined));
    if (sizeErrs.length > 0) return { errors: sizeErrs, extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: status() } } };

    const ctx = this.context(domain, options.apiVersion, options.caller);
    const result = executeOperation(this.schema, op, fragments, variables, ctx);
    const data = result.data ?? null;
    const actual = Math.min(requested, actualQueryCost(this.schema, op, fragments, variables, data));
    if (chargeCost) bucket.available = Math.min(this.bucketConfig.maximumAvailable, bucket.available + (requested - actual));
    const out: GraphQLResponseBody = {};
    if (result.errors?.length) out.errors = result.errors.map((e) => formatExecutionError(e));
    out.data = data;
    out.extensions = { cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: status() } };
    return out;
  }

  /** Executes an already validated operation without charging cost (bulk operations). */
  execute(ctx: TwinContext, op: OperationDefinitionNode, variables: Record<string, unknown>, fragments: Record<string, FragmentDefinitionNode> = {}) {
    return executeOperation(this.schema, op, fragments, variables, ctx);
  }

  private readonly prepared = new Map<string, { op: OperationDefinitionNode; fragments: Record<string, FragmentDefinitionNode> } | { errors: ShopifyError[] }>();

  /** Parse, pick the operation and validate statically; cached per document text (documents repeat). */
  private prepare(query: string, opName: string | null) {
    const key = `${opName ?? ""}\u0000${query}`;
    const cached = this.prepared.get(key);
    if (cached) return cached;
    let result: { op: OperationDefinitionNode; fragments: Record<string, FragmentDefinitionNode> } | { errors: ShopifyError[] };
    let document: DocumentNode | undefined;
    try {
      document = parse(query);
    } catch (e) {
      const r = rubySyntaxError(query, e as GraphQLError);
      result = { errors: [{ message: r.message, ...(r.location ? { locations: [r.location] } : {}) }] };
    }
    if (document) {
      const ops = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
      const op = opName ? ops.find((o) => o.name?.value === opName) : ops.length === 1 ? ops[0] : undefined;
      const staticErrs = op ? staticErrors(this.schema, document) : [];
      if (!op) result = { errors: [{ message: opName ? `No operation named "${opName}"` : "An operation name is required" }] };
      else if (staticErrs.length > 0) result = { errors: staticErrs };
      else
        result = {
          op,
          fragments: Object.fromEntries(
            document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
          ),
        };
    }
    if (this.prepared.size >= 1000) this.prepared.delete(this.prepared.keys().next().value!);
    this.prepared.set(key, result!);
    return result!;
  }

  // ---------------------------------------------------------------- HTTP

  async listen(port = this.options.port ?? 0, host = this.options.host ?? "127.0.0.1"): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ errors: [{ message: "Internal error", extensions: { code: "INTERNAL_SERVER_ERROR" } }] }));
        console.error("twin: request failed", e);
      });
    });
    this.server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve) => this.server!.listen(port, host, resolve));
    const addr = this.server.address() as AddressInfo;
    this.url = `http://${host}:${addr.port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.bulk.stop();
    await this.webhooks.idle();
    if (!this.server) return;
    const server = this.server;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private shopFor(req: IncomingMessage, pathShop: string | undefined): string {
    if (pathShop) return pathShop;
    const host = (req.headers.host ?? "").split(":")[0]!;
    if (host.endsWith(".myshopify.com")) return host;
    const token = req.headers["x-shopify-access-token"];
    if (typeof token === "string") {
      for (const [shop, t] of Object.entries(this.options.accessTokens ?? {})) if (t === token) return shop;
      const issued = this.auth.issuedTokens().find((t) => t.token === token);
      if (issued) return issued.shop;
    }
    return this.options.defaultShop ?? "crm-twin.myshopify.com";
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://twin.local");
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), ...headers });
      res.end(text);
    };

    // Bulk operation results and staged uploads (stand-ins for Shopify's storage buckets).
    const bulkFile = /^\/bulk-results\/([^/]+)\/(\d+)\.jsonl$/.exec(url.pathname);
    if (bulkFile && req.method === "GET") {
      const file = this.bulk.resultPath(decodeURIComponent(bulkFile[1]!), bulkFile[2]!);
      if (!file) return send(404, { errors: "Not Found" });
      res.writeHead(200, { "content-type": "application/jsonl", "content-length": statSync(file).size });
      createReadStream(file).pipe(res);
      return;
    }
    const staged = /^\/staged-uploads\/([^/]+)$/.exec(url.pathname);
    if (staged && (req.method === "POST" || req.method === "PUT")) {
      const raw = await readBody(req);
      const status = await this.bulk.acceptUpload(decodeURIComponent(staged[1]!), req, raw, url.searchParams.get("key"));
      res.writeHead(status.status, { "content-type": status.contentType });
      res.end(status.body);
      return;
    }

    // Auth: OAuth endpoints and the admin page that opens an embedded app.
    const oauth = /^(?:\/([^/]+\.myshopify\.com))?\/admin\/oauth\/(access_token|authorize)$/.exec(url.pathname);
    if (oauth) {
      const shop = this.shopFor(req, oauth[1]);
      if (oauth[2] === "authorize") {
        if (req.method !== "GET") return send(405, { errors: "Method Not Allowed" }, { allow: "GET" });
        const r = this.auth.authorize(shop, url.searchParams);
        if (r.location) {
          res.writeHead(r.status, { location: r.location, "content-length": 0 });
          return res.end();
        }
        return send(r.status, r.body);
      }
      if (req.method !== "POST") return send(405, { errors: "Method Not Allowed" }, { allow: "POST" });
      const body = parseTokenBody(await readBody(req), req.headers["content-type"]);
      if (!body) return send(400, { error: "invalid_request", error_description: "The request body could not be parsed" });
      const r = this.auth.tokenRequest(shop, body);
      return send(r.status, r.body, { "cache-control": "no-store" });
    }
    const adminPage = /^\/store\/([a-z0-9][a-z0-9-]*)\/apps\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (adminPage && req.method === "GET") return this.openApp(res, adminPage[1]!, decodeURIComponent(adminPage[2]!), adminPage[3] ?? "", url.searchParams);

    const m = /^(?:\/([^/]+\.myshopify\.com))?\/admin\/api\/([^/]+)\/graphql\.json$/.exec(url.pathname);
    if (!m && (await this.storefront.handle(req, res, url, (pathShop) => this.shopFor(req, pathShop)))) return;
    if (!m) return send(404, { errors: "Not Found" });
    const version = m[2]!;
    if (!/^(\d{4}-\d{2}|unstable)$/.test(version)) return send(404, { errors: "Not Found" });
    if (req.method !== "POST") return send(405, { errors: "Method Not Allowed" }, { allow: "POST" });
    const shopDomain = this.shopFor(req, m[1]);
    const token = req.headers["x-shopify-access-token"];
    const expected = this.options.accessTokens?.[shopDomain];
    const accepted =
      typeof token === "string" &&
      token !== "" &&
      (token === expected || this.auth.validToken(shopDomain, token) !== undefined || (expected === undefined && !this.auth.hasIssuedTokens(shopDomain)));
    if (!accepted) return send(401, INVALID_TOKEN_BODY);

    const raw = await readBody(req);
    let body: GraphQLRequest;
    try {
      body = JSON.parse(raw.toString("utf8")) as GraphQLRequest;
    } catch {
      return send(400, { errors: { query: "Required parameter missing or invalid" } });
    }
    if (body === null || typeof body !== "object" || typeof body.query !== "string")
      return send(400, { errors: { query: "Required parameter missing or invalid" } });
    this.requestCount++;
    const logPath = this.options.requestLog === undefined ? process.env.TWIN_REQUEST_LOG : this.options.requestLog;
    if (logPath) appendFileSync(logPath, `${JSON.stringify({ query: body.query, variables: body.variables ?? null, operationName: body.operationName ?? null })}\n`);
    const result = this.executeRequest(shopDomain, body, { apiVersion: version, caller: this.callerFor(shopDomain, token) });
    send(200, result, { "x-shopify-api-version": version, "x-request-id": crypto.randomUUID() });
  }

  /**
   * The Shopify admin opening an embedded app (admin.shopify.com/store/{store}/apps/{app}):
   * redirects to the app URL with embedded=1, shop, host and a freshly minted session token,
   * the query Shopify adds to the iframe URL. A bookmark of this page therefore never holds
   * an expired token.
   */
  private openApp(res: ServerResponse, store: string, apiKey: string, subPath: string, query: URLSearchParams) {
    const app = this.auth.app(apiKey);
    const text = (status: number, message: string) => {
      res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
      res.end(message);
    };
    if (!app?.appUrl) return text(404, `No app ${apiKey} with an app URL is known to the twin.`);
    const shop = `${store}.myshopify.com`;
    const target = new URL(`${app.appUrl.replace(/\/+$/, "")}${subPath || "/app"}`);
    for (const [k, v] of query) target.searchParams.set(k, v);
    target.searchParams.set("embedded", "1");
    target.searchParams.set("host", Buffer.from(`admin.shopify.com/store/${store}`).toString("base64"));
    target.searchParams.set("shop", shop);
    target.searchParams.set("locale", "en");
    target.searchParams.set("id_token", this.auth.sessionToken(shop, apiKey));
    res.writeHead(302, { location: target.toString(), "cache-control": "no-store", "content-length": 0 });
    res.end();
  }
}

/**
 * Executes with graphql-js, but with Shopify's input coercion for Int: graphql-ruby does
 * not range-check Int inputs (conformance 2026-04/discounts/discount-numeric-bounds sends
 * usageLimit 2147483648 and gets a userError, not a variable error), graphql-js does.
 * Out-of-range Int values are swapped for 0 during graphql-js coercion and put back.
 */
export function executeOperation(
  schema: GraphQLSchema,
  op: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
  contextValue: unknown,
): { data?: Record<string, unknown> | null; errors?: readonly GraphQLError[] } {
  const restores: { name: string; path: (string | number)[]; value: unknown }[] = [];
  const safe: Record<string, unknown> = { ...variables };
  const walk = (type: GraphQLInputType, value: unknown, name: string, path: (string | number)[]): unknown => {
    if (isNonNullType(type)) return walk(type.ofType, value, name, path);
    if (value === null || value === undefined) return value;
    if (isListType(type)) return Array.isArray(value) ? value.map((v, i) => walk(type.ofType, v, name, [...path, i])) : walk(type.ofType, value, name, path);
    if (isInputObjectType(type) && typeof value === "object" && !Array.isArray(value)) {
      const out: Record<string, unknown> = {};
      const fields = type.getFields();
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = fields[k] ? walk(fields[k].type, v, name, [...path, k]) : v;
      return out;
    }
    if (isScalarType(type) && type.name === "Int" && typeof value === "number" && Number.isInteger(value) && (value > 2147483647 || value < -2147483648)) {
      restores.push({ name, path, value });
      return 0;
    }
    return value;
  };
  for (const def of op.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    const type = typeFromAST(schema, def.type) as GraphQLInputType | undefined;
    if (type && name in variables) safe[name] = walk(type, variables[name], name, []);
  }
  const validated = validateExecutionArgs({
    schema,
    document: { kind: Kind.DOCUMENT, definitions: [op, ...Object.values(fragments)] },
    variableValues: safe,
    contextValue,
    fieldResolver,
    typeResolver,
  });
  if (Array.isArray(validated)) return { errors: validated as readonly GraphQLError[] };
  const args = validated as ValidatedExecutionArgs;
  const coerced = args.variableValues.coerced as Record<string, unknown>;
  for (const r of restores) {
    if (r.path.length === 0) coerced[r.name] = r.value;
    else {
      let target = coerced[r.name] as Record<string | number, unknown>;
      for (const key of r.path.slice(0, -1)) target = target?.[key] as Record<string | number, unknown>;
      if (target) target[r.path[r.path.length - 1]!] = r.value;
    }
  }
  return executeRootSelectionSet(args) as { data?: Record<string, unknown> | null; errors?: readonly GraphQLError[] };
}

function formatExecutionError(e: GraphQLError): ShopifyError {
  const code = e.extensions?.code;
  const out: ShopifyError = { message: code ? e.message : "Internal error. Looks like something went wrong on our end." };
  if (e.locations) out.locations = [...e.locations];
  else if (e.nodes?.[0]) out.locations = locationOf(e.nodes[0]);
  out.extensions = code ? { ...e.extensions } : { code: "INTERNAL_SERVER_ERROR" };
  if (e.path) out.path = [...e.path];
  if (!code) console.error("twin: resolver error", e.originalError ?? e);
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Starts a twin on a free loopback port. */
export async function startAdminTwin(options: AdminTwinOptions = {}): Promise<AdminTwin> {
  const twin = new AdminTwin(options);
  await twin.listen();
  return twin;
}
