/**
 * A loopback HTTP server speaking the part of the Pulumi ESC REST API that `@pulumi/esc-sdk` and
 * the official `esc` CLI call, for tests, answering as Pulumi Cloud does:
 * - `GET /api/user`, `GET /api/user/organizations/default`; environments listed per organisation
 *   and across organisations, with continuation tokens;
 * - definitions with `ETag` and `Pulumi-ESC-Revision` on GET and PATCH (HEAD: `ETag` only, as the
 *   API documents it); secrets stored and returned as `fn::secret: {ciphertext: ...}`, plaintext
 *   only from `.../decrypt`; updates checked against the `ETag`/`If-Match` sent;
 * - revisions (`versions?before=0` means from the latest) and revision tags (`.../versions/tags`,
 *   `.../versions/{tag}`, `latest` built in);
 * - open sessions whose values are Go-shaped nodes (a null has no `value` key), `yaml/check`;
 * - diagnostics as `{range, summary, detail?, severity, path?}`: errors refuse, warnings do not.
 *
 * Backed by folders of ESC definitions (`<folder>/<project>/<env>.yaml`, secrets as plaintext),
 * evaluated by the official evaluator (`official: true`, esc-eval built by provisioning), by the
 * project's local evaluator (default), or by an injected function.
 *
 * Webhooks (`webhooks.ts`): registered at the official CLI's paths, per environment or
 * per organisation, and delivered signed on every change, with the kinds and bodies Pulumi
 * documents (`test/fixtures/esc-webhooks/`): `environment_revision_created` (and
 * `imported_environment_changed` to every environment importing the one changed, transitively),
 * `environment_created`, `environment_deleted`, `environment_revision_tag_created/_updated/_deleted`,
 * `environment_revision_retracted` (`POST .../versions/{version}/retract`: tags on the retracted
 * revision move to its replacement), `environment_tag_created/_updated/_deleted` (`.../tags`).
 *
 * Fault injection (429 with `Retry-After`, 5xx, connection resets, requests never answered,
 * latency) and a request log
 * let tests prove that retries happen.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { gunzipSync } from "node:zlib";
import { parse as parseYaml, parseDocument } from "yaml";
import { evaluate as realEvaluate, type Definition, type DefinitionLoader, type EvaluationResult } from "../../../orchestrator/esc-eval/index.js";
import type { EnvironmentDiagnostic } from "../../../orchestrator/sources/source.js";
import type { ValueNode } from "../../../orchestrator/values.js";
import { startOfficialEvaluator, type ApiDiagnostic, type ApiEvaluation, type ApiValue, type EvaluationRequest, type OfficialEvaluator } from "./official.js";
import { InvalidCiphertextError, SecretBox } from "./secrets.js";
import { EnvironmentStore, NAME_PATTERN, TAG_PATTERN, type StoredRevision } from "./store.js";
import { Conflict, WebhookHub, type Hook } from "./webhooks.js";

export type { ApiDiagnostic, ApiValue } from "./official.js";

/** The local evaluator's signature: what tests inject to control evaluation. */
export type EvaluateFn = (definition: Definition, load: DefinitionLoader) => EvaluationResult;

export interface EscServerOptions {
  /** `<folder>/<project>/<env>.yaml`. Files may be edited while the server runs. */
  folder: string;
  /** The organisation whose environments are in `folder`; also the user's default organisation. */
  org: string;
  /** More organisations the token may see: name → folder. Unknown organisations get 404. */
  otherOrgs?: Record<string, string>;
  /** Requests must send `Authorization: token <token>`. */
  token: string;
  /** Environments per list page. Default 100. */
  pageSize?: number;
  /** Evaluate with the official ESC evaluator (esc-eval, built by scripts/provision.sh). */
  official?: boolean;
  /** Default: `evaluate` from `orchestrator/esc-eval` (ignored with `official`). */
  evaluate?: EvaluateFn;
  /** Added to every request. Default 0. */
  latencyMs?: number;
}

/** Which requests a fault applies to: a substring of the path, or a pattern; and a method. */
export interface FaultMatch {
  path?: string | RegExp;
  method?: string;
  /** A substring of the query string (with its `?`), or a pattern: e.g. only later list pages. */
  query?: string | RegExp;
}

