// Compiles a checked segment tree into one boolean SQL expression over a customers row.
// Pure. Every value the merchant wrote (numbers, strings, dates, and the resolved `now`)
// travels as a `$n` parameter: the SQL text holds only catalogue SQL, operators and
// placeholders. The caller adds the shop filter:
//
//   SELECT c.gid FROM customers c
//    WHERE c.shop = $1 AND c.deleted_at IS NULL AND c.redacted_at IS NULL AND (<text>)
//
// Semantics (docs/segments.md; evaluate.ts implements the same in plain TypeScript):
// - Two-valued logic: a predicate on an attribute without a value (a customer without
//   orders has no last_order_date) is false, `!=` included, and NOT turns it true.
//   Every emitted predicate is non-NULL, so NOT is exact.
// - A date names a calendar day in the time zone; `x > D` means after that day,
//   `x = D` on that day, `x BETWEEN A AND B` from the start of A to the end of B.
//   A date-time (2020-05-30T16:00:00, local to the zone) names that one second the same way.
// - Money literals are major units of the shop currency, compared exactly with minor
//   units (no floating point); integers compare exactly with decimal literals.

import { ANNIVERSARY, yearOf } from "./anniversary";
import type { Comparison, Condition, FunctionCall, Literal, Operand } from "./ast";
import { DATE_TIME_SPAN_MS, DEFAULT_TIME_ZONE, assertTimeZone, instantOfLocalDateTime, nextCalendarDay, resolveDateLiteral, shiftCalendarDay, startOfCalendarDay, type CalendarDay } from "./dates";
import { FIELDS, type FieldBinding, type SegmentField, type SqlOf } from "./fields";
import { FunctionQueryError, functionQuery, productIdOf, type FunctionQuery, type ParameterTest } from "./functions";
import { currencyExponent } from "../money";
import type { ComparisonOperator } from "./lexer";

export type CompileOptions = {
  /** Alias of the customers row in the caller's statement, e.g. `c`. */
  customerAlias: string;
  /** Number of the first placeholder this expression may use (`$2` when the caller holds `$1`). */
  firstParamIndex: number;
  /** The instant relative dates (-90d, today) are resolved against. */
  now: Date;
  /** IANA time zone in which dates name days. Default UTC. */
  timeZone?: string;
  /** ISO 4217 code of the shop currency: money literals are its major units. Default: 2 decimals. */
  currency?: string;
  /** The attribute catalogue (tests pass extended ones). */
  fields?: readonly SegmentField[];
};

export type CompiledSegmentFilter = { text: string; values: unknown[] };

/** The tree does not fit the catalogue: it was not checked (checkSegment) first. */
export class SegmentCompileError extends Error {
  override readonly name = "SegmentCompileError";
}

const ALIAS = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** A decimal literal as an exact fraction numerator / denominator (denominator > 0). */
type Fraction = { numerator: bigint; denominator: bigint };

function decimalOf(literal: Literal): Fraction {
  if (literal.kind !== "number") throw new SegmentCompileError(`expected a number, got a ${literal.kind}`);
  const match = /^([-+])?(\d+)(?:\.(\d+))?$/.exec(literal.raw);
  if (!match) throw new SegmentCompileError(`not a decimal number: ${literal.raw}`);
  const fraction = match[3] ?? "";
  const magnitude = BigInt((match[2] as string) + fraction);
  return { numerator: match[1] === "-" ? -magnitude : magnitude, denominator: 10n ** BigInt(fraction.length) };
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q;
}
const ceilDiv = (a: bigint, b: bigint): bigint => -floorDiv(-a, b);

type Context = {
  readonly alias: string;
  readonly firstParamIndex: number;
  readonly now: Date;
  readonly timeZone: string;
  readonly exponent: number;
  readonly fields: ReadonlyMap<string, SegmentField>;
  readonly values: unknown[];
};

