// Type-checks a parsed segment against the field catalogue. Pure; returns every
// positioned error found (an empty list means the segment is valid).

import type { Argument, Condition, FunctionCall, Literal, Operand } from "./ast";
import { FIELDS, FUNCTIONS, type FieldDefinition, type FieldOperator, type FieldType, type FunctionDefinition, type ParameterType } from "./fields";
import type { Position, SegmentError } from "./lexer";
import { checkSegmentLimits } from "./limits";

export type CheckInput = {
  ast: Condition;
  fields?: readonly FieldDefinition[];
  functions?: readonly FunctionDefinition[];
};

/** What an operand accepts: an attribute's type, or boolean for a function call. */
type Target = { name: string; type: FieldType; operators: readonly FieldOperator[] };

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

export function checkSegment({ ast, fields = FIELDS, functions = FUNCTIONS }: CheckInput): readonly SegmentError[] {
  const errors: SegmentError[] = [];
  const fieldsByName = new Map(fields.map((f) => [f.name, f]));
  const functionsByName = new Map(functions.map((f) => [f.name, f]));
  const report = (message: string, position: Position) =>
    errors.push({ message, line: position.line, column: position.column, offset: position.offset });

  function literalMatches(type: FieldType | ParameterType, literal: Literal): boolean {
    const kind = typeof type === "string" ? type : type.kind;
    switch (kind) {
      case "number":
      case "money":
        return literal.kind === "number";
      case "date":
        return literal.kind === "date" || literal.kind === "relativeDate";
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
    const names = definition.parameters.map((p) => p.name);
    for (const arg of call.args) checkArgument(call, definition, arg, seen, names);
    for (const parameter of definition.parameters) {
      if (parameter.required && !seen.has(parameter.name)) {
        report(`\`${call.name}\` at ${where(call.position)} needs the parameter \`${parameter.name}\``, call.position);
      }
    }
  }

  function checkArgument(call: FunctionCall, definition: FunctionDefinition, arg: Argument, seen: Set<string>, names: readonly string[]): void {
    const parameter = definition.parameters.find((p) => p.name === arg.name);
    if (!parameter) {
      report(
        `unknown parameter \`${arg.name}\` of \`${call.name}\` at ${where(arg.position)}` +
          (suggest(arg.name, names) ? didYouMean(suggest(arg.name, names)) : `, expected one of: ${names.join(", ")}`),
        arg.position,
      );
      return;
    }
    if (seen.has(arg.name)) report(`parameter \`${arg.name}\` given twice at ${where(arg.position)}`, arg.position);
    seen.add(arg.name);
    if (!literalMatches(parameter.type, arg.value)) {
      report(
        `parameter \`${arg.name}\` of \`${call.name}\` takes a ${parameter.type}, got ${literalType(arg.value)} at ${where(arg.value.position)}`,
        arg.value.position,
      );
    } else if (arg.value.kind === "date" && !isValidDate(arg.value.value)) {
      report(`invalid date \`${arg.value.value}\` at ${where(arg.value.position)}`, arg.value.position);
    }
  }

  function resolve(operand: Operand): Target | undefined {
    const candidates = [...fieldsByName.keys(), ...functionsByName.keys()];
    if (operand.kind === "attribute") {
      const field = fieldsByName.get(operand.name);
      if (field) return field;
      if (functionsByName.has(operand.name)) {
        report(`\`${operand.name}\` at ${where(operand.position)} is a function: write \`${operand.name}(...) = true\``, operand.position);
      } else {
        report(`unknown attribute \`${operand.name}\` at ${where(operand.position)}${didYouMean(suggest(operand.name, candidates))}`, operand.position);
      }
      return undefined;
    }
    const definition = functionsByName.get(operand.name);
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
