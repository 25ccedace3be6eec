// The customer pages' service at scale (decision 040) on a real database: keyset pages of
// the customer list that never overlap or skip while customers arrive between pages, in
// every sort, forwards and backwards; the substring search (name and email, any case,
// never another store's or a deleted customer); the capped count; the plans of the list
// and search queries on 50,000 customers that were never analysed (PostgreSQL here runs
// with autovacuum off) and after ANALYZE; the customer page's order pages.
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { CUSTOMER_COUNT_CAP, getCustomerDetail, listCustomers } from "../../app/services/admin-customers.server";
import { CUSTOMER_SORTS, type CustomerSort } from "../../app/domain/admin/view-models";
import { useIntegrationEnv } from "../support/env";

const SHOP = "admin-scale-a.myshopify.com";
const OTHER = "admin-scale-b.myshopify.com";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;

beforeAll(async () => {
  env = await useIntegrationEnv();
});

afterAll(async () => {
  await closeDb();
  await env?.dropDatabase();
});

type Seed = { legacy: number; shop?: string; first?: string | null; last?: string | null; email?: string | null; spent?: number; lastOrderAt?: string | null; deleted?: boolean };

async function insertCustomers(seeds: Seed[]) {
  await getPool().query(
    `INSERT INTO customers (shop, gid, first_name, last_name, email, total_spent_minor, last_order_at, deleted_at, updated_at)
     SELECT s.shop, 'gid://shopify/Customer/' || s.legacy, s.first, s.last, s.email, s.spent, s.last_order_at, CASE WHEN s.deleted THEN now() END, now()
       FROM jsonb_to_recordset($1::jsonb) AS s(shop text, legacy bigint, first text, last text, email text, spent bigint, last_order_at timestamptz, deleted boolean)`,
    [JSON.stringify(seeds.map((s) => ({ shop: SHOP, first: null, last: null, email: null, spent: 0, lastOrderAt: null, deleted: false, ...s })).map((s) => ({ ...s, last_order_at: s.lastOrderAt })))],
  );
}

/** The shop's live customers in the sort's order, as legacy ids (the expected list). */
async function expectedOrder(shop: string, sort: CustomerSort): Promise<string[]> {
  const { rows } = await getPool().query<{ gid: string; id: string; spent: string; last: Date | null }>(
    `SELECT gid, id, total_spent_minor AS spent, last_order_at AS last FROM customers WHERE shop = $1 AND deleted_at IS NULL`,
    [shop],
  );
  const time = (d: Date | null, missing: number) => (d ? d.getTime() : missing);
  const cmp = (a: number | bigint, b: number | bigint) => (a < b ? -1 : a > b ? 1 : 0);
  const byKey = {
    last_order_desc: (a: (typeof rows)[0], b: (typeof rows)[0]) => cmp(time(b.last, -Infinity), time(a.last, -Infinity)) || cmp(BigInt(b.id), BigInt(a.id)),
    last_order_asc: (a: (typeof rows)[0], b: (typeof rows)[0]) => cmp(time(a.last, Infinity), time(b.last, Infinity)) || cmp(BigInt(a.id), BigInt(b.id)),
    spent_desc: (a: (typeof rows)[0], b: (typeof rows)[0]) => cmp(BigInt(b.spent), BigInt(a.spent)) || cmp(BigInt(b.id), BigInt(a.id)),
    spent_asc: (a: (typeof rows)[0], b: (typeof rows)[0]) => cmp(BigInt(a.spent), BigInt(b.spent)) || cmp(BigInt(a.id), BigInt(b.id)),
  }[sort];
  return rows.sort(byKey).map((r) => r.gid.slice(r.gid.lastIndexOf("/") + 1));
}

