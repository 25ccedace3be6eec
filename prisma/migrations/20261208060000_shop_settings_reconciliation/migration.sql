-- Shop settings (decision 047): the shop's own answer to `shop { ... }` (and shop/update
-- webhooks), kept whole in settings, with the time of the version stored (Shopify's
-- updated_at when the source has one) so an older shop/update never overwrites a newer one.
-- How the shop was connected: 'install' (embedded, token exchange) or 'token' (crm shop connect).
ALTER TABLE "shops" ADD COLUMN "email" TEXT;
ALTER TABLE "shops" ADD COLUMN "settings" JSONB;
ALTER TABLE "shops" ADD COLUMN "settings_updated_at" TIMESTAMPTZ(3);
ALTER TABLE "shops" ADD COLUMN "connected_via" TEXT;

-- Where an inbox row came from: 'shopify' (a webhook delivery) or 'reconcile' (a repair the
-- reconciliation job synthesised and fed through the same apply path, decision 048).
ALTER TABLE "webhook_events" ADD COLUMN "source" TEXT NOT NULL DEFAULT 'shopify';

-- One row per reconciliation run: the window it read (updated_at after watermark_from, up to
-- watermark_to), what it checked and repaired. The next run starts from the last finished
-- run's watermark_to.
CREATE TABLE "reconciliation_runs" (
  "id" BIGSERIAL PRIMARY KEY,
  "shop" TEXT NOT NULL,
  "trigger" TEXT NOT NULL,
  "state" TEXT NOT NULL DEFAULT 'running',
  "watermark_from" TIMESTAMPTZ(3),
  "watermark_to" TIMESTAMPTZ(3) NOT NULL,
  "checked" INTEGER NOT NULL DEFAULT 0,
  "repaired" INTEGER NOT NULL DEFAULT 0,
  "error" TEXT,
  "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  "finished_at" TIMESTAMPTZ(3)
);
CREATE INDEX "reconciliation_runs_shop_started_idx" ON "reconciliation_runs" ("shop", "started_at" DESC);

-- Each repair: the object, what was wrong, and the synthesised inbox row that applied it.
CREATE TABLE "reconciliation_repairs" (
  "id" BIGSERIAL PRIMARY KEY,
  "run_id" BIGINT NOT NULL REFERENCES "reconciliation_runs" ("id") ON DELETE CASCADE,
  "shop" TEXT NOT NULL,
  "object_type" TEXT NOT NULL,
  "gid" TEXT NOT NULL,
  "action" TEXT NOT NULL,
  "reason" TEXT NOT NULL,
  "inbox_id" BIGINT,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);
CREATE INDEX "reconciliation_repairs_shop_created_idx" ON "reconciliation_repairs" ("shop", "created_at" DESC);
CREATE INDEX "reconciliation_repairs_run_idx" ON "reconciliation_repairs" ("run_id");
