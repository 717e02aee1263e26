/**
 * Sharding: a stable, deterministic partition of stacks; the planner and the inventory narrowed
 * to one shard; `--shard` and an Indexed Job's variables parsed with errors that say the fix; the
 * drift reports of n shards merged into the unsharded one. No Pulumi.
 */
import { describe, expect, it } from "vitest";
import { DriftCollector } from "../../../../orchestrator/reporters/drift.js";
import { mergeDriftReports } from "../../../../orchestrator/reporters/drift-merge.js";
import { ConfigError } from "../../../../orchestrator/errors.js";
import { parseManifest } from "../../../../orchestrator/manifest/load.js";
import { Selection, type SelectionSpec } from "../../../../orchestrator/planner/selection.js";
import { matchBindings, planPairs as plan } from "../../../../orchestrator/planner/plan.js";
import { inShard, parseShard, resolveShard, shardOf } from "../../../../orchestrator/planner/shard.js";
import type { PairInfo } from "../../../../orchestrator/runner/events.js";
import { classifyStacks, type ExistingStack } from "../../../../orchestrator/planner/stacks.js";
import type { ResolvedEnvironment } from "../../../../orchestrator/sources/source.js";
import { fromPlain } from "../../../support/value-nodes.js";

const manifest = parseManifest(
  `version: 1
source: { kind: local, folder: envs }
targets:
  dotenv: { kind: file, path: "/out/{project}/{env}.env" }
  json: { kind: file, path: "/out/{project}/{env}.json" }
bindings:
  - { environments: "*/*", target: dotenv }
  - { environments: "*/*", target: json, shape: json }
`,
  "m.yaml",
);

const envs: ResolvedEnvironment[] = Array.from({ length: 60 }, (_, i) => ({
  ref: { org: "acme", project: `p${i % 7}`, name: `e${i}` },
  properties: { environmentVariables: fromPlain({ K: `v${i}` }) },
}));

const planned = (spec: SelectionSpec = {}, sel = Selection.of(spec)) =>
  plan({ manifest, environments: envs, matches: matchBindings(manifest, envs.map((e) => e.ref), sel), fingerprintKey: "k", selection: sel }).pairs.map((p) => p.stack);

describe("shard partition", () => {
  it("is a stable function of the stack name alone", () => {
    // Fixed values: the partition must not change between versions, machines or runs, or shards
    // of two versions would run or skip the same stacks.
    expect(["app.dev.dotenv", "app.dev.json", "p1.e8.dotenv", "payments.prod.aws"].map((s) => [shardOf(s, 3), shardOf(s, 7)])).toEqual([
      [1, 4],
      [2, 6],
      [0, 1],
      [0, 0],
    ]);
    expect(shardOf("app.dev.dotenv", 1)).toBe(0);
  });

  it("puts every planned pair in exactly one of n shards, their union the unsharded plan", () => {
    const all = planned();
    expect(all).toHaveLength(120);
    for (const n of [1, 2, 3, 5]) {
      const parts = Array.from({ length: n }, (_, index) => planned({ shard: { index, count: n } }));
      expect(parts.flat().sort()).toEqual([...all].sort());
      expect(new Set(parts.flat()).size).toBe(all.length);
      // Not all in one shard: the hash spreads the work.
      if (n > 1) for (const p of parts) expect(p.length).toBeGreaterThan(all.length / n / 3);
    }
  });

  it("finds collisions across shards: a pair whose partner is in another shard is still refused", () => {
    const m = parseManifest(`version: 1\nsource: { kind: local, folder: envs }\ntargets:\n  a: { kind: file, path: "/out/{env}.env" }\n  b: { kind: file, path: "/out/{env}.env" }\nbindings:\n  - { environments: "*/*", target: a }\n  - { environments: "*/*", target: b }\n`, "m.yaml");
    const one = envs.slice(0, 20);
    const matches = matchBindings(m, one.map((e) => e.ref), Selection.all);
    const refused = new Set<string>();
    for (const index of [0, 1, 2]) {
      const sel = Selection.of({ shard: { index, count: 3 } });
      for (const p of plan({ manifest: m, environments: one, matches, fingerprintKey: "k", selection: sel }).pairs) if (p.refusal) refused.add(p.stack);
    }
    expect(refused.size).toBe(40);
  });

  it("leaves another shard's stacks out of the inventory: never orphans, leftovers or unknown to this one", () => {
    const stacks: ExistingStack[] = ["p0.gone1.dotenv", "p0.gone2.dotenv", "p0.gone3.dotenv", "p1.gone4.json", "p2.gone5.json", "p3.gone6.dotenv"].map((name) => ({
      name,
      record: { environment: `acme/${name.split(".").slice(0, 2).join("/")}`, target: name.split(".")[2]!, binding: name.split(".")[2]!, kind: "file", fingerprint: "x", entries: ["K"] },
      resources: 1,
      pendingOperations: 0,
    }));
    const leftover: ExistingStack = { name: "p4.empty.dotenv", resources: 0, pendingOperations: 0 };
    const owners: string[][] = [];
    for (const index of [0, 1, 2]) {
      const shard = { index, count: 3 };
      const inv = classifyStacks([...stacks, leftover], [], Selection.of({ shard }), new Set(["dotenv", "json"]));
      const seen = [...inv.orphans, ...inv.leftovers].map((s) => s.name);
      for (const name of seen) expect(inShard(name, shard)).toBe(true);
      expect([...inv.byName.keys()].sort()).toEqual(seen.sort());
      owners.push(seen);
    }
    expect(owners.flat().sort()).toEqual([...stacks.map((s) => s.name), leftover.name].sort());
  });
});

