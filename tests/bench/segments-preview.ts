// Segment preview counts on a 1,000,000-customer store (database crm_bench_segments, built
// or reused by tests/bench/lib/segment-store.ts): for each query, the median time of the
// preview COUNT through the compiler (parse + check + compile + run) versus a hand-written
// SQL count of the same conditions, alternating in the same run, and their ratio.
// Also times one RFM recompute of the whole shop.
//
//   npm run bench:segments-preview -- [--runs 15] [--customers 1000000] [--rebuild] [--explain] [--database crm_bench_segments]
import pg from "pg";
import { checkSegment } from "../../app/domain/segments/check";
import { parseSegment } from "../../app/domain/segments/parser";
import { compileSegmentFilter } from "../../app/domain/segments/sql";
import { recomputeShopRfm } from "../../app/services/segments/rfm.server";
import { median, numberFlag, parseFlags, report, round } from "./lib/common";
import { buildSegmentBenchStore } from "./lib/segment-store";

const flags = parseFlags();
const RUNS = numberFlag(flags, "runs", 15);
const CUSTOMERS = numberFlag(flags, "customers", 1_000_000);

/** The start of the UTC day `offset` days from today's (shops are evaluated in UTC). */
function utcDayStart(now: Date, offset: number): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + offset));
}

type Case = { name: string; query: string; hand: (shop: string, now: Date) => { text: string; values: unknown[] } };

const LIVE = "shop = $1 AND deleted_at IS NULL AND redacted_at IS NULL";

const CASES: Case[] = [
  {
    name: "three conditions",
    query: "amount_spent > 100 AND last_order_date > -90d AND customer_tags CONTAINS 'vip'",
    hand: (shop, now) => ({
      // Tags ignore case: the hand-written form uses the same indexed expression.
      text: `SELECT count(*) FROM customers WHERE ${LIVE} AND total_spent_minor > 10000 AND last_order_at >= $2 AND segment_lower_tags(tags) @> ARRAY['vip']`,
      values: [shop, utcDayStart(now, -89)], // `> -90d`: after the day 90 days ago
    }),
  },
  {
    name: "products_purchased",
    query: "products_purchased(product_type: 'Shoes', date: -90d) = true AND amount_spent > 100 AND email_subscription_status = 'SUBSCRIBED'",
    hand: (shop, now) => ({
      text: `SELECT count(*) FROM customers c WHERE c.shop = $1 AND c.deleted_at IS NULL AND c.redacted_at IS NULL AND c.total_spent_minor > 10000 AND c.email_marketing_state = 'subscribed'
               AND c.gid IN (SELECT o.customer_gid FROM orders o
                               JOIN line_items li ON li.shop = o.shop AND li.order_gid = o.gid
                               JOIN products p ON p.shop = li.shop AND p.gid = li.product_gid
                              WHERE o.shop = $1 AND o.cancelled_at IS NULL AND NOT o.test AND o.shopify_created_at >= $2 AND lower(p.product_type) = 'shoes')`,
      values: [shop, utcDayStart(now, -90)], // `date: -90d`: on or after that day
    }),
  },
  {
    name: "domain, orders, rfm",
    query: "customer_email_domain = 'gmail.com' AND number_of_orders >= 2 AND rfm_group = 'champions'",
    hand: (shop) => ({
      text: `SELECT count(*) FROM customers WHERE ${LIVE} AND email LIKE '%@gmail.com' AND orders_count >= 2 AND rfm_group = 'champions'`,
      values: [shop],
    }),
  },
];

function compiledCount(shop: string, query: string, now: Date): { text: string; values: unknown[] } {
  const parsed = parseSegment(query);
  if (!parsed.ok) throw new Error(parsed.error.message);
  const errors = checkSegment({ ast: parsed.ast });
  if (errors.length > 0) throw new Error(errors[0]!.message);
  const filter = compileSegmentFilter(parsed.ast, { customerAlias: "c", firstParamIndex: 2, now, currency: "USD" });
  return {
    text: `SELECT count(*) FROM customers c WHERE c.shop = $1 AND c.deleted_at IS NULL AND c.redacted_at IS NULL AND (${filter.text})`,
    values: [shop, ...filter.values],
  };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

async function main() {
  const store = await buildSegmentBenchStore({ customers: CUSTOMERS, rebuild: flags.rebuild === "true", database: flags.database });
  const client = new pg.Client({ connectionString: store.url });
  await client.connect();
  try {
    const now = new Date();
    const results = [];
    for (const c of CASES) {
      const hand = c.hand(store.shop, now);
      if (flags.explain === "true") {
        const plan = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${compiledCount(store.shop, c.query, now).text}`, compiledCount(store.shop, c.query, now).values);
        process.stderr.write(`\n-- compiled: ${c.query}\n${plan.rows.map((r) => r["QUERY PLAN"]).join("\n")}\n`);
        const handPlan = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${hand.text}`, hand.values);
        process.stderr.write(`\n-- hand-written\n${handPlan.rows.map((r) => r["QUERY PLAN"]).join("\n")}\n`);
      }
      const compiledMs: number[] = [];
      const handMs: number[] = [];
      let compiledResult = -1;
      let handResult = -1;
      // Two warm-up rounds, then alternate so both see the same cache and machine load.
      for (let run = -2; run < RUNS; run++) {
        const a = await timed(async () => {
          const sql = compiledCount(store.shop, c.query, now); // compile time included
          return Number((await client.query<{ count: string }>(sql.text, sql.values)).rows[0]!.count);
        });
        const b = await timed(async () => Number((await client.query<{ count: string }>(hand.text, hand.values)).rows[0]!.count));
        compiledResult = a.value;
        handResult = b.value;
        if (run >= 0) {
          compiledMs.push(a.ms);
          handMs.push(b.ms);
        }
      }
      if (compiledResult !== handResult) throw new Error(`${c.name}: compiled count ${compiledResult} != hand-written count ${handResult}`);
      const compiled = median(compiledMs);
      const handWritten = median(handMs);
      results.push({ name: c.name, query: c.query, count: compiledResult, compiledMedianMs: round(compiled), handMedianMs: round(handWritten), ratio: round(compiled / handWritten) });
    }
    const rfm = await timed(() => recomputeShopRfm(client, store.shop, now));
    report(
      "segments-preview",
      { store: { customers: store.customers, orders: store.orders, lineItems: store.lineItems, built: store.built, buildSeconds: round(store.buildSeconds, 0) }, runs: RUNS, results, rfmRecomputeMs: round(rfm.ms, 0), rfmChanged: rfm.value.changed },
      [
        `store: ${store.customers} customers, ${store.orders} orders, ${store.lineItems} line items (${store.built ? `built in ${round(store.buildSeconds, 0)} s` : "reused"})`,
        ...results.map((r) => `${r.name}: ${r.count} customers, compiled ${r.compiledMedianMs} ms vs hand-written ${r.handMedianMs} ms (ratio ${r.ratio}), median of ${RUNS}\n  ${r.query}`),
        `RFM recompute of the whole shop: ${round(rfm.ms, 0)} ms (${rfm.value.changed} customers changed)`,
      ],
    );
  } finally {
    await client.end();
  }
}

await main();
