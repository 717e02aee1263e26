/** What carrying out a run plan needs besides the plan: shared by the runner and each step. */
import type { EventSink } from "./events.js";
import type { Backend } from "./stack.js";
import type { Toolchain } from "./toolchain.js";

/** What carrying out a plan needs besides the plan. */
export interface ExecuteContext {
  backend: Backend;
  toolchain: Toolchain;
  concurrency: number;
  emit: EventSink;
  signal?: AbortSignal | undefined;
  /** Key of the entry fingerprints in drift reports (never printed). */
  fingerprintKey: string;
  /** Locks from other hosts older than this are stale. */
  staleLockMs: number;
  /** How long to wait for a stack locked by a live run. */
  lockWaitMs: number;
  /** The manifest file, recorded in each stack written. */
  manifest: string;
  /** A pair's engine operations are cancelled after this long (`--pair-timeout`). */
  pairTimeoutMs: number;
  /** How long a cancelled operation gets to stop before its processes are killed. */
  graceMs: number;
  /** When the run began (before planning), for the summary's duration. Default: now. */
  startedAt?: number;
}
