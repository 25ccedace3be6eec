// Clusters and product affinity (issue 15, decision 059): the refit stores the shop's clusters
// and every customer's cluster; a new customer's first order is assigned the nearest cluster in
// the worker's apply step; affinity numbers hand-checked on a small store; the CLI contract
// (`analytics clusters`, `analytics affinity`, `analytics customer`'s cluster).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { assignNewCustomersToClusters, listAffinity, listClusters, refitAffinity, refitClusters } from "../../app/services/analytics/clusters.server";
import { closeQueues } from "../../app/queues.server";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { orderPayload } from "../support/factories";
import { deliverAndSettle, runCli, startInProcessWorker } from "../support/pipeline";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let cliEnv: NodeJS.ProcessEnv;
let worker: ReturnType<typeof startInProcessWorker>;

const SHOP = "clusters.myshopify.com";
const AFFINITY_SHOP = "affinity.myshopify.com";
const DAY = 86_400_000;
const NOW = Date.now();
let orderSeq = 0;
let lineSeq = 0;

type Line = { product: number; priceCents: number; quantity?: number };
type OrderSeed = { customer: string; agoDays: number; lines: Line[]; discountCents?: number; refundedCents?: number; test?: boolean };

async function seedShop(shop: string) {
  await getPool().query(`INSERT INTO shops (domain, "ianaTimezone", "currencyCode") VALUES ($1, 'UTC', 'USD') ON CONFLICT DO NOTHING`, [shop]);
}
async function seedProducts(shop: string, products: Array<{ id: number; title: string; type: string }>) {
  await getPool().query(
    `INSERT INTO products (shop, gid, title, product_type) SELECT $1, 'gid://shopify/Product/' || id, t, ty FROM unnest($2::int[], $3::text[], $4::text[]) AS u(id, t, ty)`,
    [shop, products.map((p) => p.id), products.map((p) => p.title), products.map((p) => p.type)],
  );
}
async function seedCustomers(shop: string, gids: string[]) {
  await getPool().query(`INSERT INTO customers (shop, gid) SELECT $1, g FROM unnest($2::text[]) g`, [shop, gids]);
}
async function seedOrders(shop: string, orders: OrderSeed[]) {
  for (const o of orders) {
    const id = String(++orderSeq);
    const at = new Date(NOW - o.agoDays * DAY);
    const total = o.lines.reduce((s, l) => s + l.priceCents * (l.quantity ?? 1), 0) - (o.discountCents ?? 0);
    await getPool().query(
      `INSERT INTO orders (shop, gid, legacy_id, customer_gid, currency, total_price_minor, total_discounts_minor, refunded_minor, test, shopify_created_at, shopify_updated_at)
       VALUES ($1, 'gid://shopify/Order/' || $2, $2, $3, 'USD', $4, $5, $6, $7, $8, $8)`,
      [shop, id, o.customer, total, o.discountCents ?? 0, o.refundedCents ?? 0, o.test ?? false, at],
    );
    for (const l of o.lines) {
      const lid = String(++lineSeq);
      await getPool().query(
        `INSERT INTO line_items (shop, gid, order_gid, product_gid, title, quantity, price_minor) VALUES ($1, 'gid://shopify/LineItem/' || $2, 'gid://shopify/Order/' || $3, 'gid://shopify/Product/' || $4, 'line', $5, $6)`,
        [shop, lid, id, l.product, l.quantity ?? 1, l.priceCents],
      );
    }
  }
}

const SHOES = 7001;
const SOCKS = 7002;
const customer = (n: number) => `gid://shopify/Customer/${n}`;

beforeAll(async () => {
  env = await useIntegrationEnv();
  cliEnv = childProcessEnv();
  worker = startInProcessWorker();
  // Two kinds of buyers: 30 who buy shoes every 6 weeks (about $150 an order, no discounts)
  // and 30 who bought socks once ($12, with a discount), all within the last 2 months.
  await seedShop(SHOP);
  await seedProducts(SHOP, [
    { id: SHOES, title: "Trail Runner", type: "Shoes" },
    { id: SOCKS, title: "Crew Sock", type: "Socks" },
  ]);
  const shoeBuyers = Array.from({ length: 30 }, (_, i) => customer(1000 + i));
  const sockBuyers = Array.from({ length: 30 }, (_, i) => customer(2000 + i));
  await seedCustomers(SHOP, [...shoeBuyers, ...sockBuyers]);
  const orders: OrderSeed[] = [];
  shoeBuyers.forEach((c, i) => {
    for (let k = 0; k < 5; k++) orders.push({ customer: c, agoDays: 5 + (i % 7) + 42 * k, lines: [{ product: SHOES, priceCents: 14_000 + 100 * (i % 5) }] });
  });
  sockBuyers.forEach((c, i) => orders.push({ customer: c, agoDays: 3 + (i % 20), lines: [{ product: SOCKS, priceCents: 1_400 }], discountCents: 200 }));
  await seedOrders(SHOP, orders);
}, 120_000);

