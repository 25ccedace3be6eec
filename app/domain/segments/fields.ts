// The catalogue of segment attributes and functions. Adding an attribute is one entry
// in FIELDS; its type decides which operators and values it accepts, and its binding says
// where both back ends find its value: an SQL expression over the customers row (sql.ts)
// and an accessor on an in-memory customer (evaluate.ts).

import { cityKeyOfValue, cityKeysOf, regionKeyOfValue, regionKeysOf, type SegmentPlace } from "./places";

export type FieldType =
  | { readonly kind: "number"; readonly min?: number; readonly max?: number }
  | { readonly kind: "money" }
  | { readonly kind: "date" }
  | { readonly kind: "string" }
  | { readonly kind: "stringList" }
  /** Values are matched case-insensitively; `values` holds the canonical spelling. */
  | { readonly kind: "enum"; readonly values: readonly string[] }
  | { readonly kind: "boolean" };

/** Operators as the catalogue names them; NOT CONTAINS and IS NOT NULL come with CONTAINS and IS NULL. */
export type FieldOperator = "=" | "!=" | ">" | "<" | ">=" | "<=" | "BETWEEN" | "IS NULL" | "CONTAINS";

export type FieldDefinition = {
  readonly name: string;
  readonly type: FieldType;
  readonly operators: readonly FieldOperator[];
  readonly description: string;
};

/** A line item of a SegmentOrder, with what products_purchased matches on. */
export type SegmentLineItem = {
  /** Product gid ("gid://shopify/Product/1"), null for custom items. */
  readonly productId: string | null;
  readonly productType: string | null;
  readonly productTags: readonly string[];
  readonly quantity: number;
};

export type SegmentOrder = {
  readonly createdAt: Date;
  readonly cancelled: boolean;
  readonly test: boolean;
  readonly totalPriceMinor: bigint;
  readonly refundedMinor: bigint;
  readonly lineItems: readonly SegmentLineItem[];
};

/**
 * What the segment attributes need to know about one customer, in memory. The aggregates
 * are the stored ones (app/domain/customers/aggregates.ts); `orders` feed the functions.
 */
export type SegmentCustomer = {
  readonly gid: string;
  readonly email: string | null;
  readonly tags: readonly string[];
  /** ISO country codes of the default address and every stored address. */
  readonly countryCodes: readonly string[];
  /** The default address and every stored address (customer_cities, customer_regions); absent: none. */
  readonly places?: readonly SegmentPlace[];
  /** SMS marketing consent state as Shopify reports it; null or absent if never reported. */
  readonly smsMarketingState?: string | null;
  /** The customer_locale of the newest order or checkout ("en", "fr-CA"); null or absent if none carried one. */
  readonly locale?: string | null;
  /** Shopify's facts.birth_date metafield, YYYY-MM-DD; null or absent if not stored. */
  readonly birthDate?: string | null;
  /** When the customer's latest abandoned checkout was last updated; null or absent without one. */
  readonly abandonedCheckoutAt?: Date | null;
  /** Account state from the customer payload ("enabled", "DISABLED", ...); null or absent if never reported. */
  readonly accountState?: string | null;
  /** Email marketing consent state as Shopify reports it ("subscribed", ...); null if never reported. */
  readonly emailMarketingState: string | null;
  readonly rfmGroup: string | null;
  /** When the customer was created in Shopify. */
  readonly createdAt: Date | null;
  readonly ordersCount: number;
  readonly totalSpentMinor: bigint;
  readonly refundedMinor: bigint;
  readonly aovMinor: bigint;
  readonly firstOrderAt: Date | null;
  readonly lastOrderAt: Date | null;
  readonly orders: readonly SegmentOrder[];
  /** Feedback answers (app data, docs/feedback.md); absent: none. */
  readonly feedback?: {
    /** NPS of the latest response (latest submitted, then latest stored). */
    readonly lastNps: number | null;
    readonly count: number;
    readonly lastAt: Date | null;
    readonly openCase: boolean;
  };
  /** The customer's prediction from the shop's latest CLV fit (docs/analytics.md); null or absent: none. */
  readonly prediction?: {
    /** Predicted 12-month value, in minor units of the shop currency. */
    readonly clvMinor: bigint;
    /** 1 - P(alive), from 0 to 1. */
    readonly churnRisk: number;
    readonly expectedNextOrderAt: Date | null;
    /** 'HIGH' | 'MEDIUM' | 'LOW', as stored. */
    readonly spendTier: string;
  } | null;
  /** Loyalty (docs/loyalty.md); absent: no entries and no tier. */
  readonly loyalty?: {
    /** Balance: the points available now. */
    readonly points: bigint;
    /** The last tier change's tier (null: none, or dropped out of every tier). */
    readonly tier: string | null;
  };
};

