/**
 * `esc-sync plan`: the run plan of a sync: every pair, the entries it writes and the decision
 * (run and why, unchanged, held, moved, refused...). Reads the state; runs no engine, writes nothing.
 */
import { deletionsOf, openSession, selectionOf, type CommandContext, type DeletionFlags, type SessionFlags } from "../command-context.js";
import { outputWidth, runPlanToJson, runPlanToText } from "../reporters/plan.js";

export interface PlanOptions extends SessionFlags, DeletionFlags {
  output: "text" | "json";
  refresh?: boolean;
  force?: boolean;
}

export async function planCommand(opts: PlanOptions, ctx: CommandContext): Promise<number> {
  const session = await openSession(opts, ctx, "compare");
  const runPlan = await session.plan(selectionOf(opts, ctx.env), {
    operation: "sync",
    dryRun: false,
    refresh: opts.refresh ?? false,
    force: opts.force ?? false,
    deletions: deletionsOf(opts),
  });
  const text = opts.output === "json" ? JSON.stringify(runPlanToJson(runPlan), null, 2) : runPlanToText(runPlan, outputWidth());
  process.stdout.write(ctx.redactor.text(text) + "\n");
  return runPlan.steps.some((s) => s.decision.action === "refuse") ? 1 : 0;
}
