/** `esc-sync sync`: bring every selected pair up to date, and remove what no binding claims. */
import { armTimeout, deletionsOf, openSession, selectionOf, type CommandContext, type DeletionFlags, type LockFlags, type SessionFlags, lockOptionsOf } from "../command-context.js";
import { chooseReporter } from "../reporters/choose.js";
import { outputWidth, runPlanToJson, runPlanToText } from "../reporters/plan.js";

export interface SyncOptions extends SessionFlags, DeletionFlags, LockFlags {
  output: "text" | "json";
  dryRun: boolean;
  refresh: boolean;
  force: boolean;
}

export async function syncCommand(opts: SyncOptions, ctx: CommandContext): Promise<number> {
  armTimeout(opts, ctx);
  const session = await openSession(opts, ctx, opts.dryRun ? "compare" : "write");
  const runPlan = await session.plan(selectionOf(opts, ctx.env), { operation: "sync", dryRun: opts.dryRun, refresh: opts.refresh, force: opts.force, deletions: deletionsOf(opts) });
  // A dry run shows the run plan first: what would run and why, before the previews say what would change.
  if (opts.dryRun && opts.output === "text") process.stdout.write(ctx.redactor.text(runPlanToText(runPlan, outputWidth())) + "\n\n");
  const reporter = chooseReporter(opts.output, ctx.redactor, process.stdout, ctx.signal);
  try {
    const summary = await session.execute(runPlan, { emit: reporter.sink, signal: ctx.signal, ...lockOptionsOf(opts) });
    return summary.exitCode;
  } finally {
    reporter.finish(opts.dryRun ? { runPlan: runPlanToJson(runPlan) } : undefined);
  }
}
