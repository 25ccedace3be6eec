// Request validation that fails the way Shopify (graphql-ruby) fails, not the way
// graphql-js words it. Shapes are taken from ../shared/shopify/conformance, e.g.
//   {"message":"Field 'code' doesn't exist on type 'UserError'","locations":[..],
//    "path":["mutation Op","draftOrderComplete","userErrors","code"],
//    "extensions":{"code":"undefinedField","typeName":"UserError","fieldName":"code"}}
//   {"message":"Variable $input of type DiscountCodeBasicInput! was provided invalid value for
//    customerGets.value.discountAmount.each (Field is not defined on DiscountAmountInput)",
//    "locations":[..],"extensions":{"code":"INVALID_VARIABLE","value":{..},"problems":[..]}}
// Static errors and variable errors carry no `data` and no `extensions.cost`.
import {
  Kind,
  Lexer,
  Source,
  TokenKind,
  TypeInfo,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isScalarType,
  isUnionType,
  print,
  specifiedRules,
  typeFromAST,
  validate,
  visit,
  visitWithTypeInfo,
  FieldsOnCorrectTypeRule,
  KnownArgumentNamesRule,
  KnownTypeNamesRule,
  NoUndefinedVariablesRule,
  NoUnusedVariablesRule,
  ProvidedRequiredArgumentsRule,
  ScalarLeafsRule,
  ValuesOfCorrectTypeRule,
  VariablesInAllowedPositionRule,
  type ASTNode,
  type ArgumentNode,
  type DocumentNode,
  type FieldNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValueNode,
  type VariableDefinitionNode,
  GraphQLNonNull,
  getNullableType,
  isTypeSubTypeOf,
} from "graphql";

export type Location = { line: number; column: number };
export type ShopifyError = {
  message: string;
  locations?: Location[];
  path?: (string | number)[];
  extensions?: Record<string, unknown>;
};

const GID = /^gid:\/\/[A-Za-z0-9_-]+\/[A-Za-z0-9_]+\/[^/\s]+$/;
export const isGlobalId = (v: string) => GID.test(v);

function loc(node: ASTNode | undefined): Location[] | undefined {
  const l = node?.loc;
  if (!l) return undefined;
  const src = l.source.body;
  let line = 1;
  let col = 1;
  for (let i = 0; i < l.start; i++) {
    if (src.charCodeAt(i) === 10) {
      line++;
      col = 1;
    } else col++;
  }
  return [{ line, column: col }];
}

/** graphql-ruby's inspection of a literal: enums bare, strings quoted, null as null. */
function inspectLiteral(value: ValueNode): string {
  return print(value);
}

// --------------------------------------------------------------------------------
// Scalars: what Shopify accepts for each scalar the twin declares.

type Problem = { path: (string | number)[]; explanation: string; message?: string };

/** graphql 17 keeps SDL defaults in `default`; graphql 16 in `defaultValue`. */
const hasDefault = (x: object) => (x as { defaultValue?: unknown }).defaultValue !== undefined || (x as { default?: unknown }).default !== undefined;

