// PostgreSQL unavailable during a delivery: the ingress answers 503 (Shopify retries the
// delivery with the same webhook id), stores nothing, and recovers when it is back.
// The outage is a TCP proxy in front of the shared PostgreSQL that this test cuts.
import { randomUUID } from "node:crypto";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { receiveWebhook } from "../../app/services/webhook-ingress.server";
import { closeQueues } from "../../app/queues.server";
import { ADMIN_DATABASE_URL } from "../support/database";
import { useIntegrationEnv } from "../support/env";
import { customerPayload, toBody } from "../support/factories";
import { freePort } from "../support/pipeline";
import { webhookRequest } from "../support/webhooks";

/** A cuttable TCP proxy to host:port; in "blackhole" mode it accepts and never answers. */
function tcpProxy(target: { host: string; port: number }, listenPort: number) {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  const open = (mode: "forward" | "blackhole" = "forward") =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        if (mode === "blackhole") {
          sockets.add(client);
          client.on("error", () => client.destroy());
          return;
        }
        const upstream = createConnection(target);
        sockets.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on("error", drop).on("close", drop);
        upstream.on("error", drop).on("close", drop);
        client.pipe(upstream).pipe(client);
      });
      server.once("error", reject);
      server.listen(listenPort, "127.0.0.1", () => resolve());
    });
  const cut = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (!server) return resolve();
      server.close(() => resolve());
      server = undefined;
    });
  return { open, cut };
}

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let proxy: ReturnType<typeof tcpProxy>;

beforeAll(async () => {
  env = await useIntegrationEnv();
  const admin = new URL(ADMIN_DATABASE_URL);
  const port = await freePort();
  proxy = tcpProxy({ host: admin.hostname, port: Number(admin.port || 5432) }, port);
  await proxy.open();
  // Every connection of this process now goes through the proxy (getEnv reads it lazily).
  const proxied = new URL(env.DATABASE_URL);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(port);
  process.env.DATABASE_URL = proxied.toString();
});

afterAll(async () => {
  await closeQueues();
  await closeDb();
  await proxy?.cut();
  await env?.dropDatabase();
});

const delivery = (webhookId: string) => ({ topic: "customers/create", body: toBody(customerPayload({ id: 901n })), webhookId });
const rowsFor = async (webhookId: string) =>
  (await getPool().query(`SELECT status::text FROM webhook_events WHERE webhook_id = $1`, [webhookId])).rows as { status: string }[];

describe("database unavailable", () => {
  it("answers 503 with Retry-After while PostgreSQL is unreachable, and 200 for Shopify's retry once it is back", async () => {
    // Up: accepted, and the pool holds live connections through the proxy.
    const before = randomUUID();
    expect((await receiveWebhook(webhookRequest(delivery(before)))).status).toBe(200);
    expect(await rowsFor(before)).toEqual([{ status: "received" }]);

    // Down: every existing connection is cut and new ones are refused.
    await proxy.cut();
    const during = randomUUID();
    const started = Date.now();
    const refused = await receiveWebhook(webhookRequest(delivery(during)));
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(Date.now() - started).toBeLessThan(5_000); // inside Shopify's 5 s window
    // A second one, after the pool noticed its dead connections, too.
    expect((await receiveWebhook(webhookRequest(delivery(randomUUID())))).status).toBe(503);

    // Back: Shopify retries the same delivery (same webhook id); it is stored exactly once.
    await proxy.open();
    expect((await receiveWebhook(webhookRequest(delivery(during)))).status).toBe(200);
    expect((await receiveWebhook(webhookRequest(delivery(during)))).status).toBe(200);
    expect(await rowsFor(during)).toEqual([{ status: "received" }]);
  });

  let blackholeAckMs = Number.POSITIVE_INFINITY;

  it("a database that accepts connections but never answers: the delivery is not stored, and fails when the connection drops", async () => {
    await closeDb(); // a fresh pool: every connection has to be made through the black hole
    await proxy.cut();
    await proxy.open("blackhole");
    const webhookId = randomUUID();
    const started = Date.now();
    const pending = receiveWebhook(webhookRequest(delivery(webhookId))).then((response) => {
      blackholeAckMs = Date.now() - started;
      return response;
    });
    await Promise.race([pending, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    // The hung connections are dropped: the delivery fails (Shopify retries it).
    await proxy.cut();
    expect((await pending).status).toBe(503);
    await proxy.open();
    expect(await rowsFor(webhookId)).toEqual([]);
  });

  // The pool bounds connection time (DATABASE_CONNECT_TIMEOUT_MS) and query time.
  it("...and answers 503 within Shopify's 5 s window", () => {
    expect(blackholeAckMs).toBeLessThan(5_000);
  });

  // (docs/decisions/027) A delivery whose unsigned headers do not match its body is recorded, not dropped.
  it("a delivery the header checks ignore: 503 while PostgreSQL is unreachable, stored as ignored once it is back", async () => {
    const webhookId = randomUUID();
    const forged = { topic: "shop/redact", body: toBody({ shop_id: 954889, shop_domain: "elsewhere.myshopify.com" }), webhookId };
    await proxy.cut();
    expect((await receiveWebhook(webhookRequest(forged))).status).toBe(503);
    await proxy.open();
    expect((await receiveWebhook(webhookRequest(forged))).status).toBe(200);
    expect(await rowsFor(webhookId)).toEqual([{ status: "ignored" }]);
  });
});
