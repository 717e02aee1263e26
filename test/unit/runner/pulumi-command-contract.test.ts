/**
 * The contract esc-sync keeps with the Automation API (the exact @pulumi/pulumi of package.json)
 * to start no CLI process it does not need (orchestrator/runner/pulumi-command.ts): the real SDK
 * drives a fake `pulumi` that logs each call, and the calls must be exactly the operations. When an
 * SDK upgrade moves the seam (`PulumiCommand.run`) or adds reads after an operation, this fails,
 * naming the calls; bench/scale.mjs and test/e2e/unchanged-check.test.ts count the real ones.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as automation from "@pulumi/pulumi/automation/index.js";
import { afterAll, describe, expect, it } from "vitest";
import { leanStack, workspaceOptions } from "../../../orchestrator/runner/stack.js";

const dir = mkdtempSync(join(tmpdir(), "esc-sync-contract-"));
const log = join(dir, "calls.log");
mkdirSync(join(dir, "bin"));
// Answers as the real CLI would, enough for the SDK: its version, empty outputs and history.
writeFileSync(
  join(dir, "bin", "pulumi"),
  `#!/usr/bin/env bash
echo "$*" >> "${log}"
case "$1 $2" in
  "version "*) echo v3.274.1 ;;
  "stack output") echo "{}" ;;
  "stack history") echo "[]" ;;
esac
exit 0
`,
);
chmodSync(join(dir, "bin", "pulumi"), 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The calls since the last look: each one's command words and the stack it names. */
function calls(): string[] {
  let text = "";
  try {
    text = readFileSync(log, "utf8");
  } catch {
    return [];
  }
  rmSync(log);
  return text
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const words = l.split(" ");
      const verb = words.slice(0, words[0] === "stack" ? 3 : 1).join(" ");
      const stack = words[words.indexOf("--stack") + 1];
      return words.includes("--stack") ? `${verb} @${stack}` : verb;
    });
}

async function workspace() {
  const command = await automation.PulumiCommand.get({ root: dir, skipVersionCheck: true });
  calls();
  const work = mkdtempSync(join(dir, "ws-"));
  const toolchain = { command, env: {} };
  return automation.LocalWorkspace.create(workspaceOptions({ url: `file://${dir}/state`, secretsProvider: "passphrase" }, toolchain, work, async () => ({}), "app.a.out"));
}

describe("the Automation API's CLI calls (pinned SDK contract)", () => {
  it("the SDK is the version this contract was checked against", () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "..", "package.json"), "utf8")) as { dependencies: Record<string, string> };
    const sdk = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "..", "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")) as { version: string };
    expect(pkg.dependencies["@pulumi/pulumi"]).toBe("3.276.0");
    expect(sdk.version).toBe("3.276.0");
  });

  it("an existing pair: no select; up, refresh and destroy alone, no outputs or history after them", async () => {
    const stack = await leanStack("app.a.out", await workspace(), "select");
    expect(calls()).toEqual([]);
    await stack.up({ color: "never", onEvent: () => undefined });
    expect(calls()).toEqual(["up @app.a.out"]);
    await stack.refresh({ color: "never", onEvent: () => undefined });
    expect(calls()).toEqual(["refresh @app.a.out"]);
    await stack.preview({ color: "never", onEvent: () => undefined });
    expect(calls()).toEqual(["preview @app.a.out"]);
    await stack.destroy({ color: "never", remove: true, onEvent: () => undefined });
    expect(calls()).toEqual(["destroy @app.a.out", "stack rm --yes"]);
  });

  it("a new pair: stack init and its tags; reads asked for on their own still run", async () => {
    const ws = await workspace();
    const stack = await leanStack("app.a.out", ws, "create");
    await ws.setTag("app.a.out", "esc-sync:environment", "o/app/a");
    expect(calls()).toEqual(["stack init app.a.out", "stack tag set @app.a.out"]);
    // Not after an operation: a caller that asks gets the CLI's answer.
    await stack.outputs();
    await stack.history();
    expect(calls()).toEqual(["stack output --json @app.a.out", "stack output --json @app.a.out", "stack history --json @app.a.out"]);
  });
});
