/**
 * Engine failures, classified once, where the Pulumi CLI's words come in (as the Automation API's
 * own `errors.ts` turns a CLI's stderr into `ConcurrentUpdateError` and friends). Everything that
 * reads a CLI message or an engine diagnostic to decide what happened lives here, and only here
 * (test/unit/failures.test.ts fails on a message-text match anywhere else): the rest of the runner
 * acts on a {@link EngineFailure}'s `kind`, `retryable` and `hint`, never on text.
 *
 * The texts matched are the CLI's own (v3.274.1), kept as fixtures in
 * test/fixtures/pulumi-cli-3.274.1/ with the script that captured them.
 */
import * as automation from "@pulumi/pulumi/automation/index.js";
import type { LockInfo } from "./locks.js";

/** What went wrong with a pair's engine operation, as esc-sync acts on it. */
export type EngineFailureKind =
  /** The stack is locked by a run that may be live. Retryable while the lock wait lasts. */
  | "locked"
  /** A lock left by a dead run was cleared: the operation may run now. */
  | "stale-lock"
  /** The store (through its provider) asked to slow down. */
  | "throttled"
  /** The passphrase does not decrypt the state: every other pair would fail the same way. */
  | "wrong-passphrase"
  /** The pair's deadline passed (esc-sync's, not the CLI's). */
  | "timeout"
  /** The run was interrupted (a signal, the run's --timeout). */
  | "interrupted"
  /** A provider plugin the pair needs is not installed and could not be. */
  | "missing-plugin"
  /** The stack's state (checkpoint) cannot be read: damaged, truncated, not JSON. */
  | "state-unreadable"
  /** A disk filled up (the state backend's or a target's): files written then may be cut short. */
  | "disk-full"
  /** Anything else: the resource's or the CLI's own words. */
  | "failed";

/** Short causes for `pair-retry` events, by the kinds that are retried. */
const RETRY_CAUSE: Partial<Record<EngineFailureKind, string>> = {
  locked: "stack locked by another run",
  "stale-lock": "stale lock cleared",
  throttled: "provider throttling",
};

/**
 * A classified engine failure. `message` is for the report (the CLI's or the provider's own words
 * where they say it best, never a secret the redactor does not know); `cause` is the original
 * error, kept as an Error for whoever needs its details.
 */
export class EngineFailure extends Error {
  override readonly name = "EngineFailure";
  constructor(
    readonly kind: EngineFailureKind,
    message: string,
    /** True when another attempt can help (see {@link withRetry}). */
    readonly retryable: boolean,
    /** What to do about it. */
    readonly hint?: string,
    options: { cause?: unknown; locks?: LockInfo[] } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.locks = options.locks ?? [];
  }
  /** The locks a `locked` failure names (empty otherwise, or when the CLI named none). */
  readonly locks: LockInfo[];
  /** The short cause a retry reports. */
  get retryCause(): string {
    return RETRY_CAUSE[this.kind] ?? this.message.split("\n")[0]!;
  }
  /** The same failure, no longer worth a retry (a lock still held after the wait). */
  final(): EngineFailure {
    return new EngineFailure(this.kind, this.message, false, this.hint, { cause: this.cause, locks: this.locks });
  }
}

/** The state cannot be decrypted with the passphrase given (fixtures wrong-passphrase-*). */
const WRONG_PASSPHRASE = /incorrect passphrase/i;
/** Engine or provider errors that say "slow down" (fixture throttled-provider). */
const THROTTLED = /throttl|rate exceeded|too many requests|\b429\b|slowdown|requestlimitexceeded/i;
/** The CLI could not parse the stack's checkpoint (fixtures truncated-state-*). */
const STATE_DAMAGED = /failed to load checkpoint|unexpected end of JSON input/i;
/** A write failed for want of space (texts seen with the state on a full tmpfs, test/faults/backend-faults). */
const DISK_FULL = /no space left on device|ENOSPC/i;
/** The file a failed write was writing, without the blob library's temp suffix. */
const DISK_FULL_FILE = /write (\S+?)(?:\.[0-9a-f]{16}\.tmp)?: no space left on device/i;
/** The lock lines of a "stack is currently locked" error (fixture locked-up). */
const LOCK_LINE = /created by (\S+)@(\S+) \(pid (\d+)\) at (\S+)/g;
/** The engine's own last word on a failed operation, beside the resource's error. */
const ENGINE_SUMMARY = /^(update|preview|refresh|destroy) failed$/i;

const PASSPHRASE_HINT = "set the passphrase this state was written with; the run stopped before its other pairs, which would fail the same way";
const LOCKED_HINT = "another esc-sync run holds it: run again later; if no run is active, `pulumi cancel` clears the lock";

/**
 * Classifies what an engine operation threw, with the error diagnostics the engine's events
 * carried (a provider's own words arrive there, not in the exception).
 */
