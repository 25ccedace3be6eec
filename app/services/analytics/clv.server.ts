// Predicted customer value, churn and next order (issue 15, decisions 051 and 052): the shop's
// customer summary is computed set-based in PostgreSQL, grouped to its distinct (x, tx, T)
// triples for the fit (app/domain/analytics), and the scores are joined back in SQL, so
// neither the fit nor the scoring moves one row per customer through Node.
import { getPool, withTransaction, type Queryable } from "../../db.server";
import { logger } from "../../logger.server";
import { buildPrior, confidenceLabel, expectedOrderValue, fitShop, scoreSummary, UNITS_PER_WEEK, type TimeUnit } from "../../domain/analytics/clv";
import type { BgNbdParams } from "../../domain/analytics/bgnbd";
import type { GammaGammaParams } from "../../domain/analytics/gamma-gamma";
import { currencyExponent } from "../../domain/money";
import { getCustomerCluster } from "./clusters.server";

export class ClvError extends Error {}

/** Share of customers (by predicted 12-month value, highest first) in each spend tier. */
export const SPEND_TIER_SHARES = { HIGH: 0.2, MEDIUM: 0.4 } as const;

/**
 * The standard summary of each live customer with at least one order that is neither a test
 * nor cancelled, placed before asOf: x = distinct days with an order after the first order's
 * day, tx = days from the first to the last order day, t = days from the first order day to
 * asOf's day (days in the shop's time zone), zbar = mean net value (total minus refunds, minor
 * units) of the repeat days' orders.
 */
const DAYS_SQL = `
  SELECT o.customer_gid, (o.shopify_created_at AT TIME ZONE coalesce((SELECT "ianaTimezone" FROM shops WHERE domain = $1), 'UTC'))::date AS day,
         sum(o.total_price_minor - o.refunded_minor) AS net
    FROM orders o
   WHERE o.shop = $1 AND o.customer_gid IS NOT NULL AND NOT o.test AND o.cancelled_at IS NULL AND o.shopify_created_at < $2
   GROUP BY 1, 2`;
// One pass over the order days, no sort: the first day's value travels with the first day in
// one bigint (day number * 2^42 + value + 2^41, so min() finds both; values within +-2^41 minor units).
const perCustomerSql = (days: string) => `
  WITH per AS (
    SELECT customer_gid, min(day) AS first_day, max(day) AS last_day, (count(*) - 1)::int AS x, sum(net)::float8 AS total_net,
           min((day - date '1970-01-01')::bigint * 4398046511104 + net::bigint + 2199023255552) AS first_key
      FROM ${days} GROUP BY customer_gid
  )
  SELECT c.id AS customer_id, per.x, (per.last_day - per.first_day)::int AS tx,
         (($2::timestamptz AT TIME ZONE coalesce((SELECT "ianaTimezone" FROM shops WHERE domain = $1), 'UTC'))::date - per.first_day)::int AS t,
         CASE WHEN per.x > 0 THEN (per.total_net - ((per.first_key % 4398046511104) - 2199023255552)) / per.x ELSE 0 END AS zbar
    FROM per
    JOIN customers c ON c.shop = $1 AND c.gid = per.customer_gid AND c.deleted_at IS NULL AND c.redacted_at IS NULL`;
const SUMMARY_SQL = perCustomerSql(`(${DAYS_SQL}) days`);

/**
 * Above this many customers with orders the fit runs on a deterministic sample of about this
 * many (by a hash of the customer id): the parameters' sampling error there is well under 1%,
 * and the fit's time stops growing with the shop. Every customer is still scored.
 */
export const FIT_SAMPLE_CUSTOMERS = 250_000;

/** work_mem for the refit's transaction only (SET LOCAL): one refit runs at a time per worker. */
const REFIT_WORK_MEM = "256MB";

export type SummaryRow = { customerId: string; x: number; tx: number; t: number; zbar: number };

