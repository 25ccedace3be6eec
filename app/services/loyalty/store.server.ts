// Loyalty persistence: parametrised SQL on the caller's connection (inside the worker's apply
// transaction, or one of the loyalty services' own). Rows are passed as one JSON document;
// values never go into SQL text. Callers lock the customers (lockLoyaltyCustomers) before
// reading balances they will write against.
import type { Queryable } from "../../db.server";
import { type LedgerEntry, type LedgerKind, type NewLedgerEntry, type Wallet, addToWallet, emptyWallet } from "../../domain/loyalty/ledger";
import { LoyaltyProgramSettingsSchema, type ProgramVersion } from "../../domain/loyalty/program";

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Every saved version of the shop's program, oldest first (empty: the shop has no program). */
export async function loadProgramVersions(db: Queryable, shop: string): Promise<ProgramVersion[]> {
  const { rows } = await db.query<{ version: number; settings: unknown; effective_from: Date }>({
    name: "loyalty-program-versions",
    text: `SELECT version, settings, effective_from FROM loyalty_program_versions WHERE shop = $1 ORDER BY version`,
    values: [shop],
  });
  // Stored settings were validated when saved; parsing again fills defaults added since.
  return rows.map((r) => ({ version: r.version, effectiveFrom: r.effective_from, settings: LoyaltyProgramSettingsSchema.parse(r.settings) }));
}

/**
 * Locks the customers' rows (sorted, the worker's lock order) so that balances, reversals,
 * adjustments, expiry and tier changes of one customer are serialised. Returns the gids that
 * exist and are neither deleted nor redacted.
 */
export async function lockLoyaltyCustomers(db: Queryable, shop: string, customerGids: readonly string[]): Promise<Set<string>> {
  const live = new Set<string>();
  if (customerGids.length === 0) return live;
  const { rows } = await db.query<{ gid: string; live: boolean }>({
    name: "loyalty-lock-customers",
    text: `SELECT gid, deleted_at IS NULL AND redacted_at IS NULL AS live FROM customers
            WHERE shop = $1 AND gid = ANY($2::text[]) ORDER BY gid FOR UPDATE`,
    values: [shop, [...new Set(customerGids)].sort(byString)],
  });
  for (const row of rows) if (row.live) live.add(row.gid);
  return live;
}

type EntryRow = {
  customer_gid: string;
  points: number;
  kind: LedgerKind;
  available_at: Date;
  occurred_at: Date;
  order_gid: string | null;
  reason: string;
  rule: unknown;
  idempotency_key: string;
};

const ENTRY_COLUMNS = "customer_gid, points, kind::text AS kind, available_at, occurred_at, order_gid, reason, rule, idempotency_key";

const toEntry = (r: EntryRow): LedgerEntry => ({
  customerGid: r.customer_gid,
  points: r.points,
  kind: r.kind,
  availableAt: r.available_at,
  occurredAt: r.occurred_at,
  orderGid: r.order_gid,
  reason: r.reason,
  rule: r.rule,
  idempotencyKey: r.idempotency_key,
});

export async function loadOrderEntries(db: Queryable, shop: string, orderGids: readonly string[]): Promise<LedgerEntry[]> {
  if (orderGids.length === 0) return [];
  const { rows } = await db.query<EntryRow>({
    name: "loyalty-order-entries",
    text: `SELECT ${ENTRY_COLUMNS} FROM loyalty_ledger WHERE shop = $1 AND order_gid = ANY($2::text[]) ORDER BY id`,
    values: [shop, [...orderGids]],
  });
  return rows.map(toEntry);
}

export async function loadCustomerEntries(db: Queryable, shop: string, customerGids: readonly string[]): Promise<LedgerEntry[]> {
  if (customerGids.length === 0) return [];
  const { rows } = await db.query<EntryRow>({
    name: "loyalty-customer-entries",
    text: `SELECT ${ENTRY_COLUMNS} FROM loyalty_ledger WHERE shop = $1 AND customer_gid = ANY($2::text[]) ORDER BY id`,
    values: [shop, [...customerGids]],
  });
  return rows.map(toEntry);
}

