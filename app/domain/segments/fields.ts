// The catalogue of segment attributes and functions. Adding an attribute is one entry
// in FIELDS; its type decides which operators and values it accepts.

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

/** Parameter types of segment functions. */
export type ParameterType = "string" | "number" | "date";

export type FunctionDefinition = {
  readonly name: string;
  readonly parameters: readonly { readonly name: string; readonly type: ParameterType; readonly required?: boolean; readonly description: string }[];
  readonly description: string;
};

const ORDERED: readonly FieldOperator[] = ["=", "!=", ">", "<", ">=", "<=", "BETWEEN", "IS NULL"];
const EQUALITY: readonly FieldOperator[] = ["=", "!=", "IS NULL"];

/** Shopify's values for `email_subscription_status` in segment queries. */
export const EMAIL_SUBSCRIPTION_STATUSES = ["SUBSCRIBED", "NOT_SUBSCRIBED", "PENDING", "UNSUBSCRIBED", "REDACTED", "INVALID"] as const;

/** The eleven RFM groups. */
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

export const FIELDS: readonly FieldDefinition[] = [
  { name: "amount_spent", type: { kind: "money" }, operators: ORDERED, description: "Total amount the customer has spent, in the shop currency." },
  { name: "number_of_orders", type: { kind: "number", min: 0 }, operators: ORDERED, description: "Number of orders the customer has placed." },
  { name: "average_order_value", type: { kind: "money" }, operators: ORDERED, description: "Amount spent divided by number of orders." },
  { name: "first_order_date", type: { kind: "date" }, operators: ORDERED, description: "Date of the customer's first order." },
  { name: "last_order_date", type: { kind: "date" }, operators: ORDERED, description: "Date of the customer's most recent order." },
  { name: "customer_added_date", type: { kind: "date" }, operators: ORDERED, description: "Date the customer record was created." },
  { name: "customer_tags", type: { kind: "stringList" }, operators: ["CONTAINS"], description: "Tags on the customer." },
  { name: "customer_email_domain", type: { kind: "string" }, operators: EQUALITY, description: "Domain of the customer's email address, e.g. 'gmail.com'." },
  { name: "customer_countries", type: { kind: "stringList" }, operators: ["CONTAINS"], description: "Countries of the customer's addresses (ISO codes)." },
  {
    name: "email_subscription_status",
    type: { kind: "enum", values: EMAIL_SUBSCRIPTION_STATUSES },
    operators: EQUALITY,
    description: "Email marketing consent state, as Shopify reports it.",
  },
  { name: "rfm_group", type: { kind: "enum", values: RFM_GROUPS }, operators: EQUALITY, description: "Recency-frequency-monetary group of the customer." },
  { name: "refund_rate", type: { kind: "number", min: 0, max: 1 }, operators: ORDERED, description: "Share of ordered value refunded, from 0 to 1." },
];

export const FUNCTIONS: readonly FunctionDefinition[] = [
  {
    name: "products_purchased",
    description: "Whether the customer bought matching products; compare with true or false.",
    parameters: [
      { name: "product_type", type: "string", description: "Product type, e.g. 'Shoes'." },
      { name: "product_id", type: "number", description: "Shopify product id." },
      { name: "tag", type: "string", description: "Product tag." },
      { name: "date", type: "date", description: "Only purchases on or after this date." },
      { name: "quantity", type: "number", description: "At least this many units." },
    ],
  },
  {
    name: "orders_placed",
    description: "Whether the customer placed a number of orders; compare with true or false.",
    parameters: [
      { name: "count_at_least", type: "number", description: "At least this many orders." },
      { name: "count_at_most", type: "number", description: "At most this many orders." },
      { name: "date", type: "date", description: "Only orders on or after this date." },
    ],
  },
];

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
