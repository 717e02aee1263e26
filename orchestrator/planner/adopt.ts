/**
 * Adoption (`migrate adopt`): which entries a pair takes over from its store. An entry is a
 * candidate when the pair plans it, the store already holds it, and no stack manages it yet.
 * Pure: the store reads are done before (by the session) and passed in as data.
 */
import { envFullName } from "../../programs/environment-ref.js";
import type { SecretValue } from "../../programs/secret-value.js";
import { valueFingerprint } from "../drift/compare.js";
import type { Pair } from "./plan.js";
import type { StackClassification } from "./stacks.js";

/** One entry found in a store that no stack manages yet. */
export interface AdoptionCandidate {
  stack: string;
  environment: string;
  target: string;
  entry: string;
  /** True when the store's value differs from ESC's (the next sync changes it). */
  differs: boolean;
  /** Keyed fingerprint of ESC's value. */
  expected: string;
  /** Keyed fingerprint of the store's value. */
  actual: string;
}

/** What a pair's store holds, by entry name; `undefined` where its kind cannot list its store. */
export type StoreContents = ReadonlyMap<string, ReadonlyMap<string, SecretValue> | undefined>;

/** The adoption plan: the candidates to show, notes on stores that cannot be listed, and per stack the names to adopt. */
export interface Adoptions {
  candidates: AdoptionCandidate[];
  notes: string[];
  adopt: Map<string, Set<string>>;
}

/**
 * Chooses the entries to adopt. `found` holds, per stack of a pair that is not refused, what its
 * store holds (a pair missing from it was not read: a refused pair); `key` keys the fingerprints.
 */
export function chooseAdoptions(pairs: readonly Pair[], stacks: StackClassification, found: StoreContents, key: string): Adoptions {
  const candidates: AdoptionCandidate[] = [];
  const notes: string[] = [];
  const adopt = new Map<string, Set<string>>();
  for (const pair of pairs) {
    if (pair.refusal || !found.has(pair.stack)) continue;
    const inStore = found.get(pair.stack);
    if (!inStore) {
      notes.push(`${pair.stack}: ${pair.kind} cannot list what its store holds; nothing to adopt there`);
      continue;
    }
    const managed = new Set(stacks.byName.get(pair.stack)?.record?.entries ?? []);
    const names = new Set<string>();
    for (const entry of pair.entries) {
      const actual = inStore.get(entry.name);
      if (!actual || managed.has(entry.name)) continue;
      names.add(entry.name);
      const expected = valueFingerprint(key, entry.value.reveal());
      const got = valueFingerprint(key, actual.reveal());
      candidates.push({ stack: pair.stack, environment: envFullName(pair.env), target: pair.targetId, entry: entry.name, differs: expected !== got, expected, actual: got });
    }
    if (names.size > 0) adopt.set(pair.stack, names);
  }
  return { candidates, notes, adopt };
}
