/**
 * What serve knows of each pair, from the run events of its cycles: the last result, when, which
 * revision it wrote, and why it failed. `GET /status` shows it; the webhook handler asks it
 * whether a delivery's revision is already everywhere; the notifier reads its transitions. Holds
 * names, statuses and revisions only: events never carry a value.
 */
import type { PairRevision } from "../planner/plan.js";
import type { PairStatus, RunEvent } from "../runner/events.js";

/** Statuses after which a pair's target is not known to hold what ESC holds. */
const NOT_SYNCED: ReadonlySet<PairStatus> = new Set(["failed", "refused", "held", "changes-pending"]);

/** Whether a pair that ended with `status` holds what ESC holds. */
export function isSynced(status: PairStatus): boolean {
  return !NOT_SYNCED.has(status);
}

/** One pair, as `GET /status` shows it. */
export interface PairState {
  stack: string;
  /** `org/project/name`. */
  environment: string;
  target: string;
  location: string;
  /** The last result. */
  status: PairStatus;
  /** Whether the target holds what ESC held at the last sync (false: failed, held, refused...). */
  ok: boolean;
  /** When the last result came (ISO 8601). */
  lastResultAt: string;
  /** When the pair last ended well (ISO 8601), if it has since serve started. */
  lastSyncedAt?: string;
  /** The revision of the environment written at the last good sync (not a local source). */
  revision?: PairRevision;
  /** Why the last result was not good, and what to do about it. */
  error?: string;
  hint?: string;
}

/** A pair that went bad, or came back: what the notifier is told. */
export interface Transition {
  kind: "failing" | "recovered";
  pair: PairState;
}

export class StatusBook {
  #pairs = new Map<string, PairState>();
  constructor(private readonly now: () => number = Date.now) {}

  /** Records a `pair-done`; returns the pair's transition, if its goodness changed. */
  observe(event: RunEvent): Transition | undefined {
    if (event.kind !== "pair-done" || event.operation !== "sync") return undefined;
    const { stack, environment, target, location, revision } = event.pair;
    const before = this.#pairs.get(stack);
    const ok = isSynced(event.status);
    const at = new Date(this.now()).toISOString();
    const state: PairState = {
      stack,
      environment,
      target,
      location,
      status: event.status,
      ok,
      lastResultAt: at,
      ...(ok ? { lastSyncedAt: at } : before?.lastSyncedAt ? { lastSyncedAt: before.lastSyncedAt } : {}),
      // `skipped` (nothing to write, or interrupted before it started) is no failure, but wrote nothing.
      ...(ok && event.status !== "skipped" ? (revision ? { revision } : {}) : before?.revision ? { revision: before.revision } : {}),
      ...(!ok && event.message ? { error: event.message } : {}),
      ...(!ok && event.hint ? { hint: event.hint } : {}),
    };
    if (event.status === "deleted") this.#pairs.delete(stack);
    else this.#pairs.set(stack, state);
    if (!ok && (before === undefined || before.ok)) return { kind: "failing", pair: state };
    if (ok && before !== undefined && !before.ok) return { kind: "recovered", pair: state };
    return undefined;
  }

  /** Every pair known, by stack name. */
  list(): PairState[] {
    return [...this.#pairs.values()].sort((a, b) => a.stack.localeCompare(b.stack));
  }

  /**
   * The revision each pair of `project/name` that follows the latest last wrote; `undefined` for
   * one not synced or whose source has no revisions. Pinned pairs are left out. Empty: none known.
   */
  syncedRevisions(env: string): (number | undefined)[] {
    return [...this.#pairs.values()]
      .filter((p) => p.environment.slice(p.environment.indexOf("/") + 1) === env)
      // A pinned pair does not follow new revisions: it has no say.
      .filter((p) => !p.revision?.pinned)
      .map((p) => (p.ok && p.revision ? p.revision.number : undefined));
  }
}
