// Customer pages of the merchant admin: the searchable list and one customer's page.
// Every query is scoped by the session's shop.
import { getPool, withConnection, type Queryable } from "../db.server";
import { decodeCursor, encodeCursor, type KeyKind } from "../domain/admin/keyset-cursor";
import type { CustomerDetail, CustomerListPage, CustomerSort, OrderView } from "../domain/admin/view-models";
import { displayEnum, legacyIdOf } from "./admin-format.server";
import type { CustomerRow, OrderRow } from "./db-rows";
import { createFormatter, type Formatter } from "../domain/format";

export const CUSTOMERS_PAGE_SIZE = 25;
/** Counts stop here: past it the list says "more than 10,000" (decision 040). */
export const CUSTOMER_COUNT_CAP = 10_000;
/** Searches of at least this many characters go through the trigram index. */
const TRIGRAM_MIN_LENGTH = 3;

// One keyset per list order: the expression (the same as in the index of migration
// 20261207100000), its direction and how its key is cast back from the cursor.
const KEYSETS: Record<CustomerSort, { key: string; direction: "asc" | "desc"; kind: KeyKind; cast: string }> = {
  last_order_desc: { key: `coalesce(last_order_at, '-infinity'::timestamptz)`, direction: "desc", kind: "timestamp", cast: "timestamptz" },
  last_order_asc: { key: `coalesce(last_order_at, 'infinity'::timestamptz)`, direction: "asc", kind: "timestamp", cast: "timestamptz" },
  spent_desc: { key: "total_spent_minor", direction: "desc", kind: "integer", cast: "bigint" },
  spent_asc: { key: "total_spent_minor", direction: "asc", kind: "integer", cast: "bigint" },
};

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

type ListRow = Pick<CustomerRow, "id" | "gid" | "first_name" | "last_name" | "email" | "orders_count" | "total_spent_minor" | "last_order_at"> & {
  redacted: boolean;
  /** The aggregates' currency, else the customer's. */
  currency: string | null;
  sort_key: string;
};

const customerName = (c: { first_name: string | null; last_name: string | null; email: string | null; redacted: boolean }) => {
  if (c.redacted) return "Redacted customer";
  const name = [c.first_name, c.last_name].filter(Boolean).join(" ").trim();
  return name || c.email || "No name";
};

/**
 * Runs fn in a read-only transaction where the planner may not pick a sequential scan:
 * with autovacuum off the tables may never have been analysed, and the admin's queries
 * must use their indexes whatever the statistics say (decision 040).
 */
async function withIndexPlans<T>(fn: (db: Queryable) => Promise<T>): Promise<T> {
  return withConnection(getPool(), async (client) => {
    await client.query("BEGIN READ ONLY");
    try {
      await client.query("SET LOCAL enable_seqscan = off");
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    }
  });
}

/**
 * One page of the shop's customers (deleted ones excluded), optionally filtered by a
 * case-insensitive substring of the name or email, in keyset order: `after` is the cursor
 * of the previous page's last row, `before` that of the next page's first row. Never an
 * OFFSET, never a count past CUSTOMER_COUNT_CAP.
 */
