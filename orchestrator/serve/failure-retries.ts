/**
 * serve's retries of what failed, well before the next reconcile (a lock held by a neighbour, a
 * store or the ESC API briefly down): one timer per failed environment, or for the reconcile, on
 * `retry.ts`'s backoff steps (5 s, doubling, at most the reconcile interval). Whatever then ends
 * well forgets its failures.
 */
import type { Logger } from "pino";
import { backoffStep } from "../retry.js";

/** The key of a failed reconcile (environments are keyed `project/name`). */
export const RECONCILE = "(reconcile)";
/** A failed environment's first retry, and the longest wait between retries. */
const RETRY_FIRST_MS = 5_000;
const RETRY_MAX_MS = 5 * 60_000;

export interface FailureRetriesOptions {
  logger: Logger;
  /** No wait is longer than this (the reconcile catches the rest anyway). */
  reconcileEveryMs: number;
  /** A retry is due: sync `key` again (an environment, or {@link RECONCILE}). */
  onDue: (key: string) => void;
  /** How many keys wait for a retry now (a gauge). */
  onCount: (count: number) => void;
}

/** What failed and waits for its retry, each with its attempts so far and its timer. */
export class FailureRetries {
  readonly #retries = new Map<string, { attempts: number; timer?: NodeJS.Timeout | undefined }>();

  constructor(private readonly opts: FailureRetriesOptions) {}

  /** Environments (and {@link RECONCILE}) that failed and are not synced yet. */
  keys(): string[] {
    return [...this.#retries.keys()];
  }

  get size(): number {
    return this.#retries.size;
  }

  /** `key` failed (`why`, logged): its retry is scheduled, unless one already is. */
  retryLater(key: string, why: string): void {
    const prev = this.#retries.get(key);
    if (prev?.timer) return;
    const attempts = (prev?.attempts ?? 0) + 1;
    const delayMs = Math.min(backoffStep(attempts, RETRY_FIRST_MS, RETRY_MAX_MS), this.opts.reconcileEveryMs);
    const timer = setTimeout(() => {
      this.#retries.set(key, { attempts });
      this.opts.onDue(key);
    }, delayMs);
    timer.unref();
    this.#retries.set(key, { attempts, timer });
    this.opts.onCount(this.#retries.size);
    this.opts.logger.info({ ...(key === RECONCILE ? { reconcile: true } : { environment: key }), attempt: attempts, delayMs }, why);
  }

  /** `key` ended well: its failures are forgotten, its pending retry dropped. */
  succeeded(key: string): void {
    clearTimeout(this.#retries.get(key)?.timer);
    this.#retries.delete(key);
    this.opts.onCount(this.#retries.size);
  }

  /** serve stops: no pending retry fires (the failures stay listed). */
  cancelTimers(): void {
    for (const r of this.#retries.values()) clearTimeout(r.timer);
  }
}
