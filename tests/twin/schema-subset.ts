// Tools for the twin's SDL: cut a strict subset out of the real Admin schema
// (../shared/shopify/admin-2026-07.graphql) from a manifest, and check that an SDL
// is a strict subset of the real one (same names, types, nullability, arguments).
//
// Rules of the cut, chosen so that the twin fails only where it really lacks a
// feature, never where Shopify would accept the request:
// - object and interface types keep only the fields the manifest lists;
// - every listed field keeps ALL of its arguments (so no false argumentNotAccepted);
// - input objects and enums are copied whole, transitively (so a variable that
//   Shopify accepts is accepted by the twin, and one it rejects is rejected);
// - a union keeps the members the manifest lists; an object keeps the interfaces
//   the manifest lists.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isSpecifiedScalarType,
  isUnionType,
  print,
  validateSchema,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLNamedType,
  type GraphQLSchema,
} from "graphql";

const here = dirname(fileURLToPath(import.meta.url));
export const SHARED_SHOPIFY_DIR = resolve(here, "../../../shared/shopify");
export const REAL_SCHEMA_PATH = resolve(SHARED_SHOPIFY_DIR, "admin-2026-07.graphql");
export const TWIN_SCHEMA_PATH = resolve(here, "schema.graphql");

/** Output types (objects, interfaces, unions) and the fields / members the twin keeps. */
export type SchemaManifest = Record<string, readonly string[]>;

let realSchemaCache: GraphQLSchema | undefined;
export function loadRealSchema(path = REAL_SCHEMA_PATH): GraphQLSchema {
  if (path === REAL_SCHEMA_PATH && realSchemaCache) return realSchemaCache;
  // assumeValid: graphql 17 adds a schema rule (an implementation may not deprecate a field
  // its interface does not) that the live Shopify schema breaks, e.g. Customer.hasTimelineComment.
  // The SDL comes from a live introspection, so it is valid for Shopify by definition.
  const schema = buildSchema(readFileSync(path, "utf8"), { assumeValidSDL: true, assumeValid: true });
  if (path === REAL_SCHEMA_PATH) realSchemaCache = schema;
  return schema;
}

const deprecation = (reason: string | null | undefined) =>
  reason == null ? "" : ` @deprecated(reason: ${JSON.stringify(reason)})`;

function printDefault(field: GraphQLArgument | GraphQLInputField): string {
  const node = field.astNode;
  return node?.defaultValue ? ` = ${print(node.defaultValue)}` : "";
}

function printArgs(args: readonly GraphQLArgument[]): string {
  if (args.length === 0) return "";
  const parts = args.map((a) => `    ${a.name}: ${String(a.type)}${printDefault(a)}${deprecation(a.deprecationReason)}`);
  return `(\n${parts.join("\n")}\n  )`;
}

export function extractSubsetSdl(real: GraphQLSchema, manifest: SchemaManifest): string {
  const problems: string[] = [];
  const complete = new Set<string>(); // enums, inputs, scalars: copied whole
  const output = new Set<string>(Object.keys(manifest));
  const pending: GraphQLNamedType[] = [];

  const needComplete = (t: GraphQLNamedType) => {
    if (isSpecifiedScalarType(t) || complete.has(t.name)) return;
    complete.add(t.name);
    pending.push(t);
  };
  const needOutput = (t: GraphQLNamedType, from: string) => {
    if (isScalarType(t) || isEnumType(t)) return needComplete(t);
    if (!output.has(t.name)) problems.push(`${from} returns ${t.name}, which the manifest does not list`);
  };

  for (const name of Object.keys(manifest)) {
    const t = real.getType(name);
    if (!t) {
      problems.push(`manifest type ${name} does not exist in the real schema`);
      continue;
    }
    if (isUnionType(t)) {
      for (const member of manifest[name] ?? []) {
        if (!t.getTypes().some((m) => m.name === member)) problems.push(`${member} is not a member of union ${name}`);
        if (!output.has(member)) problems.push(`union member ${name}.${member} is not in the manifest`);
      }
      continue;
    }
    if (!isObjectType(t) && !isInterfaceType(t)) {
      problems.push(`manifest type ${name} is not an object, interface or union`);
      continue;
    }
    const fields = t.getFields();
    for (const fieldName of manifest[name] ?? []) {
      const f = fields[fieldName];
      if (!f) {
        problems.push(`${name}.${fieldName} does not exist in the real schema`);
        continue;
      }
      needOutput(getNamedType(f.type), `${name}.${fieldName}`);
      for (const a of f.args) needComplete(getNamedType(a.type));
    }
  }
  while (pending.length > 0) {
    const t = pending.pop()!;
    if (isInputObjectType(t)) for (const f of Object.values(t.getFields())) needComplete(getNamedType(f.type));
  }
  if (problems.length > 0) throw new Error(`twin schema manifest:\n  ${problems.join("\n  ")}`);

  const blocks: string[] = [];
  const queryName = real.getQueryType()?.name ?? "QueryRoot";
  const mutationName = real.getMutationType()?.name ?? "Mutation";
  blocks.push(`schema {\n  query: ${queryName}\n  mutation: ${mutationName}\n}`);

  for (const name of [...output].sort()) {
    const t = real.getType(name)!;
    if (isUnionType(t)) {
      const members = t.getTypes().filter((m) => manifest[name]!.includes(m.name));
      blocks.push(`union ${name} = ${members.map((m) => m.name).join(" | ")}`);
      continue;
    }
    if (!isObjectType(t) && !isInterfaceType(t)) continue;
    // Keep an interface only where the type also keeps every field the interface keeps.
    const interfaces = t.getInterfaces().filter((i) => output.has(i.name) && manifest[i.name]!.every((f) => manifest[name]!.includes(f)));
    const keyword = isObjectType(t) ? "type" : "interface";
    const impl = interfaces.length > 0 ? ` implements ${interfaces.map((i) => i.name).join(" & ")}` : "";
    const fields = t.getFields();
    const lines = manifest[name]!.map((fieldName) => {
      const f = fields[fieldName] as GraphQLField<unknown, unknown>;
      return `  ${f.name}${printArgs(f.args)}: ${String(f.type)}${deprecation(f.deprecationReason)}`;
    });
    blocks.push(`${keyword} ${name}${impl} {\n${lines.join("\n")}\n}`);
  }
  for (const name of [...complete].sort()) {
    const t = real.getType(name)!;
    if (isScalarType(t)) blocks.push(`scalar ${name}`);
    else if (isEnumType(t)) {
      const values = t.getValues().map((v) => `  ${v.name}${deprecation(v.deprecationReason)}`);
      blocks.push(`enum ${name} {\n${values.join("\n")}\n}`);
    } else if (isInputObjectType(t)) {
      const fields = Object.values(t.getFields()).map(
        (f) => `  ${f.name}: ${String(f.type)}${printDefault(f)}${deprecation(f.deprecationReason)}`,
      );
      blocks.push(`input ${name} {\n${fields.join("\n")}\n}`);
    }
  }
  const sdl = `${blocks.join("\n\n")}\n`;
  const errors = validateSchema(buildSchema(sdl));
  if (errors.length > 0) throw new Error(`twin schema is not valid:\n  ${errors.map((e) => e.message).join("\n  ")}`);
  return sdl;
}

