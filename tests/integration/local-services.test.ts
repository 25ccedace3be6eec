// The newcomer's first run: with nothing listening at DATABASE_URL / REDIS_URL on this
// machine, the demo and the test suite start an embedded PostgreSQL and a redis-server, and
// stop them afterwards; without a redis-server they stop with one sentence naming the install.
import { createServer } from "node:net";
import { Redis } from "ioredis";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { LocalServiceError, ensureLocalServices } from "../support/local-services";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

describe("local services for the demo and the tests", () => {
  it("starts PostgreSQL and Redis where nothing listens, and stops them", async () => {
    const [pgPort, redisPort] = [await freePort(), await freePort()];
    const databaseUrl = `postgresql://postgres@127.0.0.1:${pgPort}/crm_demo`;
    const redisUrl = `redis://127.0.0.1:${redisPort}/3`;
    const lines: string[] = [];
    const services = await ensureLocalServices({ databaseUrl, redisUrl, stateDir: ".data/test-local-services", log: (l) => lines.push(l) });
    try {
      expect(services.started).toEqual(["postgresql", "redis"]);
      const client = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${pgPort}/postgres` });
      await client.connect();
      const { rows } = await client.query<{ n: number }>("SELECT 40 + 2 AS n");
      await client.end();
      expect(rows[0]!.n).toBe(42);
      const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
      expect(await redis.ping()).toBe("PONG");
      redis.disconnect();

      // A second caller finds both running and starts nothing.
      const again = await ensureLocalServices({ databaseUrl, redisUrl, stateDir: ".data/test-local-services" });
      expect(again.started).toEqual([]);
      await again.stop();
    } finally {
      await services.stop();
    }
    const after = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${pgPort}/postgres`, connectionTimeoutMillis: 2_000 });
    after.on("error", () => undefined);
    await expect(after.connect()).rejects.toThrow();
    expect(lines.some((l) => l.includes("Started embedded PostgreSQL"))).toBe(true);
  }, 120_000);

  it("names the install when no redis-server exists", async () => {
    const redisPort = await freePort();
    const error = await ensureLocalServices({
      databaseUrl: process.env.TEST_ADMIN_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres",
      redisUrl: `redis://127.0.0.1:${redisPort}`,
      stateDir: ".data/test-local-services",
      findRedisServer: () => null,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LocalServiceError);
    expect((error as Error).message).toMatch(/no redis-server is installed: install it \(Debian\/Ubuntu: `sudo apt-get install redis-server`/);
  });

  it("starts nothing over a port something else answers on, and says so", async () => {
    const sockets = new Set<import("node:net").Socket>();
    const squatter = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => undefined);
      socket.end("not postgres\n");
    });
    await new Promise<void>((r) => squatter.listen(0, "127.0.0.1", () => r()));
    const port = (squatter.address() as { port: number }).port;
    try {
      const error = await ensureLocalServices({
        databaseUrl: `postgresql://postgres@127.0.0.1:${port}/crm`,
        redisUrl: "redis://127.0.0.1:6379",
        stateDir: ".data/test-local-services",
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LocalServiceError);
      expect((error as Error).message).toMatch(new RegExp(`PostgreSQL at 127.0.0.1:${port} did not accept the connection .*check DATABASE_URL`));
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => squatter.close(r));
    }
  }, 20_000);
});
