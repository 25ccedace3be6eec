-- History import (issue 13, decision 045): one import run per shop at a time, its bulk
-- operations per object type, and UNLOGGED staging tables the JSONL is copied into before
-- the set-based merge into the CRM tables.

CREATE TABLE "import_runs" (
    "id" BIGSERIAL PRIMARY KEY,
    "shop" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'running' CHECK ("state" IN ('running', 'done', 'failed')),
    "phase" TEXT NOT NULL DEFAULT 'bulk',
    "warning" TEXT,
    "error" TEXT,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "finished_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX "import_runs_one_running_per_shop" ON "import_runs" ("shop") WHERE "state" = 'running';
CREATE INDEX "import_runs_shop_started_idx" ON "import_runs" ("shop", "id" DESC);

-- One row per run and object type: pending -> running (bulk operation started) -> staged
-- (every JSONL line copied) -> merged. merged_through is the last staging seq merged.
CREATE TABLE "import_run_objects" (
    "run_id" BIGINT NOT NULL REFERENCES "import_runs" ("id") ON DELETE CASCADE,
    "object_type" TEXT NOT NULL CHECK ("object_type" IN ('customers', 'orders', 'products')),
    "status" TEXT NOT NULL DEFAULT 'pending' CHECK ("status" IN ('pending', 'running', 'staged', 'merged')),
    "bulk_operation_gid" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "total" BIGINT,
    "staged" BIGINT NOT NULL DEFAULT 0,
    "merged" BIGINT NOT NULL DEFAULT 0,
    "merged_through" BIGINT NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    PRIMARY KEY ("run_id", "object_type")
);
CREATE INDEX "import_run_objects_bulk_op_idx" ON "import_run_objects" ("bulk_operation_gid");

-- Shopify's own totals per customer, read by the import (the cross-check compares them).
CREATE TABLE "customer_shopify_totals" (
    "shop" TEXT NOT NULL,
    "customer_gid" TEXT NOT NULL,
    "amount_spent_minor" BIGINT,
    "amount_spent_currency" TEXT,
    "number_of_orders" BIGINT,
    "read_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    PRIMARY KEY ("shop", "customer_gid")
);

CREATE UNLOGGED TABLE "import_stage_customers" (
    "run_id" BIGINT NOT NULL,
    "seq" BIGINT NOT NULL,
    "gid" TEXT NOT NULL,
    "email" TEXT,
    "first_name" TEXT,
    "last_name" TEXT,
    "phone" TEXT,
    "state" TEXT,
    "note" TEXT,
    "verified_email" BOOLEAN,
    "country_code" TEXT,
    "province" TEXT,
    "city" TEXT,
    "addresses" JSONB,
    "tags" TEXT[],
    "email_state" TEXT,
    "email_opt_in_level" TEXT,
    "email_consent_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3),
    "amount_spent_minor" BIGINT,
    "amount_spent_currency" TEXT,
    "number_of_orders" BIGINT
);
CREATE INDEX "import_stage_customers_seq_idx" ON "import_stage_customers" USING brin ("seq") WITH (pages_per_range = 16);

CREATE UNLOGGED TABLE "import_stage_orders" (
    "run_id" BIGINT NOT NULL,
    "seq" BIGINT NOT NULL,
    "gid" TEXT NOT NULL,
    "legacy_id" TEXT NOT NULL,
    "customer_gid" TEXT,
    "name" TEXT,
    "email" TEXT,
    "currency" TEXT NOT NULL,
    "presentment_currency" TEXT,
    "total_price_minor" BIGINT NOT NULL,
    "subtotal_minor" BIGINT NOT NULL,
    "total_tax_minor" BIGINT NOT NULL,
    "total_discounts_minor" BIGINT NOT NULL,
    "shipping_minor" BIGINT NOT NULL,
    "financial_status" TEXT,
    "fulfillment_status" TEXT,
    "cancelled_at" TIMESTAMPTZ(3),
    "cancel_reason" TEXT,
    "test" BOOLEAN NOT NULL,
    "source_name" TEXT,
    "tags" TEXT[] NOT NULL,
    "discount_codes" TEXT[] NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "processed_at" TIMESTAMPTZ(3),
    "closed_at" TIMESTAMPTZ(3)
);
CREATE INDEX "import_stage_orders_seq_idx" ON "import_stage_orders" USING brin ("seq") WITH (pages_per_range = 16);

-- Children carry their parent's staging seq (the JSONL puts a child after its parent). The
-- staging indexes are BRIN: rows are appended in seq order, so a block-range index finds a
-- merge chunk's rows at almost no cost to the COPY (a btree would be maintained row by row).
CREATE UNLOGGED TABLE "import_stage_line_items" (
    "run_id" BIGINT NOT NULL,
    "parent_seq" BIGINT NOT NULL,
    "order_gid" TEXT NOT NULL,
    "gid" TEXT NOT NULL,
    "product_gid" TEXT,
    "variant_gid" TEXT,
    "title" TEXT NOT NULL,
    "variant_title" TEXT,
    "sku" TEXT,
    "vendor" TEXT,
    "quantity" INTEGER NOT NULL,
    "price_minor" BIGINT NOT NULL,
    "total_discount_minor" BIGINT NOT NULL,
    "gift_card" BOOLEAN NOT NULL
);
CREATE INDEX "import_stage_line_items_parent_idx" ON "import_stage_line_items" USING brin ("parent_seq") WITH (pages_per_range = 16);

CREATE UNLOGGED TABLE "import_stage_refunds" (
    "run_id" BIGINT NOT NULL,
    "parent_seq" BIGINT NOT NULL,
    "gid" TEXT NOT NULL,
    "legacy_id" TEXT NOT NULL,
    "order_legacy_id" TEXT NOT NULL,
    "amount_minor" BIGINT NOT NULL,
    "currency" TEXT,
    "note" TEXT,
    "refunded_at" TIMESTAMPTZ(3) NOT NULL
);
CREATE INDEX "import_stage_refunds_parent_idx" ON "import_stage_refunds" USING brin ("parent_seq") WITH (pages_per_range = 16);

CREATE UNLOGGED TABLE "import_stage_products" (
    "run_id" BIGINT NOT NULL,
    "seq" BIGINT NOT NULL,
    "gid" TEXT NOT NULL,
    "title" TEXT,
    "product_type" TEXT,
    "vendor" TEXT,
    "status" TEXT,
    "tags" TEXT[] NOT NULL,
    "created_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3)
);
CREATE INDEX "import_stage_products_seq_idx" ON "import_stage_products" USING brin ("seq") WITH (pages_per_range = 16);

-- Segment entries and exits caused by the import (later automations must not fire on them).
ALTER TYPE "SegmentChangeCause" ADD VALUE IF NOT EXISTS 'import';