function scalarProblem(typeName: string, value: unknown): Omit<Problem, "path"> | null {
  const show = (v: unknown) => JSON.stringify(v);
  switch (typeName) {
    case "String":
      return typeof value === "string" ? null : { explanation: `Could not coerce value ${show(value)} to String` };
    case "Boolean":
      return typeof value === "boolean" ? null : { explanation: `Could not coerce value ${show(value)} to Boolean` };
    case "Int":
      // graphql-ruby does not range-check Int inputs (discount-numeric-bounds sends 2147483648).
      return typeof value === "number" && Number.isInteger(value) ? null : { explanation: `Could not coerce value ${show(value)} to Int` };
    case "Float":
      return typeof value === "number" && Number.isFinite(value) ? null : { explanation: `Could not coerce value ${show(value)} to Float` };
    case "ID": {
      if (typeof value !== "string" && typeof value !== "number") return { explanation: `Could not coerce value ${show(value)} to ID` };
      const s = String(value);
      if (isGlobalId(s)) return null;
      const m = `Invalid global id '${s}'`;
      return { explanation: m, message: m };
    }
    case "Decimal":
    case "Money":
      return (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim())) || (typeof value === "number" && Number.isFinite(value))
        ? null
        : { explanation: `invalid decimal '${String(value)}'`, message: `invalid decimal '${String(value)}'` };
    case "UnsignedInt64": {
      // conformance 2026-04/discounts/discount-bxgy-numeric-validation
      const s = String(value);
      if (typeof value !== "string" && typeof value !== "number") return { explanation: `Could not coerce value ${show(value)} to UnsignedInt64` };
      if (/^\d+$/.test(s)) return null;
      if (/^-\d+$/.test(s)) return { explanation: `UnsignedInt64 '${s}' is out of range`, message: `UnsignedInt64 '${s}' is out of range` };
      return { explanation: `UnsignedInt64 invalid value '${s}'`, message: `UnsignedInt64 invalid value '${s}'` };
    }
    case "DateTime":
      return typeof value === "string" && !Number.isNaN(Date.parse(value)) ? null : { explanation: `invalid date-time '${String(value)}'` };
    case "URL": {
      if (typeof value !== "string") return { explanation: `Could not coerce value ${show(value)} to URL` };
      try {
        const u = new URL(value);
        return u.host ? null : { explanation: `Invalid url '${value}', missing host`, message: `Invalid url '${value}', missing host` };
      } catch {
        return { explanation: `Invalid url '${value}'`, message: `Invalid url '${value}'` };
      }
    }
    default:
      return null; // JSON and other opaque scalars
  }
}

/** Problems of a JSON value against an input type (graphql-ruby's variable validation). */
export function inputValueProblems(type: GraphQLInputType, value: unknown, path: (string | number)[] = []): Problem[] {
  if (isNonNullType(type)) {
    if (value === null || value === undefined) return [{ path, explanation: "Expected value to not be null" }];
    return inputValueProblems(type.ofType, value, path);
  }
  if (value === null || value === undefined) return [];
  if (isListType(type)) {
    if (!Array.isArray(value)) return inputValueProblems(type.ofType, value, path);
    return value.flatMap((item, i) => inputValueProblems(type.ofType, item, [...path, i]));
  }
  if (isEnumType(type)) {
    if (typeof value === "string" && type.getValue(value)) return [];
    return [{ path, explanation: `Expected ${JSON.stringify(value)} to be one of: ${type.getValues().map((v) => v.name).join(", ")}` }];
  }
  if (isInputObjectType(type)) {
    if (typeof value !== "object" || Array.isArray(value)) return [{ path, explanation: `Expected ${JSON.stringify(value)} to be a key-value object.` }];
    const fields = type.getFields();
    const out: Problem[] = [];
    for (const key of Object.keys(value as object)) {
      if (!fields[key]) out.push({ path: [...path, key], explanation: `Field is not defined on ${type.name}` });
    }
    for (const f of Object.values(fields)) {
      const v = (value as Record<string, unknown>)[f.name];
      if (v === undefined && hasDefault(f)) continue;
      out.push(...inputValueProblems(f.type, v, [...path, f.name]));
    }
    return out;
  }
  if (isScalarType(type)) {
    const p = scalarProblem(type.name, value);
    return p ? [{ path, ...p }] : [];
  }
  return [];
}

export function variableErrors(schema: GraphQLSchema, op: OperationDefinitionNode, variables: Record<string, unknown>): ShopifyError[] {
  const out: ShopifyError[] = [];
  for (const def of op.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    const type = typeFromAST(schema, def.type) as GraphQLInputType | undefined;
    if (!type) continue; // reported by static validation
    const raw = variables[name];
    if (raw === undefined && def.defaultValue) continue;
    const problems = inputValueProblems(type, raw);
    if (problems.length === 0) continue;
    const detail = problems.filter((p) => p.path.length > 0).map((p) => `${p.path.join(".")} (${p.explanation})`);
    out.push({
      message: `Variable $${name} of type ${String(type)} was provided invalid value${detail.length ? ` for ${detail.join(", ")}` : ""}`,
      locations: loc(def),
      extensions: { code: "INVALID_VARIABLE", value: raw === undefined ? null : raw, problems },
    });
  }
  return out;
}

