/**
 * Reporters for runs. Each consumes the same event stream: a live view on a terminal, plain
 * lines elsewhere (CI logs), or one JSON document. The redactor sits in front of all of them.
 */
import { createLogUpdate } from "log-update";
import type { Redactor } from "../redact.js";
import type { ChangeCounts, EventSink, PairInfo, PairStatus, RunEvent, RunSummary } from "../runner/events.js";
import { revisionLabel } from "../planner/plan.js";
import { renderTable } from "./table.js";

/**
 * Consumes events; `finish` flushes what it holds (the JSON document, the last frame), with
 * `extra` fields for the JSON document (a dry run's run plan).
 */
export interface Reporter {
  sink: EventSink;
  finish(extra?: Record<string, unknown>): void;
}

/**
 * The event fields of a closed vocabulary ({@link RunEvent}'s `kind`, `operation`, `status`, an
 * engine event's `op`, a pair's target `kind`): reporters switch on them, and none holds a value.
 */
const EVENT_VOCABULARY: ReadonlySet<string> = new Set(["kind", "operation", "command", "status", "op"]);

/** Wraps a reporter so that every string of every event is redacted first (the vocabulary kept). */
export function redacting(reporter: Reporter, redactor: Redactor): Reporter {
  return {
    sink: (e) => reporter.sink(redactor.deep(e, EVENT_VOCABULARY)),
    finish: (extra) => reporter.finish(extra && redactor.deep(extra, EVENT_VOCABULARY)),
  };
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** What changed. A pair created writes its entries (one file may hold many: count entries, not resources). */
function changesText(c: ChangeCounts, entries?: readonly string[]): string {
  const parts: string[] = [];
  if (c.create) parts.push(entries?.length && !c.update && !c.delete && !c.replace ? `created ${plural(entries.length, "entry", "entries")}` : `created ${c.create}`);
  if (c.update) parts.push(`updated ${c.update}`);
  if (c.replace) parts.push(`replaced ${c.replace}`);
  if (c.delete) parts.push(`deleted ${c.delete}`);
  return parts.join(", ");
}

function doneText(status: PairStatus, changes: ChangeCounts, message?: string, operation?: string, entries?: readonly string[]): string {
  const counts = changesText(changes, status === "created" ? entries : undefined);
  switch (status) {
    case "unchanged":
      // A drift report's "unchanged" is a pair whose store matches ESC.
      return operation === "drift" ? "in sync" : "unchanged";
    case "changes-pending":
      // The message names what would change (deletions included): never just "changes pending".
      return `would change${counts ? ` (${counts})` : ""}${message ? `: ${message}` : counts ? "" : ": changes pending"}`;
    case "failed":
    case "held":
    case "refused":
    case "skipped":
      return `${status}: ${message ?? ""}`.trim();
    default:
      return [counts || status, message].filter(Boolean).join("; ");
  }
}

export function summaryText(s: RunSummary): string {
  const parts = Object.entries(s.byStatus).map(([k, n]) => `${n} ${k}`);
  return `${s.pairs} pair(s): ${parts.join(", ") || "nothing to do"} in ${(s.durationMs / 1000).toFixed(1)}s`;
}

/** `team/app → out`; a pinned pair names its revision: `team/app at revision 3 (tag stable) → out`. */
const label = (p: PairInfo) => `${p.environment}${p.revision?.pinned ? ` at ${revisionLabel(p.revision)}` : ""} → ${p.target}`;

/** One line per step: for logs and non-terminal output. */
export function plainReporter(write: (line: string) => void): Reporter {
  const verb = { sync: "syncing", preview: "previewing", drift: "checking", destroy: "removing" } as const;
  return {
    sink(e: RunEvent) {
      switch (e.kind) {
        case "run-start":
          write(`${e.command ?? e.operation}: ${e.pairs.length} pair(s), ${e.concurrency} at a time`);
          break;
        case "pair-start":
          write(`… ${label(e.pair)}: ${verb[e.operation]} (${e.pair.stack})`);
          break;
        case "pair-retry":
          write(`↻ ${label(e.pair)}: ${e.cause}; retrying in ${(e.delayMs / 1000).toFixed(1)}s (attempt ${e.attempt + 1})`);
          break;
        case "pair-done": {
          const mark = e.status === "failed" || e.status === "held" || e.status === "refused" ? "✗" : e.status === "skipped" ? "-" : "✓";
          write(`${mark} ${label(e.pair)}: ${doneText(e.status, e.changes, e.message, e.operation, e.pair.entries)}`);
          if (e.hint) write(`  hint: ${e.hint}`);
          break;
        }
        case "warning":
          write(`warning: ${e.message}`);
          break;
        case "run-done":
          write(summaryText(e.summary));
          break;
        default:
          break;
      }
    },
    finish() {},
  };
}

/**
 * A live table on a terminal: one row per pair, redrawn as events arrive. On `signal` (Ctrl-C) the
 * table is erased at once: the interruption's message then goes below nothing, and the next frame
 * is drawn whole after it (log-update cannot know of lines written in between, and would leave
 * half of the old table above the new one).
 */
export function liveReporter(stream: NodeJS.WriteStream, signal?: AbortSignal): Reporter {
  const render = createLogUpdate(stream, { showCursor: true });
  const rows = new Map<string, { pair: PairInfo; state: string; hint?: string }>();
  const warnings: string[] = [];
  let summary: RunSummary | undefined;
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    render.clear();
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  const frame = () =>
    renderTable(
      ["PAIR", "STACK", "STATE"],
      [...rows.values()].map((r) => [label(r.pair), r.pair.stack, r.state]),
    );
  const schedule = () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      render(frame());
    }, 80);
  };
  return {
    sink(e: RunEvent) {
      switch (e.kind) {
        case "pair-queued":
          rows.set(e.pair.stack, { pair: e.pair, state: "queued" });
          break;
        case "pair-start":
          rows.set(e.pair.stack, { pair: e.pair, state: "running" });
          break;
        case "pair-engine-event":
          rows.set(e.pair.stack, { pair: e.pair, state: `running: ${e.op} ${e.resource}` });
          break;
        case "pair-retry":
          rows.set(e.pair.stack, { pair: e.pair, state: `retrying: ${e.cause}` });
          break;
        case "pair-done":
          rows.set(e.pair.stack, { pair: e.pair, state: doneText(e.status, e.changes, e.message, e.operation, e.pair.entries), ...(e.hint ? { hint: e.hint } : {}) });
          break;
        case "warning":
          warnings.push(e.message);
          break;
        case "run-done":
          summary = e.summary;
          break;
        default:
          break;
      }
      schedule();
    },
    finish() {
      signal?.removeEventListener("abort", onAbort);
      if (timer) clearTimeout(timer);
      render(frame());
      render.done();
      for (const r of rows.values()) if (r.hint) stream.write(`hint (${r.pair.stack}): ${r.hint}\n`);
      for (const w of warnings) stream.write(`warning: ${w}\n`);
      if (summary) stream.write(summaryText(summary) + "\n");
    },
  };
}

