// The pure parts of the segment editor: highlighting and error marks built on the lexer,
// "did you mean" replacements, the example queries, and the dry-run wording.
import { describe, expect, it } from "vitest";
import { analyzeSegmentQuery } from "../../app/services/segments/definition";
import { applySuggestion, errorMarks, highlightQuery, marksAtEnd, suggestionOf, tokenSpans } from "../../app/components/segments/highlight";
import { EXAMPLE_QUERIES } from "../../app/components/segments/examples";
import { customersLabel, dryRunSentences, signed } from "../../app/components/segments/format";

/** The checker's errors for `text` (what the preview route returns). */
function errorsOf(text: string) {
  const result = analyzeSegmentQuery(text);
  return result.ok ? [] : result.errors;
}

describe("example queries", () => {
  it.each(EXAMPLE_QUERIES.map((e) => [e.title, e.query]))("%s passes the checker", (_title, query) => {
    const result = analyzeSegmentQuery(query);
    expect(result.ok ? [] : result.errors).toEqual([]);
  });
});

describe("highlightQuery", () => {
  it("colours each token by kind and gives back the text exactly", () => {
    const text = "amount_spent >= 100 AND customer_tags CONTAINS 'Men''s'\n  OR last_order_date >= -90d";
    const pieces = highlightQuery(text, []);
    expect(pieces.map((p) => p.text).join("")).toBe(text);
    const kindOf = (fragment: string) => pieces.find((p) => p.text === fragment)?.kind;
    expect(kindOf("amount_spent")).toBe("attribute");
    expect(kindOf(">=")).toBe("operator");
    expect(kindOf("100")).toBe("number");
    expect(kindOf("AND")).toBe("keyword");
    expect(kindOf("CONTAINS")).toBe("keyword");
    expect(kindOf("'Men''s'")).toBe("string"); // a doubled quote stays inside the string
    expect(kindOf("-90d")).toBe("date");
    expect(pieces.every((p) => p.errors.length === 0)).toBe(true);
  });

  it("round-trips any text, including text the lexer rejects", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const alphabet = "ab_ 19'()=!<>,:-+\n\tANDOR.";
    for (let run = 0; run < 2_000; run++) {
      const text = Array.from({ length: Math.floor(random() * 30) }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
      const marks = errorMarks(text, errorsOf(text));
      const pieces = highlightQuery(text, marks);
      expect(pieces.map((p) => p.text).join("")).toBe(text);
      for (const mark of marks) {
        expect(mark.start).toBeGreaterThanOrEqual(0);
        expect(mark.end).toBeGreaterThanOrEqual(mark.start);
        expect(mark.end).toBeLessThanOrEqual(text.length);
      }
    }
  });

  it("colours the valid prefix when the lexer stops at a bad character", () => {
    const spans = tokenSpans("amount_spent >= 100 AND number_of_orders ! 3");
    expect(spans.map((s) => s.kind)).toEqual(["attribute", "operator", "number", "keyword", "attribute"]);
  });
});

