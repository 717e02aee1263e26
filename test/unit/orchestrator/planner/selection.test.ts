/** The one selection of a run: environments, targets and shard, asked the same way everywhere. */
import { describe, expect, it } from "vitest";
import { Selection } from "../../../../orchestrator/planner/selection.js";
import { shardOf } from "../../../../orchestrator/planner/shard.js";

const ref = (project: string, name: string) => ({ org: "acme", project, name });

describe("Selection", () => {
  it("selects everything when no flag narrows it", () => {
    const all = Selection.all;
    expect(all.includesEnvironment(ref("app", "dev"))).toBe(true);
    expect(all.includesTarget("anything")).toBe(true);
    expect(all.includesRecord({ environment: "acme/app/dev", target: "t" })).toBe(true);
    expect(all.ownsStack("app.dev.t")).toBe(true);
    expect(all.narrowed).toBe(false);
    expect(all.filtersEnvironments).toBe(false);
  });

  it("matches --filter globs against project/name, never the organisation", () => {
    const sel = Selection.of({ filter: ["app/*"] });
    expect(sel.includesEnvironment(ref("app", "dev"))).toBe(true);
    expect(sel.includesEnvironment(ref("other", "dev"))).toBe(false);
    // An organisation named like the project does not make a match.
    expect(sel.includesEnvironment({ org: "app", project: "other", name: "dev" })).toBe(false);
    expect(sel.includesEnvironmentId("app/prod")).toBe(true);
    expect(sel.narrowed).toBe(true);
  });

  it("narrows the targets with --target", () => {
    const sel = Selection.of({ targets: ["a"] });
    expect(sel.includesPair(ref("app", "dev"), "a")).toBe(true);
    expect(sel.includesPair(ref("app", "dev"), "b")).toBe(false);
    expect(sel.filtersEnvironments).toBe(false);
    expect(sel.narrowed).toBe(true);
  });

  it("reads a stack's record as the pair it came from: its target and the project/name of its org/project/name", () => {
    const sel = Selection.of({ filter: ["app/*"], targets: ["t"] });
    expect(sel.includesRecord({ environment: "acme/app/dev", target: "t" })).toBe(true);
    expect(sel.includesRecord({ environment: "acme/other/dev", target: "t" })).toBe(false);
    expect(sel.includesRecord({ environment: "acme/app/dev", target: "u" })).toBe(false);
    // The organisation is not part of what a glob matches.
    expect(Selection.of({ filter: ["acme/*"] }).includesRecord({ environment: "acme/app/dev", target: "t" })).toBe(false);
    // A record whose environment has no organisation part matches no glob (as before: nothing to match).
    expect(sel.includesRecord({ environment: "dev", target: "t" })).toBe(false);
  });

  it("owns exactly the stacks its shard hashes to, and the shards together own each stack once", () => {
    const stacks = Array.from({ length: 60 }, (_, i) => `p.e${i}.t`);
    const shards = [0, 1, 2].map((index) => Selection.of({ shard: { index, count: 3 } }));
    for (const s of stacks) {
      const owners = shards.filter((sel) => sel.ownsStack(s));
      expect(owners).toHaveLength(1);
      expect(owners[0]!.shard!.index).toBe(shardOf(s, 3));
    }
  });

  it("narrows to some environments for a serve cycle, keeping targets and shard, and accepts an empty result", () => {
    const base = Selection.of({ filter: ["app/*"], targets: ["t"], shard: { index: 1, count: 2 } });
    const cycle = base.narrowedTo(["other/x"]);
    expect(cycle.includesEnvironmentId("other/x")).toBe(true);
    expect(cycle.includesEnvironmentId("app/dev")).toBe(false);
    expect(cycle.targets).toEqual(["t"]);
    expect(cycle.shard).toEqual({ index: 1, count: 2 });
    expect(cycle.allowEmpty).toBe(true);
    expect(base.allowEmpty).toBe(false);
    expect(base.acceptingEmpty().allowEmpty).toBe(true);
    expect(base.acceptingEmpty().filter).toEqual(["app/*"]);
  });

  it("copies the flags it is built from: changing them afterwards changes nothing", () => {
    const filter = ["app/*"];
    const sel = Selection.of({ filter });
    filter.push("other/*");
    expect(sel.includesEnvironmentId("other/x")).toBe(false);
  });
});
