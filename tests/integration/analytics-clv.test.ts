// Predictions (issue 15): the customer summary computed in PostgreSQL from the CRM's orders,
// the per-shop fit (plain maximum likelihood from 1,000 customers with orders, shrunk towards a
// pooled prior below), the stored predictions, and the CLI contract
// (`analytics clv`, `analytics customer`).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool, withTransaction } from "../../app/db.server";
import { redactCustomer } from "../../app/services/privacy.server";
import { getClvModel, readClvSummary, refitClv } from "../../app/services/analytics/clv.server";
import { closeQueues } from "../../app/queues.server";
import { clvRefitProcessor, type ClvRefitJob } from "../../jobs/clv-refit";
import type { Job } from "bullmq";
import { simulateCustomers } from "../support/bgnbd-simulation";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { runCli } from "../support/pipeline";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let cliEnv: NodeJS.ProcessEnv;

const SUMMARY_SHOP = "clv-summary.myshopify.com";
const BIG_SHOP = "clv-big.myshopify.com";
const SMALL_SHOP = "clv-small.myshopify.com";
const EMPTY_SHOP = "clv-empty.myshopify.com";
const DAY = 86_400_000;
const EPOCH = Date.parse("2025-01-01T12:00:00Z");
const TRUTH = { r: 0.5, alpha: 40, a: 0.8, b: 3 };

type OrderSeed = { customer: string; at: string | number; totalCents: number; refundedCents?: number; test?: boolean; cancelled?: boolean };
let orderSeq = 0;

async function seedShop(shop: string, zone: string | null) {
  await getPool().query(`INSERT INTO shops (domain, "ianaTimezone", "currencyCode") VALUES ($1, $2, 'USD') ON CONFLICT DO NOTHING`, [shop, zone]);
}
async function seedCustomers(shop: string, gids: string[], deleted: string[] = []) {
  await getPool().query(
    `INSERT INTO customers (shop, gid, deleted_at) SELECT $1, g, CASE WHEN g = ANY($3::text[]) THEN now() END FROM unnest($2::text[]) g`,
    [shop, gids, deleted],
  );
}
async function seedOrders(shop: string, orders: OrderSeed[]) {
  const ids = orders.map(() => String(++orderSeq));
  await getPool().query(
    `INSERT INTO orders (shop, gid, legacy_id, customer_gid, currency, total_price_minor, refunded_minor, test, cancelled_at, shopify_created_at, shopify_updated_at)
     SELECT $1, 'gid://shopify/Order/' || id, id, c, 'USD', tot, ref, t, CASE WHEN canc THEN at END, at, at
       FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bool[], $7::bool[], $8::timestamptz[]) AS u(id, c, tot, ref, t, canc, at)`,
    [
      shop, ids, orders.map((o) => o.customer), orders.map((o) => o.totalCents), orders.map((o) => o.refundedCents ?? 0),
      orders.map((o) => o.test ?? false), orders.map((o) => o.cancelled ?? false), orders.map((o) => new Date(o.at)),
    ],
  );
}

/** Simulated BG/NBD buyers as CRM customers and orders (day d of the simulation is EPOCH + d days). */
async function seedSimulated(shop: string, customers: number, seed: number, untilDay: number) {
  const sim = simulateCustomers({ seed, customers, params: TRUTH, firstDays: 180, untilDay });
  const gids = sim.map((c) => `gid://shopify/Customer/${seed * 100_000 + c.index}`);
  await seedCustomers(shop, gids);
  const orders: OrderSeed[] = sim.flatMap((c, i) => c.orderDays.map((d, k) => ({ customer: gids[i]!, at: EPOCH + d * DAY + (k % 3) * 3_600_000, totalCents: c.valuesCents[k]! })));
  for (let i = 0; i < orders.length; i += 20_000) await seedOrders(shop, orders.slice(i, i + 20_000));
  return { sim, gids, asOf: new Date(EPOCH + untilDay * DAY) };
}

beforeAll(async () => {
  env = await useIntegrationEnv();
  cliEnv = childProcessEnv();
});

