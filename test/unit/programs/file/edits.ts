/**
 * Edits made to a file outside esc-sync, as fast-check arbitraries, and their effect on the file:
 * for the property tests of "drift predicts the repair" (a unit one on the read-back and the
 * provider, an end-to-end one with the real CLI).
 */
import fc from "fast-check";

/** What is on disk: the text (undefined: the file is gone) and the mode. */
export interface Disk {
  text: string | undefined;
  mode: number;
}

export const dotenvName = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,6}$/);
/** Values with what dotenv quoting must survive: spaces, quotes, backslashes, $, newlines, tabs. */
export const dotenvValueArb = fc.string({ unit: fc.constantFrom("a", "Z", "0", " ", '"', "'", "\\", "$", "\n", "\r", "\t", "#", "=", "é", "-", "/"), maxLength: 12 });
export const jsonValue = fc.jsonValue({ maxDepth: 2 });
const name = dotenvName;
const value = dotenvValueArb;

/** An edit made outside esc-sync, to the file's lines or to the file itself. */
export type Edit =
  | { op: "set"; at: number; value: string }
  | { op: "add"; name: string; value: string }
  | { op: "remove"; at: number }
  | { op: "swap"; a: number; b: number }
  | { op: "insert"; at: number; line: string }
  | { op: "space"; at: number }
  | { op: "quote"; at: number }
  | { op: "trailing"; text: string }
  | { op: "delete" }
  | { op: "chmod"; mode: number };

const index = fc.nat(20);
/**
 * Modes an edit may set. Not 0o000: a file its owner cannot read fails the refresh (an error,
 * exit 1) for any user but root, which is a different answer from the one under test.
 */
const modes = fc.constantFrom(0o600, 0o644, 0o640, 0o400);
export const dotenvEdit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant("set" as const), at: index, value }),
  fc.record({ op: fc.constant("add" as const), name, value }),
  fc.record({ op: fc.constant("remove" as const), at: index }),
  fc.record({ op: fc.constant("swap" as const), a: index, b: index }),
  fc.record({ op: fc.constant("insert" as const), at: index, line: fc.constantFrom("# comment", "", "   ", "export X=1", "not a line") }),
  fc.record({ op: fc.constant("space" as const), at: index }),
  fc.record({ op: fc.constant("quote" as const), at: index }),
  fc.record({ op: fc.constant("trailing" as const), text: fc.constantFrom("", "\n", " ", "\r") }),
  fc.record({ op: fc.constant("delete" as const) }),
  fc.record({ op: fc.constant("chmod" as const), mode: modes }),
);

export function editDotenv(disk: Disk, edit: Edit): Disk {
  if (disk.text === undefined) return disk;
  const lines = disk.text.split("\n");
  const at = (i: number) => i % Math.max(lines.length, 1);
  const quoted = (v: string) => '"' + v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\$/g, "\\$") + '"';
  switch (edit.op) {
    case "set": {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(lines[at(edit.at)] ?? "");
      if (m) lines[at(edit.at)] = `${m[1]}=${quoted(edit.value)}`;
      break;
    }
    case "add":
      lines.splice(Math.max(lines.length - 1, 0), 0, `${edit.name}=${quoted(edit.value)}`);
      break;
    case "remove":
      lines.splice(at(edit.at), 1);
      break;
    case "swap": {
      const [a, b] = [at(edit.a), at(edit.b)];
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      break;
    }
    case "insert":
      lines.splice(at(edit.at), 0, edit.line);
      break;
    case "space":
      lines[at(edit.at)] = (lines[at(edit.at)] ?? "").replace("=", "= ");
      break;
    case "quote": {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=([A-Za-z0-9_./:@%+,=-]*)$/.exec(lines[at(edit.at)] ?? "");
      if (m) lines[at(edit.at)] = `${m[1]}="${m[2]}"`;
      break;
    }
    case "trailing":
      return { ...disk, text: disk.text + edit.text };
    case "delete":
      return { ...disk, text: undefined };
    case "chmod":
      return { ...disk, mode: edit.mode };
  }
  return { ...disk, text: lines.join("\n") };
}

export const jsonEdit = fc.oneof(
  fc.record({ op: fc.constant("set" as const), key: fc.string({ maxLength: 5 }), value: jsonValue }),
  fc.record({ op: fc.constant("remove" as const), at: index }),
  fc.record({ op: fc.constant("reorder" as const), seed: fc.nat() }),
  fc.record({ op: fc.constant("indent" as const), indent: fc.constantFrom(0, 2, 4, "\t") }),
  fc.record({ op: fc.constant("truncate" as const), at: index }),
  fc.record({ op: fc.constant("trailing" as const), text: fc.constantFrom("", "\n", " ") }),
  fc.record({ op: fc.constant("delete" as const) }),
  fc.record({ op: fc.constant("chmod" as const), mode: modes }),
);
export type JsonEdit = typeof jsonEdit extends fc.Arbitrary<infer T> ? T : never;

export function editJson(disk: Disk, edit: JsonEdit): Disk {
  if (disk.text === undefined) return disk;
  if (edit.op === "delete") return { ...disk, text: undefined };
  if (edit.op === "chmod") return { ...disk, mode: edit.mode };
  if (edit.op === "trailing") return { ...disk, text: disk.text + edit.text };
  if (edit.op === "truncate") return { ...disk, text: disk.text.slice(0, edit.at) };
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(disk.text) as Record<string, unknown>;
  } catch {
    return disk;
  }
  const keys = Object.keys(doc);
  if (edit.op === "set") doc = { ...doc, [edit.key]: edit.value };
  if (edit.op === "remove" && keys.length) {
    const { [keys[edit.at % keys.length]!]: _, ...rest } = doc;
    doc = rest;
  }
  if (edit.op === "reorder") {
    const shuffled = [...keys].sort((a, b) => ((a.length * 31 + edit.seed) % 7) - ((b.length * 31 + edit.seed) % 7) || (a < b ? 1 : -1));
    doc = Object.fromEntries(shuffled.map((k) => [k, doc[k]]));
  }
  const indent = edit.op === "indent" ? edit.indent : 2;
  return { ...disk, text: JSON.stringify(doc, null, indent) + (indent === 0 ? "" : "\n") };
}

