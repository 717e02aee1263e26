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
    if (!doc) return "{}\n";
    return JSON.stringify(JSON.parse(doc.value.reveal()), null, 2) + "\n";
  }
  const lines = [...entries]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((e) => `${e.name}=${dotenvValue(e.value.reveal())}`);
  return lines.join("\n") + (lines.length ? "\n" : "");
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
