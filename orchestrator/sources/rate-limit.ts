/**
 * A token bucket shared by every call one ESC client makes: at most `rps` requests a second on
 * average (bursts up to `burst`), and a pause for everyone when the server answers 429 with
 * `Retry-After`, so that n concurrent opens do not each hit the limit again.
 */

/** How a {@link TokenBucket} is shaped. */
export interface RateLimit {
  /** Requests per second, on average. */
  rps: number;
  /** Requests that may go at once after a quiet spell. Default: `rps` (one second's worth). */
  burst?: number;
}

export class TokenBucket {
  readonly #rps: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;
  /** No request before this time (a server's `Retry-After`). */
  #pausedUntil = 0;
  /** Callers waiting, served in order. */
  #queue: Promise<void> = Promise.resolve();

  constructor(limit: RateLimit, private readonly now: () => number = Date.now) {
    if (!(limit.rps > 0)) throw new RangeError(`rps must be above 0, not ${limit.rps}`);
    this.#rps = limit.rps;
    this.#burst = Math.max(1, limit.burst ?? limit.rps);
    this.#tokens = this.#burst;
    this.#last = now();
  }

  /** Resolves when one request may go; rejects with the signal's reason if it aborts first. */
  take(signal?: AbortSignal): Promise<void> {
    // A chain of waiters: each computes its wait only once the one before it has gone.
    const turn = this.#queue.then(() => this.#wait(signal));
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  /** Holds every request back for `ms` (the server said to). */
  pause(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.now() + ms);
  }

  async #wait(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.now();
      this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#rps);
      this.#last = now;
      const paused = this.#pausedUntil - now;
      if (paused <= 0 && this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      const ms = Math.max(paused, ((1 - this.#tokens) / this.#rps) * 1000, 1);
      await sleep(ms, signal);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
