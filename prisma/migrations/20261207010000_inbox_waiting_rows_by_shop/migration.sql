-- The worker claims waiting inbox rows one shop at a time (docs/decisions/025-one-shop-per-batch.md).
-- The index gives one shop's waiting rows in arrival order. It also serves every lookup the
-- (shop, status) index did, which it replaces.
CREATE INDEX "webhook_events_shop_status_received_at_idx" ON "webhook_events"("shop", "status", "received_at");

DROP INDEX "webhook_events_shop_status_idx";

-- The claim itself, as a function so that it reads the index in order whatever the statistics.
-- Without them (a new install, autovacuum off) PostgreSQL guesses a handful of matching rows
-- and plans a bitmap scan plus a sort: with 25,000 rows of one shop waiting that read and
-- sorted all of them for every batch (about 280 ms against 0.3 ms). Bitmap and sequential
-- scans are off inside the function only. Rows another transaction holds are skipped, rows
-- this transaction holds are not.
CREATE FUNCTION "crm_claim_waiting_inbox_rows"(p_shop text, p_exclude bigint, p_limit integer)
RETURNS SETOF "webhook_events"
LANGUAGE sql
VOLATILE
SET enable_bitmapscan = off
SET enable_seqscan = off
AS $fn$
  SELECT * FROM "webhook_events"
   WHERE "shop" = p_shop AND "status" = 'received' AND "id" <> p_exclude
   ORDER BY "received_at"
   LIMIT p_limit
   FOR UPDATE SKIP LOCKED
$fn$;
