/**
 * The drift report end to end: real CLI, file:// backend, `file` targets. Each status the
 * report knows, in the JSON, Markdown and JUnit formats, with the documented exit codes; and
 * `sync --refresh` repairing what it finds. Each test starts from the state it needs (see
 * test/support/states.ts).
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { CliResult, Sandbox } from "../support/sandbox.js";
import { sandboxState } from "../support/states.js";

const CANARY = "canary-drift-5e1f0a";

const manifest = (withExtra: boolean) => `
version: 1
source: { kind: local, folder: environments, org: acme }
state: { backend: file://./state }
targets:
  out: { kind: file, path: "out/{env}.env" }
  extra: { kind: file, path: "out/{env}.extra.json" }
bindings:
  - { environments: "app/*", target: out }
${withExtra ? `  - { environments: "app/calm", target: extra, from: config, shape: json }` : ""}
`;

interface Report {
  version: number;
  summary: { pairs: number; exitCode: number; byStatus: Record<string, number> };
  pairs: { stack: string; status: string; message?: string; entries: { name: string; status: string; expected?: string; actual?: string }[] }[];
}

/** Four environments synced to `out`, one also to `extra`: every pair in sync. */
const synced = sandboxState("synced", async (box) => {
  for (const name of ["calm", "edited", "deleted", "changed"]) {
    box.writeEnvironment("app", name, `values:\n  config: { a: 1 }\n  environmentVariables:\n    TOKEN:\n      fn::secret: ${CANARY}-${name}\n    MODE: "${name}"\n`);
  }
  box.writeManifest(manifest(true));
  const first = await box.run(["sync"]);
  expect(first.code, first.stdout + first.stderr).toBe(0);
  return first;
});

/** One pair of each status: a target edited by hand, one deleted, an environment changed, a binding removed. */
const drifted = synced.next("drifted", (box, first) => {
  writeFileSync(join(box.dir, "out/edited.env"), `MODE=edited\nTOKEN=hand-edited\n`);
  rmSync(join(box.dir, "out/deleted.env"));
  box.writeEnvironment("app", "changed", `values:\n  environmentVariables:\n    TOKEN:\n      fn::secret: ${CANARY}-changed-v2\n    MODE: "changed"\n`);
  box.writeManifest(manifest(false)); // app.calm.extra is now orphaned
  return first;
});

