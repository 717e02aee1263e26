/**
 * The inventory: one row per entry esc-sync wrote or is about to write, saying where it lives
 * (target, store location, entry name), where its value comes from (environment, property path,
 * the declarations it derives from) and whether the store holds it as planned. Built from the
 * run plan of a sync and the stacks' records only: no store is read, no value is kept.
 */
import { envFullName } from "../../programs/environment-ref.js";
import { valueFingerprint } from "../drift/compare.js";
import { joinKey } from "../esc-eval/syntax.js";
import type { PlannedStep, RunPlan } from "../planner/decide.js";
import type { Pair } from "../planner/plan.js";
import type { Provenance, ValueProvenance } from "../values.js";
import type { z } from "zod";
import type { entryStatusSchema, inventoryRowSchema } from "./schema.js";

/** See {@link entryStatusSchema}. */
export type EntryStatus = z.infer<typeof entryStatusSchema>;

/** One entry in one store (fields described in {@link inventoryRowSchema}). Names, paths and a keyed fingerprint: never a value. */
export type InventoryRow = z.infer<typeof inventoryRowSchema>;

/** What the rows are built from. */
export interface InventoryInput {
  /** The run plan of a sync over the selection (a dry run's: nothing carried out). */
  runPlan: RunPlan;
  /** The property path a binding reads (`from`), by binding id; `sync:` blocks are not listed. */
  bindingPaths: ReadonlyMap<string, string>;
  /** The provenance of the environment a pair reads, where the source gives one. */
  provenanceOf: (pair: Pair) => Provenance | undefined;
  /** Key of the entries' fingerprints (never printed). */
  fingerprintKey: string;
}

