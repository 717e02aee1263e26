/** `esc-sync sync`: bring every selected pair up to date, and remove what no binding claims. */
import { prepare, resolveBackend, type CommonOptions } from "../app.js";
import { STACK_TAGS } from "../planner/plan.js";
import { jsonReporter, liveReporter, plainReporter, redacting, type Reporter } from "../reporters/run.js";
import { findOrphans, listStacks } from "../runner/inventory.js";
import { run } from "../runner/run.js";
import { resolveToolchain } from "../runner/toolchain.js";

export interface SyncOptions extends CommonOptions {
  output: "text" | "json";
  dryRun: boolean;
  refresh: boolean;
  backendUrl?: string;
}

/** Picks the reporter: JSON on request, a live table on a terminal, plain lines otherwise. */
export function chooseReporter(output: "text" | "json"): Reporter {
  if (output === "json") return jsonReporter((t) => process.stdout.write(t));
  if (process.stdout.isTTY && !process.env.CI) return liveReporter(process.stdout);
  return plainReporter((line) => process.stdout.write(line + "\n"));
}

export async function syncCommand(opts: SyncOptions): Promise<number> {
  const prepared = await prepare(opts);
  const backend = resolveBackend(prepared, opts.backendUrl);
  const toolchain = await resolveToolchain();
  const reporter = redacting(chooseReporter(opts.output), prepared.redactor);
  for (const w of prepared.plan.warnings) reporter.sink({ kind: "warning", message: w, at: Date.now() });

  const planned = new Set(prepared.plan.pairs.map((p) => p.stack));
  // Tags are read only for stacks no pair claims: those are the candidate orphans.
  const stacks = await listStacks(backend, toolchain, (name) => !planned.has(name));
  const orphans = findOrphans(stacks, prepared.plan.pairs, prepared.selection);
  for (const s of stacks) {
    if (!planned.has(s.name) && !s.tags[STACK_TAGS.environment]) {
      reporter.sink({ kind: "warning", message: `stack ${s.name} has no esc-sync tags: left alone`, at: Date.now() });
    }
  }

  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const summary = await run({
      operation: opts.dryRun ? "preview" : "sync",
      refresh: opts.refresh,
      pairs: prepared.plan.pairs,
      orphans,
      existing: new Set(stacks.map((s) => s.name)),
      concurrency: prepared.concurrency,
      backend,
      toolchain,
      emit: reporter.sink,
      signal: controller.signal,
    });
    return summary.exitCode;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    reporter.finish();
  }
}
