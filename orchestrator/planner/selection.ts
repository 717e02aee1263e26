/**
 * The selection of a run: which environments (`--filter`), which targets (`--target`) and which
 * shard (`--shard i/n`). One value, built once from the flags and asked everywhere a run narrows:
 * the planner (which pairs), the stack classification (which orphans), the backend listing (which
 * stacks are read) and serve (which webhooks start a cycle). Pure.
 */
import picomatch from "picomatch";
import { envId, type EnvironmentRef } from "../../programs/environment-ref.js";
import { inShard, type Shard } from "./shard.js";

/** The flags a selection is built from. */
export interface SelectionSpec {
  /** Globs over `project/name`; all environments when empty. */
  filter?: readonly string[] | undefined;
  /** Target ids; all targets when empty. */
  targets?: readonly string[] | undefined;
  /** Accept a `filter` that selects no environment (a mistyped glob in a CI job is likelier). */
  allowEmpty?: boolean | undefined;
  /** `--shard i/n`: only the stacks this shard owns (see `shard.ts`); all when absent. */
  shard?: Shard | undefined;
}

/** What a stack's record says it belongs to: the environment's full name and the target id. */
export interface RecordOwner {
  /** `org/project/name`, as the record keeps it. */
  environment: string;
  target: string;
}

/** Narrows a run to some environments, targets and one shard. Immutable. */
export class Selection {
  /** Everything: every environment, every target, no shard. */
  static readonly all = new Selection({});

  /** Globs over `project/name`; empty: every environment. */
  readonly filter: readonly string[];
  /** Target ids; empty: every target. */
  readonly targets: readonly string[];
  readonly allowEmpty: boolean;
  readonly shard: Shard | undefined;

  private constructor(spec: SelectionSpec) {
    this.filter = [...(spec.filter ?? [])];
    this.targets = [...(spec.targets ?? [])];
    this.allowEmpty = spec.allowEmpty ?? false;
    this.shard = spec.shard;
  }

  static of(spec: SelectionSpec): Selection {
    return new Selection(spec);
  }

  /** This selection with only the given environments (`project/name` each), an empty result accepted: a serve cycle for some webhooks. */
  narrowedTo(environments: readonly string[]): Selection {
    return new Selection({ ...this.spec(), filter: environments, allowEmpty: true });
  }

  /** This selection, an empty result accepted (serve: a cycle may find nothing to do). */
  acceptingEmpty(): Selection {
    return new Selection({ ...this.spec(), allowEmpty: true });
  }

  /** True when `--filter` narrows the environments. */
  get filtersEnvironments(): boolean {
    return this.filter.length > 0;
  }

  /** True when `--filter` or `--target` narrows the run (the shard aside). */
  get narrowed(): boolean {
    return this.filter.length > 0 || this.targets.length > 0;
  }

  /** True when the environment is selected (its `project/name` matches a `--filter` glob, or there is none). */
  includesEnvironment(ref: EnvironmentRef): boolean {
    return this.includesEnvironmentId(envId(ref));
  }

  /**
   * The same, for an environment known by its `project/name` alone (how serve keys the
   * environments a webhook names and the import graph reaches).
   */
  includesEnvironmentId(id: string): boolean {
    return this.filter.length === 0 || picomatch.isMatch(id, [...this.filter]);
  }

  /** True when the target is selected. */
  includesTarget(targetId: string): boolean {
    return this.targets.length === 0 || this.targets.includes(targetId);
  }

  /** True when the pair (environment, target) is selected; the shard is asked apart ({@link ownsStack}). */
  includesPair(ref: EnvironmentRef, targetId: string): boolean {
    return this.includesTarget(targetId) && this.includesEnvironment(ref);
  }

  /**
   * True when a stack's record is selected: its target and its environment. The record keeps
   * the environment as `org/project/name` text (the state's format); the globs match
   * `project/name`, the part after the organisation.
   */
  includesRecord(record: RecordOwner): boolean {
    if (!this.includesTarget(record.target)) return false;
    const slash = record.environment.indexOf("/");
    return this.includesEnvironmentId(slash < 0 ? "" : record.environment.slice(slash + 1));
  }

  /** True when this run's shard owns the stack; every stack is owned without a shard. */
  ownsStack(stack: string): boolean {
    return inShard(stack, this.shard);
  }

  /** The flags this selection was built from. */
  spec(): SelectionSpec {
    return { filter: this.filter, targets: this.targets, allowEmpty: this.allowEmpty, ...(this.shard ? { shard: this.shard } : {}) };
  }
}
