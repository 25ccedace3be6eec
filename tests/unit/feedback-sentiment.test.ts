// Feedback sentiment (app/domain/feedback/sentiment.ts) measured on the hand-labelled sets in
// tests/fixtures/sentiment, plus its contract on edge cases. Floors sit a little under the
// figures measured on this build (docs/feedback-sentiment.md), so a regression fails.
import nlpCore from "@nlpjs/core";
import nlpSentiment from "@nlpjs/sentiment";
import langEn from "@nlpjs/lang-en";
import langEs from "@nlpjs/lang-es";
import langPt from "@nlpjs/lang-pt";
import langFr from "@nlpjs/lang-fr";
import langDe from "@nlpjs/lang-de";
import { describe, expect, it } from "vitest";
import {
  analyzeSentiment,
  MAX_ANALYSED_CHARS,
  NEUTRAL_BAND,
  type SentimentResult,
} from "../../app/domain/feedback/sentiment";
import {
  FIXTURE_LANGUAGES,
  FIXTURE_SETS,
  loadSentimentFixture,
  scoreLanguage,
  type FixtureLanguage,
  type LanguageScore,
} from "../fixtures/sentiment/evaluate";

// Measured (main set, page locale as hint): en 90.9%, es 84.1%, pt 88.6%, fr 84.1%, de 84.1%.
const MAIN_FLOOR: Record<FixtureLanguage, number> = { en: 0.85, es: 0.78, pt: 0.82, fr: 0.78, de: 0.78 };
// Measured on the first held-out set: 63.7% before it informed the v2 lexicon additions, 92.5% after.
const HOLDOUT_FLOOR = 0.85;
// Measured on the second held-out set (16 texts a language, never tuned on): 60.0% overall.
const HOLDOUT2_FLOOR = 0.55;
// Measured: 100% of the texts get the set's language with the hint, 95.5% to 100% without.
const LANGUAGE_FLOOR = { hint: 0.97, noHint: 0.9 };

const NEUTRAL_UNKNOWN: SentimentResult = { language: null, score: 0, label: "neutral" };

function table(scores: LanguageScore[], field: "accuracy" | "languageAccuracy"): string {
  return scores.map((s) => `${s.language} ${(s[field] * 100).toFixed(1)}% (${s.texts})`).join(", ");
}

