// The catalogue of segment functions (Shopify's `products_purchased MATCHES (...)` and the
// deprecated `products_purchased(...) = true`), and what a call means once checked: one list
// of parameter tests that both back ends (sql.ts, evaluate.ts) evaluate. Pure.
//
// Semantics (docs/segments.md, decision 028):
// - filter parameters (id, tag, product_type, date, amount) select the customer's counted
//   line items or orders; aggregate parameters (count, sum_quantity, quantity, sum_amount)
//   test a count or a sum over the selected ones, which is 0 when nothing is selected;
// - without aggregate parameters the function holds when something is selected
//   (`MATCHES ()` = bought anything / placed any order);
// - the deprecated form's bare `name: value` keeps the meaning this app has always given it
//   (`date: -90d` on or after, `quantity: 2` at least 2 units, `count_at_least`, ...), so
//   stored segments keep their members; `name: > value` takes the operator given.

import type { Argument, FunctionCall, Literal, ParameterOperator } from "./ast";
import type { ComparisonOperator } from "./lexer";

export type ParameterType = "id" | "string" | "number" | "money" | "date";
/** The operators a MATCHES parameter can take (`:` belongs to the deprecated form). */
export type MatchesOperator = Exclude<ParameterOperator, ":">;

export type ParameterDefinition = {
  readonly name: string;
  readonly type: ParameterType;
  readonly operators: readonly MatchesOperator[];
  /** filter: selects line items or orders; aggregate: tests a count or sum over the selected ones. */
  readonly role: "filter" | "aggregate";
  /** Means the same as another parameter (`quantity` is `sum_quantity`); the two cannot be combined. */
  readonly aliasOf?: string;
  /** A parameter of this app that Shopify does not have. */
  readonly extension?: boolean;
  readonly description: string;
};

/** A parameter name of the deprecated form: which parameter it sets, and what a bare `name: value` means. */
export type LegacyParameter = { readonly parameter: string; readonly bare: ComparisonOperator };

export type FunctionDefinition = {
  readonly name: string;
  readonly description: string;
  readonly parameters: readonly ParameterDefinition[];
  /** Shopify parameters this app cannot evaluate, with the reason. */
  readonly refused: Readonly<Record<string, string>>;
  /** Names accepted only in the deprecated form, and how to write them in MATCHES. */
  readonly renamed: Readonly<Record<string, string>>;
  /** Parameter names of the deprecated form `name(param: value) = true`. */
  readonly legacy: Readonly<Record<string, LegacyParameter>>;
};

const DATE_OPERATORS: readonly MatchesOperator[] = ["=", "!=", ">", ">=", "<", "<=", "BETWEEN"];
const NUMBER_OPERATORS: readonly MatchesOperator[] = ["=", "!=", ">", ">=", "<", "<=", "BETWEEN"];

export const FUNCTIONS: readonly FunctionDefinition[] = [
  {
    name: "products_purchased",
    description: "Customers who bought matching products (orders neither cancelled nor test).",
    parameters: [
      { name: "id", type: "id", operators: ["=", "!=", "IN", "NOT IN"], role: "filter", description: "Shopify product id (the number in gid://shopify/Product/<id>)." },
      { name: "tag", type: "string", operators: ["="], role: "filter", description: "A tag of the product, ignoring case." },
      { name: "product_type", type: "string", operators: ["="], role: "filter", extension: true, description: "The product type, ignoring case (this app's extension)." },
      { name: "date", type: "date", operators: DATE_OPERATORS, role: "filter", description: "When the order was placed." },
      { name: "sum_quantity", type: "number", operators: NUMBER_OPERATORS, role: "aggregate", description: "Units of matching products bought, all orders together." },
      { name: "quantity", type: "number", operators: NUMBER_OPERATORS, role: "aggregate", aliasOf: "sum_quantity", description: "Same as sum_quantity." },
      { name: "count", type: "number", operators: NUMBER_OPERATORS, role: "aggregate", description: "Orders containing a matching product." },
    ],
    refused: {
      category: "the app does not store product categories (Shopify's product taxonomy)",
    },
    renamed: { product_id: "id = <product id>" },
    legacy: {
      id: { parameter: "id", bare: "=" },
      product_id: { parameter: "id", bare: "=" },
      tag: { parameter: "tag", bare: "=" },
      product_type: { parameter: "product_type", bare: "=" },
      date: { parameter: "date", bare: ">=" },
      quantity: { parameter: "sum_quantity", bare: ">=" },
    },
  },
  {
    name: "orders_placed",
    description: "Customers who placed matching orders (neither cancelled nor test).",
    parameters: [
      { name: "date", type: "date", operators: DATE_OPERATORS, role: "filter", description: "When the order was placed." },
      { name: "amount", type: "money", operators: NUMBER_OPERATORS, role: "filter", description: "The order's total price less its refunds, in the shop currency." },
      { name: "count", type: "number", operators: NUMBER_OPERATORS, role: "aggregate", description: "Number of matching orders." },
      { name: "sum_amount", type: "money", operators: NUMBER_OPERATORS, role: "aggregate", description: "Total of the matching orders' amounts." },
    ],
    refused: {
      location_id: "the app does not store the location an order was placed at",
      app_id: "the app does not store which app or sales channel created an order",
    },
    renamed: { count_at_least: "count >= <n>", count_at_most: "count <= <n>" },
    legacy: {
      date: { parameter: "date", bare: ">=" },
      count_at_least: { parameter: "count", bare: ">=" },
      count_at_most: { parameter: "count", bare: "<=" },
    },
  },
];

