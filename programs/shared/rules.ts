/**
 * Name, size, count and collision checks shared by the store kinds. Every problem states the
 * store's rule, so that a person can fix all of them from one report.
 */
import type { EntryProblem, PlannedEntry } from "../contract.js";

/** One rule a store puts on its names. `rule` completes "<store> <noun> names ...". */
export interface NameRule {
  readonly test: (name: string) => boolean;
  /** The rule as the store documents it, e.g. `must contain only alphanumerics and /_+=.@-`. */
  readonly rule: string;
}

/** What a store calls its entries and how it names itself, for messages. */
export interface StoreWords {
  /** `AWS Secrets Manager`. */
  readonly store: string;
  /** `secret`, `parameter`, `field`. */
  readonly noun: string;
}

/** A name made only of the characters `allowed` matches (a character class body, no brackets). */
export function onlyChars(allowed: RegExp, rule: string): NameRule {
  return { test: (name) => allowed.test(name), rule };
}

/** A name between `min` and `max` characters long. */
export function lengthBetween(min: number, max: number): NameRule {
  return {
    test: (name) => name.length >= min && name.length <= max,
    rule: min <= 1 ? `must be 1 to ${max} characters long` : `must be ${min} to ${max} characters long`,
  };
}

/** Renders a byte count for a message: `65,536 bytes (64 KiB)`. */
export function formatBytes(bytes: number): string {
  const n = bytes.toLocaleString("en-US");
  if (bytes % (1024 * 1024) === 0) return `${n} bytes (${bytes / (1024 * 1024)} MiB)`;
  if (bytes % 1024 === 0) return `${n} bytes (${bytes / 1024} KiB)`;
  return `${n} bytes`;
}

/** Entries whose name breaks one of `rules`: one problem per entry and broken rule. */
export function checkNames(entries: readonly PlannedEntry[], rules: readonly NameRule[], words: StoreWords): EntryProblem[] {
  const problems: EntryProblem[] = [];
  for (const entry of entries) {
    for (const r of rules) {
      if (!r.test(entry.name)) {
        problems.push({
          name: entry.name,
          message: `${words.noun} name "${entry.name}"${fromKey(entry)} is invalid: ${words.store} ${words.noun} names ${r.rule}`,
        });
      }
    }
  }
  return problems;
}

/** Entries whose value is larger than the store accepts. */
export function checkValueSizes(entries: readonly PlannedEntry[], maxBytes: number, words: StoreWords, qualifier = ""): EntryProblem[] {
  const problems: EntryProblem[] = [];
  for (const entry of entries) {
    const size = entry.value.byteLength;
    if (size > maxBytes) {
      problems.push({
        name: entry.name,
        message:
          `value of ${words.noun} "${entry.name}"${fromKey(entry)} is ${size.toLocaleString("en-US")} bytes: ` +
          `${words.store} ${words.noun} values${qualifier} cannot exceed ${formatBytes(maxBytes)}`,
      });
    }
  }
  return problems;
}

/**
 * Entries that end up with the same name in the store once `normalize` has run (Key Vault turns
 * `_` into `-`, GitHub upper-cases). One problem per clash, naming every key involved.
 * `transform` says in words what the store does to names, e.g. `_ and . become -`.
 */
export function checkCollisions(
  entries: readonly PlannedEntry[],
  normalize: (name: string) => string,
  words: StoreWords,
  transform?: string,
): EntryProblem[] {
  const groups = new Map<string, PlannedEntry[]>();
  for (const entry of entries) {
    const name = normalize(entry.name);
    const group = groups.get(name);
    if (group) group.push(entry);
    else groups.set(name, [entry]);
  }
  const problems: EntryProblem[] = [];
  for (const [name, group] of groups) {
    if (group.length < 2) continue;
    const sources = group.map((e) => `"${e.key ?? e.name}"`);
    const list = sources.length === 2 ? `${sources[0]} and ${sources[1]}` : `${sources.slice(0, -1).join(", ")} and ${sources.at(-1)}`;
    const rule = transform
      ? `${words.store} ${words.noun} names must be unique after the store's transform (${transform})`
      : `${words.store} ${words.noun} names must be unique`;
    problems.push({
      name,
      message: `${group[0]!.key !== undefined ? "keys" : "entries"} ${list} ${group.length === 2 ? "both" : "all"} map to ${words.noun} "${name}": ${rule}; rename one of them or change the naming template`,
    });
  }
  return problems;
}

/** A pair-level problem when more than `max` entries are written (`what` = `secrets per repository`). */
export function checkCount(count: number, max: number, words: StoreWords, what: string): EntryProblem[] {
  if (count <= max) return [];
  return [{ message: `the pair writes ${count} ${words.noun}s: ${words.store} allows at most ${max} ${what}` }];
}

function fromKey(entry: PlannedEntry): string {
  return entry.key !== undefined && entry.key !== entry.name ? ` (key "${entry.key}")` : "";
}

/**
 * The naming of a store that keeps names as given (AWS Secrets Manager, GCP Secret Manager):
 * which names it allows, how large a value may be, and names unique within a pair.
 */
export function verbatimNaming(words: StoreWords, nameRules: readonly NameRule[], maxValueBytes: number) {
  const normalizeName = (name: string): string => name;
  return {
    words,
    nameRules,
    normalizeName,
    checkEntries: (entries: readonly PlannedEntry[]): EntryProblem[] => [
      ...checkNames(entries, nameRules, words),
      ...checkValueSizes(entries, maxValueBytes, words),
      ...checkCollisions(entries, normalizeName, words),
    ],
  };
}
