/**
 * "Drift predicts the repair", as a property of the `file` kind's two halves: for any file
 * esc-sync wrote and any edit made to it outside esc-sync, the read-back reports the pair in sync
 * exactly when the provider's `diff` (what the next `sync --refresh` runs) finds nothing to
 * rewrite. The end-to-end version with the real CLI is test/e2e/file-drift.test.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PlannedEntry, Shape, StateResource } from "../../../../programs/contract.js";
import { fileProvider } from "../../../../programs/file/provider.js";
import { FILE_TYPE, readBack } from "../../../../programs/file/readback.js";
import { canonicalText, parseDotenv, renderDotenv, renderFile } from "../../../../programs/file/render.js";
import { compareEntries, pairStatus } from "../../../../orchestrator/drift/compare.js";
import { SecretValue } from "../../../../programs/secret-value.js";
import { dotenvEdit, dotenvName, dotenvValueArb, editDotenv, editJson, jsonEdit, jsonValue, type Disk } from "./edits.js";

const RUNS = Number(process.env.ESC_SYNC_PROPERTY_RUNS ?? 300);

const dotenvEntries = fc.dictionary(dotenvName, dotenvValueArb, { maxKeys: 6 });
const jsonDoc = fc.dictionary(fc.string({ maxLength: 5 }), jsonValue, { maxKeys: 5 });

const octal = (mode: number) => "0" + mode.toString(8).padStart(3, "0");

/** The file's resource after a refresh found `disk`, as the provider's `read` leaves it. */
function refreshed(shape: Shape, entries: PlannedEntry[], disk: Disk): { state: StateResource[]; news: Record<string, unknown> } {
  const news = { path: "/srv/f", content: renderFile(shape, entries), mode: "0600", ...(shape === "json" ? { docName: "app/prod" } : {}) };
  const outputs = disk.text === undefined ? { ...news, content: "", present: false } : { ...news, content: disk.text, mode: octal(disk.mode), present: true };
  return { state: [{ urn: "urn:pulumi:s::esc-sync::pulumi-nodejs:dynamic:Resource::file", type: FILE_TYPE, inputs: news, outputs }], news };
}

/**
 * Drift of a file esc-sync wrote from `entries` and that now holds `disk`, against what ESC holds
 * now (`desired`, by default unchanged), next to the provider's diff of the next sync.
 */
async function predicts(shape: Shape, entries: PlannedEntry[], disk: Disk, desired: PlannedEntry[] = entries): Promise<void> {
  const { state } = refreshed(shape, entries, disk);
  const drift = compareEntries(desired, readBack(state, shape), true, "k");
  const { news } = refreshed(shape, desired, disk);
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

  it("dotenv: the same when ESC changed too, or only seems to (a value set back to what it was)", async () => {
    await fc.assert(
      fc.asyncProperty(dotenvEntries, fc.dictionary(dotenvName, dotenvValueArb, { maxKeys: 3 }), fc.array(dotenvEdit, { maxLength: 3 }), async (m, changes, edits) => {
        const entries = entriesOf(m);
        const desired = entriesOf({ ...m, ...changes });
        const disk = edits.reduce(editDotenv, { text: renderFile("keys", entries), mode: 0o600 } as Disk);
        await predicts("keys", entries, disk, desired);
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
