/**
 * `esc-sync serve`: one session, many plan + execute cycles. Webhooks (or a watched folder) name
 * environments; the scheduler coalesces them into cycles; a periodic reconcile catches what a lost
 * webhook missed. HTTP: `POST /webhooks/esc`, `GET /healthz`, `GET /readyz`, `GET /metrics`,
 * `GET /status`, and with an admin token `POST /sync`, `POST /pause`, `POST /resume`.
 */
import { existsSync, statSync } from "node:fs";
import Fastify, { type FastifyInstance } from "fastify";
import pLimit from "p-limit";
import type { Logger } from "pino";
import { envId } from "../../programs/environment-ref.js";
import type { RunFlags } from "../planner/decide.js";
import type { Selection } from "../planner/selection.js";
import type { RunEvent } from "../runner/events.js";
import type { ExecuteOptions, Session } from "../session.js";
import { RecentIds } from "./deliveries.js";
import { UserError } from "../errors.js";
import { alreadySynced, readEvent, type WebhookEvent } from "./events.js";
import { holdsRotation, ImportGraph } from "./importers.js";
import { ServeMetrics, type DeliveryResult } from "./metrics.js";
import { RotationTracker, type EnvOutcome } from "./rotations.js";
import { Scheduler, type Work } from "./scheduler.js";
import { Notifier, type NotifyTarget } from "./notify.js";
import { operatorRoutes } from "./operator-routes.js";
import { verifySignature } from "./signature.js";
import { isSynced, StatusBook } from "./status.js";
import { watchDefinitions, type DefinitionWatcher } from "./watch.js";

/** Pulumi's webhook bodies are small; anything past this is refused unread. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** What a refused sender is told to wait before retrying. */
const RETRY_AFTER_SECONDS = 5;
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
/** A failed environment's first retry, and the longest wait between retries. */
const RETRY_FIRST_MS = 5_000;
const RETRY_MAX_MS = 5 * 60_000;

export interface ServeOptions {
  session: Session;
  logger: Logger;
  /** Which environments and targets serve keeps in sync (its `--filter`/`--target`). */
  selection: Selection;
  deletions: RunFlags["deletions"];
  /** Lock waits and pair deadlines for every execute. */
  execute: Omit<ExecuteOptions, "emit" | "signal">;
  host: string;
  port: number;
  reconcileEveryMs: number;
  debounceMs: number;
  maxQueue: number;
  /** The webhook secret; undefined: deliveries are not verified (`--insecure-no-verify`) or refused (`webhooks: false`). */
  secret: string | undefined;
  /** False: no secret and no `--insecure-no-verify` (only with `--watch`): every delivery is refused. */
  webhooks: boolean;
  /** Watch this folder (the local source's) instead of waiting for webhooks only. */
  watchFolder?: string | undefined;
  /** The bearer token of `POST /sync`, `/pause`, `/resume`; undefined: those are refused (403). */
  adminToken?: string | undefined;
  /** Where failures and recoveries are posted (`--notify`). */
  notify?: NotifyTarget[];
  /** Hides every value and token learnt so far (the run's redactor): for texts leaving serve. */
  redact: (text: string) => string;
}

/** serve cannot start as asked (a port in use, an address that cannot be bound, no watch folder). */
export class ServeStartError extends UserError {
  override readonly name = "ServeStartError";
}

/** Why `listen` failed, for people: the error code means more than Node's message. */
function listenError(host: string, port: number, err: unknown): ServeStartError {
  const code = (err as { code?: string }).code;
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (code === "EADDRINUSE") return new ServeStartError(`cannot listen on ${where}: the port is in use`, "stop the process that holds it, or pass another --listen (port 0 picks a free one)");
  if (code === "EADDRNOTAVAIL") return new ServeStartError(`cannot listen on ${where}: no interface of this machine has that address`, "use 127.0.0.1, 0.0.0.0 (all interfaces) or an address this machine has");
  if (code === "EACCES") return new ServeStartError(`cannot listen on ${where}: permission denied (ports below 1024 need privileges)`, "pick a port of 1024 or above, e.g. --listen 0.0.0.0:8080");
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return new ServeStartError(`cannot listen on ${where}: the host name does not resolve`, "pass an IP address, e.g. --listen 127.0.0.1:8080");
  return new ServeStartError(`cannot listen on ${where}: ${err instanceof Error ? err.message : String(err)}`, "check --listen");
}

/** A running serve. */
export interface Server {
  /** `http://host:port`. */
  readonly url: string;
  /** Fails readiness, stops taking work, finishes or cancels the running cycle within `graceMs`, closes. */
  stop(graceMs: number): Promise<void>;
}

