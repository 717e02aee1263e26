/**
 * One step of a run plan on its stack: sync (up), preview, drift (refresh + export), adoption,
 * a move, or the removal of an orphan. Retries what may pass (a lock held by a live run, provider
 * throttling), clears what an interrupted run left (stale locks, pending operations), and never
 * throws. It carries out the step's decision; it makes none.
 */
import * as automation from "@pulumi/pulumi/automation/index.js";
import { envFullName } from "../../programs/environment-ref.js";
import { findTargetKind } from "../../programs/registry.js";
import { compareEntries, pairStatus } from "../drift/compare.js";
import { ADOPTED_PREFIX, type Decision, type PlannedStep, type RunPlan } from "../planner/decide.js";
import { programInput, STACK_TAGS, type Pair } from "../planner/plan.js";
import { withRetry } from "../retry.js";
import { noChanges, type ChangeCounts, type Operation, type PairDrift, type PairInfo, type PairStatus } from "./events.js";
import type { ExecuteContext } from "./context.js";
import { describeExport, RECORD_OUTPUT, type ExistingStack, type StackRecord } from "./inventory.js";
import { parseLocks, staleReason } from "./locks.js";
import { withSettledRecord } from "./record-output.js";
import { RuntimeClients } from "./runtime-clients.js";
import { missingPluginOf } from "./plugins.js";
import { killRun, RUN_MARK } from "./processes.js";
import { DISK_FULL, removeCutLocks, restoreCutCheckpoint } from "./cut-checkpoint.js";
import { EngineEventTally, leanStack, workspaceOptions, withWorkDir } from "./stack.js";
import { refreshedResources, stateResources } from "./state.js";

/** What every step of a run shares. */
export interface PairContext extends ExecuteContext {
  plan: RunPlan;
  operation: Operation;
  missingPlugins: ReadonlyMap<string, string>;
  /** Set when a failure means every other pair would fail the same way (a wrong passphrase). */
  halted: { reason?: string };
}

/** A duration for people: `15m`, `90s`, `1h30m`. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${rest ? `${rest}s` : ""}`;
}

/**
 * A pair's deadline: its signal aborts when the pair's time is up or the run is interrupted;
 * the engine is asked to stop (SIGINT), and if it has not after the grace period, every process
 * of the pair (CLI, dynamic provider, plugins) is killed, since an operation stuck in a provider
 * never ends by itself.
 */
function pairDeadline(ctx: ExecuteContext, stack: string) {
  const controller = new AbortController();
  let timedOut = false;
  let killed = 0;
  let grace: NodeJS.Timeout | undefined;
  const armGrace = () => {
    grace ??= setTimeout(() => {
      killed = killRun(ctx.toolchain.env[RUN_MARK]!, "SIGKILL", stack);
    }, ctx.graceMs);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
    armGrace();
  }, ctx.pairTimeoutMs);
  const onRunAbort = () => {
    controller.abort();
    armGrace();
  };
  if (ctx.signal?.aborted) onRunAbort();
  else ctx.signal?.addEventListener("abort", onRunAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    killed: () => killed,
    dispose() {
      clearTimeout(timer);
      if (grace) clearTimeout(grace);
      ctx.signal?.removeEventListener("abort", onRunAbort);
    },
  };
}

/**
 * Clears the lock a killed operation left (its own work directory is gone by then: a fresh one),
 * without waiting on a CLI that may hang too.
 */
