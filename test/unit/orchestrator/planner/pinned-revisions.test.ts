/**
 * Bindings that pin a revision (`revision: 3`, `revision: stable`): the planner reads each binding's
 * revision of an environment, the session opens each (environment, revision) once, and the pair
 * carries the revision into the run plan.
 */
import { fromPlain } from "../../../support/value-nodes.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseManifest } from "../../../../orchestrator/manifest/load.js";
import { decide } from "../../../../orchestrator/planner/decide.js";
import { matchBindings, planPairs as plan, type Pair } from "../../../../orchestrator/planner/plan.js";
import { runPlanToJson, runPlanToText } from "../../../../orchestrator/reporters/plan.js";
import { describeExport } from "../../../../orchestrator/runner/backend-stacks.js";
import { classifyStacks } from "../../../../orchestrator/planner/stacks.js";
import { Session } from "../../../../orchestrator/session.js";
import { EnvironmentError, type EnvironmentSource, type ResolvedEnvironment } from "../../../../orchestrator/sources/source.js";
import { type Plain } from "../../../../orchestrator/values.js";
import { envId, type EnvironmentRef } from "../../../../programs/environment-ref.js";
import { Selection } from "../../../../orchestrator/planner/selection.js";

const MANIFEST = `
version: 1
source: { kind: pulumi-cloud, org: acme }
targets:
  stable: { kind: file, path: "/out/stable/{env}.env" }
  third: { kind: file, path: "/out/third/{env}.env" }
  latest: { kind: file, path: "/out/latest/{env}.env" }
bindings:
  - { environments: "app/*", target: stable, revision: stable }
  - { environments: "app/*", target: third, revision: 3 }
  - { environments: "app/*", target: latest }
`;
const manifest = parseManifest(MANIFEST, "m.yaml");

const ref = (name: string): EnvironmentRef => ({ org: "acme", project: "app", name });
const resolved = (name: string, revision: number, vars: Record<string, Plain>, tag?: string): ResolvedEnvironment => ({
  ref: ref(name),
  properties: { environmentVariables: fromPlain(vars) },
  revision,
  ...(tag ? { tag } : {}),
});
const values = (p: Pair) => Object.fromEntries(p.entries.map((e) => [e.name, e.value.reveal()]));
const byTarget = (pairs: Pair[]) => Object.fromEntries(pairs.map((p) => [p.targetId, p]));

function planWith(pinned: ResolvedEnvironment[], latest: ResolvedEnvironment[], failures = new Map<string, EnvironmentError>()) {
  const refs = [ref("dev")];
  return plan({
    manifest,
    environments: latest,
    pinned: new Map(pinned.map((e) => [`${envId(e.ref)}@${e.tag ?? e.revision}`, e])),
    failures,
    matches: matchBindings(manifest, refs, Selection.all),
    fingerprintKey: "k",
  });
}

