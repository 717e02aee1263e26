/**
 * Reads the secrets of an `azure-key-vault` target through `@azure/keyvault-secrets`, for
 * `migrate import`: every secret's properties, then the current version of each enabled one the
 * filter accepts. Disabled secrets and the secrets that back certificates (`managed`) are
 * skipped with the reason. Credentials come from `DefaultAzureCredential` (environment, workload
 * identity, managed identity, Azure CLI).
 */
import type { ReadFilter, StoreEntry, StoreReader } from "../contract.js";
import { SecretValue } from "../secret-value.js";
import { describeError, mapBounded, readError } from "../shared/reader.js";
import type { AzureKeyVaultSettings } from "./schema.js";

/** The part of `SecretClient` the reader uses, so that tests can hand in a fake of the same type. */
export interface KeyVaultSecretsApi {
  listPropertiesOfSecrets(options?: { abortSignal?: AbortSignal }): AsyncIterable<{
    name: string;
    enabled?: boolean;
    managed?: boolean;
    contentType?: string;
  }>;
  getSecret(name: string, options?: { abortSignal?: AbortSignal }): Promise<{ name: string; value?: string }>;
}

const CONCURRENCY = 4;

export function azureKeyVaultReader(settings: AzureKeyVaultSettings, connect: (url: string) => Promise<KeyVaultSecretsApi> = sdkClient): StoreReader {
  const url = `https://${settings.vaultName}.vault.azure.net`;
  return {
    location: url,
    list: async function* (filter, signal) {
      yield* await readKeyVault(await connect(url), filter, signal);
    },
  };
}

async function sdkClient(url: string): Promise<KeyVaultSecretsApi> {
  const [{ SecretClient }, { DefaultAzureCredential }] = await Promise.all([import("@azure/keyvault-secrets"), import("@azure/identity")]);
  return new SecretClient(url, new DefaultAzureCredential());
}

/** The entries of a vault, sorted by name. */
export async function readKeyVault(client: KeyVaultSecretsApi, filter: ReadFilter, signal?: AbortSignal): Promise<StoreEntry[]> {
  const options = signal ? { abortSignal: signal } : {};
  const found: { name: string; enabled?: boolean; managed?: boolean }[] = [];
  try {
    for await (const p of client.listPropertiesOfSecrets(options)) {
      if (filter.prefix && !p.name.startsWith(filter.prefix)) continue;
      if (filter.include && !filter.include(p.name)) continue;
      found.push(p);
    }
  } catch (error) {
    throw readError("list secrets", error);
  }
  found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return mapBounded(found, CONCURRENCY, async (p): Promise<StoreEntry> => {
    if (p.managed) return { name: p.name, value: undefined, skippedReason: "managed by a Key Vault certificate: import the certificate instead" };
    if (p.enabled === false) return { name: p.name, value: undefined, skippedReason: "the secret is disabled" };
    try {
      const secret = await client.getSecret(p.name, options);
      if (typeof secret.value !== "string") return { name: p.name, value: undefined, skippedReason: "the secret has no value" };
      return { name: p.name, value: new SecretValue(secret.value) };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      return { name: p.name, value: undefined, error: describeError("get secret", error) };
    }
  });
}
