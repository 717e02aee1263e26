/**
 * The deletion guard: a run deletes target entries only when told to (`--allow-deletes`, or up
 * to `--max-deletes N` in all). Pure: decides per pair, in a stable order, before anything runs.
 */

export interface DeletionPolicy {
  allowAll: boolean;
  /** The most entries the run may delete in all; 0 when not given. */
  max: number;
}

/** What the guard decided for one pair. */
export interface GuardDecision {
  /** Entries the pair would delete. */
  deletes: string[];
  allowed: boolean;
}

/**
 * Decides, pair by pair in the order given, which deletions go ahead. A pair whose deletions
 * do not fit in what remains of the budget is held back whole, never partly applied.
 */
export function decideDeletions(candidates: readonly { stack: string; deletes: readonly string[] }[], policy: DeletionPolicy): Map<string, GuardDecision> {
  const out = new Map<string, GuardDecision>();
  let budget = policy.max;
  for (const c of candidates) {
    const deletes = [...c.deletes];
    if (deletes.length === 0 || policy.allowAll) {
      out.set(c.stack, { deletes, allowed: true });
    } else if (deletes.length <= budget) {
      budget -= deletes.length;
      out.set(c.stack, { deletes, allowed: true });
    } else out.set(c.stack, { deletes, allowed: false });
  }
  return out;
}

/** The message of a pair held back by the guard. */
export function guardMessage(deletes: readonly string[]): string {
  const shown = deletes.slice(0, 10).join(", ") + (deletes.length > 10 ? `, … (${deletes.length - 10} more)` : "");
  return `would delete ${deletes.length} entr${deletes.length === 1 ? "y" : "ies"} (${shown}): nothing changed; run again with --allow-deletes, or --max-deletes ${deletes.length} or more`;
}
