// Shared setup for the loyalty redemption tests and benchmark: the Shopify twin behind a
// small HTTP proxy at the network edge that can answer 5xx (an outage), answer a discount
// mutation with Shopify's userErrors (a refusal, with the payload shape Shopify sends), or
// hold a discount mutation without answering, after forwarding it to the twin or not (the
// app dies while Shopify is working on its request, or before the request got there).
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { AdminTwin } from "../twin/admin-graphql";
import type { Discount } from "../twin/admin-state";

type Canned = { root: string; userErrors: { field: string[] | null; message: string; code: string | null; extraInfo?: string | null }[] };
type Hold = { operation: RegExp; forward: boolean; reset: boolean; arrived: () => void };
type Pause = { operation: RegExp; arrived: () => void; released: Promise<void> };

export class RedemptionProxy {
  url = "";
  private server: Server | undefined;
  /** Operation name -> requests seen. */
  readonly operations = new Map<string, number>();
  /** The proxy's own failures: a test expects none. */
  readonly errors: string[] = [];
  private faults: number[] = [];
  private down: number | null = null;
  private refusals: Canned[] = [];
  private holds: Hold[] = [];
  private pauses: Pause[] = [];

  constructor(private readonly twin: AdminTwin) {}

  /** Answer the next `count` GraphQL requests with HTTP `status` (not forwarded). */
  failNext(count: number, status = 503) {
    for (let i = 0; i < count; i++) this.faults.push(status);
  }

  /** Answer every GraphQL request with HTTP `status` until called with null (an outage). */
  setDown(status: number | null) {
    this.down = status;
  }

  /** Answer the next discount create mutation with these userErrors (not forwarded). */
  refuseNextDiscount(userErrors: Canned["userErrors"]) {
    this.refusals.push({ root: "", userErrors });
  }

  /**
   * Never answer the next request whose operation name matches; `forward` sends it to the
   * twin first (Shopify did the work, the answer is lost). Resolves when it has arrived
   * (and, with forward, has been applied by the twin).
   */
  holdNext(operation: RegExp, forward: boolean): Promise<void> {
    return new Promise((arrived) => this.holds.push({ operation, forward, reset: false, arrived }));
  }

  /** Forward the next matching request to the twin, then reset the connection instead of answering (the answer is lost). */
  resetAfterNext(operation: RegExp): Promise<void> {
    return new Promise((arrived) => this.holds.push({ operation, forward: true, reset: true, arrived }));
  }

  /**
   * Hold the next request whose operation name matches until `release` is called, then handle
   * it as usual (a refusal, or forwarded to the twin and answered): the app waits on Shopify
   * while the test changes the world under it. `arrived` resolves when the request is held.
   */
  pauseNext(operation: RegExp): { arrived: Promise<void>; release: () => void } {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const arrived = new Promise<void>((resolve) => this.pauses.push({ operation, arrived: resolve, released }));
    return { arrived, release };
  }

  count(operation: RegExp): number {
    let n = 0;
    for (const [name, seen] of this.operations) if (operation.test(name)) n += seen;
    return n;
  }

  async listen(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req)
        .then((answer) => {
          if (answer === "reset") return void req.socket.destroy();
          if (!answer) return; // held: the connection stays open until the client gives up or dies
          res.writeHead(answer.status, { "content-type": answer.type });
          res.end(answer.body);
        })
        .catch((error: unknown) => {
          this.errors.push(String(error));
          res.writeHead(502, { "content-type": "application/json" });
          res.end(JSON.stringify({ errors: String(error) }));
        });
    });
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

  private async handle(req: IncomingMessage): Promise<{ status: number; body: string; type: string } | "reset" | null> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const isGraphql = /\/graphql\.json$/.test(req.url ?? "");
    let name = "other";
    if (isGraphql) {
      const query = (JSON.parse(raw.toString("utf8")) as { query?: string }).query ?? "";
      name = /(?:mutation|query)\s+(\w+)/.exec(query)?.[1] ?? "anonymous";
      this.operations.set(name, (this.operations.get(name) ?? 0) + 1);
      const pauseIndex = this.pauses.findIndex((p) => p.operation.test(name));
      if (pauseIndex >= 0) {
        const pause = this.pauses.splice(pauseIndex, 1)[0]!;
        pause.arrived();
        await pause.released;
      }
      if (this.faults.length || this.down !== null) {
        const status = this.faults.shift() ?? this.down!;
        return { status, body: JSON.stringify({ errors: "Service Unavailable" }), type: "application/json" };
      }
      const root = /discountCode(Basic|FreeShipping)Create/.exec(query);
      if (root && this.refusals.length) {
        const refusal = this.refusals.shift()!;
        const payload = { [`discountCode${root[1]}Create`]: { codeDiscountNode: null, userErrors: refusal.userErrors.map((e) => ({ extraInfo: null, ...e })) } };
        const cost = { requestedQueryCost: 12, actualQueryCost: 10, throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 1990, restoreRate: 100 } };
        return { status: 200, body: JSON.stringify({ data: payload, extensions: { cost } }), type: "application/json" };
      }
    }
    const holdIndex = this.holds.findIndex((h) => h.operation.test(name));
    const hold = holdIndex >= 0 ? this.holds.splice(holdIndex, 1)[0]! : null;
    if (hold && !hold.forward) {
      hold.arrived();
      return null;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string" && k !== "host" && k !== "content-length" && k !== "connection") headers[k] = v;
    const upstream = await fetch(`${this.twin.url}${req.url}`, { method: req.method, headers, body: req.method === "GET" ? undefined : raw });
    const text = await upstream.text();
    if (hold) {
      hold.arrived();
      return hold.reset ? "reset" : null;
    }
    return { status: upstream.status, body: text, type: upstream.headers.get("content-type") ?? "application/json" };
  }
}

/** The discounts the twin holds for one customer (its buyer context names them). */
export function twinDiscountsOf(twin: AdminTwin, shop: string, customerGid: string): Discount[] {
  const id = customerGid.split("/").pop()!;
  return [...twin.shop(shop).discounts.values()].filter((d) => "customers" in d.context && d.context.customers.includes(id));
}

/** The twin's discount with this code, if any (codes match case-insensitively, as in Shopify). */
export function twinDiscountByCode(twin: AdminTwin, shop: string, code: string): Discount | undefined {
  const id = twin.shop(shop).codes.get(code.toLowerCase());
  return id ? twin.shop(shop).discounts.get(id) : undefined;
}
