// Event latency benchmark: how long after Shopify's delivery is acknowledged a customer's
// segment membership changes (issue 4: within 1 s p99 at 500 events/s) and an order's points
// are in the ledger (issue 5), with the real web server (build/index.js) and the real worker
// process (jobs/worker.ts) on a shop with 50 segments and a loyalty program.
//
//   npm run bench:event-latency -- [--customers 10000] [--rate 500] [--seconds 20] [--runs 3]
//                                  [--connections 50] [--points-target-ms 1000] [--seed 11]
//
// Per run (a fresh database each time):
//  1. setup (a child process: this file with --role setup): N background customers (40% with
//     order history, aggregates and RFM groups as the app computes them, a seed loyalty entry
//     each), 500 products, 50 segments through createSegment (typical conditions, many of which
//     an order or a customer update flips), a loyalty program (1 point per dollar, pending 14
//     days, first-order and signup bonuses, two segment multipliers, three tiers).
//  2. the server and the worker start; the worker's start-up jobs (segment refresh, loyalty
//     maintenance) and a small warm-up run first.
//  3. load (a child process: --role loadgen): HMAC-signed deliveries through the ingress at a
//     fixed arrival rate (open loop; a delivery waits for one of --connections keep-alive
//     sockets): 70% orders/create for background customers, 15% customers/update (email
//     domain and country change), 10% customers/create (new customers), 5% customer.tags_added
//     ('vip'). Orders are placed "now" (their send time), so they earn under the program.
//     Each background customer gets at most one event per run while events <= customers, so an
//     effect is attributed to exactly one event.
//  4. measured per event, from receipt (webhook_events.received_at, the ingress insert):
//     - visible: the commit of the worker transaction that applied it (a deferred constraint
//       trigger the bench adds to its own database records clock_timestamp() at commit for each
//       inbox row marked processed). The event's membership changes and ledger rows are written
//       in that transaction, so this is when a reader can see them.
//     - recorded: the rows' own timestamps: segment_membership_changes.occurred_at (the worker's
//       clock at re-evaluation, inside the transaction) and loyalty_ledger.created_at (now() =
//       the transaction's start: a lower bound).
//     Membership latency counts the events after which the customer entered or left at least
//     one segment (cause 'event'); points latency counts orders/create events and their earn
//     entry (an order without one is reported as missing).
// Prints one JSON document (every run, and the median of p50/p95/p99 and of the achieved rate
// over the runs) and a summary. Exits 1 when an event was not processed or an order earned nothing.
import http from "node:http";
import { spawn } from "node:child_process";
import { once } from "node:events";
import pg from "pg";
import {
  CpuMeter,
  appEnv,
  backgroundCores,
  BENCH_SECRET,
  finishBench,
  flushBenchRedis,
  freshDatabase,
  median,
  numberFlag,
  parseFlags,
  prng,
  report,
  round,
  ROOT,
  sleep,
  startRealServer,
  startWorker,
  waitForPort,
  waitUntil,
} from "./lib/common";
import { money } from "./lib/deliveries";
import { customerPayload, orderPayload, tagsPayload, toBody, type CustomerSpec } from "../support/factories";
import { hmacOf } from "../support/webhooks";

