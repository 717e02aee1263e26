/**
 * `esc-sync serve`: one session, many plan + execute cycles. Webhooks (or a watched folder) name
 * environments; the cycle runner coalesces them into cycles; a periodic reconcile catches what a
 * lost webhook missed. HTTP: `POST /webhooks/esc` (webhook-routes), `GET /healthz`, `GET /readyz`,
 * `GET /metrics` (probe-routes), `GET /status`, and with an admin token `POST /sync`, `POST /pause`,
 * `POST /resume` (operator-routes). This module wires them together, listens, and stops.
 */
import type { Logger } from "pino";
import { envId } from "../../programs/environment-ref.js";
import type { RunFlags } from "../planner/decide.js";
import type { Selection } from "../planner/selection.js";
import type { ExecuteOptions, Session } from "../session.js";
import { CycleRunner } from "./cycle-runner.js";
import { createHttpApp, hostPort, listenError } from "./http-app.js";
import { ServeMetrics } from "./metrics.js";
import { Notifier, type NotifyTarget } from "./notify.js";
import { operatorRoutes } from "./operator-routes.js";
import { probeRoutes } from "./probe-routes.js";
import { StatusBook } from "./status.js";
import { watchForChanges, type DefinitionWatcher } from "./watch.js";
import { webhookRoutes } from "./webhook-routes.js";

export { HTTP_LIMITS, MAX_BODY_BYTES } from "./http-app.js";
export { ServeStartError } from "./start-error.js";

/** What serve is started with (from `esc-sync serve`'s flags and the manifest). */
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

/** A running serve. */
export interface Server {
  /** `http://host:port`. */
  readonly url: string;
  /** Fails readiness, stops taking work, finishes or cancels the running cycle within `graceMs`, closes. */
  stop(graceMs: number): Promise<void>;
}

/** Starts serve: its routes, its watcher (`watchFolder`), its cycles (the first reconcile at once); resolves once it listens. */
export async function startServer(opts: ServeOptions): Promise<Server> {
  const { session, logger } = opts;
  const metrics = new ServeMetrics();
  const book = new StatusBook();
  const notifier = new Notifier({ targets: opts.notify ?? [], logger, redact: opts.redact, onResult: (result) => metrics.notifications.inc({ result }) });
  const runner = new CycleRunner({
    session,
    logger,
    selection: opts.selection,
    deletions: opts.deletions,
    execute: opts.execute,
    reconcileEveryMs: opts.reconcileEveryMs,
    debounceMs: opts.debounceMs,
    maxQueue: opts.maxQueue,
    metrics,
    book,
    notifier,
  });

  const app = createHttpApp();
  webhookRoutes(app, {
    logger,
    metrics,
    book,
    runner,
    org: session.manifest.source.org,
    inSelection: (env) => opts.selection.includesEnvironmentId(env),
    webhooks: opts.webhooks,
    secret: opts.secret,
  });
  probeRoutes(app, runner, metrics);
  operatorRoutes(app, {
    adminToken: opts.adminToken,
    logger,
    scheduler: runner.scheduler,
    book,
    redact: opts.redact,
    state: () => ({ ready: runner.ready, stopping: runner.stopping, retrying: runner.retrying() }),
    environments: async () => (await session.source.list(AbortSignal.timeout(30_000))).filter((ref) => opts.selection.includesEnvironment(ref)).map(envId),
  });

  // The folder first: a missing one ends serve before it listens.
  const watcher: DefinitionWatcher | undefined = opts.watchFolder ? await watchForChanges(opts.watchFolder, logger, (env) => runner.changed(env)) : undefined;

  try {
    await app.listen({ host: opts.host, port: opts.port });
  } catch (err) {
    await watcher?.close();
    throw listenError(opts.host, opts.port, err);
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : opts.port;
  const url = `http://${hostPort(opts.host, port)}`;
  logger.info(
    { url, webhooks: opts.webhooks ? (opts.secret ? "verified" : "NOT verified") : "refused (no secret)", watch: opts.watchFolder ?? false, admin: opts.adminToken !== undefined, notify: (opts.notify ?? []).length },
    "listening",
  );

  runner.start();

  return {
    url,
    async stop(graceMs: number) {
      // Readiness fails first: a load balancer stops sending before anything else stops.
      runner.beginStop();
      logger.info({ graceMs }, "stopping: readiness fails; the running cycle gets the grace period, then is cancelled");
      await watcher?.close();
      await runner.stop(graceMs);
      await app.close();
      await notifier.settled();
      logger.info("stopped");
    },
  };
}
