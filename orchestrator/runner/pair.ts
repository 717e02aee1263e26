/**
 * One pair's operation on its stack: sync (up), preview, drift (refresh + export), or the
 * removal of an orphan. Retries what may pass (a lock held by a live run, provider throttling),
 * clears what an interrupted run left (stale locks, pending operations), and never throws.
 */
import * as automation from "@pulumi/pulumi/automation/index.js";
import { findTargetKind } from "../../programs/registry.js";
import { compareEntries, pairStatus } from "../drift/compare.js";
import { formatProblem } from "../errors.js";
import { programInput, STACK_TAGS, type Pair } from "../planner/plan.js";
import { withRetry } from "../retry.js";
import { envFullName } from "../sources/source.js";
import { noChanges, type ChangeCounts, type Operation, type PairDrift, type PairInfo, type PairStatus } from "./events.js";
import { guardMessage, type GuardDecision } from "./guard.js";
import { RECORD_OUTPUT, type ExistingStack, type StackRecord } from "./inventory.js";
import { parseLocks, staleReason } from "./locks.js";
import type { RunRequest } from "./run.js";
import { pluginKey } from "./run.js";
import { EngineEventTally, workspaceOptions, withWorkDir } from "./stack.js";
import { stateResources } from "./state.js";

/** What every pair of a run shares. */
export interface PairContext extends RunRequest {
  missingPlugins: ReadonlyMap<string, string>;
  guard: ReadonlyMap<string, GuardDecision>;
}

/** Marks an error as worth another attempt, with the cause the report shows. */
function retryable(err: unknown, cause: string): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  return Object.assign(e, { retryable: true, cause });
}

/** Engine errors that say "slow down": worth waiting for. */
const THROTTLED = /throttl|rate exceeded|too many requests|\b429\b|slowdown|requestlimitexceeded/i;

/**
 * Runs one engine operation with the pair's retry rules: a stale lock is cleared at once (with a
 * note); a lock held by a live run and provider throttling are retried with backoff, within
 * bounds; anything else fails at once.
 */
export async function engineOp<T>(ctx: PairContext, info: PairInfo, stack: automation.Stack, tally: EngineEventTally, notes: string[], op: () => Promise<T>): Promise<T> {
  const lockDeadline = Date.now() + (ctx.lockWaitMs ?? 60_000);
  return withRetry(
    async () => {
      try {
        return await op();
      } catch (err) {
        if (ctx.signal?.aborted) throw err;
        if (err instanceof automation.ConcurrentUpdateError) {
          const locks = parseLocks(err.message);
          const stale = locks.length > 0 ? locks.map((l) => staleReason(l, { maxAgeMs: ctx.staleLockMs ?? 30 * 60_000 })) : [];
          if (stale.length > 0 && stale.every(Boolean)) {
            await stack.cancel();
            notes.push(`cleared a stale lock (${stale.join("; ")})`);
            throw retryable(err, "stale lock cleared");
          }
          if (Date.now() < lockDeadline) throw retryable(err, "stack locked by another run");
          throw err;
        }
        const text = [...tally.errors, err instanceof Error ? err.message : String(err)].join("\n");
        if (THROTTLED.test(text)) throw retryable(err, "provider throttling");
        throw err;
      }
    },
    {
      maxAttempts: 8,
      baseDelayMs: 500,
      maxDelayMs: 10_000,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      onRetry: (e) => {
        tally.errors.length = 0;
        const cause = (e.error as { cause?: unknown }).cause;
        ctx.emit({ kind: "pair-retry", pair: info, attempt: e.attempt, cause: typeof cause === "string" ? cause : e.reason.split("\n")[0]!, delayMs: e.delayMs, at: Date.now() });
      },
    },
  );
}

/** The record the program leaves as a stack output. */
function recordOf(pair: Pair, adopting: boolean): StackRecord {
  return {
    environment: envFullName(pair.env),
    target: pair.targetId,
    binding: pair.bindingId,
    kind: pair.kind,
    // Adopted entries keep the store's values until the next sync: that sync must not be skipped.
    fingerprint: adopting ? `adopted:${pair.fingerprint}` : pair.fingerprint,
    entries: pair.entries.map((e) => e.name),
  };
}

