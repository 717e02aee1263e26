/**
 * serve's cycles: what changed is debounced and queued by the scheduler, each cycle plans and
 * executes a sync of the environments it names (and their importers), a periodic reconcile syncs
 * everything, and what failed is retried ({@link FailureRetries}). Also settles rotations: read
 * back once they reached every target.
 */
import pLimit from "p-limit";
import type { Logger } from "pino";
import { envId } from "../../programs/environment-ref.js";
import type { RunFlags } from "../planner/decide.js";
import type { Selection } from "../planner/selection.js";
import type { RunEvent } from "../runner/events.js";
import type { ExecuteOptions, Session } from "../session.js";
import { cycleLogReporter } from "./cycle-log.js";
import { FailureRetries, RECONCILE } from "./failure-retries.js";
import { holdsRotation, ImportGraph } from "./importers.js";
import type { ServeMetrics } from "./metrics.js";
import type { Notifier } from "./notify.js";
import { RotationTracker, type EnvOutcome } from "./rotations.js";
import { Scheduler, type Work } from "./scheduler.js";
import { isSynced, type StatusBook } from "./status.js";

export interface CycleRunnerOptions {
  session: Session;
  logger: Logger;
  /** Which environments and targets serve keeps in sync. */
  selection: Selection;
  deletions: RunFlags["deletions"];
  /** Lock waits and pair deadlines for every execute. */
  execute: Omit<ExecuteOptions, "emit" | "signal">;
  reconcileEveryMs: number;
  debounceMs: number;
  maxQueue: number;
  metrics: ServeMetrics;
  /** Every pair's last result: a cycle's pair events update it. */
  book: StatusBook;
  /** Told of every pair that starts or stops failing. */
  notifier: Notifier;
}

/** Per environment of a cycle: when its last target was written, how many pairs did not sync, and how many failed. */
type Outcome = EnvOutcome & { failed: number };