/** Adds a parameter and returns its placeholder, with a cast so PostgreSQL never guesses its type. */
function param(ctx: Context, value: string | string[], cast: "text" | "text[]" | "bigint" | "numeric" | "float8" | "timestamptz" | "boolean" | "int" | "date"): string {
  ctx.values.push(value);
  return `$${ctx.firstParamIndex + ctx.values.length - 1}::${cast}`;
}

/** An integer bound: bigint where it fits (so indexes on bigint and integer columns apply), numeric beyond. */
function integerParam(ctx: Context, value: bigint): string {
  return param(ctx, value.toString(), value >= INT64_MIN && value <= INT64_MAX ? "bigint" : "numeric");
}

const and = (...parts: string[]) => (parts.length === 1 ? (parts[0] as string) : `(${parts.join(" AND ")})`);
/** `present AND predicate`: false when the attribute has no value. Compound predicates are parenthesised. */
const guarded = (present: string | undefined, predicate: string) =>
  present ? and(present, predicate) : / (AND|OR) /.test(predicate) ? `(${predicate})` : predicate;
const presentSql = (binding: { present?: SqlOf }, alias: string) => binding.present?.(alias);

export function compileSegmentFilter(ast: Condition, options: CompileOptions): CompiledSegmentFilter {
  const { customerAlias, firstParamIndex, now } = options;
  if (!ALIAS.test(customerAlias) || customerAlias.toLowerCase().startsWith("segment_")) {
    throw new RangeError(`customerAlias must be a plain SQL identifier not starting with segment_, got ${JSON.stringify(customerAlias)}`);
  }
  if (!Number.isSafeInteger(firstParamIndex) || firstParamIndex < 1) throw new RangeError(`firstParamIndex must be a positive integer, got ${firstParamIndex}`);
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new RangeError("now must be a valid Date");
  const timeZone = options.timeZone ?? DEFAULT_TIME_ZONE;
  assertTimeZone(timeZone);
  const ctx: Context = {
    alias: customerAlias,
    firstParamIndex,
    now,
    timeZone,
    exponent: options.currency ? currencyExponent(options.currency) : 2,
    fields: new Map((options.fields ?? FIELDS).map((f) => [f.name, f])),
    values: [],
  };
  const text = condition(ctx, ast);
  return { text, values: ctx.values };
}

function condition(ctx: Context, node: Condition): string {
  switch (node.kind) {
    case "and":
      return `(${condition(ctx, node.left)} AND ${condition(ctx, node.right)})`;
    case "or":
      return `(${condition(ctx, node.left)} OR ${condition(ctx, node.right)})`;
    case "not":
      return `(NOT ${condition(ctx, node.operand)})`;
    case "comparison":
      if (node.left.kind === "functionCall" && node.left.name === ANNIVERSARY) return anniversaryComparison(ctx, node.operator, node.right);
      return node.left.kind === "functionCall" ? functionComparison(ctx, node.left, node) : compare(ctx, field(ctx, node.left), node.operator, node.right);
    case "between": {
      if (node.left.kind === "functionCall" && node.left.name === ANNIVERSARY) return anniversaryBetween(ctx, node.low, node.high);
      if (node.left.kind === "functionCall") throw new SegmentCompileError(`BETWEEN does not apply to ${node.left.name}()`);
      return between(ctx, field(ctx, node.left), node.low, node.high);
    }
    case "isNull": {
      if (node.left.kind === "functionCall" && node.left.name === ANNIVERSARY) return node.negated ? birthDatePresent(ctx) : `(NOT ${birthDatePresent(ctx)})`;
      if (node.left.kind === "functionCall") throw new SegmentCompileError(`IS NULL does not apply to ${node.left.name}()`);
      const present = presence(ctx, field(ctx, node.left));
      if (node.negated) return present ?? "TRUE";
      return present ? `(NOT ${present})` : "FALSE";
    }
    case "matches": {
      const predicate = functionPredicate(ctx, node.call);
      return node.negated ? `(NOT ${predicate})` : predicate;
    }
    case "contains": {
      if (node.left.kind === "functionCall") throw new SegmentCompileError(`CONTAINS does not apply to ${node.left.name}()`);
      const f = field(ctx, node.left);
      if (f.binding.kind !== "textList") throw new SegmentCompileError(`CONTAINS does not apply to ${f.name}`);
      const wanted = f.binding.normalize ? f.binding.normalize(text(node.value)) : text(node.value).toLowerCase();
      const contains = f.binding.contains(ctx.alias, param(ctx, wanted, "text"));
      return node.negated ? `(NOT ${contains})` : contains;
    }
  }
}

