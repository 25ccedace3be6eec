// The twin's requestedQueryCost against the costs Shopify reported in the captures, for
// every captured document the twin's schema covers.
import { Kind, parse, type FragmentDefinitionNode, type OperationDefinitionNode } from "graphql";
import { describe, expect, it } from "vitest";
import { twinSchema } from "../twin/admin-graphql";
import { staticErrors } from "../twin/graphql-errors";
import { requestedQueryCost } from "../twin/query-cost";
import { SHARED_PRESENT, SKIP_REASON, conformanceFiles, exchangesIn } from "./conformance";

describe.skipIf(!SHARED_PRESENT)(`query cost vs captured costs${SHARED_PRESENT ? "" : ` (skipped: ${SKIP_REASON})`}`, () => {
  it("matches Shopify's requestedQueryCost for the captured documents the twin covers", () => {
    const schema = twinSchema();
    const seen = new Set<string>();
    const mismatches: string[] = [];
    let compared = 0;
    for (const f of conformanceFiles())
      for (const ex of exchangesIn(f)) {
        const cost = ex.response.extensions?.cost;
        if (!ex.query || typeof cost?.requestedQueryCost !== "number" || ex.response.errors) continue;
        const key = `${ex.query}\u0000${JSON.stringify(ex.variables)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        let doc;
        try {
          doc = parse(ex.query);
        } catch {
          continue;
        }
        if (staticErrors(schema, doc).length > 0) continue; // not covered by the twin's schema
        if (/\b__(type|schema)\b/.test(ex.query)) continue; // introspection is priced separately by Shopify; not modelled
        const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
        const fragments = Object.fromEntries(doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
        const mine = requestedQueryCost(schema, op, fragments, ex.variables);
        compared++;
        if (mine !== cost.requestedQueryCost) mismatches.push(`${ex.file} ${ex.path}: twin ${mine}, Shopify ${cost.requestedQueryCost}`);
      }
    // The cost model is fitted, not Shopify's per-field table: a few documents differ.
    // Keep the agreement high and the list visible.
    expect(compared).toBeGreaterThanOrEqual(50);
    expect(mismatches.length / compared, mismatches.join("\n")).toBeLessThanOrEqual(0.05);
  });
});
