/**
 * The pure half of `migrate import`: from what the store holds and what the environment holds,
 * decide per entry (imported, unchanged, conflict, skipped, failed) and build the new definition.
 * No I/O; values stay {@link SecretValue}s and never enter a reason.
 */
import type { StoreEntry } from "../../programs/contract.js";
import { formatBytes } from "../../programs/shared/rules.js";
import { sameJson } from "../../programs/shared/readback.js";
import { containsUnknown, selectPath, toPlain, type Plain, type Properties, type ValueNode } from "../values.js";
import { SecretValue } from "../../programs/secret-value.js";
import type { KeyMapping } from "./mapping.js";
import { DefinitionEditor } from "./merge.js";

export type ImportStatus = "imported" | "unchanged" | "conflict" | "skipped" | "failed";
export const IMPORT_STATUSES: readonly ImportStatus[] = ["imported", "unchanged", "conflict", "skipped", "failed"];

/** What became (or, in a dry run, would become) of one store entry. */
export interface ImportItem {
  /** The name in the store. */
  name: string;
  /** The ESC key under the path, when the name maps to one. */
  key?: string;
  status: ImportStatus;
  /** For `imported`: a key added, or an existing key changed. */
  action?: "add" | "update";
  /** Why: the rule behind a skip, the cause of a conflict or failure, what an update changes. */
  reason?: string;
}

export interface ImportOptions {
  mapping: KeyMapping;
  /** Property path segments under `values` (`["environmentVariables"]`). */
  path: readonly string[];
  /** `object`: a JSON object or array is written as nested values, each leaf secret. `string`: as its text. */
  jsonAs: "object" | "string";
  /** Replace keys that hold a different value, instead of reporting them as conflicts. */
  overwrite: boolean;
  /** Larger values are skipped. */
  maxBytes: number;
}

/** The environment as read: its definition and its evaluated values (undefined when it does not exist yet). */
export interface CurrentEnvironment {
  yaml: string;
  properties: Properties | undefined;
}

export interface ImportPlan {
  items: ImportItem[];
  /** The new definition; undefined when nothing needs writing. */
  yaml: string | undefined;
}

/** Decides every entry and merges the imported ones into the definition. Throws `DefinitionError`. */
export function planImport(entries: readonly StoreEntry[], current: CurrentEnvironment, options: ImportOptions): ImportPlan {
  const editor = new DefinitionEditor(current.yaml, options.path);
  const base = current.properties ? selectPath({ ...current.properties }, pathText(options.path)) : undefined;
  const existing = base && base.value !== null && typeof base.value === "object" && !Array.isArray(base.value) ? base.value : {};

  // Two names that map to one key: neither is imported, so that no value silently wins.
  const namesByKey = new Map<string, string[]>();
  for (const e of entries) {
    const key = options.mapping.keyOf(e.name);
    if (key !== undefined && e.value !== undefined) namesByKey.set(key, [...(namesByKey.get(key) ?? []), e.name]);
  }

  let changed = false;
  const items = entries.map((entry): ImportItem => {
    const key = options.mapping.keyOf(entry.name);
    const at = key !== undefined ? { key } : {};
    if (entry.error !== undefined) return { name: entry.name, ...at, status: "failed", reason: entry.error };
    if (entry.value === undefined) return { name: entry.name, ...at, status: "skipped", reason: entry.skippedReason ?? "no value" };
    if (key === undefined) return { name: entry.name, status: "skipped", reason: "nothing is left of the name once the prefix is stripped" };
    const others = namesByKey.get(key)!.filter((n) => n !== entry.name);
    if (others.length > 0) {
      return { name: entry.name, key, status: "failed", reason: `the key also comes from ${others.join(", ")}: change the prefix or filter` };
    }
    if (entry.value.byteLength > options.maxBytes) {
      return {
        name: entry.name,
        key,
        status: "skipped",
        reason: `too large: ${formatBytes(entry.value.byteLength)}, more than the ${formatBytes(options.maxBytes)} an imported value may have (--max-bytes)`,
      };
    }

    const desired = desiredValue(entry.value, options.jsonAs);
    const held = Object.hasOwn(existing, key) ? existing[key] : undefined;
    const write = (action: "add" | "update", reason?: string): ImportItem => {
      editor.set(key, desired.kind === "text" ? entry.value!.reveal() : { json: desired.json });
      changed = true;
      return { name: entry.name, key, status: "imported", action, ...(reason ? { reason } : {}) };
    };
    const note = desired.note;
    if (held === undefined) return write("add", note);
    const comparison = compare(held, desired, entry.value);
    if (comparison === "same") return { name: entry.name, key, status: "unchanged" };
    if (comparison === "same-not-secret") return write("update", "the environment holds the same value, not marked secret: now fn::secret");
    if (options.overwrite) return write("update", `replaces the environment's value (--overwrite)${note ? `; ${note}` : ""}`);
    const why = comparison === "unknown" ? "the environment's value is not known until it is opened by its provider" : "the environment holds a different value";
    return { name: entry.name, key, status: "conflict", reason: `${why}: --overwrite replaces it` };
  });

  return { items, yaml: changed ? editor.toString() : undefined };
}

type Desired = { kind: "text"; note?: string } | { kind: "json"; json: Plain; note?: string };

/** What the entry becomes in ESC: its text, or (with `--json-as object`) its parsed JSON document. */
function desiredValue(value: SecretValue, jsonAs: "object" | "string"): Desired {
  if (jsonAs === "string") return { kind: "text" };
  const text = value.reveal();
  if (!/^\s*[[{]/.test(text)) return { kind: "text" };
  let json: Plain;
  try {
    json = JSON.parse(text) as Plain;
  } catch {
    return { kind: "text" };
  }
  if (hasFunctionKey(json)) return { kind: "text", note: "kept as a string: a key of its JSON starts with fn::, which ESC would read as a function" };
  return { kind: "json", json };
}

function hasFunctionKey(value: Plain): boolean {
  if (Array.isArray(value)) return value.some(hasFunctionKey);
  if (value !== null && typeof value === "object") return Object.entries(value).some(([k, v]) => k.startsWith("fn::") || hasFunctionKey(v));
  return false;
}

/** How the environment's value compares with the desired one. */
function compare(held: ValueNode, desired: Desired, value: SecretValue): "same" | "same-not-secret" | "different" | "unknown" {
  if (containsUnknown(held)) return "unknown";
  const want: Plain = desired.kind === "text" ? value.reveal() : desired.json;
  if (!sameJson(toPlain(held), want)) return "different";
  return allLeavesSecret(held, false) ? "same" : "same-not-secret";
}

function allLeavesSecret(node: ValueNode, inherited: boolean): boolean {
  const secret = inherited || node.secret === true;
  const v = node.value;
  if (Array.isArray(v)) return v.every((c) => allLeavesSecret(c, secret));
  if (v !== null && typeof v === "object") return Object.values(v).every((c) => allLeavesSecret(c, secret));
  return secret;
}

/** Path segments back to a property path for {@link selectPath}. */
function pathText(path: readonly string[]): string {
  return path.map((s) => `[${JSON.stringify(s)}]`).join("");
}