export async function listCustomers({
  shop,
  query,
  sort,
  after,
  before,
  pageSize = CUSTOMERS_PAGE_SIZE,
  fmt = createFormatter(),
}: {
  shop: string;
  query: string;
  sort: CustomerSort;
  after?: string | null;
  before?: string | null;
  pageSize?: number;
  /** Dates and money in the shop's locale and zone (app/domain/format.ts). */
  fmt?: Formatter;
}): Promise<CustomerListPage> {
  const keyset = KEYSETS[sort];
  const afterCursor = decodeCursor({ cursor: after, sort, kind: keyset.kind });
  const beforeCursor = afterCursor ? null : decodeCursor({ cursor: before, sort, kind: keyset.kind });
  const cursor = afterCursor ?? beforeCursor;
  // Walking backwards (a `before` page) reads the index the other way and flips the rows.
  const backwards = beforeCursor !== null;
  const descending = (keyset.direction === "desc") !== backwards;
  const needle = query.toLowerCase();
  const pattern = needle ? `%${escapeLike(needle)}%` : null;

  const result = await withIndexPlans(async (db) => {
    // The count, capped. For a search it is also the candidate set when small enough.
    let total: number;
    let candidates: string[] | null = null;
    if (pattern && needle.length >= TRIGRAM_MIN_LENGTH) {
      // Only the trigram index can serve this: the shop and deleted tests are written so that
      // no btree index (all partial on deleted_at IS NULL) matches them, else the planner may
      // read every live customer of a list index without statistics to warn it.
      const { rows } = await db.query<{ id: string }>(
        `SELECT id FROM customers WHERE search_text LIKE $2 AND (deleted_at IS NULL) IS TRUE AND (shop || '') = $1 LIMIT $3`,
        [shop, pattern, CUSTOMER_COUNT_CAP + 1],
      );
      total = rows.length;
      if (total <= CUSTOMER_COUNT_CAP) candidates = rows.map((r) => r.id);
    } else {
      const { rows } = await db.query<{ total: number }>(
        `SELECT count(*)::int AS total FROM (
           SELECT 1 FROM customers WHERE shop = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR search_text LIKE $2) LIMIT $3
         ) capped`,
        [shop, pattern, CUSTOMER_COUNT_CAP + 1],
      );
      total = rows[0]?.total ?? 0;
    }

    const params: unknown[] = [shop, pageSize + 1];
    const conditions = ["shop = $1", "deleted_at IS NULL"];
    if (candidates) {
      // Read the (at most CUSTOMER_COUNT_CAP) matches by primary key and sort them; written so
      // that no list index matches, else the planner may walk the whole list filtering ids.
      params.push(candidates);
      conditions.splice(0, 2, "(shop || '') = $1", "(deleted_at IS NULL) IS TRUE", `id = ANY($${params.length}::bigint[])`);
    } else if (pattern) {
      params.push(pattern);
      conditions.push(`search_text LIKE $${params.length}`);
    }
    if (cursor) {
      params.push(cursor.key, cursor.id);
      const op = descending ? "<" : ">";
      conditions.push(`(${keyset.key}, id) ${op} ($${params.length - 1}::${keyset.cast}, $${params.length}::bigint)`);
    }
    const dir = descending ? "DESC" : "ASC";
    const { rows } = await db.query<ListRow>(
      `SELECT id, gid, first_name, last_name, email, redacted_at IS NOT NULL AS redacted, orders_count, total_spent_minor,
              coalesce(aggregate_currency, currency) AS currency, last_order_at, (${keyset.key})::text AS sort_key
         FROM customers WHERE ${conditions.join(" AND ")}
        ORDER BY ${keyset.key} ${dir}, id ${dir}
        LIMIT $2`,
      params,
    );
    const more = rows.length > pageSize;
    // Back at the start (rows before the cursor were deleted, or it was the second page):
    // show the first page as it is now rather than a short one.
    if (backwards && !more) return null;
    const page = rows.slice(0, pageSize);
    if (backwards) page.reverse();
    const first = page[0];
    const last = page[page.length - 1];
    const cursorOf = (row: ListRow) => encodeCursor({ sort, key: row.sort_key, id: row.id });
    // Forwards: a previous page exists when we came from one; backwards: the same for the next.
    const hasNext = backwards ? cursor !== null : more;
    const hasPrevious = backwards ? more : cursor !== null;
    return {
      customers: page.map((c) => ({
        id: legacyIdOf(c.gid),
        name: customerName(c),
        email: c.redacted ? null : c.email,
        redacted: c.redacted,
        ordersCount: c.orders_count,
        amountSpent: fmt.money(c.total_spent_minor, c.currency),
        lastOrderAt: fmt.date(c.last_order_at),
      })),
      total: Math.min(total, CUSTOMER_COUNT_CAP),
      totalIsLowerBound: total > CUSTOMER_COUNT_CAP,
      nextCursor: hasNext && last ? cursorOf(last) : null,
      previousCursor: hasPrevious && first ? cursorOf(first) : null,
      pageSize,
      query,
      sort,
    };
  });
  return result ?? listCustomers({ shop, query, sort, pageSize });
}

