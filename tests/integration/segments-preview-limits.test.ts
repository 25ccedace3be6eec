// Segment previews and recomputes are bounded (decision 026): PostgreSQL cancels a preview
// past SEGMENT_PREVIEW_TIMEOUT_MS (200 ms here) and a recompute statement past
// SEGMENT_RECOMPUTE_TIMEOUT_MS, answered with a clear "too expensive, simplify it" (inline in
// the admin editor, exit 2 with the message on stderr in the CLI), and a shop runs at most
// SEGMENT_PREVIEW_CONCURRENCY previews at once in a process.
//
// The expensive query is honest: ten products_purchased(...) calls (the cap) over a
// generated store of 20,000 customers with 100,000 orders, which takes well over a second
// without the limit on this machine.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { previewForEditor } from "../../app/services/admin-segments.server";
import { acquirePreviewSlot, previewsInFlight } from "../../app/services/segments/limits.server";
import {
  PREVIEW_BUSY,
  PREVIEW_TOO_EXPENSIVE,
  RECOMPUTE_TOO_EXPENSIVE,
  createSegment,
  getSegment,
  previewAll,
  previewSegment,
  recomputeSegment,
} from "../../app/services/segments/segments.server";
import { parseSegment } from "../../app/domain/segments/parser";
import { compileSegmentFilter } from "../../app/domain/segments/sql";
import { closeQueues } from "../../app/queues.server";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { runCli } from "../support/pipeline";

const SHOP = "preview-limits.myshopify.com";
const OTHER = "preview-limits-other.myshopify.com";
const TIMEOUT_MS = 200;
const CUSTOMERS = 20_000;
let env: Awaited<ReturnType<typeof useIntegrationEnv>>;

/** Ten calls, each a correlated subquery over orders, line items and products for every customer. */
const EXPENSIVE = Array.from({ length: 10 }, (_, i) => `products_purchased(tag: 'tag-${i}', quantity: ${i + 2}) = false`).join(" AND ");
const CHEAP = "number_of_orders >= 1";

beforeAll(async () => {
  env = await useIntegrationEnv({ SEGMENT_PREVIEW_TIMEOUT_MS: String(TIMEOUT_MS), SEGMENT_RECOMPUTE_TIMEOUT_MS: String(TIMEOUT_MS), SEGMENT_PREVIEW_CONCURRENCY: "2" });
  const db = getPool();
  await db.query(
    `INSERT INTO products (shop, gid, title, product_type, status, tags, shopify_created_at, shopify_updated_at)
     SELECT $1, 'gid://shopify/Product/' || p, 'Product ' || p, 'Type ' || (p % 10), 'active', ARRAY['tag-' || (p % 10), 'all'], now(), now()
       FROM generate_series(1, 200) p`,
    [SHOP],
  );
  await db.query(
    `INSERT INTO customers (shop, gid, email, orders_count, shopify_created_at)
     SELECT $1, 'gid://shopify/Customer/' || i, 'c' || i || '@example.com', 5, now() - interval '1 year' FROM generate_series(1, $2::int) i`,
    [SHOP, CUSTOMERS],
  );
  await db.query(
    `INSERT INTO orders (shop, gid, legacy_id, customer_gid, name, currency, total_price_minor, shopify_created_at, shopify_updated_at)
     SELECT $1, 'gid://shopify/Order/' || (i * 10 + k), (i * 10 + k)::text, 'gid://shopify/Customer/' || i, '#' || (i * 10 + k), 'USD', 1000,
            now() - make_interval(days => k * 30), now()
       FROM generate_series(1, $2::int) i, generate_series(1, 5) k`,
    [SHOP, CUSTOMERS],
  );
  await db.query(
    `INSERT INTO line_items (shop, gid, order_gid, product_gid, title, quantity, price_minor)
     SELECT o.shop, 'gid://shopify/LineItem/' || o.legacy_id || '-' || l, o.gid, 'gid://shopify/Product/' || (1 + (o.legacy_id::bigint * 7 + l) % 200), 'Item', 1, 500
       FROM orders o, generate_series(1, 2) l WHERE o.shop = $1`,
    [SHOP],
  );
  await db.query(`INSERT INTO customers (shop, gid, email, orders_count) VALUES ($1, 'gid://shopify/Customer/1', 'other@example.com', 1)`, [OTHER]);
}, 120_000);

