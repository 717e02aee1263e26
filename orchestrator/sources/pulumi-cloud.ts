/**
 * Environments from Pulumi Cloud (or any ESC-compatible API) through `@pulumi/esc-sdk`.
 */
import { DEFAULT_API_URL, EscApiError, EscClient, type EscClientOptions } from "./esc-client.js";
import type { EnvironmentRef } from "../../programs/environment-ref.js";
import type { EnvironmentSource, ResolvedEnvironment } from "./source.js";

export type PulumiCloudSourceOptions = EscClientOptions;

/**
 * Lists every environment of one organisation and opens them through sessions. Failures are
 * {@link EnvironmentError}s (an `EscApiError`, with `status` and `retryable`); rate limits,
 * server errors and network resets are retried first, and reported through `onRetry`.
 */
export class PulumiCloudSource implements EnvironmentSource {
  readonly description: string;
  /** The same client, for callers that read or update definitions (YAML, ETag, revisions). */
  readonly client: EscClient;

  constructor(options: PulumiCloudSourceOptions) {
    this.client = new EscClient(options);
    this.description =
      this.client.apiUrl === DEFAULT_API_URL ? `pulumi-cloud ${options.org}` : `pulumi-cloud ${options.org} (${this.client.apiUrl})`;
  }

  async list(signal?: AbortSignal): Promise<EnvironmentRef[]> {
    const environments = await this.client.listEnvironments(signal);
    return environments.map(({ org, project, name }) => ({ org, project, name }));
  }

  /**
   * Reads the current revision from the definition's `Pulumi-ESC-Revision` header (as the official
   * client does; the API documents no revision on `HEAD`), opens a session at that revision and
   * reads it, so that the values and the revision reported belong together even when someone
   * edits meanwhile. The definition itself (secrets as ciphertext) is not used.
   */
  async open(ref: EnvironmentRef, signal?: AbortSignal): Promise<ResolvedEnvironment> {
    const { revision } = await this.client.getEnvironmentYaml(ref, {}, signal);
    if (revision === undefined) {
      // Opening latest instead would report values under no revision, or the wrong one.
      throw new EscApiError(ref, `GET ${refPath(ref)}: unexpected response: no Pulumi-ESC-Revision header`, `GET ${refPath(ref)}`, undefined, false);
    }
    const session = await this.client.openEnvironment(ref, { version: revision }, signal);
    const properties = await this.client.readOpenEnvironment(ref, session, signal);
    return { ref, properties, revision };
  }
}

function refPath(ref: EnvironmentRef): string {
  return `/environments/${ref.org}/${ref.project}/${ref.name}`;
}
