// /healthz says which dependency failed and how (timeout or unavailable), never the raw
// error: driver messages can name hosts, ports and users.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb } from "../../app/db.server";
import { closeQueues } from "../../app/queues.server";
import { loader as healthLoader } from "../../app/routes/healthz";
import { useIntegrationEnv } from "../support/env";
import { freePort } from "../support/pipeline";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let deadPort: number;

beforeAll(async () => {
  deadPort = await freePort(); // nothing listens here: Redis is down for this file
  env = await useIntegrationEnv({ REDIS_URL: `redis://127.0.0.1:${deadPort}/0` });
});

afterAll(async () => {
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

describe("GET /healthz", () => {
  it("answers 503 naming the failed check without its error text", async () => {
    const response = await healthLoader();
    expect(response.status).toBe(503);
    const text = await response.text();
    const body = JSON.parse(text) as { ok: boolean; checks: Record<string, { ok: boolean; error?: string }> };
    expect(body.ok).toBe(false);
    expect(body.checks.database!.ok).toBe(true);
    expect(body.checks.redis!.ok).toBe(false);
    expect(["timeout", "unavailable"]).toContain(body.checks.redis!.error);
    expect(text).not.toContain(String(deadPort));
    expect(text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|connect/i);
  });
});
