// Store history for the twin: a generated store that ends at a given moment, a store
// loaded from a file of webhook-shaped JSON (checked against the generated store loaded
// directly: the same history two ways), and the standalone twin (npm run twin).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ShopState } from "./admin-state";
import { parseStoreFile, loadStoreFile, readStoreFile, StoreFileError } from "./store-file";
import { generateStore } from "./store-generator";
import { parseTwinArgs, startTwinServer } from "./twin-server";
import { customerWebhookPayload, orderWebhookPayload, productWebhookPayload, shopTime, toBody } from "./webhook-payloads";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const ROOT = join(import.meta.dirname, "../..");
const FIXTURE = join(ROOT, "tests/fixtures/store-small.json");
const DAY = 86_400_000;

describe("store history", () => {
  it("generates a history that ends at `now`, deterministic per seed and now", () => {
    const now = Date.parse("2026-12-07T23:40:12Z");
    const a = generateStore({ seed: 4, customers: 300, now });
    const b = generateStore({ seed: 4, customers: 300, now });
    const orders = [...a.orders()];
    expect(orders.map((o) => [String(o.id), o.createdAt, o.updatedAt])).toEqual([...b.orders()].map((o) => [String(o.id), o.createdAt, o.updatedAt]));
    const newest = Math.max(...orders.map((o) => Date.parse(o.createdAt)));
    expect(newest).toBeLessThan(now);
    expect(newest).toBeGreaterThan(now - 7 * DAY);
    for (const o of orders) {
      expect(Date.parse(o.updatedAt)).toBeLessThan(now);
      if (o.cancel) expect(Date.parse(o.cancel.at)).toBeLessThan(now);
    }
    expect(orders.filter((o) => Date.parse(o.createdAt) >= now - 90 * DAY).length).toBeGreaterThan(10);
    expect(a.endMs).toBe(now - (now % 1000));
    // Without `now` the fixed default dates are unchanged.
    expect(generateStore({ seed: 4, customers: 300 }).endMs).toBe(Date.parse("2026-07-01T00:00:00Z"));
  });

  it("loads a store file of webhook-shaped JSON into the same state as the generated store it came from", () => {
    const store = generateStore({ seed: 8, customers: 120, now: Date.parse("2026-12-01T12:00:00Z") });
    const customers = [...store.customers()];
    const byId = new Map(customers.map((c) => [c.id, c]));
    const doc = {
      shop: { name: "Twin Shop", email: "owner@twin.example.com", myshopify_domain: "crm-twin.myshopify.com", iana_timezone: "America/New_York", currency: "USD" },
      customers: customers.map((c) => ({
        ...customerWebhookPayload(c),
        tags: c.tags.join(", "),
        email_marketing_consent: { state: c.emailMarketing.state, opt_in_level: c.emailMarketing.optInLevel, consent_updated_at: shopTime(c.emailMarketing.consentUpdatedAt) },
      })),
      orders: [...store.orders()].map((o) => orderWebhookPayload(o, o.customerId === null ? null : byId.get(o.customerId)!)),
      products: [...store.products()].map((p) => productWebhookPayload(p)),
    };
    const fromFile = new ShopState("crm-twin.myshopify.com");
    loadStoreFile(fromFile, parseStoreFile(toBody(doc)));
    const direct = new ShopState("crm-twin.myshopify.com");
    direct.loadStore(store);

    expect(fromFile.orders.size).toBe(direct.orders.size);
    expect(fromFile.customers.size).toBe(120);
    const orderView = (s: ShopState, id: string) => {
      const o = s.orders.get(id)!;
      return {
        customerId: o.customerId,
        createdAt: o.createdAt,
        updatedAt: o.updatedAt,
        cancelledAt: o.cancelledAt,
        test: o.test,
        financialStatus: o.financialStatus,
        total: o.total,
        currentTotal: o.currentTotal,
        totalRefunded: o.totalRefunded,
        totalShipping: o.totalShipping,
        lineItems: o.lineItems.map((l) => [l.id, l.productId, l.variantId, l.quantity, l.currentQuantity, l.unitPrice, l.discount]),
        refunds: o.refunds.map((r) => [r.id, r.createdAt, r.amount, r.lines.map((l) => [l.lineItemId, l.quantity, l.subtotal])]),
      };
    };
    let refunded = 0;
    for (const id of direct.orders.keys()) {
      expect(orderView(fromFile, id)).toEqual(orderView(direct, id));
      if (direct.orders.get(id)!.refunds.length) refunded++;
    }
    expect(refunded).toBeGreaterThan(0);
    const customerView = (s: ShopState, id: string) => {
      const c = s.customers.get(id)!;
      return [c.email, c.tags, c.emailMarketing.state, c.createdAt, c.updatedAt, c.addresses[0]?.countryCode, c.defaultAddressId];
    };
    for (const id of direct.customers.keys()) expect(customerView(fromFile, id)).toEqual(customerView(direct, id));
    for (const [id, p] of direct.products) expect(fromFile.products.get(id)).toMatchObject({ productType: p.productType, vendor: p.vendor, tags: p.tags, title: p.title });
    // Ids above 2^53 (the generator makes some) survive exactly.
    expect([...fromFile.customers.keys()].some((id) => BigInt(id) > 2n ** 53n)).toBe(true);
  });

  it("reads the example store file and rejects bad ones with the path of each problem", () => {
    const doc = readStoreFile(FIXTURE);
    const shop = new ShopState("small-wool.myshopify.com");
    loadStoreFile(shop, doc);
    expect(shop).toMatchObject({ name: "Small Wool Shop", ianaTimezone: "Europe/Paris", currency: "EUR" });
    expect(shop.orders.get("5000000002")!.refunds[0]!.lines).toEqual([
      { id: "1000000001", lineItemId: "4000000002", quantity: 1, subtotal: "35.10", totalTax: "0.00", restockType: "RETURN" },
    ]);
    expect(shop.orders.get("5000000002")!.createdAt).toBe("2026-11-01T15:20:00Z");
    expect(shop.customers.get("7000000001")!.tags).toEqual(["newsletter", "vip"]);

    const base = JSON.parse(readFileSync(FIXTURE, "utf8")) as Json;
    const problems = (mutate: (d: Json) => void) => {
      const d = structuredClone(base);
      mutate(d);
      try {
        parseStoreFile(JSON.stringify(d), "x.json");
      } catch (e) {
        expect(e).toBeInstanceOf(StoreFileError);
        return (e as StoreFileError).problems;
      }
      return [];
    };
    expect(problems((d) => (d.orders[1].line_items[0].quantity = "1"))).toEqual([expect.stringMatching(/^orders\[1\]\.line_items\[0\]\.quantity: /)]);
    expect(problems((d) => (d.orders[0].customer.id = 1))).toEqual(["orders[0].customer.id: no customer 1 in customers"]);
    expect(problems((d) => (d.shop.iana_timezone = "Mars/Olympus"))).toEqual(["shop.iana_timezone: expected an IANA time zone such as Europe/Paris"]);
    expect(problems((d) => (d.customers[1].created_at = "yesterday"))).toEqual(["customers[1].created_at: expected an ISO-8601 time"]);
    expect(problems((d) => d.products.push(d.products[0]))).toEqual(["products[2].id: duplicate id 8000000001"]);
    expect(() => parseStoreFile("{ nope", "y.json")).toThrow(/^y\.json: invalid store file\n {2}- not JSON/);

    // The example in tests/twin/README.md is a valid store file.
    const readme = readFileSync(join(ROOT, "tests/twin/README.md"), "utf8");
    const example = /## Store files[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)![1]!;
    const fromReadme = new ShopState("small-wool.myshopify.com");
    loadStoreFile(fromReadme, parseStoreFile(example, "README.md"));
    expect(fromReadme.orders.get("5000000002")!.refunds[0]!.amount).toBe("35.10");
  });

  it("runs alone with a store file and an access token (npm run twin)", async () => {
    expect(parseTwinArgs(["--shop", "small-wool", "--store-file", FIXTURE, "--access-token", "shpat_dev", "--port", "0"], {} as NodeJS.ProcessEnv)).toMatchObject({
      shop: "small-wool.myshopify.com",
      storeFile: FIXTURE,
      accessToken: "shpat_dev",
      port: 0,
    });
    expect(() => parseTwinArgs(["--store-file", FIXTURE, "--customers", "20"], {} as NodeJS.ProcessEnv)).toThrow(/exclusive/);
    expect(() => parseTwinArgs(["--customers", "5"], {} as NodeJS.ProcessEnv)).toThrow(/--customers must be an integer from 10/);

    const child = spawn(process.execPath, ["--import", "tsx", "tests/twin/twin-server.ts", "--port", "0", "--shop", "small-wool", "--store-file", FIXTURE, "--access-token", "shpat_dev"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (c: Buffer) => {
          out += c.toString();
          if (out.includes("\n")) resolve(out.split("\n")[0]!);
        });
        child.once("exit", (code) => reject(new Error(`twin exited ${code}`)));
      });
      const summary = JSON.parse(line) as Json;
      expect(summary).toMatchObject({ shop: "small-wool.myshopify.com", accessToken: "shpat_dev", customers: 3, orders: 4, products: 2 });
      const ask = (token: string) =>
        fetch(`${summary.url}/admin/api/2026-07/graphql.json`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-shopify-access-token": token },
          body: JSON.stringify({ query: "{ shop { name ianaTimezone currencyCode } customersCount { count } }" }),
        });
      expect((await ask("shpat_other")).status).toBe(401);
      const ok = (await (await ask("shpat_dev")).json()) as Json;
      expect(ok.data).toEqual({ shop: { name: "Small Wool Shop", ianaTimezone: "Europe/Paris", currencyCode: "EUR" }, customersCount: { count: 3 } });
    } finally {
      child.kill("SIGTERM");
    }

    // A generated store ends when the twin starts.
    const now = Date.now();
    const { twin, summary } = await startTwinServer({ ...(parseTwinArgs(["--port", "0", "--customers", "50", "--seed", "3"], {} as NodeJS.ProcessEnv) as Exclude<ReturnType<typeof parseTwinArgs>, "help">) }, now);
    try {
      expect(Date.parse(summary.historyEndsAt!)).toBe(now - (now % 1000));
      const newest = Math.max(...[...twin.shop("crm-twin.myshopify.com").orders.values()].map((o) => Date.parse(o.createdAt)));
      expect(now - newest).toBeLessThan(14 * DAY);
    } finally {
      await twin.close();
    }
  });
});
