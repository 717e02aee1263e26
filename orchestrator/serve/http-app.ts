/**
 * serve's HTTP server, before any route: the limits that keep a slow or hostile client from
 * holding it, the raw body kept for the signature check, and `listen` errors told for people.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { ServeStartError } from "./start-error.js";

/** Pulumi's webhook bodies are small; anything past this is refused unread. */
export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * How long a client may take, so that a slow or stalled one (slowloris) cannot hold a connection:
 * its headers within 10 s, its whole request within 30 s, at most 30 s of silence on a socket, 5 s
 * idle between keep-alive requests. Node checks the first two every second (its default is 30 s).
 * Headers are limited to 16 KiB (larger: 431) and bodies to {@link MAX_BODY_BYTES} (larger: 413).
 */
export const HTTP_LIMITS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  connectionTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  checkEveryMs: 1_000,
  maxHeaderBytes: 16 * 1024,
} as const;

/** A Fastify app with {@link HTTP_LIMITS}, whose every body arrives as the raw bytes received (a Buffer). */
export function createHttpApp(): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: MAX_BODY_BYTES,
    connectionTimeout: HTTP_LIMITS.connectionTimeoutMs,
    requestTimeout: HTTP_LIMITS.requestTimeoutMs,
    keepAliveTimeout: HTTP_LIMITS.keepAliveTimeoutMs,
    // Closing: idle keep-alive sockets go at once (a stalled client does not delay a rollout).
    forceCloseConnections: "idle",
    http: { headersTimeout: HTTP_LIMITS.headersTimeoutMs, maxHeaderSize: HTTP_LIMITS.maxHeaderBytes, connectionsCheckingInterval: HTTP_LIMITS.checkEveryMs },
  });
  // The signature covers the raw bytes: the body is kept as received, parsed only once verified.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
  return app;
}

/** `host:port` as a URL writes it (an IPv6 address in brackets). */
export function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** Why `listen` failed, for people: the error code means more than Node's message. */
export function listenError(host: string, port: number, err: unknown): ServeStartError {
  const code = (err as { code?: string }).code;
  const where = hostPort(host, port);
  if (code === "EADDRINUSE") return new ServeStartError(`cannot listen on ${where}: the port is in use`, "stop the process that holds it, or pass another --listen (port 0 picks a free one)");
  if (code === "EADDRNOTAVAIL") return new ServeStartError(`cannot listen on ${where}: no interface of this machine has that address`, "use 127.0.0.1, 0.0.0.0 (all interfaces) or an address this machine has");
  if (code === "EACCES") return new ServeStartError(`cannot listen on ${where}: permission denied (ports below 1024 need privileges)`, "pick a port of 1024 or above, e.g. --listen 0.0.0.0:8080");
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return new ServeStartError(`cannot listen on ${where}: the host name does not resolve`, "pass an IP address, e.g. --listen 127.0.0.1:8080");
  return new ServeStartError(`cannot listen on ${where}: ${err instanceof Error ? err.message : String(err)}`, "check --listen");
}