/** One test of a parameter, in the form both back ends evaluate. */
export type ParameterTest =
  | { readonly operator: ComparisonOperator; readonly value: Literal }
  | { readonly operator: "BETWEEN"; readonly low: Literal; readonly high: Literal }
  | { readonly operator: "IN"; readonly values: readonly Literal[] }
  | { readonly operator: "NOT IN"; readonly values: readonly Literal[] };

export type FunctionQuery = {
  readonly name: string;
  /** Tests by canonical parameter name (aliases resolved); a parameter may carry several (count_at_least and count_at_most). */
  readonly tests: readonly { readonly parameter: string; readonly role: "filter" | "aggregate"; readonly test: ParameterTest }[];
};

export class FunctionQueryError extends Error {
  override readonly name = "FunctionQueryError";
}

function testOf(arg: Argument, operator: Exclude<ParameterOperator, ":">): ParameterTest {
  const [first, second] = arg.values;
  if (!first) throw new FunctionQueryError(`parameter ${arg.name} has no value`);
  switch (operator) {
    case "BETWEEN":
      if (!second) throw new FunctionQueryError(`parameter ${arg.name} needs two bounds`);
      return { operator, low: first, high: second };
    case "IN":
      return { operator, values: arg.values };
    case "NOT IN":
      return { operator, values: arg.values };
    default:
      return { operator, value: first };
  }
}

/** Where a parameter name of a call leads: the canonical parameter and the operator a bare value means. */
export function resolveParameter(definition: FunctionDefinition, call: FunctionCall, name: string): { parameter: ParameterDefinition; bare?: ComparisonOperator } | undefined {
  if (call.syntax === "call") {
    const legacy = definition.legacy[name];
    if (!legacy) return undefined;
    const parameter = definition.parameters.find((p) => p.name === legacy.parameter);
    return parameter && { parameter, bare: legacy.bare };
  }
  const parameter = definition.parameters.find((p) => p.name === name);
  if (!parameter) return undefined;
  const canonical = parameter.aliasOf ? definition.parameters.find((p) => p.name === parameter.aliasOf) : parameter;
  return canonical && { parameter: canonical };
}

/** The tests a checked call stands for. Throws FunctionQueryError on a call the checker would refuse. */
export function functionQuery(call: FunctionCall, functions: readonly FunctionDefinition[] = FUNCTIONS): FunctionQuery {
  const definition = functions.find((f) => f.name === call.name);
  if (!definition) throw new FunctionQueryError(`unknown function ${call.name}`);
  const tests = call.args.map((arg) => {
    const resolved = resolveParameter(definition, call, arg.name);
    if (!resolved) throw new FunctionQueryError(`unknown parameter ${arg.name} of ${call.name}`);
    const operator = arg.operator === ":" ? resolved.bare : arg.operator;
    if (!operator) throw new FunctionQueryError(`parameter ${arg.name} needs an operator`);
    let test = testOf(arg, operator);
    // `id != 5` is `id NOT IN (5)`: one shape for the back ends.
    if (resolved.parameter.type === "id" && (test.operator === "=" || test.operator === "!=")) {
      test = { operator: test.operator === "=" ? "IN" : "NOT IN", values: [test.value] };
    }
    return { parameter: resolved.parameter.name, role: resolved.parameter.role, test };
  });
  return { name: call.name, tests };
}

/** Whether the product gid of a line item is that of a product id literal (a positive integer). */
export function productIdOf(literal: Literal): bigint | null {
  if (literal.kind !== "number" || !/^\+?\d+$/.test(literal.raw)) return null;
  const id = BigInt(literal.raw.replace("+", ""));
  return id > 0n ? id : null;
}
