/**
 * How esc-sync marks what it owns in a store: tags or labels saying who manages the entry and
 * which ESC environment it comes from, and a description for people browsing the store.
 */
import type { PlannedEntry, ProgramInput } from "../contract.js";
import { envFullName } from "../environment-ref.js";

export const MANAGED_BY = "esc-sync";

/**
 * Tags for stores with free-form tags (AWS, Azure, Vault custom metadata):
 * `managed-by`, `esc-environment` (`org/project/name`) and `esc-target`.
 */
export function ownershipTags(input: Pick<ProgramInput<unknown>, "env" | "targetId">): Record<string, string> {
  return {
    "managed-by": MANAGED_BY,
    "esc-environment": envFullName(input.env),
    "esc-target": input.targetId,
  };
}

/**
 * Labels for stores with GCP's label rules: keys and values of lower-case letters, digits, `_`
 * and `-`, at most 63 characters, keys starting with a letter. `org/project/name` does not fit a
 * label value, so it is split into one label per part.
 */
export function ownershipLabels(input: Pick<ProgramInput<unknown>, "env" | "targetId">): Record<string, string> {
  return {
    "managed-by": MANAGED_BY,
    "esc-org": toLabelValue(input.env.org),
    "esc-project": toLabelValue(input.env.project),
    "esc-env": toLabelValue(input.env.name),
    "esc-target": toLabelValue(input.targetId),
  };
}

/** Lower-cases and replaces what a GCP label value cannot hold with `_`, keeping 63 characters. */
export function toLabelValue(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{Ll}\p{Lo}\p{N}_-]/gu, "_")
    .slice(0, 63);
}

/**
 * One sentence for a store's description field: where the entry comes from and that edits in the
 * store are overwritten. Cut to `maxLength` for stores with short description fields.
 */
export function describeEntry(input: Pick<ProgramInput<unknown>, "env" | "targetId">, entry: Pick<PlannedEntry, "key"> = {}, maxLength = 1024): string {
  const from = entry.key !== undefined ? `key ${entry.key} of ESC environment` : "ESC environment";
  const text = `Managed by ${MANAGED_BY} from ${from} ${envFullName(input.env)} (target ${input.targetId}); changes made here are overwritten by the next sync.`;
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`;
}
