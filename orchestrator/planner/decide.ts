/**
 * The run plan: for every pair (and every orphaned stack) of a run, one decision, computed from
 * the pairs, the stacks' records and the flags before any engine call. Pure: `plan --output
 * json` and `sync --dry-run` print it, the runner only carries it out, and unit tests cover
 * every decision with no Pulumi at all.
 */
import { formatProblem } from "../errors.js";
import type { ExistingStack, StackClassification } from "./stacks.js";
import { envFullName } from "../../programs/environment-ref.js";
import { bindingLabel, type Pair, type PairRevision } from "./plan.js";
import type { Operation, StepWork, UpdateReason } from "./work.js";

/**
 * The command a run carries out. `prune` handles orphans only; `adopt` only the pairs with
 * entries to adopt. What the engine does to each pair is its step's {@link Operation}, the one
 * operation vocabulary (events, reports); the plan's `engineOperation` names it for the run.
 */
export type RunCommand = "sync" | "drift" | "prune" | "adopt";

/** Which deletions a run may make: `--allow-deletes`, or at most `--max-deletes N` entries in all. */
export interface DeletionPolicy {
  allowAll: boolean;
  /** The most entries the run may delete in all; 0 when not given. */
  max: number;
}

/** The flags that shape decisions. */
export interface RunFlags {
  operation: RunCommand;
  /** Change nothing: previews instead of updates, orphans reported instead of removed. */
  dryRun: boolean;
  /** Read the targets first, so that drift is seen (and, for sync, repaired). */
  refresh: boolean;
  /** Run even the pairs whose input is unchanged. */
  force: boolean;
  deletions: DeletionPolicy;
  /** `migrate adopt`: per stack, the entries found in the store that no stack manages yet. */
  adopt?: ReadonlyMap<string, ReadonlySet<string>>;
  /** The manifest file this run reads: a stack last written from another one is not silently taken over. */
  manifest: string;
  /**
   * Per stack, what a kind's cheap local look found changed in the store since the last sync (a
   * `file` deleted or edited): an unchanged pair runs to repair it.
   */
  changedInPlace?: ReadonlyMap<string, string>;
}

/** Why a pair runs. */
export type RunReason = "new" | "input-changed" | "forced" | "refresh" | "pending-operations" | "adopted-entries" | "changed-in-place" | "inspect";

/** The one decision made for a pair or an orphaned stack. */
export type Decision =
  | { action: "run"; why: RunReason; deletes: string[]; note?: string }
  | { action: "skip-unchanged" }
  /** Nothing to write (no value at the binding's `from`), or a drift of a pair never synced. */
  | { action: "skip"; why: string }
  /** The deletion guard holds it back: it would delete entries the flags do not allow. */
  | { action: "hold"; of: "update" | "move" | "destroy-orphan"; deletes: string[]; message: string; hint: string }
  | { action: "adopt"; names: string[] }
  /** Its target location changed: the entries at the old one are deleted (a guarded delete). */
  | { action: "move"; from: string; to: string; deletes: string[]; note?: string }
  | { action: "destroy-orphan"; entries: string[] }
  /** Reported, not run: an orphan in a dry run or a drift report, a pair never synced in drift. */
  | { action: "report"; why: "orphan" | "never-synced" }
  /** A plan-time error: the pair cannot run as configured. */
  /** `retryable`: the source failed, not the configuration; the same run later may succeed. */
  | { action: "refuse"; message: string; hint: string; retryable?: boolean };

/** One step of a run plan. */
export interface PlannedStep {
  stack: string;
  decision: Decision;
  /** What the runner does for it, in full: the handler it runs and everything that handler writes, deletes or reports. */
  does: StepWork;
  /** The pair, for steps of planned pairs (holds values: never serialised). */
  pair?: Pair;
  /** The stack found in the backend, where there is one. */
  existing?: ExistingStack;
}

/** The whole plan of a run. */
export interface RunPlan {
  operation: RunCommand;
  /** What the engine does to the pairs of this run, as events name it: a sync, a preview (dry run) or a drift. */
  engineOperation: Operation;
  dryRun: boolean;
  refresh: boolean;
  steps: PlannedStep[];
  /** Empty stacks no pair claims (an interrupted first update): removed by a sync. */
  leftovers: ExistingStack[];
  warnings: string[];
  /** Why the plan has no step, in words, where it has none. */
  emptyReason?: string;
}

/** The record's fingerprint of a pair whose last update adopted entries: the next sync must write. */
export const ADOPTED_PREFIX = "adopted:";

