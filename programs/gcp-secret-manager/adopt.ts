/**
 * `migrate adopt` for `gcp-secret-manager`: which planned secrets exist already (through the
 * kind's reader), and what the program needs to import them.
 *
 * A secret is imported by `projects/<project>/secrets/<id>`, its latest version by
 * `projects/<project>/secrets/<id>/versions/<n>`. The number `n` is not known from the name, so
 * the program looks it up through the pair's own provider (`getSecretVersion` without fetching
 * the payload) before importing.
 */
import type { ProgramInput, StoreReader } from "../contract.js";
import type { SecretValue } from "../secret-value.js";
import { findExistingWith } from "../shared/adopt.js";
import { normalizeName } from "./naming.js";
import { gcpSecretManagerReader } from "./reader.js";
import type { GcpSecretManagerSettings } from "./schema.js";

/** The planned secrets that exist in the project now, by planned name, with their latest values. */
export function gcpSecretManagerFindExisting(
  input: ProgramInput<GcpSecretManagerSettings>,
  signal?: AbortSignal,
  reader: StoreReader = gcpSecretManagerReader(input.settings),
): Promise<Map<string, SecretValue>> {
  return findExistingWith(input, { reader, storeName: (e) => normalizeName(e.name) }, signal);
}

/** `gcp.secretmanager.Secret`'s import id. */
export function secretImportId(project: string, id: string): string {
  return `projects/${project}/secrets/${id}`;
}

/** `gcp.secretmanager.SecretVersion`'s import id. */
export function secretVersionImportId(project: string, id: string, version: string): string {
  return `${secretImportId(project, id)}/versions/${version}`;
}

/**
 * What an adopted secret may hold differently from the program for the import to succeed; the
 * next sync writes labels and annotations and removes what esc-sync does not declare. Replication
 * and resource-manager tags cannot change in place: when they differ, the next sync fails rather
 * than replace the secret (see the README).
 */
export const SECRET_IGNORED = [
  "labels",
  "annotations",
  "replication",
  "rotation",
  "topics",
  "ttl",
  "expireTime",
  "versionAliases",
  "versionDestroyTtl",
  "tags",
  "deletionProtection",
];

/**
 * The latest version keeps the store's value until the next sync, which adds a version with
 * ESC's value. `secret` is ignored too: the provider may record the project by number.
 */
export const VERSION_IGNORED = ["secretData", "enabled", "deletionPolicy", "isSecretDataBase64", "secret"];
