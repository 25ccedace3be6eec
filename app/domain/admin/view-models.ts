// The shapes the admin pages render. Services (app/services/admin-*.server.ts) build
// them on the server with every value already formatted for display (money, dates,
// durations), so server rendering and hydration print the same text.

export const CUSTOMER_SORTS = ["last_order_desc", "last_order_asc", "spent_desc", "spent_asc"] as const;
export type CustomerSort = (typeof CUSTOMER_SORTS)[number];

export type CustomerListItem = {
  /** Numeric legacy id (the last segment of gid://shopify/Customer/<id>). */
  id: string;
  name: string;
  email: string | null;
  redacted: boolean;
  ordersCount: number;
  amountSpent: string;
  lastOrderAt: string | null;
};

export type CustomerListPage = {
  customers: CustomerListItem[];
  /** Exact up to the cap; past it `totalIsLowerBound` (the list says "more than"). */
  total: number;
  totalIsLowerBound: boolean;
  /** Opaque keyset cursors for `?after=` / `?before=`; null at either end. */
  nextCursor: string | null;
  previousCursor: string | null;
  pageSize: number;
  query: string;
  sort: CustomerSort;
};

export type RefundView = { id: string; amount: string; refundedAt: string; note: string | null };

export type OrderView = {
  id: string;
  name: string;
  createdAt: string;
  total: string;
  financialStatus: string | null;
  fulfillmentStatus: string | null;
  test: boolean;
  itemCount: number;
  cancellation: { cancelledAt: string; reason: string | null } | null;
  refunds: RefundView[];
};

export type CustomerDetail = {
  id: string;
  gid: string;
  name: string;
  redacted: boolean;
  email: string | null;
  phone: string | null;
  location: string | null;
  tags: string[];
  emailMarketingState: string | null;
  accountState: string | null;
  customerSince: string | null;
  metrics: {
    ordersCount: number;
    totalSpent: string;
    refunded: string;
    averageOrderValue: string;
    firstOrderAt: string | null;
    lastOrderAt: string | null;
  };
  /** One page of the customer's orders, newest first. */
  orders: OrderView[];
  /** Opaque keyset cursors for `?ordersAfter=` (older orders) / `?ordersBefore=` (newer ones). */
  olderOrdersCursor: string | null;
  newerOrdersCursor: string | null;
};

export const WEBHOOK_STATUSES = ["received", "processed", "failed", "dead", "ignored"] as const;
export type WebhookStatusName = (typeof WEBHOOK_STATUSES)[number];

export type DeadLetterView = {
  id: string;
  topic: string;
  receivedAt: string;
  attempts: number;
  replays: number;
  lastError: string | null;
};

export type PipelineOverview = {
  counts: Record<WebhookStatusName, number>;
  total: number;
  pending: { count: number; oldestAge: string | null };
  applyLag: { samples: number; average: string | null; max: string | null };
  deadLetters: DeadLetterView[];
  deadTotal: number;
  /** The most one "replay all" request replays. */
  replayAllLimit: number;
  generatedAt: string;
  /** False when PostgreSQL's autovacuum is off (the worker then keeps table statistics itself). */
  autovacuum: boolean | null;
};

export type ReplayResult = {
  replayed: number;
  enqueued: boolean;
  scope: "one" | "all";
  /** After "replay all": dead letters still waiting (one request replays at most `limit`). */
  remaining: number | null;
  limit: number;
};
