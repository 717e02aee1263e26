/**
 * What the backend holds: the stacks of the esc-sync project, and which of them no plan claims.
 */
import * as automation from "@pulumi/pulumi/automation/index.js";
import picomatch from "picomatch";
import type { Pair, Selection } from "../planner/plan.js";
import { STACK_TAGS } from "../planner/plan.js";
import type { ExistingStack } from "./run.js";
import { workspaceOptions, withWorkDir, type Backend } from "./stack.js";
import type { Toolchain } from "./toolchain.js";

/** Lists the project's stacks; reads the tags only of those `needTags` selects. */
export async function listStacks(
  backend: Backend,
  toolchain: Toolchain,
  needTags: (name: string) => boolean,
): Promise<ExistingStack[]> {
  return withWorkDir("inventory", async (dir) => {
    const ws = await automation.LocalWorkspace.create(workspaceOptions(backend, toolchain, dir));
    const summaries = await ws.listStacks();
    const out: ExistingStack[] = [];
    for (const s of summaries) {
      out.push({ name: s.name, tags: needTags(s.name) ? await ws.listTags(s.name) : {} });
    }
    return out;
  });
}

/**
 * Stacks in the backend that the plan no longer claims, within the run's selection: their
 * environment or binding is gone. A stack without esc-sync's tags is never treated as an orphan.
 */
export function findOrphans(stacks: readonly ExistingStack[], pairs: readonly Pair[], sel: Selection): ExistingStack[] {
  const planned = new Set(pairs.map((p) => p.stack));
  return stacks.filter((s) => {
    if (planned.has(s.name)) return false;
    const env = s.tags[STACK_TAGS.environment];
    const target = s.tags[STACK_TAGS.target];
    if (!env || !target) return false;
    if (sel.targets?.length && !sel.targets.includes(target)) return false;
    const projectAndName = env.split("/").slice(1).join("/");
    if (sel.filter?.length && !picomatch.isMatch(projectAndName, sel.filter)) return false;
    return true;
  });
}
