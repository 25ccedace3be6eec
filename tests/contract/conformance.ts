// Reading ../shared/shopify: the real Admin schema and the captured exchanges
// (conformance/<version>/<area>/*.json). Captures come in a few layouts; `exchangesIn`
// normalises them to {query, variables, response}.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import {
  Kind,
  getNamedType,
  isAbstractType,
  isObjectType,
  parse,
  print,
  type GraphQLCompositeType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from "graphql";
import { REAL_SCHEMA_PATH, SHARED_SHOPIFY_DIR } from "../twin/schema-subset";

export const CONFORMANCE_DIR = join(SHARED_SHOPIFY_DIR, "conformance");
export const SHARED_PRESENT = existsSync(REAL_SCHEMA_PATH) && existsSync(CONFORMANCE_DIR);
/** Why contract tests skip on a developer's machine: they need the ground truth that lives beside the project. */
export const SKIP_REASON =
  "../shared/shopify (real Admin schema and conformance captures) is not present; contract tests need it (it is present in CI)";
// In CI the ground truth is always there: its absence is a broken set-up, never a reason to skip.
if (!SHARED_PRESENT && process.env.CI) {
  throw new Error(`CI=${process.env.CI}: ${SKIP_REASON}. Contract tests fail instead of skipping in CI.`);
}

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
export type Exchange = { file: string; path: string; query: string | null; variables: Record<string, unknown>; response: Json };

export function conformanceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".json")) out.push(p);
    }
  };
  walk(CONFORMANCE_DIR);
  return out.sort();
}

export function loadCapture(file: string): Json {
  return JSON.parse(readFileSync(file.startsWith("/") ? file : join(CONFORMANCE_DIR, file), "utf8")) as Json;
}

function unwrap(r: unknown): Json | null {
  if (!r || typeof r !== "object") return null;
  const o = r as Json;
  if (o.body && typeof o.body === "object") return o.body as Json;
  if (o.payload && typeof o.payload === "object") return o.payload as Json;
  if ("data" in o || "errors" in o) return o;
  return null;
}

/** Every {query?, variables, response} found in a capture, in document order (upstreamCalls excluded). */
export function exchangesIn(file: string): Exchange[] {
  const capture = loadCapture(file);
  const out: Exchange[] = [];
  const rel = relative(CONFORMANCE_DIR, file.startsWith("/") ? file : join(CONFORMANCE_DIR, file));
  const walk = (o: unknown, path: string) => {
    if (Array.isArray(o)) return o.forEach((v, i) => walk(v, `${path}[${i}]`));
    if (!o || typeof o !== "object") return;
    const obj = o as Json;
    const response = unwrap(obj.response) ?? unwrap(obj.payload);
    const query = (obj.query ?? obj.document ?? obj.request?.query ?? null) as string | null;
    const variables = (obj.variables ?? obj.request?.variables ?? {}) as Record<string, unknown>;
    if (response && (typeof query === "string" || obj.variables !== undefined)) {
      out.push({ file: rel, path, query: typeof query === "string" ? query : null, variables, response });
    }
    for (const [k, v] of Object.entries(obj)) {
      if (k === "upstreamCalls" || k === "response" || k === "payload" || k === "request") continue;
      walk(v, `${path}.${k}`);
    }
  };
  walk(capture, "");
  return out;
}

export function operationOf(query: string): OperationDefinitionNode | null {
  try {
    const doc = parse(query);
    return (doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode) ?? null;
  } catch {
    return null;
  }
}

export function rootFields(query: string): string[] {
  const op = operationOf(query);
  return op ? op.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : [])) : [];
}

/**
 * A document that selects exactly what a captured response shows (captures that kept
 * the variables and the response but not the document). Abstract types get inline
 * fragments from `__typename` or the gid's type; aliases cannot be recovered and are
 * skipped (compare only the keys the document selects).
 */