describe("customer list: keyset pages", () => {
  beforeAll(async () => {
    // 40 customers with many ties (same last order, same amount, no orders at all), another
    // store's and deleted customers.
    const seeds: Seed[] = [];
    for (let i = 1; i <= 40; i++) {
      seeds.push({
        legacy: 1000 + i,
        first: `Page${i}`,
        last: "Walker",
        email: `page${i}@example.com`,
        spent: (i % 4) * 500, // ties
        lastOrderAt: i % 5 === 0 ? null : `2026-0${1 + (i % 3)}-10T10:00:00Z`, // ties and no orders
      });
    }
    seeds.push({ legacy: 1100, first: "Gone", deleted: true, spent: 999999, lastOrderAt: "2026-12-01T00:00:00Z" });
    for (let i = 1; i <= 5; i++) seeds.push({ legacy: 9000 + i, shop: OTHER, first: `Other${i}`, spent: 700, lastOrderAt: "2026-02-10T10:00:00Z" });
    await insertCustomers(seeds);
  });

  it.each(CUSTOMER_SORTS)("%s: walking forwards with inserts between pages lists every customer once, in order", async (sort) => {
    const before = await expectedOrder(SHOP, sort);
    expect(before.length).toBeGreaterThanOrEqual(40); // the earlier sorts' walks added late arrivals
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page = await listCustomers({ shop: SHOP, query: "", sort, after, pageSize: 7 });
      pages++;
      expect(page.customers.length).toBeLessThanOrEqual(7);
      expect(page.previousCursor !== null).toBe(pages > 1);
      seen.push(...page.customers.map((c) => c.id));
      // New customers arrive between page views: some sort before the cursor, some after,
      // some tie with existing keys.
      const n = 5000 + pages * 10 + CUSTOMER_SORTS.indexOf(sort) * 1000;
      await insertCustomers([
        { legacy: n, first: "Late", spent: 500, lastOrderAt: "2026-02-10T10:00:00Z" },
        { legacy: n + 1, first: "Late", spent: 0, lastOrderAt: null },
        { legacy: n + 2, first: "Late", spent: 99999, lastOrderAt: "2026-03-10T10:00:00Z" },
      ]);
      if (!page.nextCursor) break;
      after = page.nextCursor;
      expect(pages).toBeLessThan(40);
    }
    expect(new Set(seen).size).toBe(seen.length); // no overlap
    // No skip: every customer that existed before the walk is listed, in the sort's order.
    const original = new Set(before);
    expect(seen.filter((id) => original.has(id))).toEqual(before);
    // And the walk as a whole is in the sort's order (late arrivals where they belong).
    const now = await expectedOrder(SHOP, sort);
    expect(seen).toEqual(now.filter((id) => seen.includes(id)));
    expect(seen).not.toContain("1100"); // deleted
    expect(seen.some((id) => id.startsWith("900"))).toBe(false); // the other store
  });

  it("walking backwards from the last page gives the same pages in reverse", async () => {
    const sort: CustomerSort = "spent_desc";
    const forward: string[][] = [];
    const cursors: { next: string | null; previous: string | null }[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await listCustomers({ shop: SHOP, query: "", sort, after, pageSize: 9 });
      forward.push(page.customers.map((c) => c.id));
      cursors.push({ next: page.nextCursor, previous: page.previousCursor });
      if (!page.nextCursor) break;
      after = page.nextCursor;
    }
    expect(forward.length).toBeGreaterThan(3);
    const backward: string[][] = [forward[forward.length - 1]!];
    let before = cursors[cursors.length - 1]!.previous;
    while (before) {
      const page = await listCustomers({ shop: SHOP, query: "", sort, before, pageSize: 9 });
      backward.unshift(page.customers.map((c) => c.id));
      before = page.previousCursor;
      expect(page.nextCursor).not.toBeNull();
    }
    expect(backward).toEqual(forward);
  });

  it("a cursor that does not parse or belongs to another sort starts at the first page", async () => {
    const first = await listCustomers({ shop: SHOP, query: "", sort: "last_order_desc" });
    const spentCursor = (await listCustomers({ shop: SHOP, query: "", sort: "spent_desc" })).nextCursor;
    for (const after of ["garbage", "eyJ4IjoxfQ", spentCursor]) {
      const page = await listCustomers({ shop: SHOP, query: "", sort: "last_order_desc", after });
      expect(page.customers.map((c) => c.id)).toEqual(first.customers.map((c) => c.id));
      expect(page.previousCursor).toBeNull();
    }
  });
});

