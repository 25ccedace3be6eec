// The catalogue of segment attributes and functions. Adding an attribute is one entry
// in FIELDS; its type decides which operators and values it accepts, and its binding says
// where both back ends find its value: an SQL expression over the customers row (sql.ts)
// and an accessor on an in-memory customer (evaluate.ts).

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
  /** A list of texts; `contains` is a non-NULL SQL condition: the list holds the (lower-case) parameter, ignoring case. */
  | { readonly kind: "textList"; readonly contains: (alias: string, parameter: string) => string; readonly value: (c: SegmentCustomer) => readonly string[] };

/** A catalogue attribute both back ends can evaluate. */
export type SegmentField = FieldDefinition & { readonly binding: FieldBinding };

const ORDERED: readonly FieldOperator[] = ["=", "!=", ">", "<", ">=", "<=", "BETWEEN", "IS NULL"];
const EQUALITY: readonly FieldOperator[] = ["=", "!=", "IS NULL"];

/** Shopify's values for `email_subscription_status` in segment queries. */
export const EMAIL_SUBSCRIPTION_STATUSES = ["SUBSCRIBED", "NOT_SUBSCRIBED", "PENDING", "UNSUBSCRIBED", "REDACTED", "INVALID"] as const;

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

export const FIELDS: readonly SegmentField[] = [
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
    name: "email_subscription_status",
    type: { kind: "enum", values: EMAIL_SUBSCRIPTION_STATUSES },
    operators: EQUALITY,
    description: "Email marketing consent state, as Shopify reports it; no value until Shopify has reported one.",
    binding: { kind: "text", sql: column("email_marketing_state"), present: notNull("email_marketing_state"), value: (c) => c.emailMarketingState },
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

/** Why a Shopify attribute or function is refused here: the app never has its data (docs/segments.md). */
const SHOPIFY_ONLY: readonly { readonly name: string | RegExp; readonly reason: string }[] = [
  { name: /^shopify_email\./, reason: "apps receive no Shopify Email events" },
  { name: /^storefront(_event)?\./, reason: "apps receive no storefront browsing events" },
  { name: "abandoned_checkout_date", reason: "the app does not receive abandoned checkouts yet" },
  { name: "anniversary", reason: "the app does not store customer metafields such as a birth date yet" },
  { name: "customer_cities", reason: "cities of stored addresses are not mapped to Shopify's city codes yet" },
  { name: "customer_regions", reason: "regions of stored addresses are not mapped to Shopify's region codes yet" },
  { name: "customer_language", reason: "the customer's language is not stored yet" },
  { name: "sms_subscription_status", reason: "SMS marketing consent is not stored yet" },
  { name: "predicted_spend_tier", reason: "Shopify's spend prediction is not sent to apps" },
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