export const ORDERS_PAGE_SIZE = 20;

type DetailRow = Pick<
  CustomerRow,
  | "gid" | "email" | "first_name" | "last_name" | "phone" | "state" | "country_code" | "province" | "city" | "tags" | "email_marketing_state"
  | "shopify_created_at" | "orders_count" | "total_spent_minor" | "refunded_minor" | "aov_minor" | "first_order_at" | "last_order_at"
> & { redacted: boolean; currency: string | null };

type CustomerOrderRow = Pick<
  OrderRow,
  | "id" | "gid" | "legacy_id" | "name" | "currency" | "total_price_minor" | "financial_status" | "fulfillment_status" | "cancelled_at" | "cancel_reason"
  | "test" | "shopify_created_at"
> & { sort_key: string; item_count: number };

/**
 * One page of a customer's orders, newest first, keyset by (created at, id): `after` is the
 * cursor of the previous page's last (older) order, `before` that of the next page's first.
 */
async function customerOrdersPage(
  db: Queryable,
  { shop, customerGid, after, before, pageSize, fmt }: { shop: string; customerGid: string; after?: string | null; before?: string | null; pageSize: number; fmt: Formatter },
): Promise<{ orders: OrderView[]; olderOrdersCursor: string | null; newerOrdersCursor: string | null } | null> {
  const SORT = "orders";
  const afterCursor = decodeCursor({ cursor: after, sort: SORT, kind: "timestamp" });
  const beforeCursor = afterCursor ? null : decodeCursor({ cursor: before, sort: SORT, kind: "timestamp" });
  const cursor = afterCursor ?? beforeCursor;
  const backwards = beforeCursor !== null;
  const params: unknown[] = [shop, customerGid, pageSize + 1];
  let keyset = "";
  if (cursor) {
    params.push(cursor.key, cursor.id);
    keyset = `AND (o.shopify_created_at, o.id) ${backwards ? ">" : "<"} ($4::timestamptz, $5::bigint)`;
  }
  const dir = backwards ? "ASC" : "DESC";
  const { rows } = await db.query<CustomerOrderRow>(
    `SELECT o.id, o.gid, o.legacy_id, o.name, o.currency, o.total_price_minor, o.financial_status, o.fulfillment_status,
            o.cancelled_at, o.cancel_reason, o.test, o.shopify_created_at, o.shopify_created_at::text AS sort_key,
            (SELECT coalesce(sum(li.quantity), 0)::int FROM line_items li WHERE li.shop = o.shop AND li.order_gid = o.gid) AS item_count
       FROM orders o
      WHERE o.shop = $1 AND o.customer_gid = $2 ${keyset}
      ORDER BY o.shopify_created_at ${dir}, o.id ${dir}
      LIMIT $3`,
    params,
  );
  const more = rows.length > pageSize;
  if (backwards && !more) return null;
  const page = rows.slice(0, pageSize);
  if (backwards) page.reverse();
  const refunds = await db.query<{ gid: string; order_legacy_id: string; amount_minor: string; currency: string | null; note: string | null; refunded_at: Date }>(
    `SELECT gid, order_legacy_id, amount_minor, currency, note, refunded_at FROM refunds
      WHERE shop = $1 AND order_legacy_id = ANY($2::text[]) ORDER BY refunded_at, gid`,
    [shop, page.map((o) => o.legacy_id)],
  );
  const hasOlder = backwards ? cursor !== null : more;
  const hasNewer = backwards ? more : cursor !== null;
  const cursorOf = (o: CustomerOrderRow) => encodeCursor({ sort: SORT, key: o.sort_key, id: o.id });
  const first = page[0];
  const last = page[page.length - 1];
  return {
    orders: page.map((o) => ({
      id: o.legacy_id,
      name: o.name ?? `Order ${o.legacy_id}`,
      createdAt: fmt.dateTime(o.shopify_created_at) ?? "",
      total: fmt.money(o.total_price_minor, o.currency),
      financialStatus: displayEnum(o.financial_status),
      fulfillmentStatus: displayEnum(o.fulfillment_status),
      test: o.test,
      itemCount: o.item_count,
      cancellation: o.cancelled_at ? { cancelledAt: fmt.dateTime(o.cancelled_at) ?? "", reason: displayEnum(o.cancel_reason) } : null,
      refunds: refunds.rows
        .filter((r) => r.order_legacy_id === o.legacy_id)
        .map((r) => ({
          id: legacyIdOf(r.gid),
          amount: fmt.money(r.amount_minor, r.currency ?? o.currency),
          refundedAt: fmt.dateTime(r.refunded_at) ?? "",
          note: r.note,
        })),
    })),
    olderOrdersCursor: hasOlder && last ? cursorOf(last) : null,
    newerOrdersCursor: hasNewer && first ? cursorOf(first) : null,
  };
}

