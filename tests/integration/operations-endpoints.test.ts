// /metrics for operators: the inbox gauges come from a cached snapshot (a scrape storm costs
// one count per METRICS_CACHE_MS), and METRICS_BEARER_TOKEN protects the endpoint.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { closeQueues } from "../../app/queues.server";
import { loader as metricsLoader } from "../../app/routes/metrics";
import { useIntegrationEnv } from "../support/env";

const TOKEN = "metrics-token-for-tests-0123456789";
let env: Awaited<ReturnType<typeof useIntegrationEnv>>;

beforeAll(async () => {
  env = await useIntegrationEnv({ METRICS_CACHE_MS: "60000", METRICS_BEARER_TOKEN: TOKEN });
});

afterAll(async () => {
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

async function insertWaitingRow(): Promise<void> {
  await getPool().query(
    `INSERT INTO webhook_events (shop, webhook_id, topic, api_version, payload) VALUES ('metrics.myshopify.com', $1, 'customers/create', '2026-07', '{}')`,
    [randomUUID()],
  );
}

const scrape = (authorization?: string) =>
  metricsLoader({ request: new Request("http://app.test/metrics", { headers: authorization ? { authorization } : {} }), params: {}, context: {} });

const pendingGauge = (text: string) => Number(/^crm_inbox_events\{status="pending"\} (\d+)$/m.exec(text)?.[1] ?? "NaN");

describe("GET /metrics", () => {
  it("refuses a scrape without the bearer token, or with a wrong one", async () => {
    for (const authorization of [undefined, "Bearer wrong-token-0123456789abcdef", `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const response = await scrape(authorization);
      expect(response.status, String(authorization)).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
  });

  it("serves the inbox gauges from a snapshot instead of counting on every scrape", async () => {
    await insertWaitingRow();
    const first = await scrape(`Bearer ${TOKEN}`);
    expect(first.status).toBe(200);
    expect(pendingGauge(await first.text())).toBe(1);
    await insertWaitingRow();
    const second = await (await scrape(`Bearer ${TOKEN}`)).text();
    // Within METRICS_CACHE_MS the snapshot stands; the live count would be 2.
    expect(pendingGauge(second)).toBe(1);
    const { rows } = await getPool().query<{ n: string }>(`SELECT count(*) AS n FROM webhook_events WHERE status = 'received'`);
    expect(rows[0]!.n).toBe("2");
  });
});
