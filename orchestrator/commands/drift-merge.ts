/**
 * `esc-sync drift merge a.json b.json …`: the JSON drift reports of n shards as one report, in any
 * of drift's formats, with drift's exit code (0 in sync, 2 differences, 1 errors).
 */
import { readFile, writeFile } from "node:fs/promises";
import type { CommandContext } from "../command-context.js";
import { mergeDriftReports, type DriftReportInput } from "../reporters/drift-merge.js";
import { renderDrift, type DriftFormat } from "../reporters/drift.js";
import { ConfigError } from "../errors.js";

export interface DriftMergeOptions {
  reports: string[];
  output: DriftFormat;
  out?: string | undefined;
}

export async function driftMergeCommand(opts: DriftMergeOptions, ctx: CommandContext): Promise<number> {
  const inputs: DriftReportInput[] = [];
  for (const file of opts.reports) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      throw new ConfigError(`drift merge: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? "unreadable"}`, [], "pass the files written by drift --output json --out FILE");
    }
    try {
      inputs.push({ file, json: JSON.parse(text) });
    } catch {
      throw new ConfigError(`drift merge: ${file} is not JSON`, [], "pass the files written by drift --output json (not markdown or junit)");
    }
  }
  const report = mergeDriftReports(inputs);
  const text = ctx.redactor.text(renderDrift[opts.output](report));
  if (opts.out) {
    await writeFile(opts.out, text);
    process.stderr.write(`merged drift report (${opts.output}, ${report.summary.pairs} pair(s) from ${inputs.length} report(s)) written to ${opts.out}\n`);
  } else process.stdout.write(text);
  return report.summary.exitCode;
}
