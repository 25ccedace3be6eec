// The admin customer list at scale (decision 040): on a store of 1,000,000 customers
// generated with SQL in a fresh database (never analysed: PostgreSQL here runs with
// autovacuum off), the latency of one list page view (the capped count plus the page) at
// page 1 and at a deep cursor (half-way through the list), and of searches, through the
// service, against the OFFSET version it replaced (count(*) + LIMIT/OFFSET, ILIKE over
// concat_ws) in the same run, alternating. Then ANALYZE and the same again.
//
//   npm run bench:admin-customers -- [--runs 15] [--customers 1000000]
import pg from "pg";
import { finishBench, freshDatabase, numberFlag, parseFlags, percentiles, report, round, useAppEnvInThisProcess } from "./lib/common";

const flags = parseFlags();
const RUNS = numberFlag(flags, "runs", 15);
const CUSTOMERS = numberFlag(flags, "customers", 1_000_000);
const SHOP = "bench-admin.myshopify.com";
const PAGE = 25;

// The list as it was before decision 040 (app/services/admin-customers.server.ts).
const OLD_WHERE = `shop = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR email ILIKE $2 OR concat_ws(' ', first_name, last_name) ILIKE $2)`;
async function offsetPage(client: pg.Client, pattern: string | null, offset: number) {
  const [count, rows] = await Promise.all([
    client.query(`SELECT count(*)::int AS total FROM customers WHERE ${OLD_WHERE}`, [SHOP, pattern]),
    client.query(
      `SELECT gid, first_name, last_name, email, redacted_at IS NOT NULL AS redacted, orders_count, total_spent_minor,
              coalesce(aggregate_currency, currency) AS currency, last_order_at
         FROM customers WHERE ${OLD_WHERE} ORDER BY last_order_at DESC NULLS LAST, id DESC LIMIT $3 OFFSET $4`,
      [SHOP, pattern, PAGE, offset],
    ),
  ]);
  return { total: count.rows[0].total as number, ids: rows.rows.map((r) => r.gid as string) };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

async function main() {
  const db = await freshDatabase("admin");
  await useAppEnvInThisProcess(db.url);
  const { listCustomers } = await import("../../app/services/admin-customers.server");
  const { encodeCursor } = await import("../../app/domain/admin/keyset-cursor");
  const { closeDb } = await import("../../app/db.server");
  // The old version runs on a client of its own (Promise.all on one pg.Client queues; the
  // old code used the pool, so two connections).
  const a = new pg.Client({ connectionString: db.url });
  const b = new pg.Client({ connectionString: db.url });
  await a.connect();
  await b.connect();
  const oldClient = {
    query: (text: string, values: unknown[]) => (text.startsWith("SELECT count") ? a : b).query(text, values),
  } as unknown as pg.Client;
  try {
    const build = await timed(() =>
      a.query(
        `INSERT INTO customers (shop, gid, first_name, last_name, email, total_spent_minor, orders_count, last_order_at, currency, updated_at)
         SELECT $1, 'gid://shopify/Customer/' || g, 'First' || (g % 9973), 'Last' || substr(md5(g::text), 1, 8), 'user' || g || '@example.com',
                (g::bigint * 7919) % 500000, g % 9, CASE WHEN g % 7 = 0 THEN NULL ELSE timestamptz '2020-01-01' + (g % 700000) * interval '3 minutes' END, 'USD', now()
           FROM generate_series(1, $2::int) g`,
        [SHOP, CUSTOMERS],
      ),
    );
    const deepOffset = Math.floor(CUSTOMERS / 2);
    // The deep cursor: the row at the same position the OFFSET version skips to.
    const edge = await a.query<{ id: string; key: string }>(
      `SELECT id, coalesce(last_order_at, '-infinity'::timestamptz)::text AS key FROM customers
        WHERE shop = $1 AND deleted_at IS NULL ORDER BY coalesce(last_order_at, '-infinity'::timestamptz) DESC, id DESC OFFSET $2 - 1 LIMIT 1`,
      [SHOP, deepOffset],
    );
    const deepCursor = encodeCursor({ sort: "last_order_desc", key: edge.rows[0]!.key, id: edge.rows[0]!.id });

    type Case = { name: string; keyset: () => Promise<string[]>; offset: () => Promise<string[]> };
    const gids = (page: Awaited<ReturnType<typeof listCustomers>>) => page.customers.map((c) => `gid://shopify/Customer/${c.id}`);
    const cases: Case[] = [
      { name: "page 1", keyset: async () => gids(await listCustomers({ shop: SHOP, query: "", sort: "last_order_desc" })), offset: async () => (await offsetPage(oldClient, null, 0)).ids },
      {
        name: `deep (row ${deepOffset.toLocaleString("en-US")})`,
        keyset: async () => gids(await listCustomers({ shop: SHOP, query: "", sort: "last_order_desc", after: deepCursor })),
        offset: async () => (await offsetPage(oldClient, null, deepOffset)).ids,
      },
      {
        name: "search 'user4242' (111 matches)",
        keyset: async () => gids(await listCustomers({ shop: SHOP, query: "user4242", sort: "last_order_desc" })),
        offset: async () => (await offsetPage(oldClient, "%user4242%", 0)).ids,
      },
      {
        name: "search 'user424242@' (1 match)",
        keyset: async () => gids(await listCustomers({ shop: SHOP, query: "user424242@", sort: "last_order_desc" })),
        offset: async () => (await offsetPage(oldClient, "%user424242@%", 0)).ids,
      },
      {
        name: "search 'first99' (~8,400 matches)",
        keyset: async () => gids(await listCustomers({ shop: SHOP, query: "first99", sort: "last_order_desc" })),
        offset: async () => (await offsetPage(oldClient, "%first99%", 0)).ids,
      },
      {
        name: "search '@example' (every customer)",
        keyset: async () => gids(await listCustomers({ shop: SHOP, query: "@example", sort: "last_order_desc" })),
        offset: async () => (await offsetPage(oldClient, "%@example%", 0)).ids,
      },
    ];

    const results: Record<string, unknown>[] = [];
    for (const phase of ["never analysed", "after ANALYZE"]) {
      if (phase === "after ANALYZE") await a.query("ANALYZE customers");
      for (const c of cases) {
        const keysetMs: number[] = [];
        const offsetMs: number[] = [];
        for (let run = -1; run < RUNS; run++) {
          const k = await timed(c.keyset);
          const o = await timed(c.offset);
          if (run === -1 && JSON.stringify(k.value) !== JSON.stringify(o.value)) throw new Error(`${c.name}: keyset and OFFSET pages differ`);
          if (run >= 0) {
            keysetMs.push(k.ms);
            offsetMs.push(o.ms);
          }
        }
        const kp = percentiles(keysetMs);
        const op = percentiles(offsetMs);
        results.push({ phase, case: c.name, keyset: { p50: round(kp.p50), p99: round(kp.p99) }, offset: { p50: round(op.p50), p99: round(op.p99) } });
      }
    }
    report(
      "admin-customers",
      { customers: CUSTOMERS, buildSeconds: round(build.ms / 1000, 1), runs: RUNS, results },
      [
        `store: ${CUSTOMERS.toLocaleString("en-US")} customers inserted with generate_series (with the indexes in place) in ${round(build.ms / 1000, 1)} s`,
        ...results.map((r) => {
          const k = r.keyset as { p50: number; p99: number };
          const o = r.offset as { p50: number; p99: number };
          return `${r.phase}, ${r.case}: keyset p50 ${k.p50} ms p99 ${k.p99} ms | OFFSET p50 ${o.p50} ms p99 ${o.p99} ms (runs ${RUNS})`;
        }),
      ],
    );
  } finally {
    await a.end();
    await b.end();
    await closeDb();
    await db.drop();
    await finishBench();
  }
}

await main();
