// Every Admin GraphQL document the app sends is valid against the real Admin schema
// (2026-07, ../shared/shopify) and against the twin's schema (so the twin can run it).
// Documents are found by their `#graphql` marker in template literals under app/ and jobs/
// (app/shopify/admin-documents.ts holds them); a marked literal with an interpolation fails,
// because it could not be checked here.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse, specifiedRules, validate, type GraphQLSchema } from "graphql";
import { describe, expect, it } from "vitest";
import * as documents from "../../app/shopify/admin-documents";
import { twinSchema } from "../twin/admin-graphql";
import { loadRealSchema } from "../twin/schema-subset";
import { SHARED_PRESENT, SKIP_REASON } from "./conformance";

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|tsx)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** `#graphql` template literals in the app's source: file, text. */
function appDocuments(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const file of [...sourceFiles("app"), ...sourceFiles("jobs")]) {
    const source = readFileSync(file, "utf8");
    for (const m of source.matchAll(/`(#graphql\s*\n[^`]*)`/g)) out.push({ file, text: m[1]! });
  }
  return out;
}

function errorsAgainst(schema: GraphQLSchema, text: string): string[] {
  try {
    return validate(schema, parse(text), specifiedRules).map((e) => e.message);
  } catch (error) {
    return [(error as Error).message];
  }
}

describe("the app's Admin GraphQL documents", () => {
  const found = appDocuments();

  it("are found in the source, static (no interpolation), including every export of admin-documents.ts", () => {
    expect(found.filter((d) => d.text.includes("${")).map((d) => d.file)).toEqual([]);
    const texts = new Set(found.map((d) => d.text));
    const exported = Object.entries(documents).filter(([, v]) => typeof v === "string");
    expect(exported.length).toBeGreaterThanOrEqual(6);
    for (const [name, text] of exported) expect(texts.has(text as string), name).toBe(true);
  });

  it("validate against the twin's schema (the twin can execute them)", () => {
    const schema = twinSchema();
    expect(found.flatMap((d) => errorsAgainst(schema, d.text).map((e) => `${d.file}: ${e}`))).toEqual([]);
  });

  describe.skipIf(!SHARED_PRESENT)(`against the real Admin schema 2026-07${SHARED_PRESENT ? "" : ` (skipped: ${SKIP_REASON})`}`, () => {
    it("validate with no errors", () => {
      const real = loadRealSchema();
      expect(found.flatMap((d) => errorsAgainst(real, d.text).map((e) => `${d.file}: ${e}`))).toEqual([]);
    });

    it("fail validation when they name a field the real schema lacks (the check can fail)", () => {
      const real = loadRealSchema();
      const broken = documents.TAGS_ADD.replace("node { id }", "node { id tagCount }");
      expect(errorsAgainst(real, broken)).toEqual([expect.stringContaining("tagCount")]);
    });
  });
});