/** SQL text of an expression over the customers row, given the row's alias. */
export type SqlOf = (alias: string) => string;

/**
 * Where an attribute's value lives. Every SQL expression must be non-NULL whenever
 * `present` holds (or always, when there is no `present`): the compiler relies on it to
 * keep every predicate two-valued.
 */
export type FieldBinding =
  /** An integer (counts): compared exactly with decimal literals. */
  | { readonly kind: "integer"; readonly sql: SqlOf; readonly present?: SqlOf; readonly value: (c: SegmentCustomer) => bigint | null }
  /** Money in minor units of the shop currency; literals are major units. */
  | { readonly kind: "money"; readonly sql: SqlOf; readonly present?: SqlOf; readonly value: (c: SegmentCustomer) => bigint | null }
  /** numerator / denominator of two integer expressions; absent when the denominator is 0. */
  | {
      readonly kind: "ratio";
      readonly numerator: SqlOf;
      readonly denominator: SqlOf;
      readonly value: (c: SegmentCustomer) => { readonly numerator: bigint; readonly denominator: bigint } | null;
    }
  /** A timestamptz, compared with calendar days (or local date-times) in the shop's time zone. */
  | { readonly kind: "instant"; readonly sql: SqlOf; readonly present?: SqlOf; readonly value: (c: SegmentCustomer) => Date | null }
  /**
   * A real number (a double precision column): compared with the literal read as a double, in
   * both back ends (PostgreSQL and JavaScript both round a decimal to the nearest double).
   */
  | { readonly kind: "real"; readonly sql: SqlOf; readonly present?: SqlOf; readonly value: (c: SegmentCustomer) => number | null }
  /** A yes/no value. */
  | { readonly kind: "boolean"; readonly sql: SqlOf; readonly present?: SqlOf; readonly value: (c: SegmentCustomer) => boolean | null }
  /**
   * Text compared case-insensitively (strings and enums). `storedLowerCase`: the column only
   * ever holds lower case, so SQL compares it as is (an index on it applies).
   */
  | {
      readonly kind: "text";
      readonly sql: SqlOf;
      readonly present?: SqlOf;
      readonly storedLowerCase?: boolean;
      readonly value: (c: SegmentCustomer) => string | null;
    }
  /**
   * A language tag ("en", "fr-CA"), compared ignoring case and `_` / `-`: a queried language
   * without a region ('en') matches every region of it ('en-US'); one with a region only itself.
   */
  | { readonly kind: "language"; readonly sql: SqlOf; readonly present: SqlOf; readonly value: (c: SegmentCustomer) => string | null }
  /**
   * A list of texts; `contains` is a non-NULL SQL condition: the list holds the (lower-case)
   * parameter, ignoring case. `normalize`: how a queried value becomes a list item (the list's
   * items are already in that form); `present`: the list is not empty (IS [NOT] NULL).
   */
  | {
      readonly kind: "textList";
      readonly contains: (alias: string, parameter: string) => string;
      readonly normalize?: (value: string) => string;
      readonly present?: SqlOf;
      readonly value: (c: SegmentCustomer) => readonly string[];
    };

/** A catalogue attribute both back ends can evaluate. */
export type SegmentField = FieldDefinition & { readonly binding: FieldBinding };

const ORDERED: readonly FieldOperator[] = ["=", "!=", ">", "<", ">=", "<=", "BETWEEN", "IS NULL"];
const EQUALITY: readonly FieldOperator[] = ["=", "!=", "IS NULL"];

