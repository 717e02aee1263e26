/**
 * Where `migrate import` writes: the ESC environment named by `--into`, in the manifest's source.
 * Two implementations behind one interface: Pulumi Cloud (through {@link EscClient}, updating
 * with the `ETag` read, so that an edit made meanwhile is refused with a 409), and a local folder
 * of definitions (a content hash re-read just before an atomic rename plays the `ETag`'s part).
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { evaluate } from "../esc-eval/index.js";
import { EscApiError, type EscClient } from "../sources/esc-client.js";
import { folderLoader } from "../sources/local.js";
import { envFullName, type EnvironmentRef } from "../../programs/environment-ref.js";
import type { Properties } from "../values.js";

/** The environment as read, with the tag a write must match. */
export interface DestinationState {
  exists: boolean;
  yaml: string;
  /** Evaluated values; undefined when the environment does not exist. */
  properties: Properties | undefined;
  /** Opaque: handed back to {@link ImportDestination.write}. */
  etag: string | undefined;
  revision?: number;
}

/** Someone changed the environment between the read and the write: nothing was written. */
export class ConcurrentEditError extends Error {
  override readonly name = "ConcurrentEditError";
}

/** The environment cannot be read or written (evaluation errors, access, a refused definition). */
export class DestinationError extends Error {
  override readonly name = "DestinationError";
}

export interface ImportDestination {
  readonly ref: EnvironmentRef;
  /** For people: `acme/payments/dev (pulumi-cloud)`. */
  readonly description: string;
  read(signal?: AbortSignal): Promise<DestinationState>;
  /** Creates the environment, empty; a no-op when it exists by now. */
  create(signal?: AbortSignal): Promise<void>;
  /** Replaces the definition if it is still the one read (`etag`); else {@link ConcurrentEditError}. */
  write(yaml: string, etag: string | undefined, signal?: AbortSignal): Promise<{ revision?: number }>;
}

/** An environment on Pulumi Cloud or any ESC-compatible API. */
export class CloudDestination implements ImportDestination {
  readonly description: string;
  constructor(
    private readonly client: EscClient,
    readonly ref: EnvironmentRef,
  ) {
    this.description = `${envFullName(ref)} (pulumi-cloud ${client.apiUrl})`;
  }

  async read(signal?: AbortSignal): Promise<DestinationState> {
    let definition;
    try {
      definition = await this.client.getEnvironmentYaml(this.ref, {}, signal);
    } catch (error) {
      if (error instanceof EscApiError && error.status === 404) return { exists: false, yaml: "", properties: undefined, etag: undefined };
      throw this.#error(error, "read");
    }
    // Open at the revision whose definition was read, so that values and definition belong together.
    let properties: Properties;
    try {
      const version = definition.revision;
      const session = await this.client.openEnvironment(this.ref, version === undefined ? {} : { version }, signal);
      properties = await this.client.readOpenEnvironment(this.ref, session, signal);
    } catch (error) {
      throw this.#error(error, "open");
    }
    return {
      exists: true,
      yaml: definition.yaml,
      properties,
      etag: definition.etag,
      ...(definition.revision !== undefined ? { revision: definition.revision } : {}),
    };
  }

  async create(signal?: AbortSignal): Promise<void> {
    try {
      await this.client.createEnvironment(this.ref, signal);
    } catch (error) {
      if (error instanceof EscApiError && error.status === 409) return; // created meanwhile: the ETag check covers the rest
      throw this.#error(error, "create");
    }
  }

  async write(yaml: string, etag: string | undefined, signal?: AbortSignal): Promise<{ revision?: number }> {
    if (etag === undefined) throw new DestinationError(`${envFullName(this.ref)}: the server sent no ETag, so a concurrent edit could not be detected: nothing was written`);
    let result;
    try {
      result = await this.client.updateEnvironmentYaml(this.ref, yaml, { etag }, signal);
    } catch (error) {
      if (error instanceof EscApiError && (error.status === 409 || error.status === 412)) {
        throw new ConcurrentEditError(
          `${envFullName(this.ref)} changed after it was read (${error.message}): nothing was written; run the import again to merge with the new revision`,
        );
      }
      throw this.#error(error, "update");
    }
    if (!result.updated) {
      const lines = result.diagnostics.map((d) => `${d.path ? `${d.path}: ` : ""}${d.summary}`);
      throw new DestinationError(`ESC refused the new definition of ${envFullName(this.ref)}:\n  ${lines.join("\n  ")}`);
    }
    return result.revision !== undefined ? { revision: result.revision } : {};
  }

  #error(error: unknown, what: string): Error {
    if (error instanceof EscApiError) {
      const diagnostics = error.diagnostics.map((d) => `\n  ${d.path ? `${d.path}: ` : ""}${d.summary}`).join("");
      const hint = error.status === 401 || error.status === 403 ? ": check PULUMI_ACCESS_TOKEN" : "";
      return new DestinationError(`cannot ${what} ${envFullName(this.ref)}: ${error.message}${hint}${diagnostics}`);
    }
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** An environment in the manifest's local folder: `<folder>/<project>/<name>.yaml`. */
export class LocalDestination implements ImportDestination {
  readonly description: string;
  readonly #file: string;
  constructor(
    private readonly folder: string,
    readonly ref: EnvironmentRef,
  ) {
    this.#file = join(folder, ref.project, `${ref.name}.yaml`);
    this.description = `${envFullName(ref)} (${relative(process.cwd(), this.#file)})`;
  }

  async read(): Promise<DestinationState> {
    if (!existsSync(this.#file)) return { exists: false, yaml: "", properties: undefined, etag: tagOf(undefined) };
    const yaml = readFileSync(this.#file, "utf8");
    const result = evaluate({ name: `${this.ref.project}/${this.ref.name}`, yaml }, folderLoader(this.folder));
    if (result.diagnostics.length > 0) {
      const lines = result.diagnostics.map((d) => `${d.line ? `${d.line}:${d.column ?? 0}: ` : ""}${d.path ? `${d.path}: ` : ""}${d.summary}`);
      throw new DestinationError(`${relative(process.cwd(), this.#file)} has errors; fix them before importing:\n  ${lines.join("\n  ")}`);
    }
    return { exists: true, yaml, properties: result.properties, etag: tagOf(yaml) };
  }

  async create(): Promise<void> {
    // The file appears with the write; the folder is made there.
  }

  async write(yaml: string, etag: string | undefined): Promise<{ revision?: number }> {
    mkdirSync(dirname(this.#file), { recursive: true });
    const temp = join(dirname(this.#file), `.${this.ref.name}.yaml.${randomBytes(6).toString("hex")}.tmp`);
    // Keep the file's mode; a new definition is readable by its owner only, as it holds secrets.
    const mode = existsSync(this.#file) ? statSync(this.#file).mode & 0o777 : 0o600;
    writeFileSync(temp, yaml, { mode });
    try {
      // Re-read just before the rename: the window left is the rename itself.
      const now = existsSync(this.#file) ? readFileSync(this.#file, "utf8") : undefined;
      if (tagOf(now) !== etag) {
        throw new ConcurrentEditError(
          `${relative(process.cwd(), this.#file)} changed after it was read: nothing was written; run the import again to merge with the new content`,
        );
      }
      renameSync(temp, this.#file);
    } finally {
      rmSync(temp, { force: true });
    }
    return {};
  }
}

function tagOf(text: string | undefined): string {
  return text === undefined ? "absent" : createHash("sha256").update(text).digest("hex");
}
