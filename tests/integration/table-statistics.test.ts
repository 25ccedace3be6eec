// The worker keeps table statistics current itself (the apply step's plans must not depend on
// autovacuum, which is off on this machine's PostgreSQL): a table whose changes since its last
// ANALYZE pass the threshold is analysed; then nothing is stale.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { analyzeStaleTables, autovacuumEnabled } from "../../app/services/table-statistics.server";
import { checkHealth } from "../../app/services/operations.server";
import { closeQueues } from "../../app/queues.server";
import { useIntegrationEnv } from "../support/env";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;

beforeAll(async () => {
  env = await useIntegrationEnv();
});

afterAll(async () => {
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

const reltuples = async (table: string) =>
  Number((await getPool().query<{ n: number }>(`SELECT reltuples::float8 AS n FROM pg_class WHERE oid = $1::regclass`, [table])).rows[0]!.n);

describe("statistics kept by the app", () => {
  it("analyses a table that grew past the threshold, once", async () => {
    expect(await reltuples("webhook_events")).toBe(-1); // never analysed: the planner guesses
    // A separate connection that ends: its change counts reach the statistics at once.
    const writer = new pg.Client({ connectionString: env.DATABASE_URL });
    await writer.connect();
    await writer.query(
      `INSERT INTO webhook_events (shop, webhook_id, topic, api_version, payload)
       SELECT 'stats.myshopify.com', 'w-' || g, 'customers/create', '2026-07', '{}' FROM generate_series(1, 3000) g`,
    );
    await writer.end();
    let analyzed: Awaited<ReturnType<typeof analyzeStaleTables>> = [];
    for (let i = 0; i < 50 && !analyzed.some((t) => t.table === "webhook_events"); i++) {
      analyzed = await analyzeStaleTables();
      if (!analyzed.some((t) => t.table === "webhook_events")) await new Promise((r) => setTimeout(r, 100));
    }
    expect(analyzed).toContainEqual(expect.objectContaining({ table: "webhook_events", changes: 3000 }));
    expect(await reltuples("webhook_events")).toBe(3000);
    expect((await analyzeStaleTables()).map((t) => t.table)).not.toContain("webhook_events");
  });

  it("reports autovacuum's state, and /healthz warns when it is off", async () => {
    const on = await autovacuumEnabled();
    const health = await checkHealth();
    expect(health.warnings.length > 0).toBe(!on);
  });
});
