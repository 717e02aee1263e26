/**
 * `esc-sync prune`: removes only the orphaned stacks (environment or binding gone) and the
 * entries they wrote, behind the same deletion guard as sync. Pairs that still exist are left
 * as they are.
 */
import { prepare, type CommonOptions } from "../app.js";
import { redacting } from "../reporters/run.js";
import { chooseReporter, runPrepared, type RunPolicy } from "./sync.js";

export interface PruneOptions extends CommonOptions, RunPolicy {
  output: "text" | "json";
  dryRun: boolean;
}

export async function pruneCommand(opts: PruneOptions): Promise<number> {
  const prepared = await prepare(opts);
  const reporter = redacting(chooseReporter(opts.output), prepared.redactor);
  try {
    const summary = await runPrepared(prepared, opts.dryRun ? "preview" : "sync", { ...opts, refresh: false, onlyOrphans: true }, reporter.sink);
    return summary.exitCode;
  } finally {
    reporter.finish();
  }
}
