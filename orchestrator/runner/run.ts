/**
 * The runner: runs planned pairs through the Automation API with bounded concurrency and
 * reports every step as a typed event. One pair failing never stops the others.
 */
import * as automation from "@pulumi/pulumi/automation/index.js";
import pLimit from "p-limit";
import { findTargetKind } from "../../programs/registry.js";
import type { PluginRequirement } from "../../programs/contract.js";
import type { Pair } from "../planner/plan.js";
import { STACK_TAGS } from "../planner/plan.js";
import { envFullName, type EnvironmentRef } from "../sources/source.js";
import { formatProblem } from "../errors.js";
import { compareEntries, pairStatus } from "../drift/compare.js";
import { noChanges, type ChangeCounts, type EventSink, type Operation, type PairDrift, type PairInfo, type PairStatus, type RunSummary } from "./events.js";
import { stateResources } from "./state.js";
import { EngineEventTally, workspaceOptions, withWorkDir, type Backend } from "./stack.js";
import type { Toolchain } from "./toolchain.js";

/** A stack of the esc-sync project found in the backend, with its tags. */
export interface ExistingStack {
  name: string;
  tags: Record<string, string>;
}

/** Everything one run needs. */
export interface RunRequest {
  /** `sync` runs `up`; `preview` and `drift` change no target. */
  operation: "sync" | "preview" | "drift";
  /** Refresh from the targets first, so that drift is seen (and, for sync, repaired). */
  refresh: boolean;
  pairs: readonly Pair[];
  /** Stacks whose environment or binding no longer exists: destroyed by a sync. */
  orphans: readonly ExistingStack[];
  /** Names of the stacks that exist already (saves a CLI call per pair). */
  existing: ReadonlySet<string>;
  concurrency: number;
  backend: Backend;
  toolchain: Toolchain;
  emit: EventSink;
  signal?: AbortSignal;
  /** Key of the entry fingerprints in drift reports (never printed). */
  fingerprintKey?: string;
}

/** Describes a pair for events: names and fingerprints, no values. */
export function pairInfo(pair: Pair): PairInfo {
  return {
    stack: pair.stack,
    environment: envFullName(pair.env),
    target: pair.targetId,
    kind: pair.kind,
    location: pair.location,
    entries: pair.entries.map((e) => e.name),
    fingerprint: pair.fingerprint,
  };
}

function orphanInfo(stack: ExistingStack): PairInfo {
  return {
    stack: stack.name,
    environment: stack.tags[STACK_TAGS.environment] ?? "(unknown)",
    target: stack.tags[STACK_TAGS.target] ?? "(unknown)",
    kind: stack.tags[STACK_TAGS.kind] ?? "(unknown)",
    location: "(orphaned stack)",
    entries: [],
    fingerprint: "",
  };
}

/** Runs every pair (and destroys orphans on sync); resolves with the summary. Never throws for one pair. */
export async function run(req: RunRequest): Promise<RunSummary> {
  const started = Date.now();
  const operation: Operation = req.operation;
  const infos = req.pairs.map(pairInfo);
  req.emit({ kind: "run-start", operation, pairs: infos, concurrency: req.concurrency, at: Date.now() });
  const statuses: PairStatus[] = [];
  const limit = pLimit(req.concurrency);

  const missingPlugins = await ensurePlugins(req);

  const jobs = req.pairs.map((pair, i) => {
    const info = infos[i]!;
    req.emit({ kind: "pair-queued", pair: info, at: Date.now() });
    return limit(async () => {
      const status = await runPair(req, pair, info, missingPlugins);
      statuses.push(status);
    });
  });
  for (const orphan of req.orphans) {
    const info = orphanInfo(orphan);
    if (req.operation === "drift") {
      const drift = { status: "orphaned" as const, entries: [] };
      const message = "its environment or binding no longer exists: `esc-sync sync` removes its entries";
      req.emit({ kind: "pair-done", pair: info, operation: "drift", status: "changes-pending", changes: noChanges(), message, drift, durationMs: 0, at: Date.now() });
      statuses.push("changes-pending");
      continue;
    }
    if (req.operation !== "sync") continue;
    req.emit({ kind: "pair-queued", pair: info, at: Date.now() });
    jobs.push(
      limit(async () => {
        statuses.push(await destroyOrphan(req, orphan, info));
      }),
    );
  }
  await Promise.all(jobs);

  const byStatus: Partial<Record<PairStatus, number>> = {};
  for (const s of statuses) byStatus[s] = (byStatus[s] ?? 0) + 1;
  const failed = byStatus.failed ?? 0;
  const summary: RunSummary = { pairs: statuses.length, byStatus, failed, durationMs: Date.now() - started, exitCode: failed > 0 ? 1 : 0 };
  req.emit({ kind: "run-done", operation, summary, at: Date.now() });
  return summary;
}

