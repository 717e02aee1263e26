/**
 * What the runner does for each step, as the plan says it: computed by `decide()` from the pairs,
 * the stacks' records and the flags, with no Pulumi. The decisions the runner used to make itself
 * (a dry run of a new pair, drift's "input moved on", the notes of an update, which steps need
 * the engine) are tested here as data.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../../../orchestrator/errors.js";
import { decide, type RunFlags, type RunPlan } from "../../../../orchestrator/planner/decide.js";
import type { Pair } from "../../../../orchestrator/planner/plan.js";
import { Selection } from "../../../../orchestrator/planner/selection.js";
import { classifyStacks, type ExistingStack, type StackRecord } from "../../../../orchestrator/planner/stacks.js";
import { needsEngine, type StepWork } from "../../../../orchestrator/planner/work.js";
import { Session } from "../../../../orchestrator/session.js";
import { filePair } from "../../../support/pairs.js";

const MANIFEST = "/repo/environments.yaml";

function stack(name: string, record: Partial<StackRecord> | undefined, extra: Partial<ExistingStack> = {}): ExistingStack {
  const env = name.split(".")[1]!;
  return {
    name,
    ...(record ? { record: { environment: `o/app/${env}`, target: "out", binding: "out", kind: "file", fingerprint: `fp-${env}`, entries: ["A", "B"], location: `/out/${env}.env`, manifest: MANIFEST, ...record } } : {}),
    resources: 1,
    pendingOperations: 0,
    ...extra,
  };
}

function planOf(pairs: Pair[], stacks: ExistingStack[], f: Partial<RunFlags> = {}): RunPlan {
  const flags: RunFlags = { operation: "sync", dryRun: false, refresh: false, force: false, deletions: { allowAll: false, max: 0 }, manifest: MANIFEST, ...f };
  return decide(pairs, classifyStacks(stacks, pairs, Selection.all, new Set(["out"])), flags);
}
const work = (pairs: Pair[], stacks: ExistingStack[], f: Partial<RunFlags> = {}): Record<string, StepWork> =>
  Object.fromEntries(planOf(pairs, stacks, f).steps.map((s) => [s.stack, s.does]));

describe("the plan's work: sync", () => {
  it("updates a new pair, with nothing to delete, refresh or recover", () => {
    expect(work([filePair("a")], [])["app.a.out"]).toEqual({ kind: "up", operation: "sync", why: "new", deletes: [], refreshFirst: false, recoverPending: 0, notes: [] });
  });

  it("updates a changed pair with the entries it deletes; --force says so", () => {
    const stacks = [stack("app.a.out", { fingerprint: "old", entries: ["A", "B", "GONE"] })];
    expect(work([filePair("a")], stacks, { deletions: { allowAll: true, max: 0 } })["app.a.out"]).toMatchObject({ kind: "up", why: "input-changed", deletes: ["GONE"], notes: [] });
    expect(work([filePair("a")], [stack("app.a.out", {})], { force: true })["app.a.out"]).toMatchObject({ kind: "up", why: "forced", notes: ["forced"] });
  });

  it("reads the store back first with --refresh, or when the store changed in place, but never for a new pair", () => {
    const synced = [stack("app.a.out", {})];
    expect(work([filePair("a")], synced, { refresh: true })["app.a.out"]).toMatchObject({ kind: "up", refreshFirst: true });
    expect(work([filePair("a")], synced, { changedInPlace: new Map([["app.a.out", "A was edited"]]) })["app.a.out"]).toMatchObject({ kind: "up", why: "changed-in-place", refreshFirst: true, notes: ["A was edited"] });
    expect(work([filePair("a")], [], { refresh: true })["app.a.out"]).toMatchObject({ kind: "up", refreshFirst: false });
  });

  it("recovers the operations an interrupted run left, and writes over adopted entries with a note", () => {
    expect(work([filePair("a")], [stack("app.a.out", {}, { pendingOperations: 2 })])["app.a.out"]).toMatchObject({ kind: "up", why: "pending-operations", recoverPending: 2 });
    expect(work([filePair("a")], [stack("app.a.out", { fingerprint: "adopted:fp-a" })])["app.a.out"]).toMatchObject({ kind: "up", why: "adopted-entries", notes: ["writes ESC's values over the adopted entries"] });
  });

  it("moves a pair whose location changed, deleting at the old place, naming another manifest's stack", () => {
    const moved = [stack("app.a.out", { location: "/old/a.env", manifest: "/other/m.yaml" })];
    expect(work([filePair("a")], moved, { deletions: { allowAll: true, max: 0 } })["app.a.out"]).toMatchObject({
      kind: "up",
      why: "move",
      move: { from: "/old/a.env", to: "/out/a.env" },
      deletes: ["A", "B"],
      notes: [expect.stringMatching(/last written from another manifest \(\/other\/m\.yaml\)/)],
    });
  });

  it("adopts the entries found in the store", () => {
    const adopt = new Map([["app.a.out", new Set(["B", "A"])]]);
    expect(work([filePair("a")], [], { operation: "adopt", adopt })["app.a.out"]).toMatchObject({ kind: "up", why: "adopt", adopt: ["A", "B"], deletes: [] });
  });

  it("destroys an orphan the guard allows; reports a held one as held, of a destroy", () => {
    const orphan = [stack("app.gone.out", { entries: ["X"] })];
    expect(work([], orphan, { deletions: { allowAll: true, max: 0 } })["app.gone.out"]).toEqual({ kind: "destroy", operation: "destroy", entries: ["X"] });
    expect(work([], orphan)["app.gone.out"]).toMatchObject({ kind: "report", operation: "destroy", status: "held", message: expect.stringMatching(/would delete 1 entry \(X\)/) });
  });

  it("reports what runs nothing with the status it ends in", () => {
    const p = work(
      [filePair("same"), filePair("bad", { refusal: { kind: "environment-error", message: "it broke" } }), filePair("none", { refusal: { kind: "no-value", message: "nothing at x" } })],
      [stack("app.same.out", {})],
    );
    expect(p["app.same.out"]).toEqual({ kind: "report", operation: "sync", status: "unchanged" });
    expect(p["app.bad.out"]).toMatchObject({ kind: "report", status: "refused", message: "it broke", hint: expect.stringMatching(/fix the environment/) });
    expect(p["app.none.out"]).toEqual({ kind: "report", operation: "sync", status: "skipped", message: "nothing at x" });
  });
});

describe("the plan's work: dry run", () => {
  it("a new pair would create its entries, known without the engine (a dry run creates no stack)", () => {
    expect(work([filePair("a")], [], { dryRun: true })["app.a.out"]).toMatchObject({ kind: "preview", operation: "preview", why: "new", wouldCreate: ["A", "B"] });
  });

  it("a synced pair is previewed, with what it would delete or move", () => {
    const changed = [stack("app.a.out", { fingerprint: "old", entries: ["A", "B", "GONE"] })];
    const p = work([filePair("a")], changed, { dryRun: true, deletions: { allowAll: true, max: 0 } })["app.a.out"]!;
    expect(p).toMatchObject({ kind: "preview", message: "would delete GONE", refresh: false });
    expect(p).not.toHaveProperty("wouldCreate");
    const moved = [stack("app.a.out", { location: "/old/a.env" })];
    expect(work([filePair("a")], moved, { dryRun: true, deletions: { allowAll: true, max: 0 } })["app.a.out"]).toMatchObject({ kind: "preview", message: "would move from /old/a.env to /out/a.env" });
    expect(work([filePair("a")], [stack("app.a.out", {})], { dryRun: true, refresh: true })["app.a.out"]).toMatchObject({ kind: "preview", refresh: true });
  });

  it("an orphan is reported as a change pending, with the entries a sync would delete", () => {
    expect(work([], [stack("app.gone.out", { entries: ["X", "Y"] })], { dryRun: true })["app.gone.out"]).toEqual({
      kind: "report",
      operation: "preview",
      status: "changes-pending",
      message: "its environment or binding no longer exists: would delete X, Y; `esc-sync sync` (or prune) removes it",
    });
  });
});

describe("the plan's work: drift", () => {
  const drift = { operation: "drift" as const, dryRun: true };

  it("inspects a synced pair; one whose input moved on since its record says why a sync would still write", () => {
    expect(work([filePair("a")], [stack("app.a.out", {})], drift)["app.a.out"]).toEqual({ kind: "inspect", operation: "drift", recoverPending: 0 });
    expect(work([filePair("a")], [stack("app.a.out", { fingerprint: "old" })], drift)["app.a.out"]).toMatchObject({
      kind: "inspect",
      inputMovedOn: "its input changed since the last sync (settings, names or values): a sync would rewrite it",
    });
    expect(work([filePair("a")], [stack("app.a.out", { fingerprint: "old", location: "/old/a.env" })], drift)["app.a.out"]).toMatchObject({
      kind: "inspect",
      inputMovedOn: "its target location changed from /old/a.env to /out/a.env: a sync would move it",
    });
  });

  it("reports a pair never synced, an orphan and a refused pair as a drift report shows them", () => {
    const p = work([filePair("new"), filePair("empty", { entryNames: [] }), filePair("bad", { refusal: { kind: "environment-error", message: "it broke" } })], [stack("app.gone.out", {})], drift);
    expect(p["app.new.out"]).toEqual({ kind: "report", operation: "drift", status: "changes-pending", message: "never synced", drift: "never-synced" });
    expect(p["app.empty.out"]).toMatchObject({ kind: "report", status: "unchanged", drift: "never-synced" });
    expect(p["app.gone.out"]).toMatchObject({ kind: "report", operation: "drift", status: "changes-pending", drift: "orphaned" });
    expect(p["app.bad.out"]).toMatchObject({ kind: "report", operation: "drift", status: "failed", drift: "error", message: "it broke" });
  });

  it("names the run's engine operation once: sync, preview (dry run) or drift", () => {
    expect(planOf([], []).engineOperation).toBe("sync");
    expect(planOf([], [], { dryRun: true }).engineOperation).toBe("preview");
    expect(planOf([], [], drift).engineOperation).toBe("drift");
    expect(planOf([], [], { operation: "prune", dryRun: true }).engineOperation).toBe("preview");
  });
});

describe("which steps need the engine", () => {
  it("every kind of work but a report: an orphan's destroy included (it decrypts the state too)", () => {
    const kinds: StepWork[] = [
      { kind: "up", operation: "sync", why: "new", deletes: [], refreshFirst: false, recoverPending: 0, notes: [] },
      { kind: "preview", operation: "preview", why: "new", deletes: [], refresh: false, recoverPending: 0, notes: [] },
      { kind: "inspect", operation: "drift", recoverPending: 0 },
      { kind: "destroy", operation: "destroy", entries: ["X"] },
    ];
    for (const k of kinds) expect(needsEngine(k)).toBe(true);
    expect(needsEngine({ kind: "report", operation: "sync", status: "unchanged" })).toBe(false);
  });

  describe("a run whose only engine step destroys an orphan", () => {
    const dir = mkdtempSync(join(tmpdir(), "esc-sync-work-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("asks for the passphrase before any engine runs (the session and the runner share the one list)", async () => {
      const manifest = join(dir, "m.yaml");
      writeFileSync(manifest, `version: 1\nsource: { kind: local, folder: envs }\nstate: { backend: "file://${dir}/state" }\ntargets:\n  out: { kind: file, path: "/out/{env}.env" }\n`);
      const session = await Session.open({ manifest, env: { XDG_STATE_HOME: join(dir, "xdg"), ESC_SYNC_FINGERPRINT_KEY: "k" } });
      const runPlan = planOf([], [stack("app.gone.out", { entries: ["X"] })], { deletions: { allowAll: true, max: 0 } });
      expect(runPlan.steps.map((s) => s.does.kind)).toEqual(["destroy"]);
      const err = await session.execute(runPlan, { emit: () => undefined }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toMatch(/passphrase secrets provider needs PULUMI_CONFIG_PASSPHRASE/);
      // A plan with nothing for the engine asks for none.
      const quiet = planOf([], [stack("app.gone.out", { entries: ["X"] })], { dryRun: true });
      expect(quiet.steps.some((s) => needsEngine(s.does))).toBe(false);
    });
  });
});
