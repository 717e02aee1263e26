/**
 * What the CLI hands every command: the process's redactor and the signal that SIGINT/SIGTERM
 * abort (installed once, in cli.ts), plus the option shapes commands share. Commands never import
 * each other; what they share lives here and in the session.
 */
import type { Selection } from "./planner/plan.js";
import type { Redactor } from "./redact.js";
import { Session } from "./session.js";

export interface CommandContext {
  redactor: Redactor;
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
}

/** The options every command that reads the manifest takes. */
export interface SessionFlags {
  manifest: string;
  filter?: string[] | undefined;
  target?: string[] | undefined;
  concurrency?: number | undefined;
  backendUrl?: string | undefined;
}

/** The lock options of commands that run the engine. */
export interface LockFlags {
  staleLockMinutes?: number | undefined;
  lockWaitSeconds?: number | undefined;
}

/** The deletion guard's flags. */
export interface DeletionFlags {
  allowDeletes?: boolean | undefined;
  maxDeletes?: number | undefined;
}

export function openSession(opts: SessionFlags, ctx: CommandContext): Promise<Session> {
  return Session.open({ manifest: opts.manifest, backendUrl: opts.backendUrl, concurrency: opts.concurrency, env: ctx.env, redactor: ctx.redactor });
}

export function selectionOf(opts: SessionFlags): Selection {
  return { filter: opts.filter ?? [], targets: opts.target ?? [] };
}

export function deletionsOf(opts: DeletionFlags): { allowAll: boolean; max: number } {
  return { allowAll: opts.allowDeletes ?? false, max: opts.maxDeletes ?? 0 };
}
