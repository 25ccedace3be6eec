-- Privacy, complete (docs/decisions/038-privacy-erasure-and-retention.md).

-- Orders of a redacted customer: kept anonymous for the analytics of the shop, and remembered as
-- redacted so a late refunds/create or orders/updated for them stores no note and its raw
-- payload is scrubbed. (The own redaction record of the customer is customers.redacted_at: the row
-- is created by customers/redact when the app never saw the customer.)
ALTER TABLE "orders" ADD COLUMN "redacted_at" TIMESTAMPTZ(3);

-- The append-only ledger gets one sanctioned erasure path: inside a transaction that set
-- crm.loyalty_ledger_erasure = 'on' (privacy.server.ts, customers/redact), an UPDATE may only
-- replace the link to the person and its free text with the anonymous values: the
-- amount, kind, status and dates can never change. Every other UPDATE still fails.
-- (No semicolon inside the body or any comment: the migration runner splits statements on them.)
CREATE OR REPLACE FUNCTION "loyalty_ledger_append_only"() RETURNS trigger LANGUAGE plpgsql AS E'BEGIN
  IF current_setting(''crm.loyalty_ledger_erasure'', true) = ''on''
     AND NEW.id = OLD.id AND NEW.shop = OLD.shop AND NEW.points = OLD.points AND NEW.kind = OLD.kind
     AND NEW.status = OLD.status AND NEW.available_at = OLD.available_at AND NEW.occurred_at = OLD.occurred_at
     AND NEW.created_at = OLD.created_at
     AND NEW.customer_gid = ''redacted'' AND NEW.source = ''redacted'' AND NEW.reason = ''redacted''
     AND NEW.order_gid IS NULL AND NEW.rule = ''{}''::jsonb AND NEW.idempotency_key = ''redacted:'' || OLD.id::text THEN
    RETURN NEW\x3B
  END IF\x3B
  RAISE EXCEPTION ''loyalty_ledger is append-only: write a reversing entry instead of updating entry %'', OLD.id\x3B
END';

-- Inbox retention: the body of a processed or ignored row is dropped (payload NULL) after
-- INBOX_RETENTION_DAYS: the row (topic, times, status) stays for the audit trail and dedupe.
ALTER TABLE "webhook_events" ALTER COLUMN "payload" DROP NOT NULL;
ALTER TABLE "webhook_events" ADD COLUMN "payload_dropped_at" TIMESTAMPTZ(3);
-- The scan of the retention job: only rows still holding a body, oldest first, whatever the statistics.
CREATE INDEX "webhook_events_retention_idx" ON "webhook_events" ("processed_at")
  WHERE "payload" IS NOT NULL AND "status" IN ('processed', 'ignored');
