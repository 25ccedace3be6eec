-- Email channel (issue 12): see the // ---- email ---- block in prisma/schema.prisma and
-- docs/decisions/030-email-outbox-and-sender.md.

-- CreateEnum
CREATE TYPE "EmailStatus" AS ENUM ('pending', 'sending', 'sent', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "EmailSuppressionReason" AS ENUM ('unsubscribed', 'bounced', 'redacted');

-- CreateTable
CREATE TABLE "email_outbox" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "customer_gid" TEXT,
    "to_address" TEXT,
    "category" TEXT NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "html" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "message_id" TEXT NOT NULL,
    "status" "EmailStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "smtp_response" TEXT,
    "claim_token" UUID,
    "locked_until" TIMESTAMPTZ(6),
    "send_after" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "next_attempt_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(6),
    "completed_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "email_outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "email_suppressions" (
    "shop" TEXT NOT NULL,
    "address_hash" TEXT NOT NULL,
    "reason" "EmailSuppressionReason" NOT NULL,
    "detail" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "email_suppressions_pkey" PRIMARY KEY ("shop","address_hash")
);

-- CreateTable
CREATE TABLE "email_settings" (
    "shop" TEXT NOT NULL,
    "sender_name" TEXT,
    "reply_to" TEXT,
    "footer_address" TEXT,
    "locale" TEXT NOT NULL DEFAULT 'en',
    "staff_alert_address" TEXT,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "email_settings_pkey" PRIMARY KEY ("shop")
);

-- CreateIndex
CREATE UNIQUE INDEX "email_outbox_shop_idempotency_key_key" ON "email_outbox"("shop", "idempotency_key");

-- CreateIndex
CREATE INDEX "email_outbox_status_next_attempt_at_idx" ON "email_outbox"("status", "next_attempt_at");

-- CreateIndex
CREATE INDEX "email_outbox_shop_customer_gid_created_at_idx" ON "email_outbox"("shop", "customer_gid", "created_at");

-- Written by hand: a suppression names its address by SHA-256 of the lower-cased address (hex),
-- so the list survives customers/redact without keeping the address itself.
ALTER TABLE "email_suppressions" ADD CONSTRAINT "email_suppressions_address_hash_check" CHECK ("address_hash" ~ '^[0-9a-f]{64}$');
-- A row being sent carries its lease.
ALTER TABLE "email_outbox" ADD CONSTRAINT "email_outbox_lease_check" CHECK ("status" <> 'sending' OR ("claim_token" IS NOT NULL AND "locked_until" IS NOT NULL));
