// Lexer for the customer segment language (Shopify segment query style).
// Pure: text in, tokens or one positioned error out. Never throws.
//
// Strings are single-quoted; a quote inside a string is written twice:
// 'Men''s shoes' is the string Men's shoes. (Backslash has no special meaning.)

export type Position = { readonly line: number; readonly column: number; readonly offset: number };

export type SegmentError = Position & { readonly message: string };

export type Keyword = "AND" | "OR" | "NOT" | "BETWEEN" | "IS" | "NULL" | "CONTAINS" | "MATCHES" | "NOT_MATCHES" | "IN";
export type ComparisonOperator = "=" | "!=" | ">" | "<" | ">=" | "<=";
export type RelativeUnit = "d" | "w" | "m" | "y";

export type Token = Position &
  (
    | { readonly kind: "identifier"; readonly name: string }
    | { readonly kind: "number"; readonly value: number; readonly raw: string }
    | { readonly kind: "string"; readonly value: string }
    | { readonly kind: "date"; readonly value: string }
    /** 2020-05-30T16:00:00: a local time in the shop's time zone. */
    | { readonly kind: "dateTime"; readonly value: string }
    /** -90d, +30d, today (0d), yesterday (-1d), 30_days_ago (-30d), 12_months_ago (-12m). */
    | { readonly kind: "relativeDate"; readonly amount: number; readonly unit: RelativeUnit; readonly raw: string }
    | { readonly kind: "boolean"; readonly value: boolean }
    | { readonly kind: "keyword"; readonly keyword: Keyword }
    | { readonly kind: "operator"; readonly operator: ComparisonOperator }
    | { readonly kind: "lparen" }
    | { readonly kind: "rparen" }
    | { readonly kind: "comma" }
    | { readonly kind: "colon" }
    | { readonly kind: "eof" }
  );

export type LexResult = { ok: true; tokens: readonly Token[] } | { ok: false; error: SegmentError };

const KEYWORDS: ReadonlySet<string> = new Set(["AND", "OR", "NOT", "BETWEEN", "IS", "NULL", "CONTAINS", "MATCHES", "NOT_MATCHES", "IN"]);
const AGO_UNITS: Readonly<Record<string, RelativeUnit>> = { day: "d", week: "w", month: "m", year: "y" };

const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";
const isIdentStart = (c: string | undefined) => c !== undefined && /[A-Za-z_]/.test(c);
const isIdentPart = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_]/.test(c);

export function lexSegment(text: string): LexResult {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const pos = (offset: number): Position => ({ line, column: offset - lineStart + 1, offset });
  const fail = (message: string, offset: number): LexResult => {
    const p = pos(offset);
    return { ok: false, error: { ...p, message: `${message} at ${p.line}:${p.column}` } };
  };

  while (i < text.length) {
    const c = text[i] as string;
    const start = i;
    if (c === "\n") {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    const p = pos(start);
    if (c === "(" || c === ")" || c === "," || c === ":") {
      const kind = c === "(" ? "lparen" : c === ")" ? "rparen" : c === "," ? "comma" : "colon";
      tokens.push({ ...p, kind });
      i++;
      continue;
    }
    if (c === "=") {
      tokens.push({ ...p, kind: "operator", operator: "=" });
      i++;
      continue;
    }
    if (c === "!" || c === "<" || c === ">") {
      const two = text.slice(i, i + 2);
      if (two === "!=" || two === "<=" || two === ">=") {
        tokens.push({ ...p, kind: "operator", operator: two });
        i += 2;
        continue;
      }
      if (c === "!") return fail("unexpected character `!` (did you mean `!=`?)", start);
      tokens.push({ ...p, kind: "operator", operator: c as ComparisonOperator });
      i++;
      continue;
    }
    if (c === "'") {
      let value = "";
      i++;
      for (;;) {
        if (i >= text.length) return fail("unterminated string starting", start);
        const ch = text[i] as string;
        if (ch === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (ch === "\n") return fail("unterminated string starting", start);
        value += ch;
        i++;
      }
      tokens.push({ ...p, kind: "string", value });
      continue;
    }
    if (c === "-" || c === "+" || isDigit(c)) {
      const rest = text.slice(i);
      const dateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?![A-Za-z0-9_:.])/.exec(rest);
      if (dateTime) {
        tokens.push({ ...p, kind: "dateTime", value: dateTime[0] });
        i += dateTime[0].length;
        continue;
      }
      const date = /^\d{4}-\d{2}-\d{2}(?![A-Za-z0-9_])/.exec(rest);
      if (date) {
        tokens.push({ ...p, kind: "date", value: date[0] });
        i += date[0].length;
        continue;
      }
      const relative = /^([-+])(\d+)([dwmy])(?![A-Za-z0-9_])/i.exec(rest);
      if (relative) {
        const amount = Number(relative[2]) * (relative[1] === "-" ? -1 : 1);
        tokens.push({ ...p, kind: "relativeDate", amount, unit: (relative[3] as string).toLowerCase() as RelativeUnit, raw: relative[0] });
        i += relative[0].length;
        continue;
      }
      // Shopify's named dates (7_days_ago, 30_days_ago, 90_days_ago, 12_months_ago), any count and unit.
      const ago = /^(\d+)_(day|week|month|year)s?_ago(?![A-Za-z0-9_])/i.exec(rest);
      if (ago) {
        const unit = AGO_UNITS[(ago[2] as string).toLowerCase()] as RelativeUnit;
        tokens.push({ ...p, kind: "relativeDate", amount: -Number(ago[1]), unit, raw: ago[0] });
        i += ago[0].length;
        continue;
      }
      const num = /^[-+]?\d+(\.\d+)?/.exec(rest);
      if (!num) return fail(`unexpected character \`${c}\``, start);
      if (isIdentPart(text[i + num[0].length]) || text[i + num[0].length] === ".") {
        return fail(`malformed number \`${/^[-+]?[A-Za-z0-9_.]+/.exec(rest)?.[0] ?? num[0]}\``, start);
      }
      tokens.push({ ...p, kind: "number", value: Number(num[0]), raw: num[0] });
      i += num[0].length;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (isIdentPart(text[j])) j++;
      // Dotted names: Shopify's namespaced attributes (shopify_email.opened, storefront.product_viewed).
      while (text[j] === "." && isIdentStart(text[j + 1])) {
        j += 2;
        while (isIdentPart(text[j])) j++;
      }
      const word = text.slice(i, j);
      const upper = word.toUpperCase();
      const lower = word.toLowerCase();
      if (word.includes(".")) tokens.push({ ...p, kind: "identifier", name: word });
      else if (KEYWORDS.has(upper)) tokens.push({ ...p, kind: "keyword", keyword: upper as Keyword });
      else if (lower === "true" || lower === "false") tokens.push({ ...p, kind: "boolean", value: lower === "true" });
      else if (lower === "today") tokens.push({ ...p, kind: "relativeDate", amount: 0, unit: "d", raw: word });
      else if (lower === "yesterday") tokens.push({ ...p, kind: "relativeDate", amount: -1, unit: "d", raw: word });
      else tokens.push({ ...p, kind: "identifier", name: word });
      i = j;
      continue;
    }
    return fail(`unexpected character \`${c}\``, start);
  }
  tokens.push({ ...pos(i), kind: "eof" });
  return { ok: true, tokens };
}
