/** AWS Secrets Manager's naming, size rules. Names are used as given: the store changes nothing. */
import type { EntryProblem, PlannedEntry } from "../contract.js";
import { checkCollisions, checkNames, checkValueSizes, lengthBetween, onlyChars, type StoreWords } from "../shared/rules.js";
import { MAX_NAME_LENGTH, MAX_VALUE_BYTES } from "./schema.js";

export const words: StoreWords = { store: "AWS Secrets Manager", noun: "secret" };

export const nameRules = [
  onlyChars(/^[A-Za-z0-9/_+=.@-]*$/, "must contain only alphanumerics and /_+=.@-"),
  lengthBetween(1, MAX_NAME_LENGTH),
];

/** Secrets Manager keeps names as they are. */
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
