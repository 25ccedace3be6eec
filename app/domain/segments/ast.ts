// Immutable AST for segment queries, discriminated by `kind` (the Kysely habit).
// Every node carries the position where it starts in the query text.

import type { ComparisonOperator, Position, RelativeUnit } from "./lexer";

export type NumberLiteral = { readonly kind: "number"; readonly value: number; readonly raw: string; readonly position: Position };
export type StringLiteral = { readonly kind: "string"; readonly value: string; readonly position: Position };
export type BooleanLiteral = { readonly kind: "boolean"; readonly value: boolean; readonly position: Position };
/** An absolute calendar date, YYYY-MM-DD as written (validity is checked by check.ts). */
export type DateLiteral = { readonly kind: "date"; readonly value: string; readonly position: Position };
/** A date relative to `now`: -90d, +30d, today, yesterday, 30_days_ago. */
export type RelativeDateLiteral = {
  readonly kind: "relativeDate";
  readonly amount: number;
  readonly unit: RelativeUnit;
  readonly raw: string;
  readonly position: Position;
};
/** A local date and time, YYYY-MM-DDTHH:mm:ss as written, in the shop's time zone (validity is checked by check.ts). */
export type DateTimeLiteral = { readonly kind: "dateTime"; readonly value: string; readonly position: Position };
export type Literal = NumberLiteral | StringLiteral | BooleanLiteral | DateLiteral | RelativeDateLiteral | DateTimeLiteral;

export type Attribute = { readonly kind: "attribute"; readonly name: string; readonly position: Position };
/**
 * How a parameter tests its value. `:` is the deprecated form's bare `name: value`, whose
 * meaning depends on the parameter (app/domain/segments/functions.ts).
 */
export type ParameterOperator = ComparisonOperator | "BETWEEN" | "IN" | "NOT IN" | ":";
/**
 * One parameter of a function: `id = 123`, `date BETWEEN -12m AND today`, `id IN (1, 2)`,
 * or in the deprecated form `date: -90d`, `date: > -3m`. `values` holds one literal, the two
 * BETWEEN bounds, or the IN list.
 */
export type Argument = {
  readonly kind: "argument";
  readonly name: string;
  readonly operator: ParameterOperator;
  readonly values: readonly Literal[];
  readonly position: Position;
  readonly operatorPosition: Position;
};
/**
 * A function: Shopify's `products_purchased MATCHES (id = 1, date > -3m)` (`syntax: "matches"`,
 * inside a Matches node) or the deprecated `products_purchased(id: 1) = true` (`syntax: "call"`,
 * the left side of a comparison with a boolean).
 */
export type FunctionCall = {
  readonly kind: "functionCall";
  readonly name: string;
  readonly args: readonly Argument[];
  readonly syntax: "call" | "matches";
  readonly position: Position;
};
export type Operand = Attribute | FunctionCall;

export type Comparison = {
  readonly kind: "comparison";
  readonly left: Operand;
  readonly operator: ComparisonOperator;
  readonly right: Literal;
  readonly position: Position;
  /** Where the operator is written. */
  readonly operatorPosition: Position;
};
export type Between = {
  readonly kind: "between";
  readonly left: Operand;
  readonly low: Literal;
  readonly high: Literal;
  readonly position: Position;
  readonly operatorPosition: Position;
};
/** `x IS NULL`, or `x IS NOT NULL` when negated. */
export type IsNull = { readonly kind: "isNull"; readonly left: Operand; readonly negated: boolean; readonly position: Position; readonly operatorPosition: Position };
/** `tags CONTAINS 'vip'`, or `tags NOT CONTAINS 'vip'` when negated. */
export type Contains = {
  readonly kind: "contains";
  readonly left: Operand;
  readonly value: Literal;
  readonly negated: boolean;
  readonly position: Position;
  readonly operatorPosition: Position;
};
/** `products_purchased MATCHES (...)`, or `NOT MATCHES (...)` when negated. */
export type Matches = {
  readonly kind: "matches";
  readonly call: FunctionCall;
  readonly negated: boolean;
  readonly position: Position;
  readonly operatorPosition: Position;
};
export type And = { readonly kind: "and"; readonly left: Condition; readonly right: Condition; readonly position: Position };
export type Or = { readonly kind: "or"; readonly left: Condition; readonly right: Condition; readonly position: Position };
export type Not = { readonly kind: "not"; readonly operand: Condition; readonly position: Position };

export type Predicate = Comparison | Between | IsNull | Contains | Matches;
export type Condition = Predicate | And | Or | Not;
export type SegmentNode = Condition | Operand | Argument | Literal;

/** Builds a node and freezes it, so a tree can be shared without defensive copies. */
export function node<T extends SegmentNode>(value: T): T {
  return Object.freeze(value);
}