/**
 * Every type, field, argument, input field, enum value, union member and interface the
 * twin declares must exist in the real schema with the same type (incl. nullability)
 * and the same default value. Returns the differences; empty means "strict subset".
 */
export function subsetDifferences(twin: GraphQLSchema, real: GraphQLSchema): string[] {
  const out: string[] = [];
  const sameDefault = (a: GraphQLArgument | GraphQLInputField, b: GraphQLArgument | GraphQLInputField) =>
    (a.astNode?.defaultValue ? print(a.astNode.defaultValue) : null) ===
    (b.astNode?.defaultValue ? print(b.astNode.defaultValue) : null);
  const sameType = (a: unknown, b: unknown) => String(a) === String(b);

  for (const [name, t] of Object.entries(twin.getTypeMap())) {
    if (name.startsWith("__") || (isScalarType(t) && isSpecifiedScalarType(t))) continue;
    const r = real.getType(name);
    if (!r) {
      out.push(`type ${name} is not in the real schema`);
      continue;
    }
    if (r.constructor !== t.constructor) {
      out.push(`type ${name} is a different kind in the real schema`);
      continue;
    }
    if (isEnumType(t) && isEnumType(r)) {
      const realValues = new Set(r.getValues().map((v) => v.name));
      for (const v of t.getValues()) if (!realValues.has(v.name)) out.push(`enum value ${name}.${v.name} is not real`);
    } else if (isUnionType(t) && isUnionType(r)) {
      const members = new Set(r.getTypes().map((m) => m.name));
      for (const m of t.getTypes()) if (!members.has(m.name)) out.push(`union member ${name}.${m.name} is not real`);
    } else if (isInputObjectType(t) && isInputObjectType(r)) {
      const rf = r.getFields();
      for (const f of Object.values(t.getFields())) {
        const g = rf[f.name];
        if (!g) out.push(`input field ${name}.${f.name} is not real`);
        else if (!sameType(f.type, g.type)) out.push(`input field ${name}.${f.name}: ${String(f.type)} vs real ${String(g.type)}`);
        else if (!sameDefault(f, g)) out.push(`input field ${name}.${f.name} has a different default`);
      }
    } else if ((isObjectType(t) && isObjectType(r)) || (isInterfaceType(t) && isInterfaceType(r))) {
      const realInterfaces = new Set(r.getInterfaces().map((i) => i.name));
      for (const i of t.getInterfaces()) if (!realInterfaces.has(i.name)) out.push(`${name} implements ${i.name}, the real type does not`);
      const rf = r.getFields();
      for (const f of Object.values(t.getFields())) {
        const g = rf[f.name];
        if (!g) {
          out.push(`field ${name}.${f.name} is not real`);
          continue;
        }
        if (!sameType(f.type, g.type)) out.push(`field ${name}.${f.name}: ${String(f.type)} vs real ${String(g.type)}`);
        for (const a of f.args) {
          const b = g.args.find((x) => x.name === a.name);
          if (!b) out.push(`argument ${name}.${f.name}(${a.name}) is not real`);
          else if (!sameType(a.type, b.type)) out.push(`argument ${name}.${f.name}(${a.name}): ${String(a.type)} vs real ${String(b.type)}`);
          else if (!sameDefault(a, b)) out.push(`argument ${name}.${f.name}(${a.name}) has a different default`);
        }
      }
    }
  }
  const tq = twin.getQueryType()?.name;
  const tm = twin.getMutationType()?.name;
  if (tq !== real.getQueryType()?.name) out.push(`query root ${tq} differs`);
  if (tm && tm !== real.getMutationType()?.name) out.push(`mutation root ${tm} differs`);
  return out;
}
