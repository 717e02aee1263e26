/**
 * When serve syncs what. Requests name environments (an event's environment and its importers);
 * a reconcile names them all. One cycle runs at a time and takes every environment that is due,
 * so that:
 * - an environment has at most one sync running and one pending: requests for it while it runs
 *   (or while it waits) coalesce into the one pending;
 * - an environment idle for `debounceMs` is synced at once; one synced less than `debounceMs`
 *   ago waits until then, so that a burst of edits gives two syncs at most (the first edit's and
 *   one for all the rest);
 * - a reconcile and a sync of the same environment never run at once (nothing does);
 * - at most `maxQueue` environments wait; past that a request is refused (the sender retries).
 * The manifest's concurrency bounds the pairs inside a cycle. Pure scheduling: the cycle itself
 * is the caller's `run`.
 */

/** One cycle's work. */
export type Work = { kind: "reconcile" } | { kind: "environments"; environments: string[] };

export interface SchedulerOptions {
  debounceMs: number;
  maxQueue: number;
  /** Runs one cycle; should not throw (a throw is reported to `onError`). */
  run: (work: Work, signal: AbortSignal) => Promise<void>;
  onError?: (err: unknown, work: Work) => void;
  /** Called whenever the number of waiting environments changes. */
  onDepth?: (depth: number) => void;
  now?: () => number;
}

export class Scheduler {
  /** Environments waiting, in request order. */
  #pending = new Set<string>();
  /** When each environment's last sync started: what the debounce counts from. */
  #lastStart = new Map<string, number>();
  /** Environments that skip the debounce (a rotated secret: every minute of the old one counts). */
  #urgent = new Set<string>();
  #reconcile = false;
  #paused = false;
  #running: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #abort = new AbortController();
  readonly #now: () => number;

  constructor(private readonly opts: SchedulerOptions) {
    this.#now = opts.now ?? Date.now;
  }

  /** Waiting environments (and a waiting reconcile, as one). */
  get depth(): number {
    return this.#pending.size + (this.#reconcile ? 1 : 0);
  }

  /** Whether a cycle is running. */
  get busy(): boolean {
    return this.#running !== undefined;
  }

  /** Whether cycles are held back ({@link pause}). */
  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Asks for these environments to be synced (`urgent`: without waiting for the debounce). False
   * when the queue is full or serve is stopping. While paused, requests are queued all the same.
   */
  request(environments: readonly string[], opts: { urgent?: boolean } = {}): boolean {
    if (this.#stopped) return false;
    const fresh = [...new Set(environments)].filter((e) => !this.#pending.has(e));
    if (this.#pending.size + fresh.length > this.opts.maxQueue) return false;
    for (const e of fresh) this.#pending.add(e);
    if (opts.urgent) for (const e of environments) this.#urgent.add(e);
    this.#changed();
    this.#pump();
    return true;
  }

  /** Asks for a full reconcile (after the running cycle, if any). */
  reconcile(): void {
    if (this.#stopped) return;
    this.#reconcile = true;
    this.#changed();
    this.#pump();
  }

  /** Holds back new cycles (the running one finishes); requests keep queueing until {@link resume}. */
  pause(): void {
    this.#paused = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Starts cycles again with whatever queued while paused. */
  resume(): void {
    this.#paused = false;
    this.#pump();
  }

  /**
   * Stops taking work; lets the running cycle finish within `graceMs`, then aborts it and waits for
   * it to end (its pairs interrupted, their locks released).
   */
  async stop(graceMs: number): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const running = this.#running;
    if (!running) return;
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<"grace">((resolve) => (timer = setTimeout(() => resolve("grace"), graceMs)));
    const first = await Promise.race([running.then(() => "done" as const), graceOver]);
    clearTimeout(timer);
    if (first === "grace") {
      this.#abort.abort();
      await running;
    }
  }

  #changed(): void {
    this.opts.onDepth?.(this.depth);
  }

  #pump(): void {
    if (this.#running || this.#stopped || this.#paused) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const now = this.#now();
    let work: Work;
    if (this.#reconcile) {
      // A reconcile reads every environment at its latest: what was waiting is covered.
      this.#reconcile = false;
      for (const e of this.#pending) this.#lastStart.set(e, now);
      this.#pending.clear();
      this.#urgent.clear();
      work = { kind: "reconcile" };
    } else {
      const due = [...this.#pending].filter((e) => this.#urgent.has(e) || now >= (this.#lastStart.get(e) ?? -Infinity) + this.opts.debounceMs);
      if (due.length === 0) {
        if (this.#pending.size > 0) {
          const next = Math.min(...[...this.#pending].map((e) => this.#lastStart.get(e)! + this.opts.debounceMs));
          this.#timer = setTimeout(() => this.#pump(), Math.max(0, next - now));
        }
        return;
      }
      for (const e of due) {
        this.#pending.delete(e);
        this.#urgent.delete(e);
        this.#lastStart.set(e, now);
      }
      work = { kind: "environments", environments: due };
    }
    this.#changed();
    this.#running = this.opts
      .run(work, this.#abort.signal)
      .catch((err: unknown) => this.opts.onError?.(err, work))
      .finally(() => {
        this.#running = undefined;
        // Forget what is past its debounce: the map stays as small as the recent activity.
        const now = this.#now();
        for (const [e, at] of this.#lastStart) if (at + this.opts.debounceMs <= now && !this.#pending.has(e)) this.#lastStart.delete(e);
        this.#pump();
      });
  }
}
