// The database time limits in the environment (app/env.server.ts): defaults, and the check
// that the client-side backstop exceeds the server-side statement limit.
import { describe, expect, it } from "vitest";
import { getEnv } from "../../app/env.server";

const BASE: NodeJS.ProcessEnv = {
  NODE_ENV: "test",
  DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/crm",
  REDIS_URL: "redis://127.0.0.1:6379/0",
  SHOPIFY_API_KEY: "key",
  SHOPIFY_API_SECRET: "secret",
  SHOPIFY_APP_URL: "https://crm.example.test",
};

describe("database limits in the environment", () => {
  it("defaults: 30 s statements on the main pool, a 35 s client backstop, 60 s idle in a transaction, a 4-connection ingress pool with 1.5 s inserts", () => {
    expect(getEnv({ ...BASE })).toMatchObject({
      DATABASE_STATEMENT_TIMEOUT_MS: 30_000,
      DATABASE_QUERY_TIMEOUT_MS: 35_000,
      DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: 60_000,
      DATABASE_INGRESS_POOL_SIZE: 4,
      DATABASE_INGRESS_STATEMENT_TIMEOUT_MS: 1_500,
    });
  });

  it.each([
    [{ DATABASE_QUERY_TIMEOUT_MS: "30000" }, /DATABASE_QUERY_TIMEOUT_MS: must be greater than DATABASE_STATEMENT_TIMEOUT_MS \(30000\)/],
    [{ DATABASE_STATEMENT_TIMEOUT_MS: "60000" }, /DATABASE_QUERY_TIMEOUT_MS: must be greater than DATABASE_STATEMENT_TIMEOUT_MS \(60000\)/],
    [{ DATABASE_INGRESS_STATEMENT_TIMEOUT_MS: "5000" }, /DATABASE_INGRESS_STATEMENT_TIMEOUT_MS/],
    [{ DATABASE_INGRESS_POOL_SIZE: "0" }, /DATABASE_INGRESS_POOL_SIZE/],
  ] as [Record<string, string>, RegExp][])("refuses %o with a message naming the variable", (overrides, message) => {
    expect(() => getEnv({ ...BASE, ...overrides })).toThrow(message);
  });

  it("accepts a longer statement limit with a longer backstop", () => {
    expect(getEnv({ ...BASE, DATABASE_STATEMENT_TIMEOUT_MS: "590000", DATABASE_QUERY_TIMEOUT_MS: "600000" })).toMatchObject({ DATABASE_STATEMENT_TIMEOUT_MS: 590_000 });
  });
});
