/**
 * The `file` kind's read-back: the state a refresh leaves (the provider's `read` outputs) turned
 * into the drift report's entries. Every difference the next `sync --refresh` would rewrite must
 * show: a value, an extra line or key, comments and layout, the mode, the file gone.
 */
import { describe, expect, it } from "vitest";
import type { PlannedEntry, Shape, StateResource } from "../../../../programs/contract.js";
import { FILE_TYPE, readBack } from "../../../../programs/file/readback.js";
import { renderFile } from "../../../../programs/file/render.js";
import { compareEntries, pairStatus } from "../../../../orchestrator/drift/compare.js";
import { driftToMarkdown, driftToText, type DriftReport } from "../../../../orchestrator/reporters/drift.js";
import { SecretValue } from "../../../../programs/secret-value.js";

const CANARY = "canary-readback-7c41";
const entry = (name: string, value: string): PlannedEntry => ({ name, value: new SecretValue(value), secret: true });
const KEYS = [entry("API_URL", "https://api"), entry("TOKEN", `${CANARY} with space`)];
const DOC = { db: { password: CANARY, port: 5432 }, debug: false };
const JSON_ENTRIES = [entry("app/prod", JSON.stringify(DOC))];

/** The file resource as the state holds it after a refresh found `onDisk` (undefined: gone). */
function fileState(shape: Shape, entries: PlannedEntry[], onDisk: string | undefined, opts: { mode?: string; diskMode?: string; adopt?: boolean } = {}): StateResource[] {
  const inputs = {
    path: "/srv/app/.env",
    content: renderFile(shape, entries),
    mode: opts.mode ?? "0600",
    ...(shape === "json" ? { docName: entries[0]!.name } : {}),
    ...(opts.adopt ? { adopt: true } : {}),
  };
  const outputs = onDisk === undefined ? { ...inputs, content: "", present: false } : { ...inputs, content: onDisk, mode: opts.diskMode ?? inputs.mode, present: true };
  return [{ urn: "urn:pulumi:s::esc-sync::pulumi-nodejs:dynamic:Resource::file", type: FILE_TYPE, inputs, outputs }];
}

function drift(shape: Shape, entries: PlannedEntry[], state: StateResource[]) {
  const out = compareEntries(entries, readBack(state, shape), true, "k");
  return { entries: out, status: pairStatus(out), brief: out.filter((e) => e.status !== "in-sync").map((e) => [e.name, e.status, e.reason]) };
}

describe("file read-back: dotenv", () => {
  const written = renderFile("keys", KEYS);

  it("in sync when the file holds exactly what esc-sync wrote", () => {
    expect(drift("keys", KEYS, fileState("keys", KEYS, written))).toMatchObject({ status: "in-sync", brief: [] });
  });

  it("an appended line is an entry of its own: drifted, extra, with a fingerprint and no value", () => {
    const d = drift("keys", KEYS, fileState("keys", KEYS, written + `X=${CANARY}-extra\n`));
    expect(d.status).toBe("drifted");
    expect(d.brief).toEqual([["X", "drifted", "extra"]]);
    expect(d.entries.find((e) => e.name === "X")!.actual).toMatch(/^[0-9a-f]{12}$/);
    expect(JSON.stringify(d.entries)).not.toContain(CANARY);
  });

  it("a changed value and a removed line are the entries themselves", () => {
    const d = drift("keys", KEYS, fileState("keys", KEYS, "API_URL=https://evil\n"));
    expect(d.brief).toEqual([["API_URL", "drifted", undefined], ["TOKEN", "missing", undefined]]);
  });

  it("comments, blank lines, reordering, spacing and other quoting are the file's layout", () => {
    const [api, token] = written.trimEnd().split("\n");
    for (const edited of [
      `# managed by esc-sync\n${written}`,
      `${written}\n`,
      `${token}\n${api}\n`,
      written.replace("API_URL=", "API_URL = "),
      written.replace("API_URL=https://api", 'API_URL="https://api"'),
      written.replace("\n", "\r\n"),
      written.trimEnd(),
      `${written}API_URL=https://api\n`, // the same line twice
    ]) {
      const d = drift("keys", KEYS, fileState("keys", KEYS, edited));
      expect(d.brief, JSON.stringify(edited.replaceAll(CANARY, "…"))).toContainEqual(["(file)", "drifted", "format"]);
    }
  });

  it("a changed mode is the entry (file mode), with both modes", () => {
    const d = drift("keys", KEYS, fileState("keys", KEYS, written, { diskMode: "0644" }));
    expect(d.brief).toEqual([["(file mode)", "drifted", "mode"]]);
    expect(d.entries[0]).toMatchObject({ detail: "0644, esc-sync writes 0600" });
    // "600" in the manifest and "0600" on disk are one mode.
    expect(drift("keys", KEYS, fileState("keys", KEYS, written, { mode: "600", diskMode: "0600" })).status).toBe("in-sync");
    expect(drift("keys", KEYS, fileState("keys", KEYS, written, { diskMode: "00" })).brief).toEqual([["(file mode)", "drifted", "mode"]]);
  });

  it("a deleted file: every entry missing; a file that held none is missing itself", () => {
    expect(drift("keys", KEYS, fileState("keys", KEYS, undefined)).brief).toEqual([["API_URL", "missing", undefined], ["TOKEN", "missing", undefined]]);
    expect(drift("keys", [], fileState("keys", [], undefined)).brief).toEqual([["(file)", "missing", undefined]]);
  });

  it("a line ESC has just gained and someone also added by hand is pending, once", () => {
    const gained = [...KEYS, entry("NEW", "n")];
    const d = drift("keys", gained, fileState("keys", KEYS, written + "NEW=n\n"));
    expect(d.entries.filter((e) => e.name === "NEW")).toEqual([expect.objectContaining({ status: "pending" })]);
  });

  it("an adopted file not yet synced: its layout, mode and extra lines are pending, since the next sync rewrites them", () => {
    const d = drift("keys", KEYS, fileState("keys", KEYS, `# theirs\n${written}THEIRS=1\n`, { adopt: true, diskMode: "0644" }));
    expect(d.brief).toEqual([["(file mode)", "pending", "mode"], ["(file)", "pending", "format"], ["THEIRS", "pending", undefined]]);
    expect(d.status).toBe("pending");
  });
});

