// Times the issue 16 attributes (customer_cities, customer_regions, anniversary,
// abandoned_checkout_date, customer_language, sms_subscription_status) as preview counts on a
// generated store in a throw-away database: the compiled filter against the whole shop.
//   npx tsx tests/bench/segments-customer-facts.ts [--customers 50000] [--runs 7]
import pg from "pg";
import { parseSegment } from "../../app/domain/segments/parser";
import { compileSegmentFilter } from "../../app/domain/segments/sql";
import { createTestDatabase } from "../support/database";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const CUSTOMERS = arg("customers", 50_000);
const RUNS = arg("runs", 7);
const SHOP = "bench-facts.myshopify.com";
const QUERIES = [
  "customer_cities CONTAINS 'US-CA-LosAngeles'",
  "customer_regions CONTAINS 'CA-ON'",
  "anniversary(date: 'metafields.facts.birth_date') BETWEEN today AND +30d",
  "abandoned_checkout_date >= -7d",
  "customer_language = 'fr'",
  "sms_subscription_status = 'SUBSCRIBED'",
];

const db = await createTestDatabase();
const client = new pg.Client({ connectionString: db.url });
await client.connect();
try {
  // Addresses over 200 cities in 20 regions; a birth date for 70%; SMS state for half; two checkouts for every third customer.
  await client.query(
    `INSERT INTO customers (shop, gid, country_code, province, city, addresses, birth_date, sms_marketing_state, locale)
     SELECT $1, 'gid://shopify/Customer/' || i, 'US', 'R' || (i % 20), 'City ' || (i % 200),
            jsonb_build_array(jsonb_build_object('countryCode', 'CA', 'province', 'ON', 'city', CASE WHEN i % 50 = 0 THEN 'Toronto' ELSE 'Town ' || (i % 500) END)),
            CASE WHEN i % 10 < 7 THEN date '1970-01-01' + (i % 15000) END,
            CASE WHEN i % 2 = 0 THEN (ARRAY['subscribed', 'unsubscribed', 'not_subscribed'])[1 + i % 3] END,
            (ARRAY['en', 'en-US', 'fr-CA', 'de'])[1 + i % 4]
       FROM generate_series(1, $2) AS i`,
    [SHOP, CUSTOMERS],
  );
  await client.query(`UPDATE customers SET city = 'Los Angeles', province = 'CA' WHERE shop = $1 AND gid LIKE '%7'`, [SHOP]);
  await client.query(
    `INSERT INTO checkouts (shop, token, customer_gid, shopify_created_at, shopify_updated_at, completed_at)
     SELECT $1, 't' || i || '-' || k, 'gid://shopify/Customer/' || i, now() - (i % 60) * interval '1 day', now() - (i % 60) * interval '1 day', CASE WHEN k = 2 THEN now() END
       FROM generate_series(1, $2, 3) AS i, generate_series(1, 2) AS k`,
    [SHOP, CUSTOMERS],
  );
  // What the apply step keeps (customer-facts.server.ts): the latest abandoned checkout per customer.
  await client.query(
    `UPDATE customers c SET abandoned_checkout_at = k.at
       FROM (SELECT customer_gid, max(shopify_updated_at) AS at FROM checkouts WHERE shop = $1 AND completed_at IS NULL AND order_gid IS NULL GROUP BY customer_gid) AS k
      WHERE c.shop = $1 AND c.gid = k.customer_gid`,
    [SHOP],
  );
  await client.query("ANALYZE");
  for (const query of QUERIES) {
    const parsed = parseSegment(query);
    if (!parsed.ok) throw new Error(parsed.error.message);
    const compiled = compileSegmentFilter(parsed.ast, { customerAlias: "c", firstParamIndex: 2, now: new Date() });
    const sql = `SELECT count(*)::int AS n FROM customers c WHERE c.shop = $1 AND c.deleted_at IS NULL AND c.redacted_at IS NULL AND (${compiled.text})`;
    const times: number[] = [];
    let n = 0;
    for (let run = 0; run < RUNS; run++) {
      const start = performance.now();
      n = (await client.query<{ n: number }>(sql, [SHOP, ...compiled.values])).rows[0]!.n;
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    console.log(`${query.padEnd(75)} members ${String(n).padStart(7)}  median ${times[Math.floor(times.length / 2)]!.toFixed(1)} ms`);
  }
} finally {
  await client.end();
  await db.drop();
}