describe("accuracy on the labelled sets", () => {
  it("meets the per-language floor on the main set, with the page locale as hint", async () => {
    const scores = await Promise.all(FIXTURE_LANGUAGES.map((l) => scoreLanguage(l, { hint: true, set: "main" })));
    console.info(`sentiment accuracy (main set, hint): ${table(scores, "accuracy")}`);
    for (const s of scores) {
      expect(s.texts).toBeGreaterThanOrEqual(40);
      for (const label of ["positive", "neutral", "negative"] as const) expect(s.byLabel[label].texts).toBeGreaterThan(5);
      expect(s.accuracy, `${s.language}: ${JSON.stringify(s.misses.slice(0, 5))}`).toBeGreaterThanOrEqual(MAIN_FLOOR[s.language]);
    }
  });

  it.each([
    ["holdout", HOLDOUT_FLOOR],
    ["holdout2", HOLDOUT2_FLOOR],
  ] as const)("stays above the overall floor on the %s set", async (set, floor) => {
    const scores = await Promise.all(FIXTURE_LANGUAGES.map((l) => scoreLanguage(l, { hint: true, set })));
    const texts = scores.reduce((n, s) => n + s.texts, 0);
    const accuracy = scores.reduce((n, s) => n + s.accuracy * s.texts, 0) / texts;
    console.info(`sentiment accuracy (${set} set, hint): ${table(scores, "accuracy")}; all ${(accuracy * 100).toFixed(1)}%`);
    expect(texts).toBe(80);
    expect(accuracy).toBeGreaterThanOrEqual(floor);
  });

  it("does clearly better than nlp.js's SentimentAnalyzer as shipped (true language given, all sets)", async () => {
    const plugins = { en: langEn.LangEn, es: langEs.LangEs, pt: langPt.LangPt, fr: langFr.LangFr, de: langDe.LangDe };
    let ours = 0;
    let theirs = 0;
    let texts = 0;
    for (const language of FIXTURE_LANGUAGES) {
      const container = new nlpCore.Container();
      container.use(plugins[language]);
      const analyzer = new nlpSentiment.SentimentAnalyzer({ container });
      for (const set of FIXTURE_SETS) {
        for (const item of loadSentimentFixture(language, set)) {
          const { sentiment } = await analyzer.process({ locale: language, text: item.text });
          if (sentiment.vote === item.label) theirs += 1;
          if ((await analyzeSentiment(item.text, { languageHint: language })).label === item.label) ours += 1;
          texts += 1;
        }
      }
    }
    console.info(`all ${texts} texts: ours ${((ours / texts) * 100).toFixed(1)}%, nlp.js as-is ${((theirs / texts) * 100).toFixed(1)}%`);
    expect(ours - theirs).toBeGreaterThanOrEqual(0.15 * texts);
  });

  it("as a case trigger, the negative label is mostly right on unseen text (second held-out set)", async () => {
    let flagged = 0;
    let right = 0;
    let negatives = 0;
    for (const language of FIXTURE_LANGUAGES) {
      for (const item of loadSentimentFixture(language, "holdout2")) {
        const { label } = await analyzeSentiment(item.text, { languageHint: language });
        if (item.label === "negative") negatives += 1;
        if (label === "negative") {
          flagged += 1;
          if (item.label === "negative") right += 1;
        }
      }
    }
    console.info(`negative label on holdout2: precision ${right}/${flagged}, recall ${right}/${negatives}`);
    // Measured 16/18 precise, 16/30 caught.
    expect(right / flagged).toBeGreaterThanOrEqual(0.8);
    expect(right / negatives).toBeGreaterThanOrEqual(0.45);
  });

  it("detects the language of the labelled texts, with and without a hint", async () => {
    const hinted = await Promise.all(FIXTURE_LANGUAGES.map((l) => scoreLanguage(l, { hint: true, set: "main" })));
    const unhinted = await Promise.all(FIXTURE_LANGUAGES.map((l) => scoreLanguage(l, { hint: false, set: "main" })));
    console.info(`language detection (main set): hint ${table(hinted, "languageAccuracy")}; no hint ${table(unhinted, "languageAccuracy")}`);
    for (const s of hinted) expect(s.languageAccuracy, s.language).toBeGreaterThanOrEqual(LANGUAGE_FLOOR.hint);
    for (const s of unhinted) expect(s.languageAccuracy, s.language).toBeGreaterThanOrEqual(LANGUAGE_FLOOR.noHint);
  });

  it("keeps score in [-1, 1] and the label consistent with it", async () => {
    for (const language of FIXTURE_LANGUAGES) {
      for (const item of loadSentimentFixture(language)) {
        const r = await analyzeSentiment(item.text);
        expect(r.score).toBeGreaterThanOrEqual(-1);
        expect(r.score).toBeLessThanOrEqual(1);
        const expected = r.score >= NEUTRAL_BAND ? "positive" : r.score <= -NEUTRAL_BAND ? "negative" : "neutral";
        expect(r.label, item.text).toBe(expected);
      }
    }
  });
});

