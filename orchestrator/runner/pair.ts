/**
 * What every engine step of a pair shares (the handlers are in `steps.ts`): its deadline, the
 * release of a lock a killed operation left, the retry rules of one engine operation (a lock held
 * by a live run, a stale lock, provider throttling), and the creation of a new pair's stack.
 * Failures are classified in `failures.ts`.
 */
import * as automation from "@pulumi/pulumi/automation/index.js";
import { envFullName } from "../../programs/environment-ref.js";
import type { RunPlan } from "../planner/decide.js";
import { STACK_TAGS, type Pair } from "../planner/plan.js";
import type { ExistingStack } from "../planner/stacks.js";
import { withRetry } from "../retry.js";
import type { PairInfo } from "./events.js";
import type { ExecuteContext } from "./context.js";
import { describeExport } from "./backend-stacks.js";
import { classifyEngineError, EngineFailure, lastLines, staleLockCleared } from "./failures.js";
import { staleReason } from "./locks.js";
import { killRun, RUN_MARK } from "./processes.js";
import { EngineEventTally, leanStack, workspaceOptions, withWorkDir } from "./stack.js";

/** What every step of a run shares. */
export interface PairContext extends ExecuteContext {
  plan: RunPlan;
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
export function pairDeadline(ctx: ExecuteContext, stack: string) {
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
export async function releaseLock(ctx: ExecuteContext, stackName: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const cancel = withWorkDir(`unlock-${stackName}`, async (dir) => {
    const ws = await automation.LocalWorkspace.create(workspaceOptions(ctx.backend, ctx.toolchain, dir));
    await (await automation.Stack.select(stackName, ws)).cancel();
  }).catch(() => undefined);
  await Promise.race([cancel, new Promise((r) => (timer = setTimeout(r, 30_000)))]);
  clearTimeout(timer);
}

/**
 * Runs one engine operation with the pair's retry rules: a stale lock is cleared at once (with a
 * note); a lock held by a live run and provider throttling are retried with backoff, within
 * bounds; anything else fails at once. Throws an {@link EngineFailure} (its cause the error the
 * operation threw), unless the run was interrupted.
 */
export async function engineOp<T>(ctx: Pick<ExecuteContext, "emit" | "signal" | "lockWaitMs" | "staleLockMs">, info: PairInfo, stack: automation.Stack, tally: EngineEventTally, notes: string[], op: () => Promise<T>): Promise<T> {
  const lockDeadline = Date.now() + ctx.lockWaitMs;
  return withRetry(
    async () => {
      try {
        return await op();
      } catch (err) {
        if (ctx.signal?.aborted) throw err;
        const failure = classifyEngineError(err, tally.errors);
        if (failure.kind === "locked") {
          const stale = failure.locks.map((l) => staleReason(l, { maxAgeMs: ctx.staleLockMs }));
          if (stale.length > 0 && stale.every(Boolean)) {
            await stack.cancel();
            // One clause per distinct reason, one note per lock cleared: a retry finding it again says nothing new.
            const note = `cleared a stale lock: ${[...new Set(stale)].join("; ")}`;
            if (!notes.includes(note)) notes.push(note);
            throw staleLockCleared(failure);
          }
          throw Date.now() < lockDeadline ? failure : failure.final();
        }
        throw failure;
      }
    },
    {
      maxAttempts: 8,
      baseDelayMs: 500,
      maxDelayMs: 10_000,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      onRetry: (e) => {
        tally.errors.length = 0;
        const cause = e.error instanceof EngineFailure ? e.error.retryCause : e.reason.split("\n")[0]!;
        ctx.emit({ kind: "pair-retry", pair: info, attempt: e.attempt, cause, delayMs: e.delayMs, at: Date.now() });
      },
    },
  );
}

/** Creates a new pair's stack (or selects it, where another run just created it) and tags it. */
export async function createStack(ws: automation.LocalWorkspace, pair: Pair, notes: string[]): Promise<automation.Stack> {
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

/** Removes a new stack whose first update failed, when it holds nothing of a target and nothing pending. */
export async function removeIfEmpty(ws: automation.LocalWorkspace, stack: automation.Stack, notes: string[]): Promise<void> {
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
    ctx.emit({ kind: "warning", message: `could not remove empty stack ${stack.name}: ${lastLines(err instanceof Error ? err.message : String(err))}`, at: Date.now() });
  }
}