afterAll(async () => {
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

describe("the customer summary (SQL)", () => {
  it("counts distinct order days in the shop's time zone, leaves out tests, cancellations, later orders and deleted customers, nets refunds", async () => {
    await seedShop(SUMMARY_SHOP, "America/New_York");
    const [ana, bo, cy, dee] = ["gid://shopify/Customer/1", "gid://shopify/Customer/2", "gid://shopify/Customer/3", "gid://shopify/Customer/4"];
    await seedCustomers(SUMMARY_SHOP, [ana!, bo!, cy!, dee!], [dee!]);
    await seedOrders(SUMMARY_SHOP, [
      { customer: ana!, at: "2026-01-10T15:00:00Z", totalCents: 5000 }, // Jan 10 in New York
      { customer: ana!, at: "2026-01-11T01:00:00Z", totalCents: 1000 }, // still Jan 10 in New York: same day
      { customer: ana!, at: "2026-01-15T15:00:00Z", totalCents: 5000, refundedCents: 2000 },
      { customer: ana!, at: "2026-01-20T15:00:00Z", totalCents: 9999, test: true },
      { customer: ana!, at: "2026-01-22T15:00:00Z", totalCents: 3000, cancelled: true },
      { customer: ana!, at: "2026-01-25T03:00:00Z", totalCents: 2500 }, // Jan 24 in New York
      { customer: ana!, at: "2026-01-24T20:00:00Z", totalCents: 500 }, // Jan 24 too: that day's value is 3000
      { customer: ana!, at: "2026-02-03T15:00:00Z", totalCents: 7000 }, // after asOf
      { customer: bo!, at: "2026-01-30T15:00:00Z", totalCents: 1200 },
      { customer: dee!, at: "2026-01-12T15:00:00Z", totalCents: 1200 },
      { customer: dee!, at: "2026-01-13T15:00:00Z", totalCents: 1200 },
    ]);
    const rows = await readClvSummary({ shop: SUMMARY_SHOP, asOf: new Date("2026-02-01T12:00:00Z") });
    const ids = await getPool().query<{ id: string; gid: string }>(`SELECT id::text, gid FROM customers WHERE shop = $1`, [SUMMARY_SHOP]);
    const idOf = (gid: string) => ids.rows.find((r) => r.gid === gid)!.id;
    expect(rows).toEqual([
      // days Jan 10, 15, 24: x = 2, tx = 14, T = Feb 1 - Jan 10 = 22; repeat days worth 3000 and 3000
      { customerId: idOf(ana!), x: 2, tx: 14, t: 22, zbar: 3000 },
      { customerId: idOf(bo!), x: 0, tx: 0, t: 2, zbar: 0 },
    ]);
  });
});

let big: Awaited<ReturnType<typeof seedSimulated>>;

describe("fit and predictions", () => {
  it("recovers known BG/NBD parameters from simulated buyers, by plain maximum likelihood from 1,000 customers", async () => {
    await seedShop(BIG_SHOP, "UTC");
    big = await seedSimulated(BIG_SHOP, 3_000, 11, 540);
    const report = await refitClv({ shop: BIG_SHOP, asOf: big.asOf });
    const model = report.model!;
    expect(model.method).toBe("mle");
    expect(model.priorWeight).toBe(0);
    expect(model.customers).toBe(3_000);
    expect(model.timeUnit).toBe("day");
    // Sampling error at 3,000 customers: each parameter within 30% of the truth.
    for (const key of ["r", "alpha", "a", "b"] as const) {
      expect(Math.abs(model.params[key] / TRUTH[key] - 1), `${key} = ${model.params[key]}`).toBeLessThan(0.3);
    }
    // Simulated order values: Gamma(6, nu), nu ~ Gamma(4, 600) per cent: p = 6, q = 4, gamma = 600.
    expect(Math.abs(model.spend!.p / 6 - 1)).toBeLessThan(0.3);
    expect(Math.abs(model.spend!.q / 4 - 1)).toBeLessThan(0.3);
    expect(report.scored).toBe(3_000);

    const stored = await getPool().query<{ tier: string; n: string; bad: string; conf: string }>(
      `SELECT spend_tier AS tier, count(*) AS n,
              count(*) FILTER (WHERE p_alive < 0 OR p_alive > 1 OR abs(churn_risk - (1 - p_alive)) > 1e-12 OR expected_orders_12m < 0 OR predicted_clv_12m_minor < 0
                               OR expected_next_order_at < $2) AS bad,
              string_agg(DISTINCT confidence, ',' ORDER BY confidence) AS conf
         FROM customer_predictions WHERE shop = $1 GROUP BY spend_tier ORDER BY spend_tier`,
      [BIG_SHOP, big.asOf],
    );
    const byTier = Object.fromEntries(stored.rows.map((r) => [r.tier, Number(r.n)]));
    // 20% / 40% / 40% by predicted value; equal values share a tier, so the cuts move by the ties only.
    expect(byTier.HIGH! + byTier.MEDIUM! + byTier.LOW!).toBe(3_000);
    expect(Math.abs(byTier.HIGH! - 600)).toBeLessThanOrEqual(15);
    expect(Math.abs(byTier.MEDIUM! - 1_200)).toBeLessThanOrEqual(15);
    expect(stored.rows.every((r) => r.bad === "0")).toBe(true);
    expect(stored.rows.flatMap((r) => r.conf.split(","))).toContain("high");
  });

  it("a large shop's fit runs on a deterministic sample of its customers; every customer is still scored", async () => {
    const first = await refitClv({ shop: BIG_SHOP, asOf: big.asOf, fitSampleCustomers: 1_500 });
    const again = await refitClv({ shop: BIG_SHOP, asOf: big.asOf, fitSampleCustomers: 1_500 });
    expect(Math.abs(first.fitCustomers - 1_500)).toBeLessThan(150);
    expect(again.fitCustomers).toBe(first.fitCustomers);
    expect(again.model!.params).toEqual(first.model!.params);
    expect(first.model!.customers).toBe(3_000);
    expect(first.scored).toBe(3_000);
    for (const key of ["r", "alpha", "a", "b"] as const) expect(Math.abs(first.model!.params[key] / TRUTH[key] - 1), key).toBeLessThan(0.5);
    // Back to the full fit for the tests below.
    await refitClv({ shop: BIG_SHOP, asOf: big.asOf });
  });

  it("a frequent recent buyer outranks a lapsed one, and a single-order customer gets the population's order value", async () => {
    const rows = await getPool().query<{ gid: string; p_alive: number; expected: number; clv: string; orders: number; last: Date }>(
      `SELECT c.gid, p.p_alive, p.expected_orders_12m AS expected, p.predicted_clv_12m_minor AS clv,
              (SELECT count(*)::int FROM orders o WHERE o.shop = c.shop AND o.customer_gid = c.gid) AS orders,
              (SELECT max(shopify_created_at) FROM orders o WHERE o.shop = c.shop AND o.customer_gid = c.gid) AS last
         FROM customer_predictions p JOIN customers c ON c.id = p.customer_id WHERE p.shop = $1`,
      [BIG_SHOP],
    );
    const recentHeavy = rows.rows.filter((r) => r.orders >= 6 && big.asOf.getTime() - r.last.getTime() < 20 * DAY);
    const lapsed = rows.rows.filter((r) => r.orders >= 3 && big.asOf.getTime() - r.last.getTime() > 250 * DAY);
    expect(recentHeavy.length).toBeGreaterThan(0);
    expect(lapsed.length).toBeGreaterThan(0);
    expect(Math.min(...recentHeavy.map((r) => r.p_alive))).toBeGreaterThan(Math.max(...lapsed.map((r) => r.p_alive)));
    expect(Math.min(...recentHeavy.map((r) => r.expected))).toBeGreaterThan(Math.max(...lapsed.map((r) => r.expected)));
    // One-order customers: p(alive) is 1 by the model; their value rests on the population mean.
    const single = rows.rows.filter((r) => r.orders === 1);
    expect(single.every((r) => r.p_alive === 1)).toBe(true);
  });

  it("a small shop is shrunk towards the prior pooled from the shops fitted by maximum likelihood, and says so", async () => {
    await seedShop(SMALL_SHOP, "UTC");
    await seedSimulated(SMALL_SHOP, 40, 12, 300);
    const report = await refitClv({ shop: SMALL_SHOP, asOf: new Date(EPOCH + 300 * DAY) });
    expect(report.model!.method).toBe("shrunk");
    expect(report.model!.priorWeight).toBeCloseTo(1 - 40 / 1000, 10);
    expect(report.model!.priorSource).toBe("pooled from 1 shop(s) fitted by plain maximum likelihood");
    const conf = await getPool().query<{ confidence: string }>(`SELECT DISTINCT confidence FROM customer_predictions WHERE shop = $1`, [SMALL_SHOP]);
    expect(conf.rows.map((r) => r.confidence)).toEqual(["low"]);
    // A refit replaces the shop's predictions and keeps the model history.
    await refitClv({ shop: SMALL_SHOP, asOf: new Date(EPOCH + 300 * DAY) });
    const counts = await getPool().query<{ models: string; predictions: string; stale: string }>(
      `SELECT (SELECT count(*) FROM clv_models WHERE shop = $1) AS models, (SELECT count(*) FROM customer_predictions WHERE shop = $1) AS predictions,
              (SELECT count(*) FROM customer_predictions p WHERE shop = $1 AND model_id <> (SELECT max(id) FROM clv_models WHERE shop = $1)) AS stale`,
      [SMALL_SHOP],
    );
    expect(counts.rows[0]).toEqual({ models: "2", predictions: "40", stale: "0" });
  });
});

describe("the refit job", () => {
  const job = (data: unknown, attemptsMade = 0) => ({ id: "clv-test", data, opts: { attempts: 3 }, attemptsMade }) as unknown as Job<ClvRefitJob>;

  it("refits the named shop; bad job data is unrecoverable", async () => {
    const before = await getClvModel(SMALL_SHOP);
    const summary = await clvRefitProcessor(job({ shop: SMALL_SHOP, reason: "on-demand" }));
    expect(summary.failed).toEqual([]);
    expect(summary.shops).toEqual([expect.objectContaining({ shop: SMALL_SHOP, customers: 40, method: "shrunk" })]);
    const after = await getClvModel(SMALL_SHOP);
    expect(Date.parse(after!.fittedAt)).toBeGreaterThan(Date.parse(before!.fittedAt));
    await expect(clvRefitProcessor(job({ shop: "not a shop", reason: "on-demand" }))).rejects.toMatchObject({ name: "UnrecoverableError" });
  });
});

// Each CLI call is a child process with its own TypeScript loader: seconds each on a busy machine.
describe("crm analytics CLI", { timeout: 180_000 }, () => {
  const crm = (...args: string[]) => runCli(args, cliEnv);

  it("analytics clv prints the fitted model in the documented shape; --refit fits first", async () => {
    const stored = await getClvModel(BIG_SHOP);
    const shown = await crm("analytics", "clv", "--shop", BIG_SHOP);
    expect(shown.stderr).toBe("");
    expect(shown.code).toBe(0);
    const json = JSON.parse(shown.stdout);
    expect(Object.keys(json).slice(0, 6)).toEqual(["model", "params", "spend", "timeUnit", "customers", "fittedAt"]);
    expect(json).toMatchObject({ model: "bgnbd", timeUnit: "day", customers: 3_000, fittedAt: stored!.fittedAt, params: stored!.params, spend: stored!.spend });
    expect(Object.keys(json.params)).toEqual(["r", "alpha", "a", "b"]);
    expect(Object.keys(json.spend)).toEqual(["p", "q", "gamma"]);

    const none = await crm("analytics", "clv", "--shop", EMPTY_SHOP);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no model fitted");

    const refit = await crm("analytics", "clv", "--shop", SMALL_SHOP, "--refit");
    expect(refit.code).toBe(0);
    expect(JSON.parse(refit.stdout)).toMatchObject({ model: "bgnbd", customers: 40 });
    expect(Date.parse(JSON.parse(refit.stdout).fittedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("analytics customer prints the customer's prediction by gid or numeric id", async () => {
    const gid = big.gids[0]!;
    const byGid = await crm("analytics", "customer", "--shop", BIG_SHOP, "--customer", gid);
    expect(byGid.stderr).toBe("");
    const json = JSON.parse(byGid.stdout);
    expect(Object.keys(json).slice(0, 6)).toEqual(["pAlive", "expectedOrders12m", "predictedClv12m", "expectedNextOrderAt", "churnRisk", "cluster"]);
    expect(json.cluster).toBeNull();
    expect(json.pAlive).toBeGreaterThan(0);
    expect(json.churnRisk).toBeCloseTo(1 - json.pAlive, 3);
    expect(["HIGH", "MEDIUM", "LOW"]).toContain(json.predictedSpendTier);
    expect(["high", "medium", "low"]).toContain(json.confidence);
    const row = await getPool().query<{ clv: string }>(
      `SELECT p.predicted_clv_12m_minor AS clv FROM customer_predictions p JOIN customers c ON c.id = p.customer_id WHERE c.shop = $1 AND c.gid = $2`,
      [BIG_SHOP, gid],
    );
    expect(json.predictedClv12m).toBe(Number(row.rows[0]!.clv) / 100);
    const byId = await crm("analytics", "customer", "--shop", BIG_SHOP, "--customer", gid.split("/").pop()!);
    expect(JSON.parse(byId.stdout)).toEqual(json);

    const unknown = await crm("analytics", "customer", "--shop", BIG_SHOP, "--customer", "999999999");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("not found");
  });
});

describe("privacy", () => {
  it("customers/redact removes the customer's prediction (it is derived from the person's orders)", async () => {
    const gid = big.gids[1]!;
    const count = async () =>
      Number(
        (
          await getPool().query<{ n: string }>(
            `SELECT count(*) AS n FROM customer_predictions p JOIN customers c ON c.id = p.customer_id WHERE c.shop = $1 AND c.gid = $2`,
            [BIG_SHOP, gid],
          )
        ).rows[0]!.n,
      );
    expect(await count()).toBe(1);
    await withTransaction((db) => redactCustomer(db, { shop: BIG_SHOP, customerGid: gid, orderLegacyIds: [], inboxId: "0" }));
    expect(await count()).toBe(0);
    // The next fit leaves the redacted customer out.
    const report = await refitClv({ shop: BIG_SHOP, asOf: big.asOf });
    expect(report.model!.customers).toBe(2_999);
  });
});
