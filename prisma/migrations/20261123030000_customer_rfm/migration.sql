-- Segments: RFM scores and group per customer, and the indexes the compiled segment SQL
-- uses (app/domain/segments/sql.ts). app/services/segments/rfm.server.ts recomputes the RFM
-- columns for a whole shop, docs/segments.md describes the method.
-- (No semicolons in comments: the WASM schema engine splits the script on them.)

-- AlterTable
ALTER TABLE "customers" ADD COLUMN     "rfm_computed_at" TIMESTAMPTZ(6),
ADD COLUMN     "rfm_frequency" SMALLINT,
ADD COLUMN     "rfm_group" TEXT,
ADD COLUMN     "rfm_monetary" SMALLINT,
ADD COLUMN     "rfm_recency" SMALLINT;

-- CreateIndex
CREATE INDEX "customers_shop_rfm_group_idx" ON "customers"("shop", "rfm_group");

-- Tags compared ignoring case: `customer_tags CONTAINS 'vip'` compiles to
-- segment_lower_tags(c.tags) @> ARRAY['vip'], which this GIN index serves. NULL gives an
-- empty array, so the predicate is never NULL. (Expression indexes are not expressible in
-- schema.prisma: they live here only.)
CREATE FUNCTION "segment_lower_tags"(tags TEXT[]) RETURNS TEXT[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT ARRAY(SELECT lower(t) FROM unnest(tags) AS t) $$;

CREATE INDEX "customers_segment_lower_tags_idx" ON "customers" USING GIN ("segment_lower_tags"("tags"));

-- products_purchased(product_type: ...) compares lower(product_type): the index gives the
-- planner statistics for that expression, and the lookup.
CREATE INDEX "products_shop_lower_product_type_idx" ON "products" ("shop", lower("product_type"));

-- products_purchased and orders_placed look at a customer's orders that count (neither
-- cancelled nor test) since a date: one index-only range per customer.
CREATE INDEX "orders_segment_counted_idx" ON "orders" ("shop", "customer_gid", "shopify_created_at") INCLUDE ("gid")
  WHERE "cancelled_at" IS NULL AND NOT "test";
