/**
 * The runner: carries out a run plan through the Automation API with bounded concurrency, and
 * reports every step as a typed event. It decides nothing (the run plan did); one step failing
 * never stops the others.
 */
import pLimit from "p-limit";
import { envFullName } from "../../programs/environment-ref.js";
import type { PlannedStep, RunPlan } from "../planner/decide.js";
import type { Pair } from "../planner/plan.js";
import type { ExecuteContext } from "./context.js";
import type { PairInfo, PairStatus, RunSummary } from "./events.js";
import { needsEngine } from "../planner/work.js";
import type { ExistingStack } from "../planner/stacks.js";
import { removeLeftover } from "./pair.js";
import { runStep } from "./steps.js";
import { ensurePlugins } from "./plugins.js";
import { executionMark, killRun, reapOrphans, RUN_MARK } from "./processes.js";

/** Describes a pair for events: names and fingerprints, no values. */
export function pairInfo(pair: Pair): PairInfo {
  return {
    stack: pair.stack,
    environment: envFullName(pair.env),
    target: pair.targetId,
    kind: pair.kind,
    location: pair.location,
    entries: pair.entries.map((e) => e.name),
    fingerprint: pair.fingerprint,
    ...(pair.revision ? { revision: pair.revision } : {}),
  };
}

function orphanInfo(stack: ExistingStack): PairInfo {
  return {
    stack: stack.name,
    environment: stack.record?.environment ?? "(unknown)",
    target: stack.record?.target ?? "(unknown)",
    kind: stack.record?.kind ?? "(unknown)",
    location: stack.record?.location ?? "(orphaned stack)",
    entries: stack.record?.entries ?? [],
    fingerprint: "",
    ...(stack.record?.revision ? { revision: stack.record.revision } : {}),
  };
}

export const stepInfo = (step: PlannedStep): PairInfo => (step.pair ? pairInfo(step.pair) : orphanInfo(step.existing!));

/** Carries out every step of the plan; resolves with the summary. Never throws for one step. */
export async function execute(plan: RunPlan, runCtx: ExecuteContext): Promise<RunSummary> {
  // A mark of this execute's own: its end kills its processes only, not those of another execute
  // the same process runs at the same time (serve).
  const ctx: ExecuteContext = { ...runCtx, toolchain: { ...runCtx.toolchain, env: { ...runCtx.toolchain.env, [RUN_MARK]: executionMark() } } };
  const started = ctx.startedAt ?? Date.now();
  const operation = plan.engineOperation;
  // What an orchestrator killed with SIGKILL left running (its CLIs, providers) ends now.
  const reaped = reapOrphans();
  const infos = plan.steps.map(stepInfo);
  const command = plan.operation === "sync" || plan.operation === "drift" ? undefined : `${plan.operation}${plan.dryRun ? " (dry run)" : ""}`;
  ctx.emit({ kind: "run-start", operation, ...(command ? { command } : {}), pairs: infos, concurrency: ctx.concurrency, at: Date.now() });
  for (const w of plan.warnings) ctx.emit({ kind: "warning", message: w, at: Date.now() });
  if (reaped > 0) ctx.emit({ kind: "warning", message: `ended ${reaped} process(es) left running by an earlier esc-sync run that was killed`, at: Date.now() });

  // Plugins for the pairs the engine updates or previews; an inspect (drift) installs none.
  const engineBound = plan.steps.filter((s) => s.pair && needsEngine(s.does) && s.does.kind !== "inspect").map((s) => s.pair!);
  const missingPlugins =
    engineBound.length === 0
      ? new Map<string, string>()
      : await ensurePlugins(engineBound, ctx.backend, ctx.toolchain, (message) => ctx.emit({ kind: "warning", message, at: Date.now() }));

  const limit = pLimit(ctx.concurrency);
  const statuses: PairStatus[] = [];
  const halted: { reason?: string } = {};
  const jobs = plan.steps.map((step, i) => {
    ctx.emit({ kind: "pair-queued", pair: infos[i]!, at: Date.now() });
    return limit(async () => {
      statuses.push(await runStep({ ...ctx, plan, missingPlugins, halted }, step, infos[i]!));
    });
  });
  for (const leftover of plan.leftovers) jobs.push(limit(() => removeLeftover(ctx, leftover)));
  await Promise.all(jobs);
  // Every step has ended: no process of this run may outlive it (a provider a killed CLI orphaned).
  killRun(ctx.toolchain.env[RUN_MARK]!, "SIGKILL");

  const byStatus: Partial<Record<PairStatus, number>> = {};
  for (const s of statuses) byStatus[s] = (byStatus[s] ?? 0) + 1;
  const failed = (byStatus.failed ?? 0) + (byStatus.held ?? 0) + (byStatus.refused ?? 0);
  const summary: RunSummary = { pairs: statuses.length, byStatus, failed, durationMs: Date.now() - started, exitCode: failed > 0 ? 1 : 0 };
  ctx.emit({ kind: "run-done", operation, summary, at: Date.now() });
  return summary;
}
