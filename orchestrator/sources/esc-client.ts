/**
 * A thin client for the Pulumi ESC REST API over `@pulumi/esc-sdk`'s raw API classes, adding what
 * the SDK lacks: a base URL that keeps its port, retries (429, 5xx, network resets), abort
 * signals, response headers (`ETag`, `Pulumi-ESC-Revision`), and errors that never carry the token.
 *
 * Why the raw API and not the SDK's `EscApi` wrapper: the wrapper rebuilds `basePath` from
 * protocol and hostname only (the port is lost), takes no per-call options (no signal, no
 * headers), drops response headers, and its unwrapped `values` collapse any object that has a key
 * named `value`. The raw classes take a `Configuration` whose `basePath` is used as given.
 */
import { STATUS_CODES } from "node:http";
import { Configuration, EscRawApi } from "@pulumi/esc-sdk";
import type { EnvironmentRevision, OrgEnvironment, Value } from "@pulumi/esc-sdk";
import { TokenBucket } from "./rate-limit.js";
import { withRetry, parseRetryAfter, type RetryEvent, type RetryOptions } from "../retry.js";
import type { Properties, ValueNode } from "../values.js";
import type { EnvironmentRef } from "../../programs/environment-ref.js";
import { EnvironmentError, type EnvironmentDiagnostic } from "./source.js";

/** Pulumi Cloud's API. */
export const DEFAULT_API_URL = "https://api.pulumi.com";

export interface EscClientOptions {
  /** The organisation whose environments are listed and opened. */
  org: string;
  /** A Pulumi access token (the caller reads `PULUMI_ACCESS_TOKEN`). Never logged or reported. */
  token: string;
  /** The API base, e.g. `https://api.pulumi.com` (default) or `http://127.0.0.1:8080`. */
  apiUrl?: string;
  /** Retry bounds; delays are in milliseconds. */
  retry?: Pick<RetryOptions, "maxAttempts" | "baseDelayMs" | "maxDelayMs" | "maxRetryAfterMs">;
  /** Hears about every retry (rate limit, server error, network reset). */
  onRetry?: (event: EscRetryEvent) => void;
  /** Timeout of one HTTP request. Default 60 s. */
  timeoutMs?: number;
  /** Requests per second across every call of this client (`--esc-rps`). Default {@link DEFAULT_ESC_RPS}. */
  rps?: number;
}

/**
 * The default rate of ESC API requests. Three requests open one environment (the definition's
 * revision, the session, its values), so this opens about 100 environments a second.
 */
export const DEFAULT_ESC_RPS = 300;

/** A retry of one ESC API call. `reason` is a clean message such as `GET /environments/acme: 429 Too Many Requests`. */
export interface EscRetryEvent extends RetryEvent {
  /** The call, e.g. `POST /environments/acme/app/dev/open`. */
  operation: string;
  error: EscApiError;
}

/**
 * An ESC API call failed. The message names the call and the status
 * (`GET /environments/acme/app/dev: 401 Unauthorized`); it never holds the token, a value, or
 * the SDK's AxiosError (whose request config carries the `Authorization` header).
 */
export class EscApiError extends EnvironmentError {
  constructor(
    ref: EnvironmentRef,
    message: string,
    /** The call that failed, e.g. `GET /environments/acme/app/dev`. */
    readonly operation: string,
    /** The HTTP status, when a response came back. */
    readonly status: number | undefined,
    retryable: boolean,
    /** The server's `Retry-After`, in milliseconds. */
    readonly retryAfterMs: number | undefined = undefined,
    diagnostics: EnvironmentDiagnostic[] = [],
  ) {
    super(ref, message, diagnostics, retryable);
  }
}

/** One environment as listed. */
export interface EscEnvironmentSummary extends EnvironmentRef {
  created?: string;
  modified?: string;
}

