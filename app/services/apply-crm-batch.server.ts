// The one write path of the CRM model: applies a batch of one shop's CrmEvents inside the
// caller's transaction. Every event goes through here, whatever the batch size: the worker's
// batches, a row applied alone (WORKER_BATCH_SIZE=1, or the own row of a batch that failed,
// retried as a batch of one), replays (docs/decisions/042-one-crm-write-path.md).
// Orders, refunds and customers are written with set-based statements (crm-batch-store.server.ts),
// one per kind of row whatever the batch size; the other kinds are applied one at a time, in
// delivery order (apply-crm-unbatched.server.ts). The result is the one applying the events
// one by one would give, because every set-based write is keyed and guarded (Shopify
// updated_at, immutable refunds), which makes them commute. The events whose effect depends
// on their position relative to others (compliance, deletion, uninstall) are barriers: the
// events between two barriers are applied together, the barriers alone, in delivery order.
import type { PoolClient } from "pg";
import type { CrmEvent, CustomerInput, OrderInput, RefundInput } from "../domain/crm-events";
import { applyUnbatchedEvent, type UnbatchedEvent } from "./apply-crm-unbatched.server";
import { applyOrderFacts } from "./customer-facts.server";
import {
  getOrderCustomers,
  lockCustomers,
  lockOrders,
  recomputeCustomersAggregates,
  refreshOrdersRefunds,
  upsertCustomers,
  upsertOrders,
  upsertRefunds,
} from "./crm-batch-store.server";

type Db = Pick<PoolClient, "query">;

export type BatchEvent = { inboxId: string; event: CrmEvent; eventTime: Date };

/** Kinds whose outcome depends on what was applied before them: never reordered. */
const BARRIER_KINDS = ["customer_redact", "shop_redact", "customer_data_request", "customer_deleted", "app_uninstalled"] as const;
type BarrierEvent = Extract<CrmEvent, { kind: (typeof BARRIER_KINDS)[number] }>;
const BARRIERS: ReadonlySet<CrmEvent["kind"]> = new Set(BARRIER_KINDS);
const isBarrier = (event: CrmEvent): event is BarrierEvent => BARRIERS.has(event.kind);

/** Newer Shopify updated_at wins; on a tie (or a missing time) the later delivery wins, as when applied in order. */
function isNewer(candidate: Date | null, current: Date | null): boolean {
  return candidate === null || current === null || candidate.getTime() >= current.getTime();
}

function keepNewest<T>(into: Map<string, T>, key: string, value: T, updatedAt: (v: T) => Date | null): void {
  const current = into.get(key);
  if (current === undefined || isNewer(updatedAt(value), updatedAt(current))) into.set(key, value);
}

/**
 * Applies `events` (in inbox order) for `shop`. Returns the customers whose data or
 * aggregates the batch may have changed.
 */
export async function applyCrmBatch(db: Db, shop: string, events: readonly BatchEvent[]): Promise<{ customers: Set<string> }> {
  if (events.some((e) => isBarrier(e.event))) return applyAroundBarriers(db, shop, events);
  return applyCommuting(db, shop, events);
}

