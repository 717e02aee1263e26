/**
 * serve's JSON log lines of a cycle: one more reporter of the run's event stream (beside the
 * terminal, plain and JSON reporters of `orchestrator/reporters/`). A line per pair (`pair done`,
 * or `pair not synced` as a warning), the run's warnings, and `cycle done` with the run's summary.
 */
import type { Logger } from "pino";
import type { Reporter } from "../reporters/run.js";
import type { RunEvent, RunSummary } from "../runner/events.js";

/** Statuses logged as warnings: the pair did not sync, and someone may have to act. */
const NOT_SYNCED: ReadonlySet<string> = new Set(["failed", "refused", "held"]);

/**
 * Logs one cycle's events to `logger`, each line with its `trigger` (`reconcile` or `change`);
 * `finish` writes `cycle done` (after the run ended), its `durationMs` counted from `startedAt`.
 */
export function cycleLogReporter(logger: Logger, trigger: string, startedAt: number): Reporter {
  let summary: RunSummary | undefined;
  return {
    sink(event: RunEvent) {
      if (event.kind === "pair-done") {
        const { stack, environment, target } = event.pair;
        const line = { trigger, stack, environment, target, status: event.status, durationMs: event.durationMs, changes: event.changes, message: event.message, hint: event.hint, ...(event.pair.revision ? { revision: event.pair.revision.number } : {}) };
        if (NOT_SYNCED.has(event.status)) logger.warn(line, "pair not synced");
        else logger.info(line, "pair done");
      } else if (event.kind === "warning") logger.warn({ trigger }, event.message);
      else if (event.kind === "run-done") summary = event.summary;
    },
    finish() {
      if (summary) logger.info({ trigger, pairs: summary.pairs, byStatus: summary.byStatus, failed: summary.failed, durationMs: Date.now() - startedAt }, "cycle done");
    },
  };
}