afterAll(async () => {
  await worker?.close();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

describe("clusters", () => {
  it("the refit stores k clusters chosen by the silhouette, described from their centroids, and assigns every customer", async () => {
    const report = await refitClusters({ shop: SHOP });
    expect(report.k).toBe(2);
    expect(report.customers).toBe(60);
    const clusters = await listClusters(SHOP);
    expect(clusters.map((c) => c.size).sort()).toEqual([30, 30]);
    const shoes = clusters.find((c) => c.description.includes("Shoes"))!;
    const socks = clusters.find((c) => c.description.includes("Socks"))!;
    expect(shoes.description).toBe("spend high, order every 6 weeks, mostly Shoes, rarely use discounts");
    expect(socks.description).toBe("spend low, mostly one order, mostly Socks, often use discounts");
    // Value: the members' mean net spend (shoe buyers: 5 orders of 140..144 dollars).
    expect(shoes.meanValue).toBeCloseTo((5 * (140 + 141 + 142 + 143 + 144)) / 5, 6);
    expect(socks.meanValue).toBe(12);
    expect(shoes.totalValue).toBeCloseTo(shoes.meanValue * 30, 6);
    const members = await getPool().query<{ cluster_id: string; n: string; source: string }>(
      `SELECT cluster_id::text, source, count(*) AS n FROM customer_clusters WHERE shop = $1 GROUP BY 1, 2 ORDER BY 1`,
      [SHOP],
    );
    expect(members.rows.map((r) => [r.cluster_id, r.source, Number(r.n)]).sort()).toEqual(
      [[shoes.id, "refit", 30], [socks.id, "refit", 30]].sort(),
    );
    const own = await getPool().query<{ cluster_id: string }>(
      `SELECT cc.cluster_id::text FROM customer_clusters cc JOIN customers c ON c.id = cc.customer_id WHERE c.shop = $1 AND c.gid = $2`,
      [SHOP, customer(1003)],
    );
    expect(own.rows[0]!.cluster_id).toBe(shoes.id);

    // The apply step's SQL nearest centroid agrees with the refit's (TS) for every customer.
    const before = await getPool().query<{ gid: string; cluster_id: string }>(
      `SELECT c.gid, cc.cluster_id::text FROM customer_clusters cc JOIN customers c ON c.id = cc.customer_id WHERE cc.shop = $1 ORDER BY c.gid`,
      [SHOP],
    );
    await getPool().query(`DELETE FROM customer_clusters WHERE shop = $1`, [SHOP]);
    const again = await assignNewCustomersToClusters(getPool(), SHOP, before.rows.map((r) => r.gid), new Date(NOW));
    expect(again.assigned).toBe(60);
    const after = await getPool().query<{ gid: string; cluster_id: string }>(
      `SELECT c.gid, cc.cluster_id::text FROM customer_clusters cc JOIN customers c ON c.id = cc.customer_id WHERE cc.shop = $1 ORDER BY c.gid`,
      [SHOP],
    );
    expect(after.rows).toEqual(before.rows);
    await getPool().query(`UPDATE customer_clusters SET source = 'refit' WHERE shop = $1`, [SHOP]);
  });

  it("a new customer's first order is assigned the nearest cluster in the apply step; a second order leaves it", async () => {
    const clusters = await listClusters(SHOP);
    const shoes = clusters.find((c) => c.description.includes("Shoes"))!;
    const socks = clusters.find((c) => c.description.includes("Socks"))!;
    const place = async (customerId: bigint, orderId: bigint, product: number, price: string) =>
      deliverAndSettle(
        "orders/create",
        orderPayload({
          id: orderId,
          customer: { id: customerId, email: `c${customerId}@example.com` },
          totalPrice: price,
          createdAt: new Date(NOW - 60_000).toISOString(),
          lines: [{ productId: BigInt(product), price, title: "x" }],
        }),
        { shop: SHOP },
      );
    await place(5001n, 990001n, SHOES, "150.00");
    await place(5002n, 990002n, SOCKS, "12.00");
    const assigned = await getPool().query<{ gid: string; cluster_id: string; source: string }>(
      `SELECT c.gid, cc.cluster_id::text, cc.source FROM customer_clusters cc JOIN customers c ON c.id = cc.customer_id
        WHERE c.shop = $1 AND c.gid = ANY($2::text[]) ORDER BY c.gid`,
      [SHOP, [customer(5001), customer(5002)]],
    );
    expect(assigned.rows.map((r) => [r.gid, r.cluster_id, r.source])).toEqual([
      [customer(5001), shoes.id, "first_order"],
      [customer(5002), socks.id, "first_order"],
    ]);
    // A second order (socks, for the shoe buyer) does not move the customer before the next refit.
    await place(5001n, 990003n, SOCKS, "12.00");
    const after = await getPool().query<{ cluster_id: string }>(
      `SELECT cc.cluster_id::text FROM customer_clusters cc JOIN customers c ON c.id = cc.customer_id WHERE c.shop = $1 AND c.gid = $2`,
      [SHOP, customer(5001)],
    );
    expect(after.rows[0]!.cluster_id).toBe(shoes.id);

    // The CLI: `analytics customer` names the cluster, `analytics clusters` prints one JSON per cluster.
    const one = await runCli(["analytics", "customer", "--shop", SHOP, "--customer", "5002"], cliEnv);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout).cluster).toEqual({ id: socks.id, number: socks.number, description: socks.description });
    const all = await runCli(["analytics", "clusters", "--shop", SHOP], cliEnv);
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id).sort()).toEqual([shoes.id, socks.id].sort());
    expect(Object.keys(lines[0].centroid)).toEqual(["log_recency_days", "log_orders", "log_net_major", "share_Shoes", "share_Socks", "discount_rate", "refund_rate"]);
  }, 60_000);
});

