// The loyalty step of the worker's apply: from the stored orders, line items and refunds,
// what the ledger should contain for those orders, inserting only the missing entries.
//
// Call it inside the apply transaction, after applyCrmBatch, once per shop:
//
//   const applied = await applyCrmBatch(db, shop, items);
//   await applyLoyaltyForOrders(db, shop, loyaltyOrderGids(items.map((i) => i.event)));
//   await applyLoyaltyForCustomers(db, shop, [...customers created by the batch]);   // signup bonus
//
// (loyaltyOrderGids is in app/domain/loyalty/batch.ts.) It costs one indexed query for a shop
// without a program. Every entry has a deterministic idempotency key, so a duplicate or replayed
// event, a batch retried after a rollback, or a refund that arrived before its order (handled
// when the order arrives: the refund rows are read from the database) never awards twice.
// Customers are locked (their rows, in gid order: the worker's lock order) before their
// balances are read, so two batches touching one customer queue instead of racing.
import { z } from "zod";
import type { Queryable } from "../../db.server";
import type { OrderRow } from "../db-rows";
import { logger } from "../../logger.server";
import { buildSignupBonus } from "../../domain/loyalty/bonuses";
import { earnMultiplier, type LoyaltyOrder } from "../../domain/loyalty/earning";
import { emptyWallet, ledgerKeys, type NewLedgerEntry } from "../../domain/loyalty/ledger";
import { planOrderLoyalty, type LoyaltyRefund } from "../../domain/loyalty/plan-order";
import { latestVersion, programInForce, type ProgramVersion } from "../../domain/loyalty/program";
import { existingKeys, insertEntries, loadCurrentTiers, loadOrderEntries, loadProgramVersions, loadWallets, lockLoyaltyCustomers } from "./store.server";
import { evaluateTiers, type TierChange } from "./tiers.server";

export type LoyaltyApplyResult = { entries: number; points: number; customers: Set<string>; tierChanges: TierChange[] };

const EMPTY = (): LoyaltyApplyResult => ({ entries: 0, points: 0, customers: new Set(), tierChanges: [] });

type LoyaltyOrderRow = Pick<
  OrderRow,
  | "gid" | "legacy_id" | "name" | "customer_gid" | "currency" | "subtotal_minor" | "shopify_created_at" | "cancelled_at" | "test" | "financial_status"
> & {
  lines: { gid: string; quantity: number; price: string; discount: string; giftCard: boolean }[];
};

type StoredOrder = LoyaltyOrder & { legacyId: string };

async function loadOrders(db: Queryable, shop: string, orderGids: readonly string[]): Promise<StoredOrder[]> {
  const { rows } = await db.query<LoyaltyOrderRow>({
    name: "loyalty-orders",
    text: `SELECT o.gid, o.legacy_id, o.name, o.customer_gid, o.currency, o.subtotal_minor, o.shopify_created_at, o.cancelled_at, o.test,
                  o.financial_status,
                  COALESCE((SELECT json_agg(json_build_object('gid', li.gid, 'quantity', li.quantity, 'price', li.price_minor::text,
                                                              'discount', li.total_discount_minor::text, 'giftCard', li.gift_card) ORDER BY li.gid)
                              FROM line_items li WHERE li.shop = o.shop AND li.order_gid = o.gid), '[]'::json) AS lines
             FROM orders o WHERE o.shop = $1 AND o.gid = ANY($2::text[])`,
    values: [shop, [...orderGids]],
  });
  return rows.map((r): StoredOrder => ({
    gid: r.gid,
    legacyId: r.legacy_id,
    name: r.name,
    customerGid: r.customer_gid,
    currency: r.currency,
    subtotalMinor: BigInt(r.subtotal_minor),
    createdAt: r.shopify_created_at,
    cancelledAt: r.cancelled_at,
    test: r.test,
    financialStatus: r.financial_status,
    lines: r.lines.map((l) => ({ gid: l.gid, quantity: l.quantity, priceMinor: BigInt(l.price), totalDiscountMinor: BigInt(l.discount), giftCard: l.giftCard })),
  }));
}

// The worker stores refund lines as {lineItemGid, quantity, subtotalMinor, totalTaxMinor}; only the units matter here.
const RefundLinesSchema = z.array(z.object({ lineItemGid: z.string(), quantity: z.number().int() }));

