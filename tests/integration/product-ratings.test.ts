// Product ratings back to Shopify (issue 12; decision 037) against the Shopify twin (behind the
// recording proxy of the tag sync tests) and real PostgreSQL: answers with star ratings mark
// their products in the product_rating_writes outbox (in the answer's transaction), the writer
// enables the standard definitions once per shop and writes reviews.rating (average, one
// decimal) and reviews.rating_count with metafieldsSet, paced on the cost bucket; edits move
// the values, erasure leaves the anonymous counts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeDb, getPool, withTransaction } from "../../app/db.server";
import { submitAnswer } from "../../app/services/feedback/answers.server";
import { signFeedbackToken } from "../../app/services/feedback/links.server";
import { eraseCustomerFeedback } from "../../app/services/feedback/privacy.server";
import { setFeedbackRules } from "../../app/services/feedback/rules.server";
import { drainProductRatings, type RatingsDrainReport } from "../../app/services/product-ratings/writer.server";
import { closeQueues, closeProductRatingsQueue } from "../../app/queues.server";
import { useIntegrationEnv } from "../support/env";
import type { AdminTwin } from "../twin/admin-graphql";
import { loadRealSchema } from "../twin/schema-subset";
import { SHARED_PRESENT, SKIP_REASON } from "../contract/conformance";
import { coerceLoggedVariables } from "../contract/variables-coerce";
import { startTwinForShop, storeOfflineSession, type TwinProxy } from "./tag-sync.support";

const SHOP = "product-ratings.myshopify.com";
const REQUEST_LOG = join(mkdtempSync(join(tmpdir(), "product-ratings-")), "admin-requests.jsonl");

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let twin: AdminTwin;
let proxy: TwinProxy;
let products: string[];
let ruleId: string;
let orderSeq = 0;

beforeAll(async () => {
  ({ twin, proxy } = await startTwinForShop(SHOP, 1_500, { requestLog: REQUEST_LOG }));
  products = twin.shop(SHOP).sortedIds("products").map((id) => `gid://shopify/Product/${id}`);
  expect(products.length).toBeGreaterThanOrEqual(55);
  env = await useIntegrationEnv({ SHOPIFY_TWIN_URL: proxy.url });
  await storeOfflineSession(SHOP);
  await setFeedbackRules(SHOP, { rules: [{ name: "now", trigger: "order_paid", delayDays: 0 }] });
  const { rows } = await getPool().query<{ id: string }>(`SELECT id::text AS id FROM feedback_rules WHERE shop = $1`, [SHOP]);
  ruleId = rows[0]!.id;
});

