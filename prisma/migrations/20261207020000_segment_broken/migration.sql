-- A segment whose evaluation failed (its stored query no longer checks or compiles, or the
-- database rejected its filter) is marked broken: the worker's apply step and the scheduled
-- refresh skip it, the admin and the CLI show it, and saving it with a valid query clears it
-- (docs/decisions/026-segment-containment-and-limits.md).
ALTER TABLE "segments" ADD COLUMN "broken_at" TIMESTAMPTZ(6);
ALTER TABLE "segments" ADD COLUMN "broken_reason" TEXT;
