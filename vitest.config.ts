import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    reporters: ["default", "json"],
    outputFile: { json: "test-results/vitest.json" },
    globalSetup: ["./tests/support/global-setup.ts"],
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["tests/unit/**/*.test.ts"], environment: "node" },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts", "tests/e2e/**/*.test.ts", "tests/twin/**/*.test.ts", "tests/contract/**/*.test.ts"],
          environment: "node",
          // Files share the machine's PostgreSQL and Redis: one at a time keeps timing-
          // sensitive tests honest on 2 cores. Each file still gets its own database.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
