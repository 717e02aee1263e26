/**
 * The typed events of a run. The runner emits them; reporters (terminal, plain lines, JSON)
 * decide what a person or a machine sees. Events never carry a secret value.
 */

import type { DriftStatus, EntryDrift } from "../drift/compare.js";
import type { PairRevision } from "../planner/plan.js";

import type { Operation, PairStatus, StepKind } from "../planner/work.js";

export type { Operation, PairStatus };

/** A pair's drift, in `pair-done` events of a drift run. */
export interface PairDrift {
  status: DriftStatus;
  entries: EntryDrift[];
}

/** What a pair is, in events and reports: no values. */
export interface PairInfo {
  stack: string;
  /** `org/project/name`. */
  environment: string;
  target: string;
  kind: string;
  location: string;
  /** Entry names the pair writes (empty for an orphan). */
  entries: string[];
  fingerprint: string;
  /** The environment's revision the pair writes (a pair's), or last wrote (an orphan's record). */
  revision?: PairRevision;
}

/** Resource changes of one pair, excluding Pulumi's own stack resource. */
export interface ChangeCounts {
  create: number;
  update: number;
  delete: number;
  replace: number;
  same: number;
}

export type RunEvent =
  | {
      kind: "run-start";
      operation: Operation;
      /** The command's own operation (`prune`, `adopt`...), where it differs from the engine's. */
      command?: string;
      pairs: PairInfo[];
      concurrency: number;
      at: number;
    }
  | { kind: "pair-queued"; pair: PairInfo; at: number }
  | { kind: "pair-start"; pair: PairInfo; operation: Operation; at: number }
  | { kind: "pair-engine-event"; pair: PairInfo; resource: string; op: string; at: number }
  | {
      kind: "pair-done";
      pair: PairInfo;
      operation: Operation;
      /** The kind of work the run plan gave the step (`up`, `preview`, `inspect`, `destroy`, `report`): the handler that ran it. */
      step: StepKind;
      status: PairStatus;
      changes: ChangeCounts;
      /** Why it failed or was skipped; never holds a value. */
      message?: string;
      /** What to do about it. */
      hint?: string;
      /** Drift runs only. */
      drift?: PairDrift;
      /** Entries a `sync --refresh` found changed outside esc-sync and wrote back. */
      repaired?: number;
      durationMs: number;
      at: number;
    }
  | {
      kind: "pair-retry";
      pair: PairInfo;
      /** The attempt that failed, from 1. */
      attempt: number;
      /** Why it is retried: "stack locked by another run", "provider throttling"... */
      cause: string;
      delayMs: number;
      at: number;
    }
  | { kind: "warning"; message: string; at: number }
  | { kind: "run-done"; operation: Operation; summary: RunSummary; at: number };

/** Totals of a run, and its exit code. */
export interface RunSummary {
  pairs: number;
  byStatus: Partial<Record<PairStatus, number>>;
  /** Pairs that failed, were refused by the plan or held back by the deletion guard. */
  failed: number;
  durationMs: number;
  /** 0 when every pair succeeded, 1 otherwise. */
  exitCode: number;
}

/** Receives the events of a run. */
export type EventSink = (event: RunEvent) => void;

export const noChanges = (): ChangeCounts => ({ create: 0, update: 0, delete: 0, replace: 0, same: 0 });