/** The rows of the inventory, sorted by environment, target and entry. Pure. */
export function inventoryRows(input: InventoryInput): InventoryRow[] {
  const rows: InventoryRow[] = [];
  for (const step of input.runPlan.steps) {
    if (step.pair) rows.push(...pairRows(step, step.pair, input));
    else rows.push(...orphanRows(step));
  }
  return rows.sort((a, b) => cmp(a.environment, b.environment) || cmp(a.target, b.target) || cmp(a.entry, b.entry));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function pairRows(step: PlannedStep, pair: Pair, input: InventoryInput): InventoryRow[] {
  const record = step.existing?.record;
  const written = new Set(record?.entries ?? []);
  const provenance = input.provenanceOf(pair);
  const from = input.bindingPaths.get(pair.bindingId);
  // An environment's own `sync:` block writes items of `sync.<key>`.
  const base = from ?? (pair.bindingId.startsWith("sync:") ? joinKey("sync", pair.bindingId.slice("sync:".length)) : "");
  const common = {
    environment: envFullName(pair.env),
    target: pair.targetId,
    kind: pair.kind,
    binding: pair.bindingId,
    location: pair.location,
    stack: pair.stack,
    revision: record?.revision?.number ?? pair.revision?.number ?? null,
  };
  const rows: InventoryRow[] = pair.entries.map((e) => {
    const path = e.key !== undefined && from !== undefined ? joinKey(from, e.key) : base;
    const onRecord = written.has(e.name);
    const { status, detail } = plannedStatus(step, onRecord);
    return {
      ...common,
      path,
      ...provenanceAt(provenance, path),
      secret: e.secret,
      entry: e.name,
      status,
      detail,
      lastWritten: onRecord ? (step.existing?.updatedAt ?? null) : null,
      fingerprint: valueFingerprint(input.fingerprintKey, e.value.reveal()),
    };
  });
  // On record, no longer planned: the next sync deletes it (or the binding retains it).
  const planned = new Set(pair.entries.map((e) => e.name));
  for (const name of [...written].filter((n) => !planned.has(n))) {
    rows.push({
      ...common,
      path: null,
      definedIn: null,
      derivedFrom: [],
      secret: null,
      entry: name,
      status: pair.refusal ? "refused" : "orphaned",
      detail: pair.refusal ? "its pair is refused; on record from the last sync" : pair.retainOnDelete ? "no longer planned: a sync leaves it in the store (retainOnDelete)" : "no longer planned: a sync deletes it",
      lastWritten: step.existing?.updatedAt ?? null,
      fingerprint: null,
    });
  }
  return rows;
}

function plannedStatus(step: PlannedStep, onRecord: boolean): { status: EntryStatus; detail: string } {
  const d = step.decision;
  switch (d.action) {
    case "skip-unchanged":
      return onRecord ? { status: "synced", detail: "as last written" } : { status: "pending", detail: "not on record" };
    case "run":
      return { status: "pending", detail: onRecord ? d.why.replaceAll("-", " ") : "new" };
    case "hold":
      return { status: "pending", detail: `held by the deletion guard: ${d.message}` };
    case "move":
      return { status: "pending", detail: `moving from ${d.from}` };
    case "refuse":
      return { status: "refused", detail: onRecord ? "its pair is refused; on record from the last sync" : "its pair is refused; never written" };
    default:
      return { status: onRecord ? "synced" : "pending", detail: d.action };
  }
}

/** A stack no planned pair claims: every entry on its record is orphaned. */
function orphanRows(step: PlannedStep): InventoryRow[] {
  const record = step.existing?.record;
  if (!record) return [];
  return record.entries.map((entry) => ({
    environment: record.environment,
    path: null,
    definedIn: null,
    derivedFrom: [],
    secret: null,
    target: record.target,
    kind: record.kind,
    binding: record.binding,
    location: record.location ?? "",
    entry,
    status: "orphaned" as const,
    detail: step.decision.action === "hold" ? `orphaned, held by the deletion guard: ${step.decision.message}` : "orphaned: its environment or binding is gone; a sync or prune deletes it",
    stack: step.stack,
    revision: record.revision?.number ?? null,
    lastWritten: step.existing?.updatedAt ?? null,
    fingerprint: null,
  }));
}

/** The provenance of a value at `path` and everything below it (a `json` entry holds a subtree). */
function provenanceAt(provenance: Provenance | undefined, path: string): Pick<InventoryRow, "definedIn" | "derivedFrom"> {
  if (!provenance) return { definedIn: null, derivedFrom: [] };
  const own: ValueProvenance | undefined = provenance[path];
  const derived = new Set<string>(own?.derivedFrom ?? []);
  for (const [p, v] of Object.entries(provenance)) {
    if (path === "" || p.startsWith(`${path}.`) || p.startsWith(`${path}[`)) for (const d of v.derivedFrom) derived.add(d);
  }
  return { definedIn: own?.definedIn ?? null, derivedFrom: [...derived].sort() };
}

/** A parsed `--secret ORG/PROJECT/ENV[:PATH]`. */
export interface SecretQuery {
  environment: string;
  /** A property path; empty: anything of the environment. */
  path: string;
}

/**
 * Parses `--secret`: `org/project/env:path` (a path under `values`), or `org/project/env` for
 * anything of that environment. Undefined when malformed.
 */
export function parseSecretQuery(text: string): SecretQuery | undefined {
  const colon = text.indexOf(":");
  const environment = colon < 0 ? text : text.slice(0, colon);
  const path = colon < 0 ? "" : text.slice(colon + 1);
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(environment)) return undefined;
  if (path.startsWith(".") || path.endsWith(".")) return undefined;
  return { environment, path };
}

/** True when `key` (`org/project/env:path`) is the queried declaration or one below it. */
function under(key: string, q: SecretQuery): boolean {
  const colon = key.indexOf(":");
  if (key.slice(0, colon) !== q.environment) return false;
  const path = key.slice(colon + 1);
  return q.path === "" || path === q.path || path.startsWith(`${q.path}.`) || path.startsWith(`${q.path}[`);
}

/**
 * The rows whose value derives from the queried declaration: read from it directly, or built
 * from it through imports, references, interpolation or `fn::` functions.
 */
export function rowsDerivedFrom(rows: readonly InventoryRow[], q: SecretQuery): InventoryRow[] {
  return rows.filter((r) => (r.path !== null && under(`${r.environment}:${r.path}`, q)) || r.derivedFrom.some((d) => under(d, q)));
}
