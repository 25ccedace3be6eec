-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "WebhookStatus" AS ENUM ('received', 'processed', 'failed', 'dead', 'ignored');

-- CreateTable
CREATE TABLE "Session" (
    "id" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "isOnline" BOOLEAN NOT NULL DEFAULT false,
    "scope" TEXT,
    "expires" TIMESTAMP(3),
    "accessToken" TEXT NOT NULL,
    "userId" BIGINT,
    "firstName" TEXT,
    "lastName" TEXT,
    "email" TEXT,
    "accountOwner" BOOLEAN NOT NULL DEFAULT false,
    "locale" TEXT,
    "collaborator" BOOLEAN DEFAULT false,
    "emailVerified" BOOLEAN DEFAULT false,
    "refreshToken" TEXT,
    "refreshTokenExpires" TIMESTAMP(3),

    CONSTRAINT "Session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "shops" (
    "domain" TEXT NOT NULL,
    "name" TEXT,
    "currencyCode" TEXT,
    "scopes" TEXT,
    "installed_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "uninstalled_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "shops_pkey" PRIMARY KEY ("domain")
);

-- CreateTable
CREATE TABLE "webhook_events" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "webhook_id" TEXT NOT NULL,
    "event_id" TEXT,
    "topic" TEXT NOT NULL,
    "api_version" TEXT NOT NULL,
    "triggered_at" TIMESTAMP(3),
    "received_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "payload" TEXT NOT NULL,
    "status" "WebhookStatus" NOT NULL DEFAULT 'received',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "replays" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "processed_at" TIMESTAMP(3),

    CONSTRAINT "webhook_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "customers" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "gid" TEXT NOT NULL,
    "email" TEXT,
    "first_name" TEXT,
    "last_name" TEXT,
    "phone" TEXT,
    "state" TEXT,
    "note" TEXT,
    "verified_email" BOOLEAN,
    "currency" TEXT,
    "country_code" TEXT,
    "province" TEXT,
    "city" TEXT,
    "addresses" JSONB,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "email_marketing_state" TEXT,
    "email_opt_in_level" TEXT,
    "email_consent_at" TIMESTAMP(3),
    "shopify_created_at" TIMESTAMP(3),
    "shopify_updated_at" TIMESTAMP(3),
    "deleted_at" TIMESTAMP(3),
    "redacted_at" TIMESTAMP(3),
    "orders_count" INTEGER NOT NULL DEFAULT 0,
    "total_spent_minor" BIGINT NOT NULL DEFAULT 0,
    "refunded_minor" BIGINT NOT NULL DEFAULT 0,
    "aov_minor" BIGINT NOT NULL DEFAULT 0,
    "aggregate_currency" TEXT,
    "first_order_at" TIMESTAMP(3),
    "last_order_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "customers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "customer_tags" (
    "shop" TEXT NOT NULL,
    "customer_gid" TEXT NOT NULL,
    "tag" TEXT NOT NULL,
    "present" BOOLEAN NOT NULL,
    "occurred_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "customer_tags_pkey" PRIMARY KEY ("shop","customer_gid","tag")
);