/** Computes the run plan. Pure: same input, same plan. */
export function decide(pairs: readonly Pair[], stacks: StackClassification, flags: RunFlags): RunPlan {
  const steps: PlannedStep[] = [];
  const warnings: string[] = [];
  const budget = { left: flags.deletions.max };

  const candidates: { step: PlannedStep; deletes: string[] }[] = [];
  if (flags.operation !== "prune") {
    for (const pair of pairs) {
      if (flags.operation === "adopt" && !(flags.adopt?.get(pair.stack)?.size && !pair.refusal)) continue;
      const existing = stacks.byName.get(pair.stack);
      const step: PlannedStep = { stack: pair.stack, pair, decision: pairDecision(pair, existing, flags), does: UNSET, ...(existing ? { existing } : {}) };
      steps.push(step);
      const d = step.decision;
      if ((d.action === "run" || d.action === "move") && d.deletes.length > 0) candidates.push({ step, deletes: d.deletes });
    }
  }
  if (flags.operation === "sync" || flags.operation === "prune" || flags.operation === "drift") {
    for (const orphan of stacks.orphans) {
      const step: PlannedStep = { stack: orphan.name, existing: orphan, decision: { action: "report", why: "orphan" }, does: UNSET };
      steps.push(step);
      if (flags.operation !== "drift" && !flags.dryRun) {
        const entries = orphan.record?.entries ?? [];
        step.decision = { action: "destroy-orphan", entries };
        if (entries.length > 0) candidates.push({ step, deletes: entries });
      }
    }
  }
  // The guard, in stack-name order so that --max-deletes is deterministic. A dry run only says
  // what would be held; drift deletes nothing.
  if (flags.operation !== "drift") {
    for (const c of candidates.sort((a, b) => a.step.stack.localeCompare(b.step.stack))) {
      if (flags.deletions.allowAll) continue;
      if (c.deletes.length <= budget.left) {
        budget.left -= c.deletes.length;
        continue;
      }
      c.step.decision = holdOf(c.step.decision, c.deletes);
    }
  }
  steps.sort((a, b) => a.stack.localeCompare(b.stack));
  const engineOperation: Operation = flags.operation === "drift" ? "drift" : flags.dryRun ? "preview" : "sync";
  for (const step of steps) step.does = workOf(step, engineOperation, flags);
  for (const s of stacks.idle) {
    warnings.push(
      `binding "${s.record!.binding}" selects no environment, but stack ${s.name} was written by it: left alone (check the binding's glob; to remove its entries, remove the binding and prune)`,
    );
  }
  return { operation: flags.operation, engineOperation, dryRun: flags.dryRun, refresh: flags.refresh, steps, leftovers: flags.dryRun || flags.operation === "drift" ? [] : stacks.leftovers, warnings };
}

function pairDecision(pair: Pair, existing: ExistingStack | undefined, flags: RunFlags): Decision {
  if (existing?.unreadable) {
    return {
      action: "refuse",
      message: existing.unreadable,
      hint: `restore the stack's state file (.pulumi/stacks/esc-sync/${pair.stack}.json in a file:// backend) from .pulumi/backups/esc-sync/${pair.stack}/ or .pulumi/history/, or import a good copy with pulumi stack import; then run again`,
    };
  }
  const r = pair.refusal;
  if (r) {
    if (r.kind === "no-value") return { action: "skip", why: r.message };
    if (r.kind === "environment-error" && r.retryable) {
      return { action: "refuse", message: r.message, hint: "the source failed (a server error or the network), not the environment: run again (serve retries it by itself)", retryable: true };
    }
    if (r.kind === "environment-error") return { action: "refuse", message: r.message, hint: "fix the environment; its pairs run again once it evaluates" };
    if (r.kind === "provider-config") {
      return { action: "refuse", message: r.message, hint: "give the provider setting in the manifest's target or in the environment (pulumiConfig / environmentVariables); nothing was written" };
    }
    return { action: "refuse", message: `${bindingLabel(pair.bindingId)}: ${r.problems.map(formatProblem).join("; ")}`, hint: "fix the names or values; nothing was written" };
  }
  const record = existing?.record;
  if (flags.operation === "drift") return existing ? { action: "run", why: "inspect", deletes: [] } : { action: "report", why: "never-synced" };

  const adopt = flags.adopt?.get(pair.stack);
  if (flags.operation === "adopt" && adopt) return { action: "adopt", names: [...adopt].sort() };

  const wrote = record?.entries ?? [];
  const otherManifest = record?.manifest && record.manifest !== flags.manifest ? record.manifest : undefined;
  const takenOver = otherManifest ? `last written from another manifest (${otherManifest}): another checkout or manifest shares this backend and this stack` : undefined;
  if (record?.location !== undefined && record.location !== pair.location) {
    return {
      action: "move",
      from: record.location,
      to: pair.location,
      deletes: pair.retainOnDelete ? [] : [...wrote],
      ...(takenOver ? { note: takenOver } : {}),
    };
  }
  const keep = new Set(pair.entries.map((e) => e.name));
  const deletes = pair.retainOnDelete ? [] : wrote.filter((n) => !keep.has(n));
  const note = takenOver ? { note: takenOver } : {};
  if (!existing || !record) return { action: "run", why: existing?.pendingOperations ? "pending-operations" : "new", deletes, ...note };
  if (existing.pendingOperations > 0) return { action: "run", why: "pending-operations", deletes, ...note };
  if (flags.force) return { action: "run", why: "forced", deletes, ...note };
  if (flags.refresh) return { action: "run", why: "refresh", deletes, ...note };
  if (record.fingerprint.startsWith(ADOPTED_PREFIX)) return { action: "run", why: "adopted-entries", deletes, ...note };
  if (record.fingerprint !== pair.fingerprint) return { action: "run", why: "input-changed", deletes, ...note };
  if (otherManifest) return { action: "run", why: "input-changed", deletes, ...note };
  const inPlace = flags.changedInPlace?.get(pair.stack);
  if (inPlace) return { action: "run", why: "changed-in-place", deletes, note: inPlace };
  return { action: "skip-unchanged" };
}

