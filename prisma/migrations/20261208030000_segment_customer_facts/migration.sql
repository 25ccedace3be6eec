-- Segment attributes from the customer's own facts (decision 043): cities and regions of its
-- addresses, SMS consent, language, birth date (anniversary), and abandoned checkouts.

-- A place name as a segment key part: lower case, without spaces and the punctuation a city
-- name carries ("Los Angeles" and "los-angeles" give "losangeles"). The same rule is
-- app/domain/segments/places.ts placeKeyPart.
CREATE FUNCTION "segment_place_part"(part TEXT) RETURNS TEXT
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT lower(regexp_replace(btrim(part), '[[:space:].,''’"()&/_-]+', '', 'g')) $$;

-- Every address of a customer as (country code, province code or name, city): the default
-- address columns and each element of the stored address list (a list only).
CREATE FUNCTION "segment_places"(addresses JSONB, country_code TEXT, province TEXT, city TEXT)
  RETURNS TABLE (country TEXT, region TEXT, town TEXT)
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$
    SELECT lower(btrim(country_code)), segment_place_part(province), segment_place_part(city)
    UNION ALL
    SELECT lower(btrim(a->>'countryCode')), segment_place_part(a->>'province'), segment_place_part(a->>'city')
      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(addresses) = 'array' THEN addresses ELSE '[]'::jsonb END) AS e(a)
  $$;

-- customer_regions: 'CC-REGION' keys ('ca-on'), customer_cities: 'CC-REGION-CITY' keys
-- ('us-ca-losangeles'), or 'CC-CITY' for an address without a province.
CREATE FUNCTION "segment_region_keys"(addresses JSONB, country_code TEXT, province TEXT, city TEXT) RETURNS TEXT[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$
    SELECT COALESCE(array_agg(DISTINCT p.country || '-' || p.region ORDER BY p.country || '-' || p.region), '{}')
      FROM segment_places(addresses, country_code, province, city) AS p
     WHERE p.country <> '' AND p.region <> ''
  $$;

CREATE FUNCTION "segment_city_keys"(addresses JSONB, country_code TEXT, province TEXT, city TEXT) RETURNS TEXT[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$
    SELECT COALESCE(array_agg(DISTINCT k ORDER BY k), '{}')
      FROM (SELECT CASE WHEN COALESCE(p.region, '') = '' THEN p.country || '-' || p.town ELSE p.country || '-' || p.region || '-' || p.town END AS k
              FROM segment_places(addresses, country_code, province, city) AS p
             WHERE p.country <> '' AND p.town <> '') AS keys
  $$;

-- Kept by PostgreSQL from the address columns (never written by the app): both write paths,
-- the redaction (which empties the addresses) and old rows follow without application code.
ALTER TABLE "customers" ADD COLUMN "segment_regions" TEXT[] GENERATED ALWAYS AS (segment_region_keys("addresses", "country_code", "province", "city")) STORED;
ALTER TABLE "customers" ADD COLUMN "segment_cities" TEXT[] GENERATED ALWAYS AS (segment_city_keys("addresses", "country_code", "province", "city")) STORED;
CREATE INDEX "customers_segment_regions_idx" ON "customers" USING GIN ("segment_regions");
CREATE INDEX "customers_segment_cities_idx" ON "customers" USING GIN ("segment_cities");

-- SMS marketing consent (customers_marketing_consent/update), newest consent time wins.
ALTER TABLE "customers" ADD COLUMN "sms_marketing_state" TEXT;
ALTER TABLE "customers" ADD COLUMN "sms_opt_in_level" TEXT;
ALTER TABLE "customers" ADD COLUMN "sms_consent_at" TIMESTAMPTZ(3);

-- The customer's language: the customer_locale of its newest order or checkout.
ALTER TABLE "customers" ADD COLUMN "locale" TEXT;
ALTER TABLE "customers" ADD COLUMN "locale_at" TIMESTAMPTZ(3);

-- Shopify's standard metafield facts.birth_date, read by the daily birthday job.
ALTER TABLE "customers" ADD COLUMN "birth_date" DATE;

-- The anniversary of a birth date in a year: 29 February is 28 February in other years (NULL
-- for a NULL birth date). Not STRICT, so that the planner inlines it into the segment filter.
CREATE FUNCTION "segment_anniversary"(birth DATE, year INT) RETURNS DATE
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$
    SELECT make_date(year, extract(month FROM birth)::int,
      CASE WHEN extract(month FROM birth) = 2 AND extract(day FROM birth) = 29
                AND NOT (year % 4 = 0 AND (year % 100 <> 0 OR year % 400 = 0)) THEN 28
           ELSE extract(day FROM birth)::int END)
  $$;

-- Checkouts (checkouts/create, checkouts/update), one row per checkout token, newest
-- updated_at wins. A checkout is abandoned while it is neither completed nor turned into an
-- order: an order naming its checkout_token sets order_gid (also before the checkout arrives).
CREATE TABLE "checkouts" (
  "shop" TEXT NOT NULL,
  "token" TEXT NOT NULL,
  "customer_gid" TEXT,
  "shopify_created_at" TIMESTAMPTZ(3),
  "shopify_updated_at" TIMESTAMPTZ(3),
  "completed_at" TIMESTAMPTZ(3),
  "order_gid" TEXT,
  "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  CONSTRAINT "checkouts_pkey" PRIMARY KEY ("shop", "token")
);
-- The customer's latest abandoned checkout (its last update), kept by the apply step from this
-- table: abandoned_checkout_date is a column compare (a subquery per customer row made a
-- whole-shop preview about ten times slower).
ALTER TABLE "customers" ADD COLUMN "abandoned_checkout_at" TIMESTAMPTZ(3);
-- The recompute of one customer's latest abandoned checkout: one index range.
CREATE INDEX "checkouts_abandoned_idx" ON "checkouts" ("shop", "customer_gid", "shopify_updated_at") WHERE "completed_at" IS NULL AND "order_gid" IS NULL;
