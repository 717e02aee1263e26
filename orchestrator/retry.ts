/**
 * The one retry helper: exponential backoff with jitter, bounded attempts, `Retry-After` honoured,
 * abortable. Callers decide what is retryable (by default an error whose `retryable` is true) and
 * hear about every retry through `onRetry`, so that reports can count retries and say why.
 */

/** What an error may carry to steer the helper (see {@link RetryOptions.isRetryable}). */
export interface RetryHint {
  /** True when trying again can help (rate limit, server error, network reset). */
  retryable?: boolean;
  /** How long the server asked us to wait (`Retry-After`), in milliseconds. */
  retryAfterMs?: number;
}

/** One retry about to happen. */
export interface RetryEvent {
  /** The attempt that just failed, counted from 1. */
  attempt: number;
  /** The most attempts that will be made in total. */
  maxAttempts: number;
  /** How long the helper waits before the next attempt. */
  delayMs: number;
  /** True when {@link delayMs} comes from the server's `Retry-After`. */
  fromRetryAfter: boolean;
  /** The error of the failed attempt. */
  error: unknown;
  /** One line saying what failed: the error's message (callers keep secrets out of messages). */
  reason: string;
}

export interface RetryOptions {
  /** Total attempts, the first one included. Default 5. */
  maxAttempts?: number;
  /** First backoff step. Default 250 ms. */
  baseDelayMs?: number;
  /** Largest backoff step. Default 20 s. */
  maxDelayMs?: number;
  /** Largest wait accepted from a `Retry-After`. Default 60 s. */
  maxRetryAfterMs?: number;
  /** Stops waiting and retrying; the helper then throws `signal.reason`. */
  signal?: AbortSignal;
  /** Whether an error is worth another attempt. Default: `error.retryable === true`. */
  isRetryable?: (error: unknown) => boolean;
  /** The server-requested wait for an error, if any. Default: `error.retryAfterMs`. */
  retryAfterMs?: (error: unknown) => number | undefined;
  /** Called before each wait. Must not throw. */
  onRetry?: (event: RetryEvent) => void;
  /** Source of jitter in [0, 1). Injectable for tests. */
  random?: () => number;
  /** How to wait. Injectable for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const DEFAULT_RETRY = {
  maxAttempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 60_000,
} as const;

/**
 * Runs `operation` until it succeeds, fails with an error that is not retryable, or has been tried
 * `maxAttempts` times; then the last error is thrown unchanged.
 */
export async function withRetry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? DEFAULT_RETRY.maxAttempts));
  const baseDelayMs = options.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs;
  const maxDelayMs = options.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_RETRY.maxRetryAfterMs;
  const isRetryable = options.isRetryable ?? defaultIsRetryable;
  const retryAfterOf = options.retryAfterMs ?? defaultRetryAfter;
  const random = options.random ?? Math.random;
  const wait = options.sleep ?? sleep;
  const signal = options.signal;

  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await operation(attempt);
    } catch (error) {
      // An aborted run ends here, whatever the operation made of the abort.
      if (signal?.aborted) throw signal.reason;
      if (attempt >= maxAttempts || !isRetryable(error)) throw error;
      const retryAfter = retryAfterOf(error);
      const fromRetryAfter = retryAfter !== undefined && Number.isFinite(retryAfter) && retryAfter >= 0;
      const delayMs = fromRetryAfter
        ? Math.min(retryAfter, maxRetryAfterMs)
        : backoffDelay(attempt, baseDelayMs, maxDelayMs, random);
      options.onRetry?.({ attempt, maxAttempts, delayMs, fromRetryAfter, error, reason: reasonOf(error) });
      await wait(delayMs, signal);
    }
  }
}

/**
 * The wait after failed attempt `attempt` (from 1): the exponential step `base * 2^(attempt-1)`,
 * capped at `max`, of which a random half is kept ("equal jitter"): never zero, never in lockstep.
 */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  const step = backoffStep(attempt, baseDelayMs, maxDelayMs);
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * The exponential step after failed attempt `attempt` (from 1), without jitter: `base * 2^(attempt-1)`
 * capped at `max`. For callers that schedule their own retries (serve's timers) rather than loop
 * in {@link withRetry}.
 */
export function backoffStep(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  return Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * Parses a `Retry-After` header: delay-seconds (`"1"`, `"0"`) or an HTTP date. Returns
 * milliseconds, or undefined when absent or malformed.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined || value === null) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // An HTTP date names its day and month; `Date.parse` alone would take "-1" for a year.
  if (!/[A-Za-z]{3}/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Waits `ms`; rejects with `signal.reason` as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function defaultIsRetryable(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as RetryHint).retryable === true;
}

function defaultRetryAfter(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const ms = (error as RetryHint).retryAfterMs;
  return typeof ms === "number" ? ms : undefined;
}

function reasonOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