describe("customer list: search", () => {
  const S = "admin-scale-search.myshopify.com";
  beforeAll(async () => {
    await insertCustomers([
      { shop: S, legacy: 1, first: "Ana", last: "Silva", email: "ana.silva@example.com", lastOrderAt: "2026-02-03T11:30:00Z" },
      { shop: S, legacy: 2, first: "Mariana", last: "Costa", email: "m.costa@shop.test", lastOrderAt: "2026-02-01T11:30:00Z" },
      { shop: S, legacy: 3, first: "Beatriz", last: "SANTANA", email: "bea@example.com", lastOrderAt: "2026-01-01T11:30:00Z" },
      { shop: S, legacy: 4, first: null, last: null, email: "JOANA.p@Example.com" },
      { shop: S, legacy: 5, first: "Carla", last: "Ana", email: "carla@example.com", deleted: true },
      { shop: S, legacy: 6, first: "Percent", last: "Sign", email: "100%off@example.com" },
      { shop: S, legacy: 7, first: "Under", last: "Score", email: "a_b@example.com" },
      { shop: OTHER, legacy: 8, first: "Ana", last: "Otherstore", email: "ana@other.example.com" },
    ]);
  });

  const names = async (query: string, sort: CustomerSort = "last_order_desc") =>
    (await listCustomers({ shop: S, query, sort })).customers.map((c) => c.id);

  it("finds by a substring of the name or the email in any case, never a deleted customer or another store's", async () => {
    expect(await names("ANA")).toEqual(["1", "2", "3", "4"]); // in the list's order
    expect(await names("an")).toEqual(["1", "2", "3", "4"]); // short searches take the index walk
    expect(await names("ana s")).toEqual(["1"]); // across first and last name
    expect(await names("silva@EXAMPLE")).toEqual(["1"]);
    expect(await names("@shop.TEST")).toEqual(["2"]);
    expect(await names("ntana")).toEqual(["3"]);
    expect(await names("otherstore")).toEqual([]);
    expect(await names("carla")).toEqual([]);
    const page = await listCustomers({ shop: S, query: "ana", sort: "spent_asc" });
    expect(page.total).toBe(4);
    expect(page.totalIsLowerBound).toBe(false);
  });

  it("a redacted customer is not found by the name or email it had (the search column follows the row)", async () => {
    await insertCustomers([{ shop: S, legacy: 9, first: "Rosalind", last: "Erased", email: "rosalind@example.com" }]);
    expect(await names("rosalind")).toEqual(["9"]);
    await getPool().query(
      `UPDATE customers SET email = NULL, first_name = NULL, last_name = NULL, redacted_at = now() WHERE shop = $1 AND gid = 'gid://shopify/Customer/9'`,
      [S],
    );
    expect(await names("rosalind")).toEqual([]);
    expect(await names("erased")).toEqual([]);
  });

  it("treats % and _ as the characters they are", async () => {
    expect(await names("100%")).toEqual(["6"]);
    expect(await names("a_b")).toEqual(["7"]);
    expect(await names("%")).toEqual(["6"]);
  });

  it("pages through a search with cursors", async () => {
    const first = await listCustomers({ shop: S, query: "ana", sort: "last_order_desc", pageSize: 3 });
    expect(first.customers.map((c) => c.id)).toEqual(["1", "2", "3"]);
    const second = await listCustomers({ shop: S, query: "ana", sort: "last_order_desc", pageSize: 3, after: first.nextCursor });
    expect(second.customers.map((c) => c.id)).toEqual(["4"]);
    expect(second.nextCursor).toBeNull();
  });
});

describe("customer list: counts stop at the cap", () => {
  const S = "admin-scale-cap.myshopify.com";
  it("says 'more than' past CUSTOMER_COUNT_CAP, for the list and for a search matching that many", async () => {
    await getPool().query(
      `INSERT INTO customers (shop, gid, first_name, email, total_spent_minor, updated_at)
       SELECT $1, 'gid://shopify/Customer/' || (200000 + g), 'Bulk', 'bulk' || g || '@example.com', g, now()
         FROM generate_series(1, $2::int) g`,
      [S, CUSTOMER_COUNT_CAP + 5],
    );
    const all = await listCustomers({ shop: S, query: "", sort: "spent_desc" });
    expect(all).toMatchObject({ total: CUSTOMER_COUNT_CAP, totalIsLowerBound: true });
    expect(all.customers[0]!.id).toBe(String(200000 + CUSTOMER_COUNT_CAP + 5));
    // A search matching more than the cap pages through the sort index instead.
    const bulk = await listCustomers({ shop: S, query: "BULK", sort: "spent_desc" });
    expect(bulk).toMatchObject({ total: CUSTOMER_COUNT_CAP, totalIsLowerBound: true });
    const next = await listCustomers({ shop: S, query: "BULK", sort: "spent_desc", after: bulk.nextCursor });
    expect(next.customers[0]!.id).toBe(String(200000 + CUSTOMER_COUNT_CAP + 5 - 25));
    const few = await listCustomers({ shop: S, query: "bulk1234@", sort: "spent_desc" });
    expect(few).toMatchObject({ total: 1, totalIsLowerBound: false });
  });
});