// --------------------------------------------------------------------------------
// Static validation.

const REPLACED_RULES = new Set<unknown>([
  FieldsOnCorrectTypeRule,
  KnownArgumentNamesRule,
  KnownTypeNamesRule,
  NoUndefinedVariablesRule,
  NoUnusedVariablesRule,
  ProvidedRequiredArgumentsRule,
  ScalarLeafsRule,
  ValuesOfCorrectTypeRule,
  VariablesInAllowedPositionRule,
]);
const OTHER_RULES = specifiedRules.filter((r) => !REPLACED_RULES.has(r));

type PathPart = string | number;

export function staticErrors(schema: GraphQLSchema, document: DocumentNode): ShopifyError[] {
  const errors: (ShopifyError & { order: number })[] = [];
  const push = (e: ShopifyError, node: ASTNode | undefined) => errors.push({ ...e, order: node?.loc?.start ?? 0 });
  const typeInfo = new TypeInfo(schema);
  const fieldPath: PathPart[] = [];
  let opLabel = "";
  let opName = "";
  const usedVars = new Set<string>();
  const declared = new Map<string, VariableDefinitionNode>();
  let inFragment = false;
  // Variables used inside fragment definitions count as used by every operation
  // (graphql-ruby follows the spreads; for the twin's documents this is equivalent).
  const fragmentVars = new Set<string>();
  for (const def of document.definitions) {
    if (def.kind !== Kind.FRAGMENT_DEFINITION) continue;
    visit(def, { Variable: (v) => void fragmentVars.add(v.name.value) });
  }

  const literalErrors = (
    value: ValueNode,
    type: GraphQLInputType,
    path: PathPart[],
    owner: { kind: "Field" | "InputObject"; name: string; argument: string },
    argNode: ASTNode,
  ) => {
    if (value.kind === Kind.VARIABLE) {
      usedVars.add(value.name.value);
      if (inFragment) return;
      const declaredNode = declared.get(value.name.value);
      if (declaredNode === undefined) {
        push(
          {
            message: `Variable $${value.name.value} is used by ${opName || "anonymous operation"} but not declared`,
            locations: loc(value),
            path: [...path],
            extensions: { code: "variableNotDefined", variableName: value.name.value },
          },
          value,
        );
      } else {
        const varType = typeFromAST(schema, declaredNode.type) as GraphQLInputType | undefined;
        if (varType) {
          const effective = !isNonNullType(varType) && declaredNode.defaultValue && declaredNode.defaultValue.kind !== Kind.NULL ? new GraphQLNonNull(varType) : varType;
          if (!isTypeSubTypeOf(schema, effective, type)) {
            const nullabilityOnly = isTypeSubTypeOf(schema, new GraphQLNonNull(getNullableType(varType)), type);
            const kind = nullabilityOnly ? "Nullability mismatch" : "Type mismatch";
            push(
              {
                message: `${kind} on variable $${value.name.value} and argument ${owner.argument} (${String(varType)} / ${String(type)})`,
                locations: loc(value),
                path: [...path],
                extensions: { code: "variableMismatch", variableName: value.name.value, typeName: String(varType), argumentName: owner.argument, errorMessage: kind },
              },
              value,
            );
          }
        }
      }
      return;
    }
    const incompatible = (extra?: Record<string, unknown>, message?: string) =>
      push(
        {
          message:
            message ??
            `Argument '${owner.argument}' on ${owner.kind} '${owner.name}' has an invalid value (${inspectLiteral(value)}). Expected type '${String(type)}'.`,
          locations: loc(argNode),
          path: [...path],
          extensions: { code: "argumentLiteralsIncompatible", typeName: owner.kind, argumentName: owner.argument, ...extra },
        },
        argNode,
      );
    if (isNonNullType(type)) {
      if (value.kind === Kind.NULL) return incompatible();
      return literalErrors(value, type.ofType, path, owner, argNode);
    }
    if (value.kind === Kind.NULL) return;
    if (isListType(type)) {
      if (value.kind === Kind.LIST) {
        for (const item of value.values) literalErrors(item, type.ofType, path, owner, argNode);
        return;
      }
      return literalErrors(value, type.ofType, path, owner, argNode);
    }
    if (isInputObjectType(type)) {
      if (value.kind !== Kind.OBJECT) return incompatible();
      const fields = type.getFields();
      for (const f of value.fields) {
        const def = fields[f.name.value];
        if (!def) {
          push(
            {
              message: `InputObject '${type.name}' doesn't accept argument '${f.name.value}'`,
              locations: loc(f),
              path: [...path, f.name.value],
              extensions: { code: "argumentNotAccepted", name: type.name, typeName: "InputObject", argumentName: f.name.value },
            },
            f,
          );
          continue;
        }
        // graphql-ruby locates an invalid nested value at the object literal that holds it
        literalErrors(f.value, def.type, [...path, f.name.value], { kind: "InputObject", name: type.name, argument: f.name.value }, value);
      }
      for (const def of Object.values(fields)) {
        if (!isNonNullType(def.type) || hasDefault(def)) continue;
        if (value.fields.some((f) => f.name.value === def.name)) continue;
        push(
          {
            message: `Argument '${def.name}' on InputObject '${type.name}' is required. Expected type ${String(def.type)}`,
            locations: loc(value),
            path: [...path, def.name],
            extensions: { code: "missingRequiredInputObjectAttribute", argumentName: def.name, argumentType: String(def.type), inputObjectType: type.name },
          },
          value,
        );
      }
      return;
    }
    if (isEnumType(type)) {
      if (value.kind !== Kind.ENUM || !type.getValue(value.value)) return incompatible();
      return;
    }
    if (isScalarType(type)) {
      const raw =
        value.kind === Kind.INT
          ? Number(value.value)
          : value.kind === Kind.FLOAT
            ? Number(value.value)
            : value.kind === Kind.STRING || value.kind === Kind.ENUM
              ? value.value
              : value.kind === Kind.BOOLEAN
                ? value.value
                : undefined;
      const kindOk =
        (type.name === "Int" && value.kind === Kind.INT) ||
        (type.name === "Float" && (value.kind === Kind.INT || value.kind === Kind.FLOAT)) ||
        (type.name === "Boolean" && value.kind === Kind.BOOLEAN) ||
        (type.name === "String" && value.kind === Kind.STRING) ||
        (type.name === "ID" && (value.kind === Kind.STRING || value.kind === Kind.INT)) ||
        !["Int", "Float", "Boolean", "String", "ID"].includes(type.name);
      if (!kindOk || value.kind === Kind.LIST || value.kind === Kind.OBJECT) return incompatible();
      const p = scalarProblem(type.name, type.name === "Int" || type.name === "Float" ? raw : value.kind === Kind.INT ? String(raw) : raw);
      if (p && type.name === "ID") return incompatible({ typeName: "CoercionError", argumentName: undefined }, p.explanation);
      if (p) return incompatible();
    }
  };

  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      OperationDefinition: {
        enter(node) {
          opName = node.name?.value ?? "";
          opLabel = `${node.operation}${opName ? ` ${opName}` : ""}`;
          inFragment = false;
          fieldPath.length = 0;
          fieldPath.push(opLabel);
          usedVars.clear();
          declared.clear();
          for (const def of node.variableDefinitions ?? []) {
            const t = typeFromAST(schema, def.type);
            if (!t) {
              let inner = def.type;
              while (inner.kind !== Kind.NAMED_TYPE) inner = inner.type;
              push(
                {
                  message: `${inner.name.value} isn't a defined input type (on $${def.variable.name.value})`,
                  locations: loc(def),
                  path: [opLabel],
                  extensions: { code: "variableRequiresValidType", typeName: inner.name.value, variableName: def.variable.name.value },
                },
                def,
              );
            }
            declared.set(def.variable.name.value, def);
          }
        },
        leave(node) {
          for (const def of node.variableDefinitions ?? []) {
            const name = def.variable.name.value;
            if (usedVars.has(name) || fragmentVars.has(name)) continue;
            push(
              {
                message: `Variable $${name} is declared by ${opName || "anonymous " + node.operation} but not used`,
                locations: loc(node),
                path: [opLabel],
                extensions: { code: "variableNotUsed", variableName: name },
              },
              node,
            );
          }
        },
      },
      FragmentDefinition: {
        enter(node) {
          fieldPath.length = 0;
          fieldPath.push(`fragment ${node.name.value}`);
          inFragment = true;
          if (!schema.getType(node.typeCondition.name.value)) {
            push(
              {
                message: `No such type ${node.typeCondition.name.value}, so it can't be a fragment condition`,
                locations: loc(node),
                path: [...fieldPath],
                extensions: { code: "undefinedType", typeName: node.typeCondition.name.value },
              },
              node,
            );
          }
        },
      },
      InlineFragment: {
        enter(node) {
          const name = node.typeCondition?.name.value;
          if (name && !schema.getType(name)) {
            push(
              {
                message: `No such type ${name}, so it can't be a fragment condition`,
                locations: loc(node),
                path: [...fieldPath, `... on ${name}`],
                extensions: { code: "undefinedType", typeName: name },
              },
              node,
            );
            return false; // graphql-ruby does not look inside
          }
          return undefined;
        },
      },
      Field: {
        enter(node: FieldNode) {
          const parent = typeInfo.getParentType();
          const def = typeInfo.getFieldDef();
          const key = node.alias?.value ?? node.name.value;
          fieldPath.push(key);
          if (!parent) return undefined;
          if (node.name.value === "__typename") return undefined;
          if (!def) {
            if (isUnionType(parent)) {
              push(
                {
                  message: `Selections can't be made directly on unions (see selections on ${parent.name})`,
                  locations: loc(node),
                  path: [...fieldPath],
                  extensions: { code: "selectionMismatch", nodeName: parent.name },
                },
                node,
              );
            } else {
              push(
                {
                  message: `Field '${node.name.value}' doesn't exist on type '${parent.name}'`,
                  locations: loc(node),
                  path: [...fieldPath],
                  extensions: { code: "undefinedField", typeName: parent.name, fieldName: node.name.value },
                },
                node,
              );
            }
            fieldPath.pop();
            return false;
          }
          const named = getNamedType(def.type);
          if (isLeafType(named) && node.selectionSet) {
            push(
              {
                message: `Selections can't be made on ${isEnumType(named) ? "enums" : "scalars"} (field '${node.name.value}' returns ${named.name} but has selections [${node.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? s.name.value : "...")).join(", ")}])`,
                locations: loc(node),
                path: [...fieldPath],
                extensions: { code: "selectionMismatch", nodeName: `field '${node.name.value}'` },
              },
              node,
            );
          } else if (!isLeafType(named) && !node.selectionSet) {
            push(
              {
                message: `Field must have selections (field '${node.name.value}' returns ${named.name} but has no selections. Did you mean '${node.name.value} { ... }'?)`,
                locations: loc(node),
                path: [...fieldPath],
                extensions: { code: "selectionMismatch", nodeName: `field '${node.name.value}'`, typeName: named.name },
              },
              node,
            );
          }
          const missing = def.args.filter(
            (a) => isNonNullType(a.type) && !hasDefault(a) && !node.arguments?.some((x) => x.name.value === a.name),
          );
          if (missing.length > 0) {
            push(
              {
                message: `Field '${node.name.value}' is missing required arguments: ${missing.map((a) => a.name).join(", ")}`,
                locations: loc(node),
                path: [...fieldPath],
                extensions: { code: "missingRequiredArguments", className: "Field", name: node.name.value, arguments: missing.map((a) => a.name).join(", ") },
              },
              node,
            );
          }
          for (const arg of node.arguments ?? []) checkArgument(arg, node, def.args);
          return undefined;
        },
        leave() {
          fieldPath.pop();
        },
      },
      Directive: {
        enter(node) {
          for (const arg of node.arguments ?? []) {
            const walk = (v: ValueNode) => {
              if (v.kind === Kind.VARIABLE) usedVars.add(v.name.value);
              else if (v.kind === Kind.LIST) v.values.forEach(walk);
              else if (v.kind === Kind.OBJECT) v.fields.forEach((f) => walk(f.value));
            };
            walk(arg.value);
          }
        },
      },
    }),
  );

  function checkArgument(arg: ArgumentNode, field: FieldNode, defs: readonly { name: string; type: GraphQLInputType }[]) {
    const def = defs.find((d) => d.name === arg.name.value);
    const path = [...fieldPath, arg.name.value];
    if (!def) {
      push(
        {
          message: `Field '${field.name.value}' doesn't accept argument '${arg.name.value}'`,
          locations: loc(arg),
          path,
          extensions: { code: "argumentNotAccepted", name: field.name.value, typeName: "Field", argumentName: arg.name.value },
        },
        arg,
      );
      // still count variables as used? graphql-ruby reports them as unused (see capture)
      return;
    }
    literalErrors(arg.value, def.type, path, { kind: "Field", name: field.name.value, argument: arg.name.value }, field);
  }

  const generic = validate(schema, document, OTHER_RULES).map((e) => ({
    message: e.message,
    locations: e.locations ? [...e.locations] : undefined,
    extensions: { code: "validationError" },
    order: e.nodes?.[0]?.loc?.start ?? 0,
  }));
  // graphql-ruby's order: field and argument errors as met, unused variables when the operation ends.
  return [...errors, ...generic].map(({ order: _order, ...e }) => e);
}