function field(ctx: Context, operand: Operand): SegmentField {
  const f = ctx.fields.get(operand.name);
  if (!f) throw new SegmentCompileError(`unknown attribute ${operand.name}`);
  return f;
}

function text(literal: Literal): string {
  if (literal.kind !== "string") throw new SegmentCompileError(`expected a string, got a ${literal.kind}`);
  return literal.value;
}

function presence(ctx: Context, f: SegmentField): string | undefined {
  const b = f.binding;
  if (b.kind === "textList") return b.present?.(ctx.alias);
  if (b.kind === "ratio") return `${b.denominator(ctx.alias)} > 0`;
  return presentSql(b, ctx.alias);
}

/** The literal as an exact fraction in the attribute's stored unit (minor units for money). */
function scaled(ctx: Context, binding: FieldBinding, literal: Literal): Fraction {
  const d = decimalOf(literal);
  return binding.kind === "money" ? { numerator: d.numerator * 10n ** BigInt(ctx.exponent), denominator: d.denominator } : d;
}

/** `x op n/d` for an integer expression x, as a comparison with an integer bound. */
function integerComparison(ctx: Context, x: string, present: string | undefined, operator: ComparisonOperator, value: Fraction): string {
  const { numerator: n, denominator: d } = value;
  switch (operator) {
    case ">":
      return guarded(present, `${x} > ${integerParam(ctx, floorDiv(n, d))}`);
    case ">=":
      return guarded(present, `${x} >= ${integerParam(ctx, ceilDiv(n, d))}`);
    case "<":
      return guarded(present, `${x} < ${integerParam(ctx, ceilDiv(n, d))}`);
    case "<=":
      return guarded(present, `${x} <= ${integerParam(ctx, floorDiv(n, d))}`);
    case "=":
      // An integer never equals 2.5.
      return n % d === 0n ? guarded(present, `${x} = ${integerParam(ctx, n / d)}`) : "FALSE";
    case "!=":
      return n % d === 0n ? guarded(present, `${x} <> ${integerParam(ctx, n / d)}`) : (present ?? "TRUE");
  }
}

/** Days: [start of day, start of next day) in the time zone; a date-time: [that second, the next). */
function dayBounds(ctx: Context, literal: Literal): { start: Date; end: Date } {
  if (literal.kind === "dateTime") {
    const start = instantOfLocalDateTime(literal.value, ctx.timeZone);
    return { start, end: new Date(start.getTime() + DATE_TIME_SPAN_MS) };
  }
  if (literal.kind !== "date" && literal.kind !== "relativeDate") throw new SegmentCompileError(`expected a date, got a ${literal.kind}`);
  const day: CalendarDay = resolveDateLiteral(literal, ctx);
  return { start: startOfCalendarDay(day, ctx.timeZone), end: startOfCalendarDay(nextCalendarDay(day), ctx.timeZone) };
}

const instantParam = (ctx: Context, instant: Date) => param(ctx, instant.toISOString(), "timestamptz");

