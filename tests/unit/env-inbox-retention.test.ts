// INBOX_RETENTION_DAYS: raw webhook bodies of applied events are kept 30 days by default.
import { describe, expect, it } from "vitest";
import { getEnv } from "../../app/env.server";

const base = {
  DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/crm",
  REDIS_URL: "redis://127.0.0.1:6379/0",
  SHOPIFY_API_KEY: "key",
  SHOPIFY_API_SECRET: "secret",
  SHOPIFY_APP_URL: "https://crm.example.com",
  NODE_ENV: "development",
} as const;

describe("inbox retention settings", () => {
  it("defaults to 30 days, checked hourly, and refuses a period under one day", () => {
    expect(getEnv({ ...base })).toMatchObject({ INBOX_RETENTION_DAYS: 30, INBOX_RETENTION_INTERVAL_MS: 3_600_000 });
    expect(getEnv({ ...base, INBOX_RETENTION_DAYS: "7" }).INBOX_RETENTION_DAYS).toBe(7);
    expect(() => getEnv({ ...base, INBOX_RETENTION_DAYS: "0" })).toThrow(/INBOX_RETENTION_DAYS/);
    expect(() => getEnv({ ...base, INBOX_RETENTION_DAYS: "1.5" })).toThrow(/INBOX_RETENTION_DAYS/);
  });
});
