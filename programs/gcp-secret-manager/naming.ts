/** GCP Secret Manager's naming and size rules. Secret ids are used as given. */
import type { EntryProblem, PlannedEntry } from "../contract.js";
import { checkCollisions, checkNames, checkValueSizes, lengthBetween, onlyChars, type StoreWords } from "../shared/rules.js";
import { MAX_NAME_LENGTH, MAX_VALUE_BYTES } from "./schema.js";

export const words: StoreWords = { store: "GCP Secret Manager", noun: "secret" };

export const nameRules = [
  onlyChars(/^[A-Za-z0-9_-]*$/, "must contain only alphanumerics, _ and -"),
  lengthBetween(1, MAX_NAME_LENGTH),
];

/** Secret Manager keeps secret ids as they are (they are case-sensitive). */
export function normalizeName(name: string): string {
  return name;
}

export function checkEntries(entries: readonly PlannedEntry[]): EntryProblem[] {
  return [
    ...checkNames(entries, nameRules, words),
    ...checkValueSizes(entries, MAX_VALUE_BYTES, words),
    ...checkCollisions(entries, normalizeName, words),
  ];
}
