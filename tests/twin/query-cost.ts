// Shopify's calculated query cost, as the twin charges it.
//
// Documented rules (shopify.dev rate-limits page, PLATFORM.md 3.7): scalar and enum 0,
// object 1, interface/union the maximum over the possible types, connection sized by
// first/last, mutation 10, single query maximum 1,000. The details below were fitted
// to the requestedQueryCost / actualQueryCost values in ../shared/shopify/conformance
// (see tests/contract/query-cost.test.ts, which measures the agreement):
// - a connection costs 2 + size(first|last) x (cost of one node); size grows
//   sub-linearly: 1->1, 2->2, 3->2, 5->3, 10->4, 20->5, 50->7, 250->11;
//   pageInfo and cursors are free;
// - a *Count field (customersCount, ordersCount, ...) costs 10;
// - a mutation field costs 10 plus what its payload selects below the payload's
//   direct children (tagsAdd { node { id } } = 10, customerCreate { customer {
//   defaultEmailAddress { .. } } } = 11);
// - a few fields have a defined cost of 0 (FIELD_COSTS).
// actualQueryCost applies the same rules to what was returned: a null object costs 0
// and a connection is sized by the number of nodes it returned.
import {
  Kind,
  getNamedType,
  isAbstractType,
  isLeafType,
  isObjectType,
  valueFromASTUntyped,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";

export const MAX_SINGLE_QUERY_COST = 1000;
export const MUTATION_COST = 10;
export const COUNT_COST = 10;

/** Fields whose defined cost differs from the default for their return type. */
export const FIELD_COSTS: Record<string, number> = {
  "Customer.defaultAddress": 0,
};

const SIZE_POINTS: [number, number][] = [
  [1, 1],
  [2, 1],
  [3, 2],
  [5, 3],
  [10, 4],
  [20, 5],
  [50, 7],
  [250, 11],
];
/** Object types whose fields cost nothing (money values are computed on the parent). */
export const TYPE_COSTS: Record<string, number> = {
  MoneyBag: 0,
  MoneyV2: 0,
};

export function connectionSize(n: number): number {
  if (!Number.isFinite(n) || n <= 0) return 0;
  for (let i = 0; i < SIZE_POINTS.length; i++) {
    const [x, y] = SIZE_POINTS[i]!;
    if (n === x) return y;
    if (n < x) {
      const [px, py] = SIZE_POINTS[i - 1]!;
      return Math.round(py + ((y - py) * Math.log(n / px)) / Math.log(x / px));
    }
  }
  const [lx, ly] = SIZE_POINTS[SIZE_POINTS.length - 1]!;
  return Math.round(ly * Math.sqrt(n / lx));
}

type Vars = Record<string, unknown>;

type Ctx = {
  schema: GraphQLSchema;
  fragments: Record<string, FragmentDefinitionNode>;
  variables: Vars;
};

function argValue(node: FieldNode, name: string, variables: Vars): unknown {
  const arg = node.arguments?.find((a) => a.name.value === name);
  if (!arg) return undefined;
  return arg.value.kind === Kind.VARIABLE ? variables[arg.value.name.value] : valueFromASTUntyped(arg.value, variables);
}

const isConnectionType = (t: GraphQLCompositeType): t is GraphQLObjectType =>
  isObjectType(t) && t.name.endsWith("Connection") && "pageInfo" in t.getFields();

const isCountType = (t: unknown) => isObjectType(t) && t.name === "Count";

/** Field nodes of a selection set that apply to a concrete type, fragments flattened. */
function fieldsFor(ctx: Ctx, selectionSet: SelectionSetNode, concrete: GraphQLObjectType): FieldNode[] {
  const out: FieldNode[] = [];
  const applies = (typeName: string | undefined) => {
    if (!typeName || typeName === concrete.name) return true;
    const t = ctx.schema.getType(typeName);
    return !!t && isAbstractType(t) && ctx.schema.isSubType(t, concrete);
  };
  const visit = (set: SelectionSetNode) => {
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) out.push(sel);
      else if (sel.kind === Kind.INLINE_FRAGMENT) {
        if (applies(sel.typeCondition?.name.value)) visit(sel.selectionSet);
      } else {
        const frag = ctx.fragments[sel.name.value];
        if (frag && applies(frag.typeCondition.name.value)) visit(frag.selectionSet);
      }
    }
  };
  visit(selectionSet);
  return out;
}