/** Filled by `decide` once the guard has had its say. */
const UNSET: StepWork = { kind: "report", operation: "sync", status: "skipped" };

/** Why a run decision runs, in the report, where the reason is worth a note. */
const RUN_NOTE: Partial<Record<RunReason, string>> = {
  forced: "forced",
  "adopted-entries": "writes ESC's values over the adopted entries",
};

/** What the runner does for a step: from its decision, its pair, its stack and the flags alone. */
export function workOf(step: Omit<PlannedStep, "does">, operation: Operation, flags: Pick<RunFlags, "refresh">): StepWork {
  const d = step.decision;
  const report = (status: Extract<StepWork, { kind: "report" }>["status"], extra: Omit<Extract<StepWork, { kind: "report" }>, "kind" | "operation" | "status"> = {}, op: Operation = operation): StepWork => ({
    kind: "report",
    operation: op,
    status,
    ...extra,
  });
  switch (d.action) {
    case "refuse":
      // A drift report shows a refused pair as an error of the report.
      return operation === "drift" ? report("failed", { message: d.message, hint: d.hint, drift: "error" }) : report("refused", { message: d.message, hint: d.hint });
    case "skip":
      return report("skipped", { message: d.why });
    case "skip-unchanged":
      return report("unchanged");
    case "hold":
      return report("held", { message: d.message, hint: d.hint }, d.of === "destroy-orphan" ? "destroy" : operation);
    case "report": {
      if (d.why === "never-synced") {
        // Never synced: every entry is pending, and no Pulumi call is needed to know it.
        return report(step.pair!.entries.length > 0 ? "changes-pending" : "unchanged", { message: "never synced", drift: "never-synced" });
      }
      const entries = step.existing?.record?.entries ?? [];
      const listed = entries.length ? `: would delete ${entries.join(", ")}` : "";
      return report("changes-pending", {
        message: `its environment or binding no longer exists${listed}; \`esc-sync sync\` (or prune) removes it`,
        ...(operation === "drift" ? { drift: "orphaned" as const } : {}),
      });
    }
    case "destroy-orphan":
      return { kind: "destroy", operation: "destroy", entries: d.entries };
    case "run":
    case "adopt":
    case "move":
      break;
  }
  const pair = step.pair!;
  const existing = step.existing;
  const recoverPending = existing?.pendingOperations ?? 0;
  if (operation === "drift") {
    // What the store holds may match while the pair's own input moved on (a new location, a
    // mode, a name template): a sync would rewrite it, so the report must say so.
    const record = existing?.record;
    if (!record || record.fingerprint === pair.fingerprint) return { kind: "inspect", operation: "drift", recoverPending };
    const moved = record.location !== undefined && record.location !== pair.location;
    const inputMovedOn = moved
      ? `its target location changed from ${record.location} to ${pair.location}: a sync would move it`
      : "its input changed since the last sync (settings, names or values): a sync would rewrite it";
    return { kind: "inspect", operation: "drift", recoverPending, inputMovedOn };
  }
  // "inspect" is a drift's, handled above.
  const why: UpdateReason = d.action === "run" ? (d.why as Exclude<RunReason, "inspect">) : d.action;
  const notes: string[] = [];
  const runNote = d.action === "run" ? RUN_NOTE[d.why] : undefined;
  if (runNote) notes.push(runNote);
  if ((d.action === "run" || d.action === "move") && d.note) notes.push(d.note);
  const deletes = d.action === "run" || d.action === "move" ? d.deletes : [];
  const move = d.action === "move" ? { move: { from: d.from, to: d.to } } : {};
  // A pair run because its store changed in place reads it back too, to say what it repaired.
  const refresh = flags.refresh || (d.action === "run" && d.why === "changed-in-place");
  if (operation === "preview") {
    // A dry run never writes to the backend: a new pair's stack is not created to preview it.
    const wouldCreate = existing ? {} : { wouldCreate: pair.entries.map((e) => e.name) };
    const said = d.action === "move" ? `would move from ${d.from} to ${d.to}` : deletes.length ? `would delete ${deletes.join(", ")}` : undefined;
    return { kind: "preview", operation: "preview", why, deletes, ...move, refresh, recoverPending, notes, ...(said ? { message: said } : {}), ...wouldCreate };
  }
  return {
    kind: "up",
    operation: "sync",
    why,
    deletes,
    ...(d.action === "adopt" ? { adopt: d.names } : {}),
    ...move,
    refreshFirst: refresh && existing !== undefined,
    recoverPending,
    notes,
  };
}