export async function runPair(ctx: PairContext, pair: Pair, info: PairInfo): Promise<PairStatus> {
  const t0 = Date.now();
  const operation: Operation = ctx.operation;
  const notes: string[] = [];
  const withNotes = (message?: string) => [message, ...notes].filter(Boolean).join("; ") || undefined;
  const done = (status: PairStatus, changes: ChangeCounts, message?: string, hint?: string, extra: { drift?: PairDrift; repaired?: number } = {}) => {
    const text = withNotes(message);
    ctx.emit({ kind: "pair-done", pair: info, operation, status, changes, ...(text ? { message: text } : {}), ...(hint ? { hint } : {}), ...extra, durationMs: Date.now() - t0, at: Date.now() });
    return status;
  };
  const doneDrift = (drift: PairDrift, message?: string, hint?: string) =>
    done(drift.status === "error" ? "failed" : drift.status === "in-sync" ? "unchanged" : "changes-pending", noChanges(), message, hint, { drift });
  const error = (message: string, hint?: string) =>
    operation === "drift" ? doneDrift({ status: "error", entries: [] }, message, hint) : done("failed", noChanges(), message, hint);

  if (pair.blocked) {
    const b = pair.blocked;
    if (b.kind === "no-value") return done("skipped", noChanges(), b.message);
    if (b.kind === "environment-error") return error(b.message, "fix the environment; its pairs run again once it evaluates");
    return error(`binding "${pair.bindingId}": ${b.problems.map(formatProblem).join("; ")}`, "fix the names or values; nothing was written");
  }
  const kind = findTargetKind(pair.kind)!;
  const missing = kind.plugins.map((p) => ctx.missingPlugins.get(pluginKey(p))).find(Boolean);
  if (missing) return error(missing, "side-load the plugin, then run again");
  if (ctx.signal?.aborted) return done("skipped", noChanges(), "interrupted before it started");

  const existing = ctx.inventory.byName.get(pair.stack);
  if (operation === "drift" && !existing) {
    // Never synced: every entry is pending, and no Pulumi call is needed to know it.
    const entries = compareEntries(pair.entries, undefined, false, ctx.fingerprintKey ?? "");
    return doneDrift({ status: pairStatus(entries), entries }, "never synced");
  }
  const decision = ctx.guard.get(pair.stack);
  if (decision && !decision.allowed) return done("blocked", noChanges(), guardMessage(decision.deletes), "nothing was written to this target");
  const adopt = ctx.adopt?.get(pair.stack);
  // Unchanged input and nothing left pending: there is nothing to write. (--refresh looks anyway.)
  if (operation !== "drift" && !adopt && !ctx.refresh && !ctx.force && existing?.record?.fingerprint === pair.fingerprint && existing.pendingOperations === 0) {
    return done("unchanged", noChanges());
  }

  ctx.emit({ kind: "pair-start", pair: info, operation, at: Date.now() });
  const tally = new EngineEventTally((resource, op) => ctx.emit({ kind: "pair-engine-event", pair: info, resource, op, at: Date.now() }));
  const refreshTally = new EngineEventTally();
  const signal = ctx.signal ? { signal: ctx.signal } : {};
  try {
    const program = kind.program(programInput(pair, adopt));
    const record = recordOf(pair, adopt !== undefined);
    // The record goes into the state with the update itself: it is there exactly when the update is.
    const withRecord: automation.PulumiFn = async () => ({ ...((await program()) ?? {}), [RECORD_OUTPUT]: record });
    return await withWorkDir(pair.stack, async (dir) => {
      const ws = await automation.LocalWorkspace.create(workspaceOptions(ctx.backend, ctx.toolchain, dir, withRecord));
      // Creating a stack another run is creating at the same moment can meet its lock: wait too.
      const stack = await withRetry(() => (existing ? automation.Stack.select(pair.stack, ws) : createStack(ws, pair, notes)), {
        maxAttempts: 8,
        baseDelayMs: 500,
        maxDelayMs: 5_000,
        isRetryable: (err) => err instanceof automation.ConcurrentUpdateError,
        ...signal,
      });
      const op = <T>(fn: () => Promise<T>) => engineOp(ctx, info, stack, tally, notes, fn);
      if (existing && existing.pendingOperations > 0) {
        // An interrupted run left operations unfinished: read what the store really holds.
        await op(() => stack.refresh({ color: "never", clearPendingCreates: true, onEvent: refreshTally.handle, ...(pair.credentials ? { runProgram: true } : {}), ...signal }));
        notes.push(`recovered ${existing.pendingOperations} operation(s) left pending by an interrupted run`);
      }
      // Drift: one engine operation (refresh: writes esc-sync's state, never a target) and one
      // state export (no plugins); desired values are compared in process.
      // With credentials from the environment, the refresh runs the program, so that the
      // provider uses this run's credentials rather than the (expired) ones in the state.
      const runProgram = pair.credentials ? { runProgram: true } : {};
      const inspect = async (): Promise<PairDrift> => {
        // A resource the refresh finds gone leaves the state: keep what it was, so that its
        // entries read as missing rather than never written.
        const before = kind.readBack ? stateResources(await stack.exportStack()) : [];
        await op(() => stack.refresh({ color: "never", onEvent: refreshTally.handle, ...runProgram, ...signal }));
        const after = kind.readBack ? stateResources(await stack.exportStack()) : [];
        const gone = before.filter((r) => !after.some((a) => a.urn === r.urn)).map((r) => ({ ...r, outputs: undefined }));
        const readback = kind.readBack?.([...after, ...gone], pair.shape);
        const entries = compareEntries(pair.entries, readback, true, ctx.fingerprintKey ?? "");
        return { status: pairStatus(entries), entries };
      };
      if (operation === "drift") {
        const drift = await inspect();
        return doneDrift(drift, undefined, kind.readBack ? undefined : `${pair.kind} values cannot be read back: entries are unverifiable`);
      }
      if (operation === "preview") {
        await op(() => stack.preview({ color: "never", refresh: ctx.refresh, onEvent: tally.handlePreview, ...signal }));
        const c = tally.changes;
        const deletes = decision?.deletes.length ? `would delete ${decision.deletes.join(", ")}` : undefined;
        return done(c.create + c.update + c.delete + c.replace > 0 ? "changes-pending" : "unchanged", c, deletes);
      }
      // With --refresh, find the drift first, so that the report can say what was repaired;
      // the up that follows starts from the refreshed state.
      const found = ctx.refresh && existing ? await inspect() : undefined;
      await op(() => stack.up({ color: "never", onEvent: tally.handle, ...signal }));
      const c = tally.changes;
      const status: PairStatus = c.create + c.update + c.delete + c.replace === 0 ? "unchanged" : existing ? "updated" : "created";
      const repaired = found?.entries.filter((e) => e.status === "drifted" || e.status === "missing") ?? [];
      if (decision?.deletes.length) notes.push(`deleted ${decision.deletes.join(", ")}`);
      if (adopt) notes.push(`adopted ${[...adopt].join(", ")}: the next sync writes ESC's values`);
      if (repaired.length > 0) {
        const names = repaired.map((e) => `${e.name} (${e.status})`).join(", ");
        return done(status, c, `repaired ${repaired.length} entr${repaired.length === 1 ? "y" : "ies"} changed outside esc-sync: ${names}`, undefined, {
          repaired: repaired.length,
          drift: found!,
        });
      }
      return done(status, c);
    });
  } catch (err) {
    tally.errors.push(...refreshTally.errors);
    if (ctx.signal?.aborted) return error("interrupted: the update was cancelled and its lock released", "run again to finish");
    return error(failureMessage(err, tally), failureHint(err));
  }
}

