/**
 * Text sentiment of feedback comments and reviews in en, es, pt, fr and de.
 *
 * NPS and star ratings are the primary signal; this only refines them (docs/feedback-sentiment.md,
 * docs/decisions/033-sentiment-nlpjs-with-domain-lexicon.md).
 *
 * - Language: nlp.js's trigram guesser (`@nlpjs/language`) restricted to the supported languages,
 *   combined with votes from distinctive function words and letters (ñ, ã, ß...) because trigrams
 *   alone are unreliable on short texts; `languageHint` (the shop's or answer page's locale) tips
 *   the balance when the text is short or ambiguous. Text clearly in another language -> null.
 * - Polarity: the language's nlp.js lexicon (SentiCon / AFINN / Pattern, fetched through
 *   `SentimentAnalyzer.getDictionary` from a Container with the language plugin) and its stemmer,
 *   plus the domain lexicon in ./sentiment-lexicon.ts, scored with clause-bounded negation,
 *   intensifiers and "but" weighting. nlp.js's own scoring is not used: its negation never ends
 *   (after one "no" every later word of the text is inverted) and it scores function words; the
 *   bench compares it (`nlp.js as-is`).
 *
 * Pure apart from loading the libraries: no I/O, no clock. Analysers (and the nlp.js language
 * packages) are loaded lazily, once per language, and shared.
 */
import nlpCore from "@nlpjs/core";
import nlpSentiment from "@nlpjs/sentiment";
import nlpLanguage from "@nlpjs/language";
import { LEXICONS, SYMBOL_SCORES, type SupportedLanguage } from "./sentiment-lexicon";

export type SentimentLabel = "positive" | "neutral" | "negative";
export type SentimentResult = { language: string | null; score: number; label: SentimentLabel };

export const SUPPORTED_LANGUAGES: readonly SupportedLanguage[] = ["en", "es", "pt", "fr", "de"];
/** Only the first characters are analysed: bounded time and memory for any input. */
export const MAX_ANALYSED_CHARS = 5000;
/** |score| below this is neutral. score = S / sqrt(S^2 + 15) of the summed term scores S (VADER's normalisation). */
export const NEUTRAL_BAND = 0.15;

/** The language packages (lexicons, stemmers, ~140 ms and ~15 MB together) load on first use. */
const LANGUAGE_PLUGINS: Record<SupportedLanguage, () => Promise<unknown>> = {
  en: async () => (await import("@nlpjs/lang-en")).default.LangEn,
  es: async () => (await import("@nlpjs/lang-es")).default.LangEs,
  pt: async () => (await import("@nlpjs/lang-pt")).default.LangPt,
  fr: async () => (await import("@nlpjs/lang-fr")).default.LangFr,
  de: async () => (await import("@nlpjs/lang-de")).default.LangDe,
};

/** nlp.js lexicons use different scales; bring them near the domain lexicon's -4..4 without letting them dominate. */
const LIBRARY_SCALE = { senticon: 1, pattern: 1, afinn: 0.4 } as const;
/** Weaker nlp.js entries are ignored: on short comments they are mostly noise (see the bench). */
const LIBRARY_MINIMUM = { senticon: 0.3, pattern: 0.3, afinn: 1 } as const;
const NEGATION_FACTOR = -0.75;
const NEGATION_WINDOW = 3;
const INTENSIFIER_FACTOR = 1.3;
const BEFORE_CONTRAST = 0.5;
const AFTER_CONTRAST = 1.5;
const NORMALISATION_ALPHA = 15;
const STEM_CACHE_RESET_EVERY = 50_000;

type Stemmer = { stemWord(word: string): string; cache: Record<string, string> };
type Stopwords = { isStopword(word: string): boolean };

type Analyser = {
  stem(word: string): string;
  /** nlp.js lexicon score of a word (already scaled), 0 when absent, weak or a stopword. */
  libraryScore(word: Extract<Token, { kind: "word" }>): number;
  terms: Map<string, number>;
  /** Every proper prefix of a multi-word term: phrase matching stops as soon as none fits. */
  termPrefixes: Set<string>;
  negations: Set<string>;
  intensifiers: Set<string>;
  contrasts: Set<string>;
};

