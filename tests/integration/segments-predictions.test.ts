// Segment attributes from the predictions (issues 15 and 16): predicted_spend_tier (Shopify's,
// 'HIGH' | 'MEDIUM' | 'LOW' in any case), predicted_clv, churn_risk and
// expected_next_order_date, compiled to SQL over customer_predictions on a real database, and
// the refit job asking for the shop's segment refresh so a refit that moves customers between
// tiers moves them between segments (history cause `refresh`).
import type { Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { closeQueues } from "../../app/queues.server";
import { refitClv } from "../../app/services/analytics/clv.server";
import { analyzeSegmentQuery, needsScheduledRefresh } from "../../app/services/segments/definition";
import { createSegment } from "../../app/services/segments/segments.server";
import { clvRefitProcessor, type ClvRefitJob } from "../../jobs/clv-refit";
import { closeSegmentRefreshQueue, getSegmentRefreshQueue, segmentRefreshProcessor, type SegmentRefreshJob } from "../../jobs/segment-refresh";
import { useIntegrationEnv } from "../support/env";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;

const SHOP = "predattrs.myshopify.com";
const OTHER = "predattrs-other.myshopify.com";
const DAY = 86_400_000;
const START = Date.now() - 400 * DAY;
const gid = (n: number) => `gid://shopify/Customer/${n}`;
let orderSeq = 0;

async function seedOrders(shop: string, customer: number, orders: { day: number; cents: number }[]) {
  for (const o of orders) {
    const id = String(++orderSeq);
    const at = new Date(START + o.day * DAY);
    await getPool().query(
      `INSERT INTO orders (shop, gid, legacy_id, customer_gid, currency, total_price_minor, refunded_minor, test, shopify_created_at, shopify_updated_at)
       VALUES ($1, $2, $3, $4, 'USD', $5, 0, false, $6, $6)`,
      [shop, `gid://shopify/Order/${id}`, id, gid(customer), o.cents, at],
    );
  }
  await getPool().query(
    `UPDATE customers c SET orders_count = s.n, total_spent_minor = s.total, first_order_at = s.first, last_order_at = s.last, aov_minor = s.total / s.n
       FROM (SELECT count(*)::int AS n, sum(total_price_minor) AS total, min(shopify_created_at) AS first, max(shopify_created_at) AS last
               FROM orders WHERE shop = $1 AND customer_gid = $2) s
      WHERE c.shop = $1 AND c.gid = $2`,
    [shop, gid(customer)],
  );
}

async function members(segmentId: string): Promise<string[]> {
  const { rows } = await getPool().query<{ customer_gid: string }>(`SELECT customer_gid FROM segment_members WHERE segment_id = $1 ORDER BY customer_gid`, [segmentId]);
  return rows.map((r) => r.customer_gid);
}

/** The customers whose stored prediction satisfies `predicate` (over p), read directly. */
async function predicted(predicate: string): Promise<string[]> {
  const { rows } = await getPool().query<{ gid: string }>(
    `SELECT c.gid FROM customers c JOIN customer_predictions p ON p.shop = c.shop AND p.customer_id = c.id WHERE c.shop = $1 AND (${predicate}) ORDER BY c.gid`,
    [SHOP],
  );
  return rows.map((r) => r.gid);
}

beforeAll(async () => {
  env = await useIntegrationEnv();
  for (const shop of [SHOP, OTHER]) {
    await getPool().query(`INSERT INTO shops (domain, "ianaTimezone", "currencyCode") VALUES ($1, 'Europe/Berlin', 'USD')`, [shop]);
    // 1..30 buy (repeat buyers of varied value and recency); 31 never ordered: no prediction.
    await getPool().query(`INSERT INTO customers (shop, gid) SELECT $1, 'gid://shopify/Customer/' || n FROM generate_series(1, 31) n`, [shop]);
  }
  for (let n = 1; n <= 30; n++) {
    const orders = Array.from({ length: 1 + (n % 5) }, (_, k) => ({ day: 10 + ((n * 37 + k * 53) % 380), cents: 1_000 + ((n * 7919) % 40) * 500 }));
    await seedOrders(SHOP, n, orders);
    await seedOrders(OTHER, n, [{ day: 5, cents: 99_000 }]);
  }
  await refitClv({ shop: SHOP });
  await refitClv({ shop: OTHER });
}, 120_000);

afterAll(async () => {
  await closeSegmentRefreshQueue();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

describe("prediction attributes", () => {
  it("select exactly the customers whose stored prediction holds; customers without one have no value", async () => {
    const cases: [string, string][] = [
      ["predicted_spend_tier = 'HIGH'", "p.spend_tier = 'HIGH'"],
      ["predicted_spend_tier = 'medium'", "p.spend_tier = 'MEDIUM'"],
      ["predicted_spend_tier != 'LOW'", "p.spend_tier <> 'LOW'"],
      ["predicted_clv >= 100", "p.predicted_clv_12m_minor >= 10000"],
      ["churn_risk > 0.5", "p.churn_risk > 0.5"],
      ["expected_next_order_date <= +60d", "p.expected_next_order_at < date_trunc('day', now() AT TIME ZONE 'Europe/Berlin') AT TIME ZONE 'Europe/Berlin' + interval '61 days'"],
    ];
    for (const [query, predicate] of cases) {
      const { segment } = await createSegment({ shop: SHOP, name: query, query });
      expect(await members(segment.id), query).toEqual(await predicted(predicate));
    }
    const high = await predicted("p.spend_tier = 'HIGH'");
    expect(high.length, "the store has HIGH customers").toBeGreaterThan(0);
    expect(high.length, "and others").toBeLessThan(30);
    const { segment: none } = await createSegment({ shop: SHOP, name: "no prediction", query: "predicted_spend_tier IS NULL AND churn_risk IS NULL" });
    expect(await members(none.id)).toEqual([gid(31)]);
    const { segment: notHigh } = await createSegment({ shop: SHOP, name: "not high", query: "NOT predicted_spend_tier = 'HIGH'" });
    expect(await members(notHigh.id)).toContain(gid(31));
  });

  it("a refit that moves customers between tiers moves them between segments through the refresh it requests", async () => {
    const { segment } = await createSegment({ shop: SHOP, name: "VIP by prediction", query: "predicted_spend_tier = 'HIGH'" });
    const definition = analyzeSegmentQuery(segment.query);
    expect(definition.ok && definition.usesPredictions && !definition.relativeTime && needsScheduledRefresh(definition)).toBe(true);
    const before = await members(segment.id);
    expect(before).toEqual(await predicted("p.spend_tier = 'HIGH'"));
    // Three LOW customers become frequent big spenders.
    const risers = (await predicted("p.spend_tier = 'LOW'")).slice(0, 3).map((g) => Number(g.split("/").pop()));
    expect(risers).toHaveLength(3);
    for (const n of risers) await seedOrders(SHOP, n, Array.from({ length: 8 }, (_, k) => ({ day: 300 + k * 12, cents: 90_000 })));

    const queue = getSegmentRefreshQueue();
    await queue.obliterate({ force: true });
    const summary = await clvRefitProcessor({ id: "refit-1", data: { shop: SHOP, reason: "on-demand" }, opts: { attempts: 3 }, attemptsMade: 0 } as unknown as Job<ClvRefitJob>);
    expect(summary.failed).toEqual([]);
    // The predictions changed, the stored membership not yet.
    const after = await predicted("p.spend_tier = 'HIGH'");
    expect(after).not.toEqual(before);
    for (const n of risers) expect(after).toContain(gid(n));
    expect(await members(segment.id)).toEqual(before);

    const waiting = await queue.getJobs(["waiting", "delayed", "prioritized"]);
    expect(waiting.map((j) => j.data)).toEqual([expect.objectContaining({ shop: SHOP, reason: "on-demand" })]);
    const refresh = await segmentRefreshProcessor(waiting[0] as Job<SegmentRefreshJob>);
    expect(refresh.failed).toEqual([]);
    expect(await members(segment.id)).toEqual(after);
    const { rows } = await getPool().query<{ customer_gid: string; change: string; cause: string }>(
      `SELECT customer_gid, change::text, cause::text FROM segment_membership_changes WHERE segment_id = $1 AND cause::text = 'refresh' ORDER BY id`,
      [segment.id],
    );
    expect(rows.filter((r) => r.change === "entered").map((r) => r.customer_gid).sort()).toEqual(after.filter((g) => !before.includes(g)).sort());
    expect(rows.filter((r) => r.change === "exited").map((r) => r.customer_gid).sort()).toEqual(before.filter((g) => !after.includes(g)).sort());
    // The other shop's predictions never leak in (same gids, other shop).
    expect(await members(segment.id)).not.toContain(gid(31));
  });
});