const SHOP = "crm-latency-bench.myshopify.com";
const PORT = 39_301;
const DAY_MS = 24 * 60 * 60 * 1000;
const CUSTOMER_BASE = 7_000_000_000_000n;
const NEW_CUSTOMER_BASE = 7_500_000_000_000n;
const DOMAINS = ["gmail.com", "gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "mail.example"];
const COUNTRIES = ["US", "US", "US", "US", "CA", "GB", "DE", "FR", "AU", "NL"];

// ---------------------------------------------------------------------------------------
// The deliveries: a pure function of the plan, so the load generator and the bench build the
// same events independently (bodies are built lazily: only the load generator needs them).

type Plan = {
  seed: number;
  total: number;
  customers: number;
  rate: number;
  /** Wall-clock ms of the first scheduled send (orders are placed at their send time). */
  startMs: number;
  tag: string;
  orderIdBase: number;
  /** Where in the customer permutation this plan starts (the warm-up takes the end). */
  offset: number;
};

type Kind = "order" | "customer_update" | "customer_create" | "tags";

type PlannedEvent = { webhookId: string; topic: string; kind: Kind; customerGid: string; orderGid: string | null; at: string; body: () => string };

/** Background customer i (1-based), as seeded and as sent in payloads (the same fields, so an order's embedded customer flips nothing by itself). */
function backgroundCustomer(i: number, builtAt: number): CustomerSpec {
  const created = new Date(builtAt - (40 + (i % 1400)) * DAY_MS).toISOString();
  return { id: CUSTOMER_BASE + BigInt(i), email: `c${i}@${DOMAINS[i % DOMAINS.length]}`, firstName: "Ana", lastName: "Silva", countryCode: COUNTRIES[i % COUNTRIES.length], createdAt: created, updatedAt: created };
}

function permutation(n: number, seed: number): number[] {
  const rand = prng(seed);
  const order = Array.from({ length: n }, (_, i) => i + 1);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

function planEvents(plan: Plan, builtAt: number): PlannedEvent[] {
  const rand = prng(plan.seed + plan.offset);
  const perm = permutation(plan.customers, plan.seed);
  const events: PlannedEvent[] = [];
  let nextBackground = plan.offset;
  for (let i = 0; i < plan.total; i++) {
    const at = new Date(plan.startMs + Math.floor((i * 1000) / plan.rate)).toISOString();
    const webhookId = `${plan.tag}-${i}`;
    const r = rand();
    if (r >= 0.85 && r < 0.95) {
      const id = NEW_CUSTOMER_BASE + BigInt(plan.orderIdBase) + BigInt(i);
      const spec: CustomerSpec = { id, email: `new${id}@gmail.com`, countryCode: "US", createdAt: at, updatedAt: at };
      events.push({ webhookId, topic: "customers/create", kind: "customer_create", customerGid: `gid://shopify/Customer/${id}`, orderGid: null, at, body: () => toBody(customerPayload(spec)) });
      continue;
    }
    const index = perm[nextBackground++ % plan.customers]!;
    const customer = backgroundCustomer(index, builtAt);
    const customerGid = `gid://shopify/Customer/${customer.id}`;
    if (r < 0.7) {
      const orderId = BigInt(plan.orderIdBase) + BigInt(i);
      const lineCount = 1 + Math.floor(rand() * 3);
      const lines = Array.from({ length: lineCount }, (_, l) => ({
        id: orderId * 10n + BigInt(l),
        productId: 8_000_000_000_001n + BigInt(Math.floor(rand() * 500)),
        quantity: 1 + Math.floor(rand() * 2),
        price: money(500 + Math.floor(rand() * 15_000)),
      }));
      const totalCents = lines.reduce((s, l) => s + Math.round(Number(l.price) * 100) * l.quantity, 0);
      events.push({
        webhookId,
        topic: "orders/create",
        kind: "order",
        customerGid,
        orderGid: `gid://shopify/Order/${orderId}`,
        at,
        body: () => toBody(orderPayload({ id: orderId, customer, totalPrice: money(totalCents), createdAt: at, lines })),
      });
    } else if (r < 0.85) {
      const changed: CustomerSpec = { ...customer, email: `c${index}@shop.de`, countryCode: "DE", updatedAt: at };
      events.push({ webhookId, topic: "customers/update", kind: "customer_update", customerGid, orderGid: null, at, body: () => toBody(customerPayload(changed)) });
    } else {
      events.push({ webhookId, topic: "customer.tags_added", kind: "tags", customerGid, orderGid: null, at, body: () => toBody(tagsPayload({ customerId: customer.id, tags: ["vip"], occurredAt: at })) });
    }
  }
  return events;
}

const pathOf = (topic: string) => (topic.startsWith("orders/") ? "/webhooks/orders" : "/webhooks/customers");

// ---------------------------------------------------------------------------------------
// Role: load generator (its own process).

type LoadConfig = { port: number; connections: number; plan: Plan; builtAt: number };

type LoadOutcome = {
  sent: number;
  ok: number;
  errors: number;
  statuses: Record<string, number>;
  elapsedSeconds: number;
  achievedPerSecond: number;
  ackMs: LatencySummary;
  maxSendLagMs: number;
};

async function loadgenRole(config: LoadConfig): Promise<void> {
  const planned = planEvents(config.plan, config.builtAt);
  const requests = planned.map((e) => {
    const body = Buffer.from(e.body());
    return {
      path: pathOf(e.topic),
      body,
      headers: {
        "content-type": "application/json",
        "content-length": String(body.length),
        "x-shopify-topic": e.topic,
        "x-shopify-hmac-sha256": hmacOf(body, BENCH_SECRET),
        "x-shopify-shop-domain": SHOP,
        "x-shopify-api-version": "2026-07",
        "x-shopify-webhook-id": e.webhookId,
        "x-shopify-event-id": `${e.webhookId}-event`,
        "x-shopify-triggered-at": e.at,
      },
    };
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: config.connections });
  const wait = config.plan.startMs - Date.now();
  if (wait > 0) await sleep(wait);
  const interval = 1000 / config.plan.rate;
  const acks: number[] = [];
  const statuses: Record<string, number> = {};
  let completed = 0;
  let ok = 0;
  let errors = 0;
  let maxSendLagMs = 0;
  let lastCompletion = 0;
  const started = performance.now();
  const outcome = await new Promise<LoadOutcome>((resolve) => {
    let scheduled = 0;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      agent.destroy();
      const elapsed = Math.max(1, lastCompletion - started) / 1000;
      resolve({ sent: scheduled, ok, errors, statuses, elapsedSeconds: round(elapsed, 3), achievedPerSecond: round(ok / elapsed, 1), ackMs: summarise(acks), maxSendLagMs: round(maxSendLagMs) });
    };
    const done = (status: number, due: number) => {
      const now = performance.now();
      acks.push(now - due);
      lastCompletion = now;
      completed++;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status >= 200 && status < 300) ok++;
      else errors++;
      if (scheduled >= requests.length && completed >= scheduled) finish();
    };
    const send = (index: number, due: number) => {
      const r = requests[index]!;
      const req = http.request({ host: "127.0.0.1", port: config.port, method: "POST", path: r.path, headers: r.headers, agent }, (res) => {
        res.resume();
        res.on("end", () => done(res.statusCode ?? 0, due));
      });
      req.on("error", () => done(0, due));
      req.end(r.body);
    };
    const tick = () => {
      const now = performance.now();
      while (scheduled < requests.length && started + scheduled * interval <= now) {
        const due = started + scheduled * interval;
        maxSendLagMs = Math.max(maxSendLagMs, now - due);
        send(scheduled++, due);
      }
      if (scheduled < requests.length) setTimeout(tick, Math.max(0, Math.min(1, started + scheduled * interval - now)));
    };
    tick();
    // Bounded: whatever happens, stop 60 s after the planned end.
    setTimeout(finish, (requests.length / config.plan.rate) * 1000 + 60_000).unref();
  });
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
  process.exit(0);
}

