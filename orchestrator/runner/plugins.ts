/**
 * Provider plugins: installed once per run, before fanning out (concurrent installs into one
 * plugin folder interfere). A plugin that cannot be had fails the pairs that need it, with the
 * side-load command, and the others carry on.
 */
import * as automation from "@pulumi/pulumi/automation/index.js";
import type { PluginRequirement } from "../../programs/contract.js";
import { findTargetKind } from "../../programs/registry.js";
import type { Pair } from "../planner/plan.js";
import { missingPlugin } from "./failures.js";
import { workspaceOptions, withWorkDir, type Backend } from "./stack.js";
import type { Toolchain } from "./toolchain.js";

export function pluginKey(p: PluginRequirement): string {
  return `${p.name}@${p.version}`;
}

/** The message of the first plugin of the pair's kind that is missing, if any. */
export function missingPluginOf(pair: Pair, missing: ReadonlyMap<string, string>): string | undefined {
  return findTargetKind(pair.kind)?.plugins.map((p) => missing.get(pluginKey(p))).find(Boolean);
}

/**
 * Installs the plugins the pairs need. Returns a failure message per plugin that is missing and
 * could not be installed (also passed to `warn`).
 */
export async function ensurePlugins(pairs: readonly Pair[], backend: Backend, toolchain: Toolchain, warn: (message: string) => void): Promise<Map<string, string>> {
  const needed = new Map<string, PluginRequirement>();
  for (const pair of pairs) for (const p of findTargetKind(pair.kind)?.plugins ?? []) needed.set(pluginKey(p), p);
  const missing = new Map<string, string>();
  if (needed.size === 0) return missing;
  await withWorkDir("plugins", async (dir) => {
    const ws = await automation.LocalWorkspace.create(workspaceOptions(backend, toolchain, dir));
    const installed = new Set((await ws.listPlugins()).filter((p) => p.kind === "resource").map((p) => `${p.name}@${p.version}`));
    for (const [key, p] of needed) {
      if (installed.has(key)) continue;
      try {
        await ws.installPlugin(p.name, `v${p.version}`);
      } catch (err) {
        const { message } = missingPlugin(p.name, p.version, err);
        missing.set(key, message);
        warn(message);
      }
    }
  });
  return missing;
}
