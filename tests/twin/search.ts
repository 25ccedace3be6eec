// Shopify's search syntax for `query:` arguments, and cursor pagination.
//
// Quoted spans are marked with \u0001 while tokenizing.
// Supported: terms `field:value`, comparisons `field:>v` `:>=` `:<` `:<=`, quoted values,
// prefix wildcards `value*`, `-term` / `NOT term`, `AND` (also implicit), `OR`,
// parentheses, and bare words (matched against the resource's default text fields).
// A filter on a field the resource does not know matches everything, as Shopify
// ignores unknown filters.

export type Term = { kind: "term"; field: string | null; op: ":" | ">" | ">=" | "<" | "<="; value: string; prefix: boolean };
export type Expr = Term | { kind: "not"; expr: Expr } | { kind: "and" | "or"; items: Expr[] };

const QUOTE = "\u0001";

type Token = { t: "(" | ")" | "OR" | "AND" | "NOT" | "-" | "word"; v: string };

function tokenize(q: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "(" || c === ")") {
      out.push({ t: c, v: c });
      i++;
      continue;
    }
    if (c === "-" && (out.length === 0 || /\s|\(/.test(q[i - 1] ?? " "))) {
      out.push({ t: "-", v: "-" });
      i++;
      continue;
    }
    // a word, possibly field:"quoted value"
    let w = "";
    while (i < q.length && !/\s/.test(q[i]!) && q[i] !== ")" && !(q[i] === "(" && w === "")) {
      const ch = q[i]!;
      if (ch === '"' || ch === "'") {
        const end = q.indexOf(ch, i + 1);
        const stop = end === -1 ? q.length : end;
        w += `${QUOTE}${q.slice(i + 1, stop)}${QUOTE}`;
        i = stop + 1;
        continue;
      }
      w += ch;
      i++;
    }
    if (w === "OR" || w === "AND" || w === "NOT") out.push({ t: w, v: w });
    else out.push({ t: "word", v: w });
  }
  return out;
}

function termOf(word: string): Term {
  const quotedOnly = word.startsWith(QUOTE) && word.endsWith(QUOTE) && word.indexOf(QUOTE, 1) === word.length - 1;
  const colon = quotedOnly ? -1 : word.indexOf(":");
  let field: string | null = null;
  let rest = word;
  if (colon > 0 && !word.slice(0, colon).includes(QUOTE)) {
    field = word.slice(0, colon).toLowerCase();
    rest = word.slice(colon + 1);
  }
  let op: Term["op"] = ":";
  for (const candidate of [">=", "<=", ">", "<"] as const) {
    if (rest.startsWith(candidate)) {
      op = candidate;
      rest = rest.slice(candidate.length);
      break;
    }
  }
  const wasQuoted = rest.includes(QUOTE);
  let value = rest.split(QUOTE).join("");
  const prefix = !wasQuoted && value.endsWith("*");
  if (prefix) value = value.slice(0, -1);
  return { kind: "term", field, op, value, prefix };
}

export function parseSearch(q: string | null | undefined): Expr | null {
  if (!q || !q.trim()) return null;
  const tokens = tokenize(q);
  let pos = 0;
  const parseOr = (): Expr => {
    const items = [parseAnd()];
    while (tokens[pos]?.t === "OR") {
      pos++;
      items.push(parseAnd());
    }
    return items.length === 1 ? items[0]! : { kind: "or", items };
  };
  const parseAnd = (): Expr => {
    const items: Expr[] = [];
    while (pos < tokens.length && tokens[pos]!.t !== ")" && tokens[pos]!.t !== "OR") {
      if (tokens[pos]!.t === "AND") {
        pos++;
        continue;
      }
      items.push(parseUnary());
    }
    return items.length === 1 ? items[0]! : { kind: "and", items };
  };
  const parseUnary = (): Expr => {
    const tok = tokens[pos]!;
    if (tok.t === "NOT" || tok.t === "-") {
      pos++;
      return { kind: "not", expr: parseUnary() };
    }
    if (tok.t === "(") {
      pos++;
      const e = parseOr();
      if (tokens[pos]?.t === ")") pos++;
      return e;
    }
    pos++;
    return termOf(tok.v);
  };
  const e = parseOr();
  return e;
}

/** How a resource answers a search term: values of a field, or undefined for an unknown field. */
export type FieldReader<T> = (record: T, field: string) => readonly (string | number | boolean | null)[] | undefined;

function compare(a: string | number, b: string, op: Term["op"]): boolean {
  let x: number;
  let y: number;
  if (typeof a === "number") {
    x = a;
    y = Number(b);
  } else {
    const ta = Date.parse(a);
    const tb = Date.parse(b);
    if (!Number.isNaN(ta) && !Number.isNaN(tb) && /\d{4}-\d{2}-\d{2}/.test(b)) {
      x = ta;
      y = tb;
    } else if (/^-?\d+(\.\d+)?$/.test(a) && /^-?\d+(\.\d+)?$/.test(b)) {
      x = Number(a);
      y = Number(b);
    } else {
      const r = a.localeCompare(b);
      x = r;
      y = 0;
    }
  }
  switch (op) {
    case ">":
      return x > y;
    case ">=":
      return x >= y;
    case "<":
      return x < y;
    case "<=":
      return x <= y;
    default:
      return x === y;
  }
}

