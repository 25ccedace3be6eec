// The coercion check itself can fail: a log with variables of the wrong type or a missing
// required variable is reported against the real schema.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TAGS_ADD } from "../../app/shopify/admin-documents";
import { loadRealSchema } from "../twin/schema-subset";
import { SHARED_PRESENT, SKIP_REASON } from "./conformance";
import { coerceLoggedVariables } from "./variables-coerce";

describe.skipIf(!SHARED_PRESENT)(`coercing logged variables against the real Admin schema${SHARED_PRESENT ? "" : ` (${SKIP_REASON})`}`, () => {
  it("accepts what the app sends and reports wrong types and missing variables", () => {
    const log = join(mkdtempSync(join(tmpdir(), "coerce-")), "requests.jsonl");
    const line = (variables: unknown) => JSON.stringify({ query: TAGS_ADD, variables, operationName: null });
    writeFileSync(log, [line({ id: "gid://shopify/Customer/1", tags: ["crm:vip"] }), line({ id: "gid://shopify/Customer/1", tags: 42 }), line({ tags: ["x"] })].join("\n") + "\n");
    const report = coerceLoggedVariables(log, loadRealSchema());
    expect(report.requests).toBe(3);
    expect(report.errors).toHaveLength(2);
    expect(report.errors[0]).toMatch(/tags/);
    expect(report.errors[1]).toMatch(/\$id/);
  });
});
