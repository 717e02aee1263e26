/**
 * The run plan: every decision computed from (pairs, inventory, flags) with no Pulumi at all.
 * run (and why), skip-unchanged, skip, hold (the deletion guard), adopt, move, destroy-orphan,
 * report and refuse.
 */
import { describe, expect, it } from "vitest";
import { decide, type Decision, type RunFlags } from "../../../../orchestrator/planner/decide.js";
import { parseManifest } from "../../../../orchestrator/manifest/load.js";
import { matchBindings, planPairs, type Pair } from "../../../../orchestrator/planner/plan.js";
import { runPlanToJson, runPlanToText } from "../../../../orchestrator/reporters/plan.js";
import { classifyStacks, type ExistingStack, type StackRecord } from "../../../../orchestrator/planner/stacks.js";
import { filePair, type FilePairOptions } from "../../../support/pairs.js";
import { Selection } from "../../../../orchestrator/planner/selection.js";

const MANIFEST = "/repo/environments.yaml";
const CANARY = "canary-run-plan-77a1";

const pair = (name: string, opts: FilePairOptions = {}): Pair => filePair(name, { valueFor: (n) => `${CANARY}-${n}`, ...opts });

function stack(name: string, record: Partial<StackRecord> | undefined, extra: Partial<ExistingStack> = {}): ExistingStack {
  return {
    name,
    ...(record
      ? { record: { environment: `o/app/${name.split(".")[1]}`, target: "out", binding: "out", kind: "file", fingerprint: "", entries: [], location: `/out/${name.split(".")[1]}.env`, manifest: MANIFEST, ...record } }
      : {}),
    resources: 1,
    pendingOperations: 0,
    ...extra,
  };
}

const flags = (f: Partial<RunFlags> = {}): RunFlags => ({
  operation: "sync",
  dryRun: false,
  refresh: false,
  force: false,
  deletions: { allowAll: false, max: 0 },
  manifest: MANIFEST,
  ...f,
});

function plan(pairs: Pair[], stacks: ExistingStack[], f: Partial<RunFlags> = {}) {
  const inventory = classifyStacks(stacks, pairs, Selection.all, new Set(["out"]));
  const runPlan = decide(pairs, inventory, flags(f));
  const by = Object.fromEntries(runPlan.steps.map((s) => [s.stack, s.decision])) as Record<string, Decision>;
  return { runPlan, by };
}

describe("run plan: pairs", () => {
  it("runs a new pair, and says so", () => {
    expect(plan([pair("a")], []).by["app.a.out"]).toEqual({ action: "run", why: "new", deletes: [] });
  });

  it("skips a pair whose input is unchanged since its last update", () => {
    expect(plan([pair("a")], [stack("app.a.out", { fingerprint: "fp-a", entries: ["A", "B"] })]).by["app.a.out"]).toEqual({ action: "skip-unchanged" });
  });

  it("runs a changed pair; --force and --refresh run an unchanged one, each with its reason", () => {
    const changed = [stack("app.a.out", { fingerprint: "old", entries: ["A", "B"] })];
    expect(plan([pair("a")], changed).by["app.a.out"]).toMatchObject({ action: "run", why: "input-changed" });
    const same = [stack("app.a.out", { fingerprint: "fp-a", entries: ["A", "B"] })];
    expect(plan([pair("a")], same, { force: true }).by["app.a.out"]).toMatchObject({ action: "run", why: "forced" });
    expect(plan([pair("a")], same, { refresh: true }).by["app.a.out"]).toMatchObject({ action: "run", why: "refresh" });
  });

  it("runs a pair left with pending operations, and one whose last update adopted entries", () => {
    expect(plan([pair("a")], [stack("app.a.out", { fingerprint: "fp-a" }, { pendingOperations: 2 })]).by["app.a.out"]).toMatchObject({ why: "pending-operations" });
    expect(plan([pair("a")], [stack("app.a.out", { fingerprint: "adopted:fp-a", entries: ["A", "B"] })]).by["app.a.out"]).toMatchObject({ why: "adopted-entries" });
  });

  it("refuses a pair the plan found wrong, with the problem and a hint; skips one with nothing to write", () => {
    const bad = pair("a", { refusal: { kind: "invalid-entries", problems: [{ name: "A", message: "too long" }] } });
    const none = pair("b", { refusal: { kind: "no-value", message: "no value at environmentVariables" } });
    const { by } = plan([bad, none], []);
    expect(by["app.a.out"]).toMatchObject({ action: "refuse", message: expect.stringContaining("too long"), hint: expect.any(String) });
    expect(by["app.b.out"]).toEqual({ action: "skip", why: "no value at environmentVariables" });
  });
});

