import { defineConfig } from "vitest/config";

// Two projects: fast unit tests (no Pulumi CLI) and end-to-end tests (real CLI, real state).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          globalSetup: ["test/support/build.ts"],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          // End-to-end files share the machine's two cores with the Pulumi engine: one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
