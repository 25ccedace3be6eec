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
    expect(getEnv({ ...base, NODE_ENV: "production", APP_BRIDGE_URL: "" }).APP_BRIDGE_URL).toBeUndefined();
  });

  it("accepts a metrics bearer token of 16+ characters only", () => {
    expect(() => getEnv({ ...base, METRICS_BEARER_TOKEN: "short" })).toThrow(/METRICS_BEARER_TOKEN: must be at least 16 characters/);
    expect(getEnv({ ...base, METRICS_BEARER_TOKEN: "0123456789abcdef" }).METRICS_BEARER_TOKEN).toBe("0123456789abcdef");
  });
});