describe("run plan: the deletion guard", () => {
  // a deletes 1, b deletes 2, c none, d deletes 2
  const pairs = [pair("a", { entryNames: ["K"] }), pair("b", { entryNames: ["K"] }), pair("c", { entryNames: ["K"] }), pair("d", { entryNames: ["K"] })];
  const stacks = [
    stack("app.a.out", { entries: ["K", "A1"] }),
    stack("app.b.out", { entries: ["K", "B1", "B2"] }),
    stack("app.c.out", { entries: ["K"] }),
    stack("app.d.out", { entries: ["K", "D1", "D2"] }),
  ];
  const held = (f: Partial<RunFlags>) =>
    Object.entries(plan(pairs, stacks, f).by)
      .filter(([, d]) => d.action === "hold")
      .map(([s]) => s.split(".")[1]);

  it("holds every pair that would delete, by default", () => {
    expect(held({})).toEqual(["a", "b", "d"]);
  });
  it("holds nothing with --allow-deletes", () => {
    expect(held({ deletions: { allowAll: true, max: 0 } })).toEqual([]);
  });
  it("spends --max-deletes in stack order, holding a pair that does not fit whole", () => {
    expect(held({ deletions: { allowAll: false, max: 3 } })).toEqual(["d"]);
    expect(held({ deletions: { allowAll: false, max: 2 } })).toEqual(["b", "d"]);
  });
  it("says what would go and how to allow it", () => {
    const d = plan(pairs, stacks).by["app.b.out"];
    expect(d).toMatchObject({ action: "hold", of: "update", deletes: ["B1", "B2"] });
    expect(d && "message" in d && d.message).toBe("would delete 2 entries (B1, B2); nothing changed");
    expect(d && "hint" in d && d.hint).toBe("run again with --allow-deletes, or --max-deletes 2 or more");
  });
  it("counts nothing for a binding that retains its entries", () => {
    const kept = pairs.map((p) => ({ ...p, retainOnDelete: true }));
    expect(Object.values(plan(kept, stacks).by).some((d) => d.action === "hold")).toBe(false);
  });
});

describe("run plan: moves", () => {
  it("a changed location is a move that deletes the old entries: held without --allow-deletes", () => {
    const moved = pair("a", { location: "/elsewhere/a.env", settings: { path: "/elsewhere/a.env" } });
    const stacks = [stack("app.a.out", { fingerprint: "fp-old", entries: ["A", "B"] })];
    expect(plan([moved], stacks).by["app.a.out"]).toMatchObject({ action: "hold", of: "move", deletes: ["A", "B"], message: expect.stringContaining("from /out/a.env to /elsewhere/a.env") });
    expect(plan([moved], stacks, { deletions: { allowAll: true, max: 0 } }).by["app.a.out"]).toEqual({ action: "move", from: "/out/a.env", to: "/elsewhere/a.env", deletes: ["A", "B"] });
  });

  it("a region changed in the manifest: the planner's aws-secrets-manager pair moves, and the guard holds it", () => {
    const pairsIn = (region: string) => {
      const m = parseManifest(
        `version: 1\nsource: { kind: local, folder: e }\ntargets:\n  out: { kind: aws-secrets-manager, region: ${region} }\nbindings:\n  - { environments: "app/*", target: out, name: "{env}/{key}" }\n`,
        "m.yaml",
      );
      const env = { ref: { org: "o", project: "app", name: "a" }, properties: { environmentVariables: { value: { K: { value: "v", secret: true } } } } };
      return planPairs({ manifest: m, environments: [env], matches: matchBindings(m, [env.ref], Selection.all), fingerprintKey: "k" }).pairs;
    };
    const [before] = pairsIn("eu-west-1");
    const stacks = [stack("app.a.out", { kind: "aws-secrets-manager", location: before!.location, fingerprint: before!.fingerprint, entries: before!.entries.map((e) => e.name) })];
    expect(plan(pairsIn("eu-west-1"), stacks).by["app.a.out"]).toEqual({ action: "skip-unchanged" });
    expect(plan(pairsIn("us-east-1"), stacks).by["app.a.out"]).toMatchObject({ action: "hold", of: "move", deletes: ["a/K"], message: expect.stringContaining("from eu-west-1 to us-east-1") });
  });

  it("a region change of a cloud kind is a move too", () => {
    const aws = (region: string) => pair("a", { kind: "aws-secrets-manager", settings: { region }, location: region });
    const stacks = [stack("app.a.out", { kind: "aws-secrets-manager", location: "eu-west-1", entries: ["A", "B"] })];
    expect(plan([aws("us-east-1")], stacks).by["app.a.out"]).toMatchObject({ action: "hold", of: "move", deletes: ["A", "B"] });
    expect(plan([aws("eu-west-1")], stacks).by["app.a.out"]).toMatchObject({ action: "run", why: "input-changed" });
  });

  it("a stack last written from another manifest names it, and the fix", () => {
    const other = [stack("app.a.out", { fingerprint: "fp-a", entries: ["A", "B"], location: "/other-clone/out/a.env", manifest: "/other-clone/environments.yaml" })];
    const d = plan([pair("a")], other).by["app.a.out"]!;
    expect(d).toMatchObject({ action: "hold", of: "move" });
    expect(JSON.stringify(d)).toContain("/other-clone/environments.yaml");
    expect(JSON.stringify(d)).toMatch(/its own state backend/);
  });

  it("the same place from another manifest is taken over visibly, never silently", () => {
    const other = [stack("app.a.out", { fingerprint: "fp-a", entries: ["A", "B"], manifest: "/other-clone/environments.yaml" })];
    expect(plan([pair("a")], other).by["app.a.out"]).toMatchObject({ action: "run", note: expect.stringContaining("/other-clone/environments.yaml") });
  });
});