const analysers = new Map<SupportedLanguage, Promise<Analyser>>();

function getAnalyser(language: SupportedLanguage): Promise<Analyser> {
  let analyser = analysers.get(language);
  if (!analyser) {
    analyser = buildAnalyser(language);
    analysers.set(language, analyser);
    // A failed build must not be cached forever.
    analyser.catch(() => analysers.delete(language));
  }
  return analyser;
}

async function buildAnalyser(language: SupportedLanguage): Promise<Analyser> {
  const container = new nlpCore.Container();
  container.use(await LANGUAGE_PLUGINS[language]());
  const stemmer = container.get(`stemmer-${language}`) as Stemmer | undefined;
  if (!stemmer) throw new Error(`nlp.js has no stemmer for ${language}`);
  const analyzer = new nlpSentiment.SentimentAnalyzer({ container });
  const { sentimentDictionary } = await analyzer.getDictionary({ locale: language });
  if (!sentimentDictionary.type || !sentimentDictionary.dictionary) {
    throw new Error(`nlp.js has no sentiment lexicon for ${language}`);
  }
  let stemCalls = 0;
  const stem = (word: string): string => {
    // nlp.js stemmers memoise every word they see, without bound: start over now and then.
    if (++stemCalls % STEM_CACHE_RESET_EVERY === 0) stemmer.cache = {};
    return stemmer.stemWord(word);
  };
  const stopwords = container.get(`stopwords-${language}`) as Stopwords | undefined;
  const library = sentimentDictionary.dictionary;
  const scale = LIBRARY_SCALE[sentimentDictionary.type];
  const minimum = LIBRARY_MINIMUM[sentimentDictionary.type];
  const libraryScore = (word: Extract<Token, { kind: "word" }>): number => {
    // The shipped lexicons give polarity to function words ("to" +0.375, "un" -0.375): ignore
    // stopwords and weak entries, which are mostly noise on short comments.
    if (stopwords && (stopwords.isStopword(word.raw) || stopwords.isStopword(word.text))) return 0;
    const value = library[stem(word.text)];
    if (value === undefined || Math.abs(value) < minimum) return 0;
    return value * scale;
  };
  const lexicon = LEXICONS[language];
  const terms = new Map<string, number>();
  const termPrefixes = new Set<string>();
  for (const [phrase, value] of Object.entries(lexicon.terms)) {
    const stems = tokenize(phrase)
      .filter((t) => t.kind === "word")
      .map((t) => stem(t.text));
    if (stems.length === 0) continue;
    terms.set(stems.join(" "), value);
    for (let n = 1; n < stems.length; n += 1) termPrefixes.add(stems.slice(0, n).join(" "));
  }
  const normalisedSet = (words: readonly string[]) => new Set(words.map(normaliseWord));
  return {
    stem,
    libraryScore,
    terms,
    termPrefixes,
    negations: normalisedSet(lexicon.negations),
    intensifiers: normalisedSet(lexicon.intensifiers),
    contrasts: normalisedSet(lexicon.contrasts),
  };
}

// ---------------------------------------------------------------------------------------------
// Text preparation

