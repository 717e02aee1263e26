/**
 * The inventory's outputs: a table for people, Markdown for an audit ticket, CSV for a
 * spreadsheet, JSON (versioned by `schemaVersion`) for scripts. All render the same document.
 */
import { renderTable, tableWidth } from "../reporters/table.js";
import type { z } from "zod";
import type { EntryStatus, InventoryRow } from "./rows.js";
import type { inventoryDocumentSchema } from "./schema.js";

export type InventoryFormat = "table" | "json" | "csv" | "markdown";

/** The inventory as one document (fields described in {@link inventoryDocumentSchema}). */
export type InventoryDocument = z.infer<typeof inventoryDocumentSchema>;

export function summarise(rows: readonly InventoryRow[]): InventoryDocument["summary"] {
  const count = (s: EntryStatus) => rows.filter((r) => r.status === s).length;
  return { entries: rows.length, synced: count("synced"), pending: count("pending"), orphaned: count("orphaned"), refused: count("refused") };
}

const definedIn = (r: InventoryRow) => (r.definedIn ? `${r.definedIn.environment}${r.definedIn.path !== undefined ? `:${r.definedIn.path}` : ""}` : "");
const yesNo = (b: boolean | null) => (b === null ? "?" : b ? "yes" : "no");

/** The columns shared by the table, Markdown and CSV, in order. */
const COLUMNS: readonly [string, (r: InventoryRow) => string][] = [
  ["environment", (r) => r.environment],
  ["path", (r) => r.path ?? ""],
  ["secret", (r) => yesNo(r.secret)],
  ["target", (r) => r.target],
  ["kind", (r) => r.kind],
  ["location", (r) => r.location],
  ["entry", (r) => r.entry],
  ["status", (r) => r.status],
  ["last written", (r) => r.lastWritten ?? ""],
  ["revision", (r) => (r.revision === null ? "" : String(r.revision))],
  ["fingerprint", (r) => r.fingerprint ?? ""],
  ["defined in", definedIn],
];

function summaryLine(doc: InventoryDocument): string {
  const s = doc.summary;
  const what = doc.secret ? ` derived from ${doc.secret}` : "";
  return `${s.entries} entr${s.entries === 1 ? "y" : "ies"}${what}: ${s.synced} synced, ${s.pending} pending, ${s.orphaned} orphaned, ${s.refused} refused`;
}

/**
 * The table's columns: the shared ones, folded to fit a terminal (the kind beside the target, the
 * time to the minute, the revision only where a source has revisions). Markdown, CSV and JSON keep
 * every field whole.
 */
function tableColumns(doc: InventoryDocument): [string, (r: InventoryRow) => string][] {
  const byName = new Map(COLUMNS);
  const col = (name: string): [string, (r: InventoryRow) => string] => [name, byName.get(name)!];
  return [
    col("environment"),
    col("path"),
    col("secret"),
    ["target", (r) => `${r.target} (${r.kind})`],
    col("location"),
    col("entry"),
    col("status"),
    ["last written", (r) => (r.lastWritten ? r.lastWritten.slice(0, 16).replace("T", " ") : "")],
    ...(doc.entries.some((r) => r.revision !== null) ? [col("revision")] : []),
    col("fingerprint"),
    col("defined in"),
  ];
}

/** Left out of a narrow terminal's table, first to last, until it fits (the other formats keep them). */
const DROPPABLE = ["defined in", "path", "last written", "revision", "secret"];

