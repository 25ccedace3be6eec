// Recursive-descent parser for segment queries. Precedence: NOT > AND > OR.
//
//   segment   := orExpr EOF
//   orExpr    := andExpr ( OR andExpr )*
//   andExpr   := notExpr ( AND notExpr )*
//   notExpr   := NOT notExpr | '(' orExpr ')' | predicate
//   predicate := operand ( op literal
//                        | BETWEEN literal AND literal
//                        | IS [NOT] NULL
//                        | [NOT] CONTAINS literal )
//              | identifier ( MATCHES | NOT MATCHES | NOT_MATCHES ) '(' [ parameter ( ',' parameter )* ] ')'
//   parameter := identifier ( op literal | BETWEEN literal AND literal | [NOT] IN '(' literal ( ',' literal )* ')' )
//   operand   := identifier [ '(' [ argument ( ',' argument )* ] ')' ]     (the deprecated function form)
//   argument  := identifier ':' ( literal | op literal | BETWEEN literal AND literal ) | 'string'
//   literal   := number | 'string' | true | false | YYYY-MM-DD | YYYY-MM-DDTHH:mm:ss
//              | -90d | +30d | -4w | -3m | -1y | today | yesterday | 30_days_ago | 12_months_ago
//   op        := = | != | > | < | >= | <=
//   identifier:= name ( '.' name )*     (dotted: shopify_email.opened)
//
// parseSegment never throws: every failure is returned as a positioned error.

import { node, type Argument, type Attribute, type Condition, type Literal, type Operand } from "./ast";
import { lexSegment, type Position, type SegmentError, type Token } from "./lexer";

export type ParseResult = { ok: true; ast: Condition } | { ok: false; error: SegmentError };

/** Parentheses and NOTs nest at most this deep, so hostile input cannot exhaust the stack. */
export const MAX_DEPTH = 64;

class ParseFailure {
  constructor(readonly error: SegmentError) {}
}

const at = (p: Position): Position => ({ line: p.line, column: p.column, offset: p.offset });

function describe(token: Token): string {
  switch (token.kind) {
    case "identifier":
      return `\`${token.name}\``;
    case "number":
      return `number ${token.raw}`;
    case "string":
      return "a string";
    case "date":
    case "dateTime":
      return `date ${token.value}`;
    case "relativeDate":
      return `\`${token.raw}\``;
    case "boolean":
      return `\`${token.value}\``;
    case "keyword":
      return `\`${token.keyword}\``;
    case "operator":
      return `\`${token.operator}\``;
    case "lparen":
      return "`(`";
    case "rparen":
      return "`)`";
    case "comma":
      return "`,`";
    case "colon":
      return "`:`";
    case "eof":
      return "end of query";
  }
}

