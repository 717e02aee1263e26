/**
 * GitHub Actions' naming, size and count rules. Names are case-insensitive and stored upper-case,
 * so keys that differ only in case collide; that is reported.
 */
import type { EntryProblem, PlannedEntry } from "../contract.js";
import { checkCollisions, checkCount, checkNames, checkValueSizes, onlyChars, type NameRule, type StoreWords } from "../shared/rules.js";
import { MAX_SECRETS, MAX_VALUE_BYTES, MAX_VARIABLES, type GithubActionsSettings } from "./schema.js";

export const secretWords: StoreWords = { store: "GitHub Actions", noun: "secret" };
export const variableWords: StoreWords = { store: "GitHub Actions", noun: "variable" };

export const TRANSFORM = "names are stored upper-case";

export const nameRules: NameRule[] = [
  onlyChars(/^[A-Za-z0-9_]*$/, "must contain only alphanumerics and _"),
  { test: (name) => name.length > 0, rule: "cannot be empty" },
  { test: (name) => !/^GITHUB_/i.test(name), rule: "cannot start with the GITHUB_ prefix" },
  { test: (name) => !/^[0-9]/.test(name), rule: "cannot start with a number" },
];

export function normalizeName(name: string): string {
  return name.toUpperCase();
}

/** True when the entry is written as an Actions variable rather than a secret. */
export function isVariable(entry: PlannedEntry, settings: Pick<GithubActionsSettings, "nonSecretAsVariables">): boolean {
  return settings.nonSecretAsVariables && !entry.secret;
}

export function checkEntries(entries: readonly PlannedEntry[], settings: GithubActionsSettings): EntryProblem[] {
  const normalized = entries.map((e) => ({ ...e, name: normalizeName(e.name) }));
  const secrets = normalized.filter((e) => !isVariable(e, settings));
  const variables = normalized.filter((e) => isVariable(e, settings));
  const scope = settings.environment !== undefined ? "environment" : "repository";
  return [
    ...checkNames(secrets, nameRules, secretWords),
    ...checkNames(variables, nameRules, variableWords),
    ...checkValueSizes(secrets, MAX_VALUE_BYTES, secretWords),
    ...checkValueSizes(variables, MAX_VALUE_BYTES, variableWords),
    // Secrets and variables live in separate namespaces, but one name for both would confuse
    // workflows (`secrets.X` vs `vars.X`) and cannot come from one environment anyway.
    ...checkCollisions(entries, normalizeName, secretWords, TRANSFORM),
    ...checkCount(secrets.length, MAX_SECRETS, secretWords, `secrets per ${scope}`),
    ...checkCount(variables.length, MAX_VARIABLES[scope], variableWords, `variables per ${scope}`),
  ];
}