/** Shopify's values for `email_subscription_status` in segment queries. */
export const EMAIL_SUBSCRIPTION_STATUSES = ["SUBSCRIBED", "NOT_SUBSCRIBED", "PENDING", "UNSUBSCRIBED", "REDACTED", "INVALID"] as const;

/** Shopify's values for `sms_subscription_status` (its CustomerSmsMarketingState enum). */
export const SMS_SUBSCRIPTION_STATUSES = ["SUBSCRIBED", "NOT_SUBSCRIBED", "PENDING", "UNSUBSCRIBED", "REDACTED"] as const;

/** Shopify's values for `customer_account_status` (its CustomerState enum). */
export const CUSTOMER_ACCOUNT_STATUSES = ["ENABLED", "DISABLED", "INVITED", "DECLINED"] as const;

/** The eleven RFM groups, in the lower case the RFM recompute stores (Shopify writes them upper case: RFM_GROUP_VALUES). */
export const RFM_GROUPS = [
  "champions",
  "loyal",
  "active",
  "new",
  "promising",
  "needs_attention",
  "at_risk",
  "almost_lost",
  "previously_loyal",
  "dormant",
  "prospects",
] as const;

/** The RFM groups as Shopify spells them in queries ('AT_RISK'); any case is accepted. */
export const RFM_GROUP_VALUES: readonly string[] = RFM_GROUPS.map((g) => g.toUpperCase());

const column =
  (name: string): SqlOf =>
  (a) =>
    `${a}.${name}`;
const notNull =
  (name: string): SqlOf =>
  (a) =>
    `${a}.${name} IS NOT NULL`;

/** The domain of an email address: what follows its last `@`. */
export function emailDomain(email: string | null): string | null {
  if (email === null) return null;
  const at = email.lastIndexOf("@");
  return at < 0 ? null : email.slice(at + 1);
}