function termMatches<T>(record: T, term: Term, read: FieldReader<T>, textFields: readonly string[]): boolean {
  const fields = term.field === null ? textFields : [term.field];
  let known = false;
  for (const f of fields) {
    const values = read(record, f);
    if (values === undefined) continue;
    known = true;
    const want = term.value.toLowerCase();
    for (const v of values) {
      if (v === null) {
        if (want === "" || want === "null") return true;
        continue;
      }
      if (term.op !== ":") {
        if (compare(typeof v === "boolean" ? String(v) : v, term.value, term.op)) return true;
        continue;
      }
      const s = String(v).toLowerCase();
      if (term.prefix ? s.startsWith(want) : term.field === null ? s.includes(want) : s === want) return true;
    }
  }
  return !known && term.field !== null; // unknown filters are ignored
}

export function matches<T>(record: T, expr: Expr | null, read: FieldReader<T>, textFields: readonly string[]): boolean {
  if (!expr) return true;
  switch (expr.kind) {
    case "term":
      return termMatches(record, expr, read, textFields);
    case "not":
      return !matches(record, expr.expr, read, textFields);
    case "and":
      return expr.items.every((e) => matches(record, e, read, textFields));
    case "or":
      return expr.items.some((e) => matches(record, e, read, textFields));
  }
}

// ------------------------------------------------------------------ pagination

export type PageArgs = { first?: number | null; last?: number | null; after?: string | null; before?: string | null; reverse?: boolean | null };
export type Page<T> = {
  items: { node: T; cursor: string }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
};

/** Shopify cursors: base64 of {"last_id":<id>,"last_value":<sort value>}. */
export function encodeCursor(id: string, value: string | number): string {
  const v = typeof value === "number" || /^\d+$/.test(String(value)) ? String(value) : JSON.stringify(value);
  return Buffer.from(`{"last_id":${id},"last_value":${v}}`).toString("base64");
}

export function decodeCursor(cursor: string): { id: string; value: string } | null {
  try {
    const text = Buffer.from(cursor, "base64").toString("utf8");
    const id = /"last_id":(\d+)/.exec(text)?.[1];
    const valueMatch = /"last_value":("(?:[^"\\]|\\.)*"|[^,}]+)/.exec(text)?.[1];
    if (!id || valueMatch === undefined) return null;
    const value = valueMatch.startsWith('"') ? (JSON.parse(valueMatch) as string) : valueMatch;
    return { id, value };
  } catch {
    return null;
  }
}

export class PaginationError extends Error {}

/** Bulk operations read connections whole: no first/last needed, no 250 cap. */
let unboundedPaging = false;
export function setUnboundedPaging(on: boolean) {
  unboundedPaging = on;
}

/**
 * Pages a sorted list. `sortValue` is what the cursor records; `position` finds a
 * cursor's place (index of the first item strictly after it).
 */
export function paginate<T>(
  sorted: readonly T[],
  args: PageArgs,
  idOf: (t: T) => string,
  sortValue: (t: T) => string | number,
  sortedById = false,
): Page<T> {
  const first = args.first ?? (unboundedPaging && args.last == null ? Number.MAX_SAFE_INTEGER : null);
  const last = args.last ?? null;
  if (first === null && last === null) throw new PaginationError("you must provide one of first or last");
  if (first !== null && last !== null) throw new PaginationError("providing both first and last is not supported");
  const limit = (first ?? last)!;
  if (limit < 0) throw new PaginationError(`The ${first !== null ? "first" : "last"} argument must be positive`);
  if (limit > 250 && !unboundedPaging) throw new PaginationError(`The ${first !== null ? "first" : "last"} argument must be less than or equal to 250`);
  const list = args.reverse ? [...sorted].reverse() : sorted;
  const cmp = (a: string, b: string) => (a.length - b.length || (a < b ? -1 : a > b ? 1 : 0)) * (args.reverse ? -1 : 1);
  /** Index of the first item after (inclusive=false) or at/after (inclusive=true) the cursor. */
  const boundary = (cursor: string, inclusive: boolean) => {
    const c = decodeCursor(cursor);
    if (!c) return inclusive ? list.length : 0;
    if (sortedById) {
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const d = cmp(idOf(list[mid]!), c.id);
        if (d < 0 || (!inclusive && d === 0)) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    }
    const i = list.findIndex((t) => idOf(t) === c.id);
    if (i < 0) return inclusive ? list.length : 0;
    return inclusive ? i : i + 1;
  };
  const start = args.after ? boundary(args.after, false) : 0;
  const end = args.before ? boundary(args.before, true) : list.length;
  let from = start;
  let to = end;
  if (first !== null) to = Math.min(end, start + first);
  else from = Math.max(start, end - last!);
  const items = list.slice(from, to).map((node) => ({ node, cursor: encodeCursor(idOf(node), sortValue(node)) }));
  return {
    items,
    pageInfo: {
      hasNextPage: to < list.length,
      hasPreviousPage: from > 0,
      startCursor: items[0]?.cursor ?? null,
      endCursor: items[items.length - 1]?.cursor ?? null,
    },
  };
}