export function parseSegment(text: string): ParseResult {
  try {
    if (typeof text !== "string") return { ok: false, error: { message: "segment query must be text at 1:1", line: 1, column: 1, offset: 0 } };
    const lexed = lexSegment(text);
    if (!lexed.ok) return lexed;
    if (lexed.tokens.length === 1) {
      const eof = lexed.tokens[0] as Token;
      return { ok: false, error: { ...at(eof), message: `empty segment query at ${eof.line}:${eof.column}` } };
    }
    const ast = new Parser(lexed.tokens).parse();
    return { ok: true, ast };
  } catch (e) {
    if (e instanceof ParseFailure) return { ok: false, error: e.error };
    // Defensive: should be unreachable, but the contract is "never throws".
    return { ok: false, error: { message: "could not parse segment query at 1:1", line: 1, column: 1, offset: 0 } };
  }
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  parse(): Condition {
    const ast = this.orExpr();
    const next = this.peek();
    if (next.kind !== "eof") {
      this.fail(next.kind === "rparen" ? "unmatched `)`" : `expected AND, OR or end of query, got ${describe(next)}`, next);
    }
    return ast;
  }

  private peek(): Token {
    return this.tokens[this.index] ?? (this.tokens[this.tokens.length - 1] as Token);
  }

  private advance(): Token {
    const token = this.peek();
    if (token.kind !== "eof") this.index++;
    return token;
  }

  private isKeyword(token: Token, keyword: string): boolean {
    return token.kind === "keyword" && token.keyword === keyword;
  }

  private fail(message: string, where: Position): never {
    throw new ParseFailure({ ...at(where), message: `${message} at ${where.line}:${where.column}` });
  }

  private enter(where: Position): void {
    if (++this.depth > MAX_DEPTH) this.fail(`query nests deeper than ${MAX_DEPTH} levels`, where);
  }

  private orExpr(): Condition {
    let left = this.andExpr();
    while (this.isKeyword(this.peek(), "OR")) {
      this.advance();
      const right = this.andExpr();
      left = node({ kind: "or", left, right, position: left.position });
    }
    return left;
  }

  private andExpr(): Condition {
    let left = this.notExpr();
    while (this.isKeyword(this.peek(), "AND")) {
      this.advance();
      const right = this.notExpr();
      left = node({ kind: "and", left, right, position: left.position });
    }
    return left;
  }

  private notExpr(): Condition {
    const token = this.peek();
    if (this.isKeyword(token, "NOT")) {
      this.enter(token);
      this.advance();
      const operand = this.notExpr();
      this.depth--;
      return node({ kind: "not", operand, position: at(token) });
    }
    if (token.kind === "lparen") {
      this.enter(token);
      this.advance();
      const inner = this.orExpr();
      const close = this.peek();
      if (close.kind !== "rparen") this.fail(`expected \`)\` to close \`(\` at ${token.line}:${token.column}, got ${describe(close)}`, close);
      this.advance();
      this.depth--;
      return inner;
    }
    return this.predicate();
  }

  private predicate(): Condition {
    const left = this.operand();
    const position = left.position;
    const token = this.advance();
    const operatorPosition = at(token);
    if (left.kind === "attribute") {
      const matches = this.isKeyword(token, "MATCHES") || this.isKeyword(token, "NOT_MATCHES");
      if (matches || (this.isKeyword(token, "NOT") && this.isKeyword(this.peek(), "MATCHES"))) {
        if (!matches) this.advance();
        return this.matches(left, !this.isKeyword(token, "MATCHES"), operatorPosition);
      }
    }
    if (token.kind === "operator") {
      return node({ kind: "comparison", left, operator: token.operator, right: this.literal(), position, operatorPosition });
    }
    if (this.isKeyword(token, "BETWEEN")) {
      const low = this.literal();
      const and = this.advance();
      if (!this.isKeyword(and, "AND")) this.fail(`expected AND between the BETWEEN bounds, got ${describe(and)}`, and);
      const high = this.literal();
      return node({ kind: "between", left, low, high, position, operatorPosition });
    }
    if (this.isKeyword(token, "IS")) {
      let negated = false;
      let next = this.advance();
      if (this.isKeyword(next, "NOT")) {
        negated = true;
        next = this.advance();
      }
      if (!this.isKeyword(next, "NULL")) this.fail(`expected NULL after IS${negated ? " NOT" : ""}, got ${describe(next)}`, next);
      return node({ kind: "isNull", left, negated, position, operatorPosition });
    }
    let negated = false;
    let contains: Token = token;
    if (this.isKeyword(token, "NOT")) {
      negated = true;
      contains = this.advance();
      if (!this.isKeyword(contains, "CONTAINS")) this.fail(`expected CONTAINS after NOT, got ${describe(contains)}`, contains);
    }
    if (this.isKeyword(contains, "CONTAINS")) {
      return node({ kind: "contains", left, value: this.literal(), negated, position, operatorPosition });
    }
    return this.fail(`expected an operator (=, !=, >, <, >=, <=, BETWEEN, IS NULL, CONTAINS, MATCHES) after \`${left.name}\`, got ${describe(token)}`, token);
  }

  /** `name MATCHES (parameter, ...)`: the MATCHES keyword is consumed. */
  private matches(left: Attribute, negated: boolean, operatorPosition: Position): Condition {
    const open = this.advance();
    if (open.kind !== "lparen") this.fail(`expected \`(\` after MATCHES, got ${describe(open)} (write \`${left.name} MATCHES ()\` for any)`, open);
    const args: Argument[] = [];
    if (this.peek().kind === "rparen") this.advance();
    else {
      for (;;) {
        args.push(this.parameter(left.name));
        const sep = this.advance();
        if (sep.kind === "rparen") break;
        if (sep.kind !== "comma") this.fail(`expected \`,\` or \`)\` in the parameters of \`${left.name}\`, got ${describe(sep)}`, sep);
      }
    }
    const call = node({ kind: "functionCall", name: left.name, args: Object.freeze(args), syntax: "matches", position: left.position });
    return node({ kind: "matches", call, negated, position: left.position, operatorPosition });
  }

  /** `id = 1`, `date BETWEEN a AND b`, `id [NOT] IN (1, 2)`. */
  private parameter(functionName: string): Argument {
    const name = this.advance();
    if (name.kind !== "identifier") return this.fail(`expected a parameter name, got ${describe(name)}`, name);
    const token = this.advance();
    const operatorPosition = at(token);
    const make = (operator: Argument["operator"], values: Literal[]) =>
      node({ kind: "argument", name: name.name, operator, values: Object.freeze(values), position: at(name), operatorPosition });
    if (token.kind === "operator") return make(token.operator, [this.literal()]);
    if (this.isKeyword(token, "BETWEEN")) return make("BETWEEN", this.betweenBounds());
    let negated = false;
    let inToken: Token = token;
    if (this.isKeyword(token, "NOT")) {
      negated = true;
      inToken = this.advance();
    }
    if (this.isKeyword(inToken, "IN")) return make(negated ? "NOT IN" : "IN", this.list());
    if (token.kind === "colon") {
      return this.fail(`\`${name.name}: value\` is the deprecated form: inside MATCHES write \`${name.name} = value\` (or another operator)`, token);
    }
    return this.fail(`expected an operator (=, !=, >, <, >=, <=, BETWEEN, IN, NOT IN) after parameter \`${name.name}\` of \`${functionName}\`, got ${describe(inToken)}`, inToken);
  }

  private betweenBounds(): Literal[] {
    const low = this.literal();
    const and = this.advance();
    if (!this.isKeyword(and, "AND")) this.fail(`expected AND between the BETWEEN bounds, got ${describe(and)}`, and);
    return [low, this.literal()];
  }

  /** `( literal, ... )`: at least one value. */
  private list(): Literal[] {
    const open = this.advance();
    if (open.kind !== "lparen") this.fail(`expected \`(\` after IN, got ${describe(open)}`, open);
    const values: Literal[] = [];
    for (;;) {
      values.push(this.literal());
      const sep = this.advance();
      if (sep.kind === "rparen") return values;
      if (sep.kind !== "comma") this.fail(`expected \`,\` or \`)\` in the list, got ${describe(sep)}`, sep);
    }
  }

  private operand(): Operand {
    const token = this.advance();
    if (token.kind !== "identifier") {
      return this.fail(`expected an attribute, a function or \`(\`, got ${describe(token)}`, token);
    }
    if (this.peek().kind !== "lparen") return node({ kind: "attribute", name: token.name, position: at(token) });
    this.advance();
    const args: Argument[] = [];
    if (this.peek().kind !== "rparen") {
      for (;;) {
        args.push(this.argument());
        const sep = this.advance();
        if (sep.kind === "rparen") break;
        if (sep.kind !== "comma") this.fail(`expected \`,\` or \`)\` in the arguments of \`${token.name}\`, got ${describe(sep)}`, sep);
      }
    } else {
      this.advance();
    }
    return node({ kind: "functionCall", name: token.name, args: Object.freeze(args), syntax: "call", position: at(token) });
  }

  /** Deprecated form: `name: value`, `name: > value`, `name: BETWEEN a AND b`. */
  private argument(): Argument {
    const name = this.advance();
    if (name.kind === "string") {
      // A positional value, `anniversary('metafields.facts.birth_date')` (Shopify's Help Center
      // writes it so in some languages): an argument without a name, for the checker to judge.
      const value = node({ kind: "string", value: name.value, position: at(name) });
      return node({ kind: "argument", name: "", operator: ":", values: Object.freeze([value]), position: at(name), operatorPosition: at(name) });
    }
    if (name.kind !== "identifier") return this.fail(`expected a parameter name, got ${describe(name)}`, name);
    const colon = this.advance();
    if (colon.kind !== "colon") this.fail(`expected \`:\` after parameter \`${name.name}\`, got ${describe(colon)}`, colon);
    const next = this.peek();
    const operatorPosition = at(next);
    const make = (operator: Argument["operator"], values: Literal[]) =>
      node({ kind: "argument", name: name.name, operator, values: Object.freeze(values), position: at(name), operatorPosition });
    if (next.kind === "operator") {
      this.advance();
      return make(next.operator, [this.literal()]);
    }
    if (this.isKeyword(next, "BETWEEN")) {
      this.advance();
      return make("BETWEEN", this.betweenBounds());
    }
    return make(":", [this.literal()]);
  }

  private literal(): Literal {
    const token = this.advance();
    const position = at(token);
    switch (token.kind) {
      case "number":
        return node({ kind: "number", value: token.value, raw: token.raw, position });
      case "string":
        return node({ kind: "string", value: token.value, position });
      case "boolean":
        return node({ kind: "boolean", value: token.value, position });
      case "date":
        return node({ kind: "date", value: token.value, position });
      case "dateTime":
        return node({ kind: "dateTime", value: token.value, position });
      case "relativeDate":
        return node({ kind: "relativeDate", amount: token.amount, unit: token.unit, raw: token.raw, position });
      case "identifier":
        return this.fail(`expected a value, got ${describe(token)} (quote text values: '${token.name}')`, token);
      default:
        return this.fail(`expected a value, got ${describe(token)}`, token);
    }
  }
}