function possibleTypes(ctx: Ctx, t: GraphQLCompositeType): readonly GraphQLObjectType[] {
  return isAbstractType(t) ? ctx.schema.getPossibleTypes(t) : [t as GraphQLObjectType];
}

function fieldDef(t: GraphQLObjectType, name: string): GraphQLField<unknown, unknown> | undefined {
  return t.getFields()[name];
}

// ---------------------------------------------------------------- requested cost

function selectionCost(ctx: Ctx, set: SelectionSetNode | undefined, t: GraphQLCompositeType): number {
  if (!set) return 0;
  let best = 0;
  for (const concrete of possibleTypes(ctx, t)) {
    let sum = 0;
    for (const node of fieldsFor(ctx, set, concrete)) {
      const def = fieldDef(concrete, node.name.value);
      if (def) sum += fieldCost(ctx, node, def, concrete);
    }
    best = Math.max(best, sum);
  }
  return best;
}

function nodeCost(ctx: Ctx, conn: GraphQLObjectType, node: FieldNode): number {
  // The cost of one element of a connection: `nodes { .. }` and `edges { node { .. } }` add up.
  let per = 0;
  const connFields = conn.getFields();
  for (const sub of fieldsFor(ctx, node.selectionSet!, conn)) {
    const def = connFields[sub.name.value];
    if (!def) continue;
    if (sub.name.value === "nodes") per += 1 + selectionCost(ctx, sub.selectionSet, getNamedType(def.type) as GraphQLCompositeType);
    if (sub.name.value === "edges" && sub.selectionSet) {
      const edgeType = getNamedType(def.type) as GraphQLObjectType;
      for (const e of fieldsFor(ctx, sub.selectionSet, edgeType)) {
        const eDef = edgeType.getFields()[e.name.value];
        if (e.name.value === "node" && eDef) per += 1 + selectionCost(ctx, e.selectionSet, getNamedType(eDef.type) as GraphQLCompositeType);
      }
    }
  }
  return per;
}

function fieldCost(ctx: Ctx, node: FieldNode, def: GraphQLField<unknown, unknown>, parent: GraphQLObjectType): number {
  const named = getNamedType(def.type);
  const defined = FIELD_COSTS[`${parent.name}.${def.name}`];
  if (isLeafType(named)) return defined ?? 0;
  if (isCountType(named)) return defined ?? COUNT_COST;
  const composite = named as GraphQLCompositeType;
  if (isConnectionType(composite) && node.selectionSet) {
    const size = Number(argValue(node, "first", ctx.variables) ?? argValue(node, "last", ctx.variables) ?? 0);
    return 2 + connectionSize(size) * nodeCost(ctx, composite, node);
  }
  return (defined ?? TYPE_COSTS[composite.name] ?? 1) + selectionCost(ctx, node.selectionSet, composite);
}

function mutationFieldCost(ctx: Ctx, node: FieldNode, def: GraphQLField<unknown, unknown>): number {
  const payload = getNamedType(def.type);
  if (!node.selectionSet || !isObjectType(payload)) return MUTATION_COST;
  let extra = 0;
  for (const sub of fieldsFor(ctx, node.selectionSet, payload)) {
    const subDef = payload.getFields()[sub.name.value];
    if (!subDef) continue;
    const named = getNamedType(subDef.type);
    if (isLeafType(named)) continue;
    const c = fieldCost(ctx, sub, subDef, payload);
    extra += isConnectionType(named as GraphQLCompositeType) ? c : Math.max(0, c - 1);
  }
  return MUTATION_COST + extra;
}

function rootFields(ctx: Ctx, op: OperationDefinitionNode) {
  const root = op.operation === "mutation" ? ctx.schema.getMutationType() : ctx.schema.getQueryType();
  if (!root) return [];
  return fieldsFor(ctx, op.selectionSet, root).flatMap((node) => {
    const def = root.getFields()[node.name.value];
    return def ? [{ node, def, root }] : [];
  });
}

export function requestedQueryCost(
  schema: GraphQLSchema,
  op: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Vars,
): number {
  const ctx: Ctx = { schema, fragments, variables };
  let total = 0;
  for (const { node, def, root } of rootFields(ctx, op)) {
    if (node.name.value === "__typename") continue;
    total += op.operation === "mutation" ? mutationFieldCost(ctx, node, def) : fieldCost(ctx, node, def, root);
  }
  return total;
}

// ---------------------------------------------------------------- actual cost

type Json = unknown;
const keyOf = (node: FieldNode) => node.alias?.value ?? node.name.value;