afterAll(async () => {
  expect(proxy?.errors ?? []).toEqual([]);
  await proxy?.close();
  await twin?.close();
  await closeProductRatingsQueue();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

beforeEach(() => {
  twin.setBucket({ maximumAvailable: 2_000, restoreRate: 1_000 });
});

/** A sent request for an order of `productGids`; returns its link token and the form's product order. */
async function sentRequest(customerGid: string, productGids: string[]) {
  const order = `gid://shopify/Order/${880000 + ++orderSeq}`;
  await getPool().query(
    `INSERT INTO line_items (shop, gid, order_gid, product_gid, title, quantity, price_minor)
     SELECT $1, 'gid://shopify/LineItem/' || $4::text || '-' || n, $2, p, 'Product ' || n, 1, 1000 FROM unnest($3::text[]) WITH ORDINALITY AS u(p, n)`,
    [SHOP, order, productGids, orderSeq],
  );
  const expires = new Date(Date.now() + 30 * 86_400_000);
  const { rows } = await getPool().query<{ id: string }>(
    `INSERT INTO feedback_requests (shop, rule_id, order_gid, customer_gid, status, triggered_at, send_at, sent_at, link_expires_at)
     VALUES ($1, $2, $3, $4, 'sent', now(), now(), now(), $5) RETURNING id::text AS id`,
    [SHOP, ruleId, order, customerGid, expires],
  );
  // The form lists the order's products in this order (answers.server.ts requestProducts).
  const { rows: form } = await getPool().query<{ product_gid: string }>(
    `SELECT DISTINCT ON (product_gid) product_gid FROM line_items WHERE shop = $1 AND order_gid = $2 ORDER BY product_gid, gid`,
    [SHOP, order],
  );
  return { token: signFeedbackToken({ shop: SHOP, requestId: rows[0]!.id, expiresAt: expires }), form: form.map((r) => r.product_gid) };
}

/** Answers (or edits) with stars per product gid (a product left out is not rated). */
async function answer(req: { token: string; form: string[] }, stars: Record<string, number>, nps = "9") {
  const fields: Record<string, string> = { nps };
  req.form.forEach((gid, i) => {
    if (stars[gid] !== undefined) fields[`rating-${i}`] = String(stars[gid]);
  });
  expect(await submitAnswer(req.token, fields)).toMatchObject({ ok: true });
}

async function drainAll(options = {}): Promise<RatingsDrainReport[]> {
  const reports: RatingsDrainReport[] = [];
  for (let i = 0; i < 20; i++) {
    reports.push(await drainProductRatings(SHOP, options));
    const { rows } = await getPool().query<{ n: number }>(`SELECT count(*)::int AS n FROM product_rating_writes WHERE shop = $1 AND status IN ('pending', 'in_flight')`, [SHOP]);
    if (rows[0]!.n === 0) return reports;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("product rating writes still open");
}

function published(gid: string): { rating: { value: string; scale_min: string; scale_max: string } | null; count: number | null; type: string | null } {
  const out = twin.executeRequest(
    SHOP,
    { query: `query($id: ID!) { product(id: $id) { r: metafield(namespace: "reviews", key: "rating") { value type } c: metafield(namespace: "reviews", key: "rating_count") { value type } } }`, variables: { id: gid } },
    { chargeCost: false },
  ) as { data: { product: { r: { value: string; type: string } | null; c: { value: string; type: string } | null } } };
  const p = out.data.product;
  expect(p.c?.type ?? "number_integer").toBe("number_integer");
  return { rating: p.r ? JSON.parse(p.r.value) : null, count: p.c ? Number(p.c.value) : null, type: p.r?.type ?? null };
}

const ops = (name: string) => proxy.operations.get(name) ?? 0;
const sum = (reports: RatingsDrainReport[], f: (r: RatingsDrainReport) => number) => reports.reduce((n, r) => n + f(r), 0);
const pendingRows = async () =>
  (await getPool().query<{ product_gid: string; n: number }>(`SELECT product_gid, count(*)::int AS n FROM product_rating_writes WHERE shop = $1 AND status = 'pending' GROUP BY product_gid`, [SHOP])).rows;

describe("product ratings to Shopify's review metafields", () => {
  it("answers mark their products once (coalesced); the writer enables the definitions once and publishes average (one decimal) and count", async () => {
    const [a, b] = [products[0]!, products[1]!];
    await answer(await sentRequest("gid://shopify/Customer/1", [a, b]), { [a]: 5, [b]: 2 });
    await answer(await sentRequest("gid://shopify/Customer/2", [a]), { [a]: 4 });
    await answer(await sentRequest("gid://shopify/Customer/3", [a, b]), { [a]: 4 }); // b not rated
    // One pending row per product however many answers touched it.
    expect((await pendingRows()).sort((x, y) => x.product_gid.localeCompare(y.product_gid))).toEqual([a, b].sort().map((g) => ({ product_gid: g, n: 1 })));

    const reports = await drainAll();
    expect(sum(reports, (r) => r.definitions.enabled)).toBe(2);
    expect(ops("ProductRatingsDefinitionEnable")).toBe(2);
    expect(ops("ProductRatingsMetafieldsSet")).toBe(1); // both products in one call
    expect(published(a)).toEqual({ rating: { value: "4.3", scale_min: "1.0", scale_max: "5.0" }, count: 3, type: "rating" });
    expect(published(b)).toEqual({ rating: { value: "2.0", scale_min: "1.0", scale_max: "5.0" }, count: 1, type: "rating" });
    const defs = twin.shop(SHOP).metafieldDefinitions;
    expect([...defs.values()].map((d) => `${d.ownerType} ${d.namespace}.${d.key} ${d.type}`).sort()).toEqual(["PRODUCT reviews.rating rating", "PRODUCT reviews.rating_count number_integer"]);
    const { rows } = await getPool().query(`SELECT namespace, key, status FROM shop_metafield_definitions WHERE shop = $1 ORDER BY key`, [SHOP]);
    expect(rows).toEqual([
      { namespace: "reviews", key: "rating", status: "enabled" },
      { namespace: "reviews", key: "rating_count", status: "enabled" },
    ]);
    const { rows: done } = await getPool().query(`SELECT product_gid, status, rating, rating_count, attempts FROM product_rating_writes WHERE shop = $1 ORDER BY product_gid`, [SHOP]);
    expect(done).toEqual(
      [
        { product_gid: a, status: "done", rating: "4.3", rating_count: 3, attempts: 1 },
        { product_gid: b, status: "done", rating: "2.0", rating_count: 1, attempts: 1 },
      ].sort((x, y) => x.product_gid.localeCompare(y.product_gid)),
    );
  });

  it("an edit moves the published values, a rating taken back leaves the product's count; the definitions are not enabled again", async () => {
    const c = products[2]!;
    const first = await sentRequest("gid://shopify/Customer/4", [c]);
    const second = await sentRequest("gid://shopify/Customer/5", [c]);
    await answer(first, { [c]: 5 });
    await answer(second, { [c]: 4 });
    await drainAll();
    expect(published(c)).toMatchObject({ rating: { value: "4.5" }, count: 2 });

    await answer(first, { [c]: 1 }); // edit: 5 -> 1
    expect(await pendingRows()).toEqual([{ product_gid: c, n: 1 }]);
    await drainAll();
    expect(published(c)).toMatchObject({ rating: { value: "2.5" }, count: 2 });

    await answer(second, {}, "7"); // the rating taken back
    await drainAll();
    expect(published(c)).toMatchObject({ rating: { value: "1.0" }, count: 1 });

    // Editing only the NPS changes no rating: nothing is queued.
    await answer(first, { [c]: 1 }, "3");
    expect(await pendingRows()).toEqual([]);
    expect(ops("ProductRatingsDefinitionEnable")).toBe(2);
  });

  it("erasing a customer keeps the anonymous stars: the published average and count do not move", async () => {
    const d = products[3]!;
    await answer(await sentRequest("gid://shopify/Customer/6", [d]), { [d]: 3 });
    await answer(await sentRequest("gid://shopify/Customer/7", [d]), { [d]: 5 });
    await drainAll();
    expect(published(d)).toMatchObject({ rating: { value: "4.0" }, count: 2 });
    const before = ops("ProductRatingsMetafieldsSet");
    await withTransaction((db) => eraseCustomerFeedback(db, { shop: SHOP, customerGid: "gid://shopify/Customer/6", orderGids: [] }));
    expect(await pendingRows()).toEqual([{ product_gid: d, n: 1 }]);
    await drainAll();
    expect(ops("ProductRatingsMetafieldsSet")).toBe(before + 1);
    expect(published(d)).toMatchObject({ rating: { value: "4.0" }, count: 2 });
  });

  it("a product Shopify does not know is skipped; the others of the same call are still written", async () => {
    const ghost = "gid://shopify/Product/999999999";
    const e = products[4]!;
    await answer(await sentRequest("gid://shopify/Customer/8", [ghost, e]), { [ghost]: 5, [e]: 3 });
    const before = ops("ProductRatingsMetafieldsSet");
    await drainAll();
    expect(ops("ProductRatingsMetafieldsSet")).toBe(before + 2); // refused (atomic), then again without the ghost
    expect(published(e)).toMatchObject({ rating: { value: "3.0" }, count: 1 });
    const { rows } = await getPool().query(`SELECT status, outcome->>'reason' AS reason FROM product_rating_writes WHERE shop = $1 AND product_gid = $2`, [SHOP, ghost]);
    expect(rows).toEqual([{ status: "skipped", reason: "product_not_found" }]);
  });

  it("paces on the cost bucket: no THROTTLED from a small bucket, and takes as long as its restore rate needs", async () => {
    twin.setBucket({ maximumAvailable: 30, restoreRate: 10 });
    const rated = products.slice(5, 53);
    expect(rated).toHaveLength(48);
    for (let i = 0; i < 4; i++) {
      const chunk = rated.slice(i * 12, i * 12 + 12);
      await answer(await sentRequest(`gid://shopify/Customer/${20 + i}`, chunk), Object.fromEntries(chunk.map((g) => [g, 4])));
    }
    const throttledBefore = proxy.throttled;
    const callsBefore = ops("ProductRatingsMetafieldsSet");
    const started = Date.now();
    const reports = await drainAll();
    const seconds = (Date.now() - started) / 1000;
    expect(ops("ProductRatingsMetafieldsSet") - callsBefore).toBe(4); // 12 products (24 metafields) per call
    expect(proxy.throttled - throttledBefore).toBe(0);
    expect(sum(reports, (r) => r.throttled)).toBe(0);
    // 4 calls of at least 10 points from a bucket of 30 refilling 10/s: at least 1 s.
    const spent = sum(reports, (r) => r.costSpent);
    expect(spent).toBeGreaterThanOrEqual(40);
    expect(seconds).toBeGreaterThanOrEqual((spent - 30) / 10 - 0.2);
    for (const g of rated) expect(published(g)).toMatchObject({ rating: { value: "4.0" }, count: 1 });
  });

  it("re-sends after THROTTLED when the bucket allows, without counting an attempt", async () => {
    twin.setBucket({ maximumAvailable: 100, restoreRate: 20 });
    const f = products[53]!;
    await answer(await sentRequest("gid://shopify/Customer/30", [f]), { [f]: 2 });
    let out;
    do out = twin.executeRequest(SHOP, { query: "{ shop { name } }" });
    while (!out.errors?.some((e) => e.extensions?.code === "THROTTLED"));
    const reports = await drainAll();
    expect(sum(reports, (r) => r.throttled)).toBeGreaterThanOrEqual(1);
    const { rows } = await getPool().query(`SELECT status, attempts FROM product_rating_writes WHERE shop = $1 AND product_gid = $2`, [SHOP, f]);
    expect(rows).toEqual([{ status: "done", attempts: 1 }]);
    expect(published(f)).toMatchObject({ rating: { value: "2.0" }, count: 1 });
  });

  it("a crashed pass's in-flight rows are sent again by the next pass", async () => {
    const g = products[54]!;
    await answer(await sentRequest("gid://shopify/Customer/31", [g]), { [g]: 5 });
    await getPool().query(`UPDATE product_rating_writes SET status = 'in_flight', claimed_at = now() - interval '1 hour' WHERE shop = $1 AND product_gid = $2`, [SHOP, g]);
    const reports = await drainAll();
    expect(reports[0]!.released).toBe(1);
    expect(published(g)).toMatchObject({ rating: { value: "5.0" }, count: 1 });
  });
});

describe.skipIf(!SHARED_PRESENT)(`contract: what the app sent${SHARED_PRESENT ? "" : ` (skipped: ${SKIP_REASON})`}`, () => {
  it("every Admin request of this file has variables that coerce against the real Admin schema", () => {
    const report = coerceLoggedVariables(REQUEST_LOG, loadRealSchema());
    expect(report.errors).toEqual([]);
    expect(report.operations).toEqual(expect.arrayContaining(["ProductRatingsDefinitionEnable", "ProductRatingsMetafieldsSet"]));
  });
});
