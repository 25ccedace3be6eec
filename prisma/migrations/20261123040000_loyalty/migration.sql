-- Loyalty (issue 5): see the // ---- loyalty ---- block in prisma/schema.prisma and docs/loyalty.md.

-- CreateEnum
CREATE TYPE "LoyaltyEntryKind" AS ENUM ('earn', 'reverse', 'redeem', 'refund_redeem', 'expire', 'adjust', 'bonus');

-- CreateEnum
CREATE TYPE "LoyaltyEntryStatus" AS ENUM ('pending', 'available');

-- CreateTable
CREATE TABLE "loyalty_programs" (
    "shop" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "settings" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "loyalty_programs_pkey" PRIMARY KEY ("shop")
);

-- CreateTable
CREATE TABLE "loyalty_program_versions" (
    "shop" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "settings" JSONB NOT NULL,
    "effective_from" TIMESTAMPTZ(6) NOT NULL,
    "saved_by" TEXT NOT NULL,

    CONSTRAINT "loyalty_program_versions_pkey" PRIMARY KEY ("shop","version")
);

-- CreateTable
CREATE TABLE "loyalty_ledger" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "customer_gid" TEXT NOT NULL,
    "points" INTEGER NOT NULL,
    "kind" "LoyaltyEntryKind" NOT NULL,
    "status" "LoyaltyEntryStatus" NOT NULL,
    "available_at" TIMESTAMPTZ(6) NOT NULL,
    "occurred_at" TIMESTAMPTZ(6) NOT NULL,
    "source" TEXT NOT NULL,
    "order_gid" TEXT,
    "reason" TEXT NOT NULL,
    "rule" JSONB NOT NULL DEFAULT '{}',
    "idempotency_key" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "loyalty_ledger_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "loyalty_tier_changes" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "customer_gid" TEXT NOT NULL,
    "from_tier" TEXT,
    "to_tier" TEXT,
    "metric" TEXT NOT NULL,
    "window_kind" TEXT NOT NULL,
    "value" BIGINT NOT NULL,
    "program_version" INTEGER NOT NULL,
    "cause" TEXT NOT NULL,
    "occurred_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "loyalty_tier_changes_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "loyalty_program_versions_shop_effective_from_idx" ON "loyalty_program_versions"("shop", "effective_from");

-- CreateIndex
CREATE INDEX "loyalty_ledger_shop_customer_gid_available_at_idx" ON "loyalty_ledger"("shop", "customer_gid", "available_at");

-- CreateIndex
CREATE INDEX "loyalty_ledger_shop_order_gid_idx" ON "loyalty_ledger"("shop", "order_gid");

-- CreateIndex
CREATE UNIQUE INDEX "loyalty_ledger_shop_idempotency_key_key" ON "loyalty_ledger"("shop", "idempotency_key");

-- CreateIndex
CREATE INDEX "loyalty_tier_changes_shop_customer_gid_id_idx" ON "loyalty_tier_changes"("shop", "customer_gid", "id");


-- Written by hand (Prisma cannot express these).
-- The ledger is append-only: a correction is a new entry, never an edit. DELETE stays possible
-- for privacy erasure (shop/redact) and nothing else deletes. (The body's semicolon is written
-- \x3B: the migration runner splits scripts at every semicolon, even inside quotes.)
CREATE FUNCTION "loyalty_ledger_append_only"() RETURNS trigger LANGUAGE plpgsql AS E'BEGIN
  RAISE EXCEPTION ''loyalty_ledger is append-only: write a reversing entry instead of updating entry %'', OLD.id\x3B
END';
CREATE TRIGGER "loyalty_ledger_no_update" BEFORE UPDATE ON "loyalty_ledger"
  FOR EACH ROW EXECUTE FUNCTION "loyalty_ledger_append_only"();

-- The sign of each kind of entry (adjustments go either way, and a reversal may be a 0-point record
-- of points forgiven under the "never negative" policy).
ALTER TABLE "loyalty_ledger" ADD CONSTRAINT "loyalty_ledger_sign_check" CHECK (
  CASE "kind"
    WHEN 'earn' THEN "points" > 0
    WHEN 'bonus' THEN "points" > 0
    WHEN 'refund_redeem' THEN "points" > 0
    WHEN 'reverse' THEN "points" <= 0
    WHEN 'redeem' THEN "points" < 0
    WHEN 'expire' THEN "points" < 0
    ELSE "points" <> 0
  END
);
