import { describe, expect, it } from "vitest";
import type { Argument, Condition, Literal, Operand } from "../../app/domain/segments/ast";
import { lexSegment } from "../../app/domain/segments/lexer";
import { checkSegment } from "../../app/domain/segments/check";
import { MAX_DEPTH, parseSegment } from "../../app/domain/segments/parser";

// A compact S-expression rendering, so a table row states the whole tree.
function lit(l: Literal): string {
  switch (l.kind) {
    case "number":
      return String(l.value);
    case "string":
      return `'${l.value}'`;
    case "boolean":
      return String(l.value);
    case "date":
      return `date(${l.value})`;
    case "dateTime":
      return `datetime(${l.value})`;
    case "relativeDate":
      return `rel(${l.amount}${l.unit})`;
  }
}
function arg(a: Argument): string {
  if (a.operator === ":") return `${a.name}: ${lit(a.values[0] as Literal)}`;
  if (a.operator === "BETWEEN") return `${a.name} between ${a.values.map(lit).join(" ")}`;
  if (a.operator === "IN" || a.operator === "NOT IN") return `${a.name} ${a.operator.toLowerCase()} (${a.values.map(lit).join(" ")})`;
  return `${a.name} ${a.operator} ${lit(a.values[0] as Literal)}`;
}
function opnd(o: Operand): string {
  return o.kind === "attribute" ? o.name : `${o.name}(${o.args.map(arg).join(", ")})`;
}
function show(c: Condition): string {
  switch (c.kind) {
    case "and":
    case "or":
      return `(${c.kind} ${show(c.left)} ${show(c.right)})`;
    case "not":
      return `(not ${show(c.operand)})`;
    case "comparison":
      return `[${opnd(c.left)} ${c.operator} ${lit(c.right)}]`;
    case "between":
      return `[${opnd(c.left)} between ${lit(c.low)} ${lit(c.high)}]`;
    case "isNull":
      return `[${opnd(c.left)} ${c.negated ? "is not null" : "is null"}]`;
    case "contains":
      return `[${opnd(c.left)} ${c.negated ? "not contains" : "contains"} ${lit(c.value)}]`;
    case "matches":
      return `[${c.call.name} ${c.negated ? "not matches" : "matches"} (${c.call.args.map(arg).join(", ")})]`;
  }
}

