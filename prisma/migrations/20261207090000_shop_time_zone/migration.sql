-- The shop's IANA time zone (Shopify's Shop.ianaTimezone), read once through the Admin API
-- and kept here: the admin pages show dates and times in it, and the loyalty settings
-- default to it. NULL until the app has read it.
ALTER TABLE "shops" ADD COLUMN "ianaTimezone" TEXT;