function holdOf(d: Decision, deletes: string[]): Decision {
  const shown = deletes.slice(0, 10).join(", ") + (deletes.length > 10 ? `, … (${deletes.length - 10} more)` : "");
  const count = `${deletes.length} entr${deletes.length === 1 ? "y" : "ies"}`;
  const flagsHint = `run again with --allow-deletes, or --max-deletes ${deletes.length} or more`;
  if (d.action === "move") {
    const why = d.note ? `; it was ${d.note}` : "";
    return {
      action: "hold",
      of: "move",
      deletes,
      message: `its target location changed from ${d.from} to ${d.to}${why}: moving would delete ${count} at the old location (${shown}); nothing changed`,
      hint: d.note
        ? "give each checkout or manifest its own state backend (state.backend in the manifest, or --backend-url), or " + flagsHint + " to move the entries"
        : flagsHint + " to move the entries",
    };
  }
  if (d.action === "destroy-orphan") {
    return {
      action: "hold",
      of: "destroy-orphan",
      deletes,
      message: `its environment or binding no longer exists; would delete ${count} (${shown}); nothing deleted`,
      hint: flagsHint,
    };
  }
  return { action: "hold", of: "update", deletes, message: `would delete ${count} (${shown}); nothing changed`, hint: flagsHint };
}

/** The run plan as data: what `plan --output json` and `sync --dry-run --output json` print. No values. */
const revisionField = (revision: PairRevision | undefined) => (revision ? { revision } : {});

export function runPlanToJson(plan: RunPlan) {
  return {
    version: 1,
    operation: plan.operation,
    engineOperation: plan.engineOperation,
    dryRun: plan.dryRun,
    refresh: plan.refresh,
    steps: plan.steps.map((s) => ({
      stack: s.stack,
      environment: s.pair ? envFullName(s.pair.env) : (s.existing?.record?.environment ?? "(unknown)"),
      target: s.pair?.targetId ?? s.existing?.record?.target ?? "(unknown)",
      kind: s.pair?.kind ?? s.existing?.record?.kind ?? "(unknown)",
      binding: s.pair?.bindingId ?? s.existing?.record?.binding ?? "(unknown)",
      location: s.pair?.location ?? s.existing?.record?.location ?? "(orphaned stack)",
      entries: s.pair ? s.pair.entries.map((e) => ({ name: e.name, secret: e.secret })) : (s.existing?.record?.entries ?? []).map((name) => ({ name })),
      ...(s.pair ? { fingerprint: s.pair.fingerprint } : {}),
      // The revision the step writes (a pair), or the one its stack last wrote (an orphan).
      ...revisionField(s.pair ? s.pair.revision : s.existing?.record?.revision),
      // Where the provider settings and credentials come from (names of sources, never values).
      ...(s.pair?.provider ? { provider: s.pair.provider } : {}),
      decision: s.decision,
      does: s.does,
    })),
    leftovers: plan.leftovers.map((s) => s.name),
    warnings: plan.warnings,
  };
}