async function loadRefunds(db: Queryable, shop: string, orderLegacyIds: readonly string[]): Promise<Map<string, LoyaltyRefund[]>> {
  const byOrder = new Map<string, LoyaltyRefund[]>();
  if (orderLegacyIds.length === 0) return byOrder;
  const { rows } = await db.query<{ gid: string; order_legacy_id: string; refunded_at: Date; line_items: unknown }>({
    name: "loyalty-refunds",
    text: `SELECT gid, order_legacy_id, refunded_at, line_items FROM refunds WHERE shop = $1 AND order_legacy_id = ANY($2::text[])`,
    values: [shop, [...orderLegacyIds]],
  });
  for (const row of rows) {
    const lines = RefundLinesSchema.parse(row.line_items).map((l) => ({ lineItemGid: l.lineItemGid, quantity: l.quantity }));
    const list = byOrder.get(row.order_legacy_id) ?? [];
    list.push({ gid: row.gid, refundedAt: row.refunded_at, lines });
    byOrder.set(row.order_legacy_id, list);
  }
  return byOrder;
}

/** Each customer's first order (earliest neither test nor cancelled; ties by gid). */
async function firstOrders(db: Queryable, shop: string, customerGids: readonly string[]): Promise<Map<string, string>> {
  const { rows } = await db.query<{ customer_gid: string; gid: string }>({
    name: "loyalty-first-orders",
    text: `SELECT DISTINCT ON (customer_gid) customer_gid, gid FROM orders
            WHERE shop = $1 AND customer_gid = ANY($2::text[]) AND NOT test AND cancelled_at IS NULL
            ORDER BY customer_gid, shopify_created_at, gid`,
    values: [shop, [...customerGids]],
  });
  return new Map(rows.map((r) => [r.customer_gid, r.gid]));
}

async function segmentMemberships(db: Queryable, shop: string, customerGids: readonly string[], segmentIds: readonly string[]): Promise<Map<string, Set<string>>> {
  const memberships = new Map<string, Set<string>>();
  if (segmentIds.length === 0 || customerGids.length === 0) return memberships;
  const { rows } = await db.query<{ customer_gid: string; segment_id: string }>({
    name: "loyalty-segment-memberships",
    text: `SELECT customer_gid, segment_id::text AS segment_id FROM segment_members
            WHERE shop = $1 AND customer_gid = ANY($2::text[]) AND segment_id = ANY($3::bigint[])`,
    values: [shop, [...customerGids], [...segmentIds]],
  });
  for (const row of rows) {
    const set = memberships.get(row.customer_gid) ?? new Set<string>();
    set.add(row.segment_id);
    memberships.set(row.customer_gid, set);
  }
  return memberships;
}

/**
 * Writes the missing ledger entries for `orderGids` (earn, first-order bonus, refund and
 * cancellation reversals) and re-evaluates the tiers of their customers. Orders not stored
 * yet (a refund whose order has not arrived) are skipped: their turn comes with the order.
 */