function concreteOf(ctx: Ctx, t: GraphQLCompositeType, value: Json): GraphQLObjectType | undefined {
  if (isObjectType(t)) return t;
  const typename = (value as { __typename?: string } | null)?.__typename;
  if (typename) {
    const c = ctx.schema.getType(typename);
    if (c && isObjectType(c)) return c;
  }
  return undefined;
}

function actualSelection(ctx: Ctx, set: SelectionSetNode | undefined, t: GraphQLCompositeType, value: Json): number {
  if (!set || value == null || typeof value !== "object") return 0;
  const concrete = concreteOf(ctx, t, value);
  const candidates = concrete ? [concrete] : possibleTypes(ctx, t);
  let best = 0;
  for (const c of candidates) {
    let sum = 0;
    for (const node of fieldsFor(ctx, set, c)) {
      const def = fieldDef(c, node.name.value);
      if (def) sum += actualField(ctx, node, def, c, (value as Record<string, Json>)[keyOf(node)]);
    }
    best = Math.max(best, sum);
  }
  return best;
}

function actualField(ctx: Ctx, node: FieldNode, def: GraphQLField<unknown, unknown>, parent: GraphQLObjectType, value: Json): number {
  const named = getNamedType(def.type);
  const defined = FIELD_COSTS[`${parent.name}.${def.name}`];
  if (isLeafType(named)) return defined ?? 0;
  if (isCountType(named)) return defined ?? COUNT_COST;
  if (value == null) return 0;
  const composite = named as GraphQLCompositeType;
  if (isConnectionType(composite) && node.selectionSet) {
    const conn = value as { nodes?: Json[]; edges?: { node?: Json }[] };
    const items: Json[] = conn.nodes ?? conn.edges?.map((e) => e.node) ?? [];
    let per = 0;
    const nodesDef = composite.getFields().nodes;
    const itemType = nodesDef ? (getNamedType(nodesDef.type) as GraphQLCompositeType) : undefined;
    if (itemType) {
      for (const sub of fieldsFor(ctx, node.selectionSet, composite)) {
        if (sub.name.value === "nodes") {
          const list = ((value as Record<string, Json>)[keyOf(sub)] ?? []) as Json[];
          for (const item of list) per = Math.max(per, 1 + actualSelection(ctx, sub.selectionSet, itemType, item));
        } else if (sub.name.value === "edges" && sub.selectionSet) {
          const edges = ((value as Record<string, Json>)[keyOf(sub)] ?? []) as Record<string, Json>[];
          const edgeType = getNamedType(composite.getFields().edges!.type) as GraphQLObjectType;
          for (const e of fieldsFor(ctx, sub.selectionSet, edgeType)) {
            if (e.name.value !== "node") continue;
            for (const edge of edges) per = Math.max(per, 1 + actualSelection(ctx, e.selectionSet, itemType, edge[keyOf(e)]));
          }
        }
      }
    }
    return 2 + connectionSize(items.length) * per;
  }
  if (Array.isArray(value)) {
    let best = 0;
    for (const item of value) best = Math.max(best, actualSelection(ctx, node.selectionSet, composite, item));
    return value.length > 0 ? (defined ?? TYPE_COSTS[composite.name] ?? 1) + best : 0;
  }
  return (defined ?? TYPE_COSTS[composite.name] ?? 1) + actualSelection(ctx, node.selectionSet, composite, value);
}

export function actualQueryCost(
  schema: GraphQLSchema,
  op: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Vars,
  data: Record<string, Json> | null | undefined,
): number {
  const ctx: Ctx = { schema, fragments, variables };
  let total = 0;
  for (const { node, def, root } of rootFields(ctx, op)) {
    if (node.name.value === "__typename") continue;
    const value = data?.[keyOf(node)];
    if (op.operation === "mutation") {
      const payload = getNamedType(def.type);
      let extra = 0;
      if (value != null && node.selectionSet && isObjectType(payload)) {
        for (const sub of fieldsFor(ctx, node.selectionSet, payload)) {
          const subDef = payload.getFields()[sub.name.value];
          if (!subDef || isLeafType(getNamedType(subDef.type))) continue;
          const c = actualField(ctx, sub, subDef, payload, (value as Record<string, Json>)[keyOf(sub)]);
          extra += isConnectionType(getNamedType(subDef.type) as GraphQLCompositeType) ? c : Math.max(0, c - 1);
        }
      }
      total += MUTATION_COST + extra;
    } else {
      total += actualField(ctx, node, def, root, value);
    }
  }
  return total;
}

