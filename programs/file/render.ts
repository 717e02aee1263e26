/**
 * Turns a pair's entries into the text of its file: a JSON document for the `json` shape, a
 * dotenv file for the `keys` shape.
 */
import type { PlannedEntry, Shape } from "../contract.js";

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
