// Reference evaluator: decides whether one in-memory customer belongs to a checked segment.
// Plain TypeScript, written apart from the SQL compiler (sql.ts) so the differential test
// can hold one against the other. Same semantics (docs/segments.md):
// - a predicate on an attribute without a value is false (`!=` too); NOT negates it;
// - a date names a calendar day in the shop's time zone; an instant is compared by the
//   day it falls on there;
// - numbers compare exactly (money literals in major units, values in minor units);
// - text compares ignoring case.

import type { Comparison, Condition, FunctionCall, Literal } from "./ast";
import { DEFAULT_TIME_ZONE, assertTimeZone, resolveDateLiteral, type CalendarDay } from "./dates";
import { FIELDS, type SegmentCustomer, type SegmentField, type SegmentOrder } from "./fields";
import { currencyExponent } from "../money";
import type { ComparisonOperator } from "./lexer";

export type { SegmentCustomer, SegmentLineItem, SegmentOrder } from "./fields";

export type EvaluateOptions = {
  now: Date;
  timeZone?: string;
  currency?: string;
  fields?: readonly SegmentField[];
};

type Env = {
  readonly now: Date;
  readonly timeZone: string;
  readonly exponent: number;
  readonly fields: ReadonlyMap<string, SegmentField>;
  readonly dayOf: (instant: Date) => CalendarDay;
  /** Days the tree's date literals name, resolved once. */
  readonly days: Map<Literal, CalendarDay>;
};

const dayFormatters = new Map<string, (instant: Date) => CalendarDay>();

/** The calendar day of an instant in a time zone, read with Intl (independently of dates.ts). */
function dayFormatter(timeZone: string): (instant: Date) => CalendarDay {
  let dayOf = dayFormatters.get(timeZone);
  if (!dayOf) {
    const format = new Intl.DateTimeFormat("en-US", { timeZone, year: "numeric", month: "2-digit", day: "2-digit", calendar: "gregory", numberingSystem: "latn" });
    const known = new Map<number, CalendarDay>();
    dayOf = (instant) => {
      const time = instant.getTime();
      let day = known.get(time);
      if (day === undefined) {
        const parts = Object.fromEntries(format.formatToParts(instant).map((p) => [p.type, p.value]));
        day = `${String(parts.year).padStart(4, "0")}-${parts.month}-${parts.day}`;
        if (known.size > 100_000) known.clear();
        known.set(time, day);
      }
      return day;
    };
    dayFormatters.set(timeZone, dayOf);
  }
  return dayOf;
}

/** The stored-unit value of an exact decimal, as a fraction `numerator / denominator`. */
function fraction(literal: Literal, scale = 0): { numerator: bigint; denominator: bigint } {
  if (literal.kind !== "number") throw new TypeError(`expected a number, got a ${literal.kind}`);
  const [whole, decimals = ""] = literal.raw.replace(/^[-+]/, "").split(".");
  const sign = literal.raw.startsWith("-") ? -1n : 1n;
  return { numerator: sign * BigInt(`${whole}${decimals}`) * 10n ** BigInt(scale), denominator: 10n ** BigInt(decimals.length) };
}

/** Sign of a/b - c/d for positive b and d. */
function compareFractions(a: bigint, b: bigint, c: bigint, d: bigint): number {
  const difference = a * d - c * b;
  return difference > 0n ? 1 : difference < 0n ? -1 : 0;
}

function holds(operator: ComparisonOperator, order: number): boolean {
  switch (operator) {
    case "=":
      return order === 0;
    case "!=":
      return order !== 0;
    case ">":
      return order > 0;
    case "<":
      return order < 0;
    case ">=":
      return order >= 0;
    case "<=":
      return order <= 0;
  }
}

/** Prepares a checked tree for evaluating many customers with the same options. */
export function createSegmentEvaluator(ast: Condition, options: EvaluateOptions): (customer: SegmentCustomer) => boolean {
  const timeZone = options.timeZone ?? DEFAULT_TIME_ZONE;
  assertTimeZone(timeZone);
  const env: Env = {
    now: options.now,
    timeZone,
    exponent: options.currency ? currencyExponent(options.currency) : 2,
    fields: new Map((options.fields ?? FIELDS).map((f) => [f.name, f])),
    dayOf: dayFormatter(timeZone),
    days: new Map(),
  };
  return (customer) => evaluate(env, ast, customer);
}

export function evaluateSegment(ast: Condition, customer: SegmentCustomer, options: EvaluateOptions): boolean {
  return createSegmentEvaluator(ast, options)(customer);
}

function evaluate(env: Env, node: Condition, customer: SegmentCustomer): boolean {
  switch (node.kind) {
    case "and":
      return evaluate(env, node.left, customer) && evaluate(env, node.right, customer);
    case "or":
      return evaluate(env, node.left, customer) || evaluate(env, node.right, customer);
    case "not":
      return !evaluate(env, node.operand, customer);
    case "comparison":
      if (node.left.kind === "functionCall") return functionComparison(env, node.left, node, customer);
      return compareAttribute(env, fieldOf(env, node.left.name), node.operator, node.right, customer);
    case "between": {
      const f = fieldOf(env, node.left.name);
      return compareAttribute(env, f, ">=", node.low, customer) && compareAttribute(env, f, "<=", node.high, customer);
    }
    case "isNull": {
      const missing = valueOf(fieldOf(env, node.left.name), customer) === null;
      return node.negated ? !missing : missing;
    }
    case "contains": {
      const f = fieldOf(env, node.left.name);
      if (f.binding.kind !== "textList" || node.value.kind !== "string") throw new TypeError(`CONTAINS does not apply to ${f.name}`);
      const wanted = node.value.value.toLowerCase();
      const found = f.binding.value(customer).some((item) => item.toLowerCase() === wanted);
      return node.negated ? !found : found;
    }
  }
}