describe("edge cases", () => {
  it.each([[""], ["   "], ["\n\t  \r\n"]])("empty or blank text %j is neutral with no language", async (text) => {
    expect(await analyzeSentiment(text)).toEqual(NEUTRAL_UNKNOWN);
    expect(await analyzeSentiment(text, { languageHint: "en" })).toEqual(NEUTRAL_UNKNOWN);
  });

  it("text without letters (emoji, digits, punctuation) has no language, so it is neutral, hint or not", async () => {
    for (const text of ["😍😍👍", "😡😡", "10/10", "!!!", "👎"]) {
      expect(await analyzeSentiment(text), text).toEqual(NEUTRAL_UNKNOWN);
      expect(await analyzeSentiment(text, { languageHint: "es" }), text).toEqual(NEUTRAL_UNKNOWN);
    }
  });

  it("counts emoji next to words", async () => {
    const withLove = await analyzeSentiment("Arrived today 😍😍", { languageHint: "en" });
    const withAnger = await analyzeSentiment("Arrived today 😡😡", { languageHint: "en" });
    expect(withLove.label).toBe("positive");
    expect(withAnger.label).toBe("negative");
  });

  it("analyses only the first MAX_ANALYSED_CHARS characters of a very long text, quickly", async () => {
    const praise = "Beautiful dress, excellent quality and fast delivery. ";
    const complaint = "Terrible, broken, awful, the worst purchase ever, a scam. ";
    const head = praise.repeat(Math.ceil(MAX_ANALYSED_CHARS / praise.length)).slice(0, MAX_ANALYSED_CHARS);
    const text = head + " " + complaint.repeat(20_000); // ~1.2 MB, all negative after the cap
    expect(text.length).toBeGreaterThan(1_000_000);
    await analyzeSentiment(head); // builds the analyser outside the timing
    const started = performance.now();
    const result = await analyzeSentiment(text);
    const elapsed = performance.now() - started;
    expect(result).toEqual({ ...(await analyzeSentiment(head)), language: "en" });
    expect(result.label).toBe("positive");
    // ~6 ms on the dev machine; generous for a loaded CI box.
    expect(elapsed).toBeLessThan(250);
  });

  it("ignores markup: script and style bodies and tags are not text", async () => {
    const scripted = await analyzeSentiment("<script>alert('excellent, perfect, love it')</script>Terrible, it broke.");
    expect(scripted).toMatchObject({ language: "en", label: "negative" });
    const styled = await analyzeSentiment("<style>.great{color:red}</style><b>Awful</b> service");
    expect(styled).toMatchObject({ language: "en", label: "negative" });
    expect(await analyzeSentiment("<b>Great</b> product")).toMatchObject({ language: "en", label: "positive" });
    // An unterminated script swallows the rest rather than leaking its body into the text.
    expect(await analyzeSentiment("<script>document.write('wonderful')")).toEqual(NEUTRAL_UNKNOWN);
  });

  it("uses the hint to decide short texts that fit several languages", async () => {
    expect(await analyzeSentiment("Excelente", { languageHint: "pt" })).toMatchObject({ language: "pt", label: "positive" });
    expect(await analyzeSentiment("Excelente", { languageHint: "es" })).toMatchObject({ language: "es", label: "positive" });
    expect(await analyzeSentiment("ok", { languageHint: "pt-BR" })).toMatchObject({ language: "pt" });
    expect(await analyzeSentiment("ok", { languageHint: "DE_at" })).toMatchObject({ language: "de" });
  });

  it("mixed-language text: the hint picks among the languages present, not an absent one", async () => {
    expect(await analyzeSentiment("Love it! Muy bonito", { languageHint: "es" })).toMatchObject({ language: "es", label: "positive" });
    expect(await analyzeSentiment("Love it! Muy bonito", { languageHint: "en" })).toMatchObject({ language: "en", label: "positive" });
    expect(await analyzeSentiment("Perfect, obrigada!", { languageHint: "pt" })).toMatchObject({ language: "pt", label: "positive" });
    const absent = await analyzeSentiment("Love it! Muy bonito", { languageHint: "de" });
    expect(["en", "es"]).toContain(absent.language);
    expect(absent.label).toBe("positive");
    // A long text in one language is not overridden by the page locale.
    const english = "The delivery was quick and the quality of the fabric is great, I will order again.";
    expect(await analyzeSentiment(english, { languageHint: "fr" })).toMatchObject({ language: "en", label: "positive" });
  });

  it("returns no language (neutral) for text clearly in an unsupported language, whatever the hint", async () => {
    const italian = "Il prodotto è arrivato in perfette condizioni e la spedizione è stata velocissima, lo consiglio a tutti";
    const dutch = "Het product is heel goed en snel geleverd, echt een aanrader voor iedereen";
    for (const hint of [undefined, "it", "es", "en"]) {
      expect(await analyzeSentiment(italian, { languageHint: hint }), `it/${hint}`).toEqual(NEUTRAL_UNKNOWN);
      expect(await analyzeSentiment(dutch, { languageHint: hint }), `nl/${hint}`).toEqual(NEUTRAL_UNKNOWN);
    }
    // An unsupported hint is ignored rather than trusted.
    expect(await analyzeSentiment("Great service, thank you", { languageHint: "it" })).toMatchObject({ language: "en" });
  });

  it.each([
    ["The product is not good", "en", "negative"],
    ["No problems at all, arrived on time", "en", "positive"],
    ["I didn't like it", "en", "negative"],
    ["Not bad at all", "en", "positive"],
    ["No llegó nunca, pésimo servicio", "es", "negative"],
    ["Sin ningún problema, todo correcto", "es", "positive"],
    ["Não gostei, veio com defeito", "pt", "negative"],
    ["Je ne recommande pas ce vendeur", "fr", "negative"],
    ["Le colis n'est jamais arrivé", "fr", "negative"],
    ["Das gefällt mir nicht", "de", "negative"],
    ["Nicht schlecht, gerne wieder", "de", "positive"],
  ] as const)("negation: %j is %s/%s", async (text, language, label) => {
    expect(await analyzeSentiment(text)).toMatchObject({ language, label });
  });

  it("is deterministic and safe to call concurrently before the analysers exist", async () => {
    const texts = FIXTURE_LANGUAGES.map((l) => loadSentimentFixture(l)[0]!.text);
    const first = await Promise.all(texts.map((t) => analyzeSentiment(t)));
    const second = await Promise.all(texts.map((t) => analyzeSentiment(t)));
    expect(second).toEqual(first);
  });
});
