/**
 * What the stores' readers (`programs/<kind>/reader.ts`) share: safe error messages, strict UTF-8
 * decoding, and a bounded map for fetching values a few at a time.
 */

/** The longest part of an SDK's message kept in ours. */
const MAX_DETAIL = 240;

/**
 * A reader's failure. The message names the call and what the store answered (status, error
 * name, the first line of its message); it never holds a value, a token or a request.
 */
export class StoreReadError extends Error {
  override readonly name = "StoreReadError";
  constructor(
    message: string,
    /** True when running again may help (throttling, a 5xx, a network reset). */
    readonly retryable = false,
  ) {
    super(message);
  }
}

/**
 * One line about an SDK error, for `operation` (`ListSecrets`, `GET /v1/secret/metadata/`):
 * `ListSecrets: AccessDeniedException (400): User ... is not authorized`. Only the error's name,
 * status, code and the first line of its message are used: never the request, its headers or
 * its body, where tokens and values live.
 */
export function describeError(operation: string, error: unknown): string {
  if (error === null || typeof error !== "object") return `${operation}: ${typeof error === "string" ? clip(error) : "failed"}`;
  const e = error as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    statusCode?: unknown;
    status?: unknown;
    details?: unknown;
    $metadata?: { httpStatusCode?: unknown };
    cause?: { code?: unknown };
  };
  const status = [e.$metadata?.httpStatusCode, e.statusCode, e.status].find((s) => typeof s === "number");
  const code = [e.code, e.cause?.code].find((c) => typeof c === "string" && /^[A-Za-z0-9_.-]{1,64}$/.test(c)) as string | undefined;
  const name = typeof e.name === "string" && e.name !== "Error" ? e.name : undefined;
  const label = [name, code && code !== name ? code : undefined].filter(Boolean).join(" ");
  const message = typeof e.message === "string" ? firstLine(e.message) : typeof e.details === "string" ? firstLine(e.details) : "";
  return `${operation}: ${label || "error"}${status !== undefined ? ` (${String(status)})` : ""}${message ? `: ${message}` : ""}`;
}

/** True for the failures worth another attempt later: throttling, 5xx, network resets. */
export function isRetryableError(error: unknown): boolean {
  if (error === null || typeof error !== "object") return false;
  const e = error as { $retryable?: unknown; $metadata?: { httpStatusCode?: unknown }; statusCode?: unknown; code?: unknown };
  const status = [e.$metadata?.httpStatusCode, e.statusCode].find((s) => typeof s === "number") as number | undefined;
  if (e.$retryable) return true;
  if (status !== undefined) return status === 429 || status >= 500;
  return typeof e.code === "string" && /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|EPIPE)$/.test(e.code);
}

/** Wraps an SDK error into a {@link StoreReadError}; the SDK error itself is not attached. */
export function readError(operation: string, error: unknown): StoreReadError {
  if (error instanceof StoreReadError) return error;
  return new StoreReadError(describeError(operation, error), isRetryableError(error));
}

/** Decodes bytes as UTF-8 text; undefined when they are not valid UTF-8 (binary data). */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** Maps `items` through `fn`, at most `limit` at a time, keeping their order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function firstLine(text: string): string {
  return clip(text.split("\n")[0]!.trim());
}

function clip(text: string): string {
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text;
}