export async function existingKeys(db: Queryable, shop: string, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const { rows } = await db.query<{ idempotency_key: string }>({
    name: "loyalty-existing-keys",
    text: `SELECT idempotency_key FROM loyalty_ledger WHERE shop = $1 AND idempotency_key = ANY($2::text[])`,
    values: [shop, [...keys]],
  });
  return new Set(rows.map((r) => r.idempotency_key));
}

/** The customers' wallets at `now`: spendable balance and pending points by the instant they mature. */
export async function loadWallets(db: Queryable, shop: string, customerGids: readonly string[], now: Date): Promise<Map<string, Wallet>> {
  const wallets = new Map<string, Wallet>(customerGids.map((gid) => [gid, emptyWallet()]));
  if (customerGids.length === 0) return wallets;
  const { rows } = await db.query<{ customer_gid: string; lot: Date | null; points: string }>({
    name: "loyalty-wallets",
    text: `SELECT customer_gid, CASE WHEN available_at > $3 THEN available_at END AS lot, sum(points) AS points
             FROM loyalty_ledger WHERE shop = $1 AND customer_gid = ANY($2::text[]) GROUP BY 1, 2`,
    values: [shop, [...customerGids], now],
  });
  for (const row of rows) addToWallet(wallets.get(row.customer_gid)!, { points: Number(row.points), availableAt: row.lot ?? now }, now);
  return wallets;
}

/** Inserts entries in order; an entry whose key is already there is skipped. Returns the keys written. */
export async function insertEntries(db: Queryable, shop: string, entries: readonly NewLedgerEntry[]): Promise<Set<string>> {
  if (entries.length === 0) return new Set();
  const records = entries.map((e, seq) => ({
    seq,
    customer_gid: e.customerGid,
    points: e.points,
    kind: e.kind,
    status: e.status,
    available_at: e.availableAt.toISOString(),
    occurred_at: e.occurredAt.toISOString(),
    source: e.source,
    order_gid: e.orderGid,
    reason: e.reason,
    rule: e.rule,
    idempotency_key: e.idempotencyKey,
  }));
  const { rows } = await db.query<{ idempotency_key: string }>({
    name: "loyalty-insert-entries",
    text: `INSERT INTO loyalty_ledger (shop, customer_gid, points, kind, status, available_at, occurred_at, source, order_gid, reason, rule, idempotency_key)
           SELECT $1, x.customer_gid, x.points, x.kind::"LoyaltyEntryKind", x.status::"LoyaltyEntryStatus", x.available_at, x.occurred_at,
                  x.source, x.order_gid, x.reason, x.rule, x.idempotency_key
             FROM jsonb_to_recordset($2::jsonb) AS x(seq int, customer_gid text, points int, kind text, status text, available_at timestamptz,
                  occurred_at timestamptz, source text, order_gid text, reason text, rule jsonb, idempotency_key text)
            ORDER BY x.seq
           ON CONFLICT (shop, idempotency_key) DO NOTHING
           RETURNING idempotency_key`,
    values: [shop, JSON.stringify(records)],
  });
  return new Set(rows.map((r) => r.idempotency_key));
}

/** The customers' current tiers (the last recorded change), absent when never tiered. */
export async function loadCurrentTiers(db: Queryable, shop: string, customerGids: readonly string[]): Promise<Map<string, string | null>> {
  const tiers = new Map<string, string | null>();
  if (customerGids.length === 0) return tiers;
  const { rows } = await db.query<{ customer_gid: string; to_tier: string | null }>({
    name: "loyalty-current-tiers",
    text: `SELECT DISTINCT ON (customer_gid) customer_gid, to_tier FROM loyalty_tier_changes
            WHERE shop = $1 AND customer_gid = ANY($2::text[]) ORDER BY customer_gid, id DESC`,
    values: [shop, [...customerGids]],
  });
  for (const row of rows) tiers.set(row.customer_gid, row.to_tier);
  return tiers;
}
