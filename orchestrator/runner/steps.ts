/**
 * The step handlers: one per kind of work the run plan gives a step (`up`, `preview`, `inspect`,
 * `destroy`, `report`). Each carries out what the plan says and resolves with one {@link Outcome};
 * `pair-done` is emitted from it, in one place. A handler decides nothing the plan could: it adds
 * what only the engine can tell (the changes, the drift found, a failure).
 */
import * as automation from "@pulumi/pulumi/automation/index.js";
import { envFullName } from "../../programs/environment-ref.js";
import { findTargetKind } from "../../programs/registry.js";
import { compareEntries, pairStatus } from "../drift/compare.js";
import { ADOPTED_PREFIX, type PlannedStep } from "../planner/decide.js";
import { programInput, type Pair } from "../planner/plan.js";
import type { StackRecord } from "../planner/stacks.js";
import type { Operation, StepKind, StepWork } from "../planner/work.js";
import { withRetry } from "../retry.js";
import { noChanges, type ChangeCounts, type PairDrift, type PairInfo, type PairStatus } from "./events.js";
import { RECORD_OUTPUT } from "./backend-stacks.js";
import { removeCutLocks, restoreCutCheckpoint } from "./cut-checkpoint.js";
import { RuntimeClients } from "./runtime-clients.js";
import { classifyEngineError, interrupted, timedOut } from "./failures.js";
import { createStack, engineOp, formatDuration, pairDeadline, releaseLock, removeIfEmpty, type PairContext } from "./pair.js";
import { missingPluginOf } from "./plugins.js";
import { withSettledRecord } from "./record-output.js";
import { EngineEventTally, leanStack, workspaceOptions, withWorkDir } from "./stack.js";
import { refreshedResources, stateResources } from "./state.js";

/** How a step ended: what its `pair-done` event says. */
export interface Outcome {
  status: PairStatus;
  changes: ChangeCounts;
  message?: string | undefined;
  hint?: string | undefined;
  drift?: PairDrift;
  repaired?: number;
}

/** What a handler gets: the run's context, the step, its work, and the notes the report appends. */
interface StepRun<W extends StepWork> {
  ctx: PairContext;
  step: PlannedStep;
  work: W;
  info: PairInfo;
  /** Said after the outcome's message (a stale lock cleared, a recovered operation...). */
  notes: string[];
}

type Handlers = { [K in StepKind]: (run: StepRun<Extract<StepWork, { kind: K }>>) => Promise<Outcome> };

const handlers: Handlers = {
  report: async ({ ctx, step, work }) => {
    if (work.drift === "never-synced") {
      const entries = compareEntries(step.pair!.entries, undefined, false, ctx.fingerprintKey);
      return driftOutcome({ status: pairStatus(entries), entries }, work.message);
    }
    const drift = work.drift === "orphaned" ? { drift: { status: "orphaned" as const, entries: [] } } : work.drift === "error" ? { drift: { status: "error" as const, entries: [] } } : {};
    return { status: work.status, changes: noChanges(), message: work.message, hint: work.hint, ...drift };
  },
  destroy: (run) => destroyOrphan(run),
  up: (run) => engineStep(run),
  preview: (run) => engineStep(run),
  inspect: (run) => engineStep(run),
};

/** Carries out one step. Resolves with the status it reported in its `pair-done` event. */
export async function runStep(ctx: PairContext, step: PlannedStep, info: PairInfo): Promise<PairStatus> {
  const t0 = Date.now();
  const notes: string[] = [];
  const work = step.does;
  const outcome = await (handlers[work.kind] as (run: StepRun<StepWork>) => Promise<Outcome>)({ ctx, step, work, info, notes });
  const text = [outcome.message, ...notes].filter(Boolean).join("; ") || undefined;
  ctx.emit({
    kind: "pair-done",
    pair: info,
    operation: work.operation,
    step: work.kind,
    status: outcome.status,
    changes: outcome.changes,
    ...(text ? { message: text } : {}),
    ...(outcome.hint ? { hint: outcome.hint } : {}),
    ...(outcome.drift ? { drift: outcome.drift } : {}),
    ...(outcome.repaired ? { repaired: outcome.repaired } : {}),
    durationMs: Date.now() - t0,
    at: Date.now(),
  });
  return outcome.status;
}