export interface RequestRecord {
  method: string;
  /** Path without the query, e.g. `/api/esc/environments/acme/app/dev/open`. */
  path: string;
  query: string;
  /** The body of a PATCH (a definition), as received. */
  body?: string;
  status: number;
  /** The fault applied, if any. */
  fault?: "429" | "5xx" | "reset" | "hang";
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
  /**
   * The next `count` matching requests are never answered (a server that stopped responding: the
   * client's own timeout decides); {@link clearFaults} or {@link close} destroys their connections.
   */
  injectHang(count: number, options?: FaultMatch): void;
  /** The next `count` matching requests wait `ms` first (then are handled, faults included): some environments slower than others. */
  injectDelay(count: number, ms: number, options?: FaultMatch): void;
  /** Requests held by {@link injectHang} now. */
  readonly hanging: number;
  /** Latency added to every request from now on. */
  setLatency(ms: number): void;
  /** Drops pending faults. */
  clearFaults(): void;
  /** Registered webhooks, their deliveries, and the controls to lose, hold or reorder them. */
  readonly webhooks: WebhookHub;
  /** Open sessions created so far. */
  readonly sessionCount: number;
  /** The definition as stored (secrets as ciphertext) at `version` (default latest), or undefined. */
  storedDefinition(project: string, name: string, version?: string, org?: string): string | undefined;
  close(): Promise<void>;
}

interface Fault {
  kind: "429" | "5xx" | "reset" | "hang";
  remaining: number;
  match: FaultMatch;
  status: number;
  retryAfter?: string;
}

interface Session {
  org: string;
  project: string;
  name: string;
  properties: Record<string, ApiValue>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly diagnostics?: ApiDiagnostic[],
  ) {
    super(message);
  }
}

const API_PREFIX = "/api/esc";
const USER = { login: "esc-sync-test", name: "esc-sync test user" };

