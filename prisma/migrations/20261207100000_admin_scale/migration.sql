-- Admin scale (decision 040): keyset pagination and an index-backed search for the
-- customer list, keyset pages of one customer's orders.

-- Substring search over name and email: a GIN trigram index makes `LIKE '%q%'` on the
-- normalised search column an index scan (pg_trgm ships with PostgreSQL's contrib and
-- with the embedded PostgreSQL package).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Lower-cased "first last email", kept by PostgreSQL itself (immutable expression).
ALTER TABLE "customers" ADD COLUMN "search_text" TEXT GENERATED ALWAYS AS (
  lower(coalesce("first_name", '') || ' ' || coalesce("last_name", '') || ' ' || coalesce("email", ''))
) STORED;

-- Not partial: the lookup filters deleted customers in a form no partial index matches, so
-- that the planner cannot read "every live customer" from a list index instead (decision 040).
CREATE INDEX "customers_search_text_trgm_idx" ON "customers" USING GIN ("search_text" gin_trgm_ops);

-- One index per list order, each with the id as a stable tiebreak, over live customers.
-- NULL last-order dates are folded into -infinity / infinity so that "no orders" sorts
-- last in both directions and the keyset condition stays one row comparison.
CREATE INDEX "customers_list_last_order_desc_idx" ON "customers" ("shop", (coalesce("last_order_at", '-infinity'::timestamptz)), "id") WHERE "deleted_at" IS NULL;
CREATE INDEX "customers_list_last_order_asc_idx" ON "customers" ("shop", (coalesce("last_order_at", 'infinity'::timestamptz)), "id") WHERE "deleted_at" IS NULL;
CREATE INDEX "customers_list_spent_idx" ON "customers" ("shop", "total_spent_minor", "id") WHERE "deleted_at" IS NULL;

-- The customer page's order timeline: newest first, 20 at a time.
CREATE INDEX "orders_shop_customer_created_id_idx" ON "orders" ("shop", "customer_gid", "shopify_created_at", "id");
