/**
 * Finds the Pulumi CLI and builds the environment its processes run in: the Node that runs
 * esc-sync first on PATH (the dynamic provider needs Node ≥22), and `@pulumi/pulumi` resolvable
 * from any work directory.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as automation from "@pulumi/pulumi/automation/index.js";
import { ConfigError } from "../errors.js";
import { ownRunMark, RUN_MARK } from "./processes.js";

/** The repository root: the nearest folder above this module holding esc-sync's package.json. */
export const REPO_ROOT = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && /"name":\s*"esc-sync"/.test(readFileSync(manifest, "utf8"))) return dir;
    if (dirname(dir) === dir) return resolve(from, "../..");
  }
}

export interface Toolchain {
  command: automation.PulumiCommand;
  /** Environment variables for every Pulumi process. */
  env: Record<string, string>;
}

/**
 * Locates `pulumi`: `$ESC_SYNC_PULUMI_ROOT/bin/pulumi` when set, else the first `pulumi` on PATH.
 * Throws a {@link ConfigError} saying how to install it when there is none.
 */
export async function resolveToolchain(base: NodeJS.ProcessEnv = process.env): Promise<Toolchain> {
  const root = base.ESC_SYNC_PULUMI_ROOT;
  const nodeModules = join(REPO_ROOT, "node_modules");
  const path = [
    dirname(process.execPath),
    ...(root ? [join(root, "bin")] : []),
    base.PATH ?? "",
    // Last resort for the dynamic provider's plugin: the copy inside the npm package.
    join(nodeModules, "@pulumi", "pulumi"),
  ].join(":");
  let command: automation.PulumiCommand;
  try {
    command = await automation.PulumiCommand.get({
      ...(root ? { root } : {}),
      skipVersionCheck: base.PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK === "true",
    });
  } catch (err) {
    const where = root ? `${root}/bin/pulumi` : "PATH";
    throw new ConfigError(
      `the Pulumi CLI was not found on ${where}: run scripts/provision.sh (it installs the pinned Pulumi CLI; any 3.x from 3.181 on works), or install it from https://www.pulumi.com/docs/install/`,
    );
  }
  if (root && !existsSync(join(root, "bin", "pulumi"))) {
    throw new ConfigError(`ESC_SYNC_PULUMI_ROOT=${root} holds no bin/pulumi: unset it or run scripts/provision.sh`);
  }
  const env: Record<string, string> = {
    PATH: path,
    NODE_PATH: [nodeModules, base.NODE_PATH].filter(Boolean).join(":"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_SKIP_CONFIRMATIONS: "true",
    // Every process the run starts inherits the mark: how the run finds (and ends) them all.
    [RUN_MARK]: ownRunMark(),
  };
  return { command, env };
}
