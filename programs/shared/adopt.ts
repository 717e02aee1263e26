/**
 * What the cloud kinds' `findExisting` (for `esc-sync migrate adopt`) share: ask the kind's own
 * reader for the pair's planned names only, and key what it finds by planned entry name, in the
 * form planned values have, so that fingerprints of equal values match.
 */
import type { PlannedEntry, ProgramInput, StoreReader } from "../contract.js";
import { SecretValue } from "../secret-value.js";
import { inPlannedForm } from "./readback.js";
import { StoreReadError } from "./reader.js";

/** How a kind's entries appear to its reader. */
export interface ExistingLookup {
  reader: StoreReader;
  /** The name the reader reports for a planned entry (`/prefix/KEY`, `path/FIELD`). */
  storeName(entry: PlannedEntry): string;
}

/**
 * The pair's planned entries that exist in the store now, by planned name, with their values.
 *
 * Only planned names are fetched (the reader's `include`), narrowed by their common prefix where
 * the store filters by prefix. An entry the store holds but that ESC cannot hold (binary, disabled,
 * without a current value) is left out: it cannot be compared, so it is not adopted. An entry
 * whose value could not be read fails the lookup, naming the entry and the call.
 */
export async function findExistingWith(
  input: Pick<ProgramInput<unknown>, "entries" | "shape">,
  lookup: ExistingLookup,
  signal?: AbortSignal,
): Promise<Map<string, SecretValue>> {
  const planned = new Map<string, PlannedEntry>();
  for (const entry of input.entries) planned.set(lookup.storeName(entry), entry);
  const found = new Map<string, SecretValue>();
  if (planned.size === 0) return found;

  // A prefix only narrows the listing; the exact test is `include`. Names match exactly, as the
  // import id is built from the planned name.
  const prefix = commonPrefix([...planned.keys()]);
  const filter = { ...(prefix !== "" ? { prefix } : {}), include: (name: string) => planned.has(name) };
  for await (const item of lookup.reader.list(filter, signal)) {
    const entry = planned.get(item.name);
    if (entry === undefined) continue;
    if (item.error !== undefined) {
      throw new StoreReadError(`cannot tell whether ${item.name} can be adopted: ${item.error}`);
    }
    if (item.value === undefined) continue;
    found.set(entry.name, new SecretValue(inPlannedForm(input.shape, item.value.reveal(), entry.value.reveal())));
  }
  return found;
}

/** The longest prefix all names share ("" for none). */
export function commonPrefix(names: readonly string[]): string {
  if (names.length === 0) return "";
  let prefix = names[0]!;
  for (const name of names.slice(1)) {
    let i = 0;
    while (i < prefix.length && i < name.length && prefix[i] === name[i]) i++;
    prefix = prefix.slice(0, i);
    if (prefix === "") break;
  }
  return prefix;
}