const driftOutcome = (drift: PairDrift, message?: string, hint?: string): Outcome => ({
  status: drift.status === "error" ? "failed" : drift.status === "in-sync" ? "unchanged" : "changes-pending",
  changes: noChanges(),
  drift,
  message,
  hint,
});

/** The record the program leaves as a stack output. */
function recordOf(pair: Pair, adopting: boolean, manifest: string): StackRecord {
  return {
    environment: envFullName(pair.env),
    target: pair.targetId,
    binding: pair.bindingId,
    kind: pair.kind,
    // Adopted entries keep the store's values until the next sync: that sync must not be skipped.
    fingerprint: adopting ? `${ADOPTED_PREFIX}${pair.fingerprint}` : pair.fingerprint,
    entries: pair.entries.map((e) => e.name),
    location: pair.location,
    manifest,
    ...(pair.revision ? { revision: pair.revision } : {}),
  };
}

type EngineWork = Extract<StepWork, { kind: "up" | "preview" | "inspect" }>;

/** The engine steps of a pair: inspect (refresh + compare), preview, or up (adoption and moves included). */
async function engineStep({ ctx, step, work, info, notes }: StepRun<EngineWork>): Promise<Outcome> {
  const pair = step.pair!;
  const failed = (message: string, hint?: string): Outcome =>
    work.kind === "inspect" ? driftOutcome({ status: "error", entries: [] }, message, hint) : { status: "failed", changes: noChanges(), message, hint };
  const skipped = (message: string): Outcome => ({ status: "skipped", changes: noChanges(), message });
  if (ctx.halted.reason) return skipped(`not run: ${ctx.halted.reason}`);
  const kind = findTargetKind(pair.kind)!;
  const missing = missingPluginOf(pair, ctx.missingPlugins);
  if (missing) return failed(missing, "side-load the plugin, then run again");
  if (ctx.signal?.aborted) return skipped("interrupted before it started");
  if (work.kind !== "inspect") notes.push(...work.notes);
  if (work.kind === "preview" && work.wouldCreate) {
    return { status: "changes-pending", changes: { ...noChanges(), create: work.wouldCreate.length }, message: `new: would create ${work.wouldCreate.join(", ") || "its stack"}` };
  }

  const existing = step.existing;
  // A checkpoint cut short by a full disk is put back only from a backup this operation made.
  const startedAt = Date.now();
  const adopt = work.kind === "up" && work.adopt ? new Set(work.adopt) : undefined;
  const operation: Operation = work.operation;
  ctx.emit({ kind: "pair-start", pair: info, operation, at: Date.now() });
  const tally = new EngineEventTally((resource, op) => ctx.emit({ kind: "pair-engine-event", pair: info, resource, op, at: Date.now() }));
  const refreshTally = new EngineEventTally();
  const deadline = pairDeadline(ctx, pair.stack);
  const signal = { signal: deadline.signal };
  const opCtx = { ...ctx, signal: deadline.signal };
  // The SDK leaves each inline run's gRPC clients open (see runtime-clients.ts): closed at the end.
  const clients = new RuntimeClients();
  try {
    const program = kind.program(programInput(pair, adopt));
    const record = recordOf(pair, adopt !== undefined, ctx.manifest);
    // The record goes into the state with the update itself, once every resource is written: it
    // is there exactly when the update succeeded.
    const withRecord = clients.wrap(withSettledRecord(program, RECORD_OUTPUT, record));
    return await withWorkDir(pair.stack, async (dir) => {
      const ws = await automation.LocalWorkspace.create(workspaceOptions(ctx.backend, ctx.toolchain, dir, withRecord, pair.stack));
      // Creating a stack another run is creating at the same moment can meet its lock: wait too.
      const stack = await withRetry(() => (existing ? leanStack(pair.stack, ws, "select") : createStack(ws, pair, notes)), {
        maxAttempts: 8,
        baseDelayMs: 500,
        maxDelayMs: 5_000,
        isRetryable: (err) => err instanceof automation.ConcurrentUpdateError,
        ...signal,
      });
      const op = <T>(fn: () => Promise<T>) => engineOp(opCtx, info, stack, tally, notes, fn);
      // With credentials from the environment, a refresh runs the program, so that the provider
      // uses this run's credentials rather than the (expired) ones in the state.
      const runProgram = pair.credentials ? { runProgram: true } : {};
      if (work.recoverPending > 0) {
        // An interrupted run left operations unfinished: read what the store really holds.
        await op(() => stack.refresh({ color: "never", clearPendingCreates: true, onEvent: refreshTally.handle, ...runProgram, ...signal }));
        notes.push(`recovered ${work.recoverPending} operation(s) left pending by an interrupted run`);
      }
      // Drift: one engine operation (refresh: writes esc-sync's state, never a target) and one
      // state export (no plugins); desired values are compared in process.
      const inspect = async (): Promise<PairDrift> => {
        // A resource the refresh finds gone leaves the state: keep what it was, so that its
        // entries read as missing rather than never written.
        const before = kind.readBack ? stateResources(await stack.exportStack()) : [];
        await op(() => stack.refresh({ color: "never", onEvent: refreshTally.handle, ...runProgram, ...signal }));
        const after = kind.readBack ? stateResources(await stack.exportStack()) : [];
        const readback = kind.readBack?.(refreshedResources(before, after), pair.shape);
        const entries = compareEntries(pair.entries, readback, true, ctx.fingerprintKey);
        return { status: pairStatus(entries), entries };
      };
      if (work.kind === "inspect") {
        const drift = await inspect();
        const unverifiable = kind.readBack ? undefined : `${pair.kind} values cannot be read back: entries are unverifiable`;
        // The store matches, but the plan says the pair's input moved on: a sync would still write.
        if (work.inputMovedOn && (drift.status === "in-sync" || drift.status === "unverifiable")) {
          return driftOutcome({ status: "pending", entries: drift.entries.length ? drift.entries : [{ name: "(pair)", status: "pending" }] }, work.inputMovedOn, unverifiable);
        }
        return driftOutcome(drift, undefined, unverifiable);
      }
      if (work.kind === "preview") {
        await op(() => stack.preview({ color: "never", refresh: work.refresh, onEvent: tally.handlePreview, ...signal }));
        const c = tally.changes;
        return { status: c.create + c.update + c.delete + c.replace > 0 ? "changes-pending" : "unchanged", changes: c, message: work.message };
      }
      // With --refresh, find the drift first, so that the report can say what was repaired;
      // the up that follows starts from the refreshed state.
      const found = work.refreshFirst ? await inspect() : undefined;
      try {
        await op(() => stack.up({ color: "never", onEvent: tally.handle, ...signal }));
      } catch (err) {
        // A first update that wrote nothing leaves no stack behind (it would hold no record,
        // and be warned about on every later run).
        if (!existing && !deadline.timedOut() && !ctx.signal?.aborted) await removeIfEmpty(ws, stack, notes);
        throw err;
      }
      const c = tally.changes;
      const changed = c.create + c.update + c.delete + c.replace > 0;
      const status: PairStatus = work.move ? "moved" : !changed ? "unchanged" : existing ? "updated" : "created";
      const deletes = work.deletes;
      if (work.move) notes.unshift(`moved from ${work.move.from} to ${work.move.to}${deletes.length ? `: deleted ${deletes.join(", ")} there` : ""}`);
      else if (deletes.length) notes.push(`deleted ${deletes.join(", ")}`);
      if (adopt) notes.push(`adopted ${[...adopt].join(", ")}: the next sync writes ESC's values`);
      const repaired = found?.entries.filter((e) => e.status === "drifted" || e.status === "missing") ?? [];
      if (repaired.length > 0) {
        const names = repaired.map((e) => `${e.name} (${e.status})`).join(", ");
        return { status, changes: c, message: `repaired ${repaired.length} entr${repaired.length === 1 ? "y" : "ies"} changed outside esc-sync: ${names}`, repaired: repaired.length, drift: found! };
      }
      return { status, changes: c };
    });
  } catch (err) {
    tally.errors.push(...refreshTally.errors);
    if (deadline.timedOut() || ctx.signal?.aborted) {
      if (deadline.killed() > 0) await releaseLock(ctx, pair.stack);
      const failure = deadline.timedOut() ? timedOut(formatDuration(ctx.pairTimeoutMs), deadline.killed()) : interrupted();
      return failed(failure.message, failure.hint);
    }
    const failure = classifyEngineError(err, tally.errors);
    if (failure.kind === "wrong-passphrase") ctx.halted.reason ??= "the passphrase does not decrypt the state (see the pair that failed)";
    if (failure.kind === "disk-full") {
      // A full disk leaves files cut short (Pulumi's blob library commits a failed write): put back
      // the state file from its backup and remove a cut lock now, or the stack stays unusable.
      if (await restoreCutCheckpoint(ctx.backend.url, pair.stack, startedAt)) notes.push("its state file, cut short by the full disk, was put back from Pulumi's backup (.json.bak): its record is kept");
      if ((await removeCutLocks(ctx.backend.url, pair.stack)) > 0) notes.push("a lock file cut short by the full disk was removed");
    }
    return failed(failure.message, failure.hint);
  } finally {
    clients.closeAll();
    deadline.dispose();
  }
}

