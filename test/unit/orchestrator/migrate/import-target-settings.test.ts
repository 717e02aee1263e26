/** `migrate import --from` a target that leaves its provider settings to each environment. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { importCommand } from "../../../../orchestrator/commands/migrate.js";
import { ConfigError } from "../../../../orchestrator/errors.js";

describe("migrate import --from a target with providerConfigFrom: environment", () => {
  it("stops before reading anything when the target has no region of its own, naming it and the fix", async () => {
    const dir = mkdtempSync(join(tmpdir(), "esc-sync-import-"));
    const manifest = join(dir, "environments.yaml");
    writeFileSync(
      manifest,
      "version: 1\nsource: { kind: local, folder: envs }\ntargets:\n  sm: { kind: aws-secrets-manager, providerConfigFrom: environment }\n",
    );
    const run = importCommand(
      { manifest, from: "sm", into: "app/prod", path: "environmentVariables", jsonAs: "string", overwrite: false, maxBytes: 65536, dryRun: true, output: "text" },
      { redactor: undefined as never, signal: new AbortController().signal, env: {} },
    );
    await expect(run).rejects.toBeInstanceOf(ConfigError);
    await expect(run).rejects.toThrow(/--from sm: the target has no region in .*environments\.yaml .*set region on the target/);
  });
});