/**
 * One customer's page with one page of their orders (`ordersAfter` / `ordersBefore`
 * cursors), or null when the shop has no such (non-deleted) customer.
 */
export async function getCustomerDetail({
  shop,
  customerId,
  ordersAfter,
  ordersBefore,
  ordersPageSize = ORDERS_PAGE_SIZE,
  fmt = createFormatter(),
}: {
  shop: string;
  customerId: string;
  ordersAfter?: string | null;
  ordersBefore?: string | null;
  ordersPageSize?: number;
  fmt?: Formatter;
}): Promise<CustomerDetail | null> {
  const gid = `gid://shopify/Customer/${customerId}`;
  return withIndexPlans(async (db) => {
    const { rows } = await db.query<DetailRow>(
      `SELECT gid, email, first_name, last_name, phone, state, country_code, province, city, tags, email_marketing_state,
              shopify_created_at, redacted_at IS NOT NULL AS redacted, orders_count, total_spent_minor, refunded_minor, aov_minor,
              coalesce(aggregate_currency, currency) AS currency, first_order_at, last_order_at
         FROM customers WHERE shop = $1 AND gid = $2 AND deleted_at IS NULL`,
      [shop, gid],
    );
    const c = rows[0];
    if (!c) return null;
    const pageArgs = { shop, customerGid: gid, pageSize: ordersPageSize, fmt };
    const orders =
      (await customerOrdersPage(db, { ...pageArgs, after: ordersAfter, before: ordersBefore })) ?? (await customerOrdersPage(db, pageArgs))!;
    const location = [c.city, c.province, c.country_code].filter(Boolean).join(", ");
    return {
      id: customerId,
      gid,
      name: customerName(c),
      redacted: c.redacted,
      email: c.email,
      phone: c.phone,
      location: location || null,
      tags: c.tags ?? [],
      emailMarketingState: displayEnum(c.email_marketing_state),
      accountState: displayEnum(c.state),
      customerSince: fmt.date(c.shopify_created_at),
      metrics: {
        ordersCount: c.orders_count,
        totalSpent: fmt.money(c.total_spent_minor, c.currency),
        refunded: fmt.money(c.refunded_minor, c.currency),
        averageOrderValue: fmt.money(c.aov_minor, c.currency),
        firstOrderAt: fmt.date(c.first_order_at),
        lastOrderAt: fmt.date(c.last_order_at),
      },
      ...orders,
    };
  });
}
