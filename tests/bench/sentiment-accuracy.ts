// Feedback sentiment on the hand-labelled sets in tests/fixtures/sentiment: per-language
// accuracy (with and without the page locale as hint) on the main and the held-out sets, language detection accuracy, the
// accuracy of nlp.js's own SentimentAnalyzer on the same texts (baseline, true language given),
// and the analysis throughput. Figures go to docs/feedback-sentiment.md.
//
//   npm run bench:sentiment -- [--seconds 3] [--misses]
import nlpCore from "@nlpjs/core";
import nlpSentiment from "@nlpjs/sentiment";
import langEn from "@nlpjs/lang-en";
import langEs from "@nlpjs/lang-es";
import langPt from "@nlpjs/lang-pt";
import langFr from "@nlpjs/lang-fr";
import langDe from "@nlpjs/lang-de";
import { analyzeSentiment } from "../../app/domain/feedback/sentiment";
import {
  FIXTURE_LANGUAGES,
  FIXTURE_SETS,
  loadSentimentFixture,
  scoreLanguage,
  type FixtureLanguage,
  type FixtureSet,
} from "../fixtures/sentiment/evaluate";

const args = process.argv.slice(2);
const secondsArg = args.indexOf("--seconds");
const SECONDS = secondsArg >= 0 ? Number(args[secondsArg + 1]) : 3;
const SHOW_MISSES = args.includes("--misses");

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** nlp.js as shipped: a Container with the language plugin, SentimentAnalyzer.process, its vote. */
async function baselineAccuracy(language: FixtureLanguage, set: FixtureSet): Promise<number> {
  const plugins = { en: langEn.LangEn, es: langEs.LangEs, pt: langPt.LangPt, fr: langFr.LangFr, de: langDe.LangDe };
  const container = new nlpCore.Container();
  container.use(plugins[language]);
  const analyzer = new nlpSentiment.SentimentAnalyzer({ container });
  const items = loadSentimentFixture(language, set);
  let right = 0;
  for (const item of items) {
    const { sentiment } = await analyzer.process({ locale: language, text: item.text });
    if (sentiment.vote === item.label) right += 1;
  }
  return right / items.length;
}

type Row = { cells: string[]; n: number; hinted: number; unhinted: number; langHinted: number; langUnhinted: number; baseline: number };

async function table(set: FixtureSet): Promise<void> {
  const rows: Row[] = [];
  for (const language of FIXTURE_LANGUAGES) {
    const hinted = await scoreLanguage(language, { hint: true, set });
    const unhinted = await scoreLanguage(language, { hint: false, set });
    const baseline = await baselineAccuracy(language, set);
    const perLabel = (["positive", "neutral", "negative"] as const)
      .map((l) => `${hinted.byLabel[l].right}/${hinted.byLabel[l].texts}`)
      .join(" ");
    rows.push({
      cells: [language, String(hinted.texts), pct(hinted.accuracy), pct(unhinted.accuracy), perLabel, pct(hinted.languageAccuracy), pct(unhinted.languageAccuracy), pct(baseline)],
      n: hinted.texts,
      hinted: hinted.accuracy,
      unhinted: unhinted.accuracy,
      langHinted: hinted.languageAccuracy,
      langUnhinted: unhinted.languageAccuracy,
      baseline,
    });
    if (SHOW_MISSES) {
      for (const m of hinted.misses) console.log(`  miss ${language} expected=${m.expected} got=${m.got} (${m.score}, ${m.language}) ${m.text}`);
      for (const m of unhinted.misses.filter((x) => x.language !== language)) console.log(`  language ${language} -> ${m.language}: ${m.text}`);
    }
  }
  const total = rows.reduce((n, r) => n + r.n, 0);
  const mean = (f: (r: Row) => number) => pct(rows.reduce((sum, r) => sum + f(r) * r.n, 0) / total);
  const all = ["all", String(total), mean((r) => r.hinted), mean((r) => r.unhinted), "", mean((r) => r.langHinted), mean((r) => r.langUnhinted), mean((r) => r.baseline)];
  const header = ["lang", "texts", "accuracy (hint)", "accuracy (no hint)", "pos/neu/neg right (hint)", "language (hint)", "language (no hint)", "nlp.js as-is"];
  const titles: Record<FixtureSet, string> = {
    main: "main set (tests/fixtures/sentiment/<lang>.json, tuned on)",
    holdout: "first held-out set (holdout-<lang>.json, measured once, then tuned on)",
    holdout2: "second held-out set (holdout2-<lang>.json, never tuned on)",
  };
  console.log(`\n${titles[set]}`);
  console.log(`| ${header.join(" | ")} |`);
  console.log(`|${header.map(() => "---").join("|")}|`);
  for (const row of [...rows.map((r) => r.cells), all]) console.log(`| ${row.join(" | ")} |`);
}

for (const set of FIXTURE_SETS) await table(set);

// "Clearly negative text opens a case": how precise is "score <= -t" at catching texts a person
// labelled negative, and how many of those does it catch (page locale as hint)?
async function negativeThresholds(sets: readonly FixtureSet[], title: string): Promise<void> {
  const scored: { score: number; negative: boolean }[] = [];
  for (const set of sets) {
    for (const language of FIXTURE_LANGUAGES) {
      for (const item of loadSentimentFixture(language, set)) {
        const { score } = await analyzeSentiment(item.text, { languageHint: language });
        scored.push({ score, negative: item.label === "negative" });
      }
    }
  }
  const negatives = scored.filter((s) => s.negative).length;
  console.log(`\nnegative text as a case trigger, ${title} (${scored.length} texts, ${negatives} negative)`);
  console.log("| score <= | flagged | precision | recall |");
  console.log("|---|---|---|---|");
  for (const t of [0.15, 0.3, 0.5, 0.7]) {
    const flagged = scored.filter((s) => s.score <= -t);
    const right = flagged.filter((s) => s.negative).length;
    const precision = flagged.length ? pct(right / flagged.length) : "-";
    console.log(`| -${t} | ${flagged.length} | ${precision} | ${pct(right / negatives)} |`);
  }
}
await negativeThresholds(["holdout2"], "second held-out set only");
await negativeThresholds(FIXTURE_SETS, "all sets");

// Throughput: all fixture texts round-robin without hint (language detection included), then
// long texts (one ~20,000-character comment, analysed up to the 5,000-character cap).
const texts = FIXTURE_LANGUAGES.flatMap((l) => loadSentimentFixture(l, "main").map((i) => i.text));
async function throughput(inputs: string[], seconds: number): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  while (performance.now() < end) {
    for (const text of inputs) await analyzeSentiment(text);
    done += inputs.length;
  }
  return done / seconds;
}
await throughput(texts, 0.5); // warm-up: builds the five analysers, JIT
const shortRate = await throughput(texts, SECONDS);
const long = texts.join(" ").repeat(5).slice(0, 20_000);
const longRate = await throughput([long], SECONDS);
console.log(`\nthroughput: ${Math.round(shortRate)} texts/s (fixture texts, mean ${Math.round(texts.join("").length / texts.length)} chars), ${Math.round(longRate)} texts/s (20,000-char text, capped at 5,000)`);
