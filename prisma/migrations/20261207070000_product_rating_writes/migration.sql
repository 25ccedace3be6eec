-- Product ratings back to Shopify (issue 12, decision 037), and at the end the indexes of the
-- feedback segment attributes. The ratings: an outbox of products whose
-- published rating must be rewritten (reviews.rating / reviews.rating_count metafields), and
-- per shop which standard metafield definitions the app has enabled.
--
-- A row says "this product's rating changed", the writer computes the average and count from
-- feedback_product_ratings when it sends, so one pending row per shop and product is enough
-- (later changes coalesce into it). A row in flight does not absorb later changes: a change
-- made while it is being sent gets a new pending row.

CREATE TABLE "product_rating_writes" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "product_gid" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "claimed_at" TIMESTAMPTZ(6),
    "completed_at" TIMESTAMPTZ(6),
    -- What was written: the average (one decimal, text as sent) and the count.
    "rating" TEXT,
    "rating_count" INTEGER,
    "last_error" TEXT,
    "outcome" JSONB,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "product_rating_writes_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "product_rating_writes_status_check" CHECK ("status" IN ('pending', 'in_flight', 'done', 'skipped', 'failed'))
);
-- One pending row per shop and product: the coalescing key of markProductRatingsDirty.
CREATE UNIQUE INDEX "product_rating_writes_pending_key" ON "product_rating_writes"("shop", "product_gid") WHERE "status" = 'pending';
-- The writer's claim and the sweeper: only open rows are indexed.
CREATE INDEX "product_rating_writes_due_idx" ON "product_rating_writes"("shop", "next_attempt_at") WHERE "status" IN ('pending', 'in_flight');

CREATE TABLE "shop_metafield_definitions" (
    "shop" TEXT NOT NULL,
    "owner_type" TEXT NOT NULL,
    "namespace" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    -- enabled: the app enabled it, existing: it was there already (TAKEN), failed: see outcome.
    "status" TEXT NOT NULL,
    "definition_gid" TEXT,
    "outcome" JSONB,
    "attempted_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "shop_metafield_definitions_pkey" PRIMARY KEY ("shop", "owner_type", "namespace", "key"),
    CONSTRAINT "shop_metafield_definitions_status_check" CHECK ("status" IN ('enabled', 'existing', 'failed'))
);

-- Segment attributes from feedback (app/domain/segments/fields.ts APP_FIELDS): nps_score and
-- nps_group read a customer's latest response, has_open_case looks for an open case. Each is a
-- correlated lookup per customer row of the membership statement, so each gets its index.
-- (loyalty_points and loyalty_tier use the loyalty tables' existing (shop, customer_gid, ...) indexes.)
CREATE INDEX "feedback_responses_shop_customer_gid_latest_idx" ON "feedback_responses"("shop", "customer_gid", "submitted_at" DESC, "id" DESC);
CREATE INDEX "feedback_cases_shop_customer_gid_open_idx" ON "feedback_cases"("shop", "customer_gid") WHERE "status" = 'open';