/** Removes markup a comment may carry (script/style bodies entirely) and caps the length. */
export function cleanText(text: string): string {
  return text
    .slice(0, MAX_ANALYSED_CHARS * 2)
    .replace(/<(script|style)\b[^>]*>[\s\S]*?(<\/\1\s*>|$)/gi, " ")
    .replace(/<[^>]{0,500}>/g, " ")
    .replace(/&(amp|lt|gt|quot|#39|apos|nbsp);/g, (_m, e: string) =>
      ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", apos: "'", nbsp: " " })[e] ?? " ",
    )
    .replace(/[\u2019\u2018`´]/g, "'")
    .slice(0, MAX_ANALYSED_CHARS);
}

function normaliseWord(word: string): string {
  return word.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

type Token =
  | { kind: "word"; text: string; raw: string }
  | { kind: "symbol"; text: string }
  | { kind: "comma" }
  | { kind: "stop" };

const TOKEN_PATTERN =
  /(:-?\)|:-?\(|:D)|(\p{Extended_Pictographic}\uFE0F?)|([\p{L}\p{N}]+)|([.!?;\n\u00a1\u00bf]+)|([,:()\u2013\u2014-])/gu;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  // English contractions: "didn't" -> "did not", so negation sees a word.
  const expanded = text.replace(/n't\b/gi, " not");
  for (const m of expanded.matchAll(TOKEN_PATTERN)) {
    if (m[1] || m[2]) tokens.push({ kind: "symbol", text: (m[1] ?? m[2]) as string });
    else if (m[3]) tokens.push({ kind: "word", text: normaliseWord(m[3]), raw: m[3].toLowerCase() });
    else if (m[4]) tokens.push({ kind: "stop" });
    else tokens.push({ kind: "comma" });
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Language

const languageGuesser = new nlpLanguage.Language();

type LanguageVotes = { markers: Set<string>; letters: RegExp | null; letterWeight: number };

const LANGUAGE_VOTES: Record<SupportedLanguage, LanguageVotes> = buildLanguageVotes();

function buildLanguageVotes(): Record<SupportedLanguage, LanguageVotes> {
  const letters: Record<SupportedLanguage, [RegExp | null, number]> = {
    en: [null, 0],
    es: [/[ñ¿¡]/, 0.4],
    pt: [/[ãõ]/, 0.4],
    fr: [/[èêëîïûùœ]/, 0.3],
    de: [/[ßäöü]/, 0.4],
  };
  const votes = {} as Record<SupportedLanguage, LanguageVotes>;
  for (const language of SUPPORTED_LANGUAGES) {
    const lexicon = LEXICONS[language];
    const markers = new Set(lexicon.markers.map((w) => w.toLowerCase()));
    for (const key of Object.keys(lexicon.terms)) if (!/[\s']/.test(key)) markers.add(key.toLowerCase());
    const [pattern, weight] = letters[language];
    votes[language] = { markers, letters: pattern, letterWeight: weight };
  }
  return votes;
}

function isSupported(code: string): code is SupportedLanguage {
  return (SUPPORTED_LANGUAGES as readonly string[]).includes(code);
}

function parseHint(hint: string | undefined): SupportedLanguage | null {
  const code = hint?.trim().slice(0, 2).toLowerCase();
  return code && isSupported(code) ? code : null;
}

const HINT_BONUS = 0.5;
const MARKER_WEIGHT = 2;
const DETECTION_WORDS = 150;
/** Shortest text that may be declared "another language"; with a supported page locale as hint, longer. */
const UNSUPPORTED_MIN_LETTERS = 20;
const UNSUPPORTED_MIN_LETTERS_WITH_HINT = 60;
/** Unrestricted trigram score (1 = best) under which our best language counts as clearly beaten. */
const UNSUPPORTED_GAP = 0.85;
/** Texts with fewer letters than this are too short for trigrams to mean much. */
const TRIGRAM_RELIABLE_LETTERS = 40;

/**
 * Picks a supported language or null. Exported for tests and the bench.
 */
export function detectLanguage(text: string, options?: { languageHint?: string }): SupportedLanguage | null {
  return detectFromTokens(cleanText(text), tokenize(cleanText(text)), parseHint(options?.languageHint));
}

function detectFromTokens(text: string, tokens: Token[], hint: SupportedLanguage | null): SupportedLanguage | null {
  // The first words are plenty to tell the language; more only costs time (trigram distances).
  const words: Extract<Token, { kind: "word" }>[] = [];
  for (const t of tokens) {
    if (t.kind === "word" && /\p{L}/u.test(t.raw)) words.push(t);
    if (words.length >= DETECTION_WORDS) break;
  }
  const letterCount = words.reduce((n, w) => n + w.raw.length, 0);
  if (letterCount === 0) return null;
  if (letterCount < 3) return hint;

  const lower = text.slice(0, 2000).toLowerCase();
  const trigramText = words.map((w) => w.raw).join(" ");
  const trigram = new Map<string, number>();
  for (const guess of languageGuesser.guess(trigramText, SUPPORTED_LANGUAGES as string[])) {
    trigram.set(guess.alpha2, guess.score);
  }
  const trigramWeight = Math.min(1, letterCount / TRIGRAM_RELIABLE_LETTERS);
  const scores = SUPPORTED_LANGUAGES.map((language) => {
    const votes = LANGUAGE_VOTES[language];
    let hits = 0;
    for (const w of words) if (votes.markers.has(w.raw) || votes.markers.has(w.text)) hits += 1;
    const markerShare = hits / words.length;
    let score = trigramWeight * (trigram.get(language) ?? 0) + MARKER_WEIGHT * markerShare;
    if (votes.letters?.test(lower)) score += votes.letterWeight;
    if (language === hint) score += HINT_BONUS;
    return { language, score, markerShare };
  }).sort((a, b) => b.score - a.score);
  const best = scores[0]!;

  // Clearly another language (Italian, Dutch...): the unrestricted guess prefers it and none of
  // our function words occur. Short texts never get here without trigram weight, so a hint wins.
  if (letterCount >= (hint ? UNSUPPORTED_MIN_LETTERS_WITH_HINT : UNSUPPORTED_MIN_LETTERS) && best.markerShare < 0.25) {
    const all = languageGuesser.guess(trigramText);
    const top = all[0];
    if (top && !isSupported(top.alpha2)) {
      const bestSupported = all.find((g) => isSupported(g.alpha2))?.score ?? 0;
      if (bestSupported < UNSUPPORTED_GAP) return null;
    }
  }
  if (best.score <= 0) return hint;
  return best.language;
}

// ---------------------------------------------------------------------------------------------
// Polarity

type Contribution = { value: number; negated: boolean };

/** Absolute superlatives built on the base word (es "-ísimo", pt "-íssimo"), matched accent-stripped. */
const SUPERLATIVE: Partial<Record<SupportedLanguage, RegExp>> = { es: /isim(o|a|os|as)$/, pt: /issim(o|a|os|as)$/ };

/** Languages whose negation commonly follows what it negates ("das gefällt mir nicht"). */
const POST_NEGATION: ReadonlySet<SupportedLanguage> = new Set(["de"]);

function scoreTokens(tokens: Token[], a: Analyser, language: SupportedLanguage): number {
  let total = 0;
  let sentence: Contribution[] = [];
  let contrastAt = -1;
  let negationLeft = 0;
  let negationUnused = false;
  let clauseStart = 0;
  let intensity = 1;

  const closeClause = () => {
    // Negation after the word it negates ("gefällt mir nicht", "good? not really"): flip the
    // clause's last contribution when the negation found nothing to act on after it.
    if (negationUnused && POST_NEGATION.has(language)) {
      const last = sentence[sentence.length - 1];
      if (last && sentence.length > clauseStart && !last.negated) {
        last.value *= NEGATION_FACTOR;
        last.negated = true;
      }
    }
    negationLeft = 0;
    negationUnused = false;
    intensity = 1;
    clauseStart = sentence.length;
  };
  const closeSentence = () => {
    closeClause();
    sentence.forEach((c, i) => {
      const weight = contrastAt < 0 ? 1 : i < contrastAt ? BEFORE_CONTRAST : AFTER_CONTRAST;
      total += c.value * weight;
    });
    sentence = [];
    contrastAt = -1;
    clauseStart = 0;
  };
  // A phrase that carries its own negation ("n'est jamais arrivé") is not negated again.
  const add = (base: number, carriesNegation = false) => {
    let value = base * intensity;
    const negated = negationLeft > 0 && !carriesNegation;
    if (negated) value *= NEGATION_FACTOR;
    sentence.push({ value, negated: negated || carriesNegation });
    intensity = 1;
    negationUnused = false;
  };

  for (let i = 0; i < tokens.length; ) {
    const token = tokens[i]!;
    if (token.kind === "stop") {
      closeSentence();
      i += 1;
      continue;
    }
    if (token.kind === "comma") {
      closeClause();
      i += 1;
      continue;
    }
    if (token.kind === "symbol") {
      const value = SYMBOL_SCORES[token.text] ?? SYMBOL_SCORES[token.text.replace(/\uFE0F$/, "")];
      if (value !== undefined) sentence.push({ value, negated: false });
      i += 1;
      continue;
    }
    // Longest domain phrase starting here (phrases may contain negation words).
    let matched = 0;
    let phraseValue = 0;
    let phraseNegation = false;
    let key = "";
    let negationSeen = false;
    for (let j = i; j < tokens.length; j += 1) {
      const t = tokens[j]!;
      if (t.kind !== "word") break;
      key = j === i ? a.stem(t.text) : `${key} ${a.stem(t.text)}`;
      negationSeen ||= a.negations.has(t.text);
      const value = a.terms.get(key);
      // A negation word alone is never a term ("no" must stay a negation), only inside a phrase.
      if (value !== undefined && (j > i || !a.negations.has(t.text))) {
        matched = j - i + 1;
        phraseValue = value;
        phraseNegation = negationSeen;
      }
      if (!a.termPrefixes.has(key)) break;
    }
    if (matched > 0) {
      if (a.contrasts.has(token.text)) contrastAt = sentence.length;
      add(phraseValue, phraseNegation);
      negationLeft = Math.max(0, negationLeft - matched);
      i += matched;
      continue;
    }
    i += 1;
    if (a.negations.has(token.text)) {
      negationLeft = NEGATION_WINDOW;
      negationUnused = true;
      continue;
    }
    if (a.contrasts.has(token.text)) {
      contrastAt = sentence.length;
      continue;
    }
    if (a.intensifiers.has(token.text)) {
      intensity = INTENSIFIER_FACTOR;
      continue;
    }
    const superlative = SUPERLATIVE[language]?.exec(token.text);
    if (superlative) {
      // "comodísimas" -> "comodas", "rapidíssima" -> "rapida": the base word, intensified.
      const base = token.text.slice(0, superlative.index) + superlative[1];
      const value = a.terms.get(a.stem(base)) ?? a.libraryScore({ ...token, text: base, raw: base });
      if (value) {
        intensity = INTENSIFIER_FACTOR;
        add(value);
        if (negationLeft > 0) negationLeft -= 1;
        continue;
      }
    }
    const library = a.libraryScore(token);
    if (library) add(library);
    if (negationLeft > 0) negationLeft -= 1;
  }
  closeSentence();
  return total;
}

function labelOf(score: number): SentimentLabel {
  if (score >= NEUTRAL_BAND) return "positive";
  if (score <= -NEUTRAL_BAND) return "negative";
  return "neutral";
}

const NEUTRAL_UNKNOWN: SentimentResult = { language: null, score: 0, label: "neutral" };

/**
 * Sentiment of a free-text comment. `languageHint` (e.g. "pt-BR") decides when detection is unsure.
 * score is in [-1, 1]; label is neutral for |score| < NEUTRAL_BAND. Unsupported or undetectable
 * language (including text without letters) gives { language: null, score: 0, label: "neutral" }.
 */
export async function analyzeSentiment(
  text: string,
  options?: { languageHint?: string },
): Promise<SentimentResult> {
  if (typeof text !== "string" || text.trim() === "") return { ...NEUTRAL_UNKNOWN };
  const cleaned = cleanText(text);
  const tokens = tokenize(cleaned);
  const language = detectFromTokens(cleaned, tokens, parseHint(options?.languageHint));
  if (!language) return { ...NEUTRAL_UNKNOWN };
  const analyser = await getAnalyser(language);
  const sum = scoreTokens(tokens, analyser, language);
  const score = Math.round((sum / Math.sqrt(sum * sum + NORMALISATION_ALPHA)) * 1000) / 1000;
  return { language, score, label: labelOf(score) };
}