describe("errorMarks", () => {
  it("marks an unknown attribute over the whole word, with the suggestion", () => {
    const text = "amount_spend >= 100";
    const marks = errorMarks(text, errorsOf(text));
    expect(marks).toHaveLength(1);
    expect(marks[0]).toMatchObject({ start: 0, end: 12, line: 1, column: 1, suggestion: "amount_spent" });
    expect(marks[0]!.message).toBe("unknown attribute `amount_spend` at 1:1, did you mean `amount_spent`?");
    const pieces = highlightQuery(text, marks);
    expect(pieces[0]).toMatchObject({ text: "amount_spend", errors: [marks[0]!.message] });
    expect(pieces.slice(1).every((p) => p.errors.length === 0)).toBe(true);
  });

  it("applies the suggestion, giving a query that checks", () => {
    const text = "number_of_orders >= 2 AND\n  amount_spend >= 100";
    const [mark] = errorMarks(text, errorsOf(text));
    expect(mark).toMatchObject({ line: 2, column: 3, suggestion: "amount_spent" });
    const fixed = applySuggestion(text, mark!);
    expect(fixed).toBe("number_of_orders >= 2 AND\n  amount_spent >= 100");
    expect(analyzeSegmentQuery(fixed).ok).toBe(true);
  });

  it("never suggests customer_tags for Shopify's city and region attributes (issue 16)", () => {
    // Both are attributes now: valid as Shopify writes them, and their typos point at them.
    for (const text of ["customer_cities CONTAINS 'US-NY-NewYorkCity'", "customer_regions CONTAINS 'US-NY'"]) expect(errorsOf(text), text).toEqual([]);
    for (const [text, wanted] of [
      ["customer_city CONTAINS 'x'", "customer_cities"],
      ["customer_citys CONTAINS 'x'", "customer_cities"],
      ["customer_region CONTAINS 'x'", "customer_regions"],
    ] as const) {
      const [mark] = errorMarks(text, errorsOf(text));
      expect(mark?.suggestion, text).toBe(wanted);
      expect(mark?.message, text).not.toContain("customer_tags");
    }
  });

  it("colours Shopify's function syntax, dotted names and date-times whole", () => {
    const text = "products_purchased NOT MATCHES (id IN (1, 2)) OR last_order_date > 2020-05-30T16:00:00 OR shopify_email.opened MATCHES ()";
    const pieces = highlightQuery(text, []).filter((p) => p.text.trim() !== "");
    expect(pieces.find((p) => p.text === "2020-05-30T16:00:00")?.kind).toBe("date");
    expect(pieces.find((p) => p.text === "shopify_email.opened")?.kind).toBe("attribute");
    expect(pieces.find((p) => p.text.includes("MATCHES"))?.kind).toBe("keyword");
  });

  it("marks every error the checker returns, each at its own value", () => {
    const text = "last_order_date > 5 AND amount_spent = 'lots'";
    const marks = errorMarks(text, errorsOf(text));
    expect(marks.map((m) => text.slice(m.start, m.end))).toEqual(["5", "'lots'"]);
  });

  it("marks lexer errors: a malformed number and an unterminated string", () => {
    const malformed = "amount_spent >= 1x0 AND number_of_orders > 1";
    expect(errorMarks(malformed, errorsOf(malformed)).map((m) => malformed.slice(m.start, m.end))).toEqual(["1x0"]);
    const unterminated = "customer_tags CONTAINS 'vip";
    expect(errorMarks(unterminated, errorsOf(unterminated)).map((m) => unterminated.slice(m.start, m.end))).toEqual(["'vip"]);
  });

  it("puts an error at the end of the query after the last character", () => {
    const text = "amount_spent >=";
    const marks = errorMarks(text, errorsOf(text));
    expect(marks).toHaveLength(1);
    expect(marksAtEnd(text, marks)).toHaveLength(1);
    expect(applySuggestion(text, marks[0]!)).toBe(text);
  });

  it("reads suggestions only from did-you-mean messages", () => {
    expect(suggestionOf("unknown function `orders_placd` at 1:1, did you mean `orders_placed`?")).toBe("orders_placed");
    expect(suggestionOf("`last_order_date` compares with a date, got a number at 1:19")).toBeNull();
  });
});

describe("format", () => {
  it("says what the tag sync dry run would do in the merchant's words", () => {
    expect(dryRunSentences({ ok: true, tag: "crm:vip", enabled: true, add: 1204, remove: 37, overLimit: 0, alreadyTagged: 0 })).toEqual([
      "Will add the tag to 1,204 customers and remove it from 37.",
    ]);
    expect(dryRunSentences({ ok: true, tag: "crm:vip", enabled: true, add: 1, remove: 0, overLimit: 2, alreadyTagged: 1 })).toEqual([
      "Will add the tag to 1 customer and remove it from 0.",
      "2 customers already have Shopify's maximum of 250 tags and will be skipped.",
      "1 customer already carries the tag and will be left as they are.",
    ]);
    expect(dryRunSentences({ ok: true, tag: "crm:vip", enabled: false, add: 0, remove: 5, overLimit: 0, alreadyTagged: 0 })).toEqual([
      "Will remove the tag from 5 customers (only tags the app added itself).",
    ]);
    expect(dryRunSentences({ ok: true, tag: "crm:vip", enabled: true, add: 0, remove: 0, overLimit: 0, alreadyTagged: 0 })[0]).toMatch(/^Nothing to change/);
  });

  it("formats counts and signed changes", () => {
    expect(customersLabel(1)).toBe("1 customer");
    expect(customersLabel(12045)).toBe("12,045 customers");
    expect([signed(3), signed(-2), signed(0)]).toEqual(["+3", "−2", "0"]);
  });
});
