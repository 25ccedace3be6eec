// The segment benchmarks' store: database crm_bench_segments, one shop of 1,000,000
// customers built with set-based SQL (generate_series and hash-derived pseudo-random
// values, so every build is the same), left in place for the next benchmark.
//
//   import { buildSegmentBenchStore } from "./lib/segment-store";
//   const store = await buildSegmentBenchStore({ customers: 1_000_000 });   // builds or reuses
//
// Distributions (roughly what a mid-size Shopify store looks like):
// - 40% of customers have ordered; orders per ordering customer are geometric with mean
//   2.5 (about 1,000,000 orders); order dates over 3 years, skewed to recent ones; 3% of
//   orders cancelled, 0.5% test; totals log-normal-like (median about $60); 8% of orders
//   partly refunded. 1 to 3 line items per order over 500 products of 10 types.
// - Tags: newsletter 30%, vip 5%, wholesale 3%, several per customer possible.
// - Email domains: gmail 35%, yahoo 10%, hotmail 8%, outlook 7%, icloud 5%, 35% others.
// - Countries: a default address (US 45%, CA, GB, DE, FR, AU, ...) and 20% a second one.
// - Email consent: subscribed 40%, not_subscribed 35%, unsubscribed 15%, pending 5%, null 5%.
// - Aggregates computed from the orders exactly as app/domain/customers/aggregates.ts does;
//   RFM groups by app/services/segments/rfm.server.ts.
import { execFileSync } from "node:child_process";
import pg from "pg";
import { recomputeShopRfm } from "../../../app/services/segments/rfm.server";
import { ADMIN_DATABASE_URL, ROOT, databaseUrl } from "./common";

export const SEGMENT_BENCH_DATABASE = "crm_bench_segments";
export const SEGMENT_BENCH_SHOP = "bench-segments.myshopify.com";
/** Bumped when the generator changes, so an older store is rebuilt. */
const STORE_VERSION = 2;

export type SegmentBenchStore = {
  database: string;
  url: string;
  shop: string;
  customers: number;
  orders: number;
  lineItems: number;
  /** When the data was generated: dates in it are relative to this instant. */
  builtAt: Date;
  /** Whether this call built it (false: reused). */
  built: boolean;
  buildSeconds: number;
};

const log = (message: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} segment-store: ${message}\n`);

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Builds the store unless a complete one of this version and size is there (or `rebuild`). */
export async function buildSegmentBenchStore(options: { customers?: number; rebuild?: boolean; database?: string } = {}): Promise<SegmentBenchStore> {
  const customers = options.customers ?? 1_000_000;
  const database = options.database ?? SEGMENT_BENCH_DATABASE;
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`not a plain database name: ${database}`);
  const url = databaseUrl(database);
  const started = Date.now();
  const exists = await withClient(ADMIN_DATABASE_URL, async (c) => (await c.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [database])).rowCount === 1);
  if (exists && !options.rebuild) {
    const info = await withClient(url, async (c) => {
      const table = await c.query(`SELECT to_regclass('bench_store_info') IS NOT NULL AS present`);
      if (!table.rows[0]?.present) return undefined;
      return (await c.query<{ version: number; customers: number; orders: number; line_items: number; built_at: Date }>(`SELECT * FROM bench_store_info`)).rows[0];
    });
    if (info && info.version === STORE_VERSION && info.customers === customers) {
      migrate(url); // later migrations (new columns, indexes) apply to a kept store
      return { database, url, shop: SEGMENT_BENCH_SHOP, customers, orders: info.orders, lineItems: info.line_items, builtAt: info.built_at, built: false, buildSeconds: 0 };
    }
  }
  // Built under another name and renamed when complete: a concurrent benchmark never sees half a store.
  const building = `${database}_building`;
  await withClient(ADMIN_DATABASE_URL, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${building}`);
  });
  log(`migrating ${building}`);
  migrate(databaseUrl(building));
  const result = await withClient(databaseUrl(building), async (db) => {
    const builtAt = new Date();
    await generate(db, customers, builtAt);
    await db.query(`ANALYZE customers`);
    log("RFM groups");
    await recomputeShopRfm(db, SEGMENT_BENCH_SHOP, builtAt);
    log("vacuum analyze");
    await db.query(`VACUUM ANALYZE customers, orders, line_items, products`);
    const counts = (
      await db.query<{ orders: number; line_items: number }>(
        `SELECT (SELECT count(*)::int FROM orders WHERE shop = $1) AS orders, (SELECT count(*)::int FROM line_items WHERE shop = $1) AS line_items`,
        [SEGMENT_BENCH_SHOP],
      )
    ).rows[0]!;
    await db.query(`CREATE TABLE bench_store_info (version int NOT NULL, customers int NOT NULL, orders int NOT NULL, line_items int NOT NULL, built_at timestamptz NOT NULL)`);
    await db.query(`INSERT INTO bench_store_info VALUES ($1, $2, $3, $4, $5)`, [STORE_VERSION, customers, counts.orders, counts.line_items, builtAt]);
    const buildSeconds = (Date.now() - started) / 1000;
    log(`built ${customers} customers, ${counts.orders} orders, ${counts.line_items} line items in ${buildSeconds.toFixed(0)} s`);
    return { database, url, shop: SEGMENT_BENCH_SHOP, customers, orders: counts.orders, lineItems: counts.line_items, builtAt, built: true, buildSeconds };
  });
  await withClient(ADMIN_DATABASE_URL, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await c.query(`ALTER DATABASE ${building} RENAME TO ${database}`);
  });
  return result;
}

