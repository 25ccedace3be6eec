// The twin's SDL is a strict subset of the real Admin schema (2026-07), and is complete
// where completeness matters: every argument of a kept field, every field of an input
// object, every value of an enum (so the twin accepts and rejects exactly what Shopify
// does for the operations it implements).
import { readFileSync } from "node:fs";
import { buildSchema, getNamedType, isEnumType, isInputObjectType, isObjectType, isInterfaceType, validateSchema } from "graphql";
import { describe, expect, it } from "vitest";
import { generateTwinSdl } from "../twin/generate-schema";
import { TWIN_SCHEMA_PATH, loadRealSchema, subsetDifferences } from "../twin/schema-subset";
import { SHARED_PRESENT, SKIP_REASON } from "./conformance";

describe.skipIf(!SHARED_PRESENT)(`twin schema vs real Admin schema 2026-07${SHARED_PRESENT ? "" : ` (skipped: ${SKIP_REASON})`}`, () => {
  const twin = buildSchema(readFileSync(TWIN_SCHEMA_PATH, "utf8"));
  const real = loadRealSchema();

  it("is a valid schema on its own", () => {
    expect(validateSchema(twin).map((e) => e.message)).toEqual([]);
  });

  it("declares only types, fields, arguments, enum values and union members that exist in the real schema, with the same types", () => {
    expect(subsetDifferences(twin, real)).toEqual([]);
  });

  it("keeps every argument of each field, every input field and every enum value", () => {
    const gaps: string[] = [];
    for (const [name, t] of Object.entries(twin.getTypeMap())) {
      if (name.startsWith("__")) continue;
      const r = real.getType(name);
      if (isInputObjectType(t) && isInputObjectType(r)) {
        for (const f of Object.keys(r.getFields())) if (!t.getFields()[f]) gaps.push(`input ${name}.${f}`);
      } else if (isEnumType(t) && isEnumType(r)) {
        for (const v of r.getValues()) if (!t.getValue(v.name)) gaps.push(`enum ${name}.${v.name}`);
      } else if ((isObjectType(t) || isInterfaceType(t)) && (isObjectType(r) || isInterfaceType(r))) {
        for (const f of Object.values(t.getFields())) {
          const rf = r.getFields()[f.name]!;
          for (const a of rf.args) if (!f.args.some((x) => x.name === a.name)) gaps.push(`argument ${name}.${f.name}(${a.name})`);
          // every type an argument needs is present
          for (const a of f.args) if (!twin.getType(getNamedType(a.type).name)) gaps.push(`type of ${name}.${f.name}(${a.name})`);
        }
      }
    }
    expect(gaps).toEqual([]);
  });

  it("is what the manifest generates (tests/twin/generate-schema.ts)", () => {
    expect(readFileSync(TWIN_SCHEMA_PATH, "utf8")).toBe(generateTwinSdl());
  });
});
