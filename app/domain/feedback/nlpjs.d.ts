/**
 * Minimal type declarations for the parts of nlp.js (CommonJS, untyped) that sentiment.ts uses.
 * Only what we call is declared; see node_modules/@nlpjs/* /src for the implementation.
 */
declare module "@nlpjs/core" {
  export class Container {
    constructor(hasPreffix?: boolean);
    use(item: unknown, name?: string, isSingleton?: boolean, onlyIfNotExists?: boolean): string;
    get(name: string): unknown;
  }
  const core: { Container: typeof Container };
  export default core;
}

declare module "@nlpjs/sentiment" {
  import type { Container } from "@nlpjs/core";
  export type NlpSentimentDictionary = {
    type: "senticon" | "pattern" | "afinn" | undefined;
    dictionary: Record<string, number> | undefined;
    negations: string[];
    stemmed: boolean;
  };
  export type NlpSentimentOutput = {
    sentiment: { score: number; numWords: number; numHits: number; average: number; vote: string };
  };
  export class SentimentAnalyzer {
    constructor(settings?: { container?: Container }, container?: Container);
    getDictionary(input: { locale: string }): Promise<{ locale: string; sentimentDictionary: NlpSentimentDictionary }>;
    process(input: { locale: string; text: string }): Promise<NlpSentimentOutput>;
  }
  const sentiment: { SentimentAnalyzer: typeof SentimentAnalyzer };
  export default sentiment;
}

declare module "@nlpjs/language" {
  export type LanguageGuess = { alpha3: string; alpha2: string; language: string; score: number };
  export class Language {
    guess(utterance: string, allowList?: string[] | null, limit?: number): LanguageGuess[];
    guessBest(utterance: string, allowList?: string[] | null): LanguageGuess | undefined;
  }
  const language: { Language: typeof Language };
  export default language;
}

declare module "@nlpjs/lang-en" {
  const m: { LangEn: unknown };
  export default m;
}
declare module "@nlpjs/lang-es" {
  const m: { LangEs: unknown };
  export default m;
}
declare module "@nlpjs/lang-pt" {
  const m: { LangPt: unknown };
  export default m;
}
declare module "@nlpjs/lang-fr" {
  const m: { LangFr: unknown };
  export default m;
}
declare module "@nlpjs/lang-de" {
  const m: { LangDe: unknown };
  export default m;
}