function compare(ctx: Context, f: SegmentField, operator: ComparisonOperator, literal: Literal): string {
  const b = f.binding;
  const a = ctx.alias;
  switch (b.kind) {
    case "integer":
    case "money":
      return integerComparison(ctx, b.sql(a), presentSql(b, a), operator, scaled(ctx, b, literal));
    case "ratio": {
      // num / den op n / d  <=>  num * d op n * den, with den > 0.
      const { numerator: n, denominator: d } = decimalOf(literal);
      const sqlOperator = operator === "!=" ? "<>" : operator;
      return and(
        `${b.denominator(a)} > 0`,
        `${b.numerator(a)}::numeric * ${param(ctx, d.toString(), "numeric")} ${sqlOperator} ${param(ctx, n.toString(), "numeric")} * ${b.denominator(a)}`,
      );
    }
    case "real": {
      if (literal.kind !== "number") throw new SegmentCompileError(`expected a number, got a ${literal.kind}`);
      return guarded(presentSql(b, a), `${b.sql(a)} ${operator === "!=" ? "<>" : operator} ${param(ctx, literal.raw.replace(/^\+/, ""), "float8")}`);
    }
    case "instant":
      return guarded(presentSql(b, a), instantComparison(ctx, b.sql(a), operator, literal));
    case "text": {
      if (operator !== "=" && operator !== "!=") throw new SegmentCompileError(`operator ${operator} does not apply to ${f.name}`);
      const x = b.storedLowerCase ? b.sql(a) : `lower(${b.sql(a)})`;
      return guarded(presentSql(b, a), `${x} ${operator === "=" ? "=" : "<>"} ${param(ctx, text(literal).toLowerCase(), "text")}`);
    }
    case "language": {
      if (operator !== "=" && operator !== "!=") throw new SegmentCompileError(`operator ${operator} does not apply to ${f.name}`);
      const wanted = text(literal).toLowerCase().replaceAll("_", "-");
      const tag = `replace(lower(${b.sql(a)}), '_', '-')`;
      // 'en' names the language in every region; 'en-us' one locale.
      const x = wanted.includes("-") ? tag : `split_part(${tag}, '-', 1)`;
      return and(b.present(a), `${x} ${operator === "=" ? "=" : "<>"} ${param(ctx, wanted, "text")}`);
    }
    case "boolean": {
      if (operator !== "=" && operator !== "!=") throw new SegmentCompileError(`operator ${operator} does not apply to ${f.name}`);
      if (literal.kind !== "boolean") throw new SegmentCompileError(`expected a boolean, got a ${literal.kind}`);
      return guarded(presentSql(b, a), `${b.sql(a)} ${operator === "=" ? "=" : "<>"} ${param(ctx, String(literal.value), "boolean")}`);
    }
    case "textList":
      throw new SegmentCompileError(`${f.name} takes CONTAINS or NOT CONTAINS`);
  }
  throw new SegmentCompileError(`operator ${operator} does not apply to ${f.name}`);
}

/** `x op D` for a timestamptz expression x and a date (a day) or date-time (a second). */
function instantComparison(ctx: Context, x: string, operator: ComparisonOperator, literal: Literal): string {
  const { start, end } = dayBounds(ctx, literal);
  switch (operator) {
    case ">":
      return `${x} >= ${instantParam(ctx, end)}`;
    case ">=":
      return `${x} >= ${instantParam(ctx, start)}`;
    case "<":
      return `${x} < ${instantParam(ctx, start)}`;
    case "<=":
      return `${x} < ${instantParam(ctx, end)}`;
    case "=":
      return `${x} >= ${instantParam(ctx, start)} AND ${x} < ${instantParam(ctx, end)}`;
    case "!=":
      return `(${x} < ${instantParam(ctx, start)} OR ${x} >= ${instantParam(ctx, end)})`;
  }
}

function between(ctx: Context, f: SegmentField, low: Literal, high: Literal): string {
  const b = f.binding;
  const a = ctx.alias;
  switch (b.kind) {
    case "integer":
    case "money": {
      const lo = scaled(ctx, b, low);
      const hi = scaled(ctx, b, high);
      const x = b.sql(a);
      return guarded(
        presentSql(b, a),
        `${x} >= ${integerParam(ctx, ceilDiv(lo.numerator, lo.denominator))} AND ${x} <= ${integerParam(ctx, floorDiv(hi.numerator, hi.denominator))}`,
      );
    }
    case "ratio":
    case "real":
      return and(compare(ctx, f, ">=", low), compare(ctx, f, "<=", high));
    case "instant": {
      const x = b.sql(a);
      return guarded(presentSql(b, a), `${x} >= ${instantParam(ctx, dayBounds(ctx, low).start)} AND ${x} < ${instantParam(ctx, dayBounds(ctx, high).end)}`);
    }
    default:
      throw new SegmentCompileError(`BETWEEN does not apply to ${f.name}`);
  }
}

