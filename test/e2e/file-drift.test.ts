/**
 * "Drift predicts the repair" end to end (issue 11, item 2): real CLI, file:// backend, `file`
 * targets. Whatever `sync --refresh` would change in a file esc-sync owns, `drift` reports first;
 * and what `drift` reports, `sync --refresh` repairs, after which `drift` is clean.
 *
 * The property runs ESC_SYNC_E2E_PROPERTY_RUNS cases (each is three CLI runs). By default one: a
 * known case that edits both files, so both must drift and be repaired. Asked for more
 * (`ESC_SYNC_E2E_PROPERTY_RUNS=10`), it also runs the two known-clean cases, then random edits.
 * The breadth lives in the unit property test (test/unit/programs/file/drift-property.test.ts), which runs
 * hundreds of cases without the CLI.
 */
import { chmodSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Sandbox, type CliResult } from "../support/sandbox.js";
import { dotenvEdit, editDotenv, editJson, jsonEdit, type Disk, type Edit, type JsonEdit } from "../unit/programs/file/edits.js";

const CANARY = "canary-file-drift-93d2";
const RUNS = Math.max(1, Number(process.env.ESC_SYNC_E2E_PROPERTY_RUNS ?? 1));
/** Known cases, run first: one that drifts both files (a dotenv line added, a JSON key changed), then two that drift neither. */
const DRIFTS_BOTH: [Edit[], JsonEdit[]] = [[{ op: "add", name: "EXTRA", value: "added by hand" }], [{ op: "set", key: "port", value: 9090 }]];
const CLEAN: [Edit[], JsonEdit[]][] = [
  [[], []],
  // A no-op edit: the mode it has, an empty trailing text.
  [[{ op: "chmod", mode: 0o600 }], [{ op: "trailing", text: "" }]],
];

const MANIFEST = `
version: 1
source: { kind: local, folder: environments, org: acme }
state: { backend: file://./state }
targets:
  dotenv: { kind: file, path: "out/{env}.env" }
  doc: { kind: file, path: "out/{env}.json" }
bindings:
  - { environments: "app/*", target: dotenv }
  - { environments: "app/*", target: doc, from: config, shape: json }
`;

/** Values that need dotenv quoting (spaces, quotes, $, a newline), and a secret canary. */
const ENVIRONMENT = `values:
  config:
    name: app
    port: 8080
    nested: { flag: true, list: [1, "two"] }
  environmentVariables:
    TOKEN:
      fn::secret: ${CANARY}
    GREETING: "say \\"hi\\" to $USER"
    MULTI: "line one\\nline two"
    PLAIN: plain-value_1
`;

interface DriftJson {
  version: number;
  summary: { exitCode: number };
  pairs: { stack: string; location: string; status: string; entries: { name: string; status: string; reason?: string; detail?: string }[] }[];
}
interface SyncJson {
  pairs: { stack: string; status: string; message?: string; repaired?: number }[];
}

