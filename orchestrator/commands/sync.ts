/** `esc-sync sync`: bring every selected pair up to date, and remove what no binding claims. */
import { fingerprintKey, prepare, resolveBackend, type CommonOptions, type Prepared } from "../app.js";
import { STACK_TAGS } from "../planner/plan.js";
import { jsonReporter, liveReporter, plainReporter, redacting, type Reporter } from "../reporters/run.js";
import type { EventSink, RunSummary } from "../runner/events.js";
import { findOrphans, listStacks } from "../runner/inventory.js";
import { run, type RunRequest } from "../runner/run.js";
import { resolveToolchain } from "../runner/toolchain.js";

export interface SyncOptions extends CommonOptions {
  output: "text" | "json";
  dryRun: boolean;
  refresh: boolean;
  backendUrl?: string;
}

/** Picks the reporter: JSON on request, a live table on a terminal, plain lines otherwise. */
export function chooseReporter(output: "text" | "json", stream: NodeJS.WriteStream = process.stdout): Reporter {
  if (output === "json") return jsonReporter((t) => stream.write(t));
  if (stream.isTTY && !process.env.CI) return liveReporter(stream);
  return plainReporter((line) => stream.write(line + "\n"));
}

/**
 * Runs an operation over the prepared pairs: resolves the backend and the CLI, finds the
 * orphaned stacks, and stops launching pairs on SIGINT/SIGTERM.
 */
export async function runPrepared(
  prepared: Prepared,
  operation: RunRequest["operation"],
  opts: { refresh: boolean; backendUrl?: string | undefined },
  emit: EventSink,
): Promise<RunSummary> {
  const backend = resolveBackend(prepared, opts.backendUrl);
  const toolchain = await resolveToolchain();
  for (const w of prepared.plan.warnings) emit({ kind: "warning", message: w, at: Date.now() });

  const planned = new Set(prepared.plan.pairs.map((p) => p.stack));
  // Tags are read only for stacks no pair claims: those are the candidate orphans.
  const stacks = await listStacks(backend, toolchain, (name) => !planned.has(name));
  const orphans = findOrphans(stacks, prepared.plan.pairs, prepared.selection);
  for (const s of stacks) {
    if (!planned.has(s.name) && !s.tags[STACK_TAGS.environment]) {
      emit({ kind: "warning", message: `stack ${s.name} has no esc-sync tags: left alone`, at: Date.now() });
    }
  }

  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    return await run({
      operation,
      refresh: opts.refresh,
      pairs: prepared.plan.pairs,
      orphans,
      existing: new Set(stacks.map((s) => s.name)),
      concurrency: prepared.concurrency,
      backend,
      toolchain,
      emit,
      signal: controller.signal,
      fingerprintKey: fingerprintKey(),
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

export async function syncCommand(opts: SyncOptions): Promise<number> {
  const prepared = await prepare(opts);
  const reporter = redacting(chooseReporter(opts.output), prepared.redactor);
  try {
    const summary = await runPrepared(prepared, opts.dryRun ? "preview" : "sync", opts, reporter.sink);
    return summary.exitCode;
  } finally {
    reporter.finish();
  }
}