/** The summary the fit uses (days), one row per customer with orders: for checks and reports. */
export async function readClvSummary({ shop, asOf, db = getPool() }: { shop: string; asOf: Date; db?: Queryable }): Promise<SummaryRow[]> {
  const result = await db.query<{ customer_id: string; x: number; tx: number; t: number; zbar: number }>(`${SUMMARY_SQL} ORDER BY c.id`, [shop, asOf]);
  return result.rows.map((r) => ({ customerId: r.customer_id, x: r.x, tx: r.tx, t: r.t, zbar: r.zbar }));
}

export type ClvModelView = {
  model: "bgnbd";
  params: BgNbdParams;
  spend: GammaGammaParams | null;
  timeUnit: TimeUnit;
  customers: number;
  fittedAt: string;
  repeatCustomers: number;
  method: "mle" | "shrunk";
  priorWeight: number;
  priorSource: string | null;
  logLikelihood: number;
  currency: string | null;
};

type ModelRow = {
  id: string;
  time_unit: TimeUnit;
  r: number;
  alpha: number;
  a: number;
  b: number;
  p: number | null;
  q: number | null;
  gamma: number | null;
  customers: number;
  repeat_customers: number;
  method: "mle" | "shrunk";
  prior_weight: number;
  prior_source: string | null;
  log_likelihood: number;
  currency: string | null;
  fitted_at: Date;
};

function view(row: ModelRow): ClvModelView {
  return {
    model: "bgnbd",
    params: { r: row.r, alpha: row.alpha, a: row.a, b: row.b },
    spend: row.p !== null && row.q !== null && row.gamma !== null ? { p: row.p, q: row.q, gamma: row.gamma } : null,
    timeUnit: row.time_unit,
    customers: row.customers,
    fittedAt: row.fitted_at.toISOString(),
    repeatCustomers: row.repeat_customers,
    method: row.method,
    priorWeight: row.prior_weight,
    priorSource: row.prior_source,
    logLikelihood: row.log_likelihood,
    currency: row.currency,
  };
}

/** The shop's model in force, or null before the first fit. */
export async function getClvModel(shop: string, db: Queryable = getPool()): Promise<ClvModelView | null> {
  const result = await db.query<ModelRow>(`SELECT * FROM clv_models WHERE shop = $1 ORDER BY fitted_at DESC, id DESC LIMIT 1`, [shop]);
  return result.rows[0] ? view(result.rows[0]) : null;
}

/** Shops with orders (the scheduled refit's list). */
export async function listClvShops(db: Queryable = getPool()): Promise<string[]> {
  const result = await db.query<{ domain: string }>(`SELECT domain FROM shops s WHERE s.uninstalled_at IS NULL AND EXISTS (SELECT 1 FROM orders o WHERE o.shop = s.domain) ORDER BY domain`);
  return result.rows.map((r) => r.domain);
}

export type RefitReport = {
  model: ClvModelView | null;
  scored: number;
  /** Distinct (x, tx, T) summaries the fit and the scoring ran on. */
  triples: number;
  /** Summary (SQL), fit (Node), score: scoring the triples (scoreTriples, Node) and writing every customer's row (SQL). */
  ms: { summary: number; fit: number; score: number; scoreTriples: number; total: number; vacuum?: number };
  /** Customers the fit ran on (all of them, or the sample above FIT_SAMPLE_CUSTOMERS). */
  fitCustomers: number;
};

/**
 * Fits the shop's model on the data held now (orders before asOf) and replaces every
 * customer's prediction, in one transaction. A shop without customers with orders gets no
 * model (null) and its old predictions are removed.
 */
export async function refitClv({
  shop,
  asOf = new Date(),
  timeUnit = "day",
  fitSampleCustomers = FIT_SAMPLE_CUSTOMERS,
}: {
  shop: string;
  asOf?: Date;
  timeUnit?: TimeUnit;
  /** Above this many customers with orders the fit runs on a sample of about this many (FIT_SAMPLE_CUSTOMERS). */
  fitSampleCustomers?: number;
}): Promise<RefitReport> {
  const report = await refitInTransaction({ shop, asOf, timeUnit, fitSampleCustomers });
  // The refit replaced the shop's rows: reclaim the old ones now (the app does not rely on
  // autovacuum, decision 003), outside the transaction.
  // A failure here leaves the new fit in force and is only logged: the next refit vacuums again.
  const started = performance.now();
  try {
    await getPool().query(`VACUUM (ANALYZE) customer_predictions`);
    report.ms.vacuum = performance.now() - started;
  } catch (error) {
    logger.warn({ shop, err: error }, "analytics.clv_vacuum_failed");
  }
  return report;
}

