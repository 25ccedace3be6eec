// Bounds and size limits of a segment query, checked after the type check (check.ts calls it).
// Pure; returns positioned errors like the rest of the checker.
//
// Dates: the compiler and the evaluator name days as YYYY-MM-DD and move them by whole days,
// weeks, months or years; PostgreSQL and JS Date represent far more than that, but a day past
// 9999-12-31 cannot be written, so a date near that edge (`< 9999-12-31` compiles to "before
// 10000-01-01") or an offset that reaches it (`-300000y`, or `+2912101d`, fine in 2026 and
// past the edge a few years later) would pass the checker and throw in the compiler. Absolute
// dates are therefore bounded to MIN_DATE..MAX_DATE and offsets to a fixed MAX_OFFSET per unit
// (never against today's date: a query saved today must still compile in decades).
// A relative date then stays within a hundred years of today, which the compiler represents
// until the year 9899.
//
// Size: a preview or a recompute runs the whole filter over every customer of the shop, and
// each function call is a subquery per customer: the caps keep one query's cost bounded (the
// statement timeouts in app/services/segments/limits.server.ts stop what is still too slow).

import type { Condition, Literal, Operand, Predicate } from "./ast";
import type { RelativeUnit, SegmentError } from "./lexer";

/** The earliest and latest absolute dates a query may name. */
export const MIN_DATE = "1900-01-01";
export const MAX_DATE = "2999-12-31";

/** The largest relative offset per unit: a hundred years either way. */
export const MAX_OFFSET: Readonly<Record<RelativeUnit, number>> = { d: 36_500, w: 5_200, m: 1_200, y: 100 };

const UNIT_NAMES: Readonly<Record<RelativeUnit, string>> = { d: "days", w: "weeks", m: "months", y: "years" };

/** Predicates (comparisons, BETWEEN, IS NULL, CONTAINS) per query. */
export const MAX_CONDITIONS = 50;
/** Function calls (products_purchased(...), ...) per query. */
export const MAX_FUNCTION_CALLS = 10;

const at = (p: { line: number; column: number }) => `${p.line}:${p.column}`;

function literalError(literal: Literal): string | undefined {
  if (literal.kind === "date" || literal.kind === "dateTime") {
    // YYYY-MM-DD strings (and the day of a YYYY-MM-DDTHH:mm:ss) order like the days they
    // name; an impossible day (2024-02-30) is reported by check.ts.
    const day = literal.value.slice(0, 10);
    if (day < MIN_DATE || day > MAX_DATE) {
      return `date \`${literal.value}\` is out of range at ${at(literal.position)}: dates must be between ${MIN_DATE} and ${MAX_DATE}`;
    }
    return undefined;
  }
  if (literal.kind === "relativeDate") {
    const max = MAX_OFFSET[literal.unit];
    if (!(Math.abs(literal.amount) <= max)) {
      return `date offset \`${literal.raw}\` is out of range at ${at(literal.position)}: at most ${max.toLocaleString("en-US")} ${UNIT_NAMES[literal.unit]} either way`;
    }
  }
  return undefined;
}

/** Dates and offsets out of range, then the first condition and the first call over the caps. */
export function checkSegmentLimits(ast: Condition): SegmentError[] {
  const errors: SegmentError[] = [];
  let conditions = 0;
  let calls = 0;
  const report = (message: string, position: { line: number; column: number; offset: number }) =>
    errors.push({ message, line: position.line, column: position.column, offset: position.offset });
  const literal = (value: Literal) => {
    const message = literalError(value);
    if (message) report(message, value.position);
  };
  const operand = (value: Operand) => {
    if (value.kind !== "functionCall") return;
    calls++;
    if (calls === MAX_FUNCTION_CALLS + 1) {
      report(`too many function calls: more than ${MAX_FUNCTION_CALLS} in one segment at ${at(value.position)}; simplify the query or split it into segments`, value.position);
    }
    for (const arg of value.args) for (const v of arg.values) literal(v);
  };
  // Iterative (an explicit stack): AND/OR chains are as long as the query, not as deep as the parser's limit.
  const stack: Condition[] = [ast];
  const ordered: Predicate[] = [];
  while (stack.length > 0) {
    const condition = stack.pop() as Condition;
    switch (condition.kind) {
      case "and":
      case "or":
        stack.push(condition.right, condition.left);
        continue;
      case "not":
        stack.push(condition.operand);
        continue;
      default:
        ordered.push(condition);
    }
  }
  for (const predicate of ordered) {
    conditions++;
    if (conditions === MAX_CONDITIONS + 1) {
      report(`too many conditions: more than ${MAX_CONDITIONS} in one segment at ${at(predicate.position)}; simplify the query or split it into segments`, predicate.position);
    }
    switch (predicate.kind) {
      case "comparison":
        operand(predicate.left);
        literal(predicate.right);
        break;
      case "between":
        operand(predicate.left);
        literal(predicate.low);
        literal(predicate.high);
        break;
      case "contains":
        operand(predicate.left);
        literal(predicate.value);
        break;
      case "isNull":
        operand(predicate.left);
        break;
      case "matches":
        operand(predicate.call);
        break;
    }
  }
  return errors;
}