/** Events that commute (no barrier among them): set-based, then the unbatched kinds in order. */
async function applyCommuting(db: Db, shop: string, events: readonly BatchEvent[]): Promise<{ customers: Set<string> }> {
  const orders = new Map<string, OrderInput>();
  // Customer versions in delivery order: a full customer payload and one embedded in an
  // order do not commute (only the full one carries the address list), so each customer's
  // versions are applied in the order they came, one round per version.
  const customerRounds: { full: CustomerInput[]; embedded: CustomerInput[] }[] = [];
  const versionsSeen = new Map<string, number>();
  const addCustomerVersion = (c: CustomerInput, embedded: boolean) => {
    const round = versionsSeen.get(c.gid) ?? 0;
    versionsSeen.set(c.gid, round + 1);
    customerRounds[round] ??= { full: [], embedded: [] };
    customerRounds[round][embedded ? "embedded" : "full"].push(c);
  };
  const refunds = new Map<string, RefundInput>();
  const others: { item: BatchEvent; event: UnbatchedEvent }[] = [];
  const otherCustomers: string[] = [];
  for (const item of events) {
    const { event } = item;
    switch (event.kind) {
      case "order":
        keepNewest(orders, event.order.gid, event.order, (o) => o.updatedAt);
        if (event.order.customer) addCustomerVersion(event.order.customer, true);
        // Refunds are immutable and keyed: take them even from a stale order payload.
        for (const refund of event.order.refunds) refunds.set(refund.gid, refund);
        break;
      case "refund":
        refunds.set(event.refund.gid, event.refund);
        break;
      case "customer":
        addCustomerVersion(event.customer, false);
        break;
      case "customer_tags":
      case "email_consent":
      case "sms_consent":
        otherCustomers.push(event.customerGid);
        others.push({ item, event });
        break;
      case "checkout":
        if (event.checkout.customerGid) otherCustomers.push(event.checkout.customerGid);
        others.push({ item, event });
        break;
      default:
        others.push({ item, event });
    }
  }

  const orderLegacyIds = [...new Set([...[...orders.values()].map((o) => o.legacyId), ...[...refunds.values()].map((r) => r.orderLegacyId)])];
  const touched = new Set<string>([...versionsSeen.keys(), ...otherCustomers]);

  // Locks: orders first, then every customer the batch can change, both in a fixed order.
  let before = new Map<string, string | null>();
  if (orderLegacyIds.length > 0) {
    await lockOrders(db, shop, orderLegacyIds);
    before = await getOrderCustomers(db, shop, orderLegacyIds);
    for (const gid of before.values()) if (gid) touched.add(gid);
  }
  const { redacted } = await lockCustomers(db, shop, [...touched]);

  for (const round of customerRounds) {
    await upsertCustomers(db, shop, round.full, { embedded: false });
    await upsertCustomers(db, shop, round.embedded, { embedded: true });
  }

  // A redacted customer stays erased: a late order event neither re-links it nor restores its email.
  const toWrite = [...orders.values()].map((o) => (o.customer && redacted.has(o.customer.gid) ? { ...o, customer: null, email: null } : o));
  const written = await upsertOrders(db, shop, toWrite);
  await applyOrderFacts(db, shop, toWrite);
  await upsertRefunds(db, shop, [...refunds.values()]);
  await refreshOrdersRefunds(db, shop, orderLegacyIds);

  const recompute = new Set<string>();
  for (const gid of before.values()) if (gid) recompute.add(gid);
  for (const o of toWrite) if (o.customer && written.has(o.gid)) recompute.add(o.customer.gid);
  await recomputeCustomersAggregates(db, shop, [...recompute]);

  for (const { item, event } of others) await applyUnbatchedEvent(db, event, { shop, inboxId: item.inboxId, eventTime: item.eventTime });
  for (const gid of recompute) touched.add(gid);
  return { customers: touched };
}

/**
 * A batch with barriers: the events between two barriers are applied together (they
 * commute), each barrier alone, in delivery order.
 */
async function applyAroundBarriers(db: Db, shop: string, events: readonly BatchEvent[]): Promise<{ customers: Set<string> }> {
  const touched = new Set<string>();
  const orderLegacyIds: string[] = [];
  for (const { event } of events) {
    if (event.kind === "order") {
      orderLegacyIds.push(event.order.legacyId);
      if (event.order.customer) touched.add(event.order.customer.gid);
    } else if (event.kind === "refund") orderLegacyIds.push(event.refund.orderLegacyId);
    else if (event.kind === "customer") touched.add(event.customer.gid);
    else if (event.kind === "customer_tags" || event.kind === "email_consent" || event.kind === "sms_consent" || event.kind === "customer_deleted") touched.add(event.customerGid);
    else if (event.kind === "checkout" && event.checkout.customerGid) touched.add(event.checkout.customerGid);
    // customers/redact and data_request lock only an existing customer row themselves: never create one here.
  }
  // Every lock up front, in the batch order (orders, then customers): taking them run by run
  // would interleave order and customer locks and deadlock against other batches. The runs
  // take them again, already held.
  await lockOrders(db, shop, orderLegacyIds);
  for (const gid of (await getOrderCustomers(db, shop, orderLegacyIds)).values()) if (gid) touched.add(gid);
  await lockCustomers(db, shop, [...touched]);
  for (const { event } of events) if (event.kind === "customer_redact") touched.add(event.customerGid);

  let run: BatchEvent[] = [];
  const applyRun = async () => {
    if (run.length === 0) return;
    for (const gid of (await applyCommuting(db, shop, run)).customers) touched.add(gid);
    run = [];
  };
  for (const item of events) {
    if (!isBarrier(item.event)) {
      run.push(item);
      continue;
    }
    await applyRun();
    await applyUnbatchedEvent(db, item.event, { shop, inboxId: item.inboxId, eventTime: item.eventTime });
  }
  await applyRun();
  for (const gid of (await getOrderCustomers(db, shop, orderLegacyIds)).values()) if (gid) touched.add(gid);
  return { customers: touched };
}