async function refitInTransaction({ shop, asOf, timeUnit, fitSampleCustomers }: { shop: string; asOf: Date; timeUnit: TimeUnit; fitSampleCustomers: number }): Promise<RefitReport> {
  const log = logger.child({ shop });
  const started = performance.now();
  return withTransaction(async (db) => {
    // Two statements (order days, then customers), each within the pool's statement limit.
    // Hash aggregates of a large shop's order days fit in memory instead of spilling to disk.
    await db.query(`SELECT set_config('work_mem', $1, true)`, [REFIT_WORK_MEM]);
    // Temporary tables have no statistics until analysed: without them the planner guesses
    // their size and may join them to customers row by row.
    await db.query(`CREATE TEMP TABLE clv_days ON COMMIT DROP AS ${DAYS_SQL}`, [shop, asOf]);
    await db.query(`ANALYZE clv_days`);
    await db.query(`CREATE TEMP TABLE clv_summary ON COMMIT DROP AS ${perCustomerSql("clv_days")}`, [shop, asOf]);
    await db.query(`ANALYZE clv_summary`);
    const triples = await db.query<{ x: number; tx: number; t: number; n: string }>(`SELECT x, tx, t, count(*) AS n FROM clv_summary GROUP BY 1, 2, 3`);
    const everyone = triples.rows.reduce((s, r) => s + Number(r.n), 0);
    // A deterministic sample for large shops (FIT_SAMPLE_CUSTOMERS); the hash spreads ids evenly.
    const SAMPLE_MOD = 1_000_003;
    const keep = everyone > fitSampleCustomers ? Math.ceil((fitSampleCustomers / everyone) * SAMPLE_MOD) : SAMPLE_MOD;
    const sampled = `(hashint8(customer_id)::bigint & 2147483647) % ${SAMPLE_MOD} < $1`;
    const fitTriples =
      keep < SAMPLE_MOD
        ? await db.query<{ x: number; tx: number; t: number; n: string }>(`SELECT x, tx, t, count(*) AS n FROM clv_summary WHERE ${sampled} GROUP BY 1, 2, 3`, [keep])
        : triples;
    const spendRows = await db.query<{ x: number; zbar: number; n: string }>(
      `SELECT x, zbar, count(*) AS n FROM clv_summary WHERE x > 0 AND zbar > 0 AND ${sampled} GROUP BY 1, 2`,
      [keep],
    );
    const summaryMs = performance.now() - started;
    const unit = UNITS_PER_WEEK[timeUnit] === 1 ? 7 : 1; // days per time unit
    const count = triples.rows.map((r) => Number(r.n));
    const customers = everyone;
    if (customers === 0) {
      await db.query(`DELETE FROM customer_predictions WHERE shop = $1`, [shop]);
      return { model: null, scored: 0, triples: 0, fitCustomers: 0, ms: { summary: summaryMs, fit: 0, score: 0, scoreTriples: 0, total: performance.now() - started } };
    }
    const data = { x: triples.rows.map((r) => r.x), tx: triples.rows.map((r) => r.tx / unit), T: triples.rows.map((r) => r.t / unit), count };
    const fitData =
      fitTriples === triples
        ? data
        : { x: fitTriples.rows.map((r) => r.x), tx: fitTriples.rows.map((r) => r.tx / unit), T: fitTriples.rows.map((r) => r.t / unit), count: fitTriples.rows.map((r) => Number(r.n)) };
    const spend = { x: spendRows.rows.map((r) => r.x), zbar: spendRows.rows.map((r) => r.zbar), count: spendRows.rows.map((r) => Number(r.n)) };
    const repeatCustomers = triples.rows.reduce((s, r, i) => s + (r.x > 0 ? count[i]! : 0), 0);
    const pooled = await db.query<ModelRow>(
      `SELECT DISTINCT ON (shop) * FROM clv_models WHERE shop <> $1 AND method = 'mle' ORDER BY shop, fitted_at DESC, id DESC`,
      [shop],
    );
    const prior = buildPrior({
      timeUnit,
      pooled: pooled.rows.map((m) => ({ timeUnit: m.time_unit, bgnbd: { r: m.r, alpha: m.alpha, a: m.a, b: m.b }, spend: m.p !== null && m.q !== null && m.gamma !== null ? { p: m.p, q: m.q, gamma: m.gamma } : null })),
    });
    const fitStarted = performance.now();
    const fit = fitShop({ data: fitData, spend, customers, repeatCustomers, timeUnit, prior });
    const fitMs = performance.now() - fitStarted;
    if (!fit.converged) log.warn({ params: fit.bgnbd, spend: fit.spend }, "analytics.clv_fit_not_converged");
    const currency = await db.query<{ currency: string | null }>(
      `SELECT coalesce((SELECT "currencyCode" FROM shops WHERE domain = $1), (SELECT currency FROM orders WHERE shop = $1 LIMIT 1)) AS currency`,
      [shop],
    );
    const inserted = await db.query<ModelRow>(
      `INSERT INTO clv_models (shop, time_unit, r, alpha, a, b, p, q, gamma, currency, customers, repeat_customers, log_likelihood,
                               spend_log_likelihood, method, prior_weight, prior_source, fit_ms, fitted_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING *`,
      [
        shop, timeUnit, fit.bgnbd.r, fit.bgnbd.alpha, fit.bgnbd.a, fit.bgnbd.b, fit.spend?.p ?? null, fit.spend?.q ?? null, fit.spend?.gamma ?? null,
        currency.rows[0]?.currency ?? null, customers, repeatCustomers, fit.logLikelihood, fit.spendLogLikelihood, fit.method, fit.priorWeight,
        fit.priorSource, Math.round(fitMs), asOf,
      ],
    );
    const model = inserted.rows[0]!;

    // Score each distinct triple once; the per-customer value of an order is linear in zbar
    // (Gamma-Gamma), so SQL finishes it: E[M] = (gamma p + p x zbar) / (p x + q - 1).
    const scoreStarted = performance.now();
    const pAlive: number[] = [];
    const expected: number[] = [];
    const waitDays: number[] = [];
    const confidence: string[] = [];
    for (let i = 0; i < data.x.length; i++) {
      const s = scoreSummary({ params: fit.bgnbd, x: data.x[i]!, tx: data.tx[i]!, T: data.T[i]!, timeUnit });
      pAlive.push(s.pAlive);
      expected.push(s.expectedOrders12m);
      waitDays.push(Math.min(s.medianWaitIfActive * unit, 36_500));
      confidence.push(confidenceLabel({ method: fit.method, weight: fit.priorWeight, x: data.x[i]!, ageDays: triples.rows[i]!.t }));
    }
    const nodeScoreMs = performance.now() - scoreStarted;
    const populationValue = expectedOrderValue({ spend: fit.spend, x: 0, zbar: 0 });
    const sp = fit.spend;
    await db.query(`DELETE FROM customer_predictions WHERE shop = $1`, [shop]);
    const scored = await db.query(
      `WITH scores AS (
         SELECT * FROM unnest($2::int[], $3::int[], $4::int[], $5::float8[], $6::float8[], $7::float8[], $8::text[])
                AS u(x, tx, t, p_alive, expected, wait_days, confidence)
       ),
       valued AS (
         SELECT s.customer_id, sc.p_alive, sc.expected, sc.wait_days, sc.confidence,
                sc.expected * (CASE
                  WHEN s.x = 0 THEN $9::float8
                  WHEN $10::float8 IS NULL OR $11::float8 <= 1 THEN s.zbar
                  ELSE ($12::float8 * $10 + $10 * s.x * s.zbar) / ($10 * s.x + $11 - 1) END) AS clv
           FROM clv_summary s JOIN scores sc USING (x, tx, t)
       )
       INSERT INTO customer_predictions (shop, customer_id, model_id, p_alive, expected_orders_12m, predicted_clv_12m_minor, currency,
                                         expected_next_order_at, churn_risk, spend_tier, confidence, computed_at)
       SELECT $1, customer_id, $13, p_alive, expected, round(clv)::bigint, $14, $15::timestamptz + wait_days * interval '1 day', 1 - p_alive,
              CASE WHEN cume_dist() OVER w <= $16 THEN 'HIGH' WHEN cume_dist() OVER w <= $17 THEN 'MEDIUM' ELSE 'LOW' END,
              confidence, $15
         FROM valued WINDOW w AS (ORDER BY clv DESC)`,
      [
        shop, data.x, triples.rows.map((r) => r.tx), triples.rows.map((r) => r.t), pAlive, expected, waitDays, confidence,
        populationValue, sp?.p ?? null, sp?.q ?? null, sp?.gamma ?? null, model.id, model.currency, asOf,
        SPEND_TIER_SHARES.HIGH, SPEND_TIER_SHARES.HIGH + SPEND_TIER_SHARES.MEDIUM,
      ],
    );
    const scoreMs = performance.now() - scoreStarted;
    const report = {
      model: view(model),
      scored: scored.rowCount ?? 0,
      triples: data.x.length,
      fitCustomers: fitData.count.reduce((n, c) => n + c, 0),
      ms: { summary: summaryMs, fit: fitMs, score: scoreMs, scoreTriples: nodeScoreMs, total: performance.now() - started },
    };
    log.info({ customers, repeatCustomers, method: fit.method, triples: data.x.length, ms: report.ms }, "analytics.clv_fitted");
    return report;
  });
}