export async function startServer(opts: ServeOptions): Promise<Server> {
  const { session, logger } = opts;
  const metrics = new ServeMetrics();
  const graph = new ImportGraph();
  const seen = new RecentIds();
  const book = new StatusBook();
  const notifier = new Notifier({ targets: opts.notify ?? [], logger, redact: opts.redact, onResult: (result) => metrics.notifications.inc({ result }) });
  const org = session.manifest.source.org;
  const inSelection = (env: string) => opts.selection.includesEnvironmentId(env);
  let ready = false;
  let stopping = false;
  /** Environments whose definition holds `fn::rotate`: any new revision of theirs may be a rotation. */
  const rotating = new Set<string>();
  /** Rotations delivered and not yet in every target. */
  const rotations = new RotationTracker();

  /**
   * What failed is tried again well before the next reconcile (a lock held by a neighbour, a store
   * or the ESC API briefly down): an environment whose pairs failed, or a whole cycle that threw
   * (its environments, or the reconcile), after 5 s, doubling, at most the reconcile interval.
   * Whatever then ends well forgets its failures.
   */
  const RECONCILE = "(reconcile)";
  const retries = new Map<string, { attempts: number; timer?: NodeJS.Timeout | undefined }>();
  function retryLater(key: string, why: string): void {
    const prev = retries.get(key);
    if (prev?.timer) return;
    const attempts = (prev?.attempts ?? 0) + 1;
    const delayMs = Math.min(RETRY_FIRST_MS * 2 ** (attempts - 1), RETRY_MAX_MS, opts.reconcileEveryMs);
    const timer = setTimeout(() => {
      retries.set(key, { attempts });
      if (stopping) return;
      if (key === RECONCILE) scheduler.reconcile();
      else if (!scheduler.request([key])) logger.warn({ environment: key }, "too many syncs waiting: the next reconcile retries this environment");
    }, delayMs);
    timer.unref();
    retries.set(key, { attempts, timer });
    metrics.retrying.set(retries.size);
    logger.info({ ...(key === RECONCILE ? { reconcile: true } : { environment: key }), attempt: attempts, delayMs }, why);
  }
  function succeeded(key: string): void {
    clearTimeout(retries.get(key)?.timer);
    retries.delete(key);
    metrics.retrying.set(retries.size);
  }

  /** Per environment of a cycle: when its last target was written, how many pairs did not sync, and how many failed. */
  type Outcome = EnvOutcome & { failed: number };
  const emit = (trigger: string, outcomes: Map<string, Outcome>) => (event: RunEvent) => {
    metrics.observe(event);
    if (event.kind === "pair-done") {
      const { stack, environment, target } = event.pair;
      // Events name `org/project/name`; the scheduler works with `project/name`.
      const env = environment.slice(environment.indexOf("/") + 1);
      const o = outcomes.get(env) ?? { lastWriteAt: 0, pairs: 0, bad: 0, failed: 0 };
      o.pairs++;
      const transition = book.observe(event);
      if (!isSynced(event.status)) o.bad++;
      if (event.status === "failed") o.failed++;
      else o.lastWriteAt = Math.max(o.lastWriteAt, event.at);
      outcomes.set(env, o);
      if (transition) notifier.notify(transition);
      const line = { trigger, stack, environment, target, status: event.status, durationMs: event.durationMs, changes: event.changes, message: event.message, hint: event.hint, ...(event.pair.revision ? { revision: event.pair.revision.number } : {}) };
      if (["failed", "refused", "held"].includes(event.status)) logger.warn(line, "pair not synced");
      else logger.info(line, "pair done");
    } else if (event.kind === "warning") logger.warn({ trigger }, event.message);
  };

  /** Reads definitions again: of every environment (a reconcile) or of the given ones. */
  async function refreshGraph(environments: string[] | undefined, signal: AbortSignal): Promise<void> {
    const source = session.source;
    if (!source.definition) return;
    const refs =
      environments === undefined
        ? await source.list(signal)
        : environments.map((e) => ({ org, project: e.split("/")[0]!, name: e.split("/")[1]! }));
    const definitions = new Map<string, string | undefined>();
    // A few at a time: an organisation may hold hundreds of environments.
    const limit = pLimit(8);
    await Promise.all(
      refs.map((ref) =>
        limit(async () => {
          try {
            definitions.set(envId(ref), await source.definition!(ref, signal));
          } catch (err) {
            logger.warn({ environment: envId(ref) }, `cannot read the definition to find its imports: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
          }
        }),
      ),
    );
    if (environments === undefined) {
      graph.reset(new Map([...definitions].filter((d): d is [string, string] => d[1] !== undefined)));
      rotating.clear();
    } else for (const [env, yaml] of definitions) graph.set(env, yaml);
    for (const [env, yaml] of definitions) {
      if (yaml !== undefined && holdsRotation(yaml)) rotating.add(env);
      else rotating.delete(env);
    }
  }

  /**
   * Reads the targets of `environments` back, as `drift` does: `in-sync` when every pair's store
   * holds what ESC holds, `unverifiable` when a store cannot return values (Azure Key Vault,
   * GitHub), else the worst status found. Changes nothing.
   */
  async function readBack(environments: string[], signal: AbortSignal): Promise<string> {
    const plan = await session.plan(opts.selection.narrowedTo(environments), { operation: "drift", dryRun: true, refresh: false, force: false, deletions: { allowAll: false, max: 0 } }, signal);
    const statuses: string[] = [];
    await session.execute(plan, { ...opts.execute, emit: (e) => void (e.kind === "pair-done" && statuses.push(e.drift?.status ?? "error")), signal });
    const worst = ["error", "missing", "drifted", "pending", "orphaned", "unverifiable"].find((st) => statuses.includes(st));
    return worst ?? "in-sync";
  }

  /**
   * After a cycle: every rotation now synced everywhere it reaches is read back, then logged and
   * counted as propagated, with the time from its delivery to the last target written.
   */
  async function settleRotations(work: Work, started: number, outcomes: Map<string, Outcome>, signal: AbortSignal): Promise<void> {
    const { propagated, failing } = rotations.cycleEnded(started, work.kind === "reconcile" ? "all" : work.environments, outcomes);
    for (const env of failing) logger.warn({ environment: env }, "rotation not propagated yet: a pair did not sync (it is retried)");
    for (const r of propagated) {
      let readback: string;
      try {
        readback = await readBack(r.affected, signal);
      } catch (err) {
        readback = `cannot read back: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`;
      }
      metrics.rotations.inc();
      metrics.rotationLatency.observe(r.durationMs / 1000);
      const line = { environment: r.environment, revision: r.revision, environments: r.affected, pairs: r.pairs, durationMs: r.durationMs, readback };
      if (readback === "in-sync" || readback === "unverifiable") logger.info(line, "rotation propagated");
      else logger.warn(line, "rotation propagated, but reading the targets back does not show it everywhere");
    }
  }

  async function cycle(work: Work, signal: AbortSignal): Promise<void> {
    const trigger = work.kind === "reconcile" ? "reconcile" : "change";
    metrics.cycles.inc({ trigger });
    const started = Date.now();
    const selection = work.kind === "reconcile" ? opts.selection : opts.selection.narrowedTo(work.environments);
    logger.info({ trigger, environments: work.kind === "environments" ? work.environments : "all" }, "cycle start");
    await refreshGraph(work.kind === "environments" ? work.environments : undefined, signal);
    const runPlan = await session.plan(selection, { operation: "sync", dryRun: false, refresh: false, force: false, deletions: opts.deletions }, signal);
    // Environments the source failed to open (the ESC API down, a reset): retried like a failure.
    const unreachable = new Set(
      runPlan.steps.filter((s) => s.decision.action === "refuse" && s.decision.retryable && s.pair).map((s) => envId(s.pair!.env)),
    );
    const outcomes = new Map<string, Outcome>();
    const summary = await session.execute(runPlan, { ...opts.execute, emit: emit(trigger, outcomes), signal });
    for (const env of unreachable) {
      const o = outcomes.get(env) ?? { lastWriteAt: 0, pairs: 1, bad: 1, failed: 0 };
      o.failed++;
      outcomes.set(env, o);
    }
    // Only a failure is retried: a held or refused pair waits for its user (a flag, a fix).
    for (const [env, o] of outcomes) if (o.failed === 0) succeeded(env);
    if (!signal.aborted) for (const [env, o] of outcomes) if (o.failed > 0) retryLater(env, "a pair failed: retrying the environment");
    logger.info({ trigger, pairs: summary.pairs, byStatus: summary.byStatus, failed: summary.failed, durationMs: Date.now() - started }, "cycle done");
    if (!signal.aborted && rotations.size > 0) await settleRotations(work, started, outcomes, signal);
    if (work.kind === "reconcile") {
      succeeded(RECONCILE);
      if (summary.failed === 0) metrics.lastReconcile.set(Date.now() / 1000);
      if (!stopping && !ready) logger.info("ready: the first reconcile has ended");
      ready = !stopping;
    }
  }

  const scheduler = new Scheduler({
    debounceMs: opts.debounceMs,
    maxQueue: opts.maxQueue,
    run: cycle,
    onDepth: (depth) => metrics.queueDepth.set(depth),
    onError: (err, work) => {
      logger.error({ trigger: work.kind }, `cycle failed: ${err instanceof Error ? err.message : String(err)}`);
      if (stopping) return;
      if (work.kind === "reconcile") retryLater(RECONCILE, "the reconcile failed: retrying it");
      else for (const env of work.environments) retryLater(env, "the cycle failed: retrying its environments");
    },
  });

  /** An environment changed: it and its importers are synced again (`urgent`: without the debounce). */
  function changed(env: string, urgent = false): boolean {
    const affected = graph.affected(env).filter(inSelection);
    if (affected.length === 0) return true;
    return scheduler.request(affected, { urgent });
  }

  const app: FastifyInstance = Fastify({
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

  const delivery = (result: DeliveryResult, details: Record<string, unknown> = {}) => {
    metrics.deliveries.inc({ result });
    logger.info({ result, ...details }, "webhook delivery");
  };
  /** A kind as a metric label: what the sender wrote, if it looks like a kind (the label set stays small). */
  const kindLabel = (kind: string) => (/^[a-z_]{1,64}$/.test(kind) ? kind : "other");

  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (req.url.startsWith("/webhooks/") && status === 413) delivery("too_large", { id: req.headers["pulumi-webhook-id"] });
    else if (status >= 500) logger.error({ url: req.url }, err.message);
    void reply.code(status).send({ error: status === 413 ? `body over ${MAX_BODY_BYTES} bytes` : err.message });
  });

  app.post("/webhooks/esc", async (req, reply) => {
    const id = typeof req.headers["pulumi-webhook-id"] === "string" ? req.headers["pulumi-webhook-id"] : undefined;
    const kind = typeof req.headers["pulumi-webhook-kind"] === "string" ? req.headers["pulumi-webhook-kind"] : undefined;
    if (stopping) {
      delivery("stopping", { id, kind });
      return reply.code(503).header("Retry-After", String(RETRY_AFTER_SECONDS)).send({ error: "shutting down: retry later" });
    }
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!opts.webhooks) {
      delivery("unauthorized", { id, kind, reason: "no webhook secret configured" });
      return reply.code(401).send({ error: "webhooks are not configured on this server (no ESC_SYNC_WEBHOOK_SECRET)" });
    }
    if (opts.secret !== undefined) {
      const signature = req.headers["pulumi-webhook-signature"];
      if (!verifySignature(opts.secret, body, typeof signature === "string" ? signature : undefined)) {
        delivery("unauthorized", { id, kind, reason: signature === undefined ? "no Pulumi-Webhook-Signature header" : "signature mismatch" });
        return reply.code(401).send({ error: "invalid or missing Pulumi-Webhook-Signature" });
      }
    }
    if (kind === undefined || kind === "") {
      delivery("malformed", { id, reason: "no Pulumi-Webhook-Kind header" });
      return reply.code(400).send({ error: "missing header Pulumi-Webhook-Kind: Pulumi sends the event kind in it (environment, environment_revision, environment_revision_tag, environment_tag, imported_environment_changed)" });
    }
    let event: WebhookEvent;
    try {
      event = readEvent(kind, body.toString("utf8"));
    } catch {
      delivery("malformed", { id, kind });
      return reply.code(400).send({ error: "the body is not JSON" });
    }
    if (id !== undefined && seen.has(id)) {
      delivery("duplicate", { id, kind });
      return reply.code(202).send({ status: "duplicate" });
    }
    const ignore = (reason: string) => {
      if (id !== undefined) seen.add(id);
      metrics.events.inc({ kind: kindLabel(kind), outcome: "ignored" });
      delivery("ignored", { id, kind, reason });
      return reply.code(202).send({ status: "ignored", reason });
    };
    if (event.kind === "ignored") return ignore(event.reason);
    if (event.org !== undefined && event.org !== org) return ignore(`organisation ${event.org} is not the manifest's (${org})`);
    // The body names the importer for imported_environment_changed: that is the one to sync.
    const env = `${event.project}/${event.name}`;
    const details = { id, kind, environment: env, action: event.action, revision: event.revision, tag: event.tag, imported: event.imported ? `${event.imported.project}/${event.imported.name}` : undefined };
    if (alreadySynced(event, book.syncedRevisions(env))) {
      if (id !== undefined) seen.add(id);
      metrics.events.inc({ kind: kindLabel(kind), outcome: "already_synced" });
      delivery("already_synced", details);
      return reply.code(202).send({ status: "already-synced", reason: `every pair of ${env} already wrote revision ${event.revision} or a later one` });
    }
    const rotation = event.event === "rotation" || (event.event === "environment_revision" && event.action === "created" && rotating.has(env));
    // Recorded before the request: the cycle it starts may begin at once, and must count.
    const reached = graph.affected(env).filter(inSelection);
    const fresh = rotation && reached.length > 0 && rotations.delivered(env, Date.now(), reached, event.revision);
    if (!changed(env, rotation)) {
      if (fresh) rotations.cancel(env);
      // Not recorded as seen: the sender's retry of this delivery must be taken.
      delivery("queue_full", details);
      return reply.code(503).header("Retry-After", String(RETRY_AFTER_SECONDS)).send({ error: "too many syncs waiting: retry later" });
    }
    if (id !== undefined) seen.add(id);
    metrics.events.inc({ kind: kindLabel(kind), outcome: "accepted" });
    delivery("accepted", { ...details, ...(rotation ? { rotation: true } : {}) });
    return reply.code(202).send({ status: "accepted", ...(scheduler.paused ? { paused: true } : {}) });
  });

  app.get("/healthz", async () => ({ status: "ok" }));
  // Paused stays ready: webhooks must keep reaching serve (they queue) while syncs are held.
  // Degraded (something failing is being retried: the ESC API down, a store refusing) stays ready
  // too, and says so: failing readiness would turn away deliveries serve can still queue, on every
  // replica at once when the fault is the ESC API's.
  app.get("/readyz", async (_req, reply) => {
    if (stopping) return reply.code(503).send({ status: "stopping" });
    if (!ready) return reply.code(503).send({ status: "starting: the first reconcile has not ended", ...(retries.size ? { retrying: [...retries.keys()] } : {}) });
    if (retries.size > 0) return { status: "degraded", retrying: [...retries.keys()] };
    return { status: scheduler.paused ? "paused" : "ready" };
  });
  app.get("/metrics", async (_req, reply) => reply.header("Content-Type", metrics.registry.contentType).send(await metrics.registry.metrics()));
  operatorRoutes(app, {
    adminToken: opts.adminToken,
    logger,
    scheduler,
    book,
    redact: opts.redact,
    state: () => ({ ready, stopping, retrying: [...retries.keys()] }),
    environments: async () => (await session.source.list(AbortSignal.timeout(30_000))).filter((ref) => opts.selection.includesEnvironment(ref)).map(envId),
  });

  // The folder first: a missing one ends serve before it listens.
  let watcher: DefinitionWatcher | undefined;
  if (opts.watchFolder) {
    const folder = opts.watchFolder;
    if (!existsSync(folder) || !statSync(folder).isDirectory()) {
      throw new ServeStartError(`--watch: the local source's folder ${folder} does not exist`, "create it, or fix source.folder in the manifest");
    }
    watcher = await watchDefinitions(
      folder,
      (env) => {
        logger.info({ environment: env }, "definition changed");
        if (!changed(env)) logger.warn({ environment: env }, "too many syncs waiting: the next reconcile will catch this change");
      },
      // A folder swapped or removed, or the inotify limit reached: log it and rely on the reconcile.
      (err) => logger.error({ folder }, `watching the folder failed: ${err.message}; changes are caught by the reconcile (every --reconcile-every)`),
    );
  }

  try {
    await app.listen({ host: opts.host, port: opts.port });
  } catch (err) {
    await watcher?.close();
    throw listenError(opts.host, opts.port, err);
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : opts.port;
  const url = `http://${opts.host.includes(":") ? `[${opts.host}]` : opts.host}:${port}`;
  logger.info(
    { url, webhooks: opts.webhooks ? (opts.secret ? "verified" : "NOT verified") : "refused (no secret)", watch: opts.watchFolder ?? false, admin: opts.adminToken !== undefined, notify: (opts.notify ?? []).length },
    "listening",
  );

  scheduler.reconcile();
  const reconcileTimer = setInterval(() => scheduler.reconcile(), opts.reconcileEveryMs);

  return {
    url,
    async stop(graceMs: number) {
      // Readiness fails first: a load balancer stops sending before anything else stops.
      stopping = true;
      ready = false;
      logger.info({ graceMs }, "stopping: readiness fails; the running cycle gets the grace period, then is cancelled");
      clearInterval(reconcileTimer);
      for (const r of retries.values()) clearTimeout(r.timer);
      await watcher?.close();
      await scheduler.stop(graceMs);
      await app.close();
      await notifier.settled();
      logger.info("stopped");
    },
  };
}
