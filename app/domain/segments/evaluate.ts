// Reference evaluator: decides whether one in-memory customer belongs to a checked segment.
// Plain TypeScript, written apart from the SQL compiler (sql.ts) so the differential test
// can hold one against the other. Same semantics (docs/segments.md):
// - a predicate on an attribute without a value is false (`!=` too); NOT negates it;
// - a date names a calendar day in the shop's time zone; an instant is compared by the
//   day it falls on there; a date-time names one second, from its instant on;
// - numbers compare exactly (money literals in major units, values in minor units);
// - text compares ignoring case.

import type { Comparison, Condition, FunctionCall, Literal } from "./ast";
import { DATE_TIME_SPAN_MS, DEFAULT_TIME_ZONE, assertTimeZone, instantOfLocalDateTime, resolveDateLiteral, type CalendarDay } from "./dates";
import { FIELDS, type SegmentCustomer, type SegmentField, type SegmentLineItem, type SegmentOrder } from "./fields";
import { functionQuery, type ParameterTest } from "./functions";
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
    case "matches": {
      const result = functionValue(env, node.call, customer);
      return node.negated ? !result : result;
    }
    case "comparison":
      if (node.left.kind === "functionCall" && node.left.name === "anniversary") return anniversaryHolds(env, node.operator, node.right, customer);
      if (node.left.kind === "functionCall") return functionComparison(env, node.left, node, customer);
      return compareAttribute(env, fieldOf(env, node.left.name), node.operator, node.right, customer);
    case "between": {
      if (node.left.kind === "functionCall" && node.left.name === "anniversary") return anniversaryInWindow(env, node.low, node.high, customer);
      const f = fieldOf(env, node.left.name);
      return compareAttribute(env, f, ">=", node.low, customer) && compareAttribute(env, f, "<=", node.high, customer);
    }
    case "isNull": {
      if (node.left.kind === "functionCall" && node.left.name === "anniversary") return node.negated === (customer.birthDate != null);
      const f = fieldOf(env, node.left.name);
      const value = valueOf(f, customer);
      const missing = value === null || (f.binding.kind === "textList" && (value as readonly string[]).length === 0);
      return node.negated ? !missing : missing;
    }
    case "contains": {
      const f = fieldOf(env, node.left.name);
      if (f.binding.kind !== "textList" || node.value.kind !== "string") throw new TypeError(`CONTAINS does not apply to ${f.name}`);
      const normalize = f.binding.normalize ?? ((value: string) => value.toLowerCase());
      const wanted = normalize(node.value.value);
      const found = f.binding.value(customer).some((item) => normalize(item) === wanted);
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

/** Sign of instant - date literal: by the calendar day in the zone, or by the second a date-time names. */
function compareInstant(env: Env, instant: Date, literal: Literal): number {
  if (literal.kind === "dateTime") {
    const start = instantOfLocalDateTime(literal.value, env.timeZone).getTime();
    const time = instant.getTime();
    return time < start ? -1 : time >= start + DATE_TIME_SPAN_MS ? 1 : 0;
  }
  const day = env.dayOf(instant);
  const target = literalDay(env, literal);
  return day < target ? -1 : day > target ? 1 : 0;
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
    case "real": {
      const value = b.value(customer);
      if (value === null) return false;
      if (literal.kind !== "number") throw new TypeError(`expected a number, got a ${literal.kind}`);
      const wanted = Number(literal.raw);
      return holds(operator, value < wanted ? -1 : value > wanted ? 1 : 0);
    }
    case "instant": {
      const value = b.value(customer);
      if (value === null) return false;
      return holds(operator, compareInstant(env, value, literal));
    }
    case "text": {
      const value = b.value(customer);
      if (value === null) return false;
      if (literal.kind !== "string") throw new TypeError(`expected a string, got a ${literal.kind}`);
      return holds(operator, value.toLowerCase() === literal.value.toLowerCase() ? 0 : 1);
    }
    case "language": {
      const value = b.value(customer);
      if (value === null) return false;
      if (literal.kind !== "string") throw new TypeError(`expected a string, got a ${literal.kind}`);
      // A queried language without a region ('en') is the locale's first subtag; with one, the whole locale.
      const locale = value.toLowerCase().split(/[-_]/);
      const wanted = literal.value.toLowerCase().split(/[-_]/);
      const same = wanted.length === 1 ? locale[0] === wanted[0] : locale.join("-") === wanted.join("-");
      return holds(operator, same ? 0 : 1);
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

// ---- anniversary: day by day, with Date.UTC (the compiler uses segment_anniversary) ----

/** Month (1-12) and day of a YYYY-MM-DD. */
function monthDay(day: CalendarDay): [number, number, number] {
  return day.split("-").map(Number) as [number, number, number];
}

/** The calendar day of the birth date's anniversary in a year: Date.UTC rolls 29 February over to 1 March in other years, which is taken back to the 28th. */
function anniversaryDay(birth: string, year: number): CalendarDay {
  const [, m, d] = monthDay(birth);
  const date = new Date(Date.UTC(2000, m - 1, d));
  date.setUTCFullYear(year, m - 1, d);
  if (date.getUTCMonth() !== m - 1) date.setUTCDate(0);
  return date.toISOString().slice(0, 10).replace(/^\+?0*(\d{4})/, "$1");
}

function anniversaryHolds(env: Env, operator: ComparisonOperator, literal: Literal, customer: SegmentCustomer): boolean {
  const birth = customer.birthDate;
  if (birth == null) return false;
  const day = literalDay(env, literal);
  const occurrence = anniversaryDay(birth, Number(day.slice(0, 4)));
  return holds(operator, occurrence < day ? -1 : occurrence > day ? 1 : 0);
}

/** Walks the window's days; any 366 of them hold every anniversary. */
function anniversaryInWindow(env: Env, low: Literal, high: Literal, customer: SegmentCustomer): boolean {
  const birth = customer.birthDate;
  if (birth == null) return false;
  const [y0, m0, d0] = monthDay(literalDay(env, low));
  const last = literalDay(env, high);
  for (let i = 0; i < 366; i++) {
    const day = new Date(Date.UTC(2000, m0 - 1, d0 + i));
    day.setUTCFullYear(y0, m0 - 1, d0 + i);
    const text = day.toISOString().slice(0, 10).replace(/^\+?0*(\d{4})/, "$1");
    if (text > last) return false;
    if (anniversaryDay(birth, day.getUTCFullYear()) === text) return true;
  }
  return true;
}

// ---- functions ----

function functionComparison(env: Env, call: FunctionCall, node: Comparison, customer: SegmentCustomer): boolean {
  if (node.right.kind !== "boolean") throw new TypeError(`${call.name}() compares with a boolean`);
  const result = functionValue(env, call, customer);
  return node.operator === "=" ? result === node.right.value : result !== node.right.value;
}

const counts = (order: SegmentOrder) => !order.cancelled && !order.test;

/** Whether a value (a fraction numerator / denominator) passes a numeric or date-free test. */
function numberPasses(value: bigint, test: ParameterTest, scale: number): boolean {
  const against = (operator: ComparisonOperator, literal: Literal) => {
    const l = fraction(literal, scale);
    return holds(operator, compareFractions(value, 1n, l.numerator, l.denominator));
  };
  switch (test.operator) {
    case "BETWEEN":
      return against(">=", test.low) && against("<=", test.high);
    case "IN":
    case "NOT IN":
      throw new TypeError(`${test.operator} does not apply to numbers`);
    default:
      return against(test.operator, test.value);
  }
}

function instantPasses(env: Env, instant: Date, test: ParameterTest): boolean {
  switch (test.operator) {
    case "BETWEEN":
      return compareInstant(env, instant, test.low) >= 0 && compareInstant(env, instant, test.high) <= 0;
    case "IN":
    case "NOT IN":
      throw new TypeError(`${test.operator} does not apply to dates`);
    default:
      return holds(test.operator, compareInstant(env, instant, test.value));
  }
}

function textEquals(test: ParameterTest, value: string): boolean {
  if (test.operator !== "=" || test.value.kind !== "string") throw new TypeError("expected = 'text'");
  return test.value.value.toLowerCase() === value.toLowerCase();
}

/** The product id of a line item, read from its gid. */
function lineProductId(line: SegmentLineItem): bigint | null {
  const id = line.productId?.match(/^gid:\/\/shopify\/Product\/(\d+)$/)?.[1];
  return id === undefined ? null : BigInt(id);
}

/** A literal names this product id: an integer written without a fraction, equal to it. */
const namesProduct = (literal: Literal, id: bigint) => literal.kind === "number" && /^\+?\d+$/.test(literal.raw) && BigInt(literal.raw.replace("+", "")) === id;

function lineMatches(line: SegmentLineItem, parameter: string, test: ParameterTest): boolean {
  switch (parameter) {
    case "id": {
      const id = lineProductId(line);
      if (test.operator !== "IN" && test.operator !== "NOT IN") throw new TypeError(`id takes IN or NOT IN`);
      if (id === null) return false;
      const listed = test.values.some((literal) => namesProduct(literal, id));
      return test.operator === "IN" ? listed : !listed;
    }
    case "tag":
      return line.productTags.some((tag) => textEquals(test, tag));
    case "product_type":
      return line.productType !== null && textEquals(test, line.productType);
    default:
      throw new TypeError(`unknown line parameter ${parameter}`);
  }
}

function functionValue(env: Env, call: FunctionCall, customer: SegmentCustomer): boolean {
  const query = functionQuery(call);
  const filters = query.tests.filter((t) => t.role === "filter");
  const aggregates = query.tests.filter((t) => t.role === "aggregate");
  const orderFilters = filters.filter((t) => t.parameter === "date" || t.parameter === "amount");
  const lineFilters = filters.filter((t) => !orderFilters.includes(t));
  const orders = customer.orders.filter(
    (order) =>
      counts(order) &&
      orderFilters.every((t) =>
        t.parameter === "date" ? instantPasses(env, order.createdAt, t.test) : numberPasses(order.totalPriceMinor - order.refundedMinor, t.test, env.exponent),
      ),
  );
  switch (call.name) {
    case "products_purchased": {
      let units = 0n;
      let ordersWithUnits = 0n;
      for (const order of orders) {
        let bought = false;
        for (const line of order.lineItems) {
          if (!lineFilters.every((t) => lineMatches(line, t.parameter, t.test))) continue;
          units += BigInt(line.quantity);
          if (line.quantity > 0) bought = true;
        }
        if (bought) ordersWithUnits++;
      }
      if (aggregates.length === 0) return ordersWithUnits > 0n;
      return aggregates.every((t) => numberPasses(t.parameter === "count" ? ordersWithUnits : units, t.test, 0));
    }
    case "orders_placed": {
      if (aggregates.length === 0) return orders.length > 0;
      const amount = orders.reduce((sum, order) => sum + order.totalPriceMinor - order.refundedMinor, 0n);
      return aggregates.every((t) => (t.parameter === "count" ? numberPasses(BigInt(orders.length), t.test, 0) : numberPasses(amount, t.test, env.exponent)));
    }
    default:
      throw new TypeError(`unknown function ${call.name}`);
  }
}
