// Environment for integration tests: a fresh database, a private Redis database
// index, and Shopify app credentials used to sign real HMACs.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { logger } from "../../app/logger.server";
import { createTestDatabase } from "./database";

export const TEST_API_KEY = "test-api-key";
export const TEST_API_SECRET = "test-api-secret-for-hmac";
export const TEST_APP_URL = "https://crm.example.test";
export const TEST_SESSION_ENCRYPTION_KEY = "Q1JNIHRlc3Qgc2Vzc2lvbiBrZXkgLSAzMiBieXRlcyE=";

/** The machine's Redis (without a database index); override with TEST_REDIS_URL. */
export const TEST_REDIS_BASE_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

let redisDbCounter = 1 + (process.pid % 8);

const LEASE_PREFIX = "crm-test:redis-db-lease:";
const LEASE_MS = 20 * 60_000;

/**
 * Picks a Redis database index (1..15) no other test process holds: the webhook queue has
 * one fixed name, so two test files (or two concurrent test runs) on one index would
 * take each other's jobs. The lease is a key in database 0 that expires by itself.
 */
async function leaseRedisDb(): Promise<{ index: number; release: () => Promise<void> }> {
  const start = redisDbCounter++ % 15;
  const client = new Redis(`${TEST_REDIS_BASE_URL}/0`, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const token = `${process.pid}:${randomUUID()}`;
    for (let i = 0; i < 15; i++) {
      const index = ((start + i) % 15) + 1;
      const key = `${LEASE_PREFIX}${index}`;
      if ((await client.set(key, token, "PX", LEASE_MS, "NX")) === "OK") {
        return {
          index,
          release: async () => {
            const releaser = new Redis(`${TEST_REDIS_BASE_URL}/0`, { maxRetriesPerRequest: 1 });
            try {
              if ((await releaser.get(key)) === token) await releaser.del(key);
            } finally {
              releaser.disconnect();
            }
          },
        };
      }
    }
  } finally {
    client.disconnect();
  }
  // Every index leased (or leases unsupported): fall back to the counter.
  return { index: start + 1, release: async () => undefined };
}

export async function useIntegrationEnv(overrides: Record<string, string> = {}) {
  const db = await createTestDatabase();
  const lease = overrides.REDIS_URL ? { index: -1, release: async () => undefined } : await leaseRedisDb();
  const redisUrl = overrides.REDIS_URL ?? `${TEST_REDIS_BASE_URL}/${lease.index}`;
  const flush = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  await flush.flushdb().catch((error: unknown) => {
    if (!overrides.REDIS_URL) throw error; // an override may point at a Redis that is down on purpose
  });
  flush.disconnect();
  const values = {
    NODE_ENV: "test",
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    SHOPIFY_API_KEY: TEST_API_KEY,
    SHOPIFY_API_SECRET: TEST_API_SECRET,
    SHOPIFY_APP_URL: TEST_APP_URL,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    WEBHOOK_MAX_BODY_BYTES: String(256 * 1024),
    // Stored Shopify tokens are encrypted with this key (servers started with NODE_ENV=production require one).
    SESSION_ENCRYPTION_KEY: TEST_SESSION_ENCRYPTION_KEY,
    ...overrides,
  } as Record<string, string> & {
    NODE_ENV: string;
    DATABASE_URL: string;
    REDIS_URL: string;
    SHOPIFY_API_KEY: string;
    SHOPIFY_API_SECRET: string;
    SHOPIFY_APP_URL: string;
    LOG_LEVEL: string;
    WEBHOOK_MAX_BODY_BYTES: string;
  };
  Object.assign(process.env, values);
  // The logger read LOG_LEVEL when the app modules were imported, before this ran.
  logger.level = values.LOG_LEVEL;
  return {
    ...values,
    databaseName: db.name,
    dropDatabase: async () => {
      await lease.release().catch(() => undefined);
      await db.drop();
    },
  };
}

/** The environment for a child process (worker, CLI, server) of this test file. */
export function childProcessEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  // vitest's own markers would make a child think it runs inside a test worker.
  for (const key of Object.keys(env)) if (key.startsWith("VITEST") || key === "TEST") delete env[key];
  return env;
}