export async function applyLoyaltyForOrders(
  db: Queryable,
  shop: string,
  orderGids: readonly string[],
  {
    now = new Date(),
    retroactive = false,
    tierCause = "order",
  }: {
    now?: Date;
    /** Retroactive points after an import: an order placed before any version was in force earns under the newest version. */
    retroactive?: boolean;
    /** The cause recorded on tier changes (`import` for retroactive points: automations never fire on it). */
    tierCause?: "order" | "import";
  } = {},
): Promise<LoyaltyApplyResult> {
  if (orderGids.length === 0) return EMPTY();
  const versions = await loadProgramVersions(db, shop);
  const current = latestVersion(versions);
  if (!current) return EMPTY();

  const gids = [...new Set(orderGids)].sort();
  const { rows: owners } = await db.query<{ customer_gid: string }>({
    name: "loyalty-order-owners",
    text: `SELECT customer_gid FROM orders WHERE shop = $1 AND gid = ANY($2::text[]) AND customer_gid IS NOT NULL
           UNION SELECT customer_gid FROM loyalty_ledger WHERE shop = $1 AND order_gid = ANY($2::text[])`,
    values: [shop, gids],
  });
  if (owners.length === 0) return EMPTY();
  const customers = owners.map((r) => r.customer_gid);
  await lockLoyaltyCustomers(db, shop, customers);

  // Everything below is read under the customers' locks.
  const orders = await loadOrders(db, shop, gids);
  const refunds = await loadRefunds(db, shop, orders.map((o) => o.legacyId));
  const existing = await loadOrderEntries(db, shop, gids);
  const wallets = await loadWallets(db, shop, customers, now);
  const tiers = await loadCurrentTiers(db, shop, customers);
  const segmentIds = [...new Set(versions.flatMap((v) => v.settings.segmentMultipliers.map((m) => m.segmentId)))];
  const memberships = await segmentMemberships(db, shop, customers, segmentIds);
  const anyFirstOrderBonus = versions.some((v) => v.settings.bonuses.firstOrder > 0);
  const firsts = anyFirstOrderBonus ? await firstOrders(db, shop, customers) : new Map<string, string>();
  const bonusGiven = anyFirstOrderBonus ? await existingKeys(db, shop, customers.map((c) => ledgerKeys.bonus("first_order", c))) : new Set<string>();

  const entriesOf = new Map<string, typeof existing>();
  for (const entry of existing) {
    const list = entriesOf.get(entry.orderGid!) ?? [];
    list.push(entry);
    entriesOf.set(entry.orderGid!, list);
  }

  const walletOf = (gid: string) => {
    let wallet = wallets.get(gid);
    if (!wallet) wallets.set(gid, (wallet = emptyWallet()));
    return wallet;
  };
  const planned: NewLedgerEntry[] = [];
  const sorted = [...orders].sort((a, b) => (a.customerGid ?? "").localeCompare(b.customerGid ?? "") || a.createdAt.getTime() - b.createdAt.getTime() || (a.gid < b.gid ? -1 : 1));
  for (const order of sorted) {
    const own = entriesOf.get(order.gid) ?? [];
    const customerGid = own.find((e) => e.kind === "earn")?.customerGid ?? order.customerGid;
    if (!customerGid) continue;
    const program: ProgramVersion | null = programInForce({ versions, at: order.createdAt }) ?? (retroactive ? current : null);
    const bonusKey = ledgerKeys.bonus("first_order", customerGid);
    const entries = planOrderLoyalty({
      order,
      refunds: refunds.get(order.legacyId) ?? [],
      existing: own,
      program,
      policy: current.settings.negativeBalance,
      multiplier: program ? earnMultiplier({ settings: program.settings, tier: tiers.get(customerGid) ?? null, segmentIds: memberships.get(customerGid) ?? new Set() }) : { multiplier: 1, source: null },
      firstOrder: firsts.get(customerGid) === order.gid && !bonusGiven.has(bonusKey),
      wallet: walletOf(customerGid),
      now,
    });
    for (const entry of entries) if (entry.idempotencyKey === bonusKey) bonusGiven.add(bonusKey);
    planned.push(...entries);
  }

  const written = await insertEntries(db, shop, planned);
  if (written.size !== planned.length) {
    // Only possible if someone wrote these keys without holding the customer's lock: a bug.
    throw new Error(`loyalty: ${planned.length - written.size} of ${planned.length} planned entries already existed for ${shop}`);
  }
  const changed = new Set(planned.map((e) => e.customerGid));
  // Net spend moves with every order change, points earned only with new entries.
  const tierCustomers = current.settings.tiers?.metric === "net_spend" ? customers : [...changed];
  const tierChanges = await evaluateTiers(db, shop, tierCustomers, { program: current, now, cause: tierCause });
  const result = { entries: planned.length, points: planned.reduce((s, e) => s + e.points, 0), customers: changed, tierChanges };
  if (planned.length > 0 || tierChanges.length > 0) logger.debug({ shop, entries: result.entries, points: result.points, tierChanges: tierChanges.length }, "loyalty.applied");
  return result;
}

/**
 * Account-creation bonus for customers created while a program with a signup bonus was in
 * force (call with the customers a batch created or updated; already-awarded ones are skipped).
 */
export async function applyLoyaltyForCustomers(db: Queryable, shop: string, customerGids: readonly string[], { now = new Date() }: { now?: Date } = {}): Promise<LoyaltyApplyResult> {
  if (customerGids.length === 0) return EMPTY();
  const versions = await loadProgramVersions(db, shop);
  if (!versions.some((v) => v.settings.bonuses.signup > 0)) return EMPTY();
  const { rows } = await db.query<{ gid: string; shopify_created_at: Date }>({
    name: "loyalty-signup-candidates",
    text: `SELECT gid, shopify_created_at FROM customers
            WHERE shop = $1 AND gid = ANY($2::text[]) AND shopify_created_at IS NOT NULL AND deleted_at IS NULL AND redacted_at IS NULL`,
    values: [shop, [...new Set(customerGids)]],
  });
  const candidates = rows
    .map((r) => buildSignupBonus({ customerGid: r.gid, createdAt: r.shopify_created_at, versions, now }))
    .filter((e): e is NewLedgerEntry => e !== null);
  if (candidates.length === 0) return EMPTY();
  // Keyed per customer: a second call finds the key and writes nothing.
  const written = await insertEntries(db, shop, candidates);
  const entries = candidates.filter((e) => written.has(e.idempotencyKey));
  return { entries: entries.length, points: entries.reduce((s, e) => s + e.points, 0), customers: new Set(entries.map((e) => e.customerGid)), tierChanges: [] };
}
