/**
 * A loopback HTTP server speaking the part of the Pulumi ESC REST API that `@pulumi/esc-sdk`
 * calls (paths under `/api/esc`), for tests: list with continuation tokens, open/read sessions
 * with secret flags, definition YAML with `ETag`/`If-Match` and `Pulumi-ESC-Revision`, revisions,
 * create/delete. Backed by a folder of ESC definitions (`<folder>/<project>/<env>.yaml`),
 * evaluated through an injectable evaluator (the real local evaluator by default).
 *
 * Fault injection (429 with `Retry-After`, 5xx, connection resets, latency) and a request log
 * let tests prove that retries happen.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { parseDocument } from "yaml";
import { evaluate as realEvaluate, type Definition, type DefinitionLoader, type EvaluationResult } from "../../orchestrator/esc-eval/index.js";
import type { EnvironmentDiagnostic } from "../../orchestrator/sources/source.js";
import type { Properties } from "../../orchestrator/values.js";
import { EnvironmentStore, NAME_PATTERN } from "./esc-server/store.js";

export type EvaluateFn = (definition: Definition, load: DefinitionLoader) => EvaluationResult;

export interface EscServerOptions {
  /** `<folder>/<project>/<env>.yaml`. Files may be edited while the server runs. */
  folder: string;
  /** The one organisation served; others get 404. */
  org: string;
  /** Requests must send `Authorization: token <token>`. */
  token: string;
  /** Environments per list page. Default 100. */
  pageSize?: number;
  /** Default: `evaluate` from `orchestrator/esc-eval`. */
  evaluate?: EvaluateFn;
  /** Added to every request. Default 0. */
  latencyMs?: number;
}

/** Which requests a fault applies to: a substring of the path, or a pattern; and a method. */
export interface FaultMatch {
  path?: string | RegExp;
  method?: string;
}

export interface RequestRecord {
  method: string;
  /** Path without the query, e.g. `/api/esc/environments/acme/app/dev/open`. */
  path: string;
  query: string;
  status: number;
  /** The fault applied, if any. */
  fault?: "429" | "5xx" | "reset";
}

export interface EscServer {
  /** The API base to give the source, e.g. `http://127.0.0.1:40123` (the SDK appends `/api/esc`). */
  readonly url: string;
  readonly org: string;
  readonly folder: string;
  /** Every request received, faults included, in order. */
  readonly requests: RequestRecord[];
  /** Requests whose path contains `path` (or matches it), optionally of one method. */
  count(path?: string | RegExp, method?: string): number;
  /** The next `count` matching requests get 429 with `Retry-After: retryAfter` (seconds, default 0). */
  inject429(count: number, options?: FaultMatch & { retryAfter?: number | string }): void;
  /** The next `count` matching requests get `status` (default 500). */
  inject500(count: number, options?: FaultMatch & { status?: number }): void;
  /** The next `count` matching requests have their connection destroyed (ECONNRESET). */
  injectReset(count: number, options?: FaultMatch): void;
  /** Latency added to every request from now on. */
  setLatency(ms: number): void;
  /** Drops pending faults. */
  clearFaults(): void;
  /** Open sessions created so far. */
  readonly sessionCount: number;
  close(): Promise<void>;
}

interface Fault {
  kind: "429" | "5xx" | "reset";
  remaining: number;
  match: FaultMatch;
  status: number;
  retryAfter?: string;
}

interface Session {
  project: string;
  name: string;
  properties: Properties;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly diagnostics?: EnvironmentDiagnostic[],
  ) {
    super(message);
  }
}

const API_PREFIX = "/api/esc";

