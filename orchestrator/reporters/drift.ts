/**
 * The drift report: collected from a drift run's events, rendered as a terminal table,
 * Markdown, JSON (a stable, documented schema) or JUnit XML. Names and fingerprints only.
 */
import type { PairInfo, RunEvent } from "../runner/events.js";
import { renderTable } from "./table.js";
import type { DriftReason } from "../../programs/contract.js";
import { revisionLabel, type PairRevision } from "../planner/plan.js";
import { driftExitCode, type DriftStatus, type EntryDrift } from "../drift/compare.js";

/** One pair of the report. */
export interface DriftPairReport {
  stack: string;
  environment: string;
  target: string;
  kind: string;
  location: string;
  /** The environment's revision compared against (Pulumi Cloud source): a pinned binding's, or the latest. */
  revision?: PairRevision;
  status: DriftStatus;
  /** Why a pair errored, or a note (never synced, cannot be read back...). */
  message?: string;
  entries: EntryDrift[];
}

/** The JSON report, schema version 1 (documented in docs/json.md). */
export interface DriftReport {
  version: 1;
  generatedAt: string;
  summary: {
    pairs: number;
    byStatus: Partial<Record<DriftStatus, number>>;
    /** 0 all in sync, 2 something is not in sync, 1 a pair errored. */
    exitCode: number;
  };
  pairs: DriftPairReport[];
}

/** Collects `pair-done` events of a drift run into a report. */
export class DriftCollector {
  readonly pairs: DriftPairReport[] = [];

  readonly sink = (e: RunEvent): void => {
    if (e.kind !== "pair-done" || e.operation !== "drift" || !e.drift) return;
    const notes = [e.message, e.hint].filter(Boolean).join("; ");
    this.pairs.push({ ...pairFields(e.pair), status: e.drift.status, ...(notes ? { message: notes } : {}), entries: e.drift.entries });
  };

  report(now = new Date()): DriftReport {
    const pairs = [...this.pairs].sort((a, b) => a.stack.localeCompare(b.stack));
    const byStatus: Partial<Record<DriftStatus, number>> = {};
    for (const p of pairs) byStatus[p.status] = (byStatus[p.status] ?? 0) + 1;
    return {
      version: 1,
      generatedAt: now.toISOString(),
      summary: { pairs: pairs.length, byStatus, exitCode: driftExitCode(pairs.map((p) => p.status)) },
      pairs,
    };
  }
}

function pairFields(p: PairInfo) {
  return { stack: p.stack, environment: p.environment, target: p.target, kind: p.kind, location: p.location, ...(p.revision ? { revision: p.revision } : {}) };
}

/** The environment as a report names it: with its revision where a binding pins one. */
function envLabel(p: DriftPairReport): string {
  return p.revision?.pinned ? `${p.environment} at ${revisionLabel(p.revision)}` : p.environment;
}

const LABEL: Record<DriftStatus, string> = {
  "in-sync": "in sync",
  pending: "pending",
  drifted: "drifted",
  missing: "missing",
  orphaned: "orphaned",
  unverifiable: "unverifiable",
  error: "error",
};

const ICON: Record<DriftStatus, string> = {
  "in-sync": "✅",
  pending: "🕓",
  drifted: "⚠️",
  missing: "❌",
  orphaned: "👻",
  unverifiable: "❔",
  error: "💥",
};

function summaryLine(r: DriftReport): string {
  const parts = Object.entries(r.summary.byStatus).map(([k, n]) => `${n} ${LABEL[k as DriftStatus]}`);
  return `${r.summary.pairs} pair(s): ${parts.join(", ") || "none"}`;
}

/** What an entry's reason means, when it has no detail of its own. */
const REASON: Record<DriftReason, string> = {
  extra: "not written by esc-sync",
  format: "not laid out as esc-sync writes it",
  mode: "file mode",
};

