-- Shopify Flow action runs the app served (decision 058): one row per Flow action_run_id, written
-- in the transaction that performs the action, so a run Flow sends again is answered from here
-- and never acts twice.
CREATE TABLE "flow_action_runs" (
    "shop" TEXT NOT NULL,
    "action_run_id" TEXT NOT NULL,
    "handle" TEXT NOT NULL,
    "customer_gid" TEXT,
    "outcome" TEXT NOT NULL,
    "detail" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "flow_action_runs_pkey" PRIMARY KEY ("shop", "action_run_id")
);

CREATE INDEX "flow_action_runs_shop_created_idx" ON "flow_action_runs"("shop", "created_at");