// ---- anniversary (anniversary.ts) ----

const birthDatePresent = (ctx: Context) => `${ctx.alias}.birth_date IS NOT NULL`;

/** The day a date literal names (date-times are refused by the checker). */
function literalDayOf(ctx: Context, literal: Literal): CalendarDay {
  if (literal.kind !== "date" && literal.kind !== "relativeDate") throw new SegmentCompileError(`anniversary compares with days, got a ${literal.kind}`);
  return resolveDateLiteral(literal, ctx);
}

/** `anniversary(...) op D`: the anniversary in D's year against D. */
function anniversaryComparison(ctx: Context, operator: ComparisonOperator, literal: Literal): string {
  const day = literalDayOf(ctx, literal);
  const x = `segment_anniversary(${ctx.alias}.birth_date, ${param(ctx, String(yearOf(day)), "int")})`;
  return and(birthDatePresent(ctx), `${x} ${operator === "!=" ? "<>" : operator} ${param(ctx, day, "date")}`);
}

/** `anniversary(...) BETWEEN L AND H`: the anniversary in L's year or the next falls in [L, H]. */
function anniversaryBetween(ctx: Context, low: Literal, high: Literal): string {
  const lo = literalDayOf(ctx, low);
  const hi = literalDayOf(ctx, high);
  if (hi < lo) return "FALSE";
  // A window of 366 days or more holds every anniversary (they are at most 366 days apart).
  if (shiftCalendarDay(lo, 365, "d") <= hi) return birthDatePresent(ctx);
  const inWindow = (year: number) =>
    `segment_anniversary(${ctx.alias}.birth_date, ${param(ctx, String(year), "int")}) BETWEEN ${param(ctx, lo, "date")} AND ${param(ctx, hi, "date")}`;
  const years = yearOf(hi) > yearOf(lo) ? [inWindow(yearOf(lo)), inWindow(yearOf(hi))] : [inWindow(yearOf(lo))];
  return and(birthDatePresent(ctx), years.length === 1 ? years[0]! : `(${years.join(" OR ")})`);
}

// ---- functions ----

function functionComparison(ctx: Context, call: FunctionCall, node: Comparison): string {
  if (node.right.kind !== "boolean" || (node.operator !== "=" && node.operator !== "!=")) {
    throw new SegmentCompileError(`${call.name}() compares with = true or = false`);
  }
  const predicate = functionPredicate(ctx, call);
  const wanted = node.operator === "=" ? node.right.value : !node.right.value;
  return wanted ? predicate : `(NOT ${predicate})`;
}

/** Orders that count (neither cancelled nor test) of the customer row, in subquery alias `segment_o`. */
function countedOrders(ctx: Context): string[] {
  const a = ctx.alias;
  return [`segment_o.shop = ${a}.shop`, `segment_o.customer_gid = ${a}.gid`, "segment_o.cancelled_at IS NULL", "NOT segment_o.test"];
}

function functionPredicate(ctx: Context, call: FunctionCall): string {
  let query: FunctionQuery;
  try {
    query = functionQuery(call);
  } catch (error) {
    if (error instanceof FunctionQueryError) throw new SegmentCompileError(error.message);
    throw error;
  }
  switch (call.name) {
    case "products_purchased":
      return productsPurchased(ctx, query);
    case "orders_placed":
      return ordersPlaced(ctx, query);
    default:
      throw new SegmentCompileError(`unknown function ${call.name}`);
  }
}

const testsOf = (query: FunctionQuery, parameter: string) => query.tests.filter((t) => t.parameter === parameter).map((t) => t.test);

