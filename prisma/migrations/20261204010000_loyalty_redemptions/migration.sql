-- Loyalty redemptions (issue 5, rewards): one row per redemption, see the
-- // --- loyalty redemptions --- block in prisma/schema.prisma and docs/loyalty.md.
-- A row is written pending together with its debit ledger entry, then settled once:
-- issued (code and discount gid) or failed (reason, the points credited back).

-- CreateEnum
CREATE TYPE "LoyaltyRedemptionStatus" AS ENUM ('pending', 'issued', 'failed');

-- CreateTable
CREATE TABLE "loyalty_redemptions" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "customer_gid" TEXT NOT NULL,
    "reward_id" TEXT NOT NULL,
    "reward" JSONB NOT NULL,
    "points" INTEGER NOT NULL,
    "status" "LoyaltyRedemptionStatus" NOT NULL DEFAULT 'pending',
    "code" TEXT,
    "discount_gid" TEXT,
    "starts_at" TIMESTAMPTZ(6) NOT NULL,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "failure_reason" TEXT,
    "request_key" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "loyalty_redemptions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "loyalty_redemptions_shop_customer_gid_request_key_key" ON "loyalty_redemptions"("shop", "customer_gid", "request_key");

-- CreateIndex
CREATE INDEX "loyalty_redemptions_shop_customer_gid_id_idx" ON "loyalty_redemptions"("shop", "customer_gid", "id");

-- CreateIndex
CREATE UNIQUE INDEX "loyalty_redemptions_shop_code_key" ON "loyalty_redemptions"("shop", "code");

-- Recovery looks for rows still pending (few at any time).
CREATE INDEX "loyalty_redemptions_pending_idx" ON "loyalty_redemptions"("created_at") WHERE "status" = 'pending';

-- A settled row says how it was settled.
ALTER TABLE "loyalty_redemptions" ADD CONSTRAINT "loyalty_redemptions_outcome_check" CHECK (
  "points" > 0
  AND ("status" <> 'issued' OR ("code" IS NOT NULL AND "discount_gid" IS NOT NULL))
  AND ("status" <> 'failed' OR "failure_reason" IS NOT NULL)
);