async function createStack(ws: automation.LocalWorkspace, pair: Pair, notes: string[]): Promise<automation.Stack> {
  let stack: automation.Stack;
  try {
    stack = await automation.Stack.create(pair.stack, ws);
  } catch (err) {
    if (err instanceof automation.StackAlreadyExistsError) return automation.Stack.select(pair.stack, ws);
    throw err;
  }
  // Tags are for people (`pulumi stack ls`, the console); the record output is what runs read,
  // so only the two that identify the pair are set (each is a CLI call), and a failure to set them
  // (another run holding the stack a moment) costs nothing but the tags.
  try {
    await ws.setTag(pair.stack, STACK_TAGS.environment, envFullName(pair.env));
    await ws.setTag(pair.stack, STACK_TAGS.target, pair.targetId);
  } catch (err) {
    if (!(err instanceof automation.ConcurrentUpdateError)) throw err;
    notes.push("stack tags not set: another run held the stack (they are informational)");
  }
  return stack;
}

/** Removes the entries and the stack of a pair whose environment or binding is gone. */
export async function destroyOrphan(ctx: PairContext, orphan: ExistingStack, info: PairInfo): Promise<PairStatus> {
  const t0 = Date.now();
  const notes: string[] = [];
  const tally = new EngineEventTally((resource, op) => ctx.emit({ kind: "pair-engine-event", pair: info, resource, op, at: Date.now() }));
  const done = (status: PairStatus, message?: string, hint?: string) => {
    const text = [message, ...notes].filter(Boolean).join("; ");
    ctx.emit({ kind: "pair-done", pair: info, operation: "destroy", status, changes: tally.changes, ...(text ? { message: text } : {}), ...(hint ? { hint } : {}), durationMs: Date.now() - t0, at: Date.now() });
    return status;
  };
  const decision = ctx.guard.get(orphan.name);
  if (decision && !decision.allowed) return done("blocked", `its environment or binding no longer exists; ${guardMessage(decision.deletes)}`, "nothing was deleted");
  if (ctx.signal?.aborted) return done("skipped", "interrupted before it started");
  ctx.emit({ kind: "pair-start", pair: info, operation: "destroy", at: Date.now() });
  try {
    return await withWorkDir(orphan.name, async (dir) => {
      const ws = await automation.LocalWorkspace.create(workspaceOptions(ctx.backend, ctx.toolchain, dir));
      const stack = await automation.Stack.select(orphan.name, ws);
      await engineOp(ctx, info, stack, tally, notes, () => stack.destroy({ color: "never", remove: true, onEvent: tally.handle, ...(ctx.signal ? { signal: ctx.signal } : {}) }));
      return done("deleted", `its environment or binding no longer exists: ${orphan.record?.entries.length ?? 0} entr(ies) removed, stack removed`);
    });
  } catch (err) {
    if (ctx.signal?.aborted) return done("failed", "interrupted", "run again to finish");
    return done("failed", failureMessage(err, tally), failureHint(err));
  }
}