/** `x op D` / `x BETWEEN A AND B` for a timestamptz x. */
function instantTest(ctx: Context, x: string, test: ParameterTest): string {
  if (test.operator === "IN" || test.operator === "NOT IN") throw new SegmentCompileError(`${test.operator} does not apply to dates`);
  if (test.operator === "BETWEEN") return `${x} >= ${instantParam(ctx, dayBounds(ctx, test.low).start)} AND ${x} < ${instantParam(ctx, dayBounds(ctx, test.high).end)}`;
  return instantComparison(ctx, x, test.operator, test.value);
}

/** `x op amount` for an integer money expression x (minor units); literals are major units. */
function moneyTest(ctx: Context, x: string, test: ParameterTest): string {
  const money = (literal: Literal): Fraction => {
    const d = decimalOf(literal);
    return { numerator: d.numerator * 10n ** BigInt(ctx.exponent), denominator: d.denominator };
  };
  if (test.operator === "IN" || test.operator === "NOT IN") throw new SegmentCompileError(`${test.operator} does not apply to amounts`);
  if (test.operator === "BETWEEN") return and(integerComparison(ctx, x, undefined, ">=", money(test.low)), integerComparison(ctx, x, undefined, "<=", money(test.high)));
  return integerComparison(ctx, x, undefined, test.operator, money(test.value));
}

/**
 * The whole numbers 0, 1, 2, ... that a list of tests allows, as one range [low, high] (high
 * null: no upper bound) less some excluded values; `empty` when none. Counts and quantities
 * are never negative, so the range starts at 0 at the lowest.
 */
type NaturalRange = { empty: boolean; low: bigint; high: bigint | null; excluded: bigint[] };

function naturalRange(tests: readonly ParameterTest[]): NaturalRange {
  const range: NaturalRange = { empty: false, low: 0n, high: null, excluded: [] };
  const atLeast = (v: bigint) => (range.low = v > range.low ? v : range.low);
  const atMost = (v: bigint) => (range.high = range.high === null || v < range.high ? v : range.high);
  for (const test of tests) {
    if (test.operator === "IN" || test.operator === "NOT IN") throw new SegmentCompileError(`${test.operator} does not apply to counts`);
    if (test.operator === "BETWEEN") {
      const lo = decimalOf(test.low);
      const hi = decimalOf(test.high);
      atLeast(ceilDiv(lo.numerator, lo.denominator));
      atMost(floorDiv(hi.numerator, hi.denominator));
      continue;
    }
    const { numerator: n, denominator: d } = decimalOf(test.value);
    switch (test.operator) {
      case ">":
        atLeast(floorDiv(n, d) + 1n);
        break;
      case ">=":
        atLeast(ceilDiv(n, d));
        break;
      case "<":
        atMost(ceilDiv(n, d) - 1n);
        break;
      case "<=":
        atMost(floorDiv(n, d));
        break;
      case "=":
        if (n % d !== 0n) range.empty = true;
        else {
          atLeast(n / d);
          atMost(n / d);
        }
        break;
      case "!=":
        if (n % d === 0n && n / d >= 0n) range.excluded.push(n / d);
        break;
    }
  }
  if (range.high !== null && range.high < range.low) range.empty = true;
  range.excluded = range.excluded.filter((v) => v >= range.low && (range.high === null || v <= range.high));
  return range;
}

const inRange = (range: NaturalRange, v: bigint) => !range.empty && v >= range.low && (range.high === null || v <= range.high) && !range.excluded.includes(v);

/** `x` (a non-negative integer expression) within the range; TRUE or FALSE when the range decides alone. */
function rangeCondition(ctx: Context, x: string, range: NaturalRange): string {
  if (range.empty) return "FALSE";
  const parts: string[] = [];
  if (range.high !== null && range.low === range.high) parts.push(`${x} = ${integerParam(ctx, range.low)}`);
  else if (range.high !== null && range.low > 0n) {
    // A subquery is written once (BETWEEN); a column as two comparisons, as before.
    parts.push(x.startsWith("(SELECT") ? `${x} BETWEEN ${integerParam(ctx, range.low)} AND ${integerParam(ctx, range.high)}` : `${x} >= ${integerParam(ctx, range.low)}`);
    if (!x.startsWith("(SELECT")) parts.push(`${x} <= ${integerParam(ctx, range.high)}`);
  }
  else if (range.high !== null) parts.push(`${x} <= ${integerParam(ctx, range.high)}`);
  else if (range.low > 0n) parts.push(`${x} >= ${integerParam(ctx, range.low)}`);
  for (const v of range.excluded) parts.push(`${x} <> ${integerParam(ctx, v)}`);
  return parts.length === 0 ? "TRUE" : and(...parts);
}