/** An environment definition with what a safe update needs. */
export interface EscEnvironmentYaml {
  yaml: string;
  /** Send back to {@link EscClient.updateEnvironmentYaml} to refuse lost updates. */
  etag: string | undefined;
  revision: number | undefined;
}

/** The outcome of an update: the new revision, or the error diagnostics that refused it. */
export interface EscUpdateResult {
  /** True when the definition was stored. */
  updated: boolean;
  revision: number | undefined;
  etag: string | undefined;
  /** Errors: the reason the update was refused (empty when `updated`). */
  diagnostics: EnvironmentDiagnostic[];
  /** Warnings ESC reported about the definition, stored or not: worth showing, never a failure. */
  warnings: EnvironmentDiagnostic[];
}

/** A revision tag: a name (such as `stable`) pointing at one revision. `latest` always exists. */
export interface EscRevisionTag {
  name: string;
  revision: number;
}

/** The network failures worth another attempt. */
const RETRYABLE_NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ERR_NETWORK",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
]);

const REVISION_HEADER = "pulumi-esc-revision";

/** See the module comment. Holds the token in a private field, so printing a client shows no token. */
export class EscClient {
  readonly org: string;
  readonly apiUrl: string;
  readonly #api: EscRawApi;
  readonly #retry: EscClientOptions["retry"];
  readonly #onRetry: EscClientOptions["onRetry"];
  readonly #timeoutMs: number;
  readonly #bucket: TokenBucket;

  constructor(options: EscClientOptions) {
    this.org = options.org;
    this.apiUrl = (options.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, "");
    const basePath = /\/api\/esc$/.test(this.apiUrl) ? this.apiUrl : `${this.apiUrl}/api/esc`;
    const token = options.token;
    // A function rather than the string: an inspected Configuration shows no token.
    const configuration = new Configuration({ accessToken: () => token, basePath });
    // The raw classes honour `basePath` as given (the wrapper is what loses the port); set it
    // again after construction anyway, as the request functions read it at call time.
    configuration.basePath = basePath;
    this.#api = new EscRawApi(configuration);
    this.#retry = options.retry;
    this.#onRetry = options.onRetry;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#bucket = new TokenBucket({ rps: options.rps ?? DEFAULT_ESC_RPS });
  }

