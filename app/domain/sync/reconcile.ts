// Reconciliation decisions (decision 048), pure: is a local copy behind Shopify's, and how
// do the CRM's customer figures differ from Shopify's own (the cross-check)?

/** What the CRM holds of a customer, for the comparison. */
export type LocalCustomerState = {
  shopifyUpdatedAt: Date | null;
  /** Deleted or redacted: never brought back by a repair. */
  gone: boolean;
  tags: readonly string[];
  emailMarketingState: string | null;
};

/** What Shopify answered for the customer. */
export type RemoteCustomerState = { updatedAt: Date; tags: readonly string[]; emailMarketingState: string | null };

export type CustomerDrift = "missing" | "stale" | "tags" | "consent";

const tagKey = (tags: readonly string[]) => [...new Set(tags.map((t) => t.trim().toLowerCase()).filter(Boolean))].sort();

/** The tags to add and to remove so the local set equals Shopify's (tags compare case-insensitively, as Shopify's do). */
export function tagDifference(local: readonly string[], remote: readonly string[]): { added: string[]; removed: string[] } {
  const have = new Set(tagKey(local));
  const want = new Set(tagKey(remote));
  return {
    added: remote.filter((t, i) => t.trim() && !have.has(t.trim().toLowerCase()) && remote.findIndex((x) => x.trim().toLowerCase() === t.trim().toLowerCase()) === i),
    removed: local.filter((t) => !want.has(t.trim().toLowerCase())),
  };
}

/** Why the local customer needs a repair (empty: it is current). */
export function customerDrift({ local, remote }: { local: LocalCustomerState | null; remote: RemoteCustomerState }): CustomerDrift[] {
  if (!local) return ["missing"];
  if (local.gone) return [];
  const out: CustomerDrift[] = [];
  if (local.shopifyUpdatedAt === null || local.shopifyUpdatedAt.getTime() < remote.updatedAt.getTime()) out.push("stale");
  const diff = tagDifference(local.tags, remote.tags);
  if (diff.added.length > 0 || diff.removed.length > 0) out.push("tags");
  // A customer whose consent was never reported holds none: the same as Shopify's NOT_SUBSCRIBED.
  const consent = (state: string | null) => (state ?? "not_subscribed").toLowerCase();
  if (remote.emailMarketingState !== null && consent(remote.emailMarketingState) !== consent(local.emailMarketingState)) out.push("consent");
  return out;
}

export type LocalOrderState = { shopifyUpdatedAt: Date; refunds: number; redacted: boolean };
export type RemoteOrderState = { updatedAt: Date; refunds: number };
export type OrderDrift = "missing" | "stale" | "refunds";

/** Why the local order needs a repair (empty: it is current). */
export function orderDrift({ local, remote }: { local: LocalOrderState | null; remote: RemoteOrderState }): OrderDrift[] {
  if (!local) return ["missing"];
  if (local.redacted) return [];
  const out: OrderDrift[] = [];
  if (local.shopifyUpdatedAt.getTime() < remote.updatedAt.getTime()) out.push("stale");
  if (local.refunds < remote.refunds) out.push("refunds");
  return out;
}

// ---------------------------------------------------------------- the cross-check

/** One of the customer's orders as the CRM holds it. `voided`: the payment was voided (nothing was paid). */
export type CrossCheckOrder = { totalPriceMinor: bigint; refundedMinor: bigint; cancelled: boolean; test: boolean; voided: boolean };

export type CrossCheckMismatch = {
  customerGid: string;
  local: { ordersCount: number; netSpentMinor: string };
  shopify: { numberOfOrders: number; amountSpentMinor: string };
  currency: string;
  /** The documented semantic choices that account for the whole difference, or null when none do. */
  explanation: string | null;
};

type Choice = "test" | "cancelled" | "refunds";
const CHOICE_TEXT: Record<Choice, { count: string; amount: string }> = {
  test: { count: "test orders are not counted by the CRM", amount: "test orders are not part of the CRM's net spent" },
  cancelled: { count: "cancelled orders are not counted by the CRM", amount: "cancelled orders are not part of the CRM's net spent (Shopify keeps what was paid and not refunded)" },
  refunds: { count: "", amount: "the CRM subtracts refunds from the amount spent" },
};

