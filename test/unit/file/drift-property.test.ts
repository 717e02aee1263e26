/**
 * "Drift predicts the repair", as a property of the `file` kind's two halves: for any file
 * esc-sync wrote and any edit made to it outside esc-sync, the read-back reports the pair in sync
 * exactly when the provider's `diff` (what the next `sync --refresh` runs) finds nothing to
 * rewrite. The end-to-end version with the real CLI is test/e2e/file-drift.test.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PlannedEntry, Shape, StateResource } from "../../../programs/contract.js";
import { fileProvider } from "../../../programs/file/provider.js";
import { FILE_TYPE, readBack } from "../../../programs/file/readback.js";
import { canonicalText, parseDotenv, renderDotenv, renderFile } from "../../../programs/file/render.js";
import { compareEntries, pairStatus } from "../../../orchestrator/drift/compare.js";
import { SecretValue } from "../../../orchestrator/values.js";

const RUNS = Number(process.env.ESC_SYNC_PROPERTY_RUNS ?? 300);

const name = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,6}$/);
/** Values with what dotenv quoting must survive: spaces, quotes, backslashes, $, newlines, tabs. */
const value = fc.string({ unit: fc.constantFrom("a", "Z", "0", " ", '"', "'", "\\", "$", "\n", "\r", "\t", "#", "=", "é", "-", "/"), maxLength: 12 });
const dotenvEntries = fc.dictionary(name, value, { maxKeys: 6 });
const jsonValue = fc.jsonValue({ maxDepth: 2 });
const jsonDoc = fc.dictionary(fc.string({ maxLength: 5 }), jsonValue, { maxKeys: 5 });

/** An edit made outside esc-sync, to the file's lines or to the file itself. */
type Edit =
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
const dotenvEdit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant("set" as const), at: index, value }),
  fc.record({ op: fc.constant("add" as const), name, value }),
  fc.record({ op: fc.constant("remove" as const), at: index }),
  fc.record({ op: fc.constant("swap" as const), a: index, b: index }),
  fc.record({ op: fc.constant("insert" as const), at: index, line: fc.constantFrom("# comment", "", "   ", "export X=1", "not a line") }),
  fc.record({ op: fc.constant("space" as const), at: index }),
  fc.record({ op: fc.constant("quote" as const), at: index }),
  fc.record({ op: fc.constant("trailing" as const), text: fc.constantFrom("", "\n", " ", "\r") }),
  fc.record({ op: fc.constant("delete" as const) }),
  fc.record({ op: fc.constant("chmod" as const), mode: fc.constantFrom(0o600, 0o644, 0o400, 0o000) }),
);

interface Disk {
  text: string | undefined;
  mode: number;
}

function editDotenv(disk: Disk, edit: Edit): Disk {
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

const jsonEdit = fc.oneof(
  fc.record({ op: fc.constant("set" as const), key: fc.string({ maxLength: 5 }), value: jsonValue }),
  fc.record({ op: fc.constant("remove" as const), at: index }),
  fc.record({ op: fc.constant("reorder" as const), seed: fc.nat() }),
  fc.record({ op: fc.constant("indent" as const), indent: fc.constantFrom(0, 2, 4, "\t") }),
  fc.record({ op: fc.constant("truncate" as const), at: index }),
  fc.record({ op: fc.constant("trailing" as const), text: fc.constantFrom("", "\n", " ") }),
  fc.record({ op: fc.constant("delete" as const) }),
  fc.record({ op: fc.constant("chmod" as const), mode: fc.constantFrom(0o600, 0o640, 0o000) }),
);
type JsonEdit = typeof jsonEdit extends fc.Arbitrary<infer T> ? T : never;

function editJson(disk: Disk, edit: JsonEdit): Disk {
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

const octal = (mode: number) => "0" + mode.toString(8).padStart(3, "0");

/** The file's resource after a refresh found `disk`, as the provider's `read` leaves it. */
function refreshed(shape: Shape, entries: PlannedEntry[], disk: Disk): { state: StateResource[]; news: Record<string, unknown> } {
  const news = { path: "/srv/f", content: renderFile(shape, entries), mode: "0600", ...(shape === "json" ? { docName: "app/prod" } : {}) };
  const outputs = disk.text === undefined ? { ...news, content: "", present: false } : { ...news, content: disk.text, mode: octal(disk.mode), present: true };
  return { state: [{ urn: "urn:pulumi:s::esc-sync::pulumi-nodejs:dynamic:Resource::file", type: FILE_TYPE, inputs: news, outputs }], news };
}

async function predicts(shape: Shape, entries: PlannedEntry[], disk: Disk): Promise<void> {
  const { state, news } = refreshed(shape, entries, disk);
  const drift = compareEntries(entries, readBack(state, shape), true, "k");
  const diff = await fileProvider.diff!("/srv/f", state[0]!.outputs, news);
  expect(pairStatus(drift) === "in-sync", JSON.stringify({ disk, drift })).toBe(diff.changes === false);
}

const entriesOf = (m: Record<string, string>) => Object.entries(m).map(([n, v]) => ({ name: n, value: new SecretValue(v), secret: true }));

describe("file drift predicts the repair (property)", () => {
  it("dotenv: reads back what it writes, and its layout is its own canonical form", () => {
    fc.assert(
      fc.property(dotenvEntries, (m) => {
        const text = renderDotenv(new Map(Object.entries(m)));
        expect(Object.fromEntries(parseDotenv(text))).toEqual(m);
        expect(canonicalText("keys", text)).toBe(text);
      }),
      { numRuns: RUNS },
    );
  });

  it("dotenv: in sync exactly when the provider finds nothing to rewrite, after any edits", async () => {
    await fc.assert(
      fc.asyncProperty(dotenvEntries, fc.array(dotenvEdit, { maxLength: 4 }), async (m, edits) => {
        const entries = entriesOf(m);
        const disk = edits.reduce(editDotenv, { text: renderFile("keys", entries), mode: 0o600 } as Disk);
        await predicts("keys", entries, disk);
      }),
      { numRuns: RUNS },
    );
  });

  it("JSON: in sync exactly when the provider finds nothing to rewrite, after any edits", async () => {
    await fc.assert(
      fc.asyncProperty(jsonDoc, fc.array(jsonEdit, { maxLength: 3 }), async (doc, edits) => {
        const entries = [{ name: "app/prod", value: new SecretValue(JSON.stringify(doc)), secret: true }];
        const disk = edits.reduce(editJson, { text: renderFile("json", entries), mode: 0o600 } as Disk);
        await predicts("json", entries, disk);
      }),
      { numRuns: RUNS },
    );
  });

  it("the edits do reach both answers (a property that only ever saw one side would prove nothing)", async () => {
    const seen = { inSync: 0, drifted: 0 };
    await fc.assert(
      fc.asyncProperty(dotenvEntries, fc.array(dotenvEdit, { maxLength: 2 }), async (m, edits) => {
        const entries = entriesOf(m);
        const disk = edits.reduce(editDotenv, { text: renderFile("keys", entries), mode: 0o600 } as Disk);
        const { state } = refreshed("keys", entries, disk);
        seen[pairStatus(compareEntries(entries, readBack(state, "keys"), true, "k")) === "in-sync" ? "inSync" : "drifted"]++;
      }),
      { numRuns: 200, seed: 11 },
    );
    expect(seen.inSync).toBeGreaterThan(10);
    expect(seen.drifted).toBeGreaterThan(10);
  });
});
