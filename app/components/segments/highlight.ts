// Syntax highlighting and error marks for the segment query editor. Pure: the query text
// and the checker's positioned errors in, a list of styled pieces out. Built on the
// language's own lexer (app/domain/segments/lexer.ts), so the editor colours exactly the
// tokens the parser sees.
import { lexSegment, type SegmentError, type Token } from "../../domain/segments/lexer";

export type PieceKind = "attribute" | "keyword" | "operator" | "string" | "number" | "date" | "boolean" | "punctuation" | "plain";

export type Piece = {
  text: string;
  kind: PieceKind;
  /** Messages of the errors whose mark covers this piece. */
  errors: string[];
};

/** Where an error's mark goes: [start, end) in the text; end === start marks the end of the text. */
export type ErrorMark = { start: number; end: number; message: string; line: number; column: number; suggestion: string | null };

type Span = { start: number; end: number; kind: PieceKind };

const WORD = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Length of a string token written at `offset` (quotes included; '' is an escaped quote). */
function stringLength(text: string, offset: number): number {
  let i = offset + 1;
  while (i < text.length) {
    if (text[i] === "'") {
      if (text[i + 1] === "'") {
        i += 2;
        continue;
      }
      return i + 1 - offset;
    }
    if (text[i] === "\n") break;
    i++;
  }
  return i - offset;
}

function tokenLength(text: string, token: Token): number {
  switch (token.kind) {
    case "identifier":
      return token.name.length;
    case "number":
    case "relativeDate":
      return token.raw.length;
    case "string":
      return stringLength(text, token.offset);
    case "date":
    case "dateTime":
      return token.value.length;
    case "boolean":
    case "keyword":
      return WORD.exec(text.slice(token.offset))?.[0].length ?? 1;
    case "operator":
      return token.operator.length;
    case "eof":
      return 0;
    default:
      return 1;
  }
}

function tokenKind(token: Token): PieceKind {
  switch (token.kind) {
    case "identifier":
      return "attribute";
    case "keyword":
      return "keyword";
    case "operator":
      return "operator";
    case "string":
      return "string";
    case "number":
      return "number";
    case "date":
    case "dateTime":
    case "relativeDate":
      return "date";
    case "boolean":
      return "boolean";
    default:
      return "punctuation";
  }
}

/**
 * The tokens of `text` as spans. When the lexer stops at a bad character, the text before
 * it is still coloured (lexing is context-free, so the prefix lexes the same) and the rest
 * is left plain.
 */
export function tokenSpans(text: string): Span[] {
  let lexed = lexSegment(text);
  if (!lexed.ok) lexed = lexSegment(text.slice(0, lexed.error.offset));
  if (!lexed.ok) return [];
  const tokens = lexed.tokens.filter((t) => t.kind !== "eof");
  return tokens.map((token) => ({ start: token.offset, end: token.offset + tokenLength(text, token), kind: tokenKind(token) }));
}

/** "..., did you mean `amount_spent`?" -> "amount_spent". */
export function suggestionOf(message: string): string | null {
  return /did you mean `([^`]+)`\?/.exec(message)?.[1] ?? null;
}

/** Each error's mark: the token that starts where the error points, or one character there. */
export function errorMarks(text: string, errors: readonly SegmentError[]): ErrorMark[] {
  const spans = tokenSpans(text);
  return errors.map((error) => {
    const offset = Math.max(0, Math.min(error.offset, text.length));
    const span = spans.find((s) => s.start === offset);
    let end = span ? span.end : offset;
    if (!span && offset < text.length) {
      // A lexer error (bad character, malformed number, unterminated string): mark the word there.
      const rest = text.slice(offset);
      const bad = text[offset] === "'" ? stringLength(text, offset) : (/^[^\s()]+/.exec(rest)?.[0].length ?? 1);
      end = offset + Math.max(1, bad);
    }
    return { start: offset, end, message: error.message, line: error.line, column: error.column, suggestion: suggestionOf(error.message) };
  });
}

/**
 * The pieces to draw: consecutive runs of text with one colour and one set of error
 * marks. Concatenating the pieces' text gives back `text` exactly.
 */
export function highlightQuery(text: string, marks: readonly ErrorMark[]): Piece[] {
  const kinds: PieceKind[] = new Array(text.length).fill("plain");
  for (const span of tokenSpans(text)) for (let i = span.start; i < Math.min(span.end, text.length); i++) kinds[i] = span.kind;
  const errorsAt: string[][] = Array.from({ length: text.length }, () => []);
  for (const mark of marks) for (let i = mark.start; i < Math.min(mark.end, text.length); i++) errorsAt[i]!.push(mark.message);
  const pieces: Piece[] = [];
  for (let i = 0; i < text.length; i++) {
    const kind = kinds[i]!;
    const errors = errorsAt[i]!;
    const last = pieces[pieces.length - 1];
    if (last && last.kind === kind && last.errors.join("\n") === errors.join("\n")) last.text += text[i];
    else pieces.push({ text: text[i]!, kind, errors: [...errors] });
  }
  return pieces;
}

/** Marks that point at the end of the text (e.g. "got end of query"): drawn as a marker after the last character. */
export const marksAtEnd = (text: string, marks: readonly ErrorMark[]) => marks.filter((m) => m.start >= text.length);

/** Applies a "did you mean" suggestion: the marked token replaced by the suggested name. */
export function applySuggestion(text: string, mark: ErrorMark): string {
  if (!mark.suggestion || mark.end <= mark.start) return text;
  return text.slice(0, mark.start) + mark.suggestion + text.slice(mark.end);
}