async function runPair(req: RunRequest, pair: Pair, info: PairInfo, missingPlugins: ReadonlyMap<string, string>): Promise<PairStatus> {
  const t0 = Date.now();
  const operation: Operation = req.operation;
  const done = (status: PairStatus, changes: ChangeCounts, message?: string, hint?: string) => {
    req.emit({ kind: "pair-done", pair: info, operation, status, changes, ...(message ? { message } : {}), ...(hint ? { hint } : {}), durationMs: Date.now() - t0, at: Date.now() });
    return status;
  };
  const error = (message: string, hint?: string) =>
    req.operation === "drift" ? doneDrift({ status: "error", entries: [] }, message, hint) : done("failed", noChanges(), message, hint);
  const doneDrift = (drift: PairDrift, message?: string, hint?: string) => {
    const status: PairStatus = drift.status === "error" ? "failed" : drift.status === "in-sync" ? "unchanged" : "changes-pending";
    req.emit({ kind: "pair-done", pair: info, operation, status, changes: noChanges(), drift, ...(message ? { message } : {}), ...(hint ? { hint } : {}), durationMs: Date.now() - t0, at: Date.now() });
    return status;
  };
  if (pair.blocked) {
    const b = pair.blocked;
    if (b.kind === "no-value") return done("skipped", noChanges(), b.message);
    if (b.kind === "environment-error") return error(b.message, "fix the environment; its pairs run again once it evaluates");
    return error(`binding "${pair.bindingId}": ${b.problems.map(formatProblem).join("; ")}`, "fix the names or values; nothing was written");
  }
  const kind = findTargetKind(pair.kind)!;
  const missing = kind.plugins.map((p) => missingPlugins.get(pluginKey(p))).find(Boolean);
  if (missing) return error(missing, "side-load the plugin, then run again");
  if (req.signal?.aborted) return done("skipped", noChanges(), "interrupted before it started");

  const isNew = !req.existing.has(pair.stack);
  if (req.operation === "drift" && isNew) {
    // Never synced: every entry is pending, and no Pulumi call is needed to know it.
    const entries = compareEntries(pair.entries, undefined, false, req.fingerprintKey ?? "");
    return doneDrift({ status: pairStatus(entries), entries }, "never synced");
  }
  req.emit({ kind: "pair-start", pair: info, operation, at: Date.now() });
  const tally = new EngineEventTally((resource, op) => req.emit({ kind: "pair-engine-event", pair: info, resource, op, at: Date.now() }));
  const refreshTally = new EngineEventTally();
  try {
    const program = kind.program({
      settings: pair.settings,
      shape: pair.shape,
      env: pair.env,
      targetId: pair.targetId,
      bindingId: pair.bindingId,
      entries: pair.entries,
      retainOnDelete: pair.retainOnDelete,
      ...(pair.credentials ? { credentials: pair.credentials } : {}),
    });
    return await withWorkDir(pair.stack, async (dir) => {
      const ws = await automation.LocalWorkspace.create(workspaceOptions(req.backend, req.toolchain, dir, program));
      const stack = isNew ? await createStack(ws, pair.stack, pair.env, pair) : await automation.Stack.select(pair.stack, ws);
      const common = { color: "never" as const, refresh: req.refresh, ...(req.signal ? { signal: req.signal } : {}) };
      // Drift: one engine operation (refresh: writes esc-sync's state, never a target) and one
      // state export (no plugins); desired values are compared in process.
      const inspect = async (): Promise<PairDrift> => {
        // A refresh tally of its own: what a refresh reports as updated is not a change we made.
        await stack.refresh({ color: "never", onEvent: refreshTally.handle, ...(req.signal ? { signal: req.signal } : {}) });
        const readback = kind.readBack?.(stateResources(await stack.exportStack()), pair.shape);
        const entries = compareEntries(pair.entries, readback, true, req.fingerprintKey ?? "");
        return { status: pairStatus(entries), entries };
      };
      if (req.operation === "drift") {
        const drift = await inspect();
        const readable = kind.readBack !== undefined;
        return doneDrift(drift, undefined, readable ? undefined : `${pair.kind} values cannot be read back: entries are unverifiable`);
      }
      if (req.operation === "preview") {
        await stack.preview({ ...common, onEvent: tally.handlePreview });
        const c = tally.changes;
        return done(c.create + c.update + c.delete + c.replace > 0 ? "changes-pending" : "unchanged", c);
      }
      // With --refresh, find the drift first, so that the report can say what was repaired;
      // the up that follows starts from the refreshed state.
      const found = req.refresh && !isNew ? await inspect() : undefined;
      await stack.up({ ...common, refresh: false, onEvent: tally.handle });
      const c = tally.changes;
      const status: PairStatus = c.create + c.update + c.delete + c.replace === 0 ? "unchanged" : isNew ? "created" : "updated";
      const repaired = found?.entries.filter((e) => e.status === "drifted" || e.status === "missing") ?? [];
      if (repaired.length > 0) {
        const names = repaired.map((e) => `${e.name} (${e.status})`).join(", ");
        req.emit({
          kind: "pair-done", pair: info, operation, status, changes: c, repaired: repaired.length, drift: found!,
          message: `repaired ${repaired.length} entr${repaired.length === 1 ? "y" : "ies"} changed outside esc-sync: ${names}`,
          durationMs: Date.now() - t0, at: Date.now(),
        });
        return status;
      }
      return done(status, c);
    });
  } catch (err) {
    tally.errors.push(...refreshTally.errors);
    return error(failureMessage(err, tally), failureHint(err));
  }
}