/** `exists` when the range is exactly "at least 1", its negation for "exactly 0", else the range test on x. */
function aggregateCondition(ctx: Context, x: () => string, exists: () => string, range: NaturalRange): string {
  if (!range.empty && range.excluded.length === 0 && range.low === 1n && range.high === null) return exists();
  if (!range.empty && range.excluded.length === 0 && range.low === 0n && range.high === 0n) return `(NOT ${exists()})`;
  if (range.empty || (range.low === 0n && range.high === null && range.excluded.length === 0)) return range.empty ? "FALSE" : "TRUE";
  return rangeCondition(ctx, x(), range);
}

function productsPurchased(ctx: Context, query: FunctionQuery): string {
  const sums = naturalRange(testsOf(query, "sum_quantity"));
  const counts = naturalRange(testsOf(query, "count"));
  const aggregated = query.tests.some((t) => t.role === "aggregate");
  // What the function says when no line item is selected: aggregates are 0, "bought" is false.
  const whenNone = aggregated && inRange(sums, 0n) && inRange(counts, 0n) ? "TRUE" : "FALSE";
  if (aggregated && (sums.empty || counts.empty)) return "FALSE";
  // Product ids are positive integers: an IN list of other numbers selects nothing. Decided
  // before any parameter is added, so that every parameter added is used in the text.
  const productGids = (test: ParameterTest) =>
    test.operator === "IN" || test.operator === "NOT IN"
      ? test.values.map(productIdOf).filter((id): id is bigint => id !== null).map((id) => `gid://shopify/Product/${id}`)
      : [];
  if (query.tests.some((t) => t.parameter === "id" && t.test.operator === "IN" && productGids(t.test).length === 0)) return whenNone;
  // Parameters of the filters are added before it is known whether the aggregates need the
  // rows at all (`sum_quantity >= 0` does not): dropped again when no part uses them.
  const mark = ctx.values.length;
  let whereUsed = false;
  const where = countedOrders(ctx);
  let joinProducts = false;
  // A fixed order of the filters, whatever order they were written in.
  const order = ["date", "id", "product_type", "tag"];
  const filters = query.tests.filter((t) => t.role === "filter").sort((x, y) => order.indexOf(x.parameter) - order.indexOf(y.parameter));
  for (const test of filters) {
    switch (test.parameter) {
      case "date":
        where.push(instantTest(ctx, "segment_o.shopify_created_at", test.test));
        break;
      case "id": {
        if (test.test.operator !== "IN" && test.test.operator !== "NOT IN") throw new SegmentCompileError(`id takes IN or NOT IN, got ${test.test.operator}`);
        const gids = productGids(test.test);
        if (test.test.operator === "IN") {
          where.push(gids.length === 1 ? `segment_li.product_gid = ${param(ctx, gids[0] as string, "text")}` : `segment_li.product_gid = ANY(${param(ctx, gids, "text[]")})`);
        } else {
          where.push("segment_li.product_gid IS NOT NULL");
          if (gids.length > 0) where.push(`segment_li.product_gid <> ALL(${param(ctx, gids, "text[]")})`);
        }
        break;
      }
      case "product_type":
        joinProducts = true;
        where.push(`lower(segment_p.product_type) = ${param(ctx, text(equalityValue(test.test)).toLowerCase(), "text")}`);
        break;
      case "tag":
        joinProducts = true;
        where.push(`segment_lower_tags(segment_p.tags) @> ARRAY[${param(ctx, text(equalityValue(test.test)).toLowerCase(), "text")}]`);
        break;
    }
  }
  const from =
    "FROM orders segment_o JOIN line_items segment_li ON segment_li.shop = segment_o.shop AND segment_li.order_gid = segment_o.gid" +
    (joinProducts ? " JOIN products segment_p ON segment_p.shop = segment_li.shop AND segment_p.gid = segment_li.product_gid" : "");
  const exists = () => {
    whereUsed = true;
    return `EXISTS (SELECT 1 ${from} WHERE ${[...where, "segment_li.quantity > 0"].join(" AND ")})`;
  };
  if (!aggregated) return exists();
  const sum = () => {
    whereUsed = true;
    return `(SELECT COALESCE(SUM(segment_li.quantity), 0) ${from} WHERE ${where.join(" AND ")})`;
  };
  const count = () => {
    whereUsed = true;
    return `(SELECT count(DISTINCT segment_o.gid) ${from} WHERE ${[...where, "segment_li.quantity > 0"].join(" AND ")})`;
  };
  return combine(ctx, mark, () => whereUsed, [aggregateCondition(ctx, sum, exists, sums), aggregateCondition(ctx, count, exists, counts)]);
}

