/**
 * Reads a `vault-kv` target's KV version 2 mount over Vault's HTTP API, for `migrate import`:
 * `LIST <mount>/metadata/<path>` (as `GET ?list=true`) recursively from the prefix's folder, then
 * `GET <mount>/data/<path>` for each secret. Every field of a secret is one entry, named
 * `<path>/<field>` (`app/prod/DB_PASSWORD`); a field holding JSON (not a string) is read as its
 * JSON text.
 *
 * The address and namespace come from the settings (`VAULT_NAMESPACE` when the settings have
 * none), the token from `VAULT_TOKEN` (else `~/.vault-token`), as the Vault CLI does.
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { ReadFilter, StoreEntry, StoreReader } from "../contract.js";
import { SecretValue } from "../secret-value.js";
import { StoreReadError } from "../shared/reader.js";
import type { VaultKvSettings } from "./schema.js";

/** What the reader needs from its environment; injectable for tests. */
export interface VaultReaderOptions {
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
}

export function vaultKvReader(settings: VaultKvSettings, options: VaultReaderOptions = {}): StoreReader {
  const address = settings.address.replace(/\/+$/, "");
  return {
    location: `${address}/${settings.namespace !== undefined ? `${settings.namespace}/` : ""}${settings.mount}`,
    list: (filter, signal) => listFields(settings, options, filter, signal),
  };
}

async function* listFields(settings: VaultKvSettings, options: VaultReaderOptions, filter: ReadFilter, signal?: AbortSignal): AsyncGenerator<StoreEntry> {
  const env = options.env ?? process.env;
  const token = env.VAULT_TOKEN || (await readFile(join(homedir(), ".vault-token"), "utf8").catch(() => "")).trim();
  if (!token) throw new StoreReadError("no Vault token: set VAULT_TOKEN (or log in with `vault login`, which writes ~/.vault-token)");
  const namespace = settings.namespace ?? (env.VAULT_NAMESPACE || undefined);
  const api = new VaultApi(settings.address.replace(/\/+$/, ""), settings.mount, token, namespace, options.fetch ?? fetch, signal);

  const prefix = (filter.prefix ?? "").replace(/^\/+/, "");
  // The last segment of a name is a field and the one before it a secret, so listing starts two
  // segments up: `app/prod/DB_` (secret `app/prod`, fields `DB_*`) lists `app/`.
  const segments = prefix.split("/");
  const root = segments.length > 2 ? `${segments.slice(0, -2).join("/")}/` : "";
  const paths: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const key of (await api.list(folder)).sort()) {
      const path = folder + key;
      if (key.endsWith("/")) {
        // A folder can only hold a match if it could still start with the prefix.
        if (path.startsWith(prefix) || prefix.startsWith(path)) await walk(path);
      } else if (`${path}/`.startsWith(prefix) || prefix.startsWith(`${path}/`)) {
        paths.push(path);
      }
    }
  };
  await walk(root);

  for (const path of paths) {
    let data: Record<string, unknown> | undefined;
    try {
      data = await api.read(path);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const message = error instanceof StoreReadError ? error.message : `GET ${api.dataPath(path)}: failed`;
      yield { name: path, value: undefined, error: message };
      continue;
    }
    if (data === undefined) {
      yield { name: path, value: undefined, skippedReason: "the latest version is deleted or destroyed" };
      continue;
    }
    for (const field of Object.keys(data).sort()) {
      const name = `${path}/${field}`;
      if (!name.startsWith(prefix)) continue;
      if (filter.include && !filter.include(name)) continue;
      const v = data[field];
      yield { name, value: new SecretValue(typeof v === "string" ? v : JSON.stringify(v)) };
    }
  }
}

/** The two KV v2 calls, with errors that name the call and Vault's own error text, never the token. */
class VaultApi {
  constructor(
    private readonly address: string,
    private readonly mount: string,
    private readonly token: string,
    private readonly namespace: string | undefined,
    private readonly fetchFn: typeof fetch,
    private readonly signal: AbortSignal | undefined,
  ) {}

  dataPath(path: string): string {
    return `/v1/${this.mount}/data/${encodePath(path)}`;
  }

  /** The keys under a folder (`a`, `b/`); empty when there is nothing there (Vault answers 404). */
  async list(folder: string): Promise<string[]> {
    // `GET ?list=true` is Vault's documented equivalent of the LIST verb, which some proxies refuse.
    const path = `/v1/${this.mount}/metadata/${encodePath(folder)}?list=true`;
    const response = await this.#request("GET", path);
    if (response.status === 404) return [];
    const body = await this.#json(response, "GET", path);
    const keys = (body as { data?: { keys?: unknown } }).data?.keys;
    return Array.isArray(keys) ? keys.filter((k): k is string => typeof k === "string") : [];
  }

  /** The fields of the latest version; undefined when that version is deleted or destroyed. */
  async read(path: string): Promise<Record<string, unknown> | undefined> {
    const apiPath = this.dataPath(path);
    const response = await this.#request("GET", apiPath);
    if (response.status === 404) {
      // A deleted latest version answers 404 with its metadata; a path that never existed, without.
      const body = (await response.json().catch(() => ({}))) as { data?: { metadata?: unknown } };
      if (body.data?.metadata) return undefined;
      throw new StoreReadError(`GET ${apiPath}: 404 not found (deleted while reading?)`);
    }
    const body = await this.#json(response, "GET", apiPath);
    const data = (body as { data?: { data?: unknown } }).data?.data;
    if (data === null) return undefined;
    if (data === undefined || typeof data !== "object" || Array.isArray(data)) {
      throw new StoreReadError(`GET ${apiPath}: unexpected response (is ${this.mount} a KV version 2 mount?)`);
    }
    return data as Record<string, unknown>;
  }

  async #request(method: string, path: string): Promise<Response> {
    try {
      return await this.fetchFn(`${this.address}${path}`, {
        method,
        headers: { "X-Vault-Token": this.token, ...(this.namespace ? { "X-Vault-Namespace": this.namespace } : {}) },
        ...(this.signal ? { signal: this.signal } : {}),
      });
    } catch (error) {
      if (this.signal?.aborted) throw this.signal.reason;
      const code = (error as { cause?: { code?: unknown } })?.cause?.code;
      throw new StoreReadError(`${method} ${path}: ${typeof code === "string" ? code : "network error"} (is ${this.address} reachable?)`, true);
    }
  }

  async #json(response: Response, method: string, path: string): Promise<unknown> {
    const body: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const errors = (body as { errors?: unknown } | undefined)?.errors;
      const detail = Array.isArray(errors) ? errors.filter((e) => typeof e === "string").join("; ").split("\n")[0]!.slice(0, 240) : "";
      const status = response.status;
      const hint = status === 403 ? " (check VAULT_TOKEN and its policy)" : "";
      throw new StoreReadError(`${method} ${path}: ${status}${detail ? ` ${detail}` : ""}${hint}`, status === 429 || status >= 500);
    }
    if (body === undefined) throw new StoreReadError(`${method} ${path}: the response is not JSON`);
    return body;
  }
}

function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}
