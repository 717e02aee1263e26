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

/**
 * Places a `sync:` item's secret from its `path` as Pulumi's ESC examples write it: the KV v2 API
 * path `<mount>/data/<name>` (`secret/data/my-application-config`), which their program handed to
 * `vault.GenericSecret`. The `vault kv` form `<mount>/<name>` is accepted when `<mount>` is the
 * target's mount. The path's mount replaces the target's; anything else is a problem that says
 * how to write the path.
 */
export function syncSecretSettings(path: string, settings: VaultKvSettings): { settings: VaultKvSettings } | { problem: string } {
  const fix = `write it as <mount>/data/<path>, e.g. ${settings.mount}/data/my-app, as the ESC examples do`;
  const segments = path.split("/");
  const data = segments.indexOf("data", 1);
  const metadata = segments.indexOf("metadata", 1);
  if (metadata >= 1 && (data < 0 || metadata < data)) {
    return { problem: `vaultSecret path "${path}" is a metadata path, which holds no secret data: ${fix}` };
  }
  let mount: string;
  let name: string;
  if (data >= 1) {
    mount = segments.slice(0, data).join("/");
    name = segments.slice(data + 1).join("/");
  } else if (path.startsWith(`${settings.mount}/`)) {
    mount = settings.mount;
    name = path.slice(settings.mount.length + 1);
  } else {
    return { problem: `vaultSecret path "${path}" names no KV v2 mount (no "data/" segment, and it does not start with the target's mount "${settings.mount}/"): ${fix}` };
  }
  if (mount === "" || mount.startsWith("/") || name === "") {
    return { problem: `vaultSecret path "${path}" cannot be split into a mount and a secret path: ${fix}` };
  }
  const problem = pathProblem(name);
  if (problem !== undefined) return { problem: `vaultSecret path "${path}": ${problem}` };
  return { settings: { ...settings, mount, pathTemplate: name } };
}