describe("parseSegment: valid queries", () => {
  it.each([
    ["number_of_orders > 3 AND last_order_date > -90d", "(and [number_of_orders > 3] [last_order_date > rel(-90d)])"],
    ["customer_tags CONTAINS 'vip'", "[customer_tags contains 'vip']"],
    ["customer_tags NOT CONTAINS 'wholesale'", "[customer_tags not contains 'wholesale']"],
    ["amount_spent BETWEEN 100 AND 500", "[amount_spent between 100 500]"],
    ["amount_spent between 100.5 and 500.25", "[amount_spent between 100.5 500.25]"],
    ["NOT (rfm_group = 'at_risk' OR rfm_group = 'dormant')", "(not (or [rfm_group = 'at_risk'] [rfm_group = 'dormant']))"],
    ["products_purchased(product_type: 'Shoes', date: -90d) = true", "[products_purchased(product_type: 'Shoes', date: rel(-90d)) = true]"],
    ["products_purchased(product_type: 'Shoes', date: -90d, quantity: 2) = false", "[products_purchased(product_type: 'Shoes', date: rel(-90d), quantity: 2) = false]"],
    ["orders_placed(count_at_least: 3, date: -1y) = true", "[orders_placed(count_at_least: 3, date: rel(-1y)) = true]"],
    ["orders_placed() = true", "[orders_placed() = true]"],
    // Shopify's function syntax (issue 16).
    ["products_purchased MATCHES (id = 123, date > -3m)", "[products_purchased matches (id = 123, date > rel(-3m))]"],
    ["products_purchased NOT MATCHES (date > -3m)", "[products_purchased not matches (date > rel(-3m))]"],
    ["products_purchased not_matches ()", "[products_purchased not matches ()]"],
    ["orders_placed matches ()", "[orders_placed matches ()]"],
    ["products_purchased MATCHES (id IN (1, 2), id NOT IN (3))", "[products_purchased matches (id in (1 2), id not in (3))]"],
    ["products_purchased MATCHES (date BETWEEN -12m AND today, quantity != 5)", "[products_purchased matches (date between rel(-12m) rel(0d), quantity != 5)]"],
    ["orders_placed MATCHES (count > 1, sum_amount >= 99.5)", "[orders_placed matches (count > 1, sum_amount >= 99.5)]"],
    ["products_purchased(date: > -3m, quantity: BETWEEN 1 AND 3) = true", "[products_purchased(date > rel(-3m), quantity between 1 3) = true]"],
    ["shopify_email.opened MATCHES (activity_id = 5240029206)", "[shopify_email.opened matches (activity_id = 5240029206)]"],
    ["storefront_event.product_viewed() = true", "[storefront_event.product_viewed() = true]"],
    ["last_order_date > 2020-05-30T16:00:00", "[last_order_date > datetime(2020-05-30T16:00:00)]"],
    ["last_order_date >= 12_months_ago", "[last_order_date >= rel(-12m)]"],
    ["last_order_date >= 7_days_ago", "[last_order_date >= rel(-7d)]"],
    ["last_order_date >= 2_weeks_ago AND first_order_date < 1_year_ago", "(and [last_order_date >= rel(-2w)] [first_order_date < rel(-1y)])"],
    ["last_order_date IS NULL", "[last_order_date is null]"],
    ["customer_email_domain is not null", "[customer_email_domain is not null]"],
    ["first_order_date >= 2024-01-31", "[first_order_date >= date(2024-01-31)]"],
    ["last_order_date < today", "[last_order_date < rel(0d)]"],
    ["last_order_date <= yesterday", "[last_order_date <= rel(-1d)]"],
    ["last_order_date > 30_days_ago", "[last_order_date > rel(-30d)]"],
    ["customer_added_date > -4w", "[customer_added_date > rel(-4w)]"],
    ["customer_added_date < +30d", "[customer_added_date < rel(30d)]"],
    ["customer_added_date != -3m", "[customer_added_date != rel(-3m)]"],
    ["customer_added_date != -3M", "[customer_added_date != rel(-3m)]"],
    ["refund_rate <= 0.25", "[refund_rate <= 0.25]"],
    ["amount_spent > -5", "[amount_spent > -5]"],
    ["customer_email_domain = 'o''brien.ie'", "[customer_email_domain = 'o'brien.ie']"],
    ["a = 1 OR b = 2 AND c = 3", "(or [a = 1] (and [b = 2] [c = 3]))"],
    ["a = 1 AND b = 2 OR c = 3", "(or (and [a = 1] [b = 2]) [c = 3])"],
    ["NOT a = 1 AND b = 2", "(and (not [a = 1]) [b = 2])"],
    ["NOT NOT a = 1", "(not (not [a = 1]))"],
    ["(a = 1 OR b = 2) AND c = 3", "(and (or [a = 1] [b = 2]) [c = 3])"],
    ["a = 1 AND b = 2 AND c = 3", "(and (and [a = 1] [b = 2]) [c = 3])"],
    ["((a = true))", "[a = true]"],
    ["a = 1\nAND\tb = FALSE", "(and [a = 1] [b = false])"],
  ])("%s", (query, expected) => {
    const result = parseSegment(query);
    if (!result.ok) throw new Error(result.error.message);
    expect(show(result.ast)).toBe(expected);
  });

  it("records positions of nodes and the operator", () => {
    const result = parseSegment("a = 1 AND\n  last_order_date  >= -90d");
    if (!result.ok || result.ast.kind !== "and" || result.ast.right.kind !== "comparison") throw new Error("unexpected shape");
    const right = result.ast.right;
    expect(right.position).toEqual({ line: 2, column: 3, offset: 12 });
    expect(right.operatorPosition).toEqual({ line: 2, column: 20, offset: 29 });
    expect(right.right.position).toEqual({ line: 2, column: 23, offset: 32 });
  });

  it("returns frozen nodes", () => {
    const result = parseSegment("NOT amount_spent > 3");
    if (!result.ok || result.ast.kind !== "not") throw new Error("unexpected shape");
    expect(Object.isFrozen(result.ast)).toBe(true);
    expect(Object.isFrozen(result.ast.operand)).toBe(true);
  });
});

describe("lexSegment", () => {
  it("reads every token kind with line:column", () => {
    const result = lexSegment("f(x: 'a'), 2024-02-01 -90d 7_days_ago today TRUE and <= 1.5\n  !=");
    if (!result.ok) throw new Error(result.error.message);
    expect(result.tokens.map((t) => `${t.kind}@${t.line}:${t.column}`)).toEqual([
      "identifier@1:1",
      "lparen@1:2",
      "identifier@1:3",
      "colon@1:4",
      "string@1:6",
      "rparen@1:9",
      "comma@1:10",
      "date@1:12",
      "relativeDate@1:23",
      "relativeDate@1:28",
      "relativeDate@1:39",
      "boolean@1:45",
      "keyword@1:50",
      "operator@1:54",
      "number@1:57",
      "operator@2:3",
      "eof@2:5",
    ]);
  });
});

