/**
 * The stacks the backend holds, as the planner sees them: each one's record (what its last
 * successful update wrote) and their classification against a run's pairs: which are the pairs'
 * own, which are orphans to remove, leftovers of an interrupted first update, stacks of another
 * manifest's targets, or of a binding that selects nothing. Pure: the runner reads the backend
 * (`runner/backend-stacks.ts`), the planner decides what the stacks mean.
 */
import type { Pair, PairRevision } from "./plan.js";
import type { Selection } from "./selection.js";

/** The record of a stack's last successful update. Names and a keyed fingerprint, no values. */
export interface StackRecord {
  environment: string;
  target: string;
  binding: string;
  kind: string;
  fingerprint: string;
  entries: string[];
  /** Where the pair wrote (the kind's location): a change is a move, whose old entries are deleted. */
  location?: string;
  /** The manifest file the stack was last written from: another one is never silently taken over. */
  manifest?: string;
  /** The environment's revision the entries were written from (Pulumi Cloud source), and its pin. */
  revision?: PairRevision;
}

/** A stack of the esc-sync project found in the backend. */
export interface ExistingStack {
  name: string;
  /** Absent for a stack never updated successfully (or written by something else). */
  record?: StackRecord;
  /** Resources a kind wrote (not the stack itself, not providers). */
  resources: number;
  /** Operations an interrupted update left unfinished. */
  pendingOperations: number;
  /** When the state was last written (the deployment's checkpoint time, ISO 8601), where the export says. */
  updatedAt?: string;
  /**
   * Why the stack's state cannot be read (a truncated or hand-damaged file): its pair is refused
   * with this, the others run; it is never taken for absent (that would write over it) nor deleted.
   */
  unreadable?: string;
}

/** What the backend's stacks mean for a run: the planner's input beside the pairs. */
export interface StackClassification {
  byName: Map<string, ExistingStack>;
  /** Stacks whose environment or binding no longer exists, within the selection. */
  orphans: ExistingStack[];
  /** Empty stacks that no pair claims: left by a run interrupted before its first update. */
  leftovers: ExistingStack[];
  /** Stacks with resources but no esc-sync record: never touched. */
  unknown: ExistingStack[];
  /** Stacks of targets this manifest does not define (another manifest's, or a removed target). */
  foreign: ExistingStack[];
  /**
   * Stacks of a binding that selects no environment at all: more likely a mistyped glob than a
   * wish to delete everything it wrote, so they are left alone (with a warning), never orphans.
   */
  idle: ExistingStack[];
}

/**
 * Sorts the stacks against the plan. A stack without esc-sync's record is never deleted, and
 * neither is one whose target this manifest does not define: a backend shared by several
 * manifests must not see the others' stacks as orphans.
 */
export function classifyStacks(
  stacks: readonly ExistingStack[],
  pairs: readonly Pair[],
  selection: Selection,
  targetIds: ReadonlySet<string>,
  idleBindings: ReadonlySet<string> = new Set(),
): StackClassification {
  const planned = new Set(pairs.map((p) => p.stack));
  // A shard sees only the stacks it owns: another shard's are neither orphans nor leftovers to it.
  const owned = stacks.filter((s) => selection.ownsStack(s.name));
  const inv: StackClassification = { byName: new Map(owned.map((s) => [s.name, s])), orphans: [], leftovers: [], unknown: [], foreign: [], idle: [] };
  for (const s of owned) {
    if (planned.has(s.name)) continue;
    // Unreadable: not known to be empty, so never a leftover to remove.
    if (s.unreadable) {
      inv.unknown.push(s);
      continue;
    }
    if (!s.record) {
      if (s.resources === 0 && s.pendingOperations === 0) inv.leftovers.push(s);
      else inv.unknown.push(s);
      continue;
    }
    if (!targetIds.has(s.record.target)) {
      inv.foreign.push(s);
      continue;
    }
    if (!selection.includesRecord(s.record)) continue;
    if (idleBindings.has(s.record.binding)) inv.idle.push(s);
    else inv.orphans.push(s);
  }
  return inv;
}