/**
 * AND of the parts of a function's condition. When no part reads the selected rows (every
 * part a constant), the parameters added since `mark` are unused and removed.
 */
function combine(ctx: Context, mark: number, rowsUsed: () => boolean, parts: string[]): string {
  const kept = parts.filter((part) => part !== "TRUE");
  if (!rowsUsed()) {
    ctx.values.length = mark;
    return kept.length === 0 ? "TRUE" : "FALSE";
  }
  return kept.length === 0 ? "TRUE" : and(...kept);
}

function equalityValue(test: ParameterTest): Literal {
  if (test.operator !== "=") throw new SegmentCompileError(`expected =, got ${test.operator}`);
  return test.value;
}

function ordersPlaced(ctx: Context, query: FunctionQuery): string {
  const counts = naturalRange(testsOf(query, "count"));
  const sums = testsOf(query, "sum_amount");
  const filters = query.tests.filter((t) => t.role === "filter");
  const aggregated = query.tests.some((t) => t.role === "aggregate");
  if (counts.empty) return "FALSE";
  const a = ctx.alias;
  if (filters.length === 0) {
    // Without filters the stored aggregates are the count and the sum (same definition:
    // orders neither cancelled nor test, amounts less refunds).
    const parts = [rangeCondition(ctx, `${a}.orders_count`, aggregated ? counts : { empty: false, low: 1n, high: null, excluded: [] })];
    for (const test of sums) parts.push(moneyTest(ctx, `${a}.total_spent_minor`, test));
    const kept = parts.filter((p) => p !== "TRUE");
    return kept.length === 0 ? "TRUE" : and(...kept);
  }
  const mark = ctx.values.length;
  let whereUsed = false;
  const where = countedOrders(ctx);
  for (const test of filters) {
    if (test.parameter === "date") where.push(instantTest(ctx, "segment_o.shopify_created_at", test.test));
    else if (test.parameter === "amount") where.push(moneyTest(ctx, "(segment_o.total_price_minor - segment_o.refunded_minor)", test.test));
  }
  const condition = where.join(" AND ");
  const rows = (text: string) => {
    whereUsed = true;
    return text;
  };
  const exists = () => rows(`EXISTS (SELECT 1 FROM orders segment_o WHERE ${condition})`);
  if (!aggregated) return exists();
  const parts = [aggregateCondition(ctx, () => rows(`(SELECT count(*) FROM orders segment_o WHERE ${condition})`), exists, counts)];
  const sum = `(SELECT COALESCE(SUM(segment_o.total_price_minor - segment_o.refunded_minor), 0) FROM orders segment_o WHERE ${condition})`;
  for (const test of sums) {
    const part = moneyTest(ctx, sum, test);
    if (part.includes(sum)) whereUsed = true;
    parts.push(part);
  }
  return combine(ctx, mark, () => whereUsed, parts);
}