// ---------------------------------------------------------------------------------------
// Role: setup (its own process, with the app's environment pointing at the run's database).

const SEGMENT_QUERIES: string[] = [
  // Flipped by an order of a customer without orders, or a few more.
  "number_of_orders >= 1",
  "number_of_orders = 0",
  "number_of_orders >= 2",
  "number_of_orders >= 4",
  "amount_spent > 100",
  "amount_spent > 300",
  "amount_spent > 1000",
  "amount_spent >= 50 AND amount_spent < 200",
  "last_order_date > -7d",
  "last_order_date > -30d",
  "last_order_date < -180d",
  "first_order_date > -30d",
  "orders_placed(count_at_least: 1, date: -30d) = true",
  "orders_placed(count_at_least: 2, date: -1y) = true",
  "average_order_value > 150",
  "average_order_value < 40",
  // Flipped by customer events.
  "customer_tags CONTAINS 'vip'",
  "customer_tags CONTAINS 'vip' AND amount_spent > 200",
  "customer_email_domain = 'gmail.com'",
  "customer_email_domain = 'shop.de' AND number_of_orders >= 1",
  "customer_countries CONTAINS 'DE'",
  "customer_added_date > -30d",
  "email_subscription_status = 'SUBSCRIBED' AND number_of_orders >= 1",
  // Typical ones an event rarely flips.
  "rfm_group = 'champions'",
  "rfm_group = 'at_risk' OR rfm_group = 'almost_lost'",
  "products_purchased(product_type: 'Shoes') = true",
  "products_purchased(product_type: 'Hats', date: -90d) = true",
  "products_purchased(tag: 'sale') = true AND amount_spent > 100",
  "NOT (customer_tags CONTAINS 'vip') AND amount_spent > 500",
  "(customer_countries CONTAINS 'US' OR customer_countries CONTAINS 'CA') AND amount_spent > 250",
];
for (let i = 0; SEGMENT_QUERIES.length < 50; i++) {
  SEGMENT_QUERIES.push(
    [
      `amount_spent > ${20 + i * 37}`,
      `amount_spent BETWEEN ${10 + i * 7} AND ${200 + i * 11} AND number_of_orders >= ${1 + (i % 3)}`,
      `last_order_date > -${10 + i * 9}d AND customer_countries CONTAINS '${["US", "DE", "FR", "GB", "CA"][i % 5]}'`,
      `products_purchased(product_type: '${["Shoes", "Shirts", "Bags", "Socks", "Belts"][i % 5]}', date: -${30 + i * 10}d) = true`,
    ][i % 4]!,
  );
}