-- CreateTable
CREATE TABLE "orders" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "gid" TEXT NOT NULL,
    "legacy_id" TEXT NOT NULL,
    "customer_gid" TEXT,
    "name" TEXT,
    "email" TEXT,
    "currency" TEXT NOT NULL,
    "presentment_currency" TEXT,
    "total_price_minor" BIGINT NOT NULL,
    "subtotal_minor" BIGINT NOT NULL DEFAULT 0,
    "total_tax_minor" BIGINT NOT NULL DEFAULT 0,
    "total_discounts_minor" BIGINT NOT NULL DEFAULT 0,
    "shipping_minor" BIGINT NOT NULL DEFAULT 0,
    "refunded_minor" BIGINT NOT NULL DEFAULT 0,
    "financial_status" TEXT,
    "fulfillment_status" TEXT,
    "cancelled_at" TIMESTAMP(3),
    "cancel_reason" TEXT,
    "test" BOOLEAN NOT NULL DEFAULT false,
    "source_name" TEXT,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "discount_codes" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "shopify_created_at" TIMESTAMP(3) NOT NULL,
    "shopify_updated_at" TIMESTAMP(3) NOT NULL,
    "processed_at" TIMESTAMP(3),
    "closed_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "orders_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "line_items" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "gid" TEXT NOT NULL,
    "order_gid" TEXT NOT NULL,
    "product_gid" TEXT,
    "variant_gid" TEXT,
    "title" TEXT NOT NULL,
    "variant_title" TEXT,
    "sku" TEXT,
    "vendor" TEXT,
    "quantity" INTEGER NOT NULL,
    "price_minor" BIGINT NOT NULL,
    "total_discount_minor" BIGINT NOT NULL DEFAULT 0,
    "gift_card" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "line_items_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "refunds" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "gid" TEXT NOT NULL,
    "legacy_id" TEXT NOT NULL,
    "order_legacy_id" TEXT NOT NULL,
    "amount_minor" BIGINT NOT NULL,
    "currency" TEXT,
    "note" TEXT,
    "line_items" JSONB NOT NULL DEFAULT '[]',
    "refunded_at" TIMESTAMP(3) NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "refunds_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "products" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "gid" TEXT NOT NULL,
    "title" TEXT,
    "product_type" TEXT,
    "vendor" TEXT,
    "status" TEXT,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "shopify_created_at" TIMESTAMP(3),
    "shopify_updated_at" TIMESTAMP(3),
    "deleted_at" TIMESTAMP(3),

    CONSTRAINT "products_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bulk_operations" (
    "shop" TEXT NOT NULL,
    "gid" TEXT NOT NULL,
    "type" TEXT,
    "status" TEXT,
    "error_code" TEXT,
    "completed_at" TIMESTAMP(3),
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "bulk_operations_pkey" PRIMARY KEY ("shop","gid")
);

-- CreateTable
CREATE TABLE "data_exports" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "customer_gid" TEXT NOT NULL,
    "request_id" TEXT,
    "data" JSONB NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "data_exports_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_log" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "subject" TEXT,
    "details" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Session_shop_idx" ON "Session"("shop");

-- CreateIndex
CREATE INDEX "webhook_events_status_received_at_idx" ON "webhook_events"("status", "received_at");

-- CreateIndex
CREATE INDEX "webhook_events_shop_status_idx" ON "webhook_events"("shop", "status");

-- CreateIndex
CREATE UNIQUE INDEX "webhook_events_shop_webhook_id_key" ON "webhook_events"("shop", "webhook_id");

-- CreateIndex
CREATE INDEX "customers_shop_total_spent_minor_idx" ON "customers"("shop", "total_spent_minor");

-- CreateIndex
CREATE INDEX "customers_shop_last_order_at_idx" ON "customers"("shop", "last_order_at");

-- CreateIndex
CREATE INDEX "customers_shop_email_idx" ON "customers"("shop", "email");

-- CreateIndex
CREATE UNIQUE INDEX "customers_shop_gid_key" ON "customers"("shop", "gid");

-- CreateIndex
CREATE INDEX "orders_shop_customer_gid_idx" ON "orders"("shop", "customer_gid");

-- CreateIndex
CREATE INDEX "orders_shop_shopify_created_at_idx" ON "orders"("shop", "shopify_created_at");

-- CreateIndex
CREATE UNIQUE INDEX "orders_shop_gid_key" ON "orders"("shop", "gid");

-- CreateIndex
CREATE UNIQUE INDEX "orders_shop_legacy_id_key" ON "orders"("shop", "legacy_id");

-- CreateIndex
CREATE INDEX "line_items_shop_order_gid_idx" ON "line_items"("shop", "order_gid");

-- CreateIndex
CREATE INDEX "line_items_shop_product_gid_idx" ON "line_items"("shop", "product_gid");

-- CreateIndex
CREATE UNIQUE INDEX "line_items_shop_gid_key" ON "line_items"("shop", "gid");

-- CreateIndex
CREATE INDEX "refunds_shop_order_legacy_id_idx" ON "refunds"("shop", "order_legacy_id");

-- CreateIndex
CREATE UNIQUE INDEX "refunds_shop_gid_key" ON "refunds"("shop", "gid");

-- CreateIndex
CREATE UNIQUE INDEX "products_shop_gid_key" ON "products"("shop", "gid");

-- CreateIndex
CREATE INDEX "data_exports_shop_customer_gid_idx" ON "data_exports"("shop", "customer_gid");

-- CreateIndex
CREATE INDEX "audit_log_shop_created_at_idx" ON "audit_log"("shop", "created_at");