describe("--shard and the Indexed Job's variables", () => {
  it("parses INDEX/COUNT", () => {
    expect(parseShard("1/3")).toEqual({ index: 1, count: 3 });
    expect(parseShard(" 0 / 1 ")).toEqual({ index: 0, count: 1 });
  });

  it.each([
    ["3/3", /--shard 3\/3: the index counts from 0 and must be below the count 3/],
    ["1/0", /the shard count must be at least 1/],
    ["a/3", /--shard a\/3: not INDEX\/COUNT/],
    ["-1/3", /not INDEX\/COUNT/],
    ["1", /not INDEX\/COUNT/],
  ])("refuses %s with what is wrong and how to write it", (text, message) => {
    const err = (() => {
      try {
        parseShard(text);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(message);
    expect((err as ConfigError).message).toMatch(/; write INDEX\/COUNT with 0 ≤ INDEX < COUNT, e\.g\. 0\/3, 1\/3 and 2\/3 for three shards$/);
  });

  it("reads JOB_COMPLETION_INDEX with ESC_SYNC_SHARD_COUNT; --shard wins; none of them is no shard", () => {
    expect(resolveShard(undefined, { JOB_COMPLETION_INDEX: "2", ESC_SYNC_SHARD_COUNT: "4" })).toEqual({ index: 2, count: 4 });
    expect(resolveShard("0/2", { JOB_COMPLETION_INDEX: "2", ESC_SYNC_SHARD_COUNT: "4" })).toEqual({ index: 0, count: 2 });
    expect(resolveShard(undefined, {})).toBeUndefined();
  });

  it("refuses an index without a count (every pod would sync everything), a count without an index, and an index past the count", () => {
    expect(() => resolveShard(undefined, { JOB_COMPLETION_INDEX: "1" })).toThrow(/JOB_COMPLETION_INDEX=1 is set .* but ESC_SYNC_SHARD_COUNT is not/);
    expect(() => resolveShard(undefined, { ESC_SYNC_SHARD_COUNT: "3" })).toThrow(/ESC_SYNC_SHARD_COUNT=3 is set but JOB_COMPLETION_INDEX is not/);
    expect(() => resolveShard(undefined, { JOB_COMPLETION_INDEX: "3", ESC_SYNC_SHARD_COUNT: "3" })).toThrow(/JOB_COMPLETION_INDEX\/ESC_SYNC_SHARD_COUNT 3\/3: the index counts from 0/);
  });
});

describe("drift merge", () => {
  const info = (stack: string): PairInfo => ({ stack, environment: `acme/${stack}`, target: "t", kind: "file", location: `/out/${stack}` }) as PairInfo;
  const statuses = ["in-sync", "drifted", "error", "missing", "in-sync", "pending"] as const;
  const stacks = ["a.x.t", "b.y.t", "c.z.t", "d.w.t", "e.v.t", "f.u.t"];
  function report(names: string[], at: string) {
    const c = new DriftCollector();
    for (const name of names) {
      const status = statuses[stacks.indexOf(name)]!;
      c.sink({ kind: "pair-done", operation: "drift", pair: info(name), drift: { status, entries: [{ name: "K", status: status === "error" ? "in-sync" : status === "missing" ? "missing" : "in-sync" }] } } as never);
    }
    return JSON.parse(JSON.stringify(c.report(new Date(at))));
  }

  it("gives the unsharded report: pairs in stack order, summary and exit code recomputed", () => {
    const whole = report(stacks, "2026-01-01T00:00:03.000Z");
    const parts = [0, 1, 2].map((i) => report(stacks.filter((s) => shardOf(s, 3) === i), `2026-01-01T00:00:0${i + 1}.000Z`));
    const merged = mergeDriftReports(parts.reverse().map((json, i) => ({ file: `s${i}.json`, json })));
    expect(merged).toEqual(whole);
    expect(merged.summary.exitCode).toBe(1);
  });

  it("refuses a stack found in two reports, and a file that is not a drift report, naming each file", () => {
    const a = report(["a.x.t", "b.y.t"], "2026-01-01T00:00:00.000Z");
    const b = report(["b.y.t"], "2026-01-01T00:00:00.000Z");
    expect(() => mergeDriftReports([{ file: "a.json", json: a }, { file: "b.json", json: b }])).toThrow(/b\.json: stack b\.y\.t is also in a\.json/);
    expect(() => mergeDriftReports([{ file: "a.json", json: a }, { file: "plan.json", json: { version: 2, steps: [] } }])).toThrow(/plan\.json: version: not a version 1 drift report/);
  });
});
