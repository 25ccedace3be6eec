// Differential test of the batched apply: random streams of CRM events (orders created,
// updated, moved between customers, cancelled, with refunds arriving before or after
// their order; customer updates; tags; consent; products; duplicates and reordering; and
// in some streams deletions, redactions and data requests) are applied to one shop event
// by event, each alone in its own transaction (the reference: a batch of one), and to
// another shop in random batches; the two shops' CRM rows must be equal. applyCrmBatch is
// the only write path (decision 042): what this checks is that a batch's reductions
// (newest order version, customer rounds, runs between barriers) equal applying in order.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool, withTransaction } from "../../app/db.server";
import type { CrmEvent, CustomerInput, OrderInput, RefundInput } from "../../app/domain/crm-events";
import { applyCrmBatch } from "../../app/services/apply-crm-batch.server";
import { ensureShop } from "../../app/services/crm-store.server";
import { closeQueues } from "../../app/queues.server";
import { Rng } from "../twin/prng";
import { useIntegrationEnv } from "../support/env";

const prng = (seed: number) => {
  const rng = new Rng(seed);
  return () => rng.next();
};

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;

beforeAll(async () => {
  env = await useIntegrationEnv();
});

afterAll(async () => {
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

const day = (n: number, minute = 0) => new Date(Date.UTC(2026, 0, 1 + n, 10, minute));

function customer(id: number, version: number, random: () => number): CustomerInput {
  const country = ["US", "DE", "FR", "CA"][Math.floor(random() * 4)]!;
  const address = { countryCode: country, province: null, city: `City ${version}`, zip: null, address1: `${id} Main St`, address2: null, isDefault: true };
  return {
    gid: `gid://shopify/Customer/${id}`,
    email: `c${id}.v${version}@example.com`,
    firstName: `First${version}`,
    lastName: `Last${id}`,
    phone: null,
    state: random() < 0.9 ? "enabled" : "disabled",
    note: random() < 0.2 ? `note ${version}` : null,
    verifiedEmail: random() < 0.8,
    currency: "USD",
    addresses: random() < 0.5 ? [address, { ...address, isDefault: false, city: `Second ${version}` }] : [address],
    defaultAddress: address,
    createdAt: day(0),
    updatedAt: day(version, Math.floor(random() * 60)),
  };
}

type OrderState = { id: number; customerId: number; version: number; refunds: RefundInput[]; cancelled: boolean; test: boolean };

function order(state: OrderState, random: () => number): OrderInput {
  const lines = 1 + Math.floor(random() * 3);
  const lineItems = Array.from({ length: lines }, (_, i) => ({
    gid: `gid://shopify/LineItem/${state.id * 10 + i + (random() < 0.1 ? 5 : 0)}`,
    productGid: `gid://shopify/Product/${1 + Math.floor(random() * 5)}`,
    variantGid: null,
    title: `Item ${i}`,
    variantTitle: null,
    sku: null,
    vendor: "Acme",
    quantity: 1 + Math.floor(random() * 3),
    priceMinor: BigInt(500 + Math.floor(random() * 5000)),
    totalDiscountMinor: 0n,
    giftCard: false,
  }));
  const total = lineItems.reduce((sum, li) => sum + li.priceMinor * BigInt(li.quantity), 0n);
  return {
    gid: `gid://shopify/Order/${state.id}`,
    legacyId: String(state.id),
    customer: state.customerId ? customer(state.customerId, state.version, random) : null,
    name: `#${state.id}`,
    email: state.customerId ? `c${state.customerId}@example.com` : null,
    currency: "USD",
    presentmentCurrency: "USD",
    totalPriceMinor: total,
    subtotalMinor: total,
    totalTaxMinor: 0n,
    totalDiscountsMinor: 0n,
    shippingMinor: 0n,
    financialStatus: state.refunds.length > 0 ? "partially_refunded" : "paid",
    fulfillmentStatus: null,
    cancelledAt: state.cancelled ? day(state.version) : null,
    cancelReason: state.cancelled ? "customer" : null,
    test: state.test,
    sourceName: "web",
    tags: state.version % 2 ? ["a"] : ["a", "b"],
    discountCodes: [],
    createdAt: day(state.id % 20),
    updatedAt: day(state.version, state.id % 60),
    processedAt: day(state.id % 20),
    closedAt: null,
    lineItems,
    refunds: [...state.refunds],
  };
}

/** A stream of events with Shopify's delivery habits: duplicates and some reordering. */
function eventStream(seed: number, size: number, options: { barriers?: boolean } = {}): CrmEvent[] {
  const random = prng(seed);
  const customers = 1 + Math.floor(random() * 8);
  const pickCustomer = () => (random() < 0.1 ? 0 : 9000 + Math.floor(random() * customers));
  const orders: OrderState[] = [];
  const events: CrmEvent[] = [];
  let nextRefund = 1;
  while (events.length < size) {
    const r = random();
    if (r < 0.3 || orders.length === 0) {
      const state: OrderState = { id: 70_000 + orders.length, customerId: pickCustomer(), version: 1, refunds: [], cancelled: false, test: random() < 0.05 };
      orders.push(state);
      events.push({ kind: "order", order: order(state, random) });
    } else if (r < 0.5) {
      const state = orders[Math.floor(random() * orders.length)]!;
      state.version += 1;
      if (random() < 0.2) state.customerId = pickCustomer(); // moved to another customer
      if (random() < 0.1) state.cancelled = true;
      events.push({ kind: "order", order: order(state, random) });
    } else if (r < 0.62) {
      const state = orders[Math.floor(random() * orders.length)]!;
      const refund: RefundInput = {
        gid: `gid://shopify/Refund/${nextRefund}`,
        legacyId: String(nextRefund),
        orderLegacyId: String(state.id),
        amountMinor: BigInt(100 + Math.floor(random() * 900)),
        currency: "USD",
        note: null,
        lines: [],
        refundedAt: day(state.version + 1),
      };
      nextRefund += 1;
      state.refunds.push(refund);
      // A refund arrives as refunds/create, and with the next orders/updated.
      events.push({ kind: "refund", refund });
    } else if (r < 0.75) {
      const id = 9000 + Math.floor(random() * customers);
      events.push({ kind: "customer", customer: customer(id, 1 + Math.floor(random() * 6), random) });
    } else if (r < 0.83) {
      const id = 9000 + Math.floor(random() * customers);
      events.push({ kind: "customer_tags", customerGid: `gid://shopify/Customer/${id}`, tags: random() < 0.5 ? ["vip"] : ["vip", "wholesale"], present: random() < 0.7, occurredAt: day(Math.floor(random() * 9), Math.floor(random() * 60)) });
    } else if (r < 0.9) {
      const id = 9000 + Math.floor(random() * customers);
      events.push({ kind: "email_consent", customerGid: `gid://shopify/Customer/${id}`, state: random() < 0.5 ? "SUBSCRIBED" : "UNSUBSCRIBED", optInLevel: "SINGLE_OPT_IN", consentUpdatedAt: day(Math.floor(random() * 9), Math.floor(random() * 60)) });
    } else if (options.barriers && r < 0.93) {
      // Events applied in delivery order, never reordered within a batch.
      const id = 9000 + Math.floor(random() * customers);
      const gid = `gid://shopify/Customer/${id}`;
      const theirs = orders.filter((o) => o.customerId === id).map((o) => String(o.id));
      const b = random();
      if (b < 0.4) events.push({ kind: "customer_deleted", customerGid: gid });
      else if (b < 0.7) events.push({ kind: "customer_redact", customerGid: gid, orderLegacyIds: theirs });
      else events.push({ kind: "customer_data_request", customerGid: gid, requestId: `req-${events.length}`, orderLegacyIds: theirs });
    } else if (r < 0.95) {
      const version = 1 + Math.floor(random() * 5);
      events.push({ kind: "product", product: { gid: `gid://shopify/Product/${1 + Math.floor(random() * 5)}`, title: `P v${version}`, productType: version % 2 ? "Shoes" : "Hats", imageUrl: version % 3 ? `https://cdn.example.test/p${version}.jpg` : null, vendor: "Acme", status: "ACTIVE", tags: [], createdAt: day(0), updatedAt: day(version) } });
    } else if (events.length > 0) {
      events.push(events[Math.floor(random() * events.length)]!); // a duplicate delivery
    }
  }
  // Reordering: swap some neighbours.
  for (let i = 1; i < events.length; i++) if (random() < 0.15) [events[i - 1], events[i]] = [events[i]!, events[i - 1]!];
  return events;
}

const EVENT_TIME = day(30);

async function applyOneByOne(shop: string, events: CrmEvent[]) {
  for (const [i, event] of events.entries()) {
    await withTransaction(async (db) => {
      await ensureShop(db, shop, EVENT_TIME);
      await applyCrmBatch(db, shop, [{ inboxId: String(i + 1), event, eventTime: EVENT_TIME }]);
    });
  }
}

async function applyInBatches(shop: string, events: CrmEvent[], random: () => number) {
  let i = 0;
  while (i < events.length) {
    const size = 1 + Math.floor(random() * 12);
    const batch = events.slice(i, i + size).map((event, j) => ({ inboxId: String(i + j + 1), event, eventTime: EVENT_TIME }));
    await withTransaction(async (db) => {
      await ensureShop(db, shop, EVENT_TIME);
      await applyCrmBatch(db, shop, batch);
    });
    i += size;
  }
}

/** Everything the CRM stores for a shop, without the shop and the local bookkeeping times. */
async function snapshot(shop: string) {
  const q = async (sql: string) => (await getPool().query(sql, [shop])).rows;
  return {
    customers: await q(`SELECT gid, email, first_name, last_name, phone, state, note, verified_email, currency, country_code, province, city,
                               addresses, tags, email_marketing_state, email_opt_in_level, email_consent_at, shopify_created_at,
                               shopify_updated_at, deleted_at, redacted_at IS NOT NULL AS redacted, orders_count, total_spent_minor, refunded_minor, aov_minor,
                               aggregate_currency, first_order_at, last_order_at
                          FROM customers WHERE shop = $1 ORDER BY gid`),
    orders: await q(`SELECT gid, legacy_id, customer_gid, name, email, total_price_minor, refunded_minor, financial_status, cancelled_at,
                            test, tags, shopify_created_at, shopify_updated_at, redacted_at IS NOT NULL AS redacted FROM orders WHERE shop = $1 ORDER BY gid`),
    lineItems: await q(`SELECT order_gid, gid, product_gid, quantity, price_minor FROM line_items WHERE shop = $1 ORDER BY gid`),
    refunds: await q(`SELECT gid, order_legacy_id, amount_minor, note, refunded_at FROM refunds WHERE shop = $1 ORDER BY gid`),
    tags: await q(`SELECT customer_gid, tag, present, occurred_at FROM customer_tags WHERE shop = $1 ORDER BY customer_gid, tag`),
    products: await q(`SELECT gid, title, product_type, shopify_updated_at FROM products WHERE shop = $1 ORDER BY gid`),
    // What a data request saw: the state at its place in the stream.
    exports: await q(`SELECT customer_gid, request_id, data->'customer' AS customer, data->'orders' AS orders
                        FROM data_exports WHERE shop = $1 ORDER BY request_id`),
  };
}

describe("batched apply equals one-by-one apply", () => {
  it("on 40 random event streams with duplicates, reordering, moves, cancellations and early refunds", async () => {
    const base = Number(process.env.DIFFERENTIAL_SEED ?? 20261123);
    for (let run = 0; run < 40; run++) {
      const seed = base + run;
      const events = eventStream(seed, 30 + (run % 5) * 15);
      const reference = `ref-${run}.myshopify.com`;
      const batched = `batch-${run}.myshopify.com`;
      await applyOneByOne(reference, events);
      await applyInBatches(batched, events, prng(seed * 7));
      const expected = await snapshot(reference);
      const actual = await snapshot(batched);
      expect(actual, `seed ${seed}`).toEqual(expected);
      // The streams are not trivial: customers end up with orders, refunds and tags.
      if (run === 0) {
        expect(expected.customers.some((c) => c.orders_count > 0 && c.refunded_minor !== "0")).toBe(true);
        expect(expected.tags.length).toBeGreaterThan(0);
      }
    }
  }, 240_000);

  it("on 20 random streams with deletions, redactions and data requests (barriers applied in delivery order)", async () => {
    const base = Number(process.env.DIFFERENTIAL_SEED ?? 20261208);
    let barriersInBatches = 0;
    for (let run = 0; run < 20; run++) {
      const seed = base + run;
      const events = eventStream(seed, 40 + (run % 4) * 15, { barriers: true });
      barriersInBatches += events.filter((e) => e.kind === "customer_deleted" || e.kind === "customer_redact" || e.kind === "customer_data_request").length;
      const reference = `ref-barrier-${run}.myshopify.com`;
      const batched = `batch-barrier-${run}.myshopify.com`;
      await applyOneByOne(reference, events);
      await applyInBatches(batched, events, prng(seed * 7));
      const expected = await snapshot(reference);
      const actual = await snapshot(batched);
      expect(actual, `seed ${seed}`).toEqual(expected);
    }
    expect(barriersInBatches).toBeGreaterThan(20);
  }, 240_000);
});
