-- Tag sync outbox (issue 4): see the // ---- tag sync ---- block in prisma/schema.prisma.

-- CreateEnum
CREATE TYPE "TagWriteAction" AS ENUM ('add', 'remove');

-- CreateEnum
CREATE TYPE "TagWriteStatus" AS ENUM ('pending', 'in_flight', 'done', 'failed', 'skipped');

-- CreateTable
CREATE TABLE "tag_writes" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "customer_gid" TEXT NOT NULL,
    "tag" TEXT NOT NULL,
    "tag_key" TEXT NOT NULL,
    "action" "TagWriteAction" NOT NULL,
    "source" TEXT NOT NULL,
    "status" "TagWriteStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "outcome" JSONB,
    "bulk_batch" TEXT,
    "bulk_line" INTEGER,
    "bulk_operation_gid" TEXT,
    "next_attempt_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "claimed_at" TIMESTAMPTZ(6),
    "completed_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tag_writes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "app_added_tags" (
    "shop" TEXT NOT NULL,
    "customer_gid" TEXT NOT NULL,
    "tag_key" TEXT NOT NULL,
    "tag" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "write_id" BIGINT NOT NULL,
    "added_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "app_added_tags_pkey" PRIMARY KEY ("shop","customer_gid","tag_key")
);

-- CreateIndex
CREATE INDEX "tag_writes_shop_status_next_attempt_at_idx" ON "tag_writes"("shop", "status", "next_attempt_at");

-- CreateIndex
CREATE INDEX "tag_writes_shop_source_status_idx" ON "tag_writes"("shop", "source", "status");

-- CreateIndex
CREATE INDEX "tag_writes_shop_bulk_operation_gid_idx" ON "tag_writes"("shop", "bulk_operation_gid");

-- CreateIndex
CREATE INDEX "tag_writes_shop_customer_gid_tag_key_idx" ON "tag_writes"("shop", "customer_gid", "tag_key");

-- CreateIndex
CREATE INDEX "app_added_tags_shop_source_idx" ON "app_added_tags"("shop", "source");

-- CreateIndex
CREATE INDEX "app_added_tags_shop_tag_key_idx" ON "app_added_tags"("shop", "tag_key");


-- Written by hand (Prisma cannot express these).
-- an intent is never queued twice: at most one open (pending or in_flight) write per shop,
-- customer and tag (tag_key = lower(tag), as Shopify compares customer tags case-insensitively).
CREATE UNIQUE INDEX "tag_writes_one_open_intent" ON "tag_writes"("shop", "customer_gid", "tag_key") WHERE "status" IN ('pending', 'in_flight');

-- The Shopify limit of 255 characters per tag, and the definition of tag_key, enforced by the database too.
ALTER TABLE "tag_writes" ADD CONSTRAINT "tag_writes_tag_check" CHECK (char_length("tag") BETWEEN 1 AND 255 AND "tag_key" = lower("tag"));
ALTER TABLE "app_added_tags" ADD CONSTRAINT "app_added_tags_tag_check" CHECK (char_length("tag") BETWEEN 1 AND 255 AND "tag_key" = lower("tag"));
