-- Automations (issue 14, decision 049): see the // ---- automations ---- block in prisma/schema.prisma.
-- A rule is a merchant's "when this happens, do that". A firing is one rule meeting one moment
-- (unique per rule and triggering event key, so a replayed or duplicate event never fires twice)
-- and also the schedule: the runner job claims due firings with a lease, executes their steps in
-- order (actions and waits) and records every action's outcome in automation_action_results.

CREATE TABLE "automation_rules" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT false,
    "trigger_kind" TEXT NOT NULL,
    "definition" JSONB NOT NULL,
    "webhook_secret" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "automation_rules_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "automation_rules_shop_name_key" ON "automation_rules"("shop", "name");
CREATE INDEX "automation_rules_enabled_idx" ON "automation_rules"("shop") WHERE "enabled";

CREATE TABLE "automation_firings" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "rule_id" BIGINT NOT NULL,
    "rule_version" INTEGER NOT NULL,
    "customer_gid" TEXT NOT NULL,
    "event_key" TEXT NOT NULL,
    "trigger" JSONB NOT NULL,
    "occurred_at" TIMESTAMPTZ(6) NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "skip_reason" TEXT,
    "condition_result" BOOLEAN,
    "next_step" INTEGER NOT NULL DEFAULT 0,
    "due_at" TIMESTAMPTZ(6) NOT NULL,
    "lease_token" TEXT,
    "lease_until" TIMESTAMPTZ(6),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(6),

    CONSTRAINT "automation_firings_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "automation_firings_status_check" CHECK ("status" IN ('pending', 'running', 'waiting', 'done', 'skipped', 'failed'))
);

CREATE UNIQUE INDEX "automation_firings_rule_id_event_key_key" ON "automation_firings"("rule_id", "event_key");
CREATE INDEX "automation_firings_due_idx" ON "automation_firings"("due_at") WHERE "status" IN ('pending', 'waiting', 'running');
CREATE INDEX "automation_firings_shop_customer_gid_id_idx" ON "automation_firings"("shop", "customer_gid", "id");

ALTER TABLE "automation_firings" ADD CONSTRAINT "automation_firings_rule_id_fkey" FOREIGN KEY ("rule_id") REFERENCES "automation_rules"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "automation_action_results" (
    "firing_id" BIGINT NOT NULL,
    "step" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "detail" JSONB NOT NULL DEFAULT '{}',
    "error" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "automation_action_results_pkey" PRIMARY KEY ("firing_id", "step"),
    CONSTRAINT "automation_action_results_status_check" CHECK ("status" IN ('in_progress', 'retrying', 'done', 'failed', 'skipped', 'recorded'))
);

ALTER TABLE "automation_action_results" ADD CONSTRAINT "automation_action_results_firing_id_fkey" FOREIGN KEY ("firing_id") REFERENCES "automation_firings"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Moments the apply step found (an order placed or paid, a segment change, a tier change, a new
-- customer), with the facts rules test, waiting for the runner to meet them with the shop's rules
-- (one row per moment whatever the number of rules, deleted when turned into firings).
CREATE TABLE "automation_moments" (
    "shop" TEXT NOT NULL,
    "event_key" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "customer_gid" TEXT NOT NULL,
    "facts" JSONB NOT NULL,
    "occurred_at" TIMESTAMPTZ(6) NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "automation_moments_pkey" PRIMARY KEY ("shop", "event_key")
);

-- How far the runner's scans of time-based and out-of-band moments have read, per shop and source.
CREATE TABLE "automation_cursors" (
    "shop" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "position" TIMESTAMPTZ(6) NOT NULL,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "automation_cursors_pkey" PRIMARY KEY ("shop", "source")
);

-- The per-customer cap on automation messages per week (default 3 when the shop has no row).
CREATE TABLE "automation_settings" (
    "shop" TEXT NOT NULL,
    "messages_per_week" INTEGER NOT NULL DEFAULT 3,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "automation_settings_pkey" PRIMARY KEY ("shop")
);
