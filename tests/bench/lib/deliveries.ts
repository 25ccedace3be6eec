// Deliveries for the benchmarks, built with the test factories (Shopify's 2026-07
// payload shape) and a seeded PRNG, so the load generator and the bench script build
// the same data independently. Money is kept in integer cents here and formatted for
// the payload; expected aggregates are plain arithmetic in minor units.
import { orderPayload, refundPayload, toBody, type OrderSpec } from "../../support/factories";
import { prng } from "./common";

export const BENCH_SHOP = "crm-bench.myshopify.com";

export const money = (cents: number): string => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;

const TITLES = ["Merino Crew Sock", "Alpaca Beanie", "Linen Shirt", "Canvas Tote", "Wool Scarf", "Rain Jacket", "Trail Runner"];
const BASE_TIME = Date.parse("2026-01-01T00:00:00Z");

export type OrderCreate = { orderId: bigint; customerId: bigint; totalCents: number; createdAt: string; body: string };

/**
 * A realistic orders/create body (2 to 4 line items, an embedded customer with its
 * default address: 3.5 to 4.7 KB). `index` picks the order id and time; `rand` picks
 * the customer, lines and prices.
 */
export function orderCreate(index: number, rand: () => number, opts: { customers: number; orderIdBase: number }): OrderCreate {
  const orderId = BigInt(opts.orderIdBase) + BigInt(index);
  const customerId = 7_000_000_000_000n + BigInt(Math.floor(rand() * opts.customers));
  const count = 2 + Math.floor(rand() * 3);
  const lines = [];
  let totalCents = 0;
  for (let l = 0; l < count; l++) {
    const cents = 500 + Math.floor(rand() * 20_000);
    const quantity = 1 + Math.floor(rand() * 3);
    totalCents += cents * quantity;
    lines.push({ id: orderId * 10n + BigInt(l), productId: 8_000_000_000_000n + BigInt(Math.floor(rand() * 500)), title: TITLES[l % TITLES.length], quantity, price: money(cents) });
  }
  const createdAt = new Date(BASE_TIME + index * 1_000).toISOString();
  const body = toBody(orderPayload({ id: orderId, customer: { id: customerId }, totalPrice: money(totalCents), createdAt, lines }));
  return { orderId, customerId, totalCents, createdAt, body };
}

// ---------------------------------------------------------------------------------
// The correctness scenario: orders with updates, refunds, cancellations and test
// orders; 10% duplicate deliveries and 5% of orders delivered out of order.

export type ScenarioDelivery = { topic: string; webhookId: string; position: number; body: () => string };

export type ExpectedCustomer = {
  ordersCount: number;
  totalSpentCents: number;
  refundedCents: number;
  firstOrderAt: number | null;
  lastOrderAt: number | null;
};

export type Scenario = {
  deliveries: ScenarioDelivery[];
  expected: Map<string, ExpectedCustomer>;
  stats: Record<string, number>;
};

type Version = { topic: string; updatedAt: number; totalCents: number; lineCents: number[]; cancelled: boolean; refundsUpTo: number };

/**
 * Builds `total` deliveries (10% of them re-sends of an earlier delivery with the same
 * webhook id) from a seed. Per order, in Shopify's order of events: orders/create; 40%
 * an orders/updated that changes the total; 15% a refunds/create (half followed by an
 * orders/updated embedding the refund); 8% orders/cancelled; 2% are test orders. 5% of
 * the orders are delivered out of order: half send orders/updated before orders/create,
 * half send a newer orders/updated before an older one.
 */