/** An entry's status for people: `drifted`, `drifted: not written by esc-sync`. */
function entryStatus(e: EntryDrift): string {
  const why = e.detail ?? (e.reason ? REASON[e.reason] : undefined);
  return why ? `${LABEL[e.status]}: ${why}` : LABEL[e.status];
}

/** Entries that are not in sync, as `NAME (status)`. */
function notInSync(p: DriftPairReport): string {
  return p.entries
    .filter((e) => e.status !== "in-sync")
    .map((e) => `${e.name} (${entryStatus(e)})`)
    .join(", ");
}

export function driftToText(r: DriftReport): string {
  const rows = r.pairs.map((p) => [p.stack, `${envLabel(p)} → ${p.target}`, p.location, LABEL[p.status], notInSync(p) || p.message || ""]);
  return [renderTable(["STACK", "PAIR", "LOCATION", "STATUS", "DETAILS"], rows), "", summaryLine(r), ""].join("\n");
}

const md = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function driftToMarkdown(r: DriftReport): string {
  const lines = [`## esc-sync drift report`, "", `${summaryLine(r)} — generated ${r.generatedAt}`, ""];
  lines.push("| | Environment | Target | Status | Details |", "|---|---|---|---|---|");
  for (const p of r.pairs) {
    lines.push(`| ${ICON[p.status]} | \`${md(envLabel(p))}\` | \`${md(p.target)}\` (${p.kind}) | ${LABEL[p.status]} | ${md(notInSync(p) || p.message || "")} |`);
  }
  const detailed = r.pairs.filter((p) => p.entries.some((e) => e.status !== "in-sync"));
  if (detailed.length) {
    lines.push("", "<details><summary>Entries not in sync</summary>", "");
    lines.push("| Stack | Entry | Status | Expected | Actual |", "|---|---|---|---|---|");
    for (const p of detailed) {
      for (const e of p.entries.filter((x) => x.status !== "in-sync")) {
        lines.push(`| \`${md(p.stack)}\` | \`${md(e.name)}\` | ${md(entryStatus(e))} | ${e.expected ?? "—"} | ${e.actual ?? "—"} |`);
      }
    }
    lines.push("", "</details>");
  }
  lines.push("", "Fingerprints are keyed hashes of values, never the values themselves.");
  return lines.join("\n") + "\n";
}

export function driftToJson(r: DriftReport): string {
  return JSON.stringify(r, null, 2) + "\n";
}

const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** JUnit XML: one test case per pair; a pair not in sync fails, an errored pair is an error. */
export function driftToJunit(r: DriftReport): string {
  const failures = r.pairs.filter((p) => p.status !== "in-sync" && p.status !== "error").length;
  const errors = r.pairs.filter((p) => p.status === "error").length;
  const out = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="esc-sync drift" tests="${r.pairs.length}" failures="${failures}" errors="${errors}">`,
    `  <testsuite name="esc-sync drift" tests="${r.pairs.length}" failures="${failures}" errors="${errors}" timestamp="${r.generatedAt}">`,
  ];
  for (const p of r.pairs) {
    const open = `    <testcase classname="${xml(p.environment)}" name="${xml(`${p.environment} → ${p.target}`)}"`;
    const detail = xml([notInSync(p), p.message].filter(Boolean).join("; "));
    if (p.status === "in-sync") out.push(`${open}/>`);
    else if (p.status === "error") out.push(`${open}>`, `      <error message="${detail}" type="error"/>`, `    </testcase>`);
    else out.push(`${open}>`, `      <failure message="${LABEL[p.status]}: ${detail}" type="${p.status}"/>`, `    </testcase>`);
  }
  out.push("  </testsuite>", "</testsuites>");
  return out.join("\n") + "\n";
}

export type DriftFormat = "table" | "markdown" | "json" | "junit";

export const renderDrift: Record<DriftFormat, (r: DriftReport) => string> = {
  table: driftToText,
  markdown: driftToMarkdown,
  json: driftToJson,
  junit: driftToJunit,
};