/** Shopify rejects any input array over 250 items before executing (captured shape). */
export function inputSizeErrors(
  op: OperationDefinitionNode,
  variables: Record<string, unknown>,
  limitFor: (field: string, arg: string) => number | undefined,
): ShopifyError[] {
  const out: ShopifyError[] = [];
  for (const sel of op.selectionSet.selections) {
    if (sel.kind !== Kind.FIELD) continue;
    for (const arg of sel.arguments ?? []) {
      const value = arg.value.kind === Kind.VARIABLE ? variables[arg.value.name.value] : arg.value.kind === Kind.LIST ? arg.value.values : undefined;
      const limit = limitFor(sel.name.value, arg.name.value) ?? 250;
      if (Array.isArray(value) && value.length > limit) {
        out.push({
          message: `The input array size of ${value.length} is greater than the maximum allowed of ${limit}.`,
          locations: loc(sel),
          path: [sel.alias?.value ?? sel.name.value, arg.name.value],
          extensions: { code: "MAX_INPUT_SIZE_EXCEEDED" },
        });
      }
    }
  }
  return out;
}

export const locationOf = loc;

/**
 * graphql-ruby's parse error text. Hitting the end of the document reads
 * "syntax error, unexpected end of file at [line, col]" with the position of the last
 * token (conformance bulk-operation-run-mutation-validators `parserError`, run-query
 * `emptyQuery`); other failures name the unexpected token.
 */
export function rubySyntaxError(source: string, error: { message: string; locations?: readonly { line: number; column: number }[] }): { message: string; location?: Location } {
  const lexer = new Lexer(new Source(source));
  let last: { line: number; column: number } | undefined;
  try {
    for (let t = lexer.advance(); t.kind !== TokenKind.EOF; t = lexer.advance()) last = { line: t.line, column: t.column };
  } catch {
    // lexing stops at the bad character; `last` is the last good token
  }
  if (/<EOF>/.test(error.message)) {
    return last ? { message: `syntax error, unexpected end of file at [${last.line}, ${last.column}]`, location: last } : { message: "syntax error, unexpected end of file" };
  }
  const at = error.locations?.[0];
  const found = /found (.+?)\.?$/.exec(error.message)?.[1] ?? "token";
  return at ? { message: `syntax error, unexpected ${found} at [${at.line}, ${at.column}]`, location: at } : { message: `syntax error, unexpected ${found}` };
}