describe("customer list: plans use indexes whatever the statistics", () => {
  const S = "admin-scale-plans.myshopify.com";
  let captured: { text: string; values: unknown[] }[] = [];

  beforeAll(async () => {
    await getPool().query(
      `INSERT INTO customers (shop, gid, first_name, last_name, email, total_spent_minor, last_order_at, updated_at)
       SELECT $1, 'gid://shopify/Customer/' || (300000 + g), 'First' || (g % 997), 'Last' || md5(g::text), 'user' || g || '@example.com',
              (g * 7919) % 100000, CASE WHEN g % 7 = 0 THEN NULL ELSE timestamptz '2024-01-01' + (g % 50000) * interval '13 minutes' END, now()
         FROM generate_series(1, 50000) g`,
      [S],
    );
  });

  afterEach(() => {
    vi.restoreAllMocks();
    captured = [];
  });

  /** Runs the service while recording its SELECTs, then EXPLAINs each the way the service runs it. */
  async function plansOf(run: () => Promise<unknown>): Promise<string[]> {
    captured = [];
    const original = pg.Client.prototype.query;
    vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (this: pg.Client, ...args: unknown[]) {
      const [text, values] = args as [unknown, unknown];
      if (typeof text === "string" && /^\s*(WITH|SELECT)/.test(text) && /FROM customers/.test(text)) captured.push({ text, values: (values as unknown[]) ?? [] });
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original);
    await run();
    vi.restoreAllMocks();
    expect(captured.length).toBeGreaterThan(0);
    const client = await getPool().connect();
    try {
      await client.query("BEGIN");
      await client.query("SET LOCAL enable_seqscan = off");
      const plans: string[] = [];
      for (const q of captured) {
        const { rows } = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN ${q.text}`, q.values);
        plans.push(rows.map((r) => r["QUERY PLAN"]).join("\n"));
      }
      await client.query("ROLLBACK");
      return plans;
    } finally {
      client.release();
    }
  }

  async function checkPlans() {
    const deep = await listCustomers({ shop: S, query: "", sort: "last_order_desc" });
    let cursor = deep.nextCursor;
    for (let i = 0; i < 5; i++) cursor = (await listCustomers({ shop: S, query: "", sort: "last_order_desc", after: cursor })).nextCursor;
    for (const sort of CUSTOMER_SORTS) {
      const page1 = await plansOf(() => listCustomers({ shop: S, query: "", sort }));
      const [count, list] = page1;
      expect(count, `${sort} count`).toMatch(/Index (Only )?Scan/);
      expect(list, `${sort} page`).toMatch(/Index (Only )?Scan( Backward)? using customers_list_/);
      expect(list, `${sort} page is read in index order`).not.toMatch(/Sort/);
      for (const plan of page1) expect(plan).not.toMatch(/Seq Scan/);
    }
    const deepPlans = await plansOf(() => listCustomers({ shop: S, query: "", sort: "last_order_desc", after: cursor }));
    expect(deepPlans[1]).toMatch(/Index Cond: .*ROW\(COALESCE\(last_order_at/); // the cursor is an index condition, not a filter
    for (const plan of deepPlans) expect(plan).not.toMatch(/Seq Scan/);
    const search = await plansOf(() => listCustomers({ shop: S, query: "rst12", sort: "last_order_desc" }));
    expect(search[0]).toMatch(/Bitmap Index Scan on customers_search_text_trgm_idx/);
    expect(search[1]).toMatch(/Index Cond: \(id = ANY/); // the page reads the matches by primary key, not a walk of the list
    for (const plan of search) expect(plan).not.toMatch(/Seq Scan/);
  }

  it("on 50,000 customers never analysed", async () => {
    const { rows } = await getPool().query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stats WHERE tablename = 'customers'`);
    expect(rows[0]!.n).toBe(0); // no statistics at all
    await checkPlans();
  });

  it("and after ANALYZE", async () => {
    await getPool().query("ANALYZE customers");
    await checkPlans();
  });
});