const SHOPIFY_FIELDS: readonly SegmentField[] = [
  {
    name: "amount_spent",
    type: { kind: "money" },
    operators: ORDERED,
    description: "Total amount the customer has spent, in the shop currency (orders neither cancelled nor test, less refunds).",
    binding: { kind: "money", sql: column("total_spent_minor"), value: (c) => c.totalSpentMinor },
  },
  {
    name: "number_of_orders",
    type: { kind: "number", min: 0 },
    operators: ORDERED,
    description: "Number of orders the customer has placed (neither cancelled nor test).",
    binding: { kind: "integer", sql: column("orders_count"), value: (c) => BigInt(c.ordersCount) },
  },
  {
    name: "average_order_value",
    type: { kind: "money" },
    operators: ORDERED,
    description: "Amount spent divided by number of orders; no value for a customer without orders.",
    binding: {
      kind: "money",
      sql: column("aov_minor"),
      present: (a) => `${a}.orders_count > 0`,
      value: (c) => (c.ordersCount > 0 ? c.aovMinor : null),
    },
  },
  {
    name: "first_order_date",
    type: { kind: "date" },
    operators: ORDERED,
    description: "Date of the customer's first order.",
    binding: { kind: "instant", sql: column("first_order_at"), present: notNull("first_order_at"), value: (c) => c.firstOrderAt },
  },
  {
    name: "last_order_date",
    type: { kind: "date" },
    operators: ORDERED,
    description: "Date of the customer's most recent order.",
    binding: { kind: "instant", sql: column("last_order_at"), present: notNull("last_order_at"), value: (c) => c.lastOrderAt },
  },
  {
    name: "customer_added_date",
    type: { kind: "date" },
    operators: ORDERED,
    description: "Date the customer was created in Shopify.",
    binding: { kind: "instant", sql: column("shopify_created_at"), present: notNull("shopify_created_at"), value: (c) => c.createdAt },
  },
  {
    name: "customer_tags",
    type: { kind: "stringList" },
    operators: ["CONTAINS"],
    description: "Tags on the customer (matched ignoring case).",
    binding: {
      kind: "textList",
      // segment_lower_tags() and its GIN index: prisma/migrations/20261123030000_customer_rfm.
      contains: (a, p) => `segment_lower_tags(${a}.tags) @> ARRAY[${p}]`,
      value: (c) => c.tags,
    },
  },
  {
    name: "customer_email_domain",
    type: { kind: "string" },
    operators: EQUALITY,
    description: "Domain of the customer's email address, e.g. 'gmail.com' (matched ignoring case).",
    binding: {
      kind: "text",
      sql: (a) => `split_part(${a}.email, '@', -1)`,
      present: (a) => `(${a}.email IS NOT NULL AND strpos(${a}.email, '@') > 0)`,
      value: (c) => emailDomain(c.email),
    },
  },
  {
    name: "customer_countries",
    type: { kind: "stringList" },
    operators: ["CONTAINS"],
    description: "Countries of the customer's addresses, as ISO codes such as 'DE' (matched ignoring case).",
    binding: {
      kind: "textList",
      contains: (a, p) =>
        `(COALESCE(lower(${a}.country_code) = ${p}, false) OR EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(${a}.addresses) = 'array' THEN ${a}.addresses ELSE '[]'::jsonb END) AS segment_address(address) WHERE lower(segment_address.address->>'countryCode') = ${p}))`,
      value: (c) => c.countryCodes,
    },
  },
  {
    name: "customer_regions",
    type: { kind: "stringList" },
    operators: ["CONTAINS", "IS NULL"],
    description: "Regions of the customer's addresses, as country and region code such as 'CA-ON' (matched ignoring case).",
    binding: {
      kind: "textList",
      // segment_regions: generated from the address columns (migration 20261208030000), GIN-indexed.
      contains: (a, p) => `${a}.segment_regions @> ARRAY[${p}]`,
      normalize: regionKeyOfValue,
      present: (a) => `cardinality(${a}.segment_regions) > 0`,
      value: (c) => regionKeysOf(c.places ?? []),
    },
  },
  {
    name: "customer_cities",
    type: { kind: "stringList" },
    operators: ["CONTAINS", "IS NULL"],
    description: "Cities of the customer's addresses, as country, region and city such as 'US-CA-LosAngeles' (matched ignoring case, spaces and punctuation).",
    binding: {
      kind: "textList",
      contains: (a, p) => `${a}.segment_cities @> ARRAY[${p}]`,
      normalize: cityKeyOfValue,
      present: (a) => `cardinality(${a}.segment_cities) > 0`,
      value: (c) => cityKeysOf(c.places ?? []),
    },
  },
  {
    name: "email_subscription_status",
    type: { kind: "enum", values: EMAIL_SUBSCRIPTION_STATUSES },
    operators: EQUALITY,
    description: "Email marketing consent state, as Shopify reports it; no value until Shopify has reported one.",
    binding: { kind: "text", sql: column("email_marketing_state"), present: notNull("email_marketing_state"), value: (c) => c.emailMarketingState },
  },
  {
    name: "sms_subscription_status",
    type: { kind: "enum", values: SMS_SUBSCRIPTION_STATUSES },
    operators: EQUALITY,
    description: "SMS marketing consent state, as Shopify reports it; no value until Shopify has reported one.",
    binding: { kind: "text", sql: column("sms_marketing_state"), present: notNull("sms_marketing_state"), value: (c) => c.smsMarketingState ?? null },
  },
  {
    name: "customer_language",
    type: { kind: "string" },
    operators: EQUALITY,
    description: "The customer's language: the locale of its newest order or checkout, such as 'en' or 'fr-CA' ('en' also matches 'en-US'); no value until one carried it.",
    binding: { kind: "language", sql: column("locale"), present: notNull("locale"), value: (c) => c.locale ?? null },
  },
  {
    name: "abandoned_checkout_date",
    type: { kind: "date" },
    operators: ORDERED,
    description: "Date of the customer's latest abandoned checkout (neither completed nor turned into an order); no value without one.",
    // Kept by the apply step from the checkouts table (app/services/customer-facts.server.ts).
    binding: { kind: "instant", sql: column("abandoned_checkout_at"), present: notNull("abandoned_checkout_at"), value: (c) => c.abandonedCheckoutAt ?? null },
  },
  {
    name: "customer_account_status",
    type: { kind: "enum", values: CUSTOMER_ACCOUNT_STATUSES },
    operators: EQUALITY,
    description: "State of the customer's account (Shopify's customer state); no value until a customer payload has carried one.",
    binding: { kind: "text", sql: column("state"), present: notNull("state"), value: (c) => c.accountState ?? null },
  },
  {
    name: "rfm_group",
    type: { kind: "enum", values: RFM_GROUP_VALUES },
    operators: EQUALITY,
    description: "Recency-frequency-monetary group of the customer (see docs/segments.md); no value until first computed.",
    // Written only by the RFM recompute, in the lower-case spelling of RFM_GROUPS.
    binding: { kind: "text", sql: column("rfm_group"), present: notNull("rfm_group"), storedLowerCase: true, value: (c) => c.rfmGroup },
  },
  {
    name: "refund_rate",
    type: { kind: "number", min: 0, max: 1 },
    operators: ORDERED,
    description: "Share of ordered value refunded, from 0 to 1 (refunded / total price of orders neither cancelled nor test); no value without ordered value.",
    binding: {
      kind: "ratio",
      numerator: column("refunded_minor"),
      denominator: (a) => `(${a}.total_spent_minor + ${a}.refunded_minor)`,
      value: (c) => {
        const denominator = c.totalSpentMinor + c.refundedMinor;
        return denominator > 0n ? { numerator: c.refundedMinor, denominator } : null;
      },
    },
  },
];