  /** Every environment of the organisation, following `continuationToken` until `nextToken` is empty. */
  async listEnvironments(signal?: AbortSignal): Promise<EscEnvironmentSummary[]> {
    const out: EscEnvironmentSummary[] = [];
    const seen = new Set<string>();
    const ref: EnvironmentRef = { org: this.org, project: "", name: "" };
    let token: string | undefined;
    do {
      const operation = `GET /environments/${this.org}${token ? "?continuationToken=…" : ""}`;
      const page = await this.#call(operation, ref, signal, true, (options) =>
        this.#api.listEnvironments(this.org, token, options),
      );
      for (const env of page.data.environments ?? []) out.push(summaryOf(this.org, env));
      const next = page.data.nextToken || undefined;
      // A server that hands back a token it already gave would loop forever.
      if (next !== undefined && seen.has(next)) {
        throw new EscApiError(ref, `${operation}: the continuation token repeats`, operation, page.status, false);
      }
      if (next !== undefined) seen.add(next);
      token = next;
    } while (token !== undefined);
    return out;
  }

  /**
   * Opens a session on the environment (at `version`, a revision number or tag, when given) and
   * returns its id. Evaluation errors come back as an {@link EscApiError} with diagnostics.
   */
  async openEnvironment(ref: EnvironmentRef, options: { version?: string | number; duration?: string } = {}, signal?: AbortSignal): Promise<string> {
    const { version, duration } = options;
    const operation =
      version === undefined ? `POST ${envPath(ref)}/open` : `POST ${envPath(ref)}/versions/${version}/open`;
    const response = await this.#call(operation, ref, signal, true, (axiosOptions) =>
      version === undefined
        ? this.#api.openEnvironment(ref.org, ref.project, ref.name, duration, axiosOptions)
        : this.#api.openEnvironmentAtVersion(ref.org, ref.project, ref.name, String(version), duration, axiosOptions),
    );
    const id = response.data?.id;
    if (typeof id !== "string" || id === "") {
      throw new EscApiError(ref, `${operation}: the response has no session id`, operation, response.status, false);
    }
    return id;
  }

  /** Reads an open session: the resolved properties, each node keeping its secret flag. */
  async readOpenEnvironment(ref: EnvironmentRef, sessionId: string, signal?: AbortSignal): Promise<Properties> {
    // The session id stays out of messages: it grants reading the values until it expires.
    const operation = `GET ${envPath(ref)}/open/{session}`;
    const response = await this.#call(operation, ref, signal, true, (options) =>
      this.#api.readOpenEnvironment(ref.org, ref.project, ref.name, sessionId, options),
    );
    try {
      return propertiesFromApi(response.data?.properties ?? {});
    } catch (error) {
      const detail = error instanceof Error ? error.message : "malformed";
      throw new EscApiError(ref, `${operation}: unexpected response: ${detail}`, operation, response.status, false);
    }
  }

  /**
   * The environment definition (YAML text) with its `ETag` and revision (`Pulumi-ESC-Revision`, as
   * the official client reads it), at `version` (a revision number or tag) when given. Secrets are
   * ciphertext (`fn::secret: {ciphertext: ...}`), as Pulumi Cloud stores them; with `decrypt` they
   * are plaintext: only for a caller that must show them, never for a definition written back.
   */
  async getEnvironmentYaml(
    ref: EnvironmentRef,
    // The SDK has no call for a past revision's plaintext: `decrypt` reads the latest only.
    options: { version?: string | number; decrypt?: never } | { version?: never; decrypt?: boolean } = {},
    signal?: AbortSignal,
  ): Promise<EscEnvironmentYaml> {
    const { version, decrypt = false } = options;
    const base = version === undefined ? envPath(ref) : `${envPath(ref)}/versions/${version}`;
    const operation = `GET ${base}${decrypt ? "/decrypt" : ""}`;
    // Text, never JSON-parsed: a definition such as `{}` is valid JSON too.
    const textOptions = { responseType: "text" as const, transformResponse: [(data: unknown) => data] };
    const response = await this.#call(operation, ref, signal, true, (axiosOptions) => {
      const options = { ...axiosOptions, ...textOptions };
      if (decrypt) return this.#api.decryptEnvironment(ref.org, ref.project, ref.name, options);
      if (version === undefined) return this.#api.getEnvironment(ref.org, ref.project, ref.name, options);
      return this.#api.getEnvironmentAtVersion(ref.org, ref.project, ref.name, String(version), options);
    });
    const data: unknown = response.data;
    return {
      yaml: typeof data === "string" ? data : "",
      etag: header(response.headers, "etag"),
      revision: revisionOf(response.headers),
    };
  }

  /**
   * The revision a tag points at (`GET .../versions/tags/{tag}`); a number is returned as is, as
   * the official client resolves versions.
   */
  async resolveRevision(ref: EnvironmentRef, version: string | number, signal?: AbortSignal): Promise<number> {
    if (typeof version === "number" || /^\d/.test(version)) {
      const n = Number(version);
      if (!Number.isSafeInteger(n) || n < 0) throw new EscApiError(ref, `invalid revision number "${String(version)}"`, "resolve revision", undefined, false);
      return n;
    }
    const operation = `GET ${envPath(ref)}/versions/tags/${version}`;
    const response = await this.#call(operation, ref, signal, true, (options) =>
      this.#api.getEnvironmentRevisionTag(ref.org, ref.project, ref.name, version, options),
    );
    const revision = (response.data as { revision?: unknown } | undefined)?.revision;
    if (typeof revision !== "number") throw new EscApiError(ref, `${operation}: unexpected response: no revision`, operation, response.status, false);
    return revision;
  }

  /** The revision tags of the environment (`latest` included), by name; pages with `after` as the official CLI does. */
  async listRevisionTags(ref: EnvironmentRef, signal?: AbortSignal): Promise<EscRevisionTag[]> {
    const operation = `GET ${envPath(ref)}/versions/tags`;
    const out: EscRevisionTag[] = [];
    let after: string | undefined;
    for (;;) {
      const response = await this.#call(operation, ref, signal, true, (options) =>
        this.#api.listEnvironmentRevisionTags(ref.org, ref.project, ref.name, after, 500, options),
      );
      const tags = (response.data as { tags?: unknown } | undefined)?.tags;
      const page = Array.isArray(tags)
        ? tags.filter((t): t is { name: string; revision: number } => typeof t?.name === "string" && typeof t?.revision === "number")
        : [];
      // An empty page ends the list; a page that does not move forward would loop forever.
      if (page.length === 0 || page.at(-1)!.name === after) return out;
      out.push(...page.map(({ name, revision }) => ({ name, revision })));
      after = page.at(-1)!.name;
    }
  }

  /**
   * Replaces the environment definition. With `etag` (from {@link getEnvironmentYaml}) the update
   * is refused with a 409 when someone changed the environment in between. Definition errors come
   * back as diagnostics (`updated: false`), not as an exception.
   */
  async updateEnvironmentYaml(ref: EnvironmentRef, yaml: string, options: { etag?: string } = {}, signal?: AbortSignal): Promise<EscUpdateResult> {
    const operation = `PATCH ${envPath(ref)}`;
    // Pulumi's own client sends the tag as `ETag`; `If-Match` is the HTTP standard. Send both.
    const headers = options.etag ? { "If-Match": options.etag, ETag: options.etag } : undefined;
    try {
      // Without an ETag a retried PATCH could apply twice: then only a 429 (not applied) is retried.
      const response = await this.#call(operation, ref, signal, options.etag !== undefined, (axiosOptions) =>
        this.#api.updateEnvironmentYaml(ref.org, ref.project, ref.name, yaml, { ...axiosOptions, headers }),
      );
      const reported = diagnosticsOf(response.data);
      return {
        updated: true,
        revision: revisionOf(response.headers),
        etag: header(response.headers, "etag"),
        diagnostics: [],
        warnings: reported.filter((d) => !isErrorDiagnostic(d)),
      };
    } catch (error) {
      // Refused for its errors; a 400 with warnings only is not a refusal we understand: it throws.
      if (error instanceof EscApiError && error.status === 400 && error.diagnostics.some(isErrorDiagnostic)) {
        return {
          updated: false,
          revision: undefined,
          etag: undefined,
          diagnostics: error.diagnostics.filter(isErrorDiagnostic),
          warnings: error.diagnostics.filter((d) => !isErrorDiagnostic(d)),
        };
      }
      throw error;
    }
  }

  /** Revisions of the environment, newest first, `count` of them before revision `before`. */
  async listRevisions(ref: EnvironmentRef, options: { before?: number; count?: number } = {}, signal?: AbortSignal): Promise<EnvironmentRevision[]> {
    const operation = `GET ${envPath(ref)}/versions`;
    const response = await this.#call(operation, ref, signal, true, (axiosOptions) =>
      this.#api.listEnvironmentRevisions(ref.org, ref.project, ref.name, options.before, options.count, axiosOptions),
    );
    return Array.isArray(response.data) ? response.data : [];
  }

  /** Creates an empty environment. A 409 means it exists already. */
  async createEnvironment(ref: EnvironmentRef, signal?: AbortSignal): Promise<void> {
    const operation = `POST /environments/${ref.org}`;
    await this.#call(operation, ref, signal, false, (options) =>
      this.#api.createEnvironment(ref.org, { project: ref.project, name: ref.name }, options),
    );
  }

  /**
   * One API call with retries. `idempotent` false retries only a 429 (the request was refused,
   * not applied). Every failure leaves as an {@link EscApiError} (or the abort reason).
   */
  async #call<T>(
    operation: string,
    ref: EnvironmentRef,
    signal: AbortSignal | undefined,
    idempotent: boolean,
    request: (options: { signal?: AbortSignal; timeout: number }) => Promise<T>,
  ): Promise<T> {
    const onRetry = this.#onRetry;
    return withRetry(
      async () => {
        await this.#bucket.take(signal);
        try {
          return await request({ ...(signal ? { signal } : {}), timeout: this.#timeoutMs });
        } catch (error) {
          if (signal?.aborted) throw signal.reason;
          const escError = toEscApiError(error, operation, ref);
          // A 429 holds every call of this client back, not only the one that met it.
          if (escError.status === 429) this.#bucket.pause(Math.min(escError.retryAfterMs ?? 1000, 60_000));
          throw escError;
        }
      },
      {
        ...this.#retry,
        ...(signal ? { signal } : {}),
        isRetryable: (error) => error instanceof EscApiError && error.retryable && (idempotent || error.status === 429),
        ...(onRetry ? { onRetry: (event: RetryEvent) => onRetry({ ...event, operation, error: event.error as EscApiError }) } : {}),
      },
    );
  }
}

/**
 * Turns the API's `properties` (each node `{value, secret?, unknown?, trace}`) into the
 * {@link ValueNode} tree, keeping every secret and unknown flag. Unlike the SDK's unwrapped
 * `values`, an object having a key named `value` stays an object.
 */
export function propertiesFromApi(properties: Record<string, Value>): Properties {
  if (properties === null || typeof properties !== "object" || Array.isArray(properties)) {
    throw new Error("properties is not an object");
  }
  const out: Properties = {};
  for (const [key, node] of Object.entries(properties)) out[key] = nodeFromApi(node, key);
  return out;
}

function nodeFromApi(node: unknown, path: string): ValueNode {
  // The service writes each node as a Go struct with `omitempty`: a null is a node with no
  // `value` key at all (`{"trace": ...}`, or `{"secret": true, ...}` for a secret null).
  if (node === null || typeof node !== "object" || Array.isArray(node)) {
    // The path names where, never what: the node may be a secret.
    throw new Error(`node at ${path} is not {value?, secret?, unknown?}`);
  }
  const { value, secret, unknown } = node as { value?: unknown; secret?: unknown; unknown?: unknown };
  const flags: Pick<ValueNode, "secret" | "unknown"> = {
    ...(secret === true ? { secret: true } : {}),
    ...(unknown === true ? { unknown: true } : {}),
  };
  if (Array.isArray(value)) {
    return { value: value.map((child, i) => nodeFromApi(child, `${path}[${i}]`)), ...flags };
  }
  if (value !== null && typeof value === "object") {
    const children: { [key: string]: ValueNode } = {};
    for (const [key, child] of Object.entries(value)) children[key] = nodeFromApi(child, `${path}.${key}`);
    return { value: children, ...flags };
  }
  if (value === undefined || value === null) return { value: null, ...flags };
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    return { value, ...flags };
  }
  throw new Error(`node at ${path} has a value of type ${typeof value}`);
}

