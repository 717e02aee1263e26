/**
 * Turns a pair's entries into the text of its file: a JSON document for the `json` shape, a
 * dotenv file for the `keys` shape.
 */
import type { PlannedEntry, Shape } from "../contract.js";

/** The json shape's single entry has no name in the file: the document is the file. */
export const DOC = "(document)";

/** Characters a dotenv value may hold without quotes. */
const BARE_VALUE = /^[A-Za-z0-9_./:@%+,=-]*$/;

/**
 * Quotes a dotenv value when it needs it. Double quotes with `\\`, `\"`, `\n`, `\r`, `\t` and
 * `\$` escapes: what python-dotenv, docker compose and the `dotenv` family read back.
 */
export function dotenvValue(value: string): string {
  if (BARE_VALUE.test(value)) return value;
  const escaped = value
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/\n/g, "\\n")
    .replace(/\r/g, "\\r")
    .replace(/\t/g, "\\t")
    .replace(/\$/g, "\\$");
  return `"${escaped}"`;
}

/** The file's text. Reveals the values: call it only inside the program. */
export function renderFile(shape: Shape, entries: readonly PlannedEntry[]): string {
  if (shape === "json") {
    const [doc] = entries;
    return renderJson(doc ? JSON.parse(doc.value.reveal()) : {});
  }
  return renderDotenv(new Map(entries.map((e) => [e.name, e.value.reveal()])));
}

/** A dotenv file's text: one `NAME=value` line per entry, sorted by name. */
export function renderDotenv(entries: ReadonlyMap<string, string>): string {
  const lines = [...entries]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${dotenvValue(value)}`);
  return lines.join("\n") + (lines.length ? "\n" : "");
}

/** A JSON file's text: the document pretty-printed, as {@link renderFile} writes it. */
export function renderJson(doc: unknown): string {
  return JSON.stringify(doc, null, 2) + "\n";
}

/**
 * The text esc-sync would write for the values a file holds now: `text` itself when the file is
 * laid out as esc-sync writes it. Undefined for a JSON file that is not JSON.
 */
export function canonicalText(shape: Shape, text: string): string | undefined {
  if (shape === "keys") return renderDotenv(parseDotenv(text));
  try {
    return renderJson(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** Reads a dotenv file written by {@link renderFile} back into name → value. */
export function parseDotenv(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    const raw = m[2]!;
    const quoted = /^"((?:[^"\\]|\\.)*)"\s*$/.exec(raw);
    const value = quoted
      ? quoted[1]!.replace(/\\(.)/g, (_, c: string) => ({ n: "\n", r: "\r", t: "\t" })[c] ?? c)
      : raw.trim();
    out.set(m[1]!, value);
  }
  return out;
}

/** A file's content as entries: name → value text, for comparison with planned entries. */
export function fileEntries(shape: Shape, content: string, docName: string): Map<string, string> {
  if (shape === "keys") return parseDotenv(content);
  try {
    return new Map([[docName, JSON.stringify(JSON.parse(content))]]);
  } catch {
    // Not JSON any more (edited by hand): still a value, and one that differs.
    return new Map([[docName, content]]);
  }
}
