/**
 * `esc-sync prune`: removes only the orphaned stacks (environment or binding gone) and the
 * entries they wrote, behind the same deletion guard as sync. Pairs that still exist are left
 * as they are.
 */
import { armTimeout, deletionsOf, openSession, selectionOf, type CommandContext, type DeletionFlags, type LockFlags, type SessionFlags, lockOptionsOf } from "../command-context.js";
import { chooseReporter } from "../reporters/choose.js";

export interface PruneOptions extends SessionFlags, DeletionFlags, LockFlags {
  output: "text" | "json";
  dryRun: boolean;
}

export async function pruneCommand(opts: PruneOptions, ctx: CommandContext): Promise<number> {
  armTimeout(opts, ctx);
  const session = await openSession(opts, ctx, "unused");
  const runPlan = await session.plan(selectionOf(opts, ctx.env), { operation: "prune", dryRun: opts.dryRun, refresh: false, force: false, deletions: deletionsOf(opts) });
  const reporter = chooseReporter(opts.output, ctx.redactor, process.stdout, ctx.signal);
  try {
    return (await session.execute(runPlan, { emit: reporter.sink, signal: ctx.signal, ...lockOptionsOf(opts) })).exitCode;
  } finally {
    reporter.finish();
  }
}
