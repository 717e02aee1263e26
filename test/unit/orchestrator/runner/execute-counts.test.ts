/**
 * The runner's accounting with no engine at all: steps decided not to run (unchanged, refused,
 * held, skipped, reported) are each reported once; the header's pair count is the summary's; a
 * refused or held pair makes the exit code 1. And the live table keeps each pair's hint.
 */
import { describe, expect, it } from "vitest";
import { decide } from "../../../../orchestrator/planner/decide.js";
import type { Pair } from "../../../../orchestrator/planner/plan.js";
import { liveReporter } from "../../../../orchestrator/reporters/run.js";
import type { RunEvent } from "../../../../orchestrator/runner/events.js";
import { execute } from "../../../../orchestrator/runner/execute.js";
import { classifyStacks, type ExistingStack } from "../../../../orchestrator/planner/stacks.js";
import { filePair } from "../../../support/pairs.js";
import { Selection } from "../../../../orchestrator/planner/selection.js";

const pair = (name: string, extra: Partial<Pair> = {}): Pair => filePair(name, { entryNames: ["K"], valueFor: () => "v", secret: false, ...extra });
const stack = (name: string, entries: string[], fingerprint = `fp-${name}`): ExistingStack => ({
  name: `app.${name}.out`,
  record: { environment: `o/app/${name}`, target: "out", binding: "out", kind: "file", fingerprint, entries, location: `/out/${name}.env`, manifest: "/m.yaml" },
  resources: 1,
  pendingOperations: 0,
});

describe("execute without the engine", () => {
  it("reports each step once; the header's count is the summary's; refused and held fail the run", async () => {
    const pairs = [pair("same"), pair("bad", { refusal: { kind: "environment-error", message: "broken" } }), pair("drops"), pair("none", { refusal: { kind: "no-value", message: "nothing" } })];
    const stacks = [stack("same", ["K"]), stack("drops", ["K", "OLD"], "fp-old"), stack("gone", ["X"])];
    const plan = decide(pairs, classifyStacks(stacks, pairs, Selection.all, new Set(["out"])), { operation: "sync", dryRun: false, refresh: false, force: false, deletions: { allowAll: false, max: 0 }, manifest: "/m.yaml" });
    const events: RunEvent[] = [];
    const summary = await execute(plan, {
      backend: { url: "file:///nowhere", secretsProvider: "passphrase" },
      toolchain: { command: {} as never, env: { ESC_SYNC_RUN: "test-run-mark" } },
      concurrency: 2,
      emit: (e) => events.push(e),
      fingerprintKey: "k",
      staleLockMs: 0,
      lockWaitMs: 0,
      pairTimeoutMs: 60_000,
      graceMs: 1_000,
      manifest: "/m.yaml",
    });
    const start = events.find((e) => e.kind === "run-start")!;
    const done = events.filter((e) => e.kind === "pair-done");
    expect(start.kind === "run-start" && start.pairs.length).toBe(5);
    expect(summary.pairs).toBe(5);
    expect(done).toHaveLength(5);
    expect(Object.fromEntries(done.map((e) => (e.kind === "pair-done" ? [e.pair.stack, e.status] : [])))).toEqual({
      "app.same.out": "unchanged",
      "app.bad.out": "refused",
      "app.drops.out": "held",
      "app.none.out": "skipped",
      "app.gone.out": "held",
    });
    expect(summary).toMatchObject({ failed: 3, exitCode: 1 });
  });
});

describe("the live table", () => {
  it("keeps each pair's hint, and ends with the summary", () => {
    let out = "";
    const stream = { isTTY: true, columns: 100, rows: 30, write: (t: string) => ((out += t), true), on: () => stream, off: () => stream, once: () => stream } as unknown as NodeJS.WriteStream;
    const r = liveReporter(stream);
    const info = { stack: "app.a.out", environment: "o/app/a", target: "out", kind: "file", location: "/x", entries: [], fingerprint: "" };
    r.sink({ kind: "pair-done", pair: info, operation: "sync", step: "report", status: "held", changes: { create: 0, update: 0, delete: 0, replace: 0, same: 0 }, message: "would delete 1 entry (K)", hint: "run again with --allow-deletes", durationMs: 1, at: 0 });
    r.sink({ kind: "run-done", operation: "sync", summary: { pairs: 1, byStatus: { held: 1 }, failed: 1, durationMs: 10, exitCode: 1 }, at: 0 });
    r.finish();
    expect(out).toContain("held: would delete 1 entry (K)");
    expect(out).toContain("hint (app.a.out): run again with --allow-deletes");
    expect(out).toContain("1 pair(s): 1 held");
  });
});
