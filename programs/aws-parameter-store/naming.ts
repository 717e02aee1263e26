/**
 * SSM Parameter Store's naming and size rules. Names are placed under `pathPrefix`, and a
 * hierarchical name (one with `/`) gets the leading `/` SSM requires.
 */
import type { EntryProblem, PlannedEntry } from "../contract.js";
import { checkCollisions, checkNames, checkValueSizes, lengthBetween, onlyChars, type NameRule, type StoreWords } from "../shared/rules.js";
import { MAX_LEVELS, MAX_NAME_LENGTH, MAX_VALUE_BYTES, type AwsParameterStoreSettings } from "./schema.js";

export const words: StoreWords = { store: "SSM Parameter Store", noun: "parameter" };

export const nameRules: NameRule[] = [
  onlyChars(/^[a-zA-Z0-9_.\-/]*$/, "must contain only alphanumerics and _.-/"),
  lengthBetween(1, MAX_NAME_LENGTH),
  {
    test: (name) => !/^\/?(aws|ssm)/i.test(name),
    rule: "cannot begin with aws or ssm in any letter case, with or without a leading /",
  },
  {
    test: (name) => name.split("/").filter((level) => level !== "").length <= MAX_LEVELS,
    rule: `cannot have more than ${MAX_LEVELS} hierarchy levels`,
  },
  {
    test: (name) => !/\/\//.test(name) && !(name.length > 1 && name.endsWith("/")),
    rule: "cannot contain an empty hierarchy level (// or a trailing /)",
  },
];

/**
 * The parameter's full name: under `pathPrefix` (unless already there), with a leading `/` when
 * the name is hierarchical. Idempotent, so applying it to an already normalised name is harmless.
 */
export function normalizeName(name: string, settings: Pick<AwsParameterStoreSettings, "pathPrefix">): string {
  let n = name;
  const prefix = settings.pathPrefix;
  if (prefix !== undefined && prefix !== "/" && n !== prefix && !n.startsWith(`${prefix}/`)) {
    n = `${prefix}/${n.replace(/^\/+/, "")}`;
  }
  if (n.includes("/") && !n.startsWith("/")) n = `/${n}`;
  return n;
}

export function checkEntries(entries: readonly PlannedEntry[], settings: AwsParameterStoreSettings): EntryProblem[] {
  const normalized = entries.map((e) => ({ ...e, name: normalizeName(e.name, settings) }));
  return [
    ...checkNames(normalized, nameRules, words),
    ...checkValueSizes(normalized, MAX_VALUE_BYTES[settings.tier], words, ` in the ${settings.tier} tier`),
    ...checkCollisions(entries, (n) => normalizeName(n, settings), words, "names are placed under pathPrefix and get a leading /"),
  ];
}