/** Builds the clean error for a failed call; the AxiosError itself is dropped, never attached. */
export function toEscApiError(error: unknown, operation: string, ref: EnvironmentRef): EscApiError {
  if (error instanceof EscApiError) return error;
  if (isAxiosLike(error)) {
    const response = error.response;
    if (response && typeof response.status === "number") {
      const status = response.status;
      const statusText = STATUS_CODES[status] ?? "";
      const retryable = status === 429 || status === 408 || status >= 500;
      const retryAfterMs = parseRetryAfter(header(response.headers, "retry-after"));
      const diagnostics = status === 400 ? diagnosticsOf(response.data) : [];
      const suffix = diagnostics.length > 0 ? ` (${diagnostics.length} diagnostic${diagnostics.length === 1 ? "" : "s"})` : "";
      return new EscApiError(ref, `${operation}: ${status} ${statusText}`.trimEnd() + suffix, operation, status, retryable, retryAfterMs, diagnostics);
    }
    const code = typeof error.code === "string" && /^[A-Z0-9_]+$/.test(error.code) ? error.code : "network error";
    return new EscApiError(ref, `${operation}: ${code}`, operation, undefined, RETRYABLE_NETWORK_CODES.has(code));
  }
  // Not from the HTTP layer (a bug, a missing parameter): the class name only, the message may quote data.
  const name = error instanceof Error ? error.name : typeof error;
  return new EscApiError(ref, `${operation}: unexpected ${name}`, operation, undefined, false);
}

