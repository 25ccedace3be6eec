// Raw SQL rows, typed once per table (decision 041): each table's columns as node-postgres
// returns them here (snake_case names; bigint and numeric as strings, app/db.server.ts keeps
// int8 as text; timestamptz as Date; jsonb parsed; text[] as string[]). A query's row type is
// a Pick of its table's row, plus the computed columns it selects:
//   type ListRow = Pick<CustomerRow, "gid" | "email"> & { redacted: boolean };
// so a column's type is written in one place and a renamed column fails to compile everywhere
// it is read. The tables mirror prisma/schema.prisma (the migrations are the source of truth).
/** customers (one per shop and Shopify customer; the redaction record after customers/redact). */
export type CustomerRow = {
  id: string;
  shop: string;
  gid: string;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  phone: string | null;
  state: string | null;
  note: string | null;
  verified_email: boolean | null;
  currency: string | null;
  country_code: string | null;
  province: string | null;
  city: string | null;
  addresses: unknown;
  tags: string[];
  email_marketing_state: string | null;
  email_opt_in_level: string | null;
  email_consent_at: Date | null;
  sms_marketing_state: string | null;
  sms_opt_in_level: string | null;
  sms_consent_at: Date | null;
  locale: string | null;
  /** selected as text (birth_date::text): a calendar date without a zone. */
  birth_date: string | null;
  abandoned_checkout_at: Date | null;
  shopify_created_at: Date | null;
  shopify_updated_at: Date | null;
  deleted_at: Date | null;
  redacted_at: Date | null;
  orders_count: number;
  total_spent_minor: string;
  refunded_minor: string;
  aov_minor: string;
  aggregate_currency: string | null;
  first_order_at: Date | null;
  last_order_at: Date | null;
  rfm_recency: number | null;
  rfm_frequency: number | null;
  rfm_monetary: number | null;
  rfm_group: string | null;
  rfm_computed_at: Date | null;
  search_text: string | null;
  created_at: Date;
  updated_at: Date;
};

/** orders (amounts in minor units of `currency`). */
export type OrderRow = {
  id: string;
  shop: string;
  gid: string;
  legacy_id: string;
  customer_gid: string | null;
  name: string | null;
  email: string | null;
  currency: string;
  presentment_currency: string | null;
  total_price_minor: string;
  subtotal_minor: string;
  total_tax_minor: string;
  total_discounts_minor: string;
  shipping_minor: string;
  refunded_minor: string;
  financial_status: string | null;
  fulfillment_status: string | null;
  cancelled_at: Date | null;
  cancel_reason: string | null;
  test: boolean;
  source_name: string | null;
  tags: string[];
  discount_codes: string[];
  shopify_created_at: Date;
  shopify_updated_at: Date;
  processed_at: Date | null;
  closed_at: Date | null;
  redacted_at: Date | null;
  created_at: Date;
  updated_at: Date;
};

/** segments (a shop's saved segment queries). */
export type SegmentRow = {
  id: string;
  shop: string;
  name: string;
  query: string;
  tag: string | null;
  tag_sync_enabled: boolean;
  member_count: number;
  relative_time: boolean;
  last_refreshed_at: Date | null;
  created_at: Date;
  updated_at: Date;
  broken_at: Date | null;
  broken_reason: string | null;
};