/** Starts the server on 127.0.0.1 and a random port. */
export async function startEscServer(options: EscServerOptions): Promise<EscServer> {
  const store = new EnvironmentStore(options.folder);
  const evaluate = options.evaluate ?? realEvaluate;
  const pageSize = Math.max(1, options.pageSize ?? 100);
  let latencyMs = options.latencyMs ?? 0;
  const faults: Fault[] = [];
  const requests: RequestRecord[] = [];
  const sessions = new Map<string, Session>();

  const load: DefinitionLoader = (ref, importer) => {
    // `project/env`, or a bare `env`: the importer's project, then `default` (as the local source does).
    const importerProject = importer.includes("/") ? importer.split("/")[0]! : "default";
    const candidates: [string, string][] = ref.includes("/")
      ? [ref.split("/", 2) as [string, string]]
      : [
          [importerProject, ref],
          ["default", ref],
        ];
    for (const [project, name] of candidates) {
      const env = store.get(project, name);
      if (env) return { name: `${project}/${name}`, yaml: env.yaml };
    }
    return undefined;
  };

  function evaluateAt(project: string, name: string, yaml: string): EvaluationResult {
    try {
      return evaluate({ name: `${project}/${name}`, yaml }, load);
    } catch (error) {
      // An evaluator that throws is a bug, not an outage: a 400 (not retried) whose diagnostic says why.
      const summary = `evaluation failed: ${error instanceof Error ? error.message : String(error)}`;
      throw new HttpError(400, summary, [{ summary }]);
    }
  }

  function takeFault(method: string, path: string): Fault | undefined {
    for (const fault of faults) {
      if (fault.remaining <= 0) continue;
      if (fault.match.method && fault.match.method.toUpperCase() !== method) continue;
      const p = fault.match.path;
      if (p !== undefined && !(typeof p === "string" ? path.includes(p) : p.test(path))) continue;
      fault.remaining--;
      return fault;
    }
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const record: RequestRecord = { method, path: url.pathname, query: url.search, status: 0 };
    requests.push(record);
    if (latencyMs > 0) await delay(latencyMs);

    const fault = takeFault(method, url.pathname);
    if (fault) {
      record.fault = fault.kind;
      if (fault.kind === "reset") {
        record.status = -1;
        req.socket.destroy();
        return;
      }
      record.status = fault.status;
      const headers: Record<string, string> = { "Content-Type": "application/json" };
      if (fault.retryAfter !== undefined) headers["Retry-After"] = fault.retryAfter;
      res.writeHead(fault.status, headers);
      res.end(JSON.stringify({ code: fault.status, message: fault.kind === "429" ? "Too Many Requests" : "Injected failure" }));
      return;
    }

    try {
      if (req.headers.authorization !== `token ${options.token}`) {
        throw new HttpError(401, "Unauthorized: No credentials provided or are invalid.");
      }
      const body = method === "POST" || method === "PATCH" ? await readBody(req) : "";
      await route(method, url, req, body, res);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof Error ? error.message : "internal error";
      const payload: Record<string, unknown> = { code: status, message };
      if (error instanceof HttpError && error.diagnostics) payload.diagnostics = error.diagnostics.map(toApiDiagnostic);
      if (!res.headersSent) {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(method === "HEAD" ? undefined : JSON.stringify(payload));
      }
    } finally {
      record.status = res.statusCode;
    }
  }

  async function route(method: string, url: URL, req: IncomingMessage, body: string, res: ServerResponse): Promise<void> {
    if (!url.pathname.startsWith(`${API_PREFIX}/environments/`)) throw new HttpError(404, "Not Found");
    const parts = url.pathname
      .slice(`${API_PREFIX}/environments/`.length)
      .split("/")
      .map((p) => decodeURIComponent(p));
    const [org, project, name, ...rest] = parts;
    if (org !== options.org) throw new HttpError(404, `Organization '${org ?? ""}' not found`);

    // /environments/{org}
    if (project === undefined || project === "") {
      if (method === "GET") return listEnvironments(url, res);
      if (method === "POST") return createEnvironment(body, res);
      throw new HttpError(405, "Method Not Allowed");
    }
    if (name === undefined || !NAME_PATTERN.test(project) || !NAME_PATTERN.test(name)) throw new HttpError(404, "Not Found");
    const sub = rest.join("/");

    if (sub === "") {
      if (method === "GET" || method === "HEAD") return getYaml(project, name, "latest", method, res);
      if (method === "PATCH") return updateYaml(project, name, req, body, res);
      if (method === "DELETE") {
        if (!store.delete(project, name)) throw notFound(project, name);
        return sendJson(res, 200, {});
      }
    }
    if (sub === "decrypt" && method === "GET") return getYaml(project, name, "latest", method, res);
    if (sub === "open" && method === "POST") return openEnvironment(project, name, "latest", res);
    if (rest[0] === "open" && rest.length === 2 && method === "GET") return readSession(project, name, rest[1]!, res);
    if (sub === "versions" && method === "GET") return listRevisions(project, name, url, res);
    if (rest[0] === "versions" && rest.length === 2 && rest[1] !== "tags" && method === "GET") {
      return getYaml(project, name, rest[1]!, method, res);
    }
    if (rest[0] === "versions" && rest.length === 3 && rest[2] === "open" && method === "POST") {
      return openEnvironment(project, name, rest[1]!, res);
    }
    throw new HttpError(404, "Not Found");
  }

  function listEnvironments(url: URL, res: ServerResponse): void {
    const all = store.list();
    const token = url.searchParams.get("continuationToken");
    let offset = 0;
    if (token) {
      const decoded = /^offset:(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"));
      if (!decoded) throw new HttpError(400, "invalid continuation token");
      offset = Number(decoded[1]);
    }
    const page = all.slice(offset, offset + pageSize);
    const next = offset + pageSize < all.length ? Buffer.from(`offset:${offset + pageSize}`).toString("base64url") : undefined;
    sendJson(res, 200, {
      environments: page.map((env) => ({
        organization: options.org,
        project: env.project,
        name: env.name,
        created: env.created,
        modified: env.modified,
      })),
      ...(next ? { nextToken: next } : {}),
    });
  }

  function createEnvironment(body: string, res: ServerResponse): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new HttpError(400, "invalid JSON body");
    }
    const { project, name } = (parsed ?? {}) as { project?: unknown; name?: unknown };
    if (typeof project !== "string" || typeof name !== "string" || !NAME_PATTERN.test(project) || !NAME_PATTERN.test(name)) {
      throw new HttpError(400, "project and name must be valid names");
    }
    if (!store.create(project, name)) throw new HttpError(409, `Environment '${project}/${name}' already exists`);
    sendJson(res, 200, {});
  }

  function getYaml(project: string, name: string, version: string, method: string, res: ServerResponse): void {
    const latest = store.get(project, name);
    if (!latest) throw notFound(project, name);
    const revision = store.at(project, name, version);
    if (!revision) throw new HttpError(404, `Revision '${version}' not found`);
    res.writeHead(200, {
      "Content-Type": "application/x-yaml",
      ETag: revision.number === latest.revision ? latest.etag : `"${revision.number}"`,
      "Pulumi-ESC-Revision": String(revision.number),
    });
    res.end(method === "HEAD" ? undefined : revision.yaml);
  }

  function updateYaml(project: string, name: string, req: IncomingMessage, body: string, res: ServerResponse): void {
    const current = store.get(project, name);
    if (!current) throw notFound(project, name);
    // `If-Match` is standard; Pulumi's own client sends the tag in an `ETag` request header.
    const expected = headerValue(req, "if-match") ?? headerValue(req, "etag");
    if (expected !== undefined && expected !== "*" && expected !== current.etag) {
      throw new HttpError(409, "Conflict: the environment has changed since it was read");
    }
    const doc = parseDocument(body);
    if (doc.errors.length > 0) {
      throw new HttpError(
        400,
        "invalid environment definition",
        doc.errors.map((e) => ({ summary: e.message.split("\n")[0]!, ...(e.linePos?.[0] ? { line: e.linePos[0].line, column: e.linePos[0].col } : {}) })),
      );
    }
    const result = evaluateAt(project, name, body);
    if (result.diagnostics.length > 0) throw new HttpError(400, "environment definition has errors", result.diagnostics);
    const updated = store.update(project, name, body);
    res.writeHead(200, { "Content-Type": "application/json", ETag: updated.etag, "Pulumi-ESC-Revision": String(updated.revision) });
    res.end(JSON.stringify({}));
  }

  function openEnvironment(project: string, name: string, version: string, res: ServerResponse): void {
    if (!store.get(project, name)) throw notFound(project, name);
    const revision = store.at(project, name, version);
    if (!revision) throw new HttpError(404, `Revision '${version}' not found`);
    const result = evaluateAt(project, name, revision.yaml);
    if (result.diagnostics.length > 0) throw new HttpError(400, "environment has errors", result.diagnostics);
    const id = randomUUID();
    sessions.set(id, { project, name, properties: result.properties });
    sendJson(res, 200, { id });
  }

  function readSession(project: string, name: string, id: string, res: ServerResponse): void {
    const session = sessions.get(id);
    if (!session || session.project !== project || session.name !== name) throw new HttpError(404, "Open session not found");
    sendJson(res, 200, { properties: session.properties });
  }

  function listRevisions(project: string, name: string, url: URL, res: ServerResponse): void {
    const before = url.searchParams.get("before");
    const count = url.searchParams.get("count");
    const revisions = store.revisions(
      project,
      name,
      before !== null && /^\d+$/.test(before) ? Number(before) : undefined,
      count !== null && /^\d+$/.test(count) ? Number(count) : undefined,
    );
    if (!revisions) throw notFound(project, name);
    sendJson(
      res,
      200,
      revisions.map((r) => ({ number: r.number, created: r.created, creatorLogin: "esc-server", creatorName: "esc-server", tags: [] })),
    );
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    org: options.org,
    folder: options.folder,
    requests,
    count(path, method) {
      return requests.filter(
        (r) =>
          (method === undefined || r.method === method.toUpperCase()) &&
          (path === undefined || (typeof path === "string" ? r.path.includes(path) : path.test(r.path))),
      ).length;
    },
    inject429(count, opts = {}) {
      faults.push({ kind: "429", remaining: count, match: opts, status: 429, retryAfter: String(opts.retryAfter ?? 0) });
    },
    inject500(count, opts = {}) {
      faults.push({ kind: "5xx", remaining: count, match: opts, status: opts.status ?? 500 });
    },
    injectReset(count, opts = {}) {
      faults.push({ kind: "reset", remaining: count, match: opts, status: -1 });
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    clearFaults() {
      faults.length = 0;
    },
    get sessionCount() {
      return sessions.size;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function notFound(project: string, name: string): HttpError {
  return new HttpError(404, `Environment '${project}/${name}' not found`);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function toApiDiagnostic(d: EnvironmentDiagnostic): Record<string, unknown> {
  return {
    summary: d.summary,
    ...(d.path ? { path: d.path } : {}),
    ...(d.line !== undefined ? { range: { environment: "", begin: { line: d.line, column: d.column ?? 0, byte: 0 }, end: { line: d.line, column: d.column ?? 0, byte: 0 } } } : {}),
  };
}
