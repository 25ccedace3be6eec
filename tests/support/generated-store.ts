// What the admin UI must show for a generated store (tests/twin/store-generator.ts), worked
// out from the generator's deterministic output alone: which customer to open, the order
// timeline as the store has it, and the customer's metrics. Display formats follow the
// admin pages (en-US, USD, times in the shop's zone to the minute), written out independently here.
import type { GenOrder, SyntheticStore } from "../twin/store-generator";
import { orderState } from "../twin/webhook-payloads";

const FAR_FUTURE = "9999-12-31T00:00:00Z";

const usdFormat = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
/** 123456 -> "$1,234.56" (cents are exact in a double far beyond any order total). */
export const usd = (cents: number) => usdFormat.format(cents / 100);

/** The demo shop's time zone (the twin's Shop.ianaTimezone): the admin shows times in it. */
export const SHOP_TIME_ZONE = "America/New_York";
const minuteFormat = new Intl.DateTimeFormat("en-US", { year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit", timeZone: SHOP_TIME_ZONE, timeZoneName: "short" });
const dayFormat = new Intl.DateTimeFormat("en-US", { year: "numeric", month: "short", day: "numeric", timeZone: SHOP_TIME_ZONE });
/** "2026-01-05T14:05:33Z" -> "Jan 5, 2026, 9:05 AM EST" (the shop's zone, to the minute). */
export function shopMinute(iso: string): string {
  return minuteFormat.format(new Date(iso));
}
/** "2026-01-05T03:05:33Z" -> "Jan 4, 2026" (the day in the shop's zone). */
export function shopDay(iso: string): string {
  return dayFormat.format(new Date(iso));
}
const sentence = (value: string) => {
  const text = value.replace(/_/g, " ").toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
};

/** Every order of one customer in the generated history, oldest first. */
export function ordersOf(store: SyntheticStore, customerIndex: number): GenOrder[] {
  const orders: GenOrder[] = [];
  for (const slot of store.orderSlots()) if (slot.customerIndex === customerIndex) orders.push(store.order(slot.index, slot.customerIndex, slot.at));
  return orders;
}

/**
 * The customer whose timeline says the most: has refunds and a cancellation if anyone
 * does (else the most refunds and cancellations), then the most orders, then the lowest
 * index. Throws when no customer has a refund or a cancellation.
 */
export function pickTimelineCustomer(store: SyntheticStore): { index: number; orders: GenOrder[] } {
  const byCustomer = new Map<number, GenOrder[]>();
  for (const slot of store.orderSlots()) {
    if (slot.customerIndex === null) continue;
    const list = byCustomer.get(slot.customerIndex) ?? [];
    list.push(store.order(slot.index, slot.customerIndex, slot.at));
    byCustomer.set(slot.customerIndex, list);
  }
  const score = (orders: GenOrder[]) => {
    const refunds = orders.reduce((n, o) => n + o.refunds.length, 0);
    const cancels = orders.filter((o) => o.cancel).length;
    return [refunds > 0 && cancels > 0 ? 1 : 0, refunds + cancels, orders.length];
  };
  let best: { index: number; orders: GenOrder[]; score: number[] } | null = null;
  for (const [index, orders] of [...byCustomer].sort((a, b) => a[0] - b[0])) {
    const s = score(orders);
    if (s[1] === 0) continue;
    if (!best || compareScores(s, best.score) > 0) best = { index, orders, score: s };
  }
  if (!best) throw new Error("no customer in the generated store has a refund or a cancellation; pick another seed or size");
  return { index: best.index, orders: best.orders };
}

function compareScores(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

export type ExpectedOrder = {
  name: string;
  createdAt: string;
  total: string;
  items: string;
  /** Badges, in the page's order: financial status, fulfilment, cancelled, test. */
  badges: string[];
  refunds: { line: string; amount: string }[];
  cancellation: string | null;
};

/** One order's timeline entry as the store has it (its final state). */
export function expectedOrder(o: GenOrder): ExpectedOrder {
  const s = orderState(o, FAR_FUTURE);
  const items = o.lines.reduce((n, l) => n + l.quantity, 0);
  return {
    name: o.name,
    createdAt: shopMinute(o.createdAt),
    total: usd(o.totalCents),
    items: items === 1 ? "1 item" : `${items} items`,
    badges: [sentence(s.financial), ...(s.fulfilled ? ["Fulfilled"] : []), ...(s.cancelled ? ["Cancelled"] : []), ...(o.test ? ["Test order"] : [])],
    refunds: s.refunds.map((r) => ({ line: `Refund on ${shopMinute(r.createdAt)}${r.note ? ` · ${r.note}` : ""}`, amount: `−${usd(r.amountCents)}` })),
    cancellation: s.cancelled ? `Cancelled on ${shopMinute(s.cancelled.at)} · Reason: ${sentence(s.cancelled.reason)}` : null,
  };
}

export type LiveOrder = { name: string; totalCents: number; createdAt: Date };

/**
 * The Customer page's metrics: the generated orders plus live orders the demo placed for
 * the customer since (paid, never refunded or cancelled). Cancelled and test orders do not count.
 */
export function expectedMetrics(orders: GenOrder[], live: LiveOrder[]) {
  const counted = [
    ...orders
      .filter((o) => !o.cancel && !o.test)
      .map((o) => ({ total: o.totalCents, refunded: orderState(o, FAR_FUTURE).refunded, createdAt: o.createdAt })),
    ...live.map((o) => ({ total: o.totalCents, refunded: 0, createdAt: o.createdAt.toISOString() })),
  ];
  const spent = counted.reduce((n, o) => n + o.total - o.refunded, 0);
  const refunded = counted.reduce((n, o) => n + o.refunded, 0);
  const times = counted.map((o) => o.createdAt).sort();
  return {
    orders: String(counted.length),
    totalSpent: usd(spent),
    refunded: usd(refunded),
    averageOrderValue: usd(counted.length ? Math.floor((2 * spent + counted.length) / (2 * counted.length)) : 0),
    firstOrder: times.length ? shopDay(times[0]!) : "No orders",
    lastOrder: times.length ? shopDay(times[times.length - 1]!) : "No orders",
  };
}

/**
 * Splits the order timeline's text into one block per order, keyed by order name (a line
 * that is exactly an order name starts a block). Returns the names in page order too.
 */
export function timelineBlocks(text: string): { names: string[]; blocks: Map<string, string> } {
  const blocks = new Map<string, string>();
  const names: string[] = [];
  let current: string[] | null = null;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    if (/^#\d+$/.test(line)) {
      names.push(line);
      current = [];
      blocks.set(line, "");
    }
    if (current) {
      current.push(line);
      blocks.set(names[names.length - 1]!, current.join("\n"));
    }
  }
  return { names, blocks };
}