/** Removes an empty stack no pair claims (left by a run interrupted before its first update). */
export async function removeLeftover(ctx: PairContext, stack: ExistingStack): Promise<void> {
  try {
    await withWorkDir(stack.name, async (dir) => {
      const ws = await automation.LocalWorkspace.create(workspaceOptions(ctx.backend, ctx.toolchain, dir));
      await ws.removeStack(stack.name);
    });
    ctx.emit({ kind: "warning", message: `removed empty stack ${stack.name} (no resources, no pair claims it)`, at: Date.now() });
  } catch (err) {
    ctx.emit({ kind: "warning", message: `could not remove empty stack ${stack.name}: ${lastLine(err instanceof Error ? err.message : String(err))}`, at: Date.now() });
  }
}

function failureMessage(err: unknown, tally: EngineEventTally): string {
  if (err instanceof automation.ConcurrentUpdateError) {
    const locks = parseLocks(err.message).map((l) => `${l.user}@${l.host} pid ${l.pid} since ${l.createdAt.toISOString()}`);
    return `the stack is locked by another run${locks.length ? ` (${[...new Set(locks)].join("; ")})` : ""}, still after waiting`;
  }
  if (tally.errors.length > 0) return tally.errors.slice(0, 3).join("\n");
  if (err instanceof automation.CommandError) {
    const stderr = /stderr: ([\s\S]*?)(?:\n err\?:|$)/.exec(err.message)?.[1]?.trim();
    return lastLine(stderr || err.message);
  }
  return err instanceof Error ? err.message : String(err);
}

function failureHint(err: unknown): string | undefined {
  if (err instanceof automation.ConcurrentUpdateError) {
    return "another esc-sync run holds it: run again later; if no run is active, `pulumi cancel` clears the lock";
  }
  return undefined;
}

function lastLine(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  return lines.slice(-2).join(" ") || text;
}
