/** Vitest global setup for end-to-end tests: they run the built CLI, so build it first. */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { REPO, recordedToolchain } from "./toolchain.js";

export default function setup(): void {
  recordedToolchain(); // fail early, with the fix, when the machine is not provisioned
  execFileSync(process.execPath, [join(REPO, "node_modules", "typescript", "bin", "tsc"), "-p", join(REPO, "tsconfig.json")], {
    stdio: "inherit",
  });
}
