/**
 * The report of `migrate import`: one row per store entry with its status, and the totals; as a
 * text table or one JSON document. Names, keys and reasons only: never a value.
 */
import { renderTable } from "../reporters/table.js";
import type { ImportResult } from "./import.js";
import { IMPORT_STATUSES, type ImportItem, type ImportStatus } from "./plan.js";

/** The JSON document of `migrate import --output json`. */
export interface ImportReport {
  operation: "migrate-import";
  from: { target: string; kind: string; location: string };
  /** `org/project/name`. */
  into: string;
  /** The property path the keys were written under. */
  path: string;
  dryRun: boolean;
  written: boolean;
  created: boolean;
  revision?: number;
  secrets: ImportItem[];
  totals: Record<ImportStatus, number>;
  /** Why the run as a whole failed or wrote nothing (a concurrent edit, an unreadable store). */
  error?: string;
  exitCode: number;
}

export function buildReport(
  base: Pick<ImportReport, "from" | "into" | "path" | "dryRun">,
  result: ImportResult | undefined,
  error?: string,
): ImportReport {
  const items = result?.items ?? [];
  const totals = result?.totals ?? (Object.fromEntries(IMPORT_STATUSES.map((s) => [s, 0])) as Record<ImportStatus, number>);
  const problem = error ?? result?.concurrentEdit;
  const exitCode = problem !== undefined || totals.conflict > 0 || totals.failed > 0 ? 1 : 0;
  return {
    operation: "migrate-import",
    ...base,
    written: result?.written ?? false,
    created: result?.created ?? false,
    ...(result?.revision !== undefined ? { revision: result.revision } : {}),
    secrets: items,
    totals,
    ...(problem !== undefined ? { error: problem } : {}),
    exitCode,
  };
}

export function reportToText(report: ImportReport): string {
  const lines: string[] = [];
  lines.push(
    `migrate import: ${report.from.target} (${report.from.kind}, ${report.from.location}) → ${report.into}` +
      `${report.path ? ` at ${report.path}` : ""}${report.dryRun ? "  [dry run]" : ""}`,
  );
  if (report.secrets.length > 0) {
    lines.push("");
    lines.push(
      renderTable(
        ["NAME", "KEY", "STATUS", "DETAIL"],
        report.secrets.map((s) => [s.name, s.key ?? "-", statusLabel(s, report.dryRun), detail(s, report.dryRun)]),
      ),
    );
  } else if (report.error === undefined) {
    lines.push("", "No entry of the store matches the prefix and filters.");
  }
  lines.push("");
  const t = report.totals;
  lines.push(`${t.imported} ${report.dryRun ? "to import" : "imported"}, ${t.unchanged} unchanged, ${t.conflict} conflict${t.conflict === 1 ? "" : "s"}, ${t.skipped} skipped, ${t.failed} failed`);
  if (report.error !== undefined) lines.push(`error: ${report.error}`);
  else if (report.dryRun) {
    const adds = report.secrets.filter((s) => s.action === "add").length;
    const updates = report.secrets.filter((s) => s.action === "update").length;
    lines.push(
      adds + updates === 0
        ? "Dry run: nothing would change."
        : `Dry run: would add ${adds} key${adds === 1 ? "" : "s"} and change ${updates}${report.created ? `, creating ${report.into}` : ""}; nothing written.`,
    );
  } else if (report.written) {
    lines.push(`Wrote ${report.into}${report.revision !== undefined ? ` (revision ${report.revision})` : ""}${report.created ? ", created" : ""}.`);
  } else {
    lines.push("Nothing to write: the environment already holds every value.");
  }
  if (report.totals.conflict > 0 && report.error === undefined) lines.push("Conflicting keys were left as they are: --overwrite replaces them.");
  return lines.join("\n");
}

function statusLabel(item: ImportItem, dryRun: boolean): string {
  return item.status === "imported" && dryRun ? "to import" : item.status;
}

function detail(item: ImportItem, dryRun: boolean): string {
  if (item.status !== "imported") return item.reason ?? "";
  const verb = item.action === "update" ? (dryRun ? "would change" : "changed") : dryRun ? "would add" : "added";
  return item.reason ? `${verb}: ${item.reason}` : verb;
}
