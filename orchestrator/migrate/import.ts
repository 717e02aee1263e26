/**
 * `migrate import`, the I/O half: read the store through its kind's reader, read the
 * environment, plan (pure, `plan.ts`), create the environment if needed, and write the merged
 * definition with the tag read, so that an edit made meanwhile is never overwritten.
 */
import type { StoreEntry, StoreReader } from "../../programs/contract.js";
import { ConcurrentEditError, type ImportDestination } from "./destination.js";
import { IMPORT_STATUSES, planImport, type ImportItem, type ImportOptions, type ImportStatus } from "./plan.js";

/** What the import did (or, in a dry run, would do). Holds names and reasons, never values. */
export interface ImportResult {
  items: ImportItem[];
  totals: Record<ImportStatus, number>;
  /** True when a new definition was stored. */
  written: boolean;
  /** True when the environment was created (or, in a dry run, would be). */
  created: boolean;
  /** The environment's revision after the write (Pulumi Cloud). */
  revision?: number;
  /** Set when the write was refused because the environment changed meanwhile. */
  concurrentEdit?: string;
}

export interface RunImportInput {
  reader: StoreReader;
  destination: ImportDestination;
  options: ImportOptions;
  dryRun: boolean;
  signal?: AbortSignal;
  /** Hears every value read, so that the caller's redaction layer can hide it. */
  onValue?: (entry: StoreEntry) => void;
}

export async function runImport(input: RunImportInput): Promise<ImportResult> {
  const { reader, destination, options, dryRun, signal } = input;
  const entries: StoreEntry[] = [];
  for await (const entry of reader.list(options.mapping.readFilter, signal)) {
    entries.push(entry);
    if (entry.value !== undefined) input.onValue?.(entry);
  }

  // The environment is read after the store, so that the window before the write is short;
  // the tag read here is what the write must match.
  let state = await destination.read(signal);
  const plan = planImport(entries, { yaml: state.yaml, properties: state.properties }, options);
  const result: ImportResult = { items: plan.items, totals: totalsOf(plan.items), written: false, created: false };
  if (plan.yaml === undefined) return result;
  if (dryRun) return { ...result, created: !state.exists };

  let yaml = plan.yaml;
  if (!state.exists) {
    await destination.create(signal);
    const created = await destination.read(signal);
    // Created empty, or by someone else meanwhile: plan again against what is there now.
    if (created.yaml !== state.yaml) {
      const again = planImport(entries, { yaml: created.yaml, properties: created.properties }, options);
      if (again.yaml === undefined) return { ...result, items: again.items, totals: totalsOf(again.items), created: true };
      yaml = again.yaml;
      result.items = again.items;
      result.totals = totalsOf(again.items);
    }
    state = created;
    result.created = true;
  }

  try {
    const written = await destination.write(yaml, state.etag, signal);
    return { ...result, written: true, ...(written.revision !== undefined ? { revision: written.revision } : {}) };
  } catch (error) {
    if (!(error instanceof ConcurrentEditError)) throw error;
    // Nothing was written: every entry that was to be imported is a conflict now.
    const items = result.items.map((item): ImportItem =>
      item.status === "imported" ? { name: item.name, ...(item.key ? { key: item.key } : {}), status: "conflict", reason: "the environment changed while importing: not written" } : item,
    );
    return { ...result, items, totals: totalsOf(items), written: false, concurrentEdit: error.message };
  }
}

export function totalsOf(items: readonly ImportItem[]): Record<ImportStatus, number> {
  const totals = Object.fromEntries(IMPORT_STATUSES.map((s) => [s, 0])) as Record<ImportStatus, number>;
  for (const item of items) totals[item.status]++;
  return totals;
}