/** The documented JSON form of a run, written once at the end. */
export function jsonReporter(write: (text: string) => void): Reporter {
  const pairs = new Map<string, Record<string, unknown>>();
  const retries = new Map<string, { attempt: number; cause: string }[]>();
  const warnings: string[] = [];
  let operation = "";
  let summary: RunSummary | undefined;
  return {
    sink(e: RunEvent) {
      switch (e.kind) {
        case "run-start":
          operation = e.operation;
          break;
        case "pair-start":
          pairs.set(e.pair.stack, { ...pairs.get(e.pair.stack), startedAt: new Date(e.at).toISOString() });
          break;
        case "pair-retry":
          retries.set(e.pair.stack, [...(retries.get(e.pair.stack) ?? []), { attempt: e.attempt, cause: e.cause }]);
          break;
        case "pair-done":
          pairs.set(e.pair.stack, {
            ...e.pair,
            operation: e.operation,
            step: e.step,
            status: e.status,
            changes: e.changes,
            ...(e.message ? { message: e.message } : {}),
            ...(e.hint ? { hint: e.hint } : {}),
            ...(e.repaired ? { repaired: e.repaired } : {}),
            ...(e.drift ? { drift: e.drift } : {}),
            ...(retries.has(e.pair.stack) ? { retries: retries.get(e.pair.stack) } : {}),
            durationMs: e.durationMs,
            ...pairs.get(e.pair.stack),
            endedAt: new Date(e.at).toISOString(),
          });
          break;
        case "warning":
          warnings.push(e.message);
          break;
        case "run-done":
          summary = e.summary;
          break;
        default:
          break;
      }
    },
    finish(extra) {
      write(JSON.stringify({ operation, ...extra, pairs: [...pairs.values()], warnings, summary }, null, 2) + "\n");
    },
  };
}
