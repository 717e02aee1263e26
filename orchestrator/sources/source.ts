/**
 * Where environments come from. Two implementations: Pulumi Cloud through `@pulumi/esc-sdk`,
 * and a local folder of ESC definitions evaluated in process.
 */
import type { EnvironmentRef } from "../../programs/environment-ref.js";
import type { EnvironmentDiagnostic, Properties, Provenance } from "../values.js";

export type { EnvironmentDiagnostic };


/** One problem found while evaluating an environment definition. */
/**
 * Where an `imports:` entry may point, in the order ESC looks: `project/name` as written, or a bare
 * `name` in the importer's own project, then in the `default` project. Shared by the local source
 * (which reads the first that exists) and serve's import graph (which must find every importer).
 */
export function importCandidates(ref: string, importer: string): string[] {
  const parts = ref.split("/");
  if (parts.length === 2) return [ref];
  if (parts.length !== 1) return [];
  const project = importer.includes("/") ? importer.split("/")[0]! : "default";
  return project === "default" ? [`default/${ref}`] : [`${project}/${ref}`, `default/${ref}`];
}

/** An environment opened and resolved: its values, each node flagged secret or not. */
export interface ResolvedEnvironment {
  ref: EnvironmentRef;
  properties: Properties;
  /** The revision the values come from, where the source knows it. */
  revision?: number;
  /** The revision tag it was opened at (`open(ref, signal, "stable")`), resolved to `revision`. */
  tag?: string;
  /**
   * Secret plaintexts the source met beyond the secret leaves of `properties` (an overridden
   * secret, the input of a failed expression): for the redaction layer, never for output.
   */
  secrets?: string[];
  /**
   * Where each value comes from, by property path, where the source can say (the local
   * evaluator traces references, imports, interpolation and `fn::` arguments).
   */
  provenance?: Provenance;
}

/** The environment could not be resolved (evaluation errors, access denied...). */
export class EnvironmentError extends Error {
  override readonly name = "EnvironmentError";
  constructor(
    readonly ref: EnvironmentRef,
    message: string,
    readonly diagnostics: EnvironmentDiagnostic[] = [],
    readonly retryable = false,
    /** Secret plaintexts met while resolving it, so that they are redacted wherever they surface. */
    readonly secrets: string[] = [],
  ) {
    super(message);
  }
}

/** A source of ESC environments. */
export interface EnvironmentSource {
  /** A short description for reports, e.g. `local ./environments` or `pulumi-cloud acme`. */
  readonly description: string;
  /**
   * How many environments to open at once, where the source knows better than the run's
   * concurrency (an HTTP API waits on round trips, not on the CPU). Default: the run's, at least 4.
   */
  readonly openConcurrency?: number;
  /** Every environment the source holds (all pages). */
  list(signal?: AbortSignal): Promise<EnvironmentRef[]>;
  /**
   * Opens one environment and resolves its values: the latest revision, or `revision` (a revision
   * number, or a tag resolved to its number). Throws {@link EnvironmentError}; a source without
   * revisions throws one for any `revision`.
   */
  open(ref: EnvironmentRef, signal?: AbortSignal, revision?: number | string): Promise<ResolvedEnvironment>;
  /**
   * The environment's definition (YAML, secrets as ciphertext where the source encrypts them), or
   * undefined when it does not exist: what serve reads imports from. Throws {@link EnvironmentError}.
   */
  definition?(ref: EnvironmentRef, signal?: AbortSignal): Promise<string | undefined>;
}
