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
// - Money literals are major units of the shop currency, compared exactly with minor
//   units (no floating point); integers compare exactly with decimal literals.

import type { Argument, Comparison, Condition, FunctionCall, Literal, Operand } from "./ast";
import { DEFAULT_TIME_ZONE, assertTimeZone, nextCalendarDay, resolveDateLiteral, startOfCalendarDay, type CalendarDay } from "./dates";
import { FIELDS, type FieldBinding, type SegmentField, type SqlOf } from "./fields";
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
function param(ctx: Context, value: string, cast: "text" | "bigint" | "numeric" | "timestamptz" | "boolean"): string {
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
      return node.left.kind === "functionCall" ? functionComparison(ctx, node.left, node) : compare(ctx, field(ctx, node.left), node.operator, node.right);
    case "between": {
      if (node.left.kind === "functionCall") throw new SegmentCompileError(`BETWEEN does not apply to ${node.left.name}()`);
      return between(ctx, field(ctx, node.left), node.low, node.high);
    }
    case "isNull": {
      if (node.left.kind === "functionCall") throw new SegmentCompileError(`IS NULL does not apply to ${node.left.name}()`);
      const present = presence(ctx, field(ctx, node.left));
      if (node.negated) return present ?? "TRUE";
      return present ? `(NOT ${present})` : "FALSE";
    }
    case "contains": {
      if (node.left.kind === "functionCall") throw new SegmentCompileError(`CONTAINS does not apply to ${node.left.name}()`);
      const f = field(ctx, node.left);
      if (f.binding.kind !== "textList") throw new SegmentCompileError(`CONTAINS does not apply to ${f.name}`);
      const contains = f.binding.contains(ctx.alias, param(ctx, text(node.value).toLowerCase(), "text"));
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
  if (b.kind === "textList") return undefined;
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

/** Days: [start of day, start of next day) in the time zone. */
function dayBounds(ctx: Context, literal: Literal): { start: Date; end: Date } {
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
    case "instant": {
      const x = b.sql(a);
      const present = presentSql(b, a);
      const { start, end } = dayBounds(ctx, literal);
      switch (operator) {
        case ">":
          return guarded(present, `${x} >= ${instantParam(ctx, end)}`);
        case ">=":
          return guarded(present, `${x} >= ${instantParam(ctx, start)}`);
        case "<":
          return guarded(present, `${x} < ${instantParam(ctx, start)}`);
        case "<=":
          return guarded(present, `${x} < ${instantParam(ctx, end)}`);
        case "=":
          return guarded(present, `${x} >= ${instantParam(ctx, start)} AND ${x} < ${instantParam(ctx, end)}`);
        case "!=":
          return guarded(present, `(${x} < ${instantParam(ctx, start)} OR ${x} >= ${instantParam(ctx, end)})`);
      }
      break;
    }
    case "text": {
      if (operator !== "=" && operator !== "!=") throw new SegmentCompileError(`operator ${operator} does not apply to ${f.name}`);
      const x = b.storedLowerCase ? b.sql(a) : `lower(${b.sql(a)})`;
      return guarded(presentSql(b, a), `${x} ${operator === "=" ? "=" : "<>"} ${param(ctx, text(literal).toLowerCase(), "text")}`);
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
      return and(compare(ctx, f, ">=", low), compare(ctx, f, "<=", high));
    case "instant": {
      const x = b.sql(a);
      return guarded(presentSql(b, a), `${x} >= ${instantParam(ctx, dayBounds(ctx, low).start)} AND ${x} < ${instantParam(ctx, dayBounds(ctx, high).end)}`);
    }
    default:
      throw new SegmentCompileError(`BETWEEN does not apply to ${f.name}`);
  }
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

function argumentsOf(call: FunctionCall): Map<string, Literal> {
  return new Map(call.args.map((arg: Argument) => [arg.name, arg.value]));
}

/** Orders that count (neither cancelled nor test) of the customer row, in subquery alias `segment_o`. */
function countedOrders(ctx: Context): string[] {
  const a = ctx.alias;
  return [`segment_o.shop = ${a}.shop`, `segment_o.customer_gid = ${a}.gid`, "segment_o.cancelled_at IS NULL", "NOT segment_o.test"];
}

function functionPredicate(ctx: Context, call: FunctionCall): string {
  const args = argumentsOf(call);
  switch (call.name) {
    case "products_purchased":
      return productsPurchased(ctx, args);
    case "orders_placed":
      return ordersPlaced(ctx, args);
    default:
      throw new SegmentCompileError(`unknown function ${call.name}`);
  }
}

function productsPurchased(ctx: Context, args: Map<string, Literal>): string {
  const quantity = args.get("quantity");
  const atLeast = quantity ? ceilDiv(decimalOf(quantity).numerator, decimalOf(quantity).denominator) : 1n;
  // Quantities are never negative: at least 0 units always holds, whatever else is asked.
  if (atLeast <= 0n) return "TRUE";
  const productId = args.get("product_id") && decimalOf(args.get("product_id") as Literal);
  // Product ids are positive integers: any other number matches no product.
  if (productId && (productId.denominator !== 1n || productId.numerator <= 0n)) return "FALSE";
  // From here on every parameter added is used in the text.
  const where = countedOrders(ctx);
  let joinProducts = false;
  const date = args.get("date");
  if (date) where.push(`segment_o.shopify_created_at >= ${instantParam(ctx, dayBounds(ctx, date).start)}`);
  if (productId) where.push(`segment_li.product_gid = ${param(ctx, `gid://shopify/Product/${productId.numerator}`, "text")}`);
  const productType = args.get("product_type");
  if (productType) {
    joinProducts = true;
    where.push(`lower(segment_p.product_type) = ${param(ctx, text(productType).toLowerCase(), "text")}`);
  }
  const tag = args.get("tag");
  if (tag) {
    joinProducts = true;
    where.push(`segment_lower_tags(segment_p.tags) @> ARRAY[${param(ctx, text(tag).toLowerCase(), "text")}]`);
  }
  const from =
    "FROM orders segment_o JOIN line_items segment_li ON segment_li.shop = segment_o.shop AND segment_li.order_gid = segment_o.gid" +
    (joinProducts ? " JOIN products segment_p ON segment_p.shop = segment_li.shop AND segment_p.gid = segment_li.product_gid" : "");
  if (atLeast === 1n) return `EXISTS (SELECT 1 ${from} WHERE ${[...where, "segment_li.quantity > 0"].join(" AND ")})`;
  return `(SELECT COALESCE(SUM(segment_li.quantity), 0) ${from} WHERE ${where.join(" AND ")}) >= ${integerParam(ctx, atLeast)}`;
}

function ordersPlaced(ctx: Context, args: Map<string, Literal>): string {
  const least = args.get("count_at_least");
  const most = args.get("count_at_most");
  const date = args.get("date");
  // With no bound, "placed orders" means at least one.
  let low: bigint | undefined = least ? ceilDiv(decimalOf(least).numerator, decimalOf(least).denominator) : most ? undefined : 1n;
  const high = most ? floorDiv(decimalOf(most).numerator, decimalOf(most).denominator) : undefined;
  if (low !== undefined && low <= 0n) low = undefined; // a count is never negative
  if (high !== undefined && high < 0n) return "FALSE";
  if (low !== undefined && high !== undefined && low > high) return "FALSE";
  if (low === undefined && high === undefined) return "TRUE";
  if (!date) {
    // Without a date the stored aggregate is the count (same definition: neither cancelled nor test).
    const x = `${ctx.alias}.orders_count`;
    const parts = [];
    if (low !== undefined) parts.push(`${x} >= ${integerParam(ctx, low)}`);
    if (high !== undefined) parts.push(`${x} <= ${integerParam(ctx, high)}`);
    return and(...parts);
  }
  const where = [...countedOrders(ctx), `segment_o.shopify_created_at >= ${instantParam(ctx, dayBounds(ctx, date).start)}`].join(" AND ");
  if (low === 1n && high === undefined) return `EXISTS (SELECT 1 FROM orders segment_o WHERE ${where})`;
  const count = `(SELECT count(*) FROM orders segment_o WHERE ${where})`;
  if (low !== undefined && high !== undefined) return `${count} BETWEEN ${integerParam(ctx, low)} AND ${integerParam(ctx, high)}`;
  return low !== undefined ? `${count} >= ${integerParam(ctx, low)}` : `${count} <= ${integerParam(ctx, high as bigint)}`;
}
