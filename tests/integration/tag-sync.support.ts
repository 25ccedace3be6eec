// Shared setup for the tag sync tests and benchmark: the Shopify twin with a generated
// store, behind a small HTTP proxy that records what Shopify applied (tagsAdd / tagsRemove
// answers with a node) and can answer 5xx to the next requests (a network edge fault, the
// way a real outage looks to the app), the offline session the app reaches the shop with,
// and local CRM rows (customers, a segment and its members) written with plain SQL.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getPool } from "../../app/db.server";
import { AdminTwin, startAdminTwin, type AdminTwinOptions } from "../twin/admin-graphql";
import { generateStore } from "../twin/store-generator";

export const TOKEN = "shpat_tag_sync_test";

export type Applied = { add: Map<string, number>; remove: Map<string, number> };

/** A recording, fault-injecting proxy in front of the twin's Admin GraphQL endpoint. */
export class TwinProxy {
  url = "";
  private server: Server | undefined;
  /** Applied writes per customer gid and tag: "gid|tag" -> times Shopify applied it. */
  readonly applied: Applied = { add: new Map(), remove: new Map() };
  /** Operation name -> requests seen (any answer). */
  readonly operations = new Map<string, number>();
  throttled = 0;
  serverErrors = 0;
  /** The proxy's own failures (answered 502): a test expects none. */
  readonly errors: string[] = [];
  /** Answer the next N GraphQL requests with this HTTP status instead of forwarding them. */
  private faults: number[] = [];

  constructor(private readonly twin: AdminTwin) {}

  failNext(count: number, status = 503) {
    for (let i = 0; i < count; i++) this.faults.push(status);
  }

  appliedCount(kind: "add" | "remove", gid: string, tag: string): number {
    return this.applied[kind].get(`${gid}|${tag}`) ?? 0;
  }

  async listen(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req)
        .then(({ status, body, type }) => {
          res.writeHead(status, { "content-type": type });
          res.end(body);
        })
        .catch((error: unknown) => {
          this.errors.push(String(error));
          res.writeHead(502, { "content-type": "application/json" });
          res.end(JSON.stringify({ errors: String(error) }));
        });
    });
    this.server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close() {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: string; type: string }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const isGraphql = /\/graphql\.json$/.test(req.url ?? "");
    if (isGraphql && this.faults.length) {
      const status = this.faults.shift()!;
      this.serverErrors++;
      return { status, body: JSON.stringify({ errors: "Service Unavailable" }), type: "application/json" };
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string" && k !== "host" && k !== "content-length" && k !== "connection") headers[k] = v;
    const upstream = await fetch(`${this.twin.url}${req.url}`, { method: req.method, headers, body: req.method === "GET" ? undefined : raw });
    const text = await upstream.text();
    if (isGraphql) this.observe(raw.toString("utf8"), text);
    return { status: upstream.status, body: text, type: upstream.headers.get("content-type") ?? "application/json" };
  }

  private observe(requestText: string, responseText: string) {
    let request: { query?: string; variables?: { id?: string; tags?: string[] } };
    let response: { data?: Record<string, { node?: unknown } | null> | null; errors?: { extensions?: { code?: string } }[] };
    try {
      request = JSON.parse(requestText);
      response = JSON.parse(responseText);
    } catch {
      return;
    }
    const name = /(?:mutation|query)\s+(\w+)/.exec(request.query ?? "")?.[1] ?? "anonymous";
    this.operations.set(name, (this.operations.get(name) ?? 0) + 1);
    if (Array.isArray(response.errors) && response.errors.some((e) => e.extensions?.code === "THROTTLED")) this.throttled++;
    for (const kind of ["add", "remove"] as const) {
      const payload = response.data?.[kind === "add" ? "tagsAdd" : "tagsRemove"];
      if (payload?.node && request.variables?.id) {
        for (const tag of request.variables.tags ?? []) {
          const key = `${request.variables.id}|${tag}`;
          this.applied[kind].set(key, (this.applied[kind].get(key) ?? 0) + 1);
        }
      }
    }
  }
}

export const customerGid = (id: string) => `gid://shopify/Customer/${id}`;

/** The twin with `customers` generated customers for `shop`, and a proxy in front of it. */
export async function startTwinForShop(shop: string, customers: number, options: AdminTwinOptions = {}) {
  const twin = await startAdminTwin({ accessTokens: { [shop]: TOKEN }, bulkDelayMs: 10, ...options });
  twin.shop(shop).loadStore(generateStore({ seed: 11, customers, shopDomain: shop }), { maxOrders: 0 });
  const proxy = new TwinProxy(twin);
  await proxy.listen();
  const gids = twin.shop(shop).sortedIds("customers").map(customerGid);
  return { twin, proxy, gids };
}

