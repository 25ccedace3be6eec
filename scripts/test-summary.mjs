// Prints the one-line summary CI reads, from Vitest's JSON report:
//   tests: 123 passed, 0 failed[, 4 skipped]
import { readFileSync } from "node:fs";

const file = process.argv[2] ?? "test-results/vitest.json";
let report;
try {
  report = JSON.parse(readFileSync(file, "utf8"));
} catch (error) {
  console.error(`test-summary: cannot read ${file}: ${error.message}`);
  console.log("tests: 0 passed, 1 failed");
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
const failed = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0 ? 0 : 0);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
// A file that failed to load counts as a failure even though it ran no test.
const brokenFiles = (report.testResults ?? []).filter((r) => r.status === "failed" && (r.assertionResults ?? []).length === 0).length;
const totalFailed = failed + brokenFiles;
console.log(`tests: ${passed} passed, ${totalFailed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(totalFailed > 0 || passed === 0 ? 1 : 0);