describe("file drift predicts the repair", () => {
  const box = new Sandbox();
  const outputs: string[] = [];
  const run = async (args: string[]): Promise<CliResult> => {
    const r = await box.run(args);
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const driftJson = async () => {
    const r = await run(["drift", "--format", "json"]);
    expect([0, 2], r.stderr).toContain(r.code);
    return { code: r.code, report: JSON.parse(r.stdout) as DriftJson };
  };
  const syncRefresh = async () => {
    const r = await run(["sync", "--refresh", "--output", "json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    return Object.fromEntries((JSON.parse(r.stdout) as SyncJson).pairs.map((p) => [p.stack, p]));
  };
  const path = (rel: string) => join(box.dir, rel);
  const disk = (rel: string): Disk => (existsSync(path(rel)) ? { text: readFileSync(path(rel), "utf8"), mode: statSync(path(rel)).mode & 0o777 } : { text: undefined, mode: 0 });
  const put = (rel: string, d: Disk) => {
    if (d.text === undefined) return rmSync(path(rel), { force: true });
    writeFileSync(path(rel), d.text);
    chmodSync(path(rel), d.mode);
  };
  /** What esc-sync wrote, captured right after the first sync. */
  const written: Record<string, Disk> = {};

  beforeAll(async () => {
    box.writeEnvironment("app", "web", ENVIRONMENT);
    box.writeManifest(MANIFEST);
    const r = await run(["sync"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    written["out/web.env"] = disk("out/web.env");
    written["out/web.json"] = disk("out/web.json");
    expect(written["out/web.env"]!.text).toContain("GREETING=");
    expect(written["out/web.json"]!.text).toContain('"port": 8080');
  });
  afterAll(() => box.cleanup());

  it("acceptance: a line appended to a dotenv file esc-sync owns is drift (exit 2, the file and the entry named), sync --refresh repairs it, drift is then clean", async () => {
    expect((await run(["drift"])).code).toBe(0);
    writeFileSync(path("out/web.env"), written["out/web.env"]!.text + `X=1\n`);

    const table = await run(["drift"]);
    expect(table.code, table.stderr).toBe(2);
    expect(table.stdout).toContain(path("out/web.env"));
    expect(table.stdout).toMatch(/X \(drifted: not written by esc-sync\)/);
    const { code, report } = await driftJson();
    expect(code).toBe(2);
    const pair = report.pairs.find((p) => p.stack === "app.web.dotenv")!;
    expect(pair).toMatchObject({ status: "drifted", location: path("out/web.env") });
    expect(pair.entries.filter((e) => e.status !== "in-sync")).toEqual([expect.objectContaining({ name: "X", status: "drifted", reason: "extra" })]);
    expect(report.pairs.find((p) => p.stack === "app.web.doc")!.status).toBe("in-sync");

    const repaired = await syncRefresh();
    expect(repaired["app.web.dotenv"]).toMatchObject({ status: "updated", repaired: 1 });
    expect(repaired["app.web.dotenv"]!.message).toMatch(/X \(drifted\)/);
    expect(repaired["app.web.doc"]).toMatchObject({ status: "unchanged" });
    expect(disk("out/web.env")).toEqual(written["out/web.env"]);

    const after = await run(["drift"]);
    expect(after.code, after.stdout).toBe(0);
  });

  it(`property: drift is clean exactly when sync --refresh changes nothing (${RUNS} case(s) of edits to a dotenv and a JSON file)`, async () => {
    const seen = { clean: 0, drifted: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(dotenvEdit, { maxLength: 3 }), fc.array(jsonEdit, { maxLength: 2 }), async (envEdits, jsonEdits) => {
        // Every run starts from the files esc-sync wrote (the previous run's refresh restored them).
        expect(disk("out/web.env")).toEqual(written["out/web.env"]);
        expect(disk("out/web.json")).toEqual(written["out/web.json"]);
        const edited = {
          "out/web.env": envEdits.reduce(editDotenv, written["out/web.env"]!),
          "out/web.json": jsonEdits.reduce(editJson, written["out/web.json"]!),
        };
        for (const [rel, d] of Object.entries(edited)) put(rel, d);

        const { code, report } = await driftJson();
        const before = { "out/web.env": disk("out/web.env"), "out/web.json": disk("out/web.json") };
        const synced = await syncRefresh();
        const files = { "app.web.dotenv": "out/web.env", "app.web.doc": "out/web.json" } as const;
        for (const [stack, rel] of Object.entries(files)) {
          const clean = report.pairs.find((p) => p.stack === stack)!.status === "in-sync";
          const changedNothing = synced[stack]!.status === "unchanged" && JSON.stringify(disk(rel)) === JSON.stringify(before[rel]);
          expect(clean, `${stack}: drift ${JSON.stringify(report.pairs.find((p) => p.stack === stack))}, sync ${JSON.stringify(synced[stack])}`).toBe(changedNothing);
          // Whatever was reported is repaired: the file is again exactly what esc-sync writes.
          expect(disk(rel)).toEqual(written[rel]);
          seen[clean ? "clean" : "drifted"]++;
        }
        expect(code).toBe(report.pairs.every((p) => p.status === "in-sync") ? 0 : 2);
        expect((await run(["drift"])).code).toBe(0);
      }),
      // fast-check counts the examples in numRuns: the known cases first, random ones after them.
      { numRuns: RUNS, examples: [DRIFTS_BOTH, ...CLEAN] },
    );
    // Both sides of the property were seen: the known drifting case, and the known clean ones when asked for.
    expect(seen.drifted).toBeGreaterThanOrEqual(2);
    expect(seen.clean).toBeGreaterThanOrEqual(2 * Math.min(RUNS - 1, CLEAN.length));
  }, (RUNS + 2) * 90_000);

  it("a pair whose own input changed (the manifest's mode, then its path) is pending in drift: a sync would change it", async () => {
    try {
      box.writeManifest(MANIFEST.replace('dotenv: { kind: file, path: "out/{env}.env" }', 'dotenv: { kind: file, path: "out/{env}.env", mode: "0640" }'));
      const { code, report } = await driftJson();
      expect(code).toBe(2);
      const pair = report.pairs.find((p) => p.stack === "app.web.dotenv")!;
      expect(pair.status).toBe("pending");
      const text = await run(["drift"]);
      expect(text.stdout).toMatch(/input changed since the last sync/);
      box.writeManifest(MANIFEST.replace('dotenv: { kind: file, path: "out/{env}.env" }', 'dotenv: { kind: file, path: "out/moved/{env}.env" }'));
      const moved = await run(["drift"]);
      expect(moved.code).toBe(2);
      expect(moved.stdout).toMatch(/target location changed from .*out\/web\.env to .*out\/moved\/web\.env: a sync would move it/);
    } finally {
      box.writeManifest(MANIFEST);
    }
    expect((await run(["drift"])).code).toBe(0);
  });

  it("never shows the secret canary, in any output or in the state", () => {
    expect(outputs.length).toBeGreaterThan(10);
    for (const o of outputs) expect(o).not.toContain(CANARY);
    expect(box.stateText()).not.toContain(CANARY);
  });
});