function migrate(url: string): void {
  execFileSync(process.execPath, ["node_modules/prisma/build/index.js", "migrate", "deploy"], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url },
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 300_000,
  });
}

async function generate(db: pg.Client, customers: number, builtAt: Date): Promise<void> {
  const shop = SEGMENT_BENCH_SHOP;
  await db.query(`SET work_mem = '256MB'`);
  await db.query(`SET maintenance_work_mem = '512MB'`);
  // u(x): a uniform value in [0, 1) derived from an integer, the same on every build.
  await db.query(`CREATE OR REPLACE FUNCTION pg_temp.u(x bigint) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$ SELECT (hashint8(x) & 2147483647)::float8 / 2147483648 $$`);
  log("products");
  await db.query(
    `INSERT INTO products (shop, gid, title, product_type, vendor, status, tags, shopify_created_at, shopify_updated_at)
     SELECT $1, 'gid://shopify/Product/' || (8000000000000 + p), 'Product ' || p,
            (ARRAY['Shoes','Shirts','Hats','Bags','Socks','Jackets','Pants','Belts','Scarves','Gloves'])[1 + p % 10],
            'Vendor ' || (p % 7), 'active',
            CASE WHEN p % 5 = 0 THEN ARRAY['sale'] WHEN p % 5 = 1 THEN ARRAY['new','summer'] ELSE ARRAY[]::text[] END,
            $2::timestamptz - interval '4 years', $2::timestamptz - interval '30 days'
       FROM generate_series(1, 500) p`,
    [shop, builtAt],
  );
  log(`${customers} customers`);
  await db.query(
    `INSERT INTO customers (shop, gid, email, first_name, last_name, state, currency, tags, country_code, addresses,
                            email_marketing_state, shopify_created_at, shopify_updated_at)
     SELECT $1, 'gid://shopify/Customer/' || (7000000000000 + i),
            'c' || i || '@' || CASE WHEN d < 0.35 THEN 'gmail.com' WHEN d < 0.45 THEN 'yahoo.com' WHEN d < 0.53 THEN 'hotmail.com'
                                     WHEN d < 0.60 THEN 'outlook.com' WHEN d < 0.65 THEN 'icloud.com' ELSE 'mail' || (i % 5000) || '.example' END,
            'First' || (i % 997), 'Last' || (i % 1999), 'enabled', 'USD',
            array_remove(ARRAY[CASE WHEN t1 < 0.30 THEN 'newsletter' END, CASE WHEN t2 < 0.05 THEN 'vip' END, CASE WHEN t3 < 0.03 THEN 'wholesale' END]::text[], NULL),
            cc,
            CASE WHEN a2 < 0.20 THEN jsonb_build_array(jsonb_build_object('countryCode', cc, 'city', 'City'), jsonb_build_object('countryCode', CASE WHEN cc = 'US' THEN 'CA' ELSE 'US' END, 'city', 'Town'))
                 ELSE jsonb_build_array(jsonb_build_object('countryCode', cc, 'city', 'City')) END,
            CASE WHEN e < 0.40 THEN 'subscribed' WHEN e < 0.75 THEN 'not_subscribed' WHEN e < 0.90 THEN 'unsubscribed' WHEN e < 0.95 THEN 'pending' END,
            $2::timestamptz - make_interval(secs => 4 * 365 * 86400 * created),
            $2::timestamptz - make_interval(secs => 4 * 365 * 86400 * created * 0.5)
       FROM (SELECT i, pg_temp.u(i * 16 + 1) AS d, pg_temp.u(i * 16 + 2) AS t1, pg_temp.u(i * 16 + 3) AS t2, pg_temp.u(i * 16 + 4) AS t3,
                    pg_temp.u(i * 16 + 5) AS a2, pg_temp.u(i * 16 + 6) AS e, pg_temp.u(i * 16 + 7) AS created,
                    (ARRAY['US','US','US','US','US','US','US','US','US','CA','CA','GB','GB','DE','DE','FR','AU','NL','SE','JP'])[1 + floor(pg_temp.u(i * 16 + 8) * 20)::int] AS cc
               FROM generate_series(1, $3::int) i) g`,
    [shop, builtAt, customers],
  );
  log("orders");
  // 40% of customers order; the number of orders is geometric with mean 2.5 (p = 0.4).
  // Order times: 3 years back, u^1.2 so recent months hold more orders (about 12% of orders,
  // and about a quarter of ordering customers, fall in the last 90 days).
  await db.query(
    `INSERT INTO orders (shop, gid, legacy_id, customer_gid, name, currency, total_price_minor, subtotal_minor, refunded_minor,
                         financial_status, cancelled_at, test, shopify_created_at, shopify_updated_at, processed_at)
     SELECT $1, 'gid://shopify/Order/' || legacy, legacy::text, c.gid, '#' || legacy, 'USD', total, total,
            CASE WHEN pg_temp.u(legacy * 8 + 3) < 0.08 THEN floor(total * pg_temp.u(legacy * 8 + 4))::bigint ELSE 0 END,
            'paid',
            CASE WHEN pg_temp.u(legacy * 8 + 5) < 0.03 THEN created + interval '1 day' END,
            pg_temp.u(legacy * 8 + 6) < 0.005,
            created, created, created
       FROM (SELECT c.gid, c.id, k, c.id * 64 + k AS legacy,
                    -- log-normal-like: median about 6,000 minor units
                    (600 + floor(exp(7.6 + 1.1 * (pg_temp.u(c.id * 64 + k + 100000000000) + pg_temp.u(c.id * 64 + k + 200000000000) + pg_temp.u(c.id * 64 + k + 300000000000) - 1.5))))::bigint AS total,
                    $2::timestamptz - make_interval(secs => 3 * 365 * 86400 * power(pg_temp.u(c.id * 64 + k + 400000000000), 1.2)) AS created
               FROM customers c
              CROSS JOIN LATERAL generate_series(1, CASE WHEN pg_temp.u(c.id * 16 + 9) < 0.40
                                                         THEN 1 + floor(ln(1 - pg_temp.u(c.id * 16 + 10)) / ln(0.6))::int ELSE 0 END) k
              WHERE c.shop = $1) c`,
    [shop, builtAt],
  );
  log("line items");
  await db.query(
    `INSERT INTO line_items (shop, gid, order_gid, product_gid, title, quantity, price_minor)
     SELECT o.shop, 'gid://shopify/LineItem/' || (o.legacy_id::bigint * 4 + l), o.gid,
            'gid://shopify/Product/' || (8000000000001 + floor(500 * power(pg_temp.u(o.legacy_id::bigint * 4 + l + 500000000000), 1.5))::int),
            'Item', 1 + floor(3 * power(pg_temp.u(o.legacy_id::bigint * 4 + l + 600000000000), 3))::int, o.total_price_minor / n
       FROM (SELECT o.*, 1 + floor(3 * pg_temp.u(o.legacy_id::bigint * 8 + 7))::int AS n FROM orders o WHERE o.shop = $1) o
      CROSS JOIN LATERAL generate_series(1, o.n) l`,
    [shop],
  );
  log("aggregates");
  // As computeCustomerAggregates: orders neither cancelled nor test; spent net of refunds;
  // AOV rounded half up; first/last order times.
  await db.query(
    `UPDATE customers c
        SET orders_count = a.n, total_spent_minor = a.spent, refunded_minor = a.refunded,
            aov_minor = (2 * a.spent + a.n) / (2 * a.n), aggregate_currency = 'USD',
            first_order_at = a.first_at, last_order_at = a.last_at
       FROM (SELECT customer_gid, count(*)::int AS n, sum(total_price_minor - refunded_minor) AS spent, sum(refunded_minor) AS refunded,
                    min(shopify_created_at) AS first_at, max(shopify_created_at) AS last_at
               FROM orders
              WHERE shop = $1 AND cancelled_at IS NULL AND NOT test
              GROUP BY customer_gid) a
      WHERE c.shop = $1 AND c.gid = a.customer_gid`,
    [shop],
  );
  await db.query(`RESET work_mem`);
  await db.query(`RESET maintenance_work_mem`);
}
