// The synthetic store: deterministic, lazy at any size, realistic distributions, and
// Shopify 2026-07 webhook payloads that validate against Shopify's own JSON schemas.
import { describe, expect, it } from "vitest";
import { generateStore, type GenOrder, type SyntheticStore } from "./store-generator";
import { storeWebhooks, toBody, webhooksFor } from "./webhook-payloads";
import { payloadErrors } from "./payload-schemas";

const MAX_SAFE = 2n ** 53n;
const replacer = (_k: string, v: unknown) => (typeof v === "bigint" ? `${v}n` : v);
const take = <T>(it: Iterable<T>, n: number): T[] => {
  const out: T[] = [];
  for (const x of it) {
    if (out.length >= n) break;
    out.push(x);
  }
  return out;
};

describe("store generator", () => {
  it("is deterministic: same seed and size give identical records and payload bytes", () => {
    const a = generateStore({ seed: 42, customers: 300 });
    const b = generateStore({ seed: 42, customers: 300 });
    expect(JSON.stringify([...a.customers()], replacer)).toBe(JSON.stringify([...b.customers()], replacer));
    expect(JSON.stringify([...a.orders()], replacer)).toBe(JSON.stringify([...b.orders()], replacer));
    const bodies = (s: SyntheticStore) => take(storeWebhooks(s.events()), 400).map((m) => `${m.topic} ${m.eventId} ${toBody(m.payload)}`);
    expect(bodies(a)).toEqual(bodies(b));
    const c = generateStore({ seed: 43, customers: 300 });
    expect(JSON.stringify(take(c.customers(), 20), replacer)).not.toBe(JSON.stringify(take(a.customers(), 20), replacer));
  });

  it("repeatFactor scales repeat buying: more orders per customer, one-off buyers and customers unchanged, still deterministic", () => {
    const count = (store: SyntheticStore) => {
      let n = 0;
      for (const _order of store.orders()) n++;
      return n;
    };
    const base = generateStore({ seed: 3, customers: 400 });
    const scaled = generateStore({ seed: 3, customers: 400, repeatFactor: 5 });
    const baseOrders = count(base);
    const scaledOrders = count(scaled);
    expect(scaledOrders / 400).toBeGreaterThan(4);
    expect(baseOrders / 400).toBeLessThan(2.5);
    expect(count(generateStore({ seed: 3, customers: 400, repeatFactor: 5 }))).toBe(scaledOrders);
    expect([...scaled.customers()].map((c) => c.id)).toEqual([...base.customers()].map((c) => c.id));
    expect(() => generateStore({ seed: 3, customers: 400, repeatFactor: 0.5 })).toThrow(RangeError);
  });

  it("has exactly the requested number of customers, from 10 to 1,000,000, generated lazily", () => {
    expect([...generateStore({ seed: 1, customers: 10 }).customers()]).toHaveLength(10);
    expect(() => generateStore({ seed: 1, customers: 9 })).toThrow(RangeError);
    expect(() => generateStore({ seed: 1, customers: 1_000_001 })).toThrow(RangeError);

    const big = generateStore({ seed: 1, customers: 1_000_000 });
    const started = Date.now();
    // Random access and streaming without materialising the store.
    expect(big.customer(999_999).index).toBe(999_999);
    const firstOrders = take(big.orders(), 2000);
    expect(firstOrders).toHaveLength(2000);
    const firstEvents = take(big.events(), 2000);
    expect(firstEvents).toHaveLength(2000);
    expect(Date.now() - started).toBeLessThan(10_000);
    // Customers are numbered in sign-up order; sign-up times never go backwards.
    const times = take(big.customers(), 5000).map((c) => Date.parse(c.createdAt));
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
  });

  it("includes customers with ids above 2^53, serialised as exact JSON numbers", () => {
    const store = generateStore({ seed: 7, customers: 200 });
    const big = [...store.customers()].filter((c) => c.id > MAX_SAFE);
    expect(big.length).toBeGreaterThan(0);
    const message = webhooksFor({ kind: "customer.created", at: big[0]!.createdAt, customer: big[0]! })[0]!;
    const body = toBody(message.payload);
    expect(body).toContain(`"id":${big[0]!.id}`);
    expect(body).toContain(`"admin_graphql_api_id":"gid://shopify/Customer/${big[0]!.id}"`);
    expect(Number(big[0]!.id)).not.toBe(Number(big[0]!.id + 1n) - 2); // sanity: beyond float precision
  });

  describe("distributions (2,000 customers)", () => {
    const store = generateStore({ seed: 2024, customers: 2000 });
    const orders: GenOrder[] = [...store.orders()];
    const perCustomer = new Map<number, number>();
    for (const o of orders) if (o.customerIndex !== null) perCustomer.set(o.customerIndex, (perCustomer.get(o.customerIndex) ?? 0) + 1);

    it("orders come in time order, with seasonality (November-December above average)", () => {
      expect(orders.every((o, i) => i === 0 || Date.parse(o.createdAt) >= Date.parse(orders[i - 1]!.createdAt))).toBe(true);
      const holiday = orders.filter((o) => new Date(o.createdAt).getUTCMonth() >= 10).length / orders.length;
      expect(holiday).toBeGreaterThan((2 / 12) * 1.2);
    });

    it("has a few heavy repeat buyers and many one-off buyers", () => {
      const buyers = perCustomer.size;
      const repeat = [...perCustomer.values()].filter((n) => n >= 2).length / buyers;
      expect(repeat).toBeGreaterThan(0.2);
      expect(repeat).toBeLessThan(0.4);
      const sorted = [...perCustomer.values()].sort((a, b) => b - a);
      const top1 = sorted.slice(0, Math.ceil(buyers / 100)).reduce((s, n) => s + n, 0) / orders.length;
      expect(top1).toBeGreaterThan(0.05);
      expect(sorted[0]!).toBeGreaterThanOrEqual(6);
      expect(buyers).toBeLessThan(store.customerCount); // some customers never order
    });

    it("has refunds (partial and full), cancellations, fulfilments, guest and test orders in plausible shares", () => {
      const share = (f: (o: GenOrder) => boolean) => orders.filter(f).length / orders.length;
      expect(share((o) => o.refunds.length > 0 && !o.cancel)).toBeGreaterThan(0.04);
      expect(share((o) => o.refunds.length > 0 && !o.cancel)).toBeLessThan(0.12);
      expect(orders.some((o) => o.refunds.some((r) => r.kind === "partial"))).toBe(true);
      expect(orders.some((o) => o.refunds.some((r) => r.kind === "full"))).toBe(true);
      expect(share((o) => o.cancel !== null)).toBeGreaterThan(0.01);
      expect(share((o) => o.cancel !== null)).toBeLessThan(0.05);
      expect(share((o) => o.fulfillment !== null)).toBeGreaterThan(0.9);
      expect(share((o) => o.customerId === null)).toBeGreaterThan(0.02);
      expect(share((o) => o.test)).toBeGreaterThan(0);
      expect(share((o) => o.test)).toBeLessThan(0.03);
      // money adds up
      for (const o of orders.slice(0, 200)) {
        expect(o.totalCents).toBe(o.subtotalCents + o.shippingCents + o.taxCents);
        for (const r of o.refunds) expect(r.amountCents).toBeLessThanOrEqual(o.totalCents);
      }
    });

    it("has products with product types and prices, and customers with countries and consent", () => {
      const products = [...store.products()];
      expect(new Set(products.map((p) => p.productType)).size).toBeGreaterThanOrEqual(6);
      expect(products.every((p) => p.variants.every((v) => v.priceCents > 0))).toBe(true);
      const customers = take(store.customers(), 500);
      expect(new Set(customers.map((c) => c.address.countryCode)).size).toBeGreaterThanOrEqual(4);
      expect(new Set(customers.map((c) => c.emailMarketing.state))).toEqual(new Set(["subscribed", "not_subscribed", "unsubscribed", "pending"]));
    });
  });

  it("emits events in time order, and every payload validates against Shopify's 2026-07 schema for its topic", () => {
    const store = generateStore({ seed: 99, customers: 150 });
    const topics = new Map<string, number>();
    let previous = 0;
    const failures: string[] = [];
    for (const m of storeWebhooks(store.events())) {
      const t = Date.parse(m.triggeredAt);
      expect(t).toBeGreaterThanOrEqual(previous);
      previous = t;
      topics.set(m.topic, (topics.get(m.topic) ?? 0) + 1);
      const errors = payloadErrors(m.topic, toBody(m.payload));
      if (errors.length && failures.length < 10) failures.push(`${m.topic}: ${errors.slice(0, 3).join("; ")}`);
    }
    expect(failures).toEqual([]);
    for (const topic of ["products/create", "customers/create", "customers_email_marketing_consent/update", "orders/create", "orders/paid", "orders/updated", "orders/fulfilled", "orders/cancelled", "refunds/create"])
      expect(topics.get(topic) ?? 0, topic).toBeGreaterThan(0);
  });
});