describe("parseSegment: errors", () => {
  it.each([
    ["", "empty segment query at 1:1", 1, 1],
    ["   \n  ", "empty segment query at 2:3", 2, 3],
    ["amount_spent > 'abc", "unterminated string starting at 1:16", 1, 16],
    ["amount_spent # 3", "unexpected character `#` at 1:14", 1, 14],
    ["amount_spent ! 3", "unexpected character `!` (did you mean `!=`?) at 1:14", 1, 14],
    ["amount_spent > 12abc", "malformed number `12abc` at 1:16", 1, 16],
    ["amount_spent > 1.2.3", "malformed number `1.2.3` at 1:16", 1, 16],
    ["amount_spent", "expected an operator (=, !=, >, <, >=, <=, BETWEEN, IS NULL, CONTAINS, MATCHES) after `amount_spent`, got end of query at 1:13", 1, 13],
    ["amount_spent >", "expected a value, got end of query at 1:15", 1, 15],
    ["rfm_group = at_risk", "expected a value, got `at_risk` (quote text values: 'at_risk') at 1:13", 1, 13],
    ["(amount_spent > 3", "expected `)` to close `(` at 1:1, got end of query at 1:18", 1, 18],
    ["amount_spent > 3)", "unmatched `)` at 1:17", 1, 17],
    ["amount_spent > 3 amount_spent < 5", "expected AND, OR or end of query, got `amount_spent` at 1:18", 1, 18],
    ["amount_spent > 3 AND", "expected an attribute, a function or `(`, got end of query at 1:21", 1, 21],
    ["AND amount_spent > 3", "expected an attribute, a function or `(`, got `AND` at 1:1", 1, 1],
    ["amount_spent BETWEEN 1 OR 2", "expected AND between the BETWEEN bounds, got `OR` at 1:24", 1, 24],
    ["last_order_date IS 3", "expected NULL after IS, got number 3 at 1:20", 1, 20],
    ["last_order_date IS NOT", "expected NULL after IS NOT, got end of query at 1:23", 1, 23],
    ["customer_tags NOT 'vip'", "expected CONTAINS after NOT, got a string at 1:19", 1, 19],
    ["orders_placed(count_at_least 3) = true", "expected `:` after parameter `count_at_least`, got number 3 at 1:30", 1, 30],
    ["orders_placed(count_at_least: 3 date: -1y) = true", "expected `,` or `)` in the arguments of `orders_placed`, got `date` at 1:33", 1, 33],
    ["orders_placed(3) = true", "expected a parameter name, got number 3 at 1:15", 1, 15],
    ["a = 1 AND\n  b >", "expected a value, got end of query at 2:6", 2, 6],
  ])("%j", (query, message, line, column) => {
    const result = parseSegment(query);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatchObject({ message, line, column });
  });

  it("refuses nesting deeper than MAX_DEPTH without overflowing the stack", () => {
    const deep = "(".repeat(100_000) + "a = 1" + ")".repeat(100_000);
    const result = parseSegment(deep);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toBe(`query nests deeper than ${MAX_DEPTH} levels at 1:${MAX_DEPTH + 1}`);
    expect(parseSegment("NOT ".repeat(MAX_DEPTH) + "a = 1").ok).toBe(true);
  });
});

describe("parseSegment: seeded property test", () => {
  // mulberry32: a tiny deterministic PRNG.
  function prng(seed: number) {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const TOKENS = [
    "amount_spent", "last_order_date", "customer_tags", "products_purchased", "orders_placed", "rfm_group",
    "AND", "OR", "NOT", "BETWEEN", "IS", "NULL", "CONTAINS", "true", "false", "today", "yesterday", "30_days_ago",
    "=", "!=", ">", "<", ">=", "<=", "(", ")", ",", ":", "3", "1.5", "-90d", "+4w", "2024-01-01", "'vip'", "'it''s'",
    "'", "\n", " ", "-", "!", "2024-13-45", "9999999999999999999999",
  ];
  const CHARS = "abcz_019 \n\t'()=!<>:,.-+#\"\\é😀";

  it("never throws on 5,000 random inputs, and every error points inside the text", () => {
    const random = prng(20261123);
    let errors = 0;
    for (let n = 0; n < 5000; n++) {
      const parts: string[] = [];
      const length = Math.floor(random() * 12);
      for (let k = 0; k < length; k++) {
        if (random() < 0.7) parts.push(TOKENS[Math.floor(random() * TOKENS.length)] as string, " ");
        else parts.push(CHARS[Math.floor(random() * CHARS.length)] as string);
      }
      const text = parts.join("");
      const result = parseSegment(text);
      if (result.ok) checkSegment({ ast: result.ast });
      else {
        errors++;
        const { offset, line, column } = result.error;
        expect(offset, text).toBeGreaterThanOrEqual(0);
        expect(offset, text).toBeLessThanOrEqual(text.length);
        const before = text.slice(0, offset).split("\n");
        expect({ line, column }, text).toEqual({ line: before.length, column: (before[before.length - 1] as string).length + 1 });
      }
    }
    expect(errors).toBeGreaterThan(0);
    expect(errors).toBeLessThan(5000);
  });
});
