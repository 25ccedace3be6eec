// Parses and checks a segment query and says what its membership depends on. Pure (no I/O,
// no clock): the service stores only queries that pass, and uses the flags to decide which
// segments the scheduled refresh re-evaluates.
import type { Condition, Literal, Operand } from "../../domain/segments/ast";
import { checkSegment } from "../../domain/segments/check";
import { APP_FIELDS, PREDICTION_FIELD_NAMES } from "../../domain/segments/fields";
import type { SegmentError } from "../../domain/segments/lexer";
import { parseSegment } from "../../domain/segments/parser";

const APP_FIELD_NAMES = new Set(APP_FIELDS.map((f) => f.name));
const PREDICTION_NAMES = new Set(PREDICTION_FIELD_NAMES);

/** Longest query text accepted (the editor's queries are a few hundred characters). */
export const MAX_QUERY_LENGTH = 10_000;

export type SegmentDefinition = {
  ast: Condition;
  /** Uses a time-relative value (-90d, today, 30_days_ago, 12_months_ago, ...): membership changes as time passes. */
  relativeTime: boolean;
  /** Uses `rfm_group`, which the refresh job recomputes for the whole shop. */
  usesRfm: boolean;
  /** Uses product data (`products_purchased`), which can change without a customer event. */
  usesProducts: boolean;
  /**
   * Uses the app's feedback or loyalty attributes (APP_FIELDS). The answer page and loyalty
   * re-evaluate the customer at once; the scheduled refresh also covers what changes with
   * time (pending points becoming available) or elsewhere (expiry, tier refresh, case status).
   */
  usesAppData: boolean;
  /**
   * Uses a prediction (predicted_clv, churn_risk, expected_next_order_date,
   * predicted_spend_tier): a refit replaces the shop's predictions, and the refit job asks for
   * a refresh of the shop (jobs/clv-refit.ts).
   */
  usesPredictions: boolean;
};

export type DefinitionResult = ({ ok: true } & SegmentDefinition) | { ok: false; errors: readonly SegmentError[] };

/** Membership can drift without an event on the customer: the scheduled refresh re-evaluates it. */
export const needsScheduledRefresh = (d: SegmentDefinition) => d.relativeTime || d.usesRfm || d.usesProducts || d.usesAppData || d.usesPredictions;

export function analyzeSegmentQuery(text: string): DefinitionResult {
  if (typeof text !== "string") return { ok: false, errors: [{ message: "segment query must be text at 1:1", line: 1, column: 1, offset: 0 }] };
  if (text.length > MAX_QUERY_LENGTH) {
    return { ok: false, errors: [{ message: `segment query is longer than ${MAX_QUERY_LENGTH} characters at 1:1`, line: 1, column: 1, offset: 0 }] };
  }
  const parsed = parseSegment(text);
  if (!parsed.ok) return { ok: false, errors: [parsed.error] };
  const errors = checkSegment({ ast: parsed.ast });
  if (errors.length > 0) return { ok: false, errors };
  const flags = { relativeTime: false, usesRfm: false, usesProducts: false, usesAppData: false, usesPredictions: false };
  const literal = (value: Literal) => {
    if (value.kind === "relativeDate") flags.relativeTime = true;
  };
  const operand = (value: Operand) => {
    if (value.kind === "attribute") {
      if (value.name === "rfm_group") flags.usesRfm = true;
      if (APP_FIELD_NAMES.has(value.name)) flags.usesAppData = true;
      if (PREDICTION_NAMES.has(value.name)) flags.usesPredictions = true;
      return;
    }
    if (value.name === "products_purchased") flags.usesProducts = true;
    // Birth dates are written by the daily birthday job, without a customer event.
    if (value.name === "anniversary") flags.usesAppData = true;
    for (const arg of value.args) arg.values.forEach(literal);
  };
  const visit = (condition: Condition): void => {
    switch (condition.kind) {
      case "and":
      case "or":
        visit(condition.left);
        visit(condition.right);
        return;
      case "not":
        visit(condition.operand);
        return;
      case "comparison":
        operand(condition.left);
        literal(condition.right);
        return;
      case "between":
        operand(condition.left);
        literal(condition.low);
        literal(condition.high);
        return;
      case "contains":
        operand(condition.left);
        literal(condition.value);
        return;
      case "isNull":
        operand(condition.left);
        return;
      case "matches":
        operand(condition.call);
        return;
    }
  };
  visit(parsed.ast);
  return { ok: true, ast: parsed.ast, ...flags };
}

/** "message" lines for an operator or an API response, each naming its line:column. */
export function formatSegmentErrors(text: string, errors: readonly SegmentError[]): string {
  const lines = errors.map((e) => e.message);
  const first = errors[0];
  const sourceLine = first ? text.split("\n")[first.line - 1] : undefined;
  if (first && sourceLine !== undefined && sourceLine.length <= 200) {
    lines.push(`  ${sourceLine}`, `  ${" ".repeat(Math.max(0, first.column - 1))}^`);
  }
  return lines.join("\n");
}
