// Reading a customer's points: balance (a sum of the entries available now), pending points,
// tier, the ledger itself, and when points will expire.
import { getPool, type Queryable } from "../../db.server";
import { expiryOutlook, type ExpiryOutlook } from "../../domain/loyalty/expiry";
import { statusFor, type LedgerKind } from "../../domain/loyalty/ledger";
import { latestVersion } from "../../domain/loyalty/program";
import { LoyaltyError } from "./errors";
import { loadCustomerEntries, loadProgramVersions } from "./store.server";

export type LoyaltyBalance = { balance: number; pending: number; tier: string | null };

async function requireMember(db: Queryable, shop: string, customerGid: string): Promise<void> {
  const { rows } = await db.query<{ program: boolean; customer: boolean }>({
    name: "loyalty-require-member",
    text: `SELECT EXISTS (SELECT 1 FROM loyalty_programs WHERE shop = $1) AS program,
                  EXISTS (SELECT 1 FROM customers WHERE shop = $1 AND gid = $2) AS customer`,
    values: [shop, customerGid],
  });
  if (!rows[0]!.program) throw new LoyaltyError("not_found", `${shop} has no loyalty program`);
  if (!rows[0]!.customer) throw new LoyaltyError("not_found", `customer ${customerGid} not found in ${shop}`);
}

/** `{ balance, pending, tier }` at `now`: balance = entries available by then, pending = the rest. */
export async function getBalance(shop: string, customerGid: string, now: Date = new Date(), db: Queryable = getPool()): Promise<LoyaltyBalance> {
  await requireMember(db, shop, customerGid);
  const { rows } = await db.query<{ balance: string; pending: string; tier: string | null }>({
    name: "loyalty-balance",
    text: `SELECT COALESCE(sum(points) FILTER (WHERE available_at <= $3), 0) AS balance,
                  COALESCE(sum(points) FILTER (WHERE available_at > $3), 0) AS pending,
                  (SELECT to_tier FROM loyalty_tier_changes WHERE shop = $1 AND customer_gid = $2 ORDER BY id DESC LIMIT 1) AS tier
             FROM loyalty_ledger WHERE shop = $1 AND customer_gid = $2`,
    values: [shop, customerGid, now],
  });
  const row = rows[0]!;
  return { balance: Number(row.balance), pending: Number(row.pending), tier: row.tier };
}

export type LedgerRow = {
  id: string;
  points: number;
  kind: LedgerKind;
  /** pending while availableAt is in the future (at `now`), else available. */
  status: "pending" | "available";
  availableAt: string;
  occurredAt: string;
  source: string;
  orderGid: string | null;
  reason: string;
  rule: unknown;
  idempotencyKey: string;
  createdAt: string;
};

/** The customer's ledger, oldest first. */
export async function ledger(shop: string, customerGid: string, { now = new Date(), db = getPool() }: { now?: Date; db?: Queryable } = {}): Promise<LedgerRow[]> {
  await requireMember(db, shop, customerGid);
  const { rows } = await db.query<{
    id: string;
    points: number;
    kind: LedgerKind;
    available_at: Date;
    occurred_at: Date;
    source: string;
    order_gid: string | null;
    reason: string;
    rule: unknown;
    idempotency_key: string;
    created_at: Date;
  }>({
    name: "loyalty-ledger",
    text: `SELECT id, points, kind::text AS kind, available_at, occurred_at, source, order_gid, reason, rule, idempotency_key, created_at
             FROM loyalty_ledger WHERE shop = $1 AND customer_gid = $2 ORDER BY id`,
    values: [shop, customerGid],
  });
  return rows.map((r) => ({
    id: r.id,
    points: r.points,
    kind: r.kind,
    status: statusFor(r.available_at, now),
    availableAt: r.available_at.toISOString(),
    occurredAt: r.occurred_at.toISOString(),
    source: r.source,
    orderGid: r.order_gid,
    reason: r.reason,
    rule: r.rule,
    idempotencyKey: r.idempotency_key,
    createdAt: r.created_at.toISOString(),
  }));
}

/** When the customer's points expire under the program in force now, and how many (null: no expiry, or no activity yet). */
export async function getExpiryOutlook(shop: string, customerGid: string, db: Queryable = getPool()): Promise<ExpiryOutlook | null> {
  await requireMember(db, shop, customerGid);
  const current = latestVersion(await loadProgramVersions(db, shop));
  if (!current) return null;
  return expiryOutlook({ entries: await loadCustomerEntries(db, shop, [customerGid]), settings: current.settings });
}