/** NPS groups as Shopify-style enum values; any case is accepted ('promoter' too). */
export const NPS_GROUPS = ["PROMOTER", "PASSIVE", "DETRACTOR"] as const;

/** The NPS group of a score: 9-10 promoter, 7-8 passive, 0-6 detractor (lower case, as the SQL yields it). */
export function npsGroupOf(nps: number): "promoter" | "passive" | "detractor" {
  return nps >= 9 ? "promoter" : nps >= 7 ? "passive" : "detractor";
}

// App extensions (not Shopify attributes): each value is one indexed lookup per customer row,
// a correlated subquery on (shop, customer_gid). Subquery aliases start with segment_, which a
// caller's customer alias may not.
const responsesOf = (a: string) => `FROM feedback_responses segment_fr WHERE segment_fr.shop = ${a}.shop AND segment_fr.customer_gid = ${a}.gid`;
const latestResponse = (a: string, expression: string) =>
  `(SELECT ${expression} ${responsesOf(a)} ORDER BY segment_fr.submitted_at DESC, segment_fr.id DESC LIMIT 1)`;
// Not EXISTS: inside an OR the planner may turn an EXISTS into a hashed subplan that reads the
// whole table (every shop's rows) once per statement; a scalar subquery with LIMIT stays one
// index probe per customer row.
const hasResponse = (a: string) => `(SELECT 1 ${responsesOf(a)} LIMIT 1) IS NOT NULL`;
const latestTier = (a: string) =>
  `(SELECT segment_lt.to_tier FROM loyalty_tier_changes segment_lt WHERE segment_lt.shop = ${a}.shop AND segment_lt.customer_gid = ${a}.gid ORDER BY segment_lt.id DESC LIMIT 1)`;