describe("product affinity", () => {
  it("support, confidence and lift of products and product types, hand-checked", async () => {
    await seedShop(AFFINITY_SHOP);
    const [A, B, C, D] = [8001, 8002, 8003, 8004];
    await seedProducts(AFFINITY_SHOP, [
      { id: A, title: "Runner", type: "Shoes" },
      { id: B, title: "Boot", type: "Shoes" },
      { id: C, title: "Sock", type: "Socks" },
      { id: D, title: "Cap", type: "Hats" },
    ]);
    const c = (n: number) => customer(9000 + n);
    await seedCustomers(AFFINITY_SHOP, [1, 2, 3, 4, 5, 6, 7, 8].map(c));
    const line = (product: number) => ({ product, priceCents: 1_000 });
    await seedOrders(AFFINITY_SHOP, [
      { customer: c(1), agoDays: 10, lines: [line(A), line(B)] },
      { customer: c(1), agoDays: 5, lines: [line(A)] }, // a product bought again counts once
      { customer: c(2), agoDays: 10, lines: [line(A)] },
      { customer: c(2), agoDays: 4, lines: [line(B)] }, // pairs across orders count
      { customer: c(3), agoDays: 10, lines: [line(A), line(C)] },
      { customer: c(4), agoDays: 10, lines: [line(B), line(C)] },
      { customer: c(5), agoDays: 10, lines: [line(D)] },
      { customer: c(5), agoDays: 9, lines: [line(A), line(D)], test: true }, // test orders count for nothing
      { customer: c(6), agoDays: 10, lines: [line(A), line(B), line(C)] },
      { customer: c(7), agoDays: 10, lines: [line(C), line(D)] },
      { customer: c(8), agoDays: 10, lines: [line(C), line(D)] },
    ]);
    // Customers: 8. Bought A: 1,2,3,6 (4). B: 1,2,4,6 (4). C: 3,4,6,7,8 (5). D: 5,7,8 (3).
    // A&B: 1,2,6 (3). A&C: 3,6 (2). B&C: 4,6 (2). C&D: 7,8 (2). A&D: none (the test order).
    const counts = await refitAffinity({ shop: AFFINITY_SHOP });
    expect(counts.product).toBe(8); // A-B, A-C, B-C, C-D both ways
    const gid = (n: number) => `gid://shopify/Product/${n}`;
    const ofA = await listAffinity(AFFINITY_SHOP, { product: gid(A) });
    expect(ofA.map((p) => [p.otherTitle, p.bothCustomers, p.support, p.confidence, p.lift, p.rank])).toEqual([
      ["Boot", 3, 0.375, 0.75, 1.5, 1], // lift = 0.75 / (4/8)
      ["Sock", 2, 0.25, 0.5, 0.8, 2], // lift = 0.5 / (5/8)
    ]);
    expect(ofA[0]!.text).toBe("customers who bought Runner also bought Boot, lift 1.5 (1.5 times more often than average)");
    const all = await listAffinity(AFFINITY_SHOP);
    const dc = all.find((p) => p.kind === "product" && p.item === gid(D))!;
    expect([dc.other, dc.confidence, dc.lift]).toEqual([gid(C), 0.6667, 1.067]); // (2/3) / (5/8)
    // Types: Shoes 1,2,3,4,6 (5), Socks 3,4,6,7,8 (5), Hats 5,7,8 (3). Shoes&Socks 3,4,6 (3), Socks&Hats 7,8 (2).
    const types = all.filter((p) => p.kind === "product_type").map((p) => [p.item, p.other, p.bothCustomers, p.lift]);
    expect(types).toEqual([
      ["hats", "socks", 2, 1.067], // 2*8 / (3*5)
      ["shoes", "socks", 3, 0.96], // 3*8 / (5*5)
      ["socks", "hats", 2, 1.067],
      ["socks", "shoes", 3, 0.96],
    ]);

    // The CLI, by numeric id.
    const out = await runCli(["analytics", "affinity", "--shop", AFFINITY_SHOP, "--product", String(A)], cliEnv);
    expect(out.code).toBe(0);
    expect(out.stdout.trim().split("\n").map((l) => JSON.parse(l).other)).toEqual([gid(B), gid(C)]);
  });
});