export function classifyEngineError(thrown: unknown, diagnostics: readonly string[] = []): EngineFailure {
  // One already classified is classified again from its cause, with every diagnostic known now
  // (a retried operation's failure was classified before the refresh's diagnostics were in).
  if (thrown instanceof EngineFailure && thrown.cause === undefined) return thrown;
  const err = thrown instanceof EngineFailure ? thrown.cause : thrown;
  const message = err instanceof Error ? err.message : String(err);
  const raw = [...diagnostics, message].join("\n");
  const cause = err instanceof Error ? err : new Error(message);
  if (WRONG_PASSPHRASE.test(raw)) {
    return new EngineFailure("wrong-passphrase", "the passphrase does not decrypt this backend's state (PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE)", false, PASSPHRASE_HINT, { cause });
  }
  if (err instanceof automation.ConcurrentUpdateError) {
    const locks = parseLocks(message);
    const holders = [...new Set(locks.map((l) => `${l.user}@${l.host} pid ${l.pid} since ${l.createdAt.toISOString()}`))];
    return new EngineFailure("locked", `the stack is locked by another run${holders.length ? ` (${holders.join("; ")})` : ""}, still after waiting`, true, LOCKED_HINT, { cause, locks });
  }
  if (DISK_FULL.test(raw)) {
    // The CLI's text names a temp file in a chain of wrappers: the file it was writing says enough.
    const file = DISK_FULL_FILE.exec(raw)?.[1];
    return new EngineFailure(
      "disk-full",
      `no space left on device: could not write ${file ?? "a file (the state backend's or the target's)"}`,
      false,
      "free space on the disk that holds that file (or give it a larger volume), then run again (serve retries it by itself)",
      { cause },
    );
  }
  const words = diagnostics.length > 0 ? diagnostics.slice(0, 3).join("\n") : cliWords(err);
  if (THROTTLED.test(raw)) return new EngineFailure("throttled", words, true, undefined, { cause });
  if (STATE_DAMAGED.test(raw)) {
    const line = raw.split("\n").find((l) => STATE_DAMAGED.test(l))!.trim().replace(/^error:\s*/, "");
    return new EngineFailure("state-unreadable", `the stack's state cannot be read: its checkpoint is damaged, truncated or not JSON (${line})`, false, "restore the stack's state file from a backup (pulumi stack import), then run again", { cause });
  }
  return new EngineFailure("failed", words, false, undefined, { cause });
}

/** A lock found stale (by {@link staleReason}) and cleared: the operation is worth another go. */
export function staleLockCleared(locked: EngineFailure): EngineFailure {
  return new EngineFailure("stale-lock", "a stale lock was cleared", true, undefined, { cause: locked.cause, locks: locked.locks });
}

/** The pair's deadline passed; `ended` processes had to be killed. */
export function timedOut(after: string, ended: number, what: "operation" | "removal" = "operation"): EngineFailure {
  if (what === "removal") return new EngineFailure("timeout", `timed out after ${after}: the removal was cancelled`, false, "raise --pair-timeout, or find out why it hangs");
  const killed = ended > 0 ? `; it did not stop when asked, so its ${ended} process(es) were ended` : "";
  return new EngineFailure(
    "timeout",
    `timed out after ${after}: the operation was cancelled${killed} and its lock released`,
    false,
    "raise --pair-timeout (or pairTimeout in the manifest) if the store is slow; otherwise find out why it hangs, then run again",
  );
}

/** The run was interrupted while the pair's operation ran. */
export function interrupted(what: "update" | "removal" = "update"): EngineFailure {
  return new EngineFailure("interrupted", what === "removal" ? "interrupted" : "interrupted: the update was cancelled and its lock released", false, "run again to finish");
}

/** A plugin that is not installed and could not be: the side-load command, with the CLI's reason. */
export function missingPlugin(name: string, version: string, installError: unknown): EngineFailure {
  const lines = (installError instanceof Error ? installError.message : String(installError)).split("\n").map((l) => l.trim()).filter(Boolean);
  const reason = lines.find((l) => l.startsWith("error:"))?.replace(/^error:\s*/, "") ?? lines.at(-1) ?? "unknown error";
  return new EngineFailure(
    "missing-plugin",
    `provider plugin ${name} v${version} is not installed and could not be installed (${reason}); side-load it with: pulumi plugin install resource ${name} ${version} --file PATH`,
    false,
    "side-load the plugin, then run again",
    { cause: installError },
  );
}

/**
 * A stack whose state `pulumi stack export` could not give (the inventory's slow path): why, in
 * one line, saying "damaged" where the CLI says it could not parse the checkpoint.
 */
export function unreadableState(stack: string, err: unknown): string {
  const stderr = (err as { stderr?: unknown }).stderr;
  const text = (typeof stderr === "string" && stderr.trim() ? stderr : err instanceof Error ? err.message : String(err)).trim();
  const first = text.split("\n")[0]!.replace(/^error:\s*/, "");
  if (STATE_DAMAGED.test(text)) return `the state of stack ${stack} cannot be read: its checkpoint is damaged, truncated or not JSON (${first})`;
  return `the state of stack ${stack} cannot be read (${first})`;
}

/**
 * The locks named in a `ConcurrentUpdateError` message (empty when it names none), each once:
 * the Automation API's message holds the CLI's stderr twice (as `stderr` and inside `err?`).
 */
export function parseLocks(message: string): LockInfo[] {
  const lines = new Map<string, RegExpExecArray>();
  for (const m of message.matchAll(LOCK_LINE)) lines.set(m[0], m);
  return [...lines.values()].map((m) => ({ user: m[1]!, host: m[2]!, pid: Number(m[3]), createdAt: new Date(m[4]!) }));
}

/** True for the engine's closing "update failed" diagnostic, which says nothing the resource's own error did not. */
export function isEngineSummary(diagnostic: string): boolean {
  return ENGINE_SUMMARY.test(diagnostic);
}

/** The CLI's own words for a failed command, without the command line the Automation API puts before them. */
export function cliWords(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof automation.CommandError) {
    const stderr = /stderr: ([\s\S]*?)(?:\n err\?:|$)/.exec(message)?.[1]?.trim();
    return withoutCommandLine(lastLines(stderr || message));
  }
  return withoutCommandLine(message);
}

function withoutCommandLine(text: string): string {
  const m = /^Command failed with exit code \d+: .*?\s(error: [\s\S]*)$/.exec(text);
  return m ? m[1]! : text;
}

/** The last two lines of a text (the CLI's error and its last context line), joined. */
export function lastLines(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  return lines.slice(-2).join(" ") || text;
}