describe("run plan: orphans, adoption, drift, prune", () => {
  const orphan = stack("app.gone.out", { entries: ["X", "Y"] });

  it("destroys an orphan only as the guard allows; a dry run reports it", () => {
    expect(plan([], [orphan]).by["app.gone.out"]).toMatchObject({ action: "hold", of: "destroy-orphan", deletes: ["X", "Y"] });
    expect(plan([], [orphan], { deletions: { allowAll: true, max: 0 } }).by["app.gone.out"]).toEqual({ action: "destroy-orphan", entries: ["X", "Y"] });
    expect(plan([], [orphan], { dryRun: true }).by["app.gone.out"]).toEqual({ action: "report", why: "orphan" });
  });

  it("prune plans the orphans only", () => {
    const { runPlan } = plan([pair("a")], [orphan], { operation: "prune", deletions: { allowAll: true, max: 0 } });
    expect(runPlan.steps.map((s) => [s.stack, s.decision.action])).toEqual([["app.gone.out", "destroy-orphan"]]);
  });

  it("adopt plans only the pairs with entries to adopt", () => {
    const adopt = new Map([["app.b.out", new Set(["B", "A"])]]);
    const { runPlan } = plan([pair("a"), pair("b")], [], { operation: "adopt", adopt });
    expect(runPlan.steps.map((s) => [s.stack, s.decision])).toEqual([["app.b.out", { action: "adopt", names: ["A", "B"] }]]);
  });

  it("drift inspects synced pairs, reports never-synced ones and orphans, and deletes nothing", () => {
    const { by } = plan([pair("a"), pair("b")], [stack("app.a.out", { fingerprint: "fp-a", entries: ["A", "B"] }), orphan], { operation: "drift", dryRun: true });
    expect(by).toEqual({
      "app.a.out": { action: "run", why: "inspect", deletes: [] },
      "app.b.out": { action: "report", why: "never-synced" },
      "app.gone.out": { action: "report", why: "orphan" },
    });
  });

  it("warns about the stacks of a binding that selects nothing, and leaves them alone", () => {
    const inventory = classifyStacks([orphan], [], Selection.all, new Set(["out"]), new Set(["out"]));
    const runPlan = decide([], inventory, flags({ deletions: { allowAll: true, max: 0 } }));
    expect(runPlan.steps).toEqual([]);
    expect(runPlan.warnings.join("\n")).toMatch(/binding "out" selects no environment, but stack app\.gone\.out/);
  });
});

describe("run plan: output", () => {
  it("prints decisions, entries and reasons, and never a value", () => {
    const { runPlan } = plan([pair("a"), pair("b", { refusal: { kind: "environment-error", message: "env has errors" } })], []);
    const json = JSON.stringify(runPlanToJson(runPlan));
    const text = runPlanToText(runPlan);
    for (const out of [json, text]) expect(out).not.toContain(CANARY);
    expect(text).toMatch(/app\.a\.out .* run: new/);
    expect(text).toMatch(/app\.b\.out: refused: env has errors/);
    expect(runPlanToJson(runPlan).steps[0]).toMatchObject({ stack: "app.a.out", entries: [{ name: "A", secret: true }, { name: "B", secret: true }], decision: { action: "run", why: "new" } });
  });
});