/** Attributes from the app's own data (feedback, loyalty): documented in docs/segments.md as app extensions. */
export const APP_FIELDS: readonly SegmentField[] = [
  {
    name: "nps_score",
    type: { kind: "number", min: 0, max: 10 },
    operators: ORDERED,
    description: "NPS score (0-10) of the customer's latest feedback answer; no value without an answer.",
    binding: { kind: "integer", sql: (a) => latestResponse(a, "segment_fr.nps"), present: hasResponse, value: (c) => (c.feedback?.lastNps == null ? null : BigInt(c.feedback.lastNps)) },
  },
  {
    name: "nps_group",
    type: { kind: "enum", values: NPS_GROUPS },
    operators: EQUALITY,
    description: "Group of the latest NPS score: 'PROMOTER' (9-10), 'PASSIVE' (7-8) or 'DETRACTOR' (0-6); no value without an answer.",
    binding: {
      kind: "text",
      sql: (a) => latestResponse(a, "CASE WHEN segment_fr.nps >= 9 THEN 'promoter' WHEN segment_fr.nps >= 7 THEN 'passive' ELSE 'detractor' END"),
      present: hasResponse,
      storedLowerCase: true,
      value: (c) => (c.feedback?.lastNps == null ? null : npsGroupOf(c.feedback.lastNps)),
    },
  },
  {
    name: "feedback_count",
    type: { kind: "number", min: 0 },
    operators: ORDERED,
    description: "Number of feedback answers the customer has given (an edited answer counts once).",
    binding: { kind: "integer", sql: (a) => `(SELECT count(*) ${responsesOf(a)})`, value: (c) => BigInt(c.feedback?.count ?? 0) },
  },
  {
    name: "last_feedback_date",
    type: { kind: "date" },
    operators: ORDERED,
    description: "Date of the customer's latest feedback answer; no value without an answer.",
    binding: { kind: "instant", sql: (a) => `(SELECT max(segment_fr.submitted_at) ${responsesOf(a)})`, present: hasResponse, value: (c) => c.feedback?.lastAt ?? null },
  },
  {
    name: "has_open_case",
    type: { kind: "boolean" },
    operators: ["=", "!="],
    description: "Whether a service-recovery case about the customer is open.",
    binding: {
      kind: "boolean",
      sql: (a) =>
        `COALESCE((SELECT true FROM feedback_cases segment_fk WHERE segment_fk.shop = ${a}.shop AND segment_fk.customer_gid = ${a}.gid AND segment_fk.status = 'open' LIMIT 1), false)`,
      value: (c) => c.feedback?.openCase ?? false,
    },
  },
  {
    name: "loyalty_points",
    type: { kind: "number" },
    operators: ORDERED,
    description: "Loyalty points balance: the points available now (pending points not yet); 0 without any.",
    binding: {
      kind: "integer",
      // The database's clock, not the compile-time `now` (compiled filters are kept for a day),
      // with a minute's grace: an entry the app dated "now" earlier in the same transaction (a
      // staff adjustment, a bonus) is later than the transaction's now() and may be ahead of the
      // database's clock. Pending points are days away, so the grace changes nothing else.
      sql: (a) =>
        `(SELECT COALESCE(sum(segment_ll.points), 0) FROM loyalty_ledger segment_ll WHERE segment_ll.shop = ${a}.shop AND segment_ll.customer_gid = ${a}.gid AND segment_ll.available_at <= now() + interval '1 minute')`,
      value: (c) => c.loyalty?.points ?? 0n,
    },
  },
  {
    name: "loyalty_tier",
    type: { kind: "string" },
    operators: EQUALITY,
    description: "Name of the customer's loyalty tier (matched ignoring case); no value outside every tier.",
    binding: { kind: "text", sql: latestTier, present: (a) => `${latestTier(a)} IS NOT NULL`, value: (c) => c.loyalty?.tier ?? null },
  },
];

/** Shopify's values for `predicted_spend_tier`, as stored in customer_predictions.spend_tier (any case is accepted, decision 028). */
export const PREDICTED_SPEND_TIERS = ["HIGH", "MEDIUM", "LOW"] as const;

// Predictions (issue 15): one indexed probe of customer_predictions (primary key shop,
// customer_id) per customer row. Customers without a prediction (no orders, or no fit yet) have
// no value. The refit replaces a shop's rows: segments using these attributes are refreshed
// after it (jobs/clv-refit.ts).
const prediction = (a: string, column: string) =>
  `(SELECT segment_cp.${column} FROM customer_predictions segment_cp WHERE segment_cp.shop = ${a}.shop AND segment_cp.customer_id = ${a}.id)`;
const hasPrediction = (a: string) => `${prediction(a, "customer_id")} IS NOT NULL`;