function toTable(doc: InventoryDocument, width?: number): string {
  let columns = tableColumns(doc);
  const left: string[] = [];
  const layout = () => {
    const header = columns.map(([h]) => h.toUpperCase());
    const rows = doc.entries.map((r) => columns.map(([, f]) => f(r)));
    const shrink = ["environment", "path", "location", "entry", "defined in"].map((n) => columns.findIndex(([h]) => h === n)).filter((i) => i >= 0);
    return { header, rows, fit: { width, shrink } };
  };
  let t = layout();
  for (const name of DROPPABLE) {
    if (!width || tableWidth(t.header, t.rows, t.fit) <= width) break;
    if (!columns.some(([h]) => h === name)) continue;
    columns = columns.filter(([h]) => h !== name);
    left.push(name);
    t = layout();
  }
  const note = left.length ? `\n(a narrow terminal: ${left.join(", ")} left out; --output markdown, csv or json show every field)` : "";
  const body = doc.entries.length ? renderTable(t.header, t.rows, t.fit) + note : "(no entries)";
  return `${body}\n\n${summaryLine(doc)}\nprovenance: ${doc.provenance.note}\n`;
}

/** A Markdown table cell: pipes escaped, no line breaks, code-formatted where it is a name. */
const mdCell = (s: string, code = false) => {
  const t = s.replaceAll("\\", "\\\\").replaceAll("|", "\\|").replace(/[\r\n]+/g, " ");
  return code && t ? `\`${t.replaceAll("`", "'")}\`` : t;
};

function toMarkdown(doc: InventoryDocument): string {
  const lines = [
    doc.secret ? `## Where \`${doc.secret}\` lives` : "## esc-sync inventory",
    "",
    `Generated ${doc.generatedAt} from \`${doc.manifest}\` (source: ${doc.source}). ${summaryLine(doc)}.`,
    "",
  ];
  if (doc.entries.length) {
    lines.push("| Environment | Path | Secret | Target | Location | Entry | Status | Last written | Fingerprint | Derived from |", "|---|---|---|---|---|---|---|---|---|---|");
    for (const r of doc.entries) {
      const cells = [
        mdCell(r.environment, true),
        mdCell(r.path ?? "", true),
        yesNo(r.secret),
        `${mdCell(r.target, true)} (${mdCell(r.kind)})`,
        mdCell(r.location, true),
        mdCell(r.entry, true),
        `${r.status}${r.detail ? `: ${mdCell(r.detail)}` : ""}`,
        mdCell(r.lastWritten ?? ""),
        mdCell(r.fingerprint ?? "", true),
        r.derivedFrom.map((d) => mdCell(d, true)).join("<br>"),
      ];
      lines.push(`| ${cells.join(" | ")} |`);
    }
  } else lines.push("No entries.");
  lines.push("", `Provenance: ${mdCell(doc.provenance.note)}`);
  for (const w of doc.warnings) lines.push("", `> warning: ${mdCell(w)}`);
  return lines.join("\n") + "\n";
}

/**
 * One CSV field (RFC 4180). A field a spreadsheet would run as a formula (`=`, `+`, `-`, `@`,
 * tab, CR at the start: entry names are chosen by whoever writes the environments) gets a
 * leading `'`, so that opening the file runs nothing.
 */
function csvField(s: string): string {
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

const CSV_COLUMNS: readonly [string, (r: InventoryRow) => string][] = [
  ...COLUMNS.map(([h, f]) => [h.replaceAll(" ", "_"), f] as [string, (r: InventoryRow) => string]),
  ["binding", (r) => r.binding],
  ["stack", (r) => r.stack],
  ["detail", (r) => r.detail],
  ["derived_from", (r) => r.derivedFrom.join(" ")],
];

function toCsv(doc: InventoryDocument): string {
  const line = (cells: readonly string[]) => cells.map(csvField).join(",");
  return [line(CSV_COLUMNS.map(([h]) => h)), ...doc.entries.map((r) => line(CSV_COLUMNS.map(([, f]) => f(r))))].join("\r\n") + "\r\n";
}

/** Each format; `width` (a terminal's) narrows the table only. */
export const renderInventory: Record<InventoryFormat, (doc: InventoryDocument, width?: number) => string> = {
  table: toTable,
  markdown: toMarkdown,
  csv: toCsv,
  json: (doc) => JSON.stringify(doc, null, 2) + "\n",
};
