-- Feedback requests (issue 12): see the // ---- feedback ---- block in prisma/schema.prisma
-- and docs/feedback.md. Rules are updated in place (one row per shop and rule name): a
-- change applies to requests not yet sent, and a rule removed from the rules file of the shop is
-- marked removed (its unsent requests are skipped with reason rule_removed).

CREATE TABLE "feedback_rules" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "definition" JSONB NOT NULL,
    "removed_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "feedback_rules_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "feedback_rules_shop_name_key" ON "feedback_rules"("shop", "name");

-- Per-shop switches for what a negative answer does besides opening a case.
CREATE TABLE "feedback_settings" (
    "shop" TEXT NOT NULL,
    "tag_negative" BOOLEAN NOT NULL DEFAULT false,
    "staff_alert" BOOLEAN NOT NULL DEFAULT false,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "feedback_settings_pkey" PRIMARY KEY ("shop")
);

CREATE TABLE "feedback_requests" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "rule_id" BIGINT NOT NULL,
    "order_gid" TEXT NOT NULL,
    "customer_gid" TEXT,
    "status" TEXT NOT NULL DEFAULT 'scheduled',
    "skip_reason" TEXT,
    "triggered_at" TIMESTAMPTZ(6) NOT NULL,
    "send_at" TIMESTAMPTZ(6) NOT NULL,
    "sent_at" TIMESTAMPTZ(6),
    "reminders_sent" INTEGER NOT NULL DEFAULT 0,
    "next_reminder_at" TIMESTAMPTZ(6),
    "link_expires_at" TIMESTAMPTZ(6),
    "answered_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "feedback_requests_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "feedback_requests_status_check" CHECK ("status" IN ('scheduled', 'sent', 'reminded', 'answered', 'skipped')),
    CONSTRAINT "feedback_requests_skip_reason_check" CHECK (("status" = 'skipped') = ("skip_reason" IS NOT NULL)),
    CONSTRAINT "feedback_requests_reminders_check" CHECK ("reminders_sent" BETWEEN 0 AND 3),
    CONSTRAINT "feedback_requests_rule_id_fkey" FOREIGN KEY ("rule_id") REFERENCES "feedback_rules"("id") ON DELETE RESTRICT
);
-- One request per rule and order: the idempotency key of the apply step.
CREATE UNIQUE INDEX "feedback_requests_shop_rule_id_order_gid_key" ON "feedback_requests"("shop", "rule_id", "order_gid");
CREATE INDEX "feedback_requests_shop_customer_gid_idx" ON "feedback_requests"("shop", "customer_gid");
CREATE INDEX "feedback_requests_shop_order_gid_idx" ON "feedback_requests"("shop", "order_gid");
-- The two claims of the scheduler (first sends, reminders): partial, so only waiting rows are indexed.
CREATE INDEX "feedback_requests_due_send_idx" ON "feedback_requests"("send_at") WHERE "status" = 'scheduled';
CREATE INDEX "feedback_requests_due_reminder_idx" ON "feedback_requests"("next_reminder_at") WHERE "next_reminder_at" IS NOT NULL;

CREATE TABLE "feedback_responses" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    -- NULL once the request was erased (customers/redact): the anonymous score stays.
    "request_id" BIGINT,
    "order_gid" TEXT,
    "customer_gid" TEXT,
    "nps" SMALLINT NOT NULL,
    "comment" TEXT,
    "language" TEXT,
    "sentiment_score" DOUBLE PRECISION,
    "sentiment_label" TEXT,
    "submitted_at" TIMESTAMPTZ(6) NOT NULL,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "edits" INTEGER NOT NULL DEFAULT 0,
    "redacted_at" TIMESTAMPTZ(6),

    CONSTRAINT "feedback_responses_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "feedback_responses_nps_check" CHECK ("nps" BETWEEN 0 AND 10),
    CONSTRAINT "feedback_responses_sentiment_label_check" CHECK ("sentiment_label" IS NULL OR "sentiment_label" IN ('positive', 'neutral', 'negative')),
    CONSTRAINT "feedback_responses_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "feedback_requests"("id") ON DELETE SET NULL
);
CREATE UNIQUE INDEX "feedback_responses_request_id_key" ON "feedback_responses"("request_id");
CREATE INDEX "feedback_responses_shop_customer_gid_idx" ON "feedback_responses"("shop", "customer_gid");
CREATE INDEX "feedback_responses_shop_submitted_at_idx" ON "feedback_responses"("shop", "submitted_at");

CREATE TABLE "feedback_product_ratings" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "response_id" BIGINT NOT NULL,
    "product_gid" TEXT NOT NULL,
    "rating" SMALLINT NOT NULL,
    "review" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "feedback_product_ratings_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "feedback_product_ratings_rating_check" CHECK ("rating" BETWEEN 1 AND 5),
    CONSTRAINT "feedback_product_ratings_response_id_fkey" FOREIGN KEY ("response_id") REFERENCES "feedback_responses"("id") ON DELETE CASCADE
);
CREATE UNIQUE INDEX "feedback_product_ratings_response_id_product_gid_key" ON "feedback_product_ratings"("response_id", "product_gid");
CREATE INDEX "feedback_product_ratings_shop_product_gid_idx" ON "feedback_product_ratings"("shop", "product_gid");

-- Service recovery: one case per response at most.
CREATE TABLE "feedback_cases" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "response_id" BIGINT NOT NULL,
    "customer_gid" TEXT,
    "order_gid" TEXT,
    "reasons" TEXT[] NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'open',
    "staff_note" TEXT,
    "resolved_by" TEXT,
    "resolved_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "feedback_cases_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "feedback_cases_status_check" CHECK ("status" IN ('open', 'resolved')),
    CONSTRAINT "feedback_cases_response_id_fkey" FOREIGN KEY ("response_id") REFERENCES "feedback_responses"("id") ON DELETE CASCADE
);
CREATE UNIQUE INDEX "feedback_cases_response_id_key" ON "feedback_cases"("response_id");
CREATE INDEX "feedback_cases_shop_status_idx" ON "feedback_cases"("shop", "status");