/** Attributes from the app's predictions (docs/analytics.md); predicted_spend_tier is also Shopify's. */
export const PREDICTION_FIELDS: readonly SegmentField[] = [
  {
    name: "predicted_spend_tier",
    type: { kind: "enum", values: PREDICTED_SPEND_TIERS },
    operators: EQUALITY,
    description: "Predicted spend tier: 'HIGH' (top 20% of the shop's customers with orders by predicted 12-month value), 'MEDIUM' (next 40%) or 'LOW'; no value without a prediction.",
    binding: { kind: "text", sql: (a) => prediction(a, "spend_tier"), present: hasPrediction, value: (c) => c.prediction?.spendTier ?? null },
  },
  {
    name: "predicted_clv",
    type: { kind: "money" },
    operators: ORDERED,
    description: "Predicted value of the customer's next 12 months, in the shop currency; no value without a prediction.",
    binding: { kind: "money", sql: (a) => prediction(a, "predicted_clv_12m_minor"), present: hasPrediction, value: (c) => c.prediction?.clvMinor ?? null },
  },
  {
    name: "churn_risk",
    type: { kind: "number", min: 0, max: 1 },
    operators: ORDERED,
    description: "Probability that the customer is no longer active (1 - P(alive)), from 0 to 1; no value without a prediction.",
    binding: { kind: "real", sql: (a) => prediction(a, "churn_risk"), present: hasPrediction, value: (c) => c.prediction?.churnRisk ?? null },
  },
  {
    name: "expected_next_order_date",
    type: { kind: "date" },
    operators: ORDERED,
    description: "Expected date of the customer's next order if still active; no value without a prediction.",
    binding: {
      kind: "instant",
      sql: (a) => prediction(a, "expected_next_order_at"),
      present: (a) => `${prediction(a, "expected_next_order_at")} IS NOT NULL`,
      value: (c) => c.prediction?.expectedNextOrderAt ?? null,
    },
  },
];

/** Names of the prediction attributes: segments using them are refreshed after a refit. */
export const PREDICTION_FIELD_NAMES: readonly string[] = PREDICTION_FIELDS.map((f) => f.name);

/** Why a Shopify attribute or function is refused here: the app never has its data (docs/segments.md). */
const SHOPIFY_ONLY: readonly { readonly name: string | RegExp; readonly reason: string }[] = [
  { name: /^shopify_email\./, reason: "apps receive no Shopify Email events" },
  { name: /^storefront(_event)?\./, reason: "apps receive no storefront browsing events" },
  { name: "companies", reason: "B2B companies are not stored" },
  { name: "created_by_app_id", reason: "apps are not told which app created a customer" },
  { name: "product_subscription_status", reason: "subscription data belongs to subscription apps" },
  { name: "store_credit_accounts", reason: "store credit accounts are not stored" },
  { name: "customer_within_distance", reason: "the app does not geocode addresses" },
];

/** The plain (undotted) Shopify-only names, so that a typo is not "corrected" to an unrelated attribute. */
export const SHOPIFY_ONLY_NAMES: readonly string[] = SHOPIFY_ONLY.flatMap((s) => (typeof s.name === "string" ? [s.name] : []));

/** The reason a name Shopify documents cannot be evaluated here, if it is one of those. */
export function shopifyOnlyReason(name: string): string | undefined {
  return SHOPIFY_ONLY.find((s) => (typeof s.name === "string" ? s.name === name : s.name.test(name)))?.reason;
}

export function describeFieldType(type: FieldType): string {
  switch (type.kind) {
    case "number":
      return "a number";
    case "money":
      return "an amount of money (a number)";
    case "date":
      return "a date";
    case "string":
      return "a string";
    case "stringList":
      return "a string";
    case "enum":
      return "one of its values";
    case "boolean":
      return "a boolean";
  }
}

/** Every attribute: Shopify's (as far as the app has their data) and the app's own (APP_FIELDS). */
export const FIELDS: readonly SegmentField[] = [...SHOPIFY_FIELDS, ...PREDICTION_FIELDS, ...APP_FIELDS];
