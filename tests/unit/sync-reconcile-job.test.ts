// The reconciliation job says how it fails: bad job data is unrecoverable (no retry), before any I/O;
// SYNC_RECONCILE_INTERVAL_MS defaults to an hour.
import { UnrecoverableError, type Job } from "bullmq";
import { describe, expect, it } from "vitest";
import { syncReconcileProcessor, type SyncReconcileJob } from "../../jobs/sync-reconcile";
import { getEnv } from "../../app/env.server";

describe("reconciliation job", () => {
  it.each([[{}], [{ kind: "shop" }], [{ kind: "shop", shop: "not a domain", trigger: "manual" }], [{ kind: "shop", shop: "a.myshopify.com", trigger: "whenever" }], [null]])(
    "rejects job data %j as unrecoverable",
    async (data) => {
      const job = { id: "1", data, opts: { attempts: 3 }, attemptsMade: 0 } as unknown as Job<SyncReconcileJob>;
      await expect(syncReconcileProcessor(job)).rejects.toBeInstanceOf(UnrecoverableError);
    },
  );
});

describe("SYNC_RECONCILE_INTERVAL_MS", () => {
  const base = {
    DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/crm",
    REDIS_URL: "redis://127.0.0.1:6379/0",
    SHOPIFY_API_KEY: "key",
    SHOPIFY_API_SECRET: "secret",
    SHOPIFY_APP_URL: "https://crm.example.com",
    NODE_ENV: "development",
  } as const;
  it("defaults to an hour, takes another interval, refuses less than a minute", () => {
    expect(getEnv({ ...base }).SYNC_RECONCILE_INTERVAL_MS).toBe(3_600_000);
    expect(getEnv({ ...base, SYNC_RECONCILE_INTERVAL_MS: "900000" }).SYNC_RECONCILE_INTERVAL_MS).toBe(900_000);
    expect(() => getEnv({ ...base, SYNC_RECONCILE_INTERVAL_MS: "1000" })).toThrow(/SYNC_RECONCILE_INTERVAL_MS/);
  });
});