interface AxiosLike {
  isAxiosError: true;
  code?: unknown;
  response?: { status: number; headers?: unknown; data?: unknown };
}

// Duck-typed so that axios (a dependency of the SDK, not of ours) need not be imported.
function isAxiosLike(error: unknown): error is AxiosLike {
  return typeof error === "object" && error !== null && (error as { isAxiosError?: unknown }).isAxiosError === true;
}

function envPath(ref: EnvironmentRef): string {
  return `/environments/${ref.org}/${ref.project}/${ref.name}`;
}

function header(headers: unknown, name: string): string | undefined {
  if (headers === null || typeof headers !== "object") return undefined;
  const value = (headers as Record<string, unknown>)[name];
  if (typeof value === "string") return value;
  if (Array.isArray(value) && typeof value[0] === "string") return value[0];
  if (typeof value === "number") return String(value);
  return undefined;
}

function revisionOf(headers: unknown): number | undefined {
  const text = header(headers, REVISION_HEADER);
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  return Number(text.trim());
}

function summaryOf(org: string, env: OrgEnvironment): EscEnvironmentSummary {
  return {
    org: typeof env.organization === "string" && env.organization !== "" ? env.organization : org,
    project: env.project,
    name: env.name,
    ...(env.created ? { created: env.created } : {}),
    ...(env.modified ? { modified: env.modified } : {}),
  };
}

