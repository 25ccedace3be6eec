// Environment for integration tests: a fresh database, a private Redis database
// index, and Shopify app credentials used to sign real HMACs.
import { Redis } from "ioredis";
import { createTestDatabase } from "./database";

export const TEST_API_KEY = "test-api-key";
export const TEST_API_SECRET = "test-api-secret-for-hmac";
export const TEST_APP_URL = "https://crm.example.test";

let redisDbCounter = 1 + (process.pid % 8);

export async function useIntegrationEnv(overrides: Record<string, string> = {}) {
  const db = await createTestDatabase();
  const redisDb = redisDbCounter++ % 15 + 1;
  const redisUrl = `redis://127.0.0.1:6379/${redisDb}`;
  const flush = new Redis(redisUrl);
  await flush.flushdb();
  flush.disconnect();
  const values: Record<string, string> = {
    NODE_ENV: "test",
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    SHOPIFY_API_KEY: TEST_API_KEY,
    SHOPIFY_API_SECRET: TEST_API_SECRET,
    SHOPIFY_APP_URL: TEST_APP_URL,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    WEBHOOK_MAX_BODY_BYTES: String(256 * 1024),
    ...overrides,
  };
  Object.assign(process.env, values);
  return { ...values, databaseName: db.name, dropDatabase: db.drop };
}