async function releaseLock(ctx: ExecuteContext, stackName: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const cancel = withWorkDir(`unlock-${stackName}`, async (dir) => {
    const ws = await automation.LocalWorkspace.create(workspaceOptions(ctx.backend, ctx.toolchain, dir));
    await (await automation.Stack.select(stackName, ws)).cancel();
  }).catch(() => undefined);
  await Promise.race([cancel, new Promise((r) => (timer = setTimeout(r, 30_000)))]);
  clearTimeout(timer);
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
export async function engineOp<T>(ctx: Pick<ExecuteContext, "emit" | "signal" | "lockWaitMs" | "staleLockMs">, info: PairInfo, stack: automation.Stack, tally: EngineEventTally, notes: string[], op: () => Promise<T>): Promise<T> {
  const lockDeadline = Date.now() + ctx.lockWaitMs;
  return withRetry(
    async () => {
      try {
        return await op();
      } catch (err) {
        if (ctx.signal?.aborted) throw err;
        if (err instanceof automation.ConcurrentUpdateError) {
          const locks = parseLocks(err.message);
          const stale = locks.length > 0 ? locks.map((l) => staleReason(l, { maxAgeMs: ctx.staleLockMs })) : [];
          if (stale.length > 0 && stale.every(Boolean)) {
            await stack.cancel();
            // One clause per distinct reason, one note per lock cleared: a retry finding it again says nothing new.
            const note = `cleared a stale lock: ${[...new Set(stale)].join("; ")}`;
            if (!notes.includes(note)) notes.push(note);
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

/** Why a run decision runs, for the report. */
const WHY: Record<Extract<Decision, { action: "run" }>["why"], string | undefined> = {
  new: undefined,
  "input-changed": undefined,
  forced: "forced",
  refresh: undefined,
  "pending-operations": undefined,
  "adopted-entries": "writes ESC's values over the adopted entries",
  "changed-in-place": undefined,
  inspect: undefined,
};

/** Carries out one step. Resolves with the status it reported. */
export async function runStep(ctx: PairContext, step: PlannedStep, info: PairInfo): Promise<PairStatus> {
  const t0 = Date.now();
  const operation = ctx.operation;
  const notes: string[] = [];
  const done = (status: PairStatus, changes: ChangeCounts, message?: string, hint?: string, extra: { drift?: PairDrift; repaired?: number; operation?: Operation } = {}) => {
    const text = [message, ...notes].filter(Boolean).join("; ") || undefined;
    const { operation: op = operation, ...rest } = extra;
    ctx.emit({ kind: "pair-done", pair: info, operation: op, status, changes, ...(text ? { message: text } : {}), ...(hint ? { hint } : {}), ...rest, durationMs: Date.now() - t0, at: Date.now() });
    return status;
  };
  const doneDrift = (drift: PairDrift, message?: string, hint?: string) =>
    done(drift.status === "error" ? "failed" : drift.status === "in-sync" ? "unchanged" : "changes-pending", noChanges(), message, hint, { drift });
  const d = step.decision;
  const pair = step.pair;

  switch (d.action) {
    case "refuse":
      return operation === "drift" ? doneDrift({ status: "error", entries: [] }, d.message, d.hint) : done("refused", noChanges(), d.message, d.hint);
    case "skip":
      return done("skipped", noChanges(), d.why);
    case "skip-unchanged":
      return done("unchanged", noChanges());
    case "hold":
      return done("held", noChanges(), d.message, d.hint, d.of === "destroy-orphan" ? { operation: "destroy" } : {});
    case "report":
      if (d.why === "never-synced") {
        // Never synced: every entry is pending, and no Pulumi call is needed to know it.
        const entries = compareEntries(pair!.entries, undefined, false, ctx.fingerprintKey);
        return doneDrift({ status: pairStatus(entries), entries }, "never synced");
      }
      {
        const entries = step.existing?.record?.entries ?? [];
        const listed = entries.length ? `: would delete ${entries.join(", ")}` : "";
        const message = `its environment or binding no longer exists${listed}; \`esc-sync sync\` (or prune) removes it`;
        const drift = operation === "drift" ? { drift: { status: "orphaned" as const, entries: [] } } : {};
        return done("changes-pending", noChanges(), message, undefined, drift);
      }
    case "destroy-orphan":
      return destroyOrphan(ctx, step.existing!, info, t0);
    case "run":
    case "adopt":
    case "move": {
      if (ctx.halted.reason) return done("skipped", noChanges(), `not run: ${ctx.halted.reason}`);
      return runEngine(ctx, step, pair!, info, done, doneDrift, notes);
    }
  }
}

type Done = (status: PairStatus, changes: ChangeCounts, message?: string, hint?: string, extra?: { drift?: PairDrift; repaired?: number }) => PairStatus;

/** The engine steps: drift (refresh + compare), preview, or up (adoption and moves included). */
async function runEngine(ctx: PairContext, step: PlannedStep, pair: Pair, info: PairInfo, done: Done, doneDrift: (d: PairDrift, m?: string, h?: string) => PairStatus, notes: string[]): Promise<PairStatus> {
  const operation = ctx.operation;
  const startedAt = Date.now();
  const d = step.decision;
  const error = (message: string, hint?: string) => (operation === "drift" ? doneDrift({ status: "error", entries: [] }, message, hint) : done("failed", noChanges(), message, hint));
  const kind = findTargetKind(pair.kind)!;
  const missing = missingPluginOf(pair, ctx.missingPlugins);
  if (missing) return error(missing, "side-load the plugin, then run again");
  if (ctx.signal?.aborted) return done("skipped", noChanges(), "interrupted before it started");
  const existing = step.existing;
  const adopt = d.action === "adopt" ? new Set(d.names) : undefined;
  const deletes = d.action === "run" || d.action === "move" ? d.deletes : [];
  if (d.action === "run" && d.why !== "inspect" && WHY[d.why]) notes.push(WHY[d.why]!);
  if ((d.action === "run" || d.action === "move") && d.note) notes.push(d.note);

  if (operation === "preview" && !existing) {
    // A dry run never writes to the backend: a new pair's stack is not created to preview it.
    const changes = { ...noChanges(), create: pair.entries.length };
    return done("changes-pending", changes, `new: would create ${pair.entries.map((e) => e.name).join(", ") || "its stack"}`);
  }

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
      if (existing && existing.pendingOperations > 0) {
        // An interrupted run left operations unfinished: read what the store really holds.
        await op(() => stack.refresh({ color: "never", clearPendingCreates: true, onEvent: refreshTally.handle, ...runProgram, ...signal }));
        notes.push(`recovered ${existing.pendingOperations} operation(s) left pending by an interrupted run`);
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
      if (operation === "drift") {
        const drift = await inspect();
        const unverifiable = kind.readBack ? undefined : `${pair.kind} values cannot be read back: entries are unverifiable`;
        // What the store holds may match while the pair's own input moved on (a new location, a
        // mode, a name template): a sync would rewrite it, so the report must say so.
        const record = existing?.record;
        if (record && record.fingerprint !== pair.fingerprint && (drift.status === "in-sync" || drift.status === "unverifiable")) {
          const moved = record.location !== undefined && record.location !== pair.location;
          const why = moved ? `its target location changed from ${record.location} to ${pair.location}: a sync would move it` : "its input changed since the last sync (settings, names or values): a sync would rewrite it";
          return doneDrift({ status: "pending", entries: drift.entries.length ? drift.entries : [{ name: "(pair)", status: "pending" }] }, why, unverifiable);
        }
        return doneDrift(drift, undefined, unverifiable);
      }
      if (operation === "preview") {
        await op(() => stack.preview({ color: "never", refresh: ctx.plan.refresh || (d.action === "run" && d.why === "changed-in-place"), onEvent: tally.handlePreview, ...signal }));
        const c = tally.changes;
        const what = d.action === "move" ? `would move from ${d.from} to ${d.to}` : deletes.length ? `would delete ${deletes.join(", ")}` : undefined;
        return done(c.create + c.update + c.delete + c.replace > 0 ? "changes-pending" : "unchanged", c, what);
      }
      // With --refresh, find the drift first, so that the report can say what was repaired;
      // the up that follows starts from the refreshed state.
      // A pair run because its store changed in place refreshes too, to say what it repaired.
      const found = (ctx.plan.refresh || (d.action === "run" && d.why === "changed-in-place")) && existing ? await inspect() : undefined;
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
      const status: PairStatus = d.action === "move" ? "moved" : !changed ? "unchanged" : existing ? "updated" : "created";
      if (d.action === "move") notes.unshift(`moved from ${d.from} to ${d.to}${deletes.length ? `: deleted ${deletes.join(", ")} there` : ""}`);
      else if (deletes.length) notes.push(`deleted ${deletes.join(", ")}`);
      if (adopt) notes.push(`adopted ${[...adopt].join(", ")}: the next sync writes ESC's values`);
      const repaired = found?.entries.filter((e) => e.status === "drifted" || e.status === "missing") ?? [];
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
    if (deadline.timedOut()) {
      if (deadline.killed() > 0) await releaseLock(ctx, pair.stack);
      const ended = deadline.killed() > 0 ? `; it did not stop when asked, so its ${deadline.killed()} process(es) were ended` : "";
      return error(
        `timed out after ${formatDuration(ctx.pairTimeoutMs)}: the operation was cancelled${ended} and its lock released`,
        "raise --pair-timeout (or pairTimeout in the manifest) if the store is slow; otherwise find out why it hangs, then run again",
      );
    }
    if (ctx.signal?.aborted) {
      if (deadline.killed() > 0) await releaseLock(ctx, pair.stack);
      return error("interrupted: the update was cancelled and its lock released", "run again to finish");
    }
    const message = failureMessage(err, tally);
    // A full disk leaves files cut short (Pulumi's blob library commits a failed write): put back
    // the state file from its backup and remove a cut lock now, or the stack stays unusable.
    if (DISK_FULL.test(message)) {
      if (await restoreCutCheckpoint(ctx.backend.url, pair.stack, startedAt)) notes.push("its state file, cut short by the full disk, was put back from Pulumi's backup (.json.bak): its record is kept");
      if ((await removeCutLocks(ctx.backend.url, pair.stack)) > 0) notes.push("a lock file cut short by the full disk was removed");
    }
    if (WRONG_PASSPHRASE.test([...tally.errors, String(err)].join("\n"))) ctx.halted.reason ??= "the passphrase does not decrypt the state (see the pair that failed)";
    return error(message, failureHint(err, message));
  } finally {
    clients.closeAll();
    deadline.dispose();
  }
}

async function createStack(ws: automation.LocalWorkspace, pair: Pair, notes: string[]): Promise<automation.Stack> {
  let stack: automation.Stack;
  try {
    stack = await leanStack(pair.stack, ws, "create");
  } catch (err) {
    if (err instanceof automation.StackAlreadyExistsError) return leanStack(pair.stack, ws, "select");
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
async function destroyOrphan(ctx: PairContext, orphan: ExistingStack, info: PairInfo, t0: number): Promise<PairStatus> {
  const notes: string[] = [];
  const tally = new EngineEventTally((resource, op) => ctx.emit({ kind: "pair-engine-event", pair: info, resource, op, at: Date.now() }));
  const done = (status: PairStatus, message?: string, hint?: string) => {
    const text = [message, ...notes].filter(Boolean).join("; ");
    ctx.emit({ kind: "pair-done", pair: info, operation: "destroy", status, changes: tally.changes, ...(text ? { message: text } : {}), ...(hint ? { hint } : {}), durationMs: Date.now() - t0, at: Date.now() });
    return status;
  };
  if (ctx.signal?.aborted) return done("skipped", "interrupted before it started");
  ctx.emit({ kind: "pair-start", pair: info, operation: "destroy", at: Date.now() });
  const deadline = pairDeadline(ctx, orphan.name);
  try {
    return await withWorkDir(orphan.name, async (dir) => {
      const ws = await automation.LocalWorkspace.create(workspaceOptions(ctx.backend, ctx.toolchain, dir, undefined, orphan.name));
      const stack = await leanStack(orphan.name, ws, "select");
      await engineOp({ ...ctx, signal: deadline.signal }, info, stack, tally, notes, () => stack.destroy({ color: "never", remove: true, onEvent: tally.handle, signal: deadline.signal }));
      const n = orphan.record?.entries.length ?? 0;
      return done("deleted", `its environment or binding no longer exists: ${n} ${n === 1 ? "entry" : "entries"} removed, stack removed`);
    });
  } catch (err) {
    if (deadline.killed() > 0) await releaseLock(ctx, orphan.name);
    if (deadline.timedOut()) return done("failed", `timed out after ${formatDuration(ctx.pairTimeoutMs)}: the removal was cancelled`, "raise --pair-timeout, or find out why it hangs");
    if (ctx.signal?.aborted) return done("failed", "interrupted", "run again to finish");
    return done("failed", failureMessage(err, tally), failureHint(err));
  } finally {
    deadline.dispose();
  }
}

/** Removes a new stack whose first update failed, when it holds nothing of a target and nothing pending. */
async function removeIfEmpty(ws: automation.LocalWorkspace, stack: automation.Stack, notes: string[]): Promise<void> {
  try {
    const found = describeExport(stack.name, await stack.exportStack());
    if (found.resources > 0 || found.pendingOperations > 0) return;
    // --force: the stack still holds its root resource and provider, never a target's.
    await ws.removeStack(stack.name, { force: true });
    notes.push("its new stack was removed (nothing was written)");
  } catch {
    // Left for the next run, which removes empty stacks no pair claims.
  }
}

/** Removes an empty stack no pair claims (left by a run interrupted before its first update). */
export async function removeLeftover(ctx: ExecuteContext, stack: ExistingStack): Promise<void> {
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

/** The state cannot be decrypted with the passphrase given: every pair would fail the same way. */
export const WRONG_PASSPHRASE = /incorrect passphrase/i;

function failureMessage(err: unknown, tally: EngineEventTally): string {
  const raw = [...tally.errors, err instanceof Error ? err.message : String(err)].join("\n");
  if (WRONG_PASSPHRASE.test(raw)) return "the passphrase does not decrypt this backend's state (PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE)";
  if (err instanceof automation.ConcurrentUpdateError) {
    const locks = parseLocks(err.message).map((l) => `${l.user}@${l.host} pid ${l.pid} since ${l.createdAt.toISOString()}`);
    return `the stack is locked by another run${locks.length ? ` (${[...new Set(locks)].join("; ")})` : ""}, still after waiting`;
  }
  if (DISK_FULL.test(raw)) {
    // The CLI's text names a temp file in a chain of wrappers: the file it was writing says enough.
    const file = /write (\S+?)(?:\.[0-9a-f]{16}\.tmp)?: no space left on device/i.exec(raw)?.[1];
    return `no space left on device: could not write ${file ?? "a file (the state backend's or the target's)"}`;
  }
  if (tally.errors.length > 0) return tally.errors.slice(0, 3).join("\n");
  if (err instanceof automation.CommandError) {
    const stderr = /stderr: ([\s\S]*?)(?:\n err\?:|$)/.exec(err.message)?.[1]?.trim();
    return withoutCommandLine(lastLine(stderr || err.message));
  }
  return withoutCommandLine(err instanceof Error ? err.message : String(err));
}

/** The CLI's own words, without the command line the Automation API puts before them. */
function withoutCommandLine(text: string): string {
  const m = /^Command failed with exit code \d+: .*?\s(error: [\s\S]*)$/.exec(text);
  return m ? m[1]! : text;
}

function failureHint(err: unknown, message = ""): string | undefined {
  if (DISK_FULL.test(message)) return "free space on the disk that holds that file (or give it a larger volume), then run again (serve retries it by itself)";
  if (WRONG_PASSPHRASE.test(err instanceof Error ? err.message : String(err))) {
    return "set the passphrase this state was written with; the run stopped before its other pairs, which would fail the same way";
  }
  if (err instanceof automation.ConcurrentUpdateError) {
    return "another esc-sync run holds it: run again later; if no run is active, `pulumi cancel` clears the lock";
  }
  return undefined;
}

function lastLine(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  return lines.slice(-2).join(" ") || text;
}