/**
 * Diagnostics of an ESC response body (`{code?, message?, diagnostics: [{range?, summary, detail?,
 * severity?, path?}]}`). An absent severity is an error, as the official client reads it.
 */
function diagnosticsOf(data: unknown): EnvironmentDiagnostic[] {
  if (data === null || typeof data !== "object") return [];
  const list = (data as { diagnostics?: unknown }).diagnostics;
  if (!Array.isArray(list)) return [];
  const out: EnvironmentDiagnostic[] = [];
  for (const d of list) {
    if (d === null || typeof d !== "object") continue;
    const { summary, detail, path, range, severity } = d as {
      summary?: unknown;
      detail?: unknown;
      path?: unknown;
      severity?: unknown;
      range?: { begin?: { line?: unknown; column?: unknown } } | null;
    };
    const begin = range?.begin;
    const text = typeof summary === "string" && summary !== "" ? summary : typeof detail === "string" && detail !== "" ? detail : "error";
    out.push({
      summary: text,
      ...(typeof path === "string" && path !== "" ? { path } : {}),
      ...(typeof begin?.line === "number" ? { line: begin.line } : {}),
      ...(typeof begin?.column === "number" ? { column: begin.column } : {}),
      severity: severity === "warning" ? "warning" : "error",
    });
  }
  return out;
}

/** Only errors fail an environment; warnings are reported and the environment is still usable. */
export function isErrorDiagnostic(d: EnvironmentDiagnostic): boolean {
  return d.severity !== "warning";
}