export function documentFromResponse(
  schema: GraphQLSchema,
  operation: "query" | "mutation",
  root: string,
  args: Record<string, string>,
  data: Json,
): { query: string; expected: Json } {
  const skipped: string[][] = [];
  const rootType = (operation === "mutation" ? schema.getMutationType() : schema.getQueryType())!;
  const field = rootType.getFields()[root]!;
  const select = (type: GraphQLCompositeType, value: unknown, path: string[] = []): string => {
    const samples = (Array.isArray(value) ? value : [value]).filter((v): v is Json => !!v && typeof v === "object");
    if (samples.length === 0) return isObjectType(type) && type.getFields().id ? "{ id }" : "{ __typename }";
    if (isAbstractType(type)) {
      const byType = new Map<string, Json[]>();
      for (const s of samples) {
        const t = (s.__typename as string | undefined) ?? /^gid:\/\/shopify\/([A-Za-z]+)\//.exec(String(s.id))?.[1];
        if (t) byType.set(t, [...(byType.get(t) ?? []), s]);
      }
      const parts = [...byType].map(([t, vs]) => {
        const concrete = schema.getType(t) as GraphQLObjectType | undefined;
        return concrete ? `... on ${t} ${select(concrete, vs, path)}` : "";
      });
      return `{ __typename ${parts.join(" ")} }`;
    }
    const fields = (type as GraphQLObjectType).getFields();
    const keys = new Set(samples.flatMap((s) => Object.keys(s)));
    const parts: string[] = [];
    for (const key of keys) {
      if (key === "__typename") {
        parts.push("__typename");
        continue;
      }
      const f = fields[key];
      if (!f || f.args.some((a) => String(a.type).endsWith("!"))) {
        skipped.push([...path, key]); // an alias, or a field that needs arguments
        continue;
      }
      const named = getNamedType(f.type);
      if (isObjectType(named) || isAbstractType(named)) {
        const child = samples.map((s) => s[key]).flat();
        if (named.name.endsWith("Connection")) {
          skipped.push([...path, key]); // needs first/last: not recoverable
          continue;
        }
        parts.push(`${key} ${select(named as GraphQLCompositeType, child, [...path, key])}`);
      } else parts.push(key);
    }
    return `{ ${parts.join(" ")} }`;
  };
  const argList = Object.entries(args).map(([name, type]) => `$${name}: ${type}`);
  const argUse = Object.keys(args).map((name) => `${name}: $${name}`);
  const doc = `${operation}${argList.length ? `(${argList.join(", ")})` : ""} { ${root}${argUse.length ? `(${argUse.join(", ")})` : ""} ${select(getNamedType(field.type) as GraphQLCompositeType, data)} }`;
  const expected = structuredClone(data);
  const prune = (value: unknown, path: string[]) => {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (!v || typeof v !== "object") continue;
      if (path.length === 1) delete (v as Json)[path[0]!];
      else prune((v as Json)[path[0]!], path.slice(1));
    }
  };
  for (const p of skipped) prune(expected, p);
  return { query: print(parse(doc)), expected };
}

/** Differences between what Shopify answered and what the twin answered, ignoring ids and times. */
export function diff(expected: unknown, actual: unknown, path = "$", ignore: ReadonlySet<string> = DEFAULT_IGNORE): string[] {
  if (expected === actual) return [];
  if (typeof expected === "string" && typeof actual === "string") {
    const gidE = /^gid:\/\/shopify\/([A-Za-z]+)\//.exec(expected);
    const gidA = /^gid:\/\/shopify\/([A-Za-z]+)\//.exec(actual);
    if (gidE && gidA && gidE[1] === gidA[1]) return [];
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) return [`${path}: expected ${expected.length} items, got ${actual.length} (${JSON.stringify(actual).slice(0, 300)})`];
    return expected.flatMap((e, i) => diff(e, actual[i], `${path}[${i}]`, ignore));
  }
  if (expected && actual && typeof expected === "object" && typeof actual === "object" && !Array.isArray(expected) && !Array.isArray(actual)) {
    const out: string[] = [];
    for (const [k, v] of Object.entries(expected as Json)) {
      if (ignore.has(k)) continue;
      if (!(k in (actual as Json))) out.push(`${path}.${k}: missing`);
      else out.push(...diff(v, (actual as Json)[k], `${path}.${k}`, ignore));
    }
    return out;
  }
  return [`${path}: expected ${JSON.stringify(expected)?.slice(0, 300)}, got ${JSON.stringify(actual)?.slice(0, 300)}`];
}

export const DEFAULT_IGNORE: ReadonlySet<string> = new Set(["createdAt", "updatedAt", "cursor", "startCursor", "endCursor", "legacyResourceId"]);