/** Starts the server on 127.0.0.1 and a random port. */
export async function startEscServer(options: EscServerOptions): Promise<EscServer> {
  const box = new SecretBox();
  const stores = new Map<string, EnvironmentStore>([[options.org, new EnvironmentStore(options.folder, box)]]);
  for (const [org, folder] of Object.entries(options.otherOrgs ?? {})) stores.set(org, new EnvironmentStore(folder, box));
  const official: OfficialEvaluator | undefined = options.official ? startOfficialEvaluator() : undefined;
  const localEvaluate = options.evaluate ?? realEvaluate;
  const pageSize = Math.max(1, options.pageSize ?? 100);
  let latencyMs = options.latencyMs ?? 0;
  const faults: Fault[] = [];
  const delays: { remaining: number; ms: number; match: FaultMatch }[] = [];
  /** Connections of requests held unanswered (a hang fault). */
  const hung = new Set<Socket>();
  const requests: RequestRecord[] = [];
  const sessions = new Map<string, Session>();
  const webhooks = new WebhookHub(USER);

  /** Environments importing `project/name`, transitively (bare names resolve in the importer's project). */
  function importersOf(store: EnvironmentStore, project: string, name: string): { project: string; name: string }[] {
    const imports = new Map<string, string[]>();
    for (const env of store.list()) {
      let list: unknown;
      try {
        list = (parseYaml(env.yaml) as { imports?: unknown } | null)?.imports;
      } catch {
        continue;
      }
      if (!Array.isArray(list)) continue;
      const refs = list.map((i) => (typeof i === "string" ? i : i && typeof i === "object" ? Object.keys(i)[0] : undefined)).filter((r): r is string => !!r);
      imports.set(`${env.project}/${env.name}`, refs.map((r) => (r.includes("/") ? r : `${env.project}/${r}`)));
    }
    const seen = new Set([`${project}/${name}`]);
    const queue = [...seen];
    while (queue.length) {
      const current = queue.shift()!;
      for (const [importer, refs] of imports) if (!seen.has(importer) && refs.includes(current)) (seen.add(importer), queue.push(importer));
    }
    seen.delete(`${project}/${name}`);
    return [...seen].map((id) => ({ project: id.split("/")[0]!, name: id.split("/")[1]! }));
  }

  /** Hook routes: `{scope}/hooks`, `{scope}/hooks/{name}`, `.../ping`, `.../deliveries`. */
  async function routeHooks(scope: { org: string; project?: string; env?: string }, rest: string[], method: string, body: string, res: ServerResponse): Promise<void> {
    const parse = (): Partial<Hook> => {
      try {
        return JSON.parse(body) as Partial<Hook>;
      } catch {
        throw new HttpError(400, "invalid JSON body");
      }
    };
    if (rest.length === 0) {
      if (method === "GET") return sendJson(res, 200, webhooks.list(scope).map(WebhookHub.view));
      if (method === "POST") {
        try {
          return sendJson(res, 201, WebhookHub.view(webhooks.create(scope, parse())));
        } catch (error) {
          throw new HttpError(error instanceof Conflict ? 409 : 400, error instanceof Error ? error.message : "bad request");
        }
      }
      throw new HttpError(405, "Method Not Allowed");
    }
    const hook = webhooks.get(scope, rest[0]!);
    if (!hook) throw new HttpError(404, `Webhook '${rest[0]!}' not found`);
    if (rest.length === 1) {
      if (method === "GET") return sendJson(res, 200, WebhookHub.view(hook));
      if (method === "DELETE") {
        webhooks.remove(scope, hook.name);
        res.writeHead(204);
        res.end();
        return;
      }
      if (method === "PATCH") {
        const p = parse();
        Object.assign(hook, {
          active: p.active ?? false,
          displayName: p.displayName ?? hook.displayName,
          payloadUrl: p.payloadUrl ?? hook.payloadUrl,
          filters: p.filters,
          groups: p.groups,
          ...(p.format ? { format: p.format } : {}),
        });
        if (p.secret === "__remove-secret") delete hook.secret;
        else if (p.secret) hook.secret = p.secret;
        return sendJson(res, 200, WebhookHub.view(hook));
      }
    }
    if (rest.length === 2 && rest[1] === "ping" && method === "POST") return sendJson(res, 200, await webhooks.ping(hook));
    if (rest.length === 2 && rest[1] === "deliveries" && method === "GET") return sendJson(res, 200, webhooks.deliveries.filter((d) => d.hook === hook.name));
    throw new HttpError(404, "Not Found");
  }

  function storeOf(org: string | undefined): EnvironmentStore {
    const store = org === undefined ? undefined : stores.get(org);
    if (!store) throw new HttpError(404, `Organization '${org ?? ""}' not found`);
    return store;
  }

  /** Evaluates a definition (plaintext secrets) of `org` as `project/name`; never throws for its content. */
  async function evaluateAt(org: string, project: string, name: string, yaml: string): Promise<ApiEvaluation> {
    const store = storeOf(org);
    try {
      if (official) {
        const environments: Record<string, string> = {};
        for (const env of store.list()) environments[`${env.project}/${env.name}`] = env.yaml;
        const request: EvaluationRequest = { name: `${project}/${name}`, yaml, environments };
        return await official.evaluate(request);
      }
      const load: DefinitionLoader = (ref, importer) => {
        // `project/env`, or a bare `env`: the importer's project, then `default` (as the local source does).
        const importerProject = importer.includes("/") ? importer.split("/")[0]! : "default";
        const candidates: [string, string][] = ref.includes("/") ? [ref.split("/", 2) as [string, string]] : [[importerProject, ref], ["default", ref]];
        for (const [p, n] of candidates) {
          const env = store.get(p, n);
          if (env) return { name: `${p}/${n}`, yaml: env.yaml };
        }
        return undefined;
      };
      const definition = `${project}/${name}`;
      const result = localEvaluate({ name: definition, yaml }, load);
      return {
        properties: Object.fromEntries(Object.entries(result.properties).map(([k, v]) => [k, toApiValue(v, definition)])),
        diagnostics: [
          ...result.diagnostics.map((d) => toApiDiagnostic(d, "error", definition)),
          ...(result.warnings ?? []).map((d) => toApiDiagnostic(d, "warning", definition)),
        ],
      };
    } catch (error) {
      // An evaluator that throws is a bug, not an outage: a 400 (not retried) whose diagnostic says why.
      const summary = `evaluation failed: ${error instanceof Error ? error.message : String(error)}`;
      throw new HttpError(400, summary, [{ summary, severity: "error" }]);
    }
  }

  /** Plaintext form of a definition sent by a client; a ciphertext that is not ours is a 400. */
  function decryptBody(body: string): string {
    try {
      return box.decryptDefinition(body);
    } catch (error) {
      if (!(error instanceof InvalidCiphertextError)) throw error;
      throw new HttpError(400, "environment definition has errors", [{ summary: error.message, severity: "error" }]);
    }
  }

  function matches(match: FaultMatch, method: string, path: string, query: string): boolean {
    if (match.method && match.method.toUpperCase() !== method) return false;
    const p = match.path;
    if (p !== undefined && !(typeof p === "string" ? path.includes(p) : p.test(path))) return false;
    const q = match.query;
    return q === undefined || (typeof q === "string" ? query.includes(q) : q.test(query));
  }
  function takeDelay(method: string, path: string, query: string): number {
    const d = delays.find((x) => x.remaining > 0 && matches(x.match, method, path, query));
    if (!d) return 0;
    d.remaining--;
    return d.ms;
  }

  function takeFault(method: string, path: string, query: string): Fault | undefined {
    for (const fault of faults) {
      if (fault.remaining <= 0) continue;
      if (fault.match.method && fault.match.method.toUpperCase() !== method) continue;
      const p = fault.match.path;
      if (p !== undefined && !(typeof p === "string" ? path.includes(p) : p.test(path))) continue;
      const q = fault.match.query;
      if (q !== undefined && !(typeof q === "string" ? query.includes(q) : q.test(query))) continue;
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
    const slow = takeDelay(method, url.pathname, url.search);
    if (slow > 0) await delay(slow);

    const fault = takeFault(method, url.pathname, url.search);
    if (fault) {
      record.fault = fault.kind;
      if (fault.kind === "reset") {
        record.status = -1;
        req.socket.destroy();
        return;
      }
      if (fault.kind === "hang") {
        record.status = -1;
        hung.add(req.socket);
        req.socket.on("close", () => hung.delete(req.socket));
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
      if (method === "PATCH") record.body = body;
      await route(method, url, req, body, res);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof Error ? error.message : "internal error";
      const payload: Record<string, unknown> = { code: status, message };
      if (error instanceof HttpError && error.diagnostics) payload.diagnostics = error.diagnostics;
      if (!res.headersSent) {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(method === "HEAD" ? undefined : JSON.stringify(payload));
      }
    } finally {
      record.status = res.statusCode;
    }
  }

  async function route(method: string, url: URL, req: IncomingMessage, body: string, res: ServerResponse): Promise<void> {
    if (url.pathname === "/api/user" && method === "GET") {
      return sendJson(res, 200, {
        id: "esc-sync-test",
        githubLogin: USER.login,
        name: USER.name,
        email: "",
        avatarUrl: "",
        organizations: [...stores.keys()].map((org) => ({ githubLogin: org, name: org, avatarUrl: "" })),
        identities: [],
      });
    }
    if (url.pathname === "/api/user/organizations/default" && method === "GET") return sendJson(res, 200, { gitHubLogin: options.org });
    if (url.pathname === `${API_PREFIX}/environments` && method === "GET") return listEnvironments([...stores.keys()], url, res);
    const orgHooks = /^\/api\/orgs\/([^/]+)\/hooks(?:\/(.*))?$/.exec(url.pathname);
    if (orgHooks) {
      storeOf(decodeURIComponent(orgHooks[1]!));
      return routeHooks({ org: decodeURIComponent(orgHooks[1]!) }, (orgHooks[2] ?? "").split("/").filter(Boolean), method, body, res);
    }
    if (!url.pathname.startsWith(`${API_PREFIX}/environments/`)) throw new HttpError(404, "Not Found");
    const parts = url.pathname
      .slice(`${API_PREFIX}/environments/`.length)
      .split("/")
      .map((p) => decodeURIComponent(p));
    const [org, project, name, ...rest] = parts;
    const store = storeOf(org);

    // /environments/{org}
    if (project === undefined || project === "") {
      if (method === "GET") return listEnvironments([org!], url, res);
      if (method === "POST") return createEnvironment(org!, store, body, res);
      throw new HttpError(405, "Method Not Allowed");
    }
    if (project === "yaml" && name === "check" && rest.length === 0 && method === "POST") {
      return checkYaml(org!, body, url.searchParams.get("showSecrets") === "true", res);
    }
    if (name === undefined || !NAME_PATTERN.test(project) || !NAME_PATTERN.test(name)) throw new HttpError(404, "Not Found");
    const env = { org: org!, store, project, name };
    const sub = rest.join("/");

    if (sub === "") {
      if (method === "GET" || method === "HEAD") return getYaml(env, "latest", method, false, res);
      if (method === "PATCH") return updateYaml(env, req, body, res);
      if (method === "DELETE") {
        if (!store.delete(project, name)) throw notFound(project, name);
        sendJson(res, 200, {});
        webhooks.emit("environment_deleted", org!, project, name);
        return;
      }
    }
    if (rest[0] === "tags") return routeEnvironmentTags(env, rest.slice(1), method, body, res);
    if (rest[0] === "hooks") {
      if (!store.get(project, name)) throw notFound(project, name);
      return routeHooks({ org: org!, project, env: name }, rest.slice(1), method, body, res);
    }
    if (sub === "decrypt" && method === "GET") return getYaml(env, "latest", method, true, res);
    if (sub === "open" && method === "POST") return openEnvironment(env, "latest", res);
    if (rest[0] === "open" && rest.length === 2 && method === "GET") return readSession(env, rest[1]!, res);
    if (sub === "versions" && method === "GET") return listRevisions(env, url, res);
    if (sub === "versions/tags") {
      if (method === "GET") return listTags(env, url, res);
      if (method === "POST") return createTag(env, body, res);
    }
    if (rest[0] === "versions" && rest[1] === "tags" && rest.length === 3) {
      if (method === "GET") return getTag(env, rest[2]!, res);
      if (method === "PATCH") return moveTag(env, rest[2]!, body, res);
      if (method === "DELETE") {
        const revision = store.tags(project, name)?.find((t) => t.name === rest[2])?.revision;
        if (rest[2] === "latest" || !store.deleteTag(project, name, rest[2]!)) throw new HttpError(404, `Tag '${rest[2]!}' not found`);
        sendJson(res, 200, {});
        webhooks.emit("environment_revision_tag_deleted", org!, project, name, { tagName: rest[2]!, ...(revision !== undefined ? { revision } : {}) });
        return;
      }
    }
    if (rest[0] === "versions" && rest.length === 2 && method === "GET") return getYaml(env, rest[1]!, method, false, res);
    if (rest[0] === "versions" && rest.length === 3 && rest[2] === "decrypt" && method === "GET") return getYaml(env, rest[1]!, method, true, res);
    if (rest[0] === "versions" && rest.length === 3 && rest[2] === "open" && method === "POST") return openEnvironment(env, rest[1]!, res);
    if (rest[0] === "versions" && rest.length === 3 && rest[2] === "retract" && method === "POST") return retractRevision(env, rest[1]!, body, res);
    throw new HttpError(404, "Not Found");
  }

  interface EnvAt {
    org: string;
    store: EnvironmentStore;
    project: string;
    name: string;
  }

  function revisionAt(env: EnvAt, version: string): StoredRevision {
    if (!env.store.get(env.project, env.name)) throw notFound(env.project, env.name);
    const revision = env.store.at(env.project, env.name, version);
    if (!revision) throw new HttpError(404, `Revision '${version}' not found`);
    return revision;
  }

  function listEnvironments(orgs: string[], url: URL, res: ServerResponse): void {
    const all = orgs.flatMap((org) => storeOf(org).list().map((env) => ({ org, env })));
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
      environments: page.map(({ org, env }) => ({
        organization: org,
        project: env.project,
        name: env.name,
        created: env.created,
        modified: env.modified,
      })),
      ...(next ? { nextToken: next } : {}),
    });
  }

  function createEnvironment(org: string, store: EnvironmentStore, body: string, res: ServerResponse): void {
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
    webhooks.emit("environment_created", org, project, name);
  }

  function getYaml(env: EnvAt, version: string, method: string, decrypt: boolean, res: ServerResponse): void {
    const latest = env.store.get(env.project, env.name)!;
    const revision = revisionAt(env, version);
    const etag = revision.number === latest?.revision ? latest.etag : `"${revision.number}"`;
    if (method === "HEAD") {
      // The API documents only the ETag on HEAD: a client must not rely on more.
      res.writeHead(200, { ETag: etag });
      res.end();
      return;
    }
    res.writeHead(200, { "Content-Type": "application/x-yaml", ETag: etag, "Pulumi-ESC-Revision": String(revision.number) });
    res.end(decrypt ? revision.yaml : revision.stored);
  }

  async function updateYaml(env: EnvAt, req: IncomingMessage, body: string, res: ServerResponse): Promise<void> {
    const current = env.store.get(env.project, env.name);
    if (!current) throw notFound(env.project, env.name);
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
        doc.errors.map((e) => toApiDiagnostic({ summary: e.message.split("\n")[0]!, ...(e.linePos?.[0] ? { line: e.linePos[0].line, column: e.linePos[0].col } : {}) }, "error", `${env.project}/${env.name}`)),
      );
    }
    const plaintext = decryptBody(body);
    const result = await evaluateAt(env.org, env.project, env.name, plaintext);
    if (result.diagnostics.some(isError)) throw new HttpError(400, "environment definition has errors", result.diagnostics);
    // Stored as Pulumi Cloud stores it: new plaintext secrets encrypted, ciphertext kept as sent.
    const updated = env.store.update(env.project, env.name, plaintext, box.encryptDefinition(body));
    const warnings = result.diagnostics.filter((d) => !isError(d));
    res.writeHead(200, { "Content-Type": "application/json", ETag: updated.etag, "Pulumi-ESC-Revision": String(updated.revision) });
    res.end(JSON.stringify(warnings.length > 0 ? { diagnostics: warnings } : {}));
    // Delivered after the answer, as the service does: the sender never waits for its listeners.
    webhooks.emit("environment_revision_created", env.org, env.project, env.name, { revision: updated.revision });
    // The body names the importer; its affected revisions are those importing the changed one (here its latest).
    for (const importer of importersOf(env.store, env.project, env.name)) {
      const latest = env.store.get(importer.project, importer.name)?.revision;
      webhooks.emit("imported_environment_changed", env.org, importer.project, importer.name, {
        affectedRevisions: latest !== undefined ? [latest] : [],
        imported: { project: env.project, name: env.name, revision: updated.revision },
      });
    }
  }

  async function openEnvironment(env: EnvAt, version: string, res: ServerResponse): Promise<void> {
    const revision = revisionAt(env, version);
    const result = await evaluateAt(env.org, env.project, env.name, revision.yaml);
    if (result.diagnostics.some(isError)) throw new HttpError(400, "environment has errors", result.diagnostics);
    const id = randomUUID();
    sessions.set(id, { org: env.org, project: env.project, name: env.name, properties: result.properties });
    const warnings = result.diagnostics.filter((d) => !isError(d));
    sendJson(res, 200, { id, ...(warnings.length > 0 ? { diagnostics: warnings } : {}) });
  }

  function readSession(env: EnvAt, id: string, res: ServerResponse): void {
    const session = sessions.get(id);
    if (!session || session.org !== env.org || session.project !== env.project || session.name !== env.name) throw new HttpError(404, "Open session not found");
    sendJson(res, 200, { properties: session.properties });
  }

  /** `POST /environments/{org}/yaml/check`: evaluates a definition sent in the body (as `esc env get` does). */
  async function checkYaml(org: string, body: string, showSecrets: boolean, res: ServerResponse): Promise<void> {
    const result = await evaluateAt(org, "default", "yaml", decryptBody(body));
    if (result.diagnostics.some(isError)) throw new HttpError(400, "environment has errors", result.diagnostics);
    // Without showSecrets the service does not decrypt: a secret is an unknown secret.
    const properties = showSecrets ? result.properties : Object.fromEntries(Object.entries(result.properties).map(([k, v]) => [k, maskSecrets(v)]));
    const warnings = result.diagnostics.filter((d) => !isError(d));
    sendJson(res, 200, { properties, ...(warnings.length > 0 ? { diagnostics: warnings } : {}) });
  }

  function listRevisions(env: EnvAt, url: URL, res: ServerResponse): void {
    const before = url.searchParams.get("before");
    const count = url.searchParams.get("count");
    const revisions = env.store.revisions(
      env.project,
      env.name,
      before !== null && /^\d+$/.test(before) ? Number(before) : undefined,
      count !== null && /^\d+$/.test(count) ? Number(count) : undefined,
    );
    if (!revisions) throw notFound(env.project, env.name);
    const tags = env.store.tags(env.project, env.name) ?? [];
    sendJson(
      res,
      200,
      revisions.map((r) => ({
        number: r.number,
        created: r.created,
        creatorLogin: USER.login,
        creatorName: USER.name,
        tags: tags.filter((t) => t.revision === r.number).map((t) => t.name),
      })),
    );
  }

  function tagJson(tag: { name: string; revision: number; created: string; modified: string }): Record<string, unknown> {
    return { ...tag, editorLogin: USER.login, editorName: USER.name };
  }

  /** Tags by name, those after `after`, at most `count`: the official CLI pages until an empty page. */
  function listTags(env: EnvAt, url: URL, res: ServerResponse): void {
    const tags = env.store.tags(env.project, env.name);
    if (!tags) throw notFound(env.project, env.name);
    const after = url.searchParams.get("after") ?? "";
    const count = Number(url.searchParams.get("count") ?? "") || 100;
    const page = tags.filter((t) => t.name > after).slice(0, count);
    const next = page.length === count && tags.some((t) => t.name > page.at(-1)!.name) ? page.at(-1)!.name : "";
    sendJson(res, 200, { tags: page.map(tagJson), nextToken: next });
  }

  function getTag(env: EnvAt, tag: string, res: ServerResponse): void {
    const found = (env.store.tags(env.project, env.name) ?? undefined)?.find((t) => t.name === tag);
    if (!env.store.get(env.project, env.name)) throw notFound(env.project, env.name);
    if (!found) throw new HttpError(404, `Tag '${tag}' not found`);
    sendJson(res, 200, tagJson(found));
  }

  function tagBody(env: EnvAt, body: string): { name?: unknown; revision: number } {
    let parsed: { name?: unknown; revision?: unknown };
    try {
      parsed = (JSON.parse(body) ?? {}) as typeof parsed;
    } catch {
      throw new HttpError(400, "invalid JSON body");
    }
    const latest = env.store.get(env.project, env.name);
    if (!latest) throw notFound(env.project, env.name);
    if (parsed.revision !== undefined && parsed.revision !== null && (typeof parsed.revision !== "number" || !Number.isInteger(parsed.revision))) {
      throw new HttpError(400, "revision must be an integer");
    }
    return { name: parsed.name, revision: typeof parsed.revision === "number" ? parsed.revision : latest.revision };
  }

  function createTag(env: EnvAt, body: string, res: ServerResponse): void {
    const { name, revision } = tagBody(env, body);
    if (typeof name !== "string" || !TAG_PATTERN.test(name)) throw new HttpError(400, "invalid tag name");
    const outcome = env.store.setTag(env.project, env.name, name, revision, "create");
    if (outcome === "exists" || outcome === "reserved") throw new HttpError(409, `Tag '${name}' already exists`);
    if (outcome === "no-revision") throw new HttpError(404, `Revision ${revision} not found`);
    sendJson(res, 200, {});
    webhooks.emit("environment_revision_tag_created", env.org, env.project, env.name, { tagName: name, revision });
  }

  /**
   * Environment tags (key/value labels; not revision tags), at the official client's paths
   * (`.../tags`, `.../tags/{name}`; pulumi/esc `cmd/esc/cli/client/client.go`), each change
   * delivered as `environment_tag_created/_updated/_deleted`.
   */
  function routeEnvironmentTags(env: EnvAt, rest: string[], method: string, body: string, res: ServerResponse): void {
    const tags = env.store.environmentTags(env.project, env.name);
    if (!tags) throw notFound(env.project, env.name);
    const parse = (): Record<string, unknown> => {
      try {
        return (JSON.parse(body || "{}") ?? {}) as Record<string, unknown>;
      } catch {
        throw new HttpError(400, "invalid JSON body");
      }
    };
    const now = () => new Date().toISOString();
    if (rest.length === 0 && method === "GET") return sendJson(res, 200, { tags: Object.fromEntries(tags), nextToken: "" });
    if (rest.length === 0 && method === "POST") {
      const { name, value } = parse();
      if (typeof name !== "string" || name === "" || typeof value !== "string") throw new HttpError(400, "name and value must be strings");
      if (tags.has(name)) throw new HttpError(409, `Tag '${name}' already exists`);
      const tag = { id: randomUUID(), name, value, created: now(), modified: now(), editorLogin: USER.login, editorName: USER.name };
      tags.set(name, tag);
      sendJson(res, 200, tag);
      webhooks.emit("environment_tag_created", env.org, env.project, env.name, { tagName: name });
      return;
    }
    const current = rest.length === 1 ? tags.get(rest[0]!) : undefined;
    if (rest.length !== 1) throw new HttpError(404, "Not Found");
    if (!current) throw new HttpError(404, `Tag '${rest[0]!}' not found`);
    if (method === "GET") return sendJson(res, 200, current);
    if (method === "DELETE") {
      tags.delete(current.name);
      sendJson(res, 200, {});
      webhooks.emit("environment_tag_deleted", env.org, env.project, env.name, { tagName: current.name });
      return;
    }
    if (method === "PATCH") {
      const { currentTag, newTag } = parse() as { currentTag?: { value?: unknown }; newTag?: { name?: unknown; value?: unknown } };
      if (currentTag?.value !== undefined && currentTag.value !== current.value) throw new HttpError(409, "the tag's value has changed");
      const name = typeof newTag?.name === "string" && newTag.name !== "" ? newTag.name : current.name;
      const value = typeof newTag?.value === "string" && newTag.value !== "" ? newTag.value : current.value;
      if (name !== current.name && tags.has(name)) throw new HttpError(409, `Tag '${name}' already exists`);
      tags.delete(current.name);
      const updated = { ...current, name, value, modified: now() };
      tags.set(name, updated);
      sendJson(res, 200, updated);
      webhooks.emit("environment_tag_updated", env.org, env.project, env.name, { tagName: name });
      return;
    }
    throw new HttpError(405, "Method Not Allowed");
  }

  /** `POST .../versions/{version}/retract` with `{replacement?, reason?}` (the official client's request). */
  function retractRevision(env: EnvAt, version: string, body: string, res: ServerResponse): void {
    let parsed: { replacement?: unknown };
    try {
      parsed = (JSON.parse(body || "{}") ?? {}) as typeof parsed;
    } catch {
      throw new HttpError(400, "invalid JSON body");
    }
    const number = revisionAt(env, version).number;
    const replacement = typeof parsed.replacement === "number" ? parsed.replacement : undefined;
    const outcome = env.store.retract(env.project, env.name, number, replacement);
    if (outcome === "latest") throw new HttpError(400, "the latest revision cannot be retracted");
    if (outcome === "no-revision") throw new HttpError(404, `Revision ${number} not found`);
    if (outcome === "no-replacement") throw new HttpError(400, "no revision to replace it with");
    sendJson(res, 200, {});
    webhooks.emit("environment_revision_retracted", env.org, env.project, env.name, { revision: number });
  }

  function moveTag(env: EnvAt, tag: string, body: string, res: ServerResponse): void {
    const { revision } = tagBody(env, body);
    const outcome = env.store.setTag(env.project, env.name, tag, revision, "move");
    if (outcome === "reserved") throw new HttpError(400, "the latest tag cannot be moved");
    if (outcome === "missing") throw new HttpError(404, `Tag '${tag}' not found`);
    if (outcome === "no-revision") throw new HttpError(404, `Revision ${revision} not found`);
    sendJson(res, 200, {});
    webhooks.emit("environment_revision_tag_updated", env.org, env.project, env.name, { tagName: tag, revision });
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
    webhooks,
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
    injectDelay(count, ms, opts = {}) {
      delays.push({ remaining: count, ms, match: opts });
    },
    injectHang(count, opts = {}) {
      faults.push({ kind: "hang", remaining: count, match: opts, status: -1 });
    },
    get hanging() {
      return hung.size;
    },
    clearFaults() {
      faults.length = 0;
      delays.length = 0;
      for (const socket of hung) socket.destroy();
      hung.clear();
    },
    get sessionCount() {
      return sessions.size;
    },
    storedDefinition(project, name, version = "latest", org = options.org) {
      return stores.get(org)?.at(project, name, version)?.stored;
    },
    async close() {
      for (const socket of hung) socket.destroy();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      await official?.close();
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
  const raw = Buffer.concat(chunks);
  // The official client may gzip a request body.
  return (headerValue(req, "content-encoding") === "gzip" ? gunzipSync(raw) : raw).toString("utf8");
}

function isError(d: ApiDiagnostic): boolean {
  return d.severity !== "warning";
}

function toApiDiagnostic(d: EnvironmentDiagnostic, severity: "error" | "warning", environment: string): ApiDiagnostic {
  const at = { line: d.line ?? 0, column: d.column ?? 0, byte: 0 };
  return {
    ...(d.line !== undefined ? { range: { environment, begin: at, end: at } } : {}),
    summary: d.summary,
    severity,
    ...(d.path ? { path: d.path } : {}),
  };
}

/** A local evaluator's node in the API's shape: Go's `omitempty`, so a null has no `value` key. */
function toApiValue(node: ValueNode, environment: string): ApiValue {
  const v = node.value;
  const value: ApiValue["value"] = Array.isArray(v)
    ? v.map((child) => toApiValue(child, environment))
    : v !== null && typeof v === "object"
      ? Object.fromEntries(Object.entries(v).map(([k, child]) => [k, toApiValue(child, environment)]))
      : v;
  const zero = { line: 0, column: 0, byte: 0 };
  return {
    ...(value === null ? {} : { value }),
    ...(node.secret ? { secret: true } : {}),
    ...(node.unknown ? { unknown: true } : {}),
    trace: { def: { environment, begin: zero, end: zero } },
  };
}

/** A secret node as the service returns it without decryption: secret, unknown, no value. */
function maskSecrets(node: ApiValue): ApiValue {
  if (node.secret) return { secret: true, unknown: true, ...(node.trace ? { trace: node.trace } : {}) };
  const v = node.value;
  if (Array.isArray(v)) return { ...node, value: v.map(maskSecrets) };
  if (v !== null && typeof v === "object") return { ...node, value: Object.fromEntries(Object.entries(v).map(([k, child]) => [k, maskSecrets(child)])) };
  return node;
}