describe("drift", () => {
  afterAll(() => synced.cleanup());

  // Every output a test saw, checked for the canary after each test (the last test checks more).
  const texts: string[] = [];
  afterEach(() => {
    for (const t of texts.splice(0)) expect(t).not.toContain(CANARY);
  });
  const drift = async (box: Sandbox, format: string): Promise<CliResult> => {
    const r = await box.run(["drift", "--format", format]);
    texts.push(r.stdout, r.stderr);
    return r;
  };
  const json = async (box: Sandbox) => {
    const r = await drift(box, "json");
    return { code: r.code, report: JSON.parse(r.stdout) as Report };
  };
  const byStack = (r: Report) => Object.fromEntries(r.pairs.map((p) => [p.stack, p]));

  it("reports every pair in sync right after a sync, exit 0", async () => {
    const { box } = await synced.enter();
    const { code, report } = await json(box);
    expect(code).toBe(0);
    expect(report.version).toBe(1);
    expect(new Set(report.pairs.map((p) => p.status))).toEqual(new Set(["in-sync"]));
    const calm = byStack(report)["app.calm.out"]!;
    expect(calm.entries.map((e) => [e.name, e.status])).toEqual([["MODE", "in-sync"], ["TOKEN", "in-sync"]]);
    const token = calm.entries.find((e) => e.name === "TOKEN")!;
    expect(token.expected).toMatch(/^[0-9a-f]{12}$/);
    expect(token.actual).toBe(token.expected);
  });

  it("tells drifted, missing, pending and orphaned apart, exit 2", async () => {
    const { box } = await drifted.enter();
    const { code, report } = await json(box);
    expect(code).toBe(2);
    const s = byStack(report);
    expect(s["app.calm.out"]!.status).toBe("in-sync");
    expect(s["app.edited.out"]!.status).toBe("drifted");
    expect(s["app.edited.out"]!.entries).toEqual([
      expect.objectContaining({ name: "MODE", status: "in-sync" }),
      expect.objectContaining({ name: "TOKEN", status: "drifted" }),
    ]);
    const edited = s["app.edited.out"]!.entries[1]!;
    expect(edited.actual).not.toBe(edited.expected);
    expect(s["app.deleted.out"]!.status).toBe("missing");
    expect(s["app.changed.out"]!.status).toBe("pending");
    expect(s["app.changed.out"]!.entries.find((e) => e.name === "TOKEN")!.status).toBe("pending");
    expect(s["app.calm.extra"]!.status).toBe("orphaned");
    expect(report.summary.byStatus).toEqual({ "in-sync": 1, drifted: 1, missing: 1, pending: 1, orphaned: 1 });
    // Drift changes no target.
    expect(readFileSync(join(box.dir, "out/edited.env"), "utf8")).toContain("hand-edited");
    expect(readFileSync(join(box.dir, "out/calm.extra.json"), "utf8")).toContain('"a": 1');

    const md = await drift(box, "markdown");
    expect(md.code).toBe(2);
    expect(md.stdout).toMatch(/\| ⚠️ \| `acme\/app\/edited` \| `out` \(file\) \| drifted \| TOKEN \(drifted\) \|/);
    expect(md.stdout).toMatch(/\| ❌ \| `acme\/app\/deleted` .* \| missing \|/);
    expect(md.stdout).toMatch(/\| 🕓 \| `acme\/app\/changed` .* \| pending \|/);
    expect(md.stdout).toMatch(/\| 👻 \| `acme\/app\/calm` \| `extra` .* \| orphaned \|/);
    expect(md.stdout).toMatch(/\| ✅ \| `acme\/app\/calm` \| `out` .* \| in sync \|/);

    const junit = await drift(box, "junit");
    expect(junit.code).toBe(2);
    expect(junit.stdout).toMatch(/<testsuites name="esc-sync drift" tests="5" failures="4" errors="0">/);
    expect(junit.stdout).toMatch(/<failure message="drifted: TOKEN \(drifted\)" type="drifted"\/>/);
  });

  it("writes the report to --out and appends Markdown to $GITHUB_STEP_SUMMARY", async () => {
    const { box } = await drifted.enter();
    const summary = join(box.dir, "step-summary.md");
    writeFileSync(summary, "# before\n");
    const r = await box.run(["drift", "--format", "json", "--out", join(box.dir, "drift.json")], { env: { GITHUB_STEP_SUMMARY: summary } });
    texts.push(r.stdout, r.stderr);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`drift report (json) written to ${join(box.dir, "drift.json")}`);
    const report = JSON.parse(readFileSync(join(box.dir, "drift.json"), "utf8")) as Report;
    expect(report.pairs).toHaveLength(5);
    const md = readFileSync(summary, "utf8");
    expect(md.startsWith("# before\n## esc-sync drift report")).toBe(true);
    texts.push(readFileSync(join(box.dir, "drift.json"), "utf8"), md);
  });

  it("repairs drift with sync --refresh and says what it repaired", async () => {
    const { box } = await drifted.enter();
    const r = await box.run(["sync", "--refresh", "--allow-deletes", "--output", "json"]);
    texts.push(r.stdout, r.stderr);
    expect(r.code, r.stderr).toBe(0);
    const pairs = Object.fromEntries((JSON.parse(r.stdout) as { pairs: { stack: string; status: string; message?: string; repaired?: number }[] }).pairs.map((p) => [p.stack, p]));
    expect(pairs["app.edited.out"]).toMatchObject({ status: "updated", repaired: 1 });
    expect(pairs["app.edited.out"]!.message).toMatch(/repaired 1 entry changed outside esc-sync: TOKEN \(drifted\)/);
    expect(pairs["app.deleted.out"]).toMatchObject({ repaired: 2 });
    expect(pairs["app.calm.extra"]).toMatchObject({ status: "deleted" });
    expect(readFileSync(join(box.dir, "out/edited.env"), "utf8")).toBe(`MODE=edited\nTOKEN=${CANARY}-edited\n`);
    const { code, report } = await json(box);
    expect(code).toBe(0);
    expect(new Set(report.pairs.map((p) => p.status))).toEqual(new Set(["in-sync"]));
  });

  it("exits 1 when a pair errors, and still shows no value", async () => {
    const { box } = await synced.enter();
    box.writeEnvironment("app", "broken", `values:\n  environmentVariables:\n    X: \${nope}\n    S:\n      fn::secret: ${CANARY}-broken\n`);
    const { code, report } = await json(box);
    expect(code).toBe(1);
    expect(byStack(report)["app.broken.out"]).toMatchObject({ status: "error" });
    expect(byStack(report)["app.broken.out"]!.message).toMatch(/environment app\/broken has errors/);
  });

  it("never shows a canary value, in any format", async () => {
    // The formats the tests above read are checked after each of them; here the table, on a run
    // with every status and an error at once, and the first sync's output.
    const { box, value: first } = await drifted.enter();
    box.writeEnvironment("app", "broken", `values:\n  environmentVariables:\n    X: \${nope}\n    S:\n      fn::secret: ${CANARY}-broken\n`);
    const table = await drift(box, "table");
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/drifted/);
    const all = [first.stdout, first.stderr, table.stdout, table.stderr];
    expect(all.filter((t) => t.length > 0).length).toBeGreaterThanOrEqual(2); // there was output to check
    for (const t of all) expect(t).not.toContain(CANARY);
  });
});