/** The running cycles of one serve: what its routes and its watcher hand changes to. */
export class CycleRunner {
  readonly scheduler: Scheduler;
  /** Which environment imports which (read from definitions): a change syncs its importers too. */
  readonly graph = new ImportGraph();
  /** Environments whose definition holds `fn::rotate`: any new revision of theirs may be a rotation. */
  readonly rotating = new Set<string>();
  /** Rotations delivered and not yet in every target. */
  readonly rotations = new RotationTracker();
  readonly #retries: FailureRetries;
  #ready = false;
  #stopping = false;
  #reconcileTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: CycleRunnerOptions) {
    const { logger, metrics } = opts;
    this.#retries = new FailureRetries({
      logger,
      reconcileEveryMs: opts.reconcileEveryMs,
      onCount: (count) => metrics.retrying.set(count),
      onDue: (key) => {
        if (this.#stopping) return;
        if (key === RECONCILE) this.scheduler.reconcile();
        else if (!this.scheduler.request([key])) logger.warn({ environment: key }, "too many syncs waiting: the next reconcile retries this environment");
      },
    });
    this.scheduler = new Scheduler({
      debounceMs: opts.debounceMs,
      maxQueue: opts.maxQueue,
      run: (work, signal) => this.#cycle(work, signal),
      onDepth: (depth) => metrics.queueDepth.set(depth),
      onError: (err, work) => {
        logger.error({ trigger: work.kind }, `cycle failed: ${err instanceof Error ? err.message : String(err)}`);
        if (this.#stopping) return;
        if (work.kind === "reconcile") this.#retries.retryLater(RECONCILE, "the reconcile failed: retrying it");
        else for (const env of work.environments) this.#retries.retryLater(env, "the cycle failed: retrying its environments");
      },
    });
  }

  /** True once the first reconcile has ended, until serve stops. */
  get ready(): boolean {
    return this.#ready;
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  /** What failed and waits for its retry (environments, and `(reconcile)`). */
  retrying(): string[] {
    return this.#retries.keys();
  }

  /** An environment changed: it and its importers are synced again (`urgent`: without the debounce). False: the queue is full. */
  changed(env: string, urgent = false): boolean {
    const affected = this.graph.affected(env).filter((e) => this.opts.selection.includesEnvironmentId(e));
    if (affected.length === 0) return true;
    return this.scheduler.request(affected, { urgent });
  }

  /** The first reconcile now, then one every `reconcileEveryMs`. */
  start(): void {
    this.scheduler.reconcile();
    this.#reconcileTimer = setInterval(() => this.scheduler.reconcile(), this.opts.reconcileEveryMs);
  }

  /** Readiness fails at once; no reconcile or retry starts any more. */
  beginStop(): void {
    this.#stopping = true;
    this.#ready = false;
    clearInterval(this.#reconcileTimer);
    this.#retries.cancelTimers();
  }

  /** Finishes or cancels the running cycle within `graceMs` (after {@link beginStop}). */
  async stop(graceMs: number): Promise<void> {
    await this.scheduler.stop(graceMs);
  }

  /** A cycle's event sink: metrics, each environment's outcome, the status book and notifications. */
  #observe(outcomes: Map<string, Outcome>) {
    const { metrics, book, notifier } = this.opts;
    return (event: RunEvent) => {
      metrics.observe(event);
      if (event.kind !== "pair-done") return;
      // Events name `org/project/name`; the scheduler works with `project/name`.
      const env = event.pair.environment.slice(event.pair.environment.indexOf("/") + 1);
      const o = outcomes.get(env) ?? { lastWriteAt: 0, pairs: 0, bad: 0, failed: 0 };
      o.pairs++;
      const transition = book.observe(event);
      if (!isSynced(event.status)) o.bad++;
      if (event.status === "failed") o.failed++;
      else o.lastWriteAt = Math.max(o.lastWriteAt, event.at);
      outcomes.set(env, o);
      if (transition) notifier.notify(transition);
    };
  }

  /** Reads definitions again: of every environment (a reconcile) or of the given ones. */
  async #refreshGraph(environments: string[] | undefined, signal: AbortSignal): Promise<void> {
    const { session, logger } = this.opts;
    const source = session.source;
    if (!source.definition) return;
    const org = session.manifest.source.org;
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
      this.graph.reset(new Map([...definitions].filter((d): d is [string, string] => d[1] !== undefined)));
      this.rotating.clear();
    } else for (const [env, yaml] of definitions) this.graph.set(env, yaml);
    for (const [env, yaml] of definitions) {
      if (yaml !== undefined && holdsRotation(yaml)) this.rotating.add(env);
      else this.rotating.delete(env);
    }
  }

  /**
   * Reads the targets of `environments` back, as `drift` does: `in-sync` when every pair's store
   * holds what ESC holds, `unverifiable` when a store cannot return values (Azure Key Vault,
   * GitHub), else the worst status found. Changes nothing.
   */
  async #readBack(environments: string[], signal: AbortSignal): Promise<string> {
    const { session } = this.opts;
    const plan = await session.plan(this.opts.selection.narrowedTo(environments), { operation: "drift", dryRun: true, refresh: false, force: false, deletions: { allowAll: false, max: 0 } }, signal);
    const statuses: string[] = [];
    await session.execute(plan, { ...this.opts.execute, emit: (e) => void (e.kind === "pair-done" && statuses.push(e.drift?.status ?? "error")), signal });
    const worst = ["error", "missing", "drifted", "pending", "orphaned", "unverifiable"].find((st) => statuses.includes(st));
    return worst ?? "in-sync";
  }

  /**
   * After a cycle: every rotation now synced everywhere it reaches is read back, then logged and
   * counted as propagated, with the time from its delivery to the last target written.
   */
  async #settleRotations(work: Work, started: number, outcomes: Map<string, Outcome>, signal: AbortSignal): Promise<void> {
    const { logger, metrics } = this.opts;
    const { propagated, failing } = this.rotations.cycleEnded(started, work.kind === "reconcile" ? "all" : work.environments, outcomes);
    for (const env of failing) logger.warn({ environment: env }, "rotation not propagated yet: a pair did not sync (it is retried)");
    for (const r of propagated) {
      let readback: string;
      try {
        readback = await this.#readBack(r.affected, signal);
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

  async #cycle(work: Work, signal: AbortSignal): Promise<void> {
    const { session, logger, metrics } = this.opts;
    const trigger = work.kind === "reconcile" ? "reconcile" : "change";
    metrics.cycles.inc({ trigger });
    const started = Date.now();
    const selection = work.kind === "reconcile" ? this.opts.selection : this.opts.selection.narrowedTo(work.environments);
    logger.info({ trigger, environments: work.kind === "environments" ? work.environments : "all" }, "cycle start");
    await this.#refreshGraph(work.kind === "environments" ? work.environments : undefined, signal);
    const runPlan = await session.plan(selection, { operation: "sync", dryRun: false, refresh: false, force: false, deletions: this.opts.deletions }, signal);
    // Environments the source failed to open (the ESC API down, a reset): retried like a failure.
    const unreachable = new Set(
      runPlan.steps.filter((s) => s.decision.action === "refuse" && s.decision.retryable && s.pair).map((s) => envId(s.pair!.env)),
    );
    const outcomes = new Map<string, Outcome>();
    const observe = this.#observe(outcomes);
    const log = cycleLogReporter(logger, trigger, started);
    const summary = await session.execute(runPlan, {
      ...this.opts.execute,
      emit: (event) => {
        observe(event);
        log.sink(event);
      },
      signal,
    });
    for (const env of unreachable) {
      const o = outcomes.get(env) ?? { lastWriteAt: 0, pairs: 1, bad: 1, failed: 0 };
      o.failed++;
      outcomes.set(env, o);
    }
    // Only a failure is retried: a held or refused pair waits for its user (a flag, a fix).
    for (const [env, o] of outcomes) if (o.failed === 0) this.#retries.succeeded(env);
    if (!signal.aborted) for (const [env, o] of outcomes) if (o.failed > 0) this.#retries.retryLater(env, "a pair failed: retrying the environment");
    log.finish();
    if (!signal.aborted && this.rotations.size > 0) await this.#settleRotations(work, started, outcomes, signal);
    if (work.kind === "reconcile") {
      this.#retries.succeeded(RECONCILE);
      if (summary.failed === 0) metrics.lastReconcile.set(Date.now() / 1000);
      if (!this.#stopping && !this.#ready) logger.info("ready: the first reconcile has ended");
      this.#ready = !this.#stopping;
    }
  }
}
