/**
 * Webhooks of the loopback ESC server, as Pulumi Cloud runs them: registered per environment
 * (`/api/esc/environments/{org}/{project}/{env}/hooks`, the paths of the official `esc env
 * webhook` commands) or per organisation (`/api/orgs/{org}/hooks`), and delivered as raw JSON POSTs
 * with `Pulumi-Webhook-ID`, `Pulumi-Webhook-Kind` and, when the hook has a secret,
 * `Pulumi-Webhook-Signature` (hex HMAC-SHA256 of the body). A non-2xx answer or a network error
 * is retried (the same delivery id), honouring `Retry-After`.
 *
 * What is sent is what pulumi/docs `content/docs/esc/concepts/webhooks.md` documents: a hook
 * subscribes to *filters* (or the `environments` group), a delivery carries the event *kind*
 * (table "Event Filtering"), and the body has the fields of that kind's sample ("Payload
 * Examples"). `test/unit/orchestrator/serve/webhook-contract.test.ts` checks every delivery against the
 * samples kept in `test/fixtures/esc-webhooks/`, so that this sender cannot drift from them.
 *
 * Test controls: drop the next deliveries (a lost webhook), hold deliveries and release them in
 * reverse (out of order), wait until every delivery has ended.
 */
import { createHmac, randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";

export interface Hook {
  name: string;
  displayName: string;
  organizationName: string;
  projectName?: string;
  envName?: string;
  payloadUrl: string;
  active: boolean;
  format: string;
  filters?: string[];
  groups?: string[];
  secret?: string;
}

/** One attempt, as `.../deliveries` lists it (plus what tests read). */
export interface Delivery {
  id: string;
  kind: string;
  timestamp: number;
  duration: number;
  payload: string;
  requestUrl: string;
  requestHeaders: string;
  responseCode: number;
  responseHeaders: string;
  responseBody: string;
  hook: string;
  attempt: number;
}

/** Filter → the kind Pulumi sends for it (the docs' "Event Filtering" table). */
export const KIND_OF_FILTER: Record<string, string> = {
  environment_created: "environment",
  environment_deleted: "environment",
  environment_revision_created: "environment_revision",
  environment_revision_retracted: "environment_revision",
  environment_revision_tag_created: "environment_revision_tag",
  environment_revision_tag_deleted: "environment_revision_tag",
  environment_revision_tag_updated: "environment_revision_tag",
  environment_tag_created: "environment_tag",
  environment_tag_deleted: "environment_tag",
  environment_tag_updated: "environment_tag",
  imported_environment_changed: "imported_environment_changed",
  // pulumi/pulumi-pulumiservice webhook.go lists these filters; their kind is not documented: the filter name is sent.
  environment_rotation_succeeded: "environment_rotation_succeeded",
  environment_rotation_failed: "environment_rotation_failed",
};

/** The `environments` group: every documented environment kind (rotations only by filter: undocumented). */
const ENVIRONMENTS_GROUP = new Set(Object.keys(KIND_OF_FILTER).filter((f) => !f.startsWith("environment_rotation_")));

/** What an event says beyond its environment (by kind, as the docs' samples show). */
export interface EventDetails {
  revision?: number;
  tagName?: string;
  affectedRevisions?: number[];
  imported?: { project: string; name: string; revision: number };
}

/** How many times a delivery is tried in all. */
const ATTEMPTS = 5;

export class WebhookHub {
  readonly hooks = new Map<string, Hook>();
  readonly deliveries: Delivery[] = [];
  #drop = 0;
  #held: (() => void)[] | undefined;
  #inflight = new Set<Promise<void>>();

  constructor(private readonly user: { login: string; name: string }) {}

  /** The next `n` deliveries are never sent (as when a webhook is lost). */
  dropNext(n: number): void {
    this.#drop += n;
  }

  /** Deliveries wait until {@link release}. */
  hold(): void {
    this.#held ??= [];
  }

  /** Sends what was held, in reverse order when asked, and stops holding. */
  release(order: "same" | "reverse" = "same"): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const send of order === "reverse" ? held.reverse() : held) send();
  }

  /** Resolves once every delivery started so far has ended (retries included). */
  async settled(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.all([...this.#inflight]);
  }

  create(scope: { org: string; project?: string; env?: string }, body: Partial<Hook>): Hook {
    if (typeof body.payloadUrl !== "string" || !/^https?:\/\//.test(body.payloadUrl)) throw new Error("payloadUrl must be an http(s) URL");
    if (body.organizationName !== undefined && body.organizationName !== scope.org) throw new Error("organizationName does not match the URL");
    const name = body.name || `hook-${randomUUID().slice(0, 8)}`;
    if (this.hooks.has(key(scope, name))) throw new Conflict(`webhook '${name}' already exists`);
    const hook: Hook = {
      name,
      displayName: body.displayName ?? name,
      organizationName: scope.org,
      ...(scope.project ? { projectName: scope.project, envName: scope.env! } : {}),
      payloadUrl: body.payloadUrl,
      active: body.active ?? true,
      format: body.format ?? "raw",
      ...(body.filters?.length ? { filters: body.filters } : {}),
      ...(body.groups?.length ? { groups: body.groups } : {}),
      ...(body.secret ? { secret: body.secret } : {}),
    };
    this.hooks.set(key(scope, name), hook);
    return hook;
  }

  list(scope: { org: string; project?: string; env?: string }): Hook[] {
    return [...this.hooks.values()].filter((h) => h.organizationName === scope.org && h.projectName === scope.project && h.envName === scope.env);
  }

  get(scope: { org: string; project?: string; env?: string }, name: string): Hook | undefined {
    return this.hooks.get(key(scope, name));
  }

  remove(scope: { org: string; project?: string; env?: string }, name: string): boolean {
    return this.hooks.delete(key(scope, name));
  }

  /** The API's view of a hook: the secret never comes back, only whether there is one. */
  static view(hook: Hook): Record<string, unknown> {
    const { secret, ...rest } = hook;
    return { ...rest, hasSecret: secret !== undefined };
  }

  /** An event (a filter name) happened to an environment: every active hook that wants it gets a delivery. */
  emit(filter: string, org: string, project: string, env: string, details: EventDetails = {}): void {
    const kind = KIND_OF_FILTER[filter];
    if (!kind) throw new Error(`unknown webhook filter ${filter}`);
    for (const hook of this.hooks.values()) {
      if (!hook.active || hook.organizationName !== org) continue;
      if (hook.envName !== undefined && (hook.projectName !== project || hook.envName !== env)) continue;
      // Neither filters nor groups: the default groups (pulumi-pulumiservice webhook.go), which hold `environments`.
      const wanted = (!hook.filters && !hook.groups) || hook.filters?.includes(filter) || (hook.groups?.includes("environments") && ENVIRONMENTS_GROUP.has(filter));
      if (!wanted) continue;
      this.send(hook, kind, this.payload(filter, org, project, env, details));
    }
  }

  /** `.../ping`: one delivery, answered with its record. */
  async ping(hook: Hook): Promise<Delivery> {
    const id = randomUUID();
    return this.#attempt(hook, id, "ping", JSON.stringify({ message: "Hello from Pulumi Cloud" }), 1);
  }

  /** The body Pulumi sends for `filter`: the common fields, then those of its kind, in the docs' order. */
  payload(filter: string, org: string, project: string, env: string, details: EventDetails = {}): string {
    const kind = KIND_OF_FILTER[filter];
    const action = filter.slice(filter.lastIndexOf("_") + 1);
    const common = {
      user: { name: this.user.name, githubLogin: this.user.login, avatarUrl: "" },
      organization: { name: org, githubLogin: org, avatarUrl: "" },
      projectName: project,
      environmentName: env,
    };
    const need = <T>(v: T | undefined, what: string): T => {
      if (v === undefined) throw new Error(`a ${filter} delivery needs ${what}`);
      return v;
    };
    switch (kind) {
      case "environment":
        return JSON.stringify({ ...common, action });
      case "environment_revision":
        return JSON.stringify({ ...common, action, revision: need(details.revision, "the revision") });
      case "environment_revision_tag":
        return JSON.stringify({ ...common, tagName: need(details.tagName, "the tag"), action, revision: need(details.revision, "the revision") });
      case "environment_tag":
        return JSON.stringify({ ...common, tagName: need(details.tagName, "the tag"), action });
      case "imported_environment_changed": {
        const imported = need(details.imported, "the imported environment");
        return JSON.stringify({
          ...common,
          affectedRevisions: need(details.affectedRevisions, "the importer's revisions"),
          importedEnvironmentReference: { projectName: imported.project, environmentName: imported.name, revision: imported.revision },
        });
      }
      default:
        // Rotations: undocumented body; the common fields and the revision the rotation created.
        return JSON.stringify({ ...common, action, ...(details.revision !== undefined ? { revision: details.revision } : {}) });
    }
  }

  /** Sends one delivery (with its retries) in the background. */
  send(hook: Hook, kind: string, body: string): void {
    if (this.#drop > 0) {
      this.#drop--;
      return;
    }
    const id = randomUUID();
    let started!: () => void;
    const go = new Promise<void>((resolve) => (started = resolve));
    const run = go.then(async () => {
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        const d = await this.#attempt(hook, id, kind, body, attempt);
        if (d.responseCode >= 200 && d.responseCode < 300) return;
        if (attempt === ATTEMPTS) return;
        const retryAfter = Number(JSON.parse(d.responseHeaders || "{}")["retry-after"]);
        await delay(Number.isFinite(retryAfter) ? Math.min(retryAfter, 5) * 1000 : 200 * 2 ** attempt);
      }
    });
    this.#inflight.add(run);
    void run.finally(() => this.#inflight.delete(run));
    if (this.#held) this.#held.push(started);
    else started();
  }

  async #attempt(hook: Hook, id: string, kind: string, body: string, attempt: number): Promise<Delivery> {
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      "User-Agent": "pulumi-webhooks/test",
      "Pulumi-Webhook-ID": id,
      "Pulumi-Webhook-Kind": kind,
    };
    if (hook.secret) headers["Pulumi-Webhook-Signature"] = createHmac("sha256", hook.secret).update(body).digest("hex");
    const started = Date.now();
    const record: Delivery = {
      id,
      kind,
      timestamp: Math.floor(started / 1000),
      duration: 0,
      payload: body,
      requestUrl: hook.payloadUrl,
      requestHeaders: JSON.stringify({ ...headers, "Pulumi-Webhook-Signature": headers["Pulumi-Webhook-Signature"] ? "(hidden)" : undefined }),
      responseCode: 0,
      responseHeaders: "{}",
      responseBody: "",
      hook: hook.name,
      attempt,
    };
    try {
      const response = await fetch(hook.payloadUrl, { method: "POST", headers, body, signal: AbortSignal.timeout(10_000) });
      record.responseCode = response.status;
      record.responseHeaders = JSON.stringify(Object.fromEntries(response.headers));
      record.responseBody = (await response.text()).slice(0, 1000);
    } catch (err) {
      record.responseBody = err instanceof Error ? err.message : String(err);
    }
    record.duration = Date.now() - started;
    this.deliveries.push(record);
    return record;
  }
}

export class Conflict extends Error {}

function key(scope: { org: string; project?: string; env?: string }, name: string): string {
  return `${scope.org}/${scope.project ?? ""}/${scope.env ?? ""}/${name}`;
}