async function setupRole(config: { customers: number; builtAt: number }): Promise<void> {
  const { getPool, closeDb } = await import("../../app/db.server");
  const { logger } = await import("../../app/logger.server");
  const { createSegment } = await import("../../app/services/segments/segments.server");
  const { recomputeShopRfm } = await import("../../app/services/segments/rfm.server");
  const { saveProgram } = await import("../../app/services/loyalty/program.server");
  logger.level = "warn";
  const db = getPool();
  const builtAt = new Date(config.builtAt);
  try {
    await db.query(`INSERT INTO shops (domain, "currencyCode", installed_at) VALUES ($1, 'USD', $2)`, [SHOP, new Date(config.builtAt - 2000 * DAY_MS)]);
    await db.query(
      `INSERT INTO products (shop, gid, title, product_type, vendor, status, tags, shopify_created_at, shopify_updated_at)
       SELECT $1, 'gid://shopify/Product/' || (8000000000000 + p), 'Product ' || p,
              (ARRAY['Shoes','Shirts','Hats','Bags','Socks','Jackets','Pants','Belts','Scarves','Gloves'])[1 + p % 10], 'Vendor ' || (p % 7), 'active',
              CASE WHEN p % 5 = 0 THEN ARRAY['sale'] ELSE ARRAY[]::text[] END, $2::timestamptz - interval '4 years', $2::timestamptz - interval '30 days'
         FROM generate_series(1, 500) p`,
      [SHOP, builtAt],
    );
    // Customers as the payloads describe them (see backgroundCustomer), 1,000 per statement.
    for (let start = 1; start <= config.customers; start += 1000) {
      const rows: unknown[] = [];
      for (let i = start; i < Math.min(config.customers + 1, start + 1000); i++) {
        const c = backgroundCustomer(i, config.builtAt);
        const state = ["subscribed", "subscribed", "not_subscribed", "unsubscribed", null][i % 5];
        const tags = i % 20 === 0 ? ["vip"] : i % 7 === 0 ? ["newsletter"] : [];
        rows.push({ gid: `gid://shopify/Customer/${c.id}`, email: c.email, cc: c.countryCode, state, tags, created: c.createdAt });
      }
      await db.query(
        `INSERT INTO customers (shop, gid, email, first_name, last_name, state, currency, tags, country_code, addresses, email_marketing_state, shopify_created_at, shopify_updated_at)
         SELECT $1, x.gid, x.email, 'Ana', 'Silva', 'enabled', 'USD', x.tags, x.cc,
                jsonb_build_array(jsonb_build_object('countryCode', x.cc, 'city', 'Portland', 'isDefault', true)), x.state, x.created, x.created
           FROM jsonb_to_recordset($2::jsonb) AS x(gid text, email text, cc text, state text, tags text[], created timestamptz)`,
        [SHOP, JSON.stringify(rows)],
      );
    }
    // Order history: 40% of customers, geometric count (mean 2.5), over the last 3 years, skewed recent.
    await db.query(`CREATE OR REPLACE FUNCTION pg_temp.u(x bigint) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$ SELECT (hashint8(x) & 2147483647)::float8 / 2147483648 $$`);
    await db.query(
      `INSERT INTO orders (shop, gid, legacy_id, customer_gid, name, currency, total_price_minor, subtotal_minor, financial_status, test, shopify_created_at, shopify_updated_at, processed_at)
       SELECT $1, 'gid://shopify/Order/' || legacy, legacy::text, gid, '#' || legacy, 'USD', total, total, 'paid', false, created, created, created
         FROM (SELECT c.gid, c.id * 64 + k AS legacy,
                      (600 + floor(exp(7.6 + 1.1 * (pg_temp.u(c.id * 64 + k + 100000000000) + pg_temp.u(c.id * 64 + k + 200000000000) + pg_temp.u(c.id * 64 + k + 300000000000) - 1.5))))::bigint AS total,
                      $2::timestamptz - interval '8 days' - make_interval(secs => 3 * 365 * 86400 * power(pg_temp.u(c.id * 64 + k + 400000000000), 1.2)) AS created
                 FROM customers c
                CROSS JOIN LATERAL generate_series(1, CASE WHEN pg_temp.u(c.id * 16 + 9) < 0.40 THEN 1 + floor(ln(1 - pg_temp.u(c.id * 16 + 10)) / ln(0.6))::int ELSE 0 END) k
                WHERE c.shop = $1) o`,
      [SHOP, builtAt],
    );
    await db.query(
      `INSERT INTO line_items (shop, gid, order_gid, product_gid, title, quantity, price_minor)
       SELECT o.shop, 'gid://shopify/LineItem/' || (o.legacy_id::bigint * 4 + l), o.gid,
              'gid://shopify/Product/' || (8000000000001 + floor(500 * pg_temp.u(o.legacy_id::bigint * 4 + l + 500000000000))::int), 'Item', 1, o.total_price_minor / o.n
         FROM (SELECT o.*, 1 + floor(3 * pg_temp.u(o.legacy_id::bigint * 8 + 7))::int AS n FROM orders o WHERE o.shop = $1) o
        CROSS JOIN LATERAL generate_series(1, o.n) l`,
      [SHOP],
    );
    await db.query(
      `UPDATE customers c SET orders_count = a.n, total_spent_minor = a.spent, aov_minor = (2 * a.spent + a.n) / (2 * a.n), aggregate_currency = 'USD',
              first_order_at = a.first_at, last_order_at = a.last_at
         FROM (SELECT customer_gid, count(*)::int AS n, sum(total_price_minor) AS spent, min(shopify_created_at) AS first_at, max(shopify_created_at) AS last_at
                 FROM orders WHERE shop = $1 GROUP BY customer_gid) a
        WHERE c.shop = $1 AND c.gid = a.customer_gid`,
      [SHOP],
    );
    await recomputeShopRfm(db, SHOP, builtAt);
    await db.query(`ANALYZE customers, orders, line_items, products`);
    const ids: string[] = [];
    for (const [i, query] of SEGMENT_QUERIES.entries()) {
      const { segment } = await createSegment({ shop: SHOP, name: `Latency ${String(i).padStart(2, "0")}`, query, now: builtAt });
      ids.push(segment.id);
    }
    await saveProgram({
      shop: SHOP,
      actor: "bench@example.com",
      now: new Date(config.builtAt - DAY_MS),
      settings: {
        earn: { pointsPerUnit: 1 },
        pendingDays: 14,
        expiry: { inactivityDays: 365 },
        bonuses: { firstOrder: 50, signup: 25 },
        segmentMultipliers: [
          { segmentId: ids[4]!, multiplier: 1.5 },
          { segmentId: ids[16]!, multiplier: 2 },
        ],
        tiers: {
          metric: "points_earned",
          window: "rolling_12_months",
          levels: [
            { name: "Member", threshold: 0 },
            { name: "Silver", threshold: 500, multiplier: 1.25 },
            { name: "Gold", threshold: 2000, multiplier: 1.5 },
          ],
        },
      },
    });
    // Points the background customers hold: one entry each for their past spending.
    await db.query(
      `INSERT INTO loyalty_ledger (shop, customer_gid, points, kind, status, available_at, occurred_at, source, reason, rule, idempotency_key)
       SELECT $1, gid, (total_spent_minor / 100)::int, 'earn', 'available', last_order_at, last_order_at, 'bench-seed', 'Seeded history', '{}'::jsonb, 'earn:seed:' || gid
         FROM customers WHERE shop = $1 AND total_spent_minor >= 100`,
      [SHOP],
    );
    await db.query(`VACUUM ANALYZE customers, orders, line_items, segment_members, loyalty_ledger`);
    const { rows } = await db.query<{ customers: number; orders: number; members: number }>(
      `SELECT (SELECT count(*)::int FROM customers WHERE shop = $1) AS customers, (SELECT count(*)::int FROM orders WHERE shop = $1) AS orders,
              (SELECT count(*)::int FROM segment_members WHERE shop = $1) AS members`,
      [SHOP],
    );
    process.stdout.write(`${JSON.stringify({ ...rows[0], segments: ids.length })}\n`);
  } finally {
    await closeDb();
  }
}

