/** The `file` target's naming rules: a dotenv file's keys must be names shells and readers accept. */
import type { EntryProblem, PlannedEntry, Shape } from "../contract.js";

/** A dotenv variable name: what shells and dotenv readers accept. */
export const DOTENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A file keeps names as they are. */
export function normalizeName(name: string): string {
  return name;
}

export function checkEntries(entries: readonly PlannedEntry[], shape: Shape): EntryProblem[] {
  if (shape === "json") return [];
  const problems: EntryProblem[] = [];
  for (const entry of entries) {
    if (!DOTENV_NAME.test(entry.name)) {
      problems.push({
        name: entry.name,
        message: `"${entry.name}" is not a dotenv variable name: it must start with a letter or _ and contain only letters, digits and _`,
      });
    }
  }
  return problems;
}
