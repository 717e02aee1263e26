/**
 * Merging the JSON drift reports of n shards (`esc-sync drift merge a.json b.json …`) into the
 * report one unsharded run would have written: the pairs of all, in stack order, with the summary
 * and exit code recomputed. Pure apart from the error it throws for bad input.
 */
import { z } from "zod";
import { ConfigError, type Problem } from "../errors.js";
import { driftExitCode, type DriftStatus } from "../drift/compare.js";
import type { DriftPairReport, DriftReport } from "./drift.js";

const STATUSES = ["in-sync", "pending", "drifted", "missing", "orphaned", "unverifiable", "error"] as const satisfies readonly DriftStatus[];

/** The parts of a schema-1 report a merge relies on; everything else of a pair is kept as is. */
const reportSchema = z.object({
  version: z.literal(1, { error: "not a version 1 drift report" }),
  generatedAt: z.string(),
  pairs: z.array(
    z.looseObject({
      stack: z.string(),
      environment: z.string(),
      target: z.string(),
      status: z.enum(STATUSES),
      entries: z.array(z.unknown()),
    }),
  ),
});

/** One input: where it came from (for messages) and its parsed JSON. */
export interface DriftReportInput {
  file: string;
  json: unknown;
}

/**
 * One report from the reports of several shards. Throws a {@link ConfigError} naming every file
 * that is not a drift report (`drift --output json`), and every stack two reports both hold (two
 * runs of one shard, or shards of different counts).
 */
export function mergeDriftReports(inputs: readonly DriftReportInput[]): DriftReport {
  const problems: Problem[] = [];
  const owner = new Map<string, string>();
  const pairs: DriftPairReport[] = [];
  let generatedAt = "";
  for (const { file, json } of inputs) {
    const parsed = reportSchema.safeParse(json);
    if (!parsed.success) {
      for (const issue of parsed.error.issues.slice(0, 3)) problems.push({ file, path: issue.path.join(".") || undefined, message: issue.message });
      continue;
    }
    if (parsed.data.generatedAt > generatedAt) generatedAt = parsed.data.generatedAt;
    for (const pair of parsed.data.pairs) {
      const first = owner.get(pair.stack);
      if (first !== undefined) {
        problems.push({ file, message: `stack ${pair.stack} is also in ${first}: each shard's report must hold its own stacks only` });
        continue;
      }
      owner.set(pair.stack, file);
      pairs.push(pair as unknown as DriftPairReport);
    }
  }
  if (problems.length) {
    throw new ConfigError(
      "cannot merge these drift reports",
      problems,
      "pass the --output json reports of one drift run per shard (--shard 0/N … N-1/N), each once",
    );
  }
  pairs.sort((a, b) => a.stack.localeCompare(b.stack));
  const byStatus: Partial<Record<DriftStatus, number>> = {};
  for (const p of pairs) byStatus[p.status] = (byStatus[p.status] ?? 0) + 1;
  return { version: 1, generatedAt, summary: { pairs: pairs.length, byStatus, exitCode: driftExitCode(pairs.map((p) => p.status)) }, pairs };
}
