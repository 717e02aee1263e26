/**
 * Rotations serve has been told about and not yet seen through: a rotation is propagated once
 * every environment built from the rotated values (the rotated one and its importers) has been
 * synced well by a cycle that *started after* the delivery (a cycle already running had opened
 * the values from before the rotation). Pure bookkeeping with times given by the caller.
 */

/** How one environment's pairs ended in one cycle. */
export interface EnvOutcome {
  /** When its last pair ended well (ms since the epoch); 0 when none did. */
  lastWriteAt: number;
  pairs: number;
  /** Pairs that failed, were held or refused. */
  bad: number;
}

/** A rotation seen through. */
export interface Propagated {
  environment: string;
  revision?: number;
  /** The environments built from it. */
  affected: string[];
  pairs: number;
  /** From the delivery to the last target written. */
  durationMs: number;
}

interface Pending {
  deliveredAt: number;
  affected: string[];
  revision?: number;
  /** The outcome each affected environment had in a cycle after the delivery (null: no pair). */
  done: Map<string, EnvOutcome | null>;
}

export class RotationTracker {
  #pending = new Map<string, Pending>();

  /**
   * Records a rotation of `environment` reaching `affected` (the environments serve syncs that are
   * built from it, itself included when selected); false when one is already waiting (the first
   * delivery counts).
   */
  delivered(environment: string, at: number, affected: readonly string[], revision?: number): boolean {
    if (this.#pending.has(environment)) return false;
    this.#pending.set(environment, { deliveredAt: at, affected: [...new Set(affected)], ...(revision !== undefined ? { revision } : {}), done: new Map() });
    return true;
  }

  /** Forgets a rotation (its delivery was refused and will be sent again). */
  cancel(environment: string): void {
    this.#pending.delete(environment);
  }

  get size(): number {
    return this.#pending.size;
  }

  /**
   * A cycle that started at `started` and covered `environments` (`"all"`: a reconcile) ended
   * with `outcomes`. Returns the rotations now propagated, and those whose pairs did not all
   * sync (they wait for the retry).
   */
  cycleEnded(started: number, environments: readonly string[] | "all", outcomes: ReadonlyMap<string, EnvOutcome>): { propagated: Propagated[]; failing: string[] } {
    const propagated: Propagated[] = [];
    const failing: string[] = [];
    for (const [env, p] of this.#pending) {
      if (started < p.deliveredAt) continue;
      let bad = false;
      for (const e of p.affected) {
        if (environments !== "all" && !environments.includes(e)) continue;
        const o = outcomes.get(e);
        if (o && o.bad > 0) bad = true;
        else p.done.set(e, o ?? null);
      }
      if (bad) failing.push(env);
      if (p.affected.some((e) => !p.done.has(e))) continue;
      const ran = [...p.done.values()].filter((o): o is EnvOutcome => o !== null);
      const lastWriteAt = Math.max(p.deliveredAt, ...ran.map((o) => o.lastWriteAt));
      this.#pending.delete(env);
      propagated.push({ environment: env, ...(p.revision !== undefined ? { revision: p.revision } : {}), affected: p.affected, pairs: ran.reduce((n, o) => n + o.pairs, 0), durationMs: lastWriteAt - p.deliveredAt });
    }
    return { propagated, failing };
  }
}
