// Customer pages of the merchant admin: the searchable list and one customer's page.
// Every query is scoped by the session's shop.
import { getPool } from "../db.server";
import type { CustomerDetail, CustomerListPage, CustomerSort, OrderView } from "../components/view-models";
import { buildCustomerExport } from "./customer-export.server";
import { displayEnum, legacyIdOf } from "./admin-format.server";
import { createFormatter, type Formatter } from "../domain/format";

export const CUSTOMERS_PAGE_SIZE = 25;

// Whitelisted ORDER BY clauses; the sort key is validated by the route before it gets here.
const ORDER_BY: Record<CustomerSort, string> = {
  last_order_desc: "last_order_at DESC NULLS LAST, id DESC",
  last_order_asc: "last_order_at ASC NULLS LAST, id ASC",
  spent_desc: "total_spent_minor DESC, id DESC",
  spent_asc: "total_spent_minor ASC, id ASC",
};

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

type ListRow = {
  gid: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  redacted: boolean;
  orders_count: number;
  total_spent_minor: string;
  currency: string | null;
  last_order_at: Date | null;
};

const customerName = (c: { first_name: string | null; last_name: string | null; email: string | null; redacted: boolean }) => {
  if (c.redacted) return "Redacted customer";
  const name = [c.first_name, c.last_name].filter(Boolean).join(" ").trim();
  return name || c.email || "No name";
};

/**
 * One page of the shop's customers (deleted ones excluded), optionally filtered by a
 * case-insensitive substring of the name or email.
 */
export async function listCustomers({
  shop,
  query,
  sort,
  page,
  pageSize = CUSTOMERS_PAGE_SIZE,
  fmt = createFormatter(),
}: {
  fmt?: Formatter;
  shop: string;
  query: string;
  sort: CustomerSort;
  page: number;
  pageSize?: number;
}): Promise<CustomerListPage> {
  const pattern = query ? `%${escapeLike(query)}%` : null;
  const where = `shop = $1 AND deleted_at IS NULL
    AND ($2::text IS NULL OR email ILIKE $2 OR concat_ws(' ', first_name, last_name) ILIKE $2)`;
  const pool = getPool();
  const [count, rows] = await Promise.all([
    pool.query<{ total: number }>(`SELECT count(*)::int AS total FROM customers WHERE ${where}`, [shop, pattern]),
    pool.query<ListRow>(
      `SELECT gid, first_name, last_name, email, redacted_at IS NOT NULL AS redacted, orders_count, total_spent_minor,
              coalesce(aggregate_currency, currency) AS currency, last_order_at
         FROM customers WHERE ${where}
        ORDER BY ${ORDER_BY[sort]}
        LIMIT $3 OFFSET $4`,
      [shop, pattern, pageSize, (page - 1) * pageSize],
    ),
  ]);
  const total = count.rows[0]?.total ?? 0;
  return {
    customers: rows.rows.map((c) => ({
      id: legacyIdOf(c.gid),
      name: customerName(c),
      email: c.redacted ? null : c.email,
      redacted: c.redacted,
      ordersCount: c.orders_count,
      amountSpent: fmt.money(c.total_spent_minor, c.currency),
      lastOrderAt: fmt.date(c.last_order_at),
    })),
    total,
    page,
    pageCount: Math.max(1, Math.ceil(total / pageSize)),
    pageSize,
    query,
    sort,
  };
}

/** One customer's page, or null when the shop has no such (non-deleted) customer. */
export async function getCustomerDetail({ shop, customerId, fmt = createFormatter() }: { shop: string; customerId: string; fmt?: Formatter }): Promise<CustomerDetail | null> {
  const gid = `gid://shopify/Customer/${customerId}`;
  const data = await buildCustomerExport(getPool(), shop, gid);
  // The export includes customers deleted in Shopify (data_request); the admin does not list them.
  if (!data || data.customer.deletedInShopifyAt !== null) return null;
  const c = data.customer;
  const money = (m: { amount: string; currencyCode: string }) => fmt.moneyDecimal(m.amount, m.currencyCode);
  const orders: OrderView[] = data.orders
    .map((o) => ({
      id: legacyIdOf(o.id),
      name: o.name ?? `Order ${legacyIdOf(o.id)}`,
      createdAt: fmt.dateTime(o.createdAt) ?? "",
      sortKey: o.createdAt,
      total: money(o.totalPrice),
      financialStatus: displayEnum(o.financialStatus),
      fulfillmentStatus: displayEnum(o.fulfillmentStatus),
      test: o.test,
      itemCount: o.lineItems.reduce((sum, li) => sum + li.quantity, 0),
      cancellation: o.cancelledAt ? { cancelledAt: fmt.dateTime(o.cancelledAt) ?? "", reason: displayEnum(o.cancelReason) } : null,
      refunds: o.refunds.map((r) => ({ id: legacyIdOf(r.id), amount: money(r.amount), refundedAt: fmt.dateTime(r.refundedAt) ?? "", note: r.note })),
    }))
    .sort((a, b) => (a.sortKey < b.sortKey ? 1 : a.sortKey > b.sortKey ? -1 : 0))
    .map(({ sortKey: _sortKey, ...order }) => order);
  const location = [c.location.city, c.location.province, c.location.countryCode].filter(Boolean).join(", ");
  return {
    id: customerId,
    gid,
    name: customerName({ first_name: c.firstName, last_name: c.lastName, email: c.email, redacted: c.redacted }),
    redacted: c.redacted,
    email: c.email,
    phone: c.phone,
    location: location || null,
    tags: c.tags,
    emailMarketingState: displayEnum(c.emailMarketingConsent.state),
    accountState: displayEnum(c.state),
    customerSince: fmt.date(c.createdAt),
    metrics: {
      ordersCount: c.ordersCount,
      totalSpent: money(c.totalSpent),
      refunded: money(c.refunded),
      averageOrderValue: money(c.averageOrderValue),
      firstOrderAt: fmt.date(c.firstOrderAt),
      lastOrderAt: fmt.date(c.lastOrderAt),
    },
    orders,
  };
}
