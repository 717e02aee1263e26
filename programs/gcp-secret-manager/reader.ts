/**
 * Reads the secrets of a `gcp-secret-manager` target through `@google-cloud/secret-manager`, for
 * `migrate import`: every secret of the project, then the `latest` version of each one the
 * filter accepts. A payload that is not UTF-8 text is skipped as binary; a secret whose latest
 * version is disabled or destroyed is skipped with that reason. Credentials come from
 * Application Default Credentials.
 */
import type { ReadFilter, StoreEntry, StoreReader } from "../contract.js";
import { SecretValue } from "../secret-value.js";
import { decodeUtf8, describeError, mapBounded, readError } from "../shared/reader.js";
import type { GcpSecretManagerSettings } from "./schema.js";

/** The part of `SecretManagerServiceClient` the reader uses, so that tests can hand in a fake of the same type. */
export interface GcpSecretsApi {
  listSecretsAsync(request: { parent: string }, options?: object): AsyncIterable<{ name?: string | null }>;
  accessSecretVersion(request: { name: string }): Promise<[{ payload?: { data?: Uint8Array | string | null } | null }, ...unknown[]]>;
  close?(): Promise<void>;
}

const CONCURRENCY = 4;
/** gRPC status codes for a version that cannot be read, as opposed to a failure. */
const NOT_FOUND = 5;
const FAILED_PRECONDITION = 9;

export function gcpSecretManagerReader(settings: GcpSecretManagerSettings, connect: () => Promise<GcpSecretsApi> = sdkClient): StoreReader {
  return {
    location: `projects/${settings.project}`,
    list: async function* (filter, signal) {
      const client = await connect();
      try {
        yield* await readSecretManager(client, settings.project, filter, signal);
      } finally {
        await client.close?.();
      }
    },
  };
}

async function sdkClient(): Promise<GcpSecretsApi> {
  const { SecretManagerServiceClient } = await import("@google-cloud/secret-manager");
  return new SecretManagerServiceClient() as unknown as GcpSecretsApi;
}

/** The entries of a project, sorted by secret id. */
export async function readSecretManager(client: GcpSecretsApi, project: string, filter: ReadFilter, signal?: AbortSignal): Promise<StoreEntry[]> {
  const ids: { id: string; resource: string }[] = [];
  try {
    for await (const s of client.listSecretsAsync({ parent: `projects/${project}` })) {
      signal?.throwIfAborted();
      const resource = s.name ?? "";
      const id = resource.slice(resource.lastIndexOf("/") + 1);
      if (!id) continue;
      if (filter.prefix && !id.startsWith(filter.prefix)) continue;
      if (filter.include && !filter.include(id)) continue;
      ids.push({ id, resource });
    }
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw readError("ListSecrets", error);
  }
  ids.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return mapBounded(ids, CONCURRENCY, async ({ id, resource }): Promise<StoreEntry> => {
    signal?.throwIfAborted();
    try {
      const [version] = await client.accessSecretVersion({ name: `${resource}/versions/latest` });
      const data = version.payload?.data;
      if (data === undefined || data === null) return { name: id, value: undefined, skippedReason: "the latest version has no payload" };
      const text = typeof data === "string" ? data : decodeUtf8(data);
      if (text === undefined) return { name: id, value: undefined, binary: true, skippedReason: "binary payload (not UTF-8 text): ESC values are text" };
      return { name: id, value: new SecretValue(text) };
    } catch (error) {
      const code = (error as { code?: unknown })?.code;
      if (code === NOT_FOUND || code === FAILED_PRECONDITION) {
        return { name: id, value: undefined, skippedReason: "no enabled version (the latest is missing, disabled or destroyed)" };
      }
      return { name: id, value: undefined, error: describeError("AccessSecretVersion", error) };
    }
  });
}
