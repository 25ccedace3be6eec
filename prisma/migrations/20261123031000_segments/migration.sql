-- CreateEnum
CREATE TYPE "SegmentChange" AS ENUM ('entered', 'exited');

-- CreateEnum
CREATE TYPE "SegmentChangeCause" AS ENUM ('created', 'edited', 'event', 'refresh');

-- CreateTable
CREATE TABLE "segments" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "query" TEXT NOT NULL,
    "tag" TEXT,
    "tag_sync_enabled" BOOLEAN NOT NULL DEFAULT false,
    "member_count" INTEGER NOT NULL DEFAULT 0,
    "relative_time" BOOLEAN NOT NULL DEFAULT false,
    "last_refreshed_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "segments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "segment_members" (
    "segment_id" BIGINT NOT NULL,
    "customer_gid" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "entered_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "segment_members_pkey" PRIMARY KEY ("segment_id","customer_gid")
);

-- CreateTable
CREATE TABLE "segment_membership_changes" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "segment_id" BIGINT NOT NULL,
    "customer_gid" TEXT NOT NULL,
    "change" "SegmentChange" NOT NULL,
    "cause" "SegmentChangeCause" NOT NULL,
    "inbox_id" BIGINT,
    "occurred_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "segment_membership_changes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "segment_shop_versions" (
    "shop" TEXT NOT NULL,
    "version" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "segment_shop_versions_pkey" PRIMARY KEY ("shop")
);

-- CreateIndex
CREATE UNIQUE INDEX "segments_shop_name_key" ON "segments"("shop", "name");

-- CreateIndex
CREATE INDEX "segment_members_shop_customer_gid_idx" ON "segment_members"("shop", "customer_gid");

-- CreateIndex
CREATE INDEX "segment_membership_changes_segment_id_occurred_at_idx" ON "segment_membership_changes"("segment_id", "occurred_at");

-- AddForeignKey
ALTER TABLE "segment_members" ADD CONSTRAINT "segment_members_segment_id_fkey" FOREIGN KEY ("segment_id") REFERENCES "segments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "segment_membership_changes" ADD CONSTRAINT "segment_membership_changes_segment_id_fkey" FOREIGN KEY ("segment_id") REFERENCES "segments"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Locking protocol (docs/decisions/012-segment-membership-locking.md): every change to a shop's
-- segment definitions, and a recompute's apply step, holds the shop's segment lock exclusively
-- (pg_advisory_xact_lock(crm_segment_lock_key(shop))), and the webhook worker's re-evaluation
-- holds it shared until its transaction ends.
-- These functions are LANGUAGE sql with one statement each and there are no semicolons in
-- comments: the migration engine's driver adapter splits scripts on every semicolon.
CREATE FUNCTION crm_segment_lock_key(p_shop text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT hashtextextended('crm-segments:' || p_shop, 0) $$;

-- The shop's segment definitions version, 0 when it never had a segment. VOLATILE and with a
-- FROM clause (so never inlined): it reads with a snapshot taken when it runs.
CREATE FUNCTION crm_segments_version(p_shop text) RETURNS bigint
LANGUAGE sql VOLATILE AS $$ SELECT coalesce(max(version), 0) FROM segment_shop_versions WHERE shop = p_shop $$;

-- Takes the shop's segment lock shared, then reads the version. The version is read by a
-- VOLATILE function called after the lock is granted, so with a snapshot taken after any
-- exclusive holder committed (a plain single statement would read it from a snapshot taken
-- before waiting). One round trip for the worker's hook.
CREATE FUNCTION crm_segments_lock_shared(p_shop text) RETURNS bigint
LANGUAGE sql VOLATILE AS $$
  SELECT crm_segments_version(p_shop) FROM (SELECT pg_advisory_xact_lock_shared(crm_segment_lock_key(p_shop)) OFFSET 0) AS locked
$$;