export function buildScenario(seed: number, total: number): Scenario {
  const rand = prng(seed);
  const uniqueTarget = total - Math.round(total * 0.1);
  const customers = Math.max(10, Math.round(uniqueTarget / 12));
  const deliveries: ScenarioDelivery[] = [];
  const expected = new Map<string, ExpectedCustomer>();
  const stats: Record<string, number> = { orders: 0, customers: 0, updates: 0, refunds: 0, cancelled: 0, test: 0, reorderedCreate: 0, reorderedUpdates: 0, duplicates: 0 };
  const span = uniqueTarget;
  let sequence = 0;
  const webhookId = () => `bench-${seed}-${++sequence}`;

  for (let index = 0; deliveries.length < uniqueTarget; index++) {
    const orderId = 9_100_000_000_000n + BigInt(index);
    const customerId = 7_100_000_000_000n + BigInt(Math.floor(rand() * customers));
    const createdAt = BASE_TIME + index * 60_000 + Math.floor(rand() * 59_000);
    const test = rand() < 0.02;
    const lineCount = 1 + Math.floor(rand() * 3);
    const lineCents = Array.from({ length: lineCount }, () => 100 + Math.floor(rand() * 15_000));
    const reorder = rand() < 0.05 ? (rand() < 0.5 ? "create" : "updates") : null;
    const hasUpdate = reorder !== null || rand() < 0.4;
    const hasRefund = rand() < 0.15;
    const refundedUpdate = hasRefund && rand() < 0.5;
    const cancelled = rand() < 0.08;

    const versions: Version[] = [];
    const sum = (cents: number[]) => cents.reduce((a, b) => a + b, 0);
    versions.push({ topic: "orders/create", updatedAt: createdAt, totalCents: sum(lineCents), lineCents, cancelled: false, refundsUpTo: 0 });
    let current = lineCents;
    if (hasUpdate) {
      const updates = reorder === "updates" ? 2 : 1;
      for (let u = 1; u <= updates; u++) {
        current = current.map((c, i) => (i === 0 ? c + 100 * u + Math.floor(rand() * 500) : c)); // an order edit: new price
        versions.push({ topic: "orders/updated", updatedAt: createdAt + u * 3_600_000, totalCents: sum(current), lineCents: current, cancelled: false, refundsUpTo: 0 });
      }
    }
    const refunds: { id: bigint; cents: number; at: number }[] = [];
    const latestTotal = () => versions[versions.length - 1]!.totalCents;
    if (hasRefund) {
      const at = createdAt + 3 * 3_600_000;
      refunds.push({ id: 9_200_000_000_000n + BigInt(index), cents: 1 + Math.floor(rand() * Math.max(1, latestTotal() - 1)), at });
      if (refundedUpdate) versions.push({ topic: "orders/updated", updatedAt: at + 1_000, totalCents: latestTotal(), lineCents: current, cancelled: false, refundsUpTo: 1 });
    }
    if (cancelled) versions.push({ topic: "orders/cancelled", updatedAt: createdAt + 4 * 3_600_000, totalCents: latestTotal(), lineCents: current, cancelled: true, refundsUpTo: refunds.length });

    const customer = { id: customerId };
    const orderBody = (v: Version) => () => {
      const spec: OrderSpec = {
        id: orderId,
        customer,
        totalPrice: money(v.totalCents),
        createdAt: new Date(createdAt).toISOString(),
        updatedAt: new Date(v.updatedAt).toISOString(),
        cancelledAt: v.cancelled ? new Date(v.updatedAt).toISOString() : null,
        test,
        financialStatus: v.refundsUpTo > 0 ? "partially_refunded" : "paid",
        lines: v.lineCents.map((c, i) => ({ id: orderId * 10n + BigInt(i), price: money(c), title: TITLES[i % TITLES.length] })),
        refunds: refunds.slice(0, v.refundsUpTo).map((r) => ({ id: r.id, orderId, amount: money(r.cents), createdAt: new Date(r.at).toISOString() })),
      };
      return toBody(orderPayload(spec));
    };

    // Shopify's order of events for this order, then the deliberate reordering.
    type Item = { topic: string; body: () => string; at: number };
    const items: Item[] = versions.map((v) => ({ topic: v.topic, body: orderBody(v), at: v.updatedAt }));
    for (const r of refunds) {
      items.push({ topic: "refunds/create", at: r.at, body: () => toBody(refundPayload({ id: r.id, orderId, amount: money(r.cents), createdAt: new Date(r.at).toISOString() })) });
    }
    items.sort((a, b) => a.at - b.at);
    if (reorder === "create") {
      [items[0], items[1]] = [items[1]!, items[0]!];
      stats.reorderedCreate! += 1;
    } else if (reorder === "updates") {
      [items[1], items[2]] = [items[2]!, items[1]!];
      stats.reorderedUpdates! += 1;
    }
    let position = rand() * span;
    for (const item of items) {
      deliveries.push({ topic: item.topic, webhookId: webhookId(), position, body: item.body });
      position += 1 + rand() * 300;
    }

    stats.orders! += 1;
    stats.updates! += versions.filter((v) => v.topic === "orders/updated").length;
    stats.refunds! += refunds.length;
    stats.cancelled! += cancelled ? 1 : 0;
    stats.test! += test ? 1 : 0;

    // Expected state, independently: the version with the newest updated_at wins;
    // refunds are counted once each; cancelled and test orders do not count.
    const final = versions.reduce((a, b) => (b.updatedAt > a.updatedAt ? b : a));
    const key = `gid://shopify/Customer/${customerId}`;
    let e = expected.get(key);
    if (!e) {
      e = { ordersCount: 0, totalSpentCents: 0, refundedCents: 0, firstOrderAt: null, lastOrderAt: null };
      expected.set(key, e);
    }
    if (!final.cancelled && !test) {
      const refunded = refunds.reduce((a, r) => a + r.cents, 0);
      e.ordersCount += 1;
      e.totalSpentCents += final.totalCents - refunded;
      e.refundedCents += refunded;
      e.firstOrderAt = e.firstOrderAt === null ? createdAt : Math.min(e.firstOrderAt, createdAt);
      e.lastOrderAt = e.lastOrderAt === null ? createdAt : Math.max(e.lastOrderAt, createdAt);
    }
  }

  // Re-sends: the same delivery (same webhook id and body) again, half of them soon
  // after the original (in flight at the same time), half much later.
  const originals = deliveries.length;
  for (let d = 0; d < total - originals; d++) {
    const original = deliveries[Math.floor(rand() * originals)]!;
    const later = rand() < 0.5 ? 0.5 + rand() * 20 : 100 + rand() * 5_000;
    deliveries.push({ ...original, position: original.position + later });
    stats.duplicates! += 1;
  }
  deliveries.sort((a, b) => a.position - b.position);
  stats.customers = expected.size;
  stats.deliveries = deliveries.length;
  return { deliveries, expected, stats };
}