describe("planner: pinned revisions", () => {
  const latest = resolved("dev", 5, { V: "five" });
  const stable = resolved("dev", 4, { V: "four" }, "stable");
  const third = resolved("dev", 3, { V: "three" });

  it("reads each binding's revision of the environment, and records which", () => {
    const pairs = byTarget(planWith([stable, third], [latest]).pairs);
    expect(values(pairs.stable!)).toEqual({ V: "four" });
    expect(values(pairs.third!)).toEqual({ V: "three" });
    expect(values(pairs.latest!)).toEqual({ V: "five" });
    expect(pairs.stable!.revision).toEqual({ number: 4, tag: "stable", pinned: true });
    expect(pairs.third!.revision).toEqual({ number: 3, pinned: true });
    expect(pairs.latest!.revision).toEqual({ number: 5 });
  });

  it("refuses a pinned pair whose revision could not be opened, and leaves the others alone", () => {
    const missing = new EnvironmentError(ref("dev"), 'acme/app/dev has no revision tag "stable": tag a revision');
    const pairs = byTarget(planWith([third], [latest], new Map([["app/dev@stable", missing]])).pairs);
    expect(pairs.stable!.refusal).toEqual({ kind: "environment-error", message: missing.message });
    expect(pairs.third!.refusal).toBeUndefined();
    expect(pairs.latest!.refusal).toBeUndefined();
    // Not opened at all: refused too, naming the revision.
    const none = byTarget(planWith([], [latest]).pairs);
    expect(none.third!.refusal).toEqual({ kind: "environment-error", message: "environment acme/app/dev was not opened at revision 3" });
    // The latest revision failing does not refuse a pair pinned to a good one.
    const broken = byTarget(planWith([stable, third], [], new Map([["app/dev", new EnvironmentError(ref("dev"), "latest is broken")]])).pairs);
    expect(broken.latest!.refusal?.kind).toBe("environment-error");
    expect(broken.stable!.refusal).toBeUndefined();
    expect(values(broken.stable!)).toEqual({ V: "four" });
  });

  it("changes a pinned pair's fingerprint when its revision's values or number change, not a latest pair's for the number alone", () => {
    const base = byTarget(planWith([stable, third], [latest]).pairs);
    const newValues = byTarget(planWith([resolved("dev", 6, { V: "six" }, "stable"), third], [latest]).pairs);
    expect(newValues.stable!.fingerprint).not.toBe(base.stable!.fingerprint);
    expect(newValues.third!.fingerprint).toBe(base.third!.fingerprint);
    // The tag moved to a revision holding the same values: still a run, so that the record names it.
    const sameValues = byTarget(planWith([resolved("dev", 6, { V: "four" }, "stable"), third], [latest]).pairs);
    expect(sameValues.stable!.fingerprint).not.toBe(base.stable!.fingerprint);
    // An edit of the latest revision elsewhere in the environment runs no latest pair of it.
    const latestBumped = byTarget(planWith([stable, third], [resolved("dev", 7, { V: "five" })]).pairs);
    expect(latestBumped.latest!.fingerprint).toBe(base.latest!.fingerprint);
  });

  it("names the revision of each step in the run plan JSON and text, and reads it back from a stack record", () => {
    const pairs = planWith([stable, third], [latest]).pairs;
    const run = decide(pairs, classifyStacks([], pairs, Selection.all, new Set(Object.keys(manifest.targets)), new Set()), { operation: "sync", dryRun: true, refresh: false, force: false, deletions: { allowAll: false, max: 0 }, manifest: "m.yaml" });
    const json = runPlanToJson(run);
    expect(Object.fromEntries(json.steps.map((s) => [s.target, s.revision]))).toEqual({
      stable: { number: 4, tag: "stable", pinned: true },
      third: { number: 3, pinned: true },
      latest: { number: 5 },
    });
    const text = runPlanToText(run);
    expect(text).toContain("acme/app/dev at revision 4 (tag stable)");
    expect(text).toContain("acme/app/dev at revision 3 (pinned)");
    const record = { environment: "acme/app/dev", target: "stable", binding: "stable", kind: "file", fingerprint: "f", entries: ["V"], revision: { number: 4, tag: "stable", pinned: true } };
    const exported = { deployment: { resources: [{ type: "pulumi:pulumi:Stack", outputs: { "esc-sync": record } }] } };
    expect(describeExport("app.dev.stable", exported).record?.revision).toEqual({ number: 4, tag: "stable", pinned: true });
    expect(describeExport("app.dev.stable", { deployment: { resources: [{ type: "pulumi:pulumi:Stack", outputs: { "esc-sync": { ...record, revision: "4" } } }] } }).record?.revision).toBeUndefined();
  });
});

