/**
 * `esc-sync drift`: what differs between ESC and every selected target, changing no target.
 * Exit code 1 if a pair errored, else 2 if anything is not in sync, else 0.
 */
import { appendFile, writeFile } from "node:fs/promises";
import { armTimeout, openSession, selectionOf, type CommandContext, type LockFlags, type SessionFlags, lockOptionsOf } from "../command-context.js";
import { DriftCollector, renderDrift, type DriftFormat } from "../reporters/drift.js";
import { plainReporter, redacting } from "../reporters/run.js";

export interface DriftOptions extends SessionFlags, LockFlags {
  output: DriftFormat;
  out?: string | undefined;
}

export async function driftCommand(opts: DriftOptions, ctx: CommandContext): Promise<number> {
  armTimeout(opts, ctx);
  const session = await openSession(opts, ctx, "compare");
  const runPlan = await session.plan(selectionOf(opts, ctx.env), { operation: "drift", dryRun: true, refresh: false, force: false, deletions: { allowAll: false, max: 0 } });
  const collector = new DriftCollector();
  // Progress goes to stderr, so that stdout holds the report alone.
  const progress = redacting(
    plainReporter((line) => {
      if (process.stderr.isTTY || ctx.env.ESC_SYNC_PROGRESS) process.stderr.write(line + "\n");
    }),
    ctx.redactor,
  );
  await session.execute(runPlan, {
    emit: (e) => {
      collector.sink(e);
      progress.sink(e);
    },
    signal: ctx.signal,
    ...lockOptionsOf(opts),
  });
  progress.finish();
  const report = collector.report();
  const text = ctx.redactor.text(renderDrift[opts.output](report));
  if (opts.out) {
    await writeFile(opts.out, text);
    process.stderr.write(`drift report (${opts.output}) written to ${opts.out}\n`);
  } else process.stdout.write(text);
  if (ctx.env.GITHUB_STEP_SUMMARY) {
    const markdown = opts.output === "markdown" ? text : ctx.redactor.text(renderDrift.markdown(report));
    await appendFile(ctx.env.GITHUB_STEP_SUMMARY, markdown);
  }
  return report.summary.exitCode;
}
