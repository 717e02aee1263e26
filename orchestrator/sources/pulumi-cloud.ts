/**
 * Environments from Pulumi Cloud (or any ESC-compatible API) through `@pulumi/esc-sdk`.
 */
import { DEFAULT_API_URL, EscApiError, EscClient, type EscClientOptions } from "./esc-client.js";
import { envFullName, type EnvironmentRef } from "../../programs/environment-ref.js";
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
  /** Opens wait on round trips: many at once, the client's token bucket keeping the rate. */
  readonly openConcurrency = 64;

  constructor(options: PulumiCloudSourceOptions) {
    this.client = new EscClient(options);
    this.description =
      this.client.apiUrl === DEFAULT_API_URL ? `pulumi-cloud ${options.org}` : `pulumi-cloud ${options.org} (${this.client.apiUrl})`;
  }

  async list(signal?: AbortSignal): Promise<EnvironmentRef[]> {
    const environments = await this.client.listEnvironments(signal);
    return environments.map(({ org, project, name }) => ({ org, project, name }));
  }

  async definition(ref: EnvironmentRef, signal?: AbortSignal): Promise<string | undefined> {
    try {
      return (await this.client.getEnvironmentYaml(ref, {}, signal)).yaml;
    } catch (err) {
      if (err instanceof EscApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  /**
   * Latest: reads the current revision from the definition's `Pulumi-ESC-Revision` header (as the
   * official client does; the API documents no revision on `HEAD`). At a tag: resolves the tag to
   * its revision number. Then opens a session at that number and reads it, so that the values and
   * the revision reported belong together even when someone edits or moves the tag meanwhile. The
   * definition itself (secrets as ciphertext) is not used.
   */
  async open(ref: EnvironmentRef, signal?: AbortSignal, revision?: number | string): Promise<ResolvedEnvironment> {
    let number: number;
    if (revision === undefined) {
      const latest = (await this.client.getEnvironmentYaml(ref, {}, signal)).revision;
      if (latest === undefined) {
        // Opening latest instead would report values under no revision, or the wrong one.
        throw new EscApiError(ref, `GET ${refPath(ref)}: unexpected response: no Pulumi-ESC-Revision header`, `GET ${refPath(ref)}`, undefined, false);
      }
      number = latest;
    } else if (typeof revision === "number") {
      number = revision;
    } else {
      number = await this.client.resolveRevision(ref, revision, signal).catch((err: unknown) => {
        throw err instanceof EscApiError && err.status === 404
          ? new EscApiError(
              ref,
              `${envFullName(ref)} has no revision tag "${revision}" (or no such environment): tag a revision (esc env version tag ${envFullName(ref)}@${revision} <revision>) or change the binding's revision`,
              err.operation,
              404,
              false,
            )
          : err;
      });
    }
    const session = await this.client.openEnvironment(ref, { version: number }, signal).catch((err: unknown) => {
      throw revision !== undefined && err instanceof EscApiError && err.status === 404
        ? new EscApiError(ref, `${envFullName(ref)} has no revision ${number}${typeof revision === "string" ? ` (tag "${revision}")` : ""}: change the binding's revision`, err.operation, 404, false)
        : err;
    });
    const properties = await this.client.readOpenEnvironment(ref, session, signal);
    return { ref, properties, revision: number, ...(typeof revision === "string" ? { tag: revision } : {}) };
  }
}

function refPath(ref: EnvironmentRef): string {
  return `/environments/${ref.org}/${ref.project}/${ref.name}`;
}