export type CustomerPredictionView = {
  pAlive: number | null;
  expectedOrders12m: number | null;
  predictedClv12m: number | null;
  expectedNextOrderAt: string | null;
  churnRisk: number | null;
  cluster: { id: string; number: number; description: string } | null;
  predictedSpendTier: "HIGH" | "MEDIUM" | "LOW" | null;
  confidence: "high" | "medium" | "low" | null;
  currency: string | null;
  computedAt: string | null;
};

/**
 * One customer's prediction (predictedClv12m in the currency's major units, from integer minor
 * units), or null when the app does not know the customer. A known customer without a
 * prediction (no order yet, or no fit since the first order) gets nulls.
 */
export async function getCustomerPrediction(shop: string, customerGid: string, db: Queryable = getPool()): Promise<CustomerPredictionView | null> {
  const result = await db.query<{
    known: boolean;
    p_alive: number | null;
    expected_orders_12m: number | null;
    predicted_clv_12m_minor: string | null;
    expected_next_order_at: Date | null;
    churn_risk: number | null;
    spend_tier: "HIGH" | "MEDIUM" | "LOW" | null;
    confidence: "high" | "medium" | "low" | null;
    currency: string | null;
    computed_at: Date | null;
  }>(
    `SELECT true AS known, p.p_alive, p.expected_orders_12m, p.predicted_clv_12m_minor, p.expected_next_order_at, p.churn_risk,
            p.spend_tier, p.confidence, p.currency, p.computed_at
       FROM customers c LEFT JOIN customer_predictions p ON p.shop = c.shop AND p.customer_id = c.id
      WHERE c.shop = $1 AND c.gid = $2 AND c.deleted_at IS NULL`,
    [shop, customerGid],
  );
  const row = result.rows[0];
  if (!row) return null;
  const round = (v: number | null, digits: number) => (v === null ? null : Number(v.toFixed(digits)));
  return {
    pAlive: round(row.p_alive, 4),
    expectedOrders12m: round(row.expected_orders_12m, 3),
    predictedClv12m: row.predicted_clv_12m_minor === null ? null : Number(row.predicted_clv_12m_minor) / 10 ** currencyExponent(row.currency ?? "USD"),
    expectedNextOrderAt: row.expected_next_order_at?.toISOString() ?? null,
    churnRisk: round(row.churn_risk, 4),
    cluster: await getCustomerCluster(shop, customerGid, db),
    predictedSpendTier: row.spend_tier,
    confidence: row.confidence,
    currency: row.currency,
    computedAt: row.computed_at?.toISOString() ?? null,
  };
}
