/**
 * What end-to-end tests need from the machine: the built CLI and the Pulumi CLI that
 * scripts/provision.sh recorded.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const REPO = join(import.meta.dirname, "..", "..");
export const CLI = join(REPO, "dist", "orchestrator", "cli.js");

/** The recorded toolchain (`.esc-sync/toolchain.env`); throws with the fix when absent. */
export function recordedToolchain(): { node: string; pulumiRoot: string } {
  const file = join(REPO, ".esc-sync", "toolchain.env");
  if (!existsSync(file)) throw new Error(`${file} is missing: run scripts/provision.sh (or scripts/test.sh) first`);
  const vars = Object.fromEntries(
    readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  return { node: vars.ESC_SYNC_NODE ?? process.execPath, pulumiRoot: vars.ESC_SYNC_PULUMI_ROOT ?? "" };
}