function subsetsOf<T>(items: readonly T[]): T[][] {
  const out: T[][] = [[]];
  for (const item of items) for (const s of [...out]) out.push([...s, item]);
  return out.sort((a, b) => a.length - b.length);
}

/** The smallest set of Shopify readings (choices the CRM makes differently) that reproduces Shopify's count, or null. */
function explainCount(orders: readonly CrossCheckOrder[], target: number): Choice[] | null {
  for (const on of subsetsOf<Choice>(["test", "cancelled"])) {
    const n = orders.filter((o) => (!o.test || on.includes("test")) && (!o.cancelled || on.includes("cancelled"))).length;
    if (n === target) return on;
  }
  return null;
}

/** The same for the amount: Shopify's reading of a cancelled order is what was paid and not refunded (nothing when voided). */
function explainAmount(orders: readonly CrossCheckOrder[], target: bigint): Choice[] | null {
  for (const on of subsetsOf<Choice>(["test", "cancelled", "refunds"])) {
    let amount = 0n;
    for (const o of orders) {
      if (o.test && !on.includes("test")) continue;
      if (o.cancelled && !on.includes("cancelled")) continue;
      const refunded = on.includes("refunds") ? 0n : o.refundedMinor;
      if (o.cancelled) {
        const paid = o.voided ? 0n : o.totalPriceMinor - o.refundedMinor;
        amount += paid > 0n ? paid : 0n;
      } else amount += o.totalPriceMinor - refunded;
    }
    if (amount === target) return on;
  }
  return null;
}

/**
 * Compares the CRM's order count and net spent (orders neither cancelled nor test, refunds
 * subtracted: app/domain/customers/aggregates.ts) with Shopify's numberOfOrders and
 * amountSpent. Null when they agree. When they differ: if the CRM's stored figure is not what
 * its own orders give, that is said first (stored aggregates out of date); then the figure its
 * orders give is recomputed with Shopify's reading of the choices that could differ (test
 * orders counted, cancelled orders counted, refunds not subtracted), and the smallest set of
 * choices that reproduces Shopify's figure is named. Nothing reproduces it: explanation null
 * (a real drift, such as a missed order, or a rule the CRM does not know).
 */
export function crossCheckCustomer({
  customerGid,
  local,
  orders,
  shopify,
  currency,
}: {
  customerGid: string;
  local: { ordersCount: number; netSpentMinor: bigint };
  orders: readonly CrossCheckOrder[];
  shopify: { numberOfOrders: number; amountSpentMinor: bigint };
  currency: string;
}): CrossCheckMismatch | null {
  if (local.ordersCount === shopify.numberOfOrders && local.netSpentMinor === shopify.amountSpentMinor) return null;
  const parts: string[] = [];
  let explained = true;
  const counted = orders.filter((o) => !o.test && !o.cancelled);
  const computedCount = counted.length;
  const computedAmount = counted.reduce((sum, o) => sum + o.totalPriceMinor - o.refundedMinor, 0n);
  if (local.ordersCount !== computedCount) parts.push(`the CRM's stored order count (${local.ordersCount}) is out of date: its orders give ${computedCount}`);
  if (local.netSpentMinor !== computedAmount) parts.push(`the CRM's stored net spent (${local.netSpentMinor}) is out of date: its orders give ${computedAmount}`);
  if (computedCount !== shopify.numberOfOrders) {
    const on = explainCount(orders, shopify.numberOfOrders);
    if (on === null || on.length === 0) explained = false;
    else parts.push(...on.map((c) => CHOICE_TEXT[c].count));
  }
  if (computedAmount !== shopify.amountSpentMinor) {
    const on = explainAmount(orders, shopify.amountSpentMinor);
    if (on === null || on.length === 0) explained = false;
    else parts.push(...on.map((c) => CHOICE_TEXT[c].amount));
  }
  return {
    customerGid,
    local: { ordersCount: local.ordersCount, netSpentMinor: local.netSpentMinor.toString() },
    shopify: { numberOfOrders: shopify.numberOfOrders, amountSpentMinor: shopify.amountSpentMinor.toString() },
    currency,
    explanation: explained ? parts.join("; ") : null,
  };
}