/** An ESC organisation in memory: revisions per environment, tags, and a log of what was opened. */
class FakeSource implements EnvironmentSource {
  readonly description = "fake acme";
  readonly opened: string[] = [];
  constructor(
    readonly revisions: Record<string, Record<string, Plain>[]>,
    readonly tags: Record<string, Record<string, number>>,
    readonly brokenLatest = new Set<string>(),
  ) {}
  async list(): Promise<EnvironmentRef[]> {
    return Object.keys(this.revisions).map(ref);
  }
  async open(r: EnvironmentRef, _signal?: AbortSignal, revision?: number | string): Promise<ResolvedEnvironment> {
    this.opened.push(revision === undefined ? r.name : `${r.name}@${revision}`);
    const all = this.revisions[r.name]!;
    if (revision === undefined && this.brokenLatest.has(r.name)) throw new EnvironmentError(r, `environment app/${r.name} has errors`);
    const number = revision === undefined ? all.length : typeof revision === "number" ? revision : this.tags[r.name]?.[revision];
    if (number === undefined || !all[number - 1]) throw new EnvironmentError(r, `app/${r.name} has no revision ${JSON.stringify(revision)}`);
    return { ref: r, properties: { environmentVariables: fromPlain(all[number - 1]!) }, revision: number, ...(typeof revision === "string" ? { tag: revision } : {}) };
  }
}

describe("session: pinned revisions", () => {
  const dir = mkdtempSync(join(tmpdir(), "esc-sync-pins-"));
  const file = join(dir, "environments.yaml");
  writeFileSync(file, MANIFEST);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = { ESC_SYNC_FINGERPRINT_KEY: "k", XDG_STATE_HOME: dir };

  it("opens each (environment, revision) once and plans each binding at its own", async () => {
    const source = new FakeSource(
      {
        dev: [{ V: "d1" }, { V: "d2" }, { V: "d3" }, { V: "d4" }],
        prod: [{ V: "p1" }, { V: "p2" }, { V: "p3" }],
      },
      { dev: { stable: 2 }, prod: { stable: 3 } },
    );
    const session = await Session.open({ manifest: file, env, source });
    const prepared = await session.prepare(Selection.all);
    expect([...source.opened].sort()).toEqual(["dev", "dev@3", "dev@stable", "prod", "prod@3", "prod@stable"]);
    const got = Object.fromEntries(prepared.plan.pairs.map((p) => [p.stack, [values(p).V, p.revision]]));
    expect(got).toEqual({
      "app.dev.stable": ["d2", { number: 2, tag: "stable", pinned: true }],
      "app.dev.third": ["d3", { number: 3, pinned: true }],
      "app.dev.latest": ["d4", { number: 4 }],
      "app.prod.stable": ["p3", { number: 3, tag: "stable", pinned: true }],
      "app.prod.third": ["p3", { number: 3, pinned: true }],
      "app.prod.latest": ["p3", { number: 3 }],
    });
    // Moving the tag: the next cycle reads the revision it points at now.
    source.tags.dev!.stable = 4;
    const again = await session.prepare(Selection.all);
    expect(values(again.plan.pairs.find((p) => p.stack === "app.dev.stable")!)).toEqual({ V: "d4" });
    expect(again.plan.pairs.find((p) => p.stack === "app.dev.stable")!.fingerprint).not.toBe(prepared.plan.pairs.find((p) => p.stack === "app.dev.stable")!.fingerprint);
  });

  it("refuses only the pairs whose revision cannot be opened; a broken latest does not stop pinned pairs", async () => {
    const source = new FakeSource({ dev: [{ V: "d1" }, { V: "d2" }, { V: "d3" }] }, {}, new Set(["dev"]));
    const session = await Session.open({ manifest: file, env, source });
    const prepared = await session.prepare(Selection.all);
    const pairs = byTarget(prepared.plan.pairs);
    expect(pairs.stable!.refusal).toEqual({ kind: "environment-error", message: 'app/dev has no revision "stable"' });
    expect(pairs.third!.refusal).toBeUndefined();
    expect(values(pairs.third!)).toEqual({ V: "d3" });
    expect(pairs.latest!.refusal).toEqual({ kind: "environment-error", message: "environment app/dev has errors" });
  });
});
