/**
 * Azure Key Vault's naming and size rules. Secret names allow only `0-9a-zA-Z-`, so the common
 * `_` and `.` of environment keys become `-`; names that collide after that are reported.
 */
import type { EntryProblem, PlannedEntry } from "../contract.js";
import { checkCollisions, checkNames, checkValueSizes, lengthBetween, onlyChars, type StoreWords } from "../shared/rules.js";
import { MAX_NAME_LENGTH, MAX_VALUE_BYTES } from "./schema.js";

export const words: StoreWords = { store: "Azure Key Vault", noun: "secret" };

export const TRANSFORM = "_ and . become -";

export const nameRules = [
  onlyChars(/^[0-9a-zA-Z-]*$/, "must contain only 0-9, a-z, A-Z and -"),
  lengthBetween(1, MAX_NAME_LENGTH),
];

/** `_` and `.` become `-`; anything else is left for `check` to report. */
export function normalizeName(name: string): string {
  return name.replace(/[_.]/g, "-");
}

export function checkEntries(entries: readonly PlannedEntry[]): EntryProblem[] {
  const normalized = entries.map((e) => ({ ...e, name: normalizeName(e.name) }));
  return [
    ...checkNames(normalized, nameRules, words),
    ...checkValueSizes(normalized, MAX_VALUE_BYTES, words),
    ...checkCollisions(entries, normalizeName, words, TRANSFORM),
  ];
}