function fieldOf(env: Env, name: string): SegmentField {
  const f = env.fields.get(name);
  if (!f) throw new TypeError(`unknown attribute ${name}`);
  return f;
}

function valueOf(f: SegmentField, customer: SegmentCustomer): unknown {
  return f.binding.value(customer);
}

function literalDay(env: Env, literal: Literal): CalendarDay {
  if (literal.kind !== "date" && literal.kind !== "relativeDate") throw new TypeError(`expected a date, got a ${literal.kind}`);
  let day = env.days.get(literal);
  if (day === undefined) {
    day = resolveDateLiteral(literal, env);
    env.days.set(literal, day);
  }
  return day;
}

function compareAttribute(env: Env, f: SegmentField, operator: ComparisonOperator, literal: Literal, customer: SegmentCustomer): boolean {
  const b = f.binding;
  switch (b.kind) {
    case "integer":
    case "money": {
      const value = b.value(customer);
      if (value === null) return false;
      const l = fraction(literal, b.kind === "money" ? env.exponent : 0);
      return holds(operator, compareFractions(value, 1n, l.numerator, l.denominator));
    }
    case "ratio": {
      const value = b.value(customer);
      if (value === null) return false;
      const l = fraction(literal);
      return holds(operator, compareFractions(value.numerator, value.denominator, l.numerator, l.denominator));
    }
    case "instant": {
      const value = b.value(customer);
      if (value === null) return false;
      const day = env.dayOf(value);
      const target = literalDay(env, literal);
      return holds(operator, day < target ? -1 : day > target ? 1 : 0);
    }
    case "text": {
      const value = b.value(customer);
      if (value === null) return false;
      if (literal.kind !== "string") throw new TypeError(`expected a string, got a ${literal.kind}`);
      return holds(operator, value.toLowerCase() === literal.value.toLowerCase() ? 0 : 1);
    }
    case "boolean": {
      const value = b.value(customer);
      if (value === null) return false;
      if (literal.kind !== "boolean") throw new TypeError(`expected a boolean, got a ${literal.kind}`);
      return holds(operator, value === literal.value ? 0 : 1);
    }
    case "textList":
      throw new TypeError(`${f.name} takes CONTAINS`);
  }
}

// ---- functions ----

function functionComparison(env: Env, call: FunctionCall, node: Comparison, customer: SegmentCustomer): boolean {
  if (node.right.kind !== "boolean") throw new TypeError(`${call.name}() compares with a boolean`);
  const result = functionValue(env, call, customer);
  return node.operator === "=" ? result === node.right.value : result !== node.right.value;
}

const counts = (order: SegmentOrder) => !order.cancelled && !order.test;

function functionValue(env: Env, call: FunctionCall, customer: SegmentCustomer): boolean {
  const args = new Map(call.args.map((a) => [a.name, a.value]));
  const date = args.get("date");
  const since = date ? literalDay(env, date) : undefined;
  const orders = customer.orders.filter((o) => counts(o) && (since === undefined || env.dayOf(o.createdAt) >= since));
  switch (call.name) {
    case "products_purchased": {
      const productId = args.get("product_id");
      const productType = args.get("product_type");
      const tag = args.get("tag");
      let units = 0n;
      for (const order of orders) {
        for (const line of order.lineItems) {
          if (productId) {
            const id = line.productId?.match(/^gid:\/\/shopify\/Product\/(\d+)$/)?.[1];
            if (id === undefined || productId.kind !== "number" || Number(id) !== productId.value) continue;
          }
          if (productType) {
            if (productType.kind !== "string" || line.productType?.toLowerCase() !== productType.value.toLowerCase()) continue;
          }
          if (tag) {
            if (tag.kind !== "string" || !line.productTags.some((t) => t.toLowerCase() === tag.value.toLowerCase())) continue;
          }
          units += BigInt(line.quantity);
        }
      }
      const quantity = args.get("quantity");
      const wanted = quantity ? fraction(quantity) : { numerator: 1n, denominator: 1n };
      return compareFractions(units, 1n, wanted.numerator, wanted.denominator) >= 0;
    }
    case "orders_placed": {
      const count = BigInt(orders.length);
      const least = args.get("count_at_least");
      const most = args.get("count_at_most");
      if (!least && !most) return count >= 1n;
      if (least) {
        const l = fraction(least);
        if (compareFractions(count, 1n, l.numerator, l.denominator) < 0) return false;
      }
      if (most) {
        const m = fraction(most);
        if (compareFractions(count, 1n, m.numerator, m.denominator) > 0) return false;
      }
      return true;
    }
    default:
      throw new TypeError(`unknown function ${call.name}`);
  }
}
