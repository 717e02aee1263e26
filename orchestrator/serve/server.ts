/**
 * `esc-sync serve`: one session, many plan + execute cycles. Webhooks (or a watched folder) name
 * environments; the scheduler coalesces them into cycles; a periodic reconcile catches what a lost
 * webhook missed. HTTP: `POST /webhooks/esc`, `GET /healthz`, `GET /readyz`, `GET /metrics`.
 */
import { watch, type FSWatcher } from "node:fs";
import Fastify, { type FastifyInstance } from "fastify";
import pLimit from "p-limit";
import picomatch from "picomatch";
import type { Logger } from "pino";
import { envId } from "../../programs/environment-ref.js";
import type { RunFlags } from "../planner/decide.js";
import type { Selection } from "../planner/plan.js";
import type { RunEvent } from "../runner/events.js";
import type { ExecuteOptions, Session } from "../session.js";
import { RecentIds } from "./deliveries.js";
import { readEvent } from "./events.js";
import { ImportGraph } from "./importers.js";
import { ServeMetrics, type DeliveryResult } from "./metrics.js";
import { Scheduler, type Work } from "./scheduler.js";
import { verifySignature } from "./signature.js";

/** Pulumi's webhook bodies are small; anything past this is refused unread. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** What a refused sender is told to wait before retrying. */
const RETRY_AFTER_SECONDS = 5;
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
  const org = session.manifest.source.org;
  const inSelection = (env: string) => !opts.selection.filter?.length || picomatch.isMatch(env, opts.selection.filter);
  let ready = false;
  let stopping = false;

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
    logger.info({ ...(key === RECONCILE ? { reconcile: true } : { environment: key }), attempt: attempts, delayMs }, why);
  }
  function succeeded(key: string): void {
    clearTimeout(retries.get(key)?.timer);
    retries.delete(key);
  }

  const emit = (trigger: string, failed: Set<string>, done: Set<string>) => (event: RunEvent) => {
    metrics.observe(event);
    if (event.kind === "pair-done") {
      const { stack, environment, target } = event.pair;
      // Events name `org/project/name`; the scheduler works with `project/name`.
      const env = environment.slice(environment.indexOf("/") + 1);
      done.add(env);
      if (event.status === "failed") failed.add(env);
      const line = { trigger, stack, environment, target, status: event.status, durationMs: event.durationMs, changes: event.changes, message: event.message, hint: event.hint };
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
    if (environments === undefined) graph.reset(new Map([...definitions].filter((d): d is [string, string] => d[1] !== undefined)));
    else for (const [env, yaml] of definitions) graph.set(env, yaml);
  }

  async function cycle(work: Work, signal: AbortSignal): Promise<void> {
    const trigger = work.kind === "reconcile" ? "reconcile" : "change";
    metrics.cycles.inc({ trigger });
    const started = Date.now();
    const selection: Selection =
      work.kind === "reconcile" ? opts.selection : { ...opts.selection, filter: work.environments, allowEmpty: true };
    logger.info({ trigger, environments: work.kind === "environments" ? work.environments : "all" }, "cycle start");
    await refreshGraph(work.kind === "environments" ? work.environments : undefined, signal);
    const runPlan = await session.plan(selection, { operation: "sync", dryRun: false, refresh: false, force: false, deletions: opts.deletions }, signal);
    const failed = new Set<string>();
    const done = new Set<string>();
    const summary = await session.execute(runPlan, { ...opts.execute, emit: emit(trigger, failed, done), signal });
    for (const env of done) if (!failed.has(env)) succeeded(env);
    if (!signal.aborted) for (const env of failed) retryLater(env, "a pair failed: retrying the environment");
    logger.info({ trigger, pairs: summary.pairs, byStatus: summary.byStatus, failed: summary.failed, durationMs: Date.now() - started }, "cycle done");
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

  /** An environment changed: it and its importers are synced again. */
  function changed(env: string): boolean {
    const affected = graph.affected(env).filter(inSelection);
    if (affected.length === 0) return true;
    return scheduler.request(affected);
  }

  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: MAX_BODY_BYTES });
  // The signature covers the raw bytes: the body is kept as received, parsed only once verified.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

  const delivery = (result: DeliveryResult, details: Record<string, unknown> = {}) => {
    metrics.deliveries.inc({ result });
    logger.info({ result, ...details }, "webhook delivery");
  };

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
    let event;
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
    if (event.kind === "ignored") {
      if (id !== undefined) seen.add(id);
      delivery("ignored", { id, kind, reason: event.reason });
      return reply.code(202).send({ status: "ignored", reason: event.reason });
    }
    if (event.org !== undefined && event.org !== org) {
      if (id !== undefined) seen.add(id);
      delivery("ignored", { id, kind, reason: `organisation ${event.org} is not the manifest's (${org})` });
      return reply.code(202).send({ status: "ignored", reason: "another organisation" });
    }
    const env = `${event.project}/${event.name}`;
    if (!changed(env)) {
      // Not recorded as seen: the sender's retry of this delivery must be taken.
      delivery("queue_full", { id, kind, environment: env });
      return reply.code(503).header("Retry-After", String(RETRY_AFTER_SECONDS)).send({ error: "too many syncs waiting: retry later" });
    }
    if (id !== undefined) seen.add(id);
    delivery("accepted", { id, kind, environment: env });
    return reply.code(202).send({ status: "accepted" });
  });

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) =>
    ready && !stopping ? { status: "ready" } : reply.code(503).send({ status: stopping ? "stopping" : "starting: the first reconcile has not ended" }),
  );
  app.get("/metrics", async (_req, reply) => reply.header("Content-Type", metrics.registry.contentType).send(await metrics.registry.metrics()));

  await app.listen({ host: opts.host, port: opts.port });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : opts.port;
  const url = `http://${opts.host.includes(":") ? `[${opts.host}]` : opts.host}:${port}`;
  logger.info({ url, webhooks: opts.webhooks ? (opts.secret ? "verified" : "NOT verified") : "refused (no secret)", watch: opts.watchFolder ?? false }, "listening");

  let watcher: FSWatcher | undefined;
  if (opts.watchFolder) {
    const folder = opts.watchFolder;
    watcher = watch(folder, { recursive: true }, (_type, file) => {
      const m = file ? /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)\.yaml$/.exec(file.replace(/\\/g, "/")) : null;
      if (!m) return;
      const env = `${m[1]}/${m[2]}`;
      logger.info({ environment: env }, "definition changed");
      if (!changed(env)) logger.warn({ environment: env }, "too many syncs waiting: the next reconcile will catch this change");
    });
    // A folder swapped or removed, or the inotify limit reached: log it and rely on the reconcile,
    // rather than let an unhandled 'error' end the process.
    watcher.on("error", (err) => logger.error({ folder }, `watching the folder stopped: ${err.message}; changes are caught by the reconcile (every --reconcile-every)`));
  }

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
      watcher?.close();
      await scheduler.stop(graceMs);
      await app.close();
      logger.info("stopped");
    },
  };
}