describe("customer page: order pages", () => {
  const S = "admin-scale-orders.myshopify.com";
  const CUSTOMER = "gid://shopify/Customer/77";

  beforeAll(async () => {
    await insertCustomers([{ shop: S, legacy: 77, first: "Many", last: "Orders", email: "many@example.com" }]);
    // 45 orders, three sharing one creation time (the id breaks the tie), and another customer's.
    await getPool().query(
      `INSERT INTO orders (shop, gid, legacy_id, customer_gid, name, currency, total_price_minor, shopify_created_at, shopify_updated_at)
       SELECT $1, 'gid://shopify/Order/' || (5000 + g), (5000 + g)::text, $2, '#' || (5000 + g), 'USD', g * 100,
              CASE WHEN g BETWEEN 20 AND 22 THEN timestamptz '2026-01-20T10:00:00Z' ELSE timestamptz '2026-01-01T10:00:00Z' + g * interval '1 day' END, now()
         FROM generate_series(1, 45) g
       UNION ALL SELECT $1, 'gid://shopify/Order/9999', '9999', 'gid://shopify/Customer/78', '#9999', 'USD', 1, now(), now()`,
      [S, CUSTOMER],
    );
    await getPool().query(
      `INSERT INTO line_items (shop, gid, order_gid, title, quantity, price_minor) VALUES
         ($1, 'gid://shopify/LineItem/1', 'gid://shopify/Order/5045', 'Tea', 2, 100), ($1, 'gid://shopify/LineItem/2', 'gid://shopify/Order/5045', 'Cup', 3, 100)`,
      [S],
    );
    await getPool().query(
      `INSERT INTO refunds (shop, gid, legacy_id, order_legacy_id, amount_minor, currency, refunded_at)
       VALUES ($1, 'gid://shopify/Refund/1', '1', '5044', 1500, 'USD', '2026-03-01T00:00:00Z')`,
      [S],
    );
  });

  const detail = (args: { ordersAfter?: string | null; ordersBefore?: string | null } = {}) =>
    getCustomerDetail({ shop: S, customerId: "77", ...args }).then((d) => d!);

  it("shows 20 orders a page, newest first, with older and newer pages that never overlap", async () => {
    const first = await detail();
    expect(first.orders).toHaveLength(20);
    expect(first.orders[0]).toMatchObject({ id: "5045", name: "#5045", itemCount: 5, total: "$45.00" });
    expect(first.orders[1]!.refunds).toEqual([expect.objectContaining({ id: "1", amount: "$15.00" })]);
    expect(first.newerOrdersCursor).toBeNull();
    const second = await detail({ ordersAfter: first.olderOrdersCursor });
    const third = await detail({ ordersAfter: second.olderOrdersCursor });
    expect(second.orders).toHaveLength(20);
    expect(third.orders).toHaveLength(5);
    expect(third.olderOrdersCursor).toBeNull();
    const all = [...first.orders, ...second.orders, ...third.orders].map((o) => Number(o.id));
    expect(new Set(all).size).toBe(45);
    // Newest first; the three orders created at the same instant come in id order, newest id first.
    const expected = Array.from({ length: 45 }, (_, i) => 5045 - i).sort((a, b) => {
      const at = (n: number) => (n >= 5020 && n <= 5022 ? 20 : n - 5000);
      return at(b) - at(a) || b - a;
    });
    expect(all).toEqual(expected);
    // Back from the third page to the second.
    const back = await detail({ ordersBefore: third.newerOrdersCursor });
    expect(back.orders.map((o) => o.id)).toEqual(second.orders.map((o) => o.id));
    expect(back.newerOrdersCursor).not.toBeNull();
    expect(back.olderOrdersCursor).not.toBeNull();
  });

  it("a customer with few orders has no pages; a bad cursor shows the newest orders", async () => {
    await insertCustomers([{ shop: S, legacy: 78, first: "One" }]);
    const one = await getCustomerDetail({ shop: S, customerId: "78" });
    expect(one!.orders.map((o) => o.id)).toEqual(["9999"]);
    expect(one).toMatchObject({ olderOrdersCursor: null, newerOrdersCursor: null });
    const bad = await detail({ ordersAfter: "not-a-cursor" });
    expect(bad.orders[0]!.id).toBe("5045");
    expect(await getCustomerDetail({ shop: OTHER, customerId: "77" })).toBeNull();
  });
});
