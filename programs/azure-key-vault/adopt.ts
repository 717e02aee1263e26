/**
 * `migrate adopt` for `azure-key-vault`: which planned secrets exist already (through the kind's
 * reader, which reads values over the Key Vault data plane), and what the program needs to
 * import them. A secret is imported by its ARM id.
 */
import type { ProgramInput, StoreReader } from "../contract.js";
import type { SecretValue } from "../secret-value.js";
import { findExistingWith } from "../shared/adopt.js";
import { normalizeName } from "./naming.js";
import { azureKeyVaultReader } from "./reader.js";
import type { AzureKeyVaultSettings } from "./schema.js";

/**
 * The planned secrets that exist in the vault now, by planned name, with their current values.
 * Names match exactly: Key Vault ignores letter case, but a secret whose name differs from the
 * planned one in case only is left out, since its import would not match the planned name and
 * the next sync could replace (delete) it.
 */
export function azureKeyVaultFindExisting(
  input: ProgramInput<AzureKeyVaultSettings>,
  signal?: AbortSignal,
  reader: StoreReader = azureKeyVaultReader(input.settings),
): Promise<Map<string, SecretValue>> {
  return findExistingWith(input, { reader, storeName: (e) => normalizeName(e.name) }, signal);
}

/** `azure-native:keyvault:Secret`'s import id: the secret's ARM resource id. */
export function keyVaultSecretImportId(s: AzureKeyVaultSettings, name: string): string {
  return `/subscriptions/${s.subscriptionId}/resourceGroups/${s.resourceGroupName}/providers/Microsoft.KeyVault/vaults/${s.vaultName}/secrets/${name}`;
}

/**
 * ARM never returns a secret's value, and an adopted secret keeps its content type, attributes
 * and tags: ignored for the import; the next sync writes value, content type and tags.
 */
export const SECRET_IGNORED = ["properties", "tags"];
