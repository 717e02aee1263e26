import { defineConfig } from "vitest/config";

// Three projects: fast unit tests (no Pulumi CLI), end-to-end tests (real CLI, real state), and
// the fault suite (serve under hostile clients, floods, broken APIs and backends; each case bounded).
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
      {
        test: {
          name: "faults",
          include: ["test/faults/**/*.test.ts"],
          globalSetup: ["test/support/build.ts"],
          // Each case bounds its own waits; the soak's length is ESC_SYNC_SOAK_SECONDS (default 120).
          testTimeout: 900_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
