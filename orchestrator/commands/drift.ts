/**
 * `esc-sync drift`: what differs between ESC and every selected target, changing no target.
 * Exit code 1 if a pair errored, else 2 if anything is not in sync, else 0.
 */
import { appendFile, writeFile } from "node:fs/promises";
import { prepare, type CommonOptions } from "../app.js";
import { DriftCollector, renderDrift, type DriftFormat } from "../drift/report.js";
import { plainReporter, redacting } from "../reporters/run.js";
import { runPrepared } from "./sync.js";

export interface DriftOptions extends CommonOptions {
  format: DriftFormat;
  out?: string;
  backendUrl?: string;
  staleLockMinutes?: number;
  lockWaitSeconds?: number;
}

export async function driftCommand(opts: DriftOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const prepared = await prepare(opts);
  const collector = new DriftCollector();
  // Progress goes to stderr, so that stdout holds the report alone.
  const progress = redacting(
    plainReporter((line) => {
      if (process.stderr.isTTY || env.ESC_SYNC_PROGRESS) process.stderr.write(line + "\n");
    }),
    prepared.redactor,
  );
  await runPrepared(prepared, "drift", { refresh: false, backendUrl: opts.backendUrl, staleLockMinutes: opts.staleLockMinutes, lockWaitSeconds: opts.lockWaitSeconds }, (e) => {
    collector.sink(e);
    progress.sink(e);
  });
  progress.finish();
  const report = collector.report();
  const text = prepared.redactor.text(renderDrift[opts.format](report));
  if (opts.out) await writeFile(opts.out, text);
  else process.stdout.write(text);
  if (env.GITHUB_STEP_SUMMARY) {
    const markdown = opts.format === "markdown" ? text : prepared.redactor.text(renderDrift.markdown(report));
    await appendFile(env.GITHUB_STEP_SUMMARY, markdown);
  }
  return report.summary.exitCode;
}