afterAll(async () => {
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

describe("preview time limit", () => {
  it("(the query is honestly expensive: without a limit it runs far past it)", async () => {
    const parsed = parseSegment(EXPENSIVE);
    if (!parsed.ok) throw new Error(parsed.error.message);
    const { text, values } = compileSegmentFilter(parsed.ast, { customerAlias: "c", firstParamIndex: 2, now: new Date() });
    const started = performance.now();
    await getPool().query(`SELECT count(*) FROM customers c WHERE c.shop = $1 AND (${text})`, [SHOP, ...values]);
    const elapsed = performance.now() - started;
    // 5.8 s measured here (docs/segments.md, "Limits").
    expect(elapsed).toBeGreaterThan(TIMEOUT_MS * 3);
  }, 60_000);

  it("an expensive preview is cancelled by PostgreSQL at the limit and answered 'too expensive, simplify'", async () => {
    const started = performance.now();
    await expect(previewSegment(SHOP, EXPENSIVE)).rejects.toMatchObject({ kind: "too_expensive", message: PREVIEW_TOO_EXPENSIVE });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 1_500);
    // Cancelled on the server: nothing of it is left running.
    const { rows } = await getPool().query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE '%segment_li%'`);
    expect(rows).toEqual([]);
    // The cheap query still previews, and a slot was given back.
    await expect(previewSegment(SHOP, CHEAP)).resolves.toMatchObject({ ok: true, count: CUSTOMERS });
    expect(previewsInFlight(SHOP)).toBe(0);
  });

  it("the admin editor shows the message inline (no server error); the query stays as typed", async () => {
    const response = await previewForEditor({ shop: SHOP, query: EXPENSIVE });
    expect(response).toEqual({ query: EXPENSIVE, ok: false, errors: [], message: PREVIEW_TOO_EXPENSIVE });
  });

  it("the CLI preview exits 2 with the message on stderr", async () => {
    const cli = await runCli(["segments", "preview", "--shop", SHOP, "--query", EXPENSIVE], childProcessEnv());
    expect(cli.stdout).toBe("");
    expect(cli.stderr.trim()).toBe(PREVIEW_TOO_EXPENSIVE);
    expect(cli.code).toBe(2);
  });

  it("previewAll (the CLI's path) is bounded the same way", async () => {
    await expect(previewAll(SHOP, EXPENSIVE)).rejects.toMatchObject({ kind: "too_expensive" });
  });
});

describe("recompute time limit", () => {
  it("a recompute past the limit is cancelled and says so; the segment is not marked broken", async () => {
    // The create stores the definition, then its own recompute is cut by the limit and reported (the refresh retries it).
    await expect(createSegment({ shop: SHOP, name: "Expensive", query: EXPENSIVE })).rejects.toMatchObject({ kind: "too_expensive", message: RECOMPUTE_TOO_EXPENSIVE });
    const segment = (await getSegment(SHOP, "Expensive"))!;
    expect(segment).toMatchObject({ broken: false, lastRefreshedAt: null });
    const started = performance.now();
    await expect(recomputeSegment(SHOP, segment.id)).rejects.toMatchObject({ kind: "too_expensive", message: RECOMPUTE_TOO_EXPENSIVE });
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS * 2 + 1_500);
    expect((await getSegment(SHOP, segment.id))!.broken).toBe(false);
  });
});

describe("concurrent previews per shop", () => {
  it("at most two previews of a shop run at once; a third waits for a slot", async () => {
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, previewsInFlight(SHOP))), 5);
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => previewSegment(SHOP, EXPENSIVE)));
    clearInterval(watch);
    expect(peak).toBe(2);
    // Each waited for a slot and then ran into the time limit; none was refused as busy.
    expect(results.map((r) => (r.status === "rejected" ? (r.reason as { kind: string }).kind : "ok"))).toEqual(["too_expensive", "too_expensive", "too_expensive", "too_expensive"]);
    expect(previewsInFlight(SHOP)).toBe(0);
  });

  it("with both slots held, a further preview is refused as busy after a short wait; other shops are not affected", async () => {
    const a = await acquirePreviewSlot(SHOP);
    const b = await acquirePreviewSlot(SHOP);
    expect(a && b).toBeTruthy();
    try {
      const started = performance.now();
      await expect(previewSegment(SHOP, CHEAP)).rejects.toMatchObject({ kind: "busy", message: PREVIEW_BUSY });
      expect(performance.now() - started).toBeGreaterThanOrEqual(900);
      expect(await previewForEditor({ shop: SHOP, query: CHEAP })).toMatchObject({ ok: false, errors: [], message: PREVIEW_BUSY });
      await expect(previewSegment(OTHER, CHEAP)).resolves.toMatchObject({ ok: true, count: 1 });
      // A slot given back in time lets the waiting preview run.
      const waiting = previewSegment(SHOP, CHEAP);
      setTimeout(() => a!(), 100);
      await expect(waiting).resolves.toMatchObject({ ok: true, count: CUSTOMERS });
    } finally {
      a!();
      b!();
    }
    expect(previewsInFlight(SHOP)).toBe(0);
  });
});
