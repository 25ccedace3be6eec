// The built server (`node build/index.js`, what `npm start` runs) as a child process on a
// free port: signed webhooks over real HTTP, /healthz and /metrics.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb } from "../../app/db.server";
import { closeQueues } from "../../app/queues.server";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { customerPayload, toBody } from "../support/factories";
import { freePort, inboxRows, spawnChild, waitUntil, type ChildHandle } from "../support/pipeline";
import { deliveryHeaders, TEST_SHOP } from "../support/webhooks";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let server: ChildHandle;
let base: string;

beforeAll(async () => {
  env = await useIntegrationEnv();
  if (!existsSync("build/index.js")) execFileSync("npm", ["run", "build"], { stdio: "ignore" });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawnChild(process.execPath, ["build/index.js"], childProcessEnv({ HOST: "127.0.0.1", PORT: String(port), NODE_ENV: "production" }));
  await waitUntil(
    async () => {
      if (server.child.exitCode !== null) throw new Error(`server exited: ${server.stderr()}`);
      return fetch(`${base}/healthz`).then((r) => r.status === 200, () => false);
    },
    { timeoutMs: 30_000, what: "the server to answer /healthz" },
  );
});

afterAll(async () => {
  server?.child.kill("SIGTERM");
  const exit = await Promise.race([server?.exited, new Promise((resolve) => setTimeout(() => resolve("timeout"), 15_000))]);
  if (exit === "timeout") server.killGroup("SIGKILL");
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

const post = (path: string, body: string, headers: Record<string, string>) => fetch(`${base}${path}`, { method: "POST", body, headers });

describe("HTTP server (build/index.js)", () => {
  it("accepts a signed webhook with 200 and stores it", async () => {
    const webhookId = randomUUID();
    const body = toBody(customerPayload({ id: 9101n, email: "http@example.com" }));
    const response = await post("/webhooks/customers", body, deliveryHeaders({ topic: "customers/create", body, webhookId }));
    expect(response.status).toBe(200);
    expect(await inboxRows({ webhookId })).toEqual([expect.objectContaining({ shop: TEST_SHOP, topic: "customers/create", payload: body })]);
  });

  it("refuses a bad HMAC with 401 on every webhook route, including compliance", async () => {
    for (const [path, topic] of [["/webhooks/customers", "customers/create"], ["/webhooks/compliance", "customers/redact"], ["/webhooks/orders", "orders/create"]] as const) {
      const webhookId = randomUUID();
      const body = '{"id":1}';
      const response = await post(path, body, deliveryHeaders({ topic, body, webhookId, secret: "wrong-secret" }));
      expect(response.status, path).toBe(401);
      expect(await inboxRows({ webhookId })).toEqual([]);
    }
  });

  it("the direct webhook path checks the unsigned headers too: a topic off its route, a body of another shop -> 200, ignored", async () => {
    for (const [path, topic, body] of [
      ["/webhooks/orders?via=proxy", "shop/redact", toBody({ shop_id: 954889, shop_domain: TEST_SHOP })],
      ["/webhooks/compliance/", "shop/redact", toBody({ shop_id: 954889, shop_domain: "another-shop.myshopify.com" })],
    ] as const) {
      const webhookId = randomUUID();
      const response = await post(path, body, deliveryHeaders({ topic, body, webhookId }));
      expect(response.status, path).toBe(200);
      const rows = await inboxRows({ webhookId });
      expect(rows, path).toEqual([expect.objectContaining({ shop: TEST_SHOP, topic, status: "ignored" })]);
      expect(rows[0]!.last_error, path).toMatch(path.startsWith("/webhooks/orders") ? /not on \/webhooks\/orders/ : /another-shop\.myshopify\.com/);
    }
  });

  it("GET /healthz: 200 with the database and Redis checks", async () => {
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true, checks: { database: { ok: true }, redis: { ok: true } } });
  });

  it("GET /metrics: Prometheus text with the delivery counters (whatever ran before)", async () => {
    const counter = async (outcome: string) => {
      const response = await fetch(`${base}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
      const match = new RegExp(`^crm_webhook_deliveries_total\\{outcome="${outcome}"\\} (\\d+)$`, "m").exec(await response.text());
      return Number(match?.[1] ?? 0);
    };
    const [accepted, unauthorized] = [await counter("accepted"), await counter("unauthorized")];
    const body = toBody(customerPayload({ id: 9103n, email: "metrics@example.com" }));
    expect((await post("/webhooks/customers", body, deliveryHeaders({ topic: "customers/create", body, webhookId: randomUUID() }))).status).toBe(200);
    expect((await post("/webhooks/customers", body, deliveryHeaders({ topic: "customers/create", body, webhookId: randomUUID(), secret: "wrong-secret" }))).status).toBe(401);
    expect(await counter("accepted")).toBe(accepted + 1);
    expect(await counter("unauthorized")).toBe(unauthorized + 1);
  });

  it("has one entry for deliveries: other methods get 405 from the ingress, paths match in any case and with a trailing slash", async () => {
    for (const method of ["GET", "PUT", "DELETE"]) {
      const response = await fetch(`${base}/webhooks/orders`, { method });
      expect(response.status, method).toBe(405);
      expect(response.headers.get("allow")).toBe("POST");
    }
    const webhookId = randomUUID();
    const body = toBody(customerPayload({ id: 9102n, email: "entry@example.com" }));
    const response = await post("/Webhooks/Customers/", body, deliveryHeaders({ topic: "customers/create", body, webhookId }));
    expect(response.status).toBe(200);
    expect(await inboxRows({ webhookId })).toHaveLength(1);
    // Not a webhook path: the app's friendly 404, not the ingress.
    expect((await fetch(`${base}/webhooks/unknown`, { method: "POST", body: "{}" })).status).toBe(404);
  });
});