/** Removes the entries and the stack of a pair whose environment or binding is gone. */
async function destroyOrphan({ ctx, step, work, info, notes }: StepRun<Extract<StepWork, { kind: "destroy" }>>): Promise<Outcome> {
  const orphan = step.existing!;
  const tally = new EngineEventTally((resource, op) => ctx.emit({ kind: "pair-engine-event", pair: info, resource, op, at: Date.now() }));
  const end = (status: PairStatus, message?: string, hint?: string): Outcome => ({ status, changes: tally.changes, message, hint });
  if (ctx.signal?.aborted) return end("skipped", "interrupted before it started");
  ctx.emit({ kind: "pair-start", pair: info, operation: "destroy", at: Date.now() });
  const deadline = pairDeadline(ctx, orphan.name);
  try {
    return await withWorkDir(orphan.name, async (dir) => {
      const ws = await automation.LocalWorkspace.create(workspaceOptions(ctx.backend, ctx.toolchain, dir, undefined, orphan.name));
      const stack = await leanStack(orphan.name, ws, "select");
      await engineOp({ ...ctx, signal: deadline.signal }, info, stack, tally, notes, () => stack.destroy({ color: "never", remove: true, onEvent: tally.handle, signal: deadline.signal }));
      const n = work.entries.length;
      return end("deleted", `its environment or binding no longer exists: ${n} ${n === 1 ? "entry" : "entries"} removed, stack removed`);
    });
  } catch (err) {
    if (deadline.killed() > 0) await releaseLock(ctx, orphan.name);
    const failure = deadline.timedOut() ? timedOut(formatDuration(ctx.pairTimeoutMs), deadline.killed(), "removal") : ctx.signal?.aborted ? interrupted("removal") : classifyEngineError(err, tally.errors);
    return end("failed", failure.message, failure.hint);
  } finally {
    deadline.dispose();
  }
}
