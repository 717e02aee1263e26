/** `esc-sync sync`: bring every selected pair up to date, and remove what no binding claims. */
import { fingerprintKey, prepare, resolveBackend, type CommonOptions, type Prepared } from "../app.js";
import { jsonReporter, liveReporter, plainReporter, redacting, type Reporter } from "../reporters/run.js";
import type { EventSink, RunSummary } from "../runner/events.js";
import { classifyStacks, listStacks, type Inventory } from "../runner/inventory.js";
import type { Pair } from "../planner/plan.js";
import { run, type RunRequest } from "../runner/run.js";
import { resolveToolchain } from "../runner/toolchain.js";

export interface SyncOptions extends CommonOptions, RunPolicy {
  output: "text" | "json";
  dryRun: boolean;
}

/** Picks the reporter: JSON on request, a live table on a terminal, plain lines otherwise. */
export function chooseReporter(output: "text" | "json", stream: NodeJS.WriteStream = process.stdout): Reporter {
  if (output === "json") return jsonReporter((t) => stream.write(t));
  if (stream.isTTY && !process.env.CI) return liveReporter(stream);
  return plainReporter((line) => stream.write(line + "\n"));
}

/** How a run treats deletions and locks (flags of sync, prune and drift). */
export interface RunPolicy {
  refresh: boolean;
  backendUrl?: string | undefined;
  allowDeletes?: boolean;
  maxDeletes?: number | undefined;
  staleLockMinutes?: number | undefined;
  lockWaitSeconds?: number | undefined;
  /** Run `up` for every pair, even those whose input is unchanged. */
  force?: boolean;
  /** Prune: handle the orphaned stacks only, run no pair. */
  onlyOrphans?: boolean;
}

/** Decides, once the stacks are known, what else a run needs (adoption sets, the pairs to run). */
export type BeforeRun = (inventory: Inventory) => Promise<{ adopt?: Map<string, Set<string>>; pairs?: Pair[] } | undefined>;

/**
 * Runs an operation over the prepared pairs: resolves the backend and the CLI, reads the
 * inventory of stacks, and on SIGINT/SIGTERM stops launching pairs, interrupts the running ones
 * (their locks released) and waits for them; a second signal exits at once.
 */
export async function runPrepared(
  prepared: Prepared,
  operation: RunRequest["operation"],
  policy: RunPolicy,
  emit: EventSink,
  beforeRun?: BeforeRun,
): Promise<RunSummary> {
  const startedAt = Date.now();
  const backend = resolveBackend(prepared, policy.backendUrl);
  const toolchain = await resolveToolchain();
  for (const w of prepared.plan.warnings) emit({ kind: "warning", message: w, at: Date.now() });
  for (const r of prepared.sourceRetries) emit({ kind: "warning", message: r, at: Date.now() });

  const stacks = await listStacks(backend, toolchain, prepared.concurrency);
  const inventory = classifyStacks(stacks, prepared.plan.pairs, prepared.selection, new Set(Object.keys(prepared.manifest.targets)));
  for (const s of inventory.unknown) {
    emit({ kind: "warning", message: `stack ${s.name} holds resources but no esc-sync record: left alone`, at: Date.now() });
  }
  if (inventory.foreign.length > 0) {
    const targets = [...new Set(inventory.foreign.map((s) => s.record!.target))].sort().join(", ");
    emit({
      kind: "warning",
      message: `${inventory.foreign.length} stack(s) belong to targets this manifest does not define (${targets}): left alone; to remove a target's entries, remove its bindings and sync (or prune) before removing the target`,
      at: Date.now(),
    });
  }

  const extra = (await beforeRun?.(inventory)) ?? {};

  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`\n${sig} again: exiting now; stacks still running may stay locked (the next run clears stale locks)\n`);
      process.exit(130);
    }
    process.stderr.write(`\n${sig}: stopping; running pairs are being interrupted (press again to exit at once)\n`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await run({
      operation,
      refresh: policy.refresh,
      pairs: policy.onlyOrphans ? [] : (extra.pairs ?? prepared.plan.pairs),
      // A run narrowed to some pairs (adoption) leaves the orphans alone.
      inventory: extra.pairs ? { ...inventory, orphans: [], leftovers: [] } : inventory,
      ...(extra.adopt ? { adopt: extra.adopt } : {}),
      concurrency: prepared.concurrency,
      backend,
      toolchain,
      emit,
      signal: controller.signal,
      fingerprintKey: fingerprintKey(),
      deletions: { allowAll: policy.allowDeletes ?? false, max: policy.maxDeletes ?? 0 },
      staleLockMs: (policy.staleLockMinutes ?? 30) * 60_000,
      lockWaitMs: (policy.lockWaitSeconds ?? 60) * 1000,
      force: policy.force ?? false,
      startedAt,
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