/** Tags of a customer in the twin. */
export function twinTags(twin: AdminTwin, shop: string, gid: string): string[] {
  const id = gid.split("/").pop()!;
  return twin.shop(shop).customers.get(id)?.tags ?? [];
}

export function setTwinTags(twin: AdminTwin, shop: string, gid: string, tags: string[]) {
  const c = twin.shop(shop).customers.get(gid.split("/").pop()!)!;
  twin.shop(shop).putCustomer({ ...c, tags });
}

/** The offline session the app reaches the shop with (non-expiring token). */
export async function storeOfflineSession(shop: string, token = TOKEN) {
  await getPool().query(
    `INSERT INTO "Session" (id, shop, state, "isOnline", scope, "accessToken") VALUES ($1, $2, '', false, 'read_customers,write_customers', $3)
     ON CONFLICT (id) DO UPDATE SET "accessToken" = EXCLUDED."accessToken"`,
    [`offline_${shop}`, shop, token],
  );
}

/** Local CRM customers (tags as the CRM knows them), in batches. */
export async function seedLocalCustomers(shop: string, gids: string[], tagsOf: (gid: string) => string[] = () => []) {
  for (let i = 0; i < gids.length; i += 5_000) {
    const chunk = gids.slice(i, i + 5_000);
    await getPool().query(
      `INSERT INTO customers (shop, gid, tags) SELECT $1, g, ARRAY(SELECT jsonb_array_elements_text(t))
         FROM unnest($2::text[], $3::jsonb[]) AS u(g, t)
       ON CONFLICT (shop, gid) DO UPDATE SET tags = EXCLUDED.tags`,
      [shop, chunk, chunk.map((g) => JSON.stringify(tagsOf(g)))],
    );
  }
}

export async function setLocalTags(shop: string, gid: string, tags: string[]) {
  await getPool().query(`UPDATE customers SET tags = $3 WHERE shop = $1 AND gid = $2`, [shop, gid, tags]);
}

/** A segment row as the segments service stores it (tables from migration 20261123031000_segments). */
export async function createSegment(shop: string, name: string, tag: string | null, enabled = true): Promise<string> {
  const { rows } = await getPool().query<{ id: string }>(
    `INSERT INTO segments (shop, name, query, tag, tag_sync_enabled) VALUES ($1, $2, 'number_of_orders >= 0', $3, $4) RETURNING id`,
    [shop, name, tag, enabled],
  );
  return rows[0]!.id;
}

export async function setSegment(id: string, change: { tag?: string | null; enabled?: boolean }) {
  await getPool().query(
    `UPDATE segments SET tag = CASE WHEN $2 THEN $3 ELSE tag END, tag_sync_enabled = COALESCE($4, tag_sync_enabled), updated_at = now() WHERE id = $1`,
    [id, change.tag !== undefined, change.tag ?? null, change.enabled ?? null],
  );
}

/** Replaces a segment's members. */
export async function setMembers(shop: string, segmentId: string, gids: string[]) {
  await getPool().query(`DELETE FROM segment_members WHERE segment_id = $1`, [segmentId]);
  await getPool().query(
    `INSERT INTO segment_members (segment_id, customer_gid, shop, entered_at) SELECT $1, g, $2, now() FROM unnest($3::text[]) AS g`,
    [segmentId, shop, gids],
  );
}

export type WriteRow = {
  id: string;
  customer_gid: string;
  tag: string;
  action: "add" | "remove";
  source: string;
  status: string;
  attempts: number;
  last_error: string | null;
  outcome: Record<string, unknown> | null;
  bulk_operation_gid: string | null;
};

export async function writes(shop: string): Promise<WriteRow[]> {
  const { rows } = await getPool().query<WriteRow>(
    `SELECT id, customer_gid, tag, action, source, status, attempts, last_error, outcome, bulk_operation_gid FROM tag_writes WHERE shop = $1 ORDER BY id`,
    [shop],
  );
  return rows;
}

export async function appAddedTags(shop: string): Promise<{ customer_gid: string; tag: string; source: string }[]> {
  const { rows } = await getPool().query<{ customer_gid: string; tag: string; source: string }>(
    `SELECT customer_gid, tag, source FROM app_added_tags WHERE shop = $1 ORDER BY customer_gid`,
    [shop],
  );
  return rows;
}

export const countBy = <T>(list: T[], key: (t: T) => string) => list.reduce<Record<string, number>>((m, t) => ((m[key(t)] = (m[key(t)] ?? 0) + 1), m), {});
