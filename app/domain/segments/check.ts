// Type-checks a parsed segment against the field catalogue. Pure; returns every
// positioned error found (an empty list means the segment is valid).

import { ANNIVERSARY, ANNIVERSARY_FORM, ANNIVERSARY_OPERATORS, ANNIVERSARY_SOURCES, anniversaryArgument } from "./anniversary";
import type { Argument, Condition, FunctionCall, Literal, Operand } from "./ast";
import { FIELDS, SHOPIFY_ONLY_NAMES, shopifyOnlyReason, type FieldDefinition, type FieldOperator, type FieldType } from "./fields";
import { FUNCTIONS, resolveParameter, type FunctionDefinition, type ParameterType } from "./functions";
import type { Position, SegmentError } from "./lexer";
import { checkSegmentLimits } from "./limits";

export type CheckInput = {
  ast: Condition;
  fields?: readonly FieldDefinition[];
  functions?: readonly FunctionDefinition[];
};

/** What an operand accepts: an attribute's type, or boolean for a function call. */
type Target = { name: string; type: FieldType; operators: readonly FieldOperator[]; daysOnly?: boolean };

const FUNCTION_RESULT: Pick<Target, "type" | "operators"> = { type: { kind: "boolean" }, operators: ["=", "!="] };

export function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost));
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/** The closest candidate by edit distance, if it is close enough to be a likely typo. */
export function suggest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = levenshtein(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

const where = (p: Position) => `${p.line}:${p.column}`;
const didYouMean = (s: string | undefined) => (s ? `, did you mean \`${s}\`?` : "");

function literalType(literal: Literal): string {
  switch (literal.kind) {
    case "number":
      return "a number";
    case "string":
      return "a string";
    case "boolean":
      return "a boolean";
    case "date":
    case "relativeDate":
    case "dateTime":
      return "a date";
  }
}

function expectedLiteral(type: FieldType): string {
  switch (type.kind) {
    case "number":
    case "money":
      return "a number";
    case "date":
      return "a date";
    case "string":
    case "stringList":
    case "enum":
      return "a string";
    case "boolean":
      return "a boolean";
  }
}

const displayOperator = (op: FieldOperator) => (op === "IS NULL" ? "IS [NOT] NULL" : op === "CONTAINS" ? "[NOT] CONTAINS" : op);

function isValidDate(value: string): boolean {
  const [y, m, d] = value.split("-").map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** YYYY-MM-DDTHH:mm:ss with an existing day and a 24-hour time (Shopify: HH <= 23). */
function isValidDateTime(value: string): boolean {
  const [day, time] = value.split("T") as [string, string];
  const [h, min, sec] = time.split(":").map(Number) as [number, number, number];
  return isValidDate(day) && h <= 23 && min <= 59 && sec <= 59;
}

/** The attribute type a function parameter's values have. */
const PARAMETER_TYPES: Readonly<Record<ParameterType, FieldType>> = {
  id: { kind: "number" },
  number: { kind: "number" },
  money: { kind: "money" },
  string: { kind: "string" },
  date: { kind: "date" },
};

/** Shopify's limit on the values of an IN list. */
export const MAX_LIST_VALUES = 500;

export function checkSegment({ ast, fields = FIELDS, functions = FUNCTIONS }: CheckInput): readonly SegmentError[] {
  const errors: SegmentError[] = [];
  const fieldsByName = new Map(fields.map((f) => [f.name, f]));
  const functionsByName = new Map(functions.map((f) => [f.name, f]));
  const report = (message: string, position: Position) =>
    errors.push({ message, line: position.line, column: position.column, offset: position.offset });

  function literalMatches(type: FieldType, literal: Literal): boolean {
    switch (type.kind) {
      case "number":
      case "money":
        return literal.kind === "number";
      case "date":
        return literal.kind === "date" || literal.kind === "relativeDate" || literal.kind === "dateTime";
      case "boolean":
        return literal.kind === "boolean";
      default:
        return literal.kind === "string";
    }
  }

  /** Checks a literal's value once its kind is right: dates exist, enums and ranges hold. */
  function checkValue(target: Target, literal: Literal): void {
    if (literal.kind === "date" && !isValidDate(literal.value)) {
      report(`invalid date \`${literal.value}\` at ${where(literal.position)}`, literal.position);
      return;
    }
    if (literal.kind === "dateTime" && target.daysOnly) {
      report(`\`${target.name}\` compares with days, got a date and time at ${where(literal.position)}: write the day (${literal.value.slice(0, 10)})`, literal.position);
      return;
    }
    if (literal.kind === "dateTime" && !isValidDateTime(literal.value)) {
      report(`invalid date and time \`${literal.value}\` at ${where(literal.position)} (24-hour time, HH <= 23)`, literal.position);
      return;
    }
    const { type } = target;
    if (type.kind === "enum" && literal.kind === "string") {
      const value = literal.value.toLowerCase();
      if (!type.values.some((v) => v.toLowerCase() === value)) {
        report(
          `unknown value '${literal.value}' for \`${target.name}\` at ${where(literal.position)}, expected one of: ${type.values.join(", ")}`,
          literal.position,
        );
      }
    }
    if (type.kind === "number" && literal.kind === "number") {
      const { min, max } = type;
      if ((min !== undefined && literal.value < min) || (max !== undefined && literal.value > max)) {
        const range = max === undefined ? `at least ${min}` : min === undefined ? `at most ${max}` : `between ${min} and ${max}`;
        report(`\`${target.name}\` is ${range}, got ${literal.raw} at ${where(literal.position)}`, literal.position);
      }
    }
  }

  function checkValueLiteral(target: Target, literal: Literal): void {
    if (!literalMatches(target.type, literal)) {
      report(`\`${target.name}\` compares with ${expectedLiteral(target.type)}, got ${literalType(literal)} at ${where(literal.position)}`, literal.position);
      return;
    }
    checkValue(target, literal);
  }

  function checkArguments(call: FunctionCall, definition: FunctionDefinition): void {
    const seen = new Set<string>();
    for (const arg of call.args) checkArgument(call, definition, arg, seen);
  }

  function checkArgument(call: FunctionCall, definition: FunctionDefinition, arg: Argument, seen: Set<string>): void {
    const deprecated = call.syntax === "call";
    if (arg.name === "") {
      report(`parameters of \`${call.name}\` are written \`name: value\` at ${where(arg.position)}`, arg.position);
      return;
    }
    const refused = definition.refused[arg.name];
    if (refused) {
      report(`parameter \`${arg.name}\` of \`${call.name}\` at ${where(arg.position)} is a Shopify parameter this app cannot evaluate: ${refused}`, arg.position);
      return;
    }
    const resolved = resolveParameter(definition, call, arg.name);
    if (!resolved) {
      const renamed = deprecated ? undefined : definition.renamed[arg.name];
      const names = deprecated ? Object.keys(definition.legacy) : definition.parameters.map((p) => p.name);
      report(
        renamed
          ? `\`${arg.name}\` at ${where(arg.position)} is only accepted in the deprecated form \`${call.name}(${arg.name}: ...) = true\`; with MATCHES write \`${renamed}\``
          : `unknown parameter \`${arg.name}\` of \`${call.name}\` at ${where(arg.position)}` +
              (suggest(arg.name, names) ? didYouMean(suggest(arg.name, names)) : `, expected one of: ${names.join(", ")}`),
        arg.position,
      );
      return;
    }
    const { parameter } = resolved;
    // Shopify: each parameter once per MATCHES (an alias counts as its parameter). The deprecated
    // form may bound `count` twice (count_at_least and count_at_most).
    const key = deprecated ? arg.name : parameter.name;
    if (seen.has(key)) report(`parameter \`${arg.name}\` given twice at ${where(arg.position)}`, arg.position);
    seen.add(key);
    if (arg.operator !== ":" && !parameter.operators.includes(arg.operator)) {
      report(
        `operator \`${arg.operator}\` is not allowed for parameter \`${arg.name}\` of \`${call.name}\` at ${where(arg.operatorPosition)}, use one of: ${parameter.operators.join(", ")}`,
        arg.operatorPosition,
      );
      return;
    }
    if (arg.values.length > MAX_LIST_VALUES) {
      report(`parameter \`${arg.name}\` lists ${arg.values.length} values at ${where(arg.position)}, at most ${MAX_LIST_VALUES}`, arg.position);
      return;
    }
    const target: Target = { name: `${call.name}.${arg.name}`, type: PARAMETER_TYPES[parameter.type], operators: [] };
    for (const value of arg.values) {
      if (!literalMatches(target.type, value)) {
        report(
          `parameter \`${arg.name}\` of \`${call.name}\` takes ${expectedLiteral(target.type)}, got ${literalType(value)} at ${where(value.position)}`,
          value.position,
        );
      } else {
        checkValue(target, value);
      }
    }
  }

  function resolve(operand: Operand): Target | undefined {
    const candidates = [...fieldsByName.keys(), ...functionsByName.keys()];
    const shopifyOnly = fieldsByName.has(operand.name) || functionsByName.has(operand.name) ? undefined : shopifyOnlyReason(operand.name);
    if (shopifyOnly) {
      report(`\`${operand.name}\` at ${where(operand.position)} is a Shopify attribute this app cannot evaluate: ${shopifyOnly}`, operand.position);
      return undefined;
    }
    if (operand.kind === "attribute") {
      const field = fieldsByName.get(operand.name);
      if (field) return field;
      if (functionsByName.has(operand.name)) {
        report(`\`${operand.name}\` at ${where(operand.position)} is a function: write \`${operand.name} MATCHES (...)\``, operand.position);
      } else {
        // Closer to a Shopify-only name (customer_city -> customer_cities) than to one of ours: no suggestion.
        const closest = suggest(operand.name, [...candidates, ...SHOPIFY_ONLY_NAMES]);
        const suggestion = closest && !SHOPIFY_ONLY_NAMES.includes(closest) ? closest : undefined;
        report(`unknown attribute \`${operand.name}\` at ${where(operand.position)}${didYouMean(suggestion)}`, operand.position);
      }
      return undefined;
    }
    const definition = functionsByName.get(operand.name);
    if (!definition && operand.name === ANNIVERSARY) return anniversary(operand);
    if (!definition) {
      if (fieldsByName.has(operand.name)) {
        report(`\`${operand.name}\` at ${where(operand.position)} is an attribute, not a function`, operand.position);
      } else {
        report(`unknown function \`${operand.name}\` at ${where(operand.position)}${didYouMean(suggest(operand.name, [...functionsByName.keys()]))}`, operand.position);
      }
      return undefined;
    }
    checkArguments(operand, definition);
    return { name: operand.name, ...FUNCTION_RESULT };
  }

  /** `anniversary(date: 'metafields.facts.birth_date')`: a date compared by month and day (anniversary.ts). */
  function anniversary(call: FunctionCall): Target | undefined {
    if (call.syntax === "matches") {
      report(`\`${call.name}\` at ${where(call.position)} is written with its date and an operator: \`${ANNIVERSARY_FORM}\``, call.position);
      return undefined;
    }
    const arg = anniversaryArgument(call);
    if (!arg) {
      report(`\`${call.name}\` at ${where(call.position)} takes one parameter, the date: \`anniversary(date: 'metafields.facts.birth_date')\``, call.position);
      return undefined;
    }
    const source = (arg.values[0] as { value: string }).value;
    if (!ANNIVERSARY_SOURCES.includes(source)) {
      report(
        `the anniversary of \`${source}\` at ${where(arg.values[0]!.position)} cannot be evaluated: the app stores only the birth date ('metafields.facts.birth_date')`,
        arg.values[0]!.position,
      );
      return undefined;
    }
    return { name: call.name, type: { kind: "date" }, operators: ANNIVERSARY_OPERATORS, daysOnly: true };
  }

  function allows(target: Target, operator: FieldOperator, position: Position, written: string): boolean {
    if (target.operators.includes(operator)) return true;
    report(
      `operator \`${written}\` is not allowed for \`${target.name}\` at ${where(position)}, use one of: ${target.operators.map(displayOperator).join(", ")}`,
      position,
    );
    return false;
  }

  function visit(condition: Condition): void {
    switch (condition.kind) {
      case "and":
      case "or":
        visit(condition.left);
        visit(condition.right);
        return;
      case "not":
        visit(condition.operand);
        return;
      case "comparison": {
        const target = resolve(condition.left);
        if (target && allows(target, condition.operator, condition.operatorPosition, condition.operator)) checkValueLiteral(target, condition.right);
        return;
      }
      case "contains": {
        const target = resolve(condition.left);
        const written = condition.negated ? "NOT CONTAINS" : "CONTAINS";
        if (target && allows(target, "CONTAINS", condition.operatorPosition, written)) checkValueLiteral(target, condition.value);
        return;
      }
      case "matches":
        resolve(condition.call);
        return;
      case "isNull": {
        const target = resolve(condition.left);
        if (target) allows(target, "IS NULL", condition.operatorPosition, condition.negated ? "IS NOT NULL" : "IS NULL");
        return;
      }
      case "between": {
        const target = resolve(condition.left);
        if (!target || !allows(target, "BETWEEN", condition.operatorPosition, "BETWEEN")) return;
        let typed = true;
        for (const bound of [condition.low, condition.high]) {
          if (!literalMatches(target.type, bound)) {
            typed = false;
            report(
              `BETWEEN bound of \`${target.name}\` must be ${expectedLiteral(target.type)}, got ${literalType(bound)} at ${where(bound.position)}`,
              bound.position,
            );
          } else {
            checkValue(target, bound);
          }
        }
        const { low, high } = condition;
        const reversed =
          typed &&
          ((low.kind === "number" && high.kind === "number" && low.value > high.value) ||
            (low.kind === "date" && high.kind === "date" && low.value > high.value));
        if (reversed) report(`BETWEEN bounds of \`${target.name}\` are reversed at ${where(low.position)}: the lower bound comes first`, low.position);
        return;
      }
    }
  }

  visit(ast);
  // Bounds and size limits (limits.ts); one error per position, so a literal of the wrong
  // type is not also reported as out of range.
  for (const error of checkSegmentLimits(ast)) if (!errors.some((e) => e.offset === error.offset)) errors.push(error);
  return errors;
}