async function createStack(ws: automation.LocalWorkspace, name: string, env: EnvironmentRef, pair: Pair): Promise<automation.Stack> {
  let stack: automation.Stack;
  try {
    stack = await automation.Stack.create(name, ws);
  } catch (err) {
    if (err instanceof automation.StackAlreadyExistsError) return automation.Stack.select(name, ws);
    throw err;
  }
  // Tags record what the stack belongs to, so that a later run can tell an orphan.
  await ws.setTag(name, STACK_TAGS.environment, envFullName(env));
  await ws.setTag(name, STACK_TAGS.target, pair.targetId);
  await ws.setTag(name, STACK_TAGS.binding, pair.bindingId);
  await ws.setTag(name, STACK_TAGS.kind, pair.kind);
  return stack;
}

async function destroyOrphan(req: RunRequest, orphan: ExistingStack, info: PairInfo): Promise<PairStatus> {
  const t0 = Date.now();
  req.emit({ kind: "pair-start", pair: info, operation: "destroy", at: Date.now() });
  const tally = new EngineEventTally((resource, op) => req.emit({ kind: "pair-engine-event", pair: info, resource, op, at: Date.now() }));
  const done = (status: PairStatus, message?: string, hint?: string) => {
    req.emit({ kind: "pair-done", pair: info, operation: "destroy", status, changes: tally.changes, ...(message ? { message } : {}), ...(hint ? { hint } : {}), durationMs: Date.now() - t0, at: Date.now() });
    return status;
  };
  try {
    return await withWorkDir(orphan.name, async (dir) => {
      const ws = await automation.LocalWorkspace.create(workspaceOptions(req.backend, req.toolchain, dir));
      const stack = await automation.Stack.select(orphan.name, ws);
      await stack.destroy({ color: "never", remove: true, onEvent: tally.handle, ...(req.signal ? { signal: req.signal } : {}) });
      return done("deleted", "its environment or binding no longer exists: entries removed, stack removed");
    });
  } catch (err) {
    return done("failed", failureMessage(err, tally), failureHint(err));
  }
}

function pluginKey(p: PluginRequirement): string {
  return `${p.name}@${p.version}`;
}

/**
 * Installs, once and before fanning out, the provider plugins the run's pairs need (concurrent
 * installs into one plugin folder interfere). Returns a failure message per plugin that is
 * missing and could not be installed.
 */
async function ensurePlugins(req: RunRequest): Promise<Map<string, string>> {
  const needed = new Map<string, PluginRequirement>();
  for (const pair of req.pairs) {
    if (pair.blocked) continue;
    for (const p of findTargetKind(pair.kind)?.plugins ?? []) needed.set(pluginKey(p), p);
  }
  const missing = new Map<string, string>();
  if (needed.size === 0) return missing;
  await withWorkDir("plugins", async (dir) => {
    const ws = await automation.LocalWorkspace.create(workspaceOptions(req.backend, req.toolchain, dir));
    const installed = new Set((await ws.listPlugins()).filter((p) => p.kind === "resource").map((p) => `${p.name}@${p.version}`));
    for (const [key, p] of needed) {
      if (installed.has(key)) continue;
      try {
        await ws.installPlugin(p.name, `v${p.version}`);
      } catch (err) {
        const reason = lastLine(err instanceof Error ? err.message : String(err));
        const message =
          `provider plugin ${p.name} v${p.version} is not installed and could not be installed (${reason}); ` +
          `side-load it with: pulumi plugin install resource ${p.name} ${p.version} --file PATH`;
        missing.set(key, message);
        req.emit({ kind: "warning", message, at: Date.now() });
      }
    }
  });
  return missing;
}

function failureMessage(err: unknown, tally: EngineEventTally): string {
  if (err instanceof automation.ConcurrentUpdateError) return "the stack is locked by another update";
  if (tally.errors.length > 0) return tally.errors.slice(0, 3).join("\n");
  if (err instanceof automation.CommandError) {
    const stderr = /stderr: ([\s\S]*?)(?:\n err\?:|$)/.exec(err.message)?.[1]?.trim();
    return lastLine(stderr || err.message);
  }
  return err instanceof Error ? err.message : String(err);
}

function failureHint(err: unknown): string | undefined {
  if (err instanceof automation.ConcurrentUpdateError) return "another esc-sync run holds it; run again later, or `pulumi cancel` if no run is active";
  return undefined;
}

function lastLine(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  return lines.slice(-2).join(" ") || text;
}
