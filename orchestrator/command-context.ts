/**
 * What the CLI hands every command: the process's redactor and the signal that SIGINT/SIGTERM
 * abort (installed once, in cli.ts), plus the option shapes commands share. Commands never import
 * each other; what they share lives here and in the session.
 */
import { Selection } from "./planner/selection.js";
import { resolveShard, type Shard } from "./planner/shard.js";
import type { Redactor } from "./redact.js";
import type { KeyAccess } from "./fingerprint-key.js";
import { Session } from "./session.js";

export interface CommandContext {
  redactor: Redactor;
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  /** Aborts `signal` after `ms` (the run's `--timeout`). */
  startDeadline?: (ms: number) => void;
  /** Where the process's own notices (a signal received) go; default stderr. serve makes them JSON log lines. */
  notice?: (text: string) => void;
}

/** The options every command that reads the manifest takes. */
export interface SessionFlags {
  manifest: string;
  filter?: string[] | undefined;
  target?: string[] | undefined;
  allowEmpty?: boolean | undefined;
  concurrency?: number | undefined;
  backendUrl?: string | undefined;
  /** `--esc-rps`: ESC API requests per second. */
  escRps?: number | undefined;
  /** `--shard i/n`, parsed. */
  shard?: Shard | undefined;
}

/** The lock and deadline options of commands that run the engine (named as their flags). */
export interface LockFlags {
  staleLockMinutes?: number | undefined;
  lockWaitSeconds?: number | undefined;
  /** `--pair-timeout`, in milliseconds. */
  pairTimeout?: number | undefined;
  /** `--timeout`, in milliseconds: the whole run's deadline. */
  timeout?: number | undefined;
}

/** Arms the run's `--timeout`, if given. */
export function armTimeout(opts: LockFlags, ctx: CommandContext): void {
  if (opts.timeout !== undefined) ctx.startDeadline?.(opts.timeout);
}

/** What the lock flags mean to `session.execute`. */
export function lockOptionsOf(opts: LockFlags): { staleLockMinutes?: number | undefined; lockWaitSeconds?: number | undefined; pairTimeoutMs?: number | undefined } {
  return { staleLockMinutes: opts.staleLockMinutes, lockWaitSeconds: opts.lockWaitSeconds, pairTimeoutMs: opts.pairTimeout };
}

/** The deletion guard's flags. */
export interface DeletionFlags {
  allowDeletes?: boolean | undefined;
  maxDeletes?: number | undefined;
}

/**
 * Opens the session of a command; `access` says how it uses the fingerprint key (a command that
 * only reports never creates one: see {@link KeyAccess}).
 */
export function openSession(opts: SessionFlags, ctx: CommandContext, access: KeyAccess = "write"): Promise<Session> {
  return Session.open({ manifest: opts.manifest, backendUrl: opts.backendUrl, concurrency: opts.concurrency, escRps: opts.escRps, env: ctx.env, redactor: ctx.redactor, access });
}

/**
 * The selection of the flags. Given the process's variables, a command that shards also reads an
 * Indexed Job's `JOB_COMPLETION_INDEX` and `ESC_SYNC_SHARD_COUNT` when `--shard` is absent.
 */
export function selectionOf(opts: SessionFlags, env?: NodeJS.ProcessEnv): Selection {
  const shard = opts.shard ?? (env ? resolveShard(undefined, env) : undefined);
  return Selection.of({ filter: opts.filter, targets: opts.target, allowEmpty: opts.allowEmpty, shard });
}

export function deletionsOf(opts: DeletionFlags): { allowAll: boolean; max: number } {
  return { allowAll: opts.allowDeletes ?? false, max: opts.maxDeletes ?? 0 };
}
