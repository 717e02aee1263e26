/**
 * `migrate adopt` for `vault-kv`: which planned fields exist already in the pair's secret
 * (through the kind's reader, which names a field `<path>/<field>`), and what the program needs
 * to import the secret. The secret is one resource: it is imported by `<mount>/data/<path>` as
 * soon as one planned field exists in it.
 */
import type { ProgramInput, StoreReader } from "../contract.js";
import type { SecretValue } from "../secret-value.js";
import { findExistingWith } from "../shared/adopt.js";
import { normalizeName } from "./naming.js";
import { vaultKvReader } from "./reader.js";
import type { VaultKvSettings } from "./schema.js";

/** The planned fields the secret at `pathTemplate` holds now, by planned name, with their values. */
export function vaultKvFindExisting(
  input: ProgramInput<VaultKvSettings>,
  signal?: AbortSignal,
  reader: StoreReader = vaultKvReader(input.settings),
): Promise<Map<string, SecretValue>> {
  return findExistingWith(input, { reader, storeName: (e) => `${input.settings.pathTemplate}/${normalizeName(e.name)}` }, signal);
}

/** `vault.kv.SecretV2`'s import id: the secret's API path below `/v1/`. */
export function secretImportId(mount: string, path: string): string {
  return `${mount}/data/${path}`;
}

/**
 * What an adopted secret may hold differently from the program for the import to succeed; the
 * next sync writes a new version holding exactly ESC's fields, and the ownership metadata.
 */
export const SECRET_IGNORED = ["dataJson", "customMetadata", "options", "cas", "deleteAllVersions", "disableRead"];
