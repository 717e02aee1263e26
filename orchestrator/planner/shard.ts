/**
 * Sharding: n processes (a Kubernetes Indexed Job, a CI matrix) share one manifest and one backend,
 * each owning the pairs whose stack name hashes to its index. Pure: the partition depends on the
 * stack name alone, so every shard computes the same one on any machine, and a shard never plans,
 * runs or deletes a stack another shard owns.
 */
import { createHash } from "node:crypto";
import { ConfigError } from "../errors.js";

/** One shard of `count`: `index` is 0-based (`--shard 0/3`, `1/3`, `2/3`). */
export interface Shard {
  index: number;
  count: number;
}

/** The variable the shard count is read from in an Indexed Job (Kubernetes sets only the index). */
export const SHARD_COUNT_VAR = "ESC_SYNC_SHARD_COUNT";
/** The variable Kubernetes sets to a pod's index in an Indexed Job. */
export const SHARD_INDEX_VAR = "JOB_COMPLETION_INDEX";

const SHARD_HINT = "INDEX/COUNT with 0 ≤ INDEX < COUNT, e.g. 0/3, 1/3 and 2/3 for three shards";

/**
 * Parses `i/n`; throws a {@link ConfigError} naming what is wrong and the form expected (in the
 * message itself: a flag's parse errors reach the user through yargs, which keeps no hint).
 */
export function parseShard(text: string, what = "--shard"): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const refuse = (why: string) => new ConfigError(`${what} ${text}: ${why}; write ${SHARD_HINT}`);
  if (!m) throw refuse("not INDEX/COUNT");
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw refuse("the shard count must be at least 1");
  if (index >= count) throw refuse(`the index counts from 0 and must be below the count ${count}`);
  return { index, count };
}

/**
 * The shard of a run: `--shard i/n` when given, else the Indexed Job's
 * `JOB_COMPLETION_INDEX` with `ESC_SYNC_SHARD_COUNT`, else none (the whole selection).
 * An index without a count is refused: guessing would make every pod sync everything.
 */
export function resolveShard(flag: string | undefined, env: NodeJS.ProcessEnv): Shard | undefined {
  if (flag !== undefined) return parseShard(flag);
  const index = env[SHARD_INDEX_VAR];
  const count = env[SHARD_COUNT_VAR];
  if (index === undefined || index === "") {
    if (count !== undefined && count !== "") {
      throw new ConfigError(`${SHARD_COUNT_VAR}=${count} is set but ${SHARD_INDEX_VAR} is not`, [], `set ${SHARD_INDEX_VAR} (an Indexed Job sets it) or pass --shard INDEX/COUNT`);
    }
    return undefined;
  }
  if (count === undefined || count === "") {
    throw new ConfigError(
      `${SHARD_INDEX_VAR}=${index} is set (a Kubernetes Indexed Job) but ${SHARD_COUNT_VAR} is not`,
      [],
      `set ${SHARD_COUNT_VAR} to the Job's completions count in the pod's env, or pass --shard INDEX/COUNT`,
    );
  }
  return parseShard(`${index}/${count}`, `${SHARD_INDEX_VAR}/${SHARD_COUNT_VAR}`);
}

/** The shard index a stack belongs to among `count`: the first 32 bits of its SHA-256, modulo. */
export function shardOf(stack: string, count: number): number {
  return createHash("sha256").update(stack).digest().readUInt32BE(0) % count;
}

/** True when the shard owns the stack; every stack belongs to a run without a shard. */
export function inShard(stack: string, shard: Shard | undefined): boolean {
  return shard === undefined || shard.count === 1 || shardOf(stack, shard.count) === shard.index;
}
