/**
 * What the runner does for each step of a run plan, said in full by the plan: the engine operation
 * (update, preview, read back, destroy) with everything it writes, deletes, adopts or moves, or a
 * report with the status the step ends in. `decide()` computes it from data alone; the runner
 * has one handler per kind and adds only what the engine finds.
 */

/** The operations a run performs on a pair: what events name (`pair-start`, `pair-done`). */
export type Operation = "sync" | "preview" | "drift" | "destroy";

/**
 * How a pair ended. `refused`: the plan found it cannot run as configured (a name the store
 * refuses, an environment with errors). `held`: the deletion guard kept it back. `moved`: its
 * target location changed and its entries were written at the new one, deleted at the old.
 */
export type PairStatus = "created" | "updated" | "moved" | "deleted" | "unchanged" | "changes-pending" | "skipped" | "held" | "refused" | "failed";

/**
 * Why an update runs: a new pair, its input changed, `--force`, `--refresh`, operations an
 * interrupted run left, entries adopted last time, its store changed in place; `adopt` and `move`
 * for a `migrate adopt` and a target location change.
 */
export type UpdateReason = "new" | "input-changed" | "forced" | "refresh" | "pending-operations" | "adopted-entries" | "changed-in-place" | "adopt" | "move";

/** A target location change: the entries are written at `to` and deleted at `from`. */
export interface Move {
  from: string;
  to: string;
}

/** The work of one step. */
export type StepWork =
  /**
   * Update the stack (`pulumi up`), for `why`: write the pair's entries, delete `deletes`, import `adopt`
   * (entries found in the store), or move the entries from `move.from`. `refreshFirst`: read the
   * targets back first, to say what the update repaired. `recoverPending`: operations an
   * interrupted run left, cleared by a refresh before anything else. `notes`: why, for the report.
   */
  | { kind: "up"; operation: "sync"; why: UpdateReason; deletes: string[]; adopt?: string[]; move?: Move; refreshFirst: boolean; recoverPending: number; notes: string[] }
  /**
   * Preview the update (a dry run), `refresh` first where asked. `wouldCreate`: the pair has no
   * stack yet (a dry run never creates one), so no engine runs: it would create these entries.
   * `message`: what the preview says besides the engine's counts (a move, deletes).
   */
  | {
      kind: "preview";
      operation: "preview";
      why: UpdateReason;
      deletes: string[];
      move?: Move;
      refresh: boolean;
      recoverPending: number;
      notes: string[];
      message?: string;
      wouldCreate?: string[];
    }
  /**
   * Read the targets back (drift: a refresh of esc-sync's state and a compare in process).
   * `inputMovedOn`: the pair's input changed since the stack's record (a location, a mode, a value):
   * a store found in sync is still pending a sync, for this reason.
   */
  | { kind: "inspect"; operation: "drift"; recoverPending: number; inputMovedOn?: string }
  /** Remove an orphan's entries (`entries`, as its record lists them) and its stack. */
  | { kind: "destroy"; operation: "destroy"; entries: string[] }
  /**
   * Run nothing: report `status`. `drift`: what a drift report shows for it (a pair never synced,
   * whose entries are all pending; an orphan; a pair refused).
   */
  | { kind: "report"; operation: Operation; status: PairStatus; message?: string; hint?: string; drift?: "never-synced" | "orphaned" | "error" };

/** The kinds of work, one runner handler each. */
export type StepKind = StepWork["kind"];

/**
 * True when the step runs the Pulumi engine (and so decrypts the state: the passphrase must be
 * there). The one list: the session checks the passphrase with it, the runner installs plugins
 * for its steps that have a pair.
 */
export function needsEngine(work: StepWork): boolean {
  return work.kind !== "report";
}
