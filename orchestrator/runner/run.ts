/**
 * The runner: runs planned pairs through the Automation API with bounded concurrency and
 * reports every step as a typed event. One pair failing never stops the others.
 */
import pLimit from "p-limit";
import * as automation from "@pulumi/pulumi/automation/index.js";
import type { PluginRequirement } from "../../programs/contract.js";
import { findTargetKind } from "../../programs/registry.js";
import type { Pair } from "../planner/plan.js";
import { envFullName } from "../sources/source.js";
import { noChanges, type EventSink, type Operation, type PairInfo, type PairStatus, type RunSummary } from "./events.js";
import { decideDeletions, type DeletionPolicy, type GuardDecision } from "./guard.js";
import type { ExistingStack, Inventory } from "./inventory.js";
import { destroyOrphan, removeLeftover, runPair, type PairContext } from "./pair.js";
import { workspaceOptions, withWorkDir, type Backend } from "./stack.js";
import type { Toolchain } from "./toolchain.js";

/** Everything one run needs. */
export interface RunRequest {
  /** `sync` runs `up`; `preview` and `drift` change no target. */
  operation: "sync" | "preview" | "drift";
  /** Refresh from the targets first, so that drift is seen (and, for sync, repaired). */
  refresh: boolean;
  pairs: readonly Pair[];
  inventory: Inventory;
  concurrency: number;
  backend: Backend;
  toolchain: Toolchain;
  emit: EventSink;
  signal?: AbortSignal;
  /** Key of the entry fingerprints in drift reports (never printed). */
  fingerprintKey?: string;
  /** Which deletions a sync may make. Default: none. */
  deletions?: DeletionPolicy;
  /** Locks from other hosts older than this are stale. Default 30 minutes. */
  staleLockMs?: number;
  /** How long to wait for a stack locked by a live run. Default 60 s. */
  lockWaitMs?: number;
  /** Run `up` even for pairs whose input is unchanged since their last update. */
  force?: boolean;
  /** When the run began (before the inventory), for the summary's duration. Default: now. */
  startedAt?: number;
  /** `migrate adopt`: per stack, the entries to take over from the store instead of creating. */
  adopt?: ReadonlyMap<string, ReadonlySet<string>>;
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
    environment: stack.record?.environment ?? "(unknown)",
    target: stack.record?.target ?? "(unknown)",
    kind: stack.record?.kind ?? "(unknown)",
    location: "(orphaned stack)",
    entries: stack.record?.entries ?? [],
    fingerprint: "",
  };
}

/** Runs every pair (and removes orphans on sync); resolves with the summary. Never throws for one pair. */
export async function run(req: RunRequest): Promise<RunSummary> {
  const started = req.startedAt ?? Date.now();
  const operation: Operation = req.operation;
  const infos = req.pairs.map(pairInfo);
  req.emit({ kind: "run-start", operation, pairs: infos, concurrency: req.concurrency, at: Date.now() });
  const statuses: PairStatus[] = [];
  const limit = pLimit(req.concurrency);

  const guard = req.operation === "sync" ? guardDecisions(req) : new Map<string, GuardDecision>();
  const missingPlugins = req.operation === "drift" ? new Map<string, string>() : await ensurePlugins(req);
  const ctx: PairContext = { ...req, missingPlugins, guard };

  const jobs = req.pairs.map((pair, i) => {
    const info = infos[i]!;
    req.emit({ kind: "pair-queued", pair: info, at: Date.now() });
    return limit(async () => {
      statuses.push(await runPair(ctx, pair, info));
    });
  });
  for (const orphan of req.inventory.orphans) {
    const info = orphanInfo(orphan);
    if (req.operation !== "sync") {
      // Reported, never removed, by a preview or a drift report.
      const message = "its environment or binding no longer exists: `esc-sync sync` removes its entries";
      const drift = req.operation === "drift" ? { drift: { status: "orphaned" as const, entries: [] } } : {};
      req.emit({ kind: "pair-done", pair: info, operation, status: "changes-pending", changes: noChanges(), message, ...drift, durationMs: 0, at: Date.now() });
      statuses.push("changes-pending");
      continue;
    }
    req.emit({ kind: "pair-queued", pair: info, at: Date.now() });
    jobs.push(
      limit(async () => {
        statuses.push(await destroyOrphan(ctx, orphan, info));
      }),
    );
  }
  if (req.operation === "sync") for (const leftover of req.inventory.leftovers) jobs.push(limit(() => removeLeftover(ctx, leftover)));
  await Promise.all(jobs);

  const byStatus: Partial<Record<PairStatus, number>> = {};
  for (const s of statuses) byStatus[s] = (byStatus[s] ?? 0) + 1;
  const failed = (byStatus.failed ?? 0) + (byStatus.blocked ?? 0);
  const summary: RunSummary = { pairs: statuses.length, byStatus, failed, durationMs: Date.now() - started, exitCode: failed > 0 ? 1 : 0 };
  req.emit({ kind: "run-done", operation, summary, at: Date.now() });
  return summary;
}

/** The deletion guard's decisions, in stack-name order so that `--max-deletes` is deterministic. */
function guardDecisions(req: RunRequest): Map<string, GuardDecision> {
  const candidates = [
    ...req.pairs
      .filter((p) => !p.blocked)
      .map((p) => {
        const wrote = req.inventory.byName.get(p.stack)?.record?.entries ?? [];
        const keep = new Set(p.entries.map((e) => e.name));
        return { stack: p.stack, deletes: p.retainOnDelete ? [] : wrote.filter((n) => !keep.has(n)) };
      }),
    ...req.inventory.orphans.map((o) => ({ stack: o.name, deletes: o.record?.entries ?? [] })),
  ].sort((a, b) => a.stack.localeCompare(b.stack));
  return decideDeletions(candidates, req.deletions ?? { allowAll: false, max: 0 });
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
        const lines = (err instanceof Error ? err.message : String(err)).split("\n").map((l) => l.trim()).filter(Boolean);
        const reason = lines.find((l) => l.startsWith("error:"))?.replace(/^error:\s*/, "") ?? lines.at(-1) ?? "unknown error";
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

export { pluginKey };
