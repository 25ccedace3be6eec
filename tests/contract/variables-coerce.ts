// The contract "the variables the app sends coerce against the real Admin schema": reads a
// twin request log (TWIN_REQUEST_LOG format: one JSON line { query, variables, operationName }
// per Admin GraphQL request) and coerces each request's variables against the operation's
// variable definitions in the real schema (graphql's getVariableValues, what a GraphQL server
// does before executing). Used at the end of the test files that drive the app's Admin calls
// (tag sync, loyalty rewards), so what is checked is what the app really sent.
import { existsSync, readFileSync } from "node:fs";
import { Kind, getVariableValues, parse, type GraphQLSchema, type OperationDefinitionNode } from "graphql";

export type CoercionReport = { requests: number; operations: string[]; errors: string[] };

export function coerceLoggedVariables(logPath: string, schema: GraphQLSchema): CoercionReport {
  const lines = existsSync(logPath) ? readFileSync(logPath, "utf8").split("\n").filter((l) => l.trim() !== "") : [];
  const operations = new Set<string>();
  const errors: string[] = [];
  for (const line of lines) {
    const { query, variables, operationName } = JSON.parse(line) as { query: string; variables?: Record<string, unknown> | null; operationName?: string | null };
    let operation: OperationDefinitionNode | undefined;
    try {
      const ops = parse(query).definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
      operation = operationName ? ops.find((o) => o.name?.value === operationName) : ops[0];
    } catch (error) {
      errors.push(`unparsable request: ${(error as Error).message}`);
      continue;
    }
    if (!operation) {
      errors.push(`no operation ${operationName ?? ""} in a logged request`);
      continue;
    }
    const name = operation.name?.value ?? "(anonymous)";
    operations.add(name);
    const result = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
    if (result.errors) for (const e of result.errors) errors.push(`${name}: ${e.message}`);
  }
  return { requests: lines.length, operations: [...operations].sort(), errors };
}