// ---------------------------------------------------------------------------------------
// Role: orchestrator.

type LatencySummary = { n: number; p50: number; p95: number; p99: number; max: number };

function summarise(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length === 0 ? NaN : round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!));
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.length ? round(sorted[sorted.length - 1]!) : NaN };
}

/** Runs this file in a child process with a role; returns its last stdout line as JSON. */
async function runRole<T>(role: "setup" | "loadgen", config: unknown, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<T> {
  const child = spawn(process.execPath, ["--max-old-space-size=4096", "--import", "tsx", "tests/bench/event-latency.ts", "--role", role, "--config", JSON.stringify(config)], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (err = (err + chunk.toString()).slice(-4_000)));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [code] = (await once(child, "exit")) as [number | null];
  clearTimeout(timer);
  const line = out.trim().split("\n").pop() ?? "";
  if (code !== 0) throw new Error(`${role} exited ${code}: ${out.slice(-2_000)}${err}`);
  return JSON.parse(line) as T;
}

// Commit times: a deferred constraint trigger fires at COMMIT, so clock_timestamp() there is
// the moment the transaction's writes become visible (less the commit's WAL flush). The bench's
// own database only; the statements are run by the bench, not by the migration runner.
const COMMIT_RECORDER = `
  CREATE TABLE bench_commits (inbox_id bigint NOT NULL, committed_at timestamptz NOT NULL);
  CREATE FUNCTION bench_note_commit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO bench_commits VALUES (NEW.id, clock_timestamp()); RETURN NULL; END $$;
  CREATE CONSTRAINT TRIGGER bench_commit_time AFTER UPDATE OF status ON webhook_events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.status = 'processed' AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION bench_note_commit();
  CREATE TABLE bench_events (webhook_id text PRIMARY KEY, kind text NOT NULL, customer_gid text NOT NULL, order_gid text);`;

async function waitSettled(client: pg.Client, what: string, timeoutMs: number): Promise<void> {
  await waitUntil(
    what,
    async () => {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM webhook_events WHERE status IN ('received', 'failed')`);
      return rows[0]!.n === "0";
    },
    timeoutMs,
    100,
  );
}

type Options = { customers: number; rate: number; seconds: number; connections: number; seed: number };

async function measureRun(run: number, options: Options) {
  const busy = await backgroundCores();
  const db = await freshDatabase("latency");
  await flushBenchRedis();
  const builtAt = Date.now();
  const passThrough = Object.fromEntries(["LOYALTY_MAINTENANCE_INTERVAL_MS"].flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])));
  const env = { ...appEnv(db.url), DATABASE_STATEMENT_TIMEOUT_MS: "590000", DATABASE_QUERY_TIMEOUT_MS: "600000" };
  process.stderr.write(`run ${run}: setting up ${options.customers} customers, 50 segments, a loyalty program... `);
  const store = await runRole<{ customers: number; orders: number; members: number; segments: number }>("setup", { customers: options.customers, builtAt }, env, 600_000);
  process.stderr.write(`${JSON.stringify(store)}\n`);

  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query(COMMIT_RECORDER);
  const server = startRealServer(db.url, PORT);
  const worker = startWorker(db.url, passThrough);
  try {
    await waitForPort(PORT, server);
    // The worker's start-up jobs (first segment refresh, loyalty maintenance) run now; then a warm-up.
    await sleep(5_000);
    const warmTotal = Math.min(100, Math.floor(options.customers / 10));
    const warm: Plan = { seed: options.seed, total: warmTotal, customers: options.customers, rate: 50, startMs: Date.now() + 1_500, tag: `warm${run}`, orderIdBase: 8_900_000_000_000 + run * 10_000_000, offset: options.customers - warmTotal };
    await runRole("loadgen", { port: PORT, connections: options.connections, plan: warm, builtAt } satisfies LoadConfig, process.env, 120_000);
    await waitSettled(client, "warm-up settled", 60_000);

    const total = Math.ceil(options.rate * options.seconds);
    const plan: Plan = { seed: options.seed, total, customers: options.customers, rate: options.rate, startMs: Date.now() + 4_000, tag: `lat${run}`, orderIdBase: 9_000_000_000_000 + run * 10_000_000, offset: 0 };
    const planned = planEvents(plan, builtAt);
    for (let i = 0; i < planned.length; i += 1000) {
      const slice = planned.slice(i, i + 1000).map((e) => ({ webhook_id: e.webhookId, kind: e.kind, customer_gid: e.customerGid, order_gid: e.orderGid }));
      await client.query(`INSERT INTO bench_events SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(webhook_id text, kind text, customer_gid text, order_gid text)`, [JSON.stringify(slice)]);
    }
    // CPU of the app's processes over the measured load and its drain (the load generator excluded).
    const meter = new CpuMeter(client, db.name, { server: server.proc.pid, worker: worker.proc.pid });
    await meter.begin();
    const polling = setInterval(() => void meter.poll().catch(() => undefined), 1_000);
    let load: LoadOutcome;
    let drainSeconds: number;
    try {
      load = await runRole<LoadOutcome>("loadgen", { port: PORT, connections: options.connections, plan, builtAt } satisfies LoadConfig, process.env, (options.seconds + 180) * 1000);
      const drainStarted = Date.now();
      await waitSettled(client, "run settled", Math.max(120_000, total * 100));
      drainSeconds = (Date.now() - drainStarted) / 1000;
    } finally {
      clearInterval(polling);
    }
    const cpu = await meter.end();
    await worker.stop();
    await server.stop();

    await client.query(`CREATE INDEX bench_changes_by_customer ON segment_membership_changes (customer_gid, occurred_at)`);
    const { rows } = await client.query<{ kind: string; status: string; received: number; committed: number | null; member_at: number | null; earned_at: number | null }>(
      `SELECT e.kind, w.status::text AS status,
              EXTRACT(EPOCH FROM w.received_at) * 1000 AS received, EXTRACT(EPOCH FROM c.committed_at) * 1000 AS committed,
              EXTRACT(EPOCH FROM (SELECT min(s.occurred_at) FROM segment_membership_changes s
                                   WHERE s.shop = w.shop AND s.customer_gid = e.customer_gid AND s.cause = 'event'
                                     AND s.occurred_at >= w.received_at AND s.occurred_at <= c.committed_at)) * 1000 AS member_at,
              EXTRACT(EPOCH FROM (SELECT min(l.created_at) FROM loyalty_ledger l WHERE l.shop = w.shop AND l.order_gid = e.order_gid AND l.kind = 'earn')) * 1000 AS earned_at
         FROM bench_events e
         JOIN webhook_events w ON w.shop = $1 AND w.webhook_id = e.webhook_id
         LEFT JOIN bench_commits c ON c.inbox_id = w.id`,
      [SHOP],
    );
    const membershipVisible: number[] = [];
    const membershipRecorded: number[] = [];
    const pointsVisible: number[] = [];
    const pointsRecorded: number[] = [];
    let notProcessed = 0;
    let ordersWithoutPoints = 0;
    let orders = 0;
    let firstReceived = Infinity;
    const worstBySecond = new Map<number, number>(); // receipt second -> slowest event received in it
    let lastCommitted = -Infinity;
    for (const r of rows) {
      firstReceived = Math.min(firstReceived, Number(r.received));
      if (r.status !== "processed" || r.committed === null) {
        notProcessed++;
        continue;
      }
      const visible = Number(r.committed) - Number(r.received);
      const second = Math.floor(Number(r.received) / 1000);
      worstBySecond.set(second, Math.max(worstBySecond.get(second) ?? 0, visible));
      lastCommitted = Math.max(lastCommitted, Number(r.committed));
      if (r.member_at !== null) {
        membershipVisible.push(visible);
        membershipRecorded.push(Number(r.member_at) - Number(r.received));
      }
      if (r.kind === "order") {
        orders++;
        if (r.earned_at === null) ordersWithoutPoints++;
        else {
          pointsVisible.push(visible);
          pointsRecorded.push(Number(r.earned_at) - Number(r.received));
        }
      }
    }
    const { rows: counts } = await client.query<{ changes: number; entries: number; bonuses: number; tier_changes: number }>(
      `SELECT (SELECT count(*)::int FROM segment_membership_changes WHERE shop = $1 AND cause = 'event') AS changes,
              (SELECT count(*)::int FROM loyalty_ledger WHERE shop = $1 AND source <> 'bench-seed') AS entries,
              (SELECT count(*)::int FROM loyalty_ledger WHERE shop = $1 AND kind = 'bonus') AS bonuses,
              (SELECT count(*)::int FROM loyalty_tier_changes WHERE shop = $1) AS tier_changes`,
      [SHOP],
    );
    return {
      backgroundCores: busy,
      store,
      events: { planned: total, delivered: rows.length, notProcessed, orders, ordersWithoutPoints, ...counts[0]! },
      ingress: { achievedPerSecond: load.achievedPerSecond, ok: load.ok, errors: load.errors, statuses: load.statuses, ackMs: load.ackMs, maxSendLagMs: load.maxSendLagMs },
      // Events applied per second, from the first receipt to the last commit.
      // The slowest event of each second of the load, in order: shows whether the tail is steady or comes in bursts.
      worstMsBySecond: [...worstBySecond].sort(([a], [b]) => a - b).map(([, ms]) => round(ms)),
      appliedPerSecond: round((rows.length - notProcessed) / Math.max(0.001, (lastCommitted - firstReceived) / 1000), 1),
      drainAfterLoadSeconds: round(drainSeconds, 2),
      // CPU per delivered event over load + drain: web server, worker, their PostgreSQL backends, Redis.
      cpuMsPerEvent: Object.fromEntries(Object.entries(cpu.cpuMs).map(([k, v]) => [k, round(v / Math.max(1, rows.length), 2)])),
      cpuCores: cpu.cores,
      // The whole machine over load + drain (the load generator included), and what the hypervisor took.
      machine: cpu.machine,
      membershipMs: { visible: summarise(membershipVisible), recorded: summarise(membershipRecorded) },
      pointsMs: { visible: summarise(pointsVisible), recordedTransactionStart: summarise(pointsRecorded) },
    };
  } finally {
    await worker.stop();
    await server.stop();
    await client.end();
    await db.drop();
  }
}

async function main() {
  const flags = parseFlags();
  const options: Options = {
    customers: numberFlag(flags, "customers", 10_000),
    rate: numberFlag(flags, "rate", 500),
    seconds: numberFlag(flags, "seconds", 20),
    connections: numberFlag(flags, "connections", 50),
    seed: numberFlag(flags, "seed", 11),
  };
  const runs = numberFlag(flags, "runs", 3);
  const pointsTargetMs = numberFlag(flags, "points-target-ms", 1_000);
  if (options.customers < 100 || options.rate <= 0 || options.seconds <= 0 || runs < 1) throw new Error("--customers must be >= 100, --rate, --seconds and --runs > 0");
  const results: Awaited<ReturnType<typeof measureRun>>[] = [];
  for (let run = 1; run <= runs; run++) {
    const result = await measureRun(run, options);
    results.push(result);
    process.stderr.write(
      `run ${run}/${runs} (background load ${result.backgroundCores} cores): ingress ${result.ingress.achievedPerSecond}/s; ` +
        `membership visible p99 ${result.membershipMs.visible.p99} ms (${result.membershipMs.visible.n} events); points visible p99 ${result.pointsMs.visible.p99} ms (${result.pointsMs.visible.n} orders)\n` +
        `  machine during the run: ${result.machine.busyCores} cores busy, ${result.machine.stealCores} stolen by the hypervisor; applied ${result.appliedPerSecond}/s\n` +
        `  slowest event per second of load (ms): ${result.worstMsBySecond.join(" ")}\n`,
    );
  }
  await finishBench();
  const med = (pick: (r: (typeof results)[number]) => number) => round(median(results.map(pick)), 2);
  const medianOf = (pick: (r: (typeof results)[number]) => LatencySummary) => ({ p50: med((r) => pick(r).p50), p95: med((r) => pick(r).p95), p99: med((r) => pick(r).p99) });
  const summary = {
    achievedPerSecond: med((r) => r.ingress.achievedPerSecond),
    appliedPerSecond: med((r) => r.appliedPerSecond),
    cpuMsPerEvent: Object.fromEntries(["server", "worker", "postgres", "redis"].map((k) => [k, med((r) => r.cpuMsPerEvent[k] ?? 0)])),
    membershipVisibleMs: medianOf((r) => r.membershipMs.visible),
    membershipRecordedMs: medianOf((r) => r.membershipMs.recorded),
    pointsVisibleMs: medianOf((r) => r.pointsMs.visible),
    pointsRecordedTransactionStartMs: medianOf((r) => r.pointsMs.recordedTransactionStart),
    ackMs: medianOf((r) => r.ingress.ackMs),
  };
  const lost = results.reduce((n, r) => n + r.events.notProcessed + r.events.ordersWithoutPoints, 0);
  const rateHeld = summary.achievedPerSecond >= options.rate * 0.95;
  const pass = {
    rateHeld,
    membershipWithin1sP99: rateHeld && summary.membershipVisibleMs.p99 <= 1_000,
    pointsWithinTargetP99: rateHeld && summary.pointsVisibleMs.p99 <= pointsTargetMs,
    everyEventApplied: lost === 0,
  };
  const command = `npm run bench:event-latency -- --customers ${options.customers} --rate ${options.rate} --seconds ${options.seconds} --runs ${runs}`;
  report(
    "event-latency",
    { command, size: { ...options, runs, segments: 50, eventsPerRun: Math.ceil(options.rate * options.seconds), mix: "70% orders/create, 15% customers/update, 10% customers/create, 5% customer.tags_added" }, targets: { membershipP99Ms: 1_000, pointsP99Ms: pointsTargetMs, rate: options.rate }, median: summary, pass, runs: results },
    [
      `command: ${command}`,
      `size: ${options.customers.toLocaleString("en")} background customers, 50 segments, a loyalty program; ${Math.ceil(options.rate * options.seconds).toLocaleString("en")} events per run at ${options.rate}/s for ${options.seconds} s; ${runs} run(s), medians below`,
      `ingress achieved ${summary.achievedPerSecond}/s (${rateHeld ? "held" : "NOT held"}); ack p50 ${summary.ackMs.p50} ms, p99 ${summary.ackMs.p99} ms; worker applied ${summary.appliedPerSecond} events/s`,
      `CPU per event (median, load + drain): ${Object.entries(summary.cpuMsPerEvent).map(([k, v]) => `${k} ${v} ms`).join(", ")}`,
      `membership change, receipt -> visible (commit): p50 ${summary.membershipVisibleMs.p50} ms, p95 ${summary.membershipVisibleMs.p95} ms, p99 ${summary.membershipVisibleMs.p99} ms  [target p99 <= 1000 ms at ${options.rate}/s: ${pass.membershipWithin1sP99 ? "met" : "MISSED"}]`,
      `  (recorded occurred_at: p50 ${summary.membershipRecordedMs.p50} ms, p99 ${summary.membershipRecordedMs.p99} ms)`,
      `order -> points, receipt -> visible (commit): p50 ${summary.pointsVisibleMs.p50} ms, p95 ${summary.pointsVisibleMs.p95} ms, p99 ${summary.pointsVisibleMs.p99} ms  [target p99 <= ${pointsTargetMs} ms: ${pass.pointsWithinTargetP99 ? "met" : "MISSED"}]`,
      `  (ledger created_at = transaction start: p50 ${summary.pointsRecordedTransactionStartMs.p50} ms, p99 ${summary.pointsRecordedTransactionStartMs.p99} ms)`,
      `every event applied and every order earned: ${lost === 0 ? "yes" : `NO (${lost} missing)`}`,
    ],
  );
  if (lost > 0) process.exitCode = 1;
}

const roleFlags = parseFlags();
const role =
  roleFlags.role === "loadgen"
    ? loadgenRole(JSON.parse(roleFlags.config ?? "{}") as LoadConfig)
    : roleFlags.role === "setup"
      ? setupRole(JSON.parse(roleFlags.config ?? "{}") as { customers: number; builtAt: number })
      : null;
if (role) {
  role.catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
} else {
  main().catch(async (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    await finishBench().catch(() => undefined);
    process.exit(1);
  });
}