describe("file read-back: JSON", () => {
  const written = renderFile("json", JSON_ENTRIES);

  it("in sync when the file holds exactly what esc-sync wrote", () => {
    expect(drift("json", JSON_ENTRIES, fileState("json", JSON_ENTRIES, written)).status).toBe("in-sync");
  });

  it("a key added to the document: the document drifted, the key named as an extra entry", () => {
    const d = drift("json", JSON_ENTRIES, fileState("json", JSON_ENTRIES, JSON.stringify({ ...DOC, added: CANARY }, null, 2) + "\n"));
    expect(d.brief).toEqual([["app/prod", "drifted", undefined], ["app/prod#/added", "drifted", "extra"]]);
    expect(JSON.stringify(d.entries)).not.toContain(CANARY);
  });

  it("reordered keys and other spacing are the layout, the document itself in sync", () => {
    for (const edited of [JSON.stringify({ debug: false, db: DOC.db }, null, 2) + "\n", JSON.stringify(DOC), JSON.stringify(DOC, null, 4) + "\n"]) {
      const d = drift("json", JSON_ENTRIES, fileState("json", JSON_ENTRIES, edited));
      expect(d.brief).toEqual([["(file)", "drifted", "format"]]);
    }
  });

  it("a file that is not JSON any more: the document drifted", () => {
    const d = drift("json", JSON_ENTRIES, fileState("json", JSON_ENTRIES, written.slice(0, 10)));
    expect(d.brief).toContainEqual(["app/prod", "drifted", undefined]);
  });
});

describe("the drift report names the finding", () => {
  it("says what an extra entry, the layout and the mode are, in text and Markdown", () => {
    const written = renderFile("keys", KEYS);
    const entries = compareEntries(KEYS, readBack(fileState("keys", KEYS, `# hi\n${written}X=1\n`, { diskMode: "0644" }), "keys"), true, "k");
    const report: DriftReport = {
      version: 1,
      generatedAt: "2026-01-01T00:00:00.000Z",
      summary: { pairs: 1, byStatus: { drifted: 1 }, exitCode: 2 },
      pairs: [{ stack: "app.prod.out", environment: "acme/app/prod", target: "out", kind: "file", location: "/srv/app/.env", status: "drifted", entries }],
    };
    const text = driftToText(report);
    expect(text).toMatch(/app\.prod\.out +acme\/app\/prod → out +\/srv\/app\/\.env +drifted/);
    expect(text).toContain("X (drifted: not written by esc-sync)");
    expect(text).toContain("(file) (drifted: comments, blank lines, order, spacing or quoting differ from what esc-sync writes)");
    expect(text).toContain("(file mode) (drifted: 0644, esc-sync writes 0600)");
    expect(driftToMarkdown(report)).toContain("| `app.prod.out` | `X` | drifted: not written by esc-sync |");
  });
});
