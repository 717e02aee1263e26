/**
 * Vault KV's rules. A pair writes one KV v2 secret at `pathTemplate`; entries are its fields:
 * one field per key (`keys`), or one field holding the JSON document (`json`). Field names are
 * used as given.
 */
import type { EntryProblem, PlannedEntry } from "../contract.js";
import { checkCollisions, checkNames, formatBytes, type StoreWords } from "../shared/rules.js";
import { MAX_SECRET_BYTES, type VaultKvSettings } from "./schema.js";

export const words: StoreWords = { store: "Vault KV", noun: "field" };

export const nameRules = [{ test: (name: string) => name.length > 0, rule: "cannot be empty" }];

/** Vault keeps field names as they are. */
export function normalizeName(name: string): string {
  return name;
}

/** Why a rendered secret path is not usable, or undefined when it is. */
export function pathProblem(path: string): string | undefined {
  if (path === "" || path.startsWith("/") || path.endsWith("/") || path.includes("//")) {
    return `secret path "${path}" is invalid: Vault KV secret paths cannot be empty, start or end with /, or contain an empty segment (//)`;
  }
  if (path.split("/").some((segment) => segment === "." || segment === "..")) {
    return `secret path "${path}" is invalid: Vault KV secret paths cannot contain . or .. segments`;
  }
  return undefined;
}

/**
 * Size of the secret's data as JSON, from the entries' byte lengths (values are not read):
 * a little over the real size when a document is stored nested rather than as text.
 */
export function dataBytes(entries: readonly PlannedEntry[]): number {
  let total = 2; // {}
  for (const e of entries) total += Buffer.byteLength(JSON.stringify(e.name), "utf8") + e.value.byteLength + 4; // "name":"value",
  return total;
}

export function checkEntries(entries: readonly PlannedEntry[], settings: VaultKvSettings): EntryProblem[] {
  const problems: EntryProblem[] = [];
  const path = pathProblem(settings.pathTemplate);
  if (path !== undefined) problems.push({ message: path });
  problems.push(...checkNames(entries, nameRules, words), ...checkCollisions(entries, normalizeName, words));
  const size = dataBytes(entries);
  if (size > MAX_SECRET_BYTES) {
    problems.push({
      message:
        `secret "${settings.mount}/${settings.pathTemplate}" would hold about ${size.toLocaleString("en-US")} bytes: ` +
        `a Vault KV secret (all its fields together) cannot exceed ${formatBytes(MAX_SECRET_BYTES)}`,
    });
  }
  return problems;
}
