// The segment query editor: a plain <textarea> (so typing, selection, undo and IME behave
// natively) laid over a highlighted copy of the same text. The textarea's own text is
// transparent; the layer behind it draws the tokens in colour and the checker's errors as
// wavy underlines at the positions the server returned. The copy sets the height (it
// grows with the text) and the textarea fills it, so neither ever scrolls out of step.
import { useMemo, type CSSProperties } from "react";
import { BlockStack, Button, InlineError, InlineStack, Text } from "@shopify/polaris";
import { applySuggestion, errorMarks, highlightQuery, marksAtEnd, type PieceKind } from "./highlight";
import type { SegmentError } from "../../domain/admin/segment-view-models";

const COLOURS: Record<PieceKind, CSSProperties> = {
  attribute: { color: "#1f5199" },
  keyword: { color: "#7a1fa2", fontWeight: 600 },
  operator: { color: "#303030", fontWeight: 600 },
  string: { color: "#0c6b3a" },
  number: { color: "#a33f00" },
  date: { color: "#a33f00" },
  boolean: { color: "#a33f00" },
  punctuation: { color: "#616161" },
  plain: { color: "#303030" },
};

const ERROR_STYLE: CSSProperties = {
  textDecorationLine: "underline",
  textDecorationStyle: "wavy",
  textDecorationColor: "#e51c00",
  textDecorationSkipInk: "none",
  backgroundColor: "rgba(229, 28, 0, 0.08)",
};

// The two layers must lay text out identically: same font, size, padding, border and wrapping.
const SHARED: CSSProperties = {
  margin: 0,
  padding: "8px 12px",
  border: "1px solid transparent",
  fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace",
  fontSize: 14,
  lineHeight: "20px",
  letterSpacing: "normal",
  whiteSpace: "pre-wrap",
  overflowWrap: "break-word",
  wordBreak: "normal",
  tabSize: 2,
  boxSizing: "border-box",
};

export type QueryEditorProps = {
  id: string;
  name: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  /** Errors for exactly `value` (positions refer to it). */
  errors: readonly SegmentError[];
  placeholder?: string;
  maxLength?: number;
};

export function QueryEditor({ id, name, label, value, onChange, errors, placeholder, maxLength }: QueryEditorProps) {
  const marks = useMemo(() => errorMarks(value, errors), [value, errors]);
  const pieces = useMemo(() => highlightQuery(value, marks), [value, marks]);
  const atEnd = marksAtEnd(value, marks);
  const invalid = marks.length > 0;
  const errorId = `${id}-errors`;
  return (
    <BlockStack gap="100">
      <label htmlFor={id}>
        <Text as="span" variant="bodyMd">
          {label}
        </Text>
      </label>
      <div
        data-segment-query-editor=""
        style={{
          position: "relative",
          borderRadius: "var(--p-border-radius-200)",
          border: `var(--p-border-width-0165) solid ${invalid ? "var(--p-color-border-critical)" : "var(--p-color-input-border)"}`,
          background: invalid ? "var(--p-color-bg-surface-critical)" : "var(--p-color-input-bg-surface)",
        }}
      >
        <pre aria-hidden="true" data-segment-highlight="" style={{ ...SHARED, position: "relative", minHeight: 104, pointerEvents: "none" }}>
          {value === "" && placeholder ? <span style={{ color: "#8a8a8a" }}>{placeholder}</span> : null}
          {pieces.map((piece, index) => (
            <span
              key={index}
              data-token={piece.kind}
              data-segment-error={piece.errors.length > 0 ? piece.errors.join("\n") : undefined}
              style={piece.errors.length > 0 ? { ...COLOURS[piece.kind], ...ERROR_STYLE } : COLOURS[piece.kind]}
            >
              {piece.text}
            </span>
          ))}
          {atEnd.length > 0 ? (
            <span data-segment-error={atEnd.map((m) => m.message).join("\n")} style={{ ...ERROR_STYLE, display: "inline-block", width: "1ch" }}>
              {" "}
            </span>
          ) : null}
          {/* A trailing newline in a textarea opens a line; the layer needs one more character to match. */}
          {"\n"}
        </pre>
        <textarea
          id={id}
          name={name}
          value={value}
          maxLength={maxLength}
          onChange={(event) => onChange(event.currentTarget.value)}
          rows={4}
          spellCheck={false}
          autoCapitalize="off"
          autoComplete="off"
          autoCorrect="off"
          aria-invalid={invalid}
          aria-describedby={invalid ? errorId : undefined}
          style={{
            ...SHARED,
            position: "absolute",
            inset: 0,
            display: "block",
            width: "100%",
            height: "100%",
            overflow: "hidden",
            resize: "none",
            background: "transparent",
            color: "transparent",
            caretColor: "#303030",
            outline: "none",
          }}
        />
      </div>
      {invalid ? (
        <div id={errorId}>
          <BlockStack gap="100">
            {marks.map((mark, index) => (
              <InlineStack key={index} gap="200" blockAlign="center" wrap>
                <InlineError message={mark.message} fieldID={id} />
                {mark.suggestion && mark.end > mark.start ? (
                  <Button variant="plain" onClick={() => onChange(applySuggestion(value, mark))}>
                    {`Replace with ${mark.suggestion}`}
                  </Button>
                ) : null}
              </InlineStack>
            ))}
          </BlockStack>
        </div>
      ) : null}
    </BlockStack>
  );
}

/** The same highlighting, read-only (the segment page's definition). */
export function QueryText({ query }: { query: string }) {
  const pieces = useMemo(() => highlightQuery(query, []), [query]);
  return (
    <pre data-segment-definition="" style={{ ...SHARED, border: "none", padding: 0 }}>
      {pieces.map((piece, index) => (
        <span key={index} style={COLOURS[piece.kind]}>
          {piece.text}
        </span>
      ))}
    </pre>
  );
}
