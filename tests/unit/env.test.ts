// The environment schema: development-only settings are refused in production.
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

describe("environment", () => {
  it("refuses APP_BRIDGE_URL when NODE_ENV=production, naming it", () => {
    expect(() => getEnv({ ...base, NODE_ENV: "production", APP_BRIDGE_URL: "http://127.0.0.1:3000/dev/app-bridge.js" })).toThrow(
      /APP_BRIDGE_URL: must not be set when NODE_ENV=production/,
    );
    expect(getEnv({ ...base, NODE_ENV: "development", APP_BRIDGE_URL: "http://127.0.0.1:3000/dev/app-bridge.js" }).APP_BRIDGE_URL).toBe(
      "http://127.0.0.1:3000/dev/app-bridge.js",
    );
    expect(getEnv({ ...base, NODE_ENV: "production", APP_BRIDGE_URL: "", SESSION_ENCRYPTION_KEY: "00".repeat(32) }).APP_BRIDGE_URL).toBeUndefined();
  });

  it("requires SESSION_ENCRYPTION_KEY in production, as 32 bytes", () => {
    expect(() => getEnv({ ...base, NODE_ENV: "production" })).toThrow(/SESSION_ENCRYPTION_KEY: is required when NODE_ENV=production/);
    expect(() => getEnv({ ...base, SESSION_ENCRYPTION_KEY: "c2hvcnQ=" })).toThrow(/SESSION_ENCRYPTION_KEY: must be 32 bytes/);
    expect(getEnv({ ...base, NODE_ENV: "production", SESSION_ENCRYPTION_KEY: "00".repeat(32) }).SESSION_ENCRYPTION_KEY).toBe("00".repeat(32));
  });

  it("accepts a metrics bearer token of 16+ characters only", () => {
    expect(() => getEnv({ ...base, METRICS_BEARER_TOKEN: "short" })).toThrow(/METRICS_BEARER_TOKEN: must be at least 16 characters/);
    expect(getEnv({ ...base, METRICS_BEARER_TOKEN: "0123456789abcdef" }).METRICS_BEARER_TOKEN).toBe("0123456789abcdef");
  });
});
