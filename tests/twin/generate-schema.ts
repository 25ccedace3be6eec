// Regenerates tests/twin/schema.graphql from the manifest and the real Admin schema.
// Usage: npx tsx tests/twin/generate-schema.ts
import { writeFileSync } from "node:fs";
import { TWIN_SCHEMA_MANIFEST } from "./schema-manifest";
import { TWIN_SCHEMA_PATH, extractSubsetSdl, loadRealSchema } from "./schema-subset";

export const TWIN_SCHEMA_HEADER =
  "# The Shopify twin's Admin GraphQL schema: a strict subset of Admin API 2026-07\n" +
  "# (../shared/shopify/admin-2026-07.graphql). Generated from tests/twin/schema-manifest.ts by\n" +
  "# `npx tsx tests/twin/generate-schema.ts`; do not hand-edit.\n\n";

export function generateTwinSdl(): string {
  return TWIN_SCHEMA_HEADER + extractSubsetSdl(loadRealSchema(), TWIN_SCHEMA_MANIFEST);
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(TWIN_SCHEMA_PATH, generateTwinSdl());
  console.log(`wrote ${TWIN_SCHEMA_PATH}`);
}
