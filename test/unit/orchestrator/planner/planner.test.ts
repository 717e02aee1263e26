import { describe, expect, it } from "vitest";
import { fromPlain } from "../../../support/value-nodes.js";
import { parseManifest } from "../../../../orchestrator/manifest/load.js";
import { Selection, type SelectionSpec } from "../../../../orchestrator/planner/selection.js";
import { matchBindings, planPairs as plan, stackName } from "../../../../orchestrator/planner/plan.js";
import { decide } from "../../../../orchestrator/planner/decide.js";
import { runPlanToJson, runPlanToText } from "../../../../orchestrator/reporters/plan.js";
import { classifyStacks } from "../../../../orchestrator/planner/stacks.js";
import { EnvironmentError, type ResolvedEnvironment } from "../../../../orchestrator/sources/source.js";
import { type EnvironmentRef } from "../../../../programs/environment-ref.js";
import { type Plain, type ValueNode } from "../../../../orchestrator/values.js";

const CANARY = "canary-Zq8-secret-value";

const manifest = parseManifest(
  `
version: 1
source: { kind: local, folder: envs }
targets:
  dotenv: { kind: file, path: "/out/{project}/{env}.env" }
  json: { kind: file, path: "/out/{project}/{env}.json" }
bindings:
  - environments: "app/*"
    exclude: "app/skip"
    target: dotenv
  - environments: ["app/dev", "other/*"]
    target: json
    from: config
    shape: json
`,
  "m.yaml",
);

const ref = (project: string, name: string): EnvironmentRef => ({ org: "acme", project, name });

function env(project: string, name: string, values: Record<string, ValueNode>): ResolvedEnvironment {
  return { ref: ref(project, name), properties: values };
}
const plainEnv = (project: string, name: string, values: Record<string, Plain>) =>
  env(project, name, Object.fromEntries(Object.entries(values).map(([k, v]) => [k, fromPlain(v)])));

function planFor(envs: ResolvedEnvironment[], spec: SelectionSpec = {}, failures?: Map<string, EnvironmentError>) {
  const refs = [...envs.map((e) => e.ref), ...[...(failures?.values() ?? [])].map((f) => f.ref)];
  return plan({ manifest, environments: envs, failures, matches: matchBindings(manifest, refs, Selection.of(spec)), fingerprintKey: "k" });
}

const dev = () =>
  env("app", "dev", {
    environmentVariables: fromPlain({ HOST: "db.local", PORT: 5432, FLAGS: { a: true } }),
    secretVar: { value: { TOKEN: { value: CANARY, secret: true } } },
    config: { value: { url: { value: "https://x" }, password: { value: CANARY, secret: true } } },
  });

describe("planner", () => {
  it("makes one pair per (environment, target) with templated names and stable stack names", () => {
    const p = planFor([dev(), plainEnv("app", "skip", { environmentVariables: { A: "1" } }), plainEnv("other", "x", { config: { a: 1 } })]);
    expect(p.pairs.map((x) => x.stack).sort()).toEqual(["app.dev.dotenv", "app.dev.json", "other.x.json"]);
    const dotenv = p.pairs.find((x) => x.stack === "app.dev.dotenv")!;
    expect(dotenv.location).toBe("/out/app/dev.env");
    expect(dotenv.entries.map((e) => [e.name, e.value.reveal()])).toEqual([
      ["HOST", "db.local"],
      ["PORT", "5432"],
      ["FLAGS", '{"a":true}'],
    ]);
    const json = p.pairs.find((x) => x.stack === "app.dev.json")!;
    expect(json.entries).toHaveLength(1);
    expect(JSON.parse(json.entries[0]!.value.reveal())).toEqual({ url: "https://x", password: CANARY });
    expect(json.entries[0]!.secret).toBe(true);
    expect(dotenv.entries.every((e) => !e.secret)).toBe(true);
  });

  it("sanitises stack names to what Pulumi allows", () => {
    expect(stackName(ref("my proj", "dev/x"), "t")).toBe("my_proj.dev_x.t");
  });

  it("fingerprints change exactly when a pair's input changes", () => {
    const a = planFor([dev(), plainEnv("other", "x", { config: { a: 1 } })]);
    const b = planFor([dev(), plainEnv("other", "x", { config: { a: 2 } })]);
    const fp = (p: typeof a, stack: string) => p.pairs.find((x) => x.stack === stack)!.fingerprint;
    expect(fp(a, "app.dev.dotenv")).toBe(fp(b, "app.dev.dotenv"));
    expect(fp(a, "other.x.json")).not.toBe(fp(b, "other.x.json"));
    expect(fp(a, "app.dev.dotenv")).toMatch(/^[0-9a-f]{16}$/);
    // Keyed: the same input under another key gives another fingerprint.
    const other = plan({ manifest, environments: [dev()], matches: matchBindings(manifest, [dev().ref], Selection.all), fingerprintKey: "other" });
    expect(other.pairs.find((x) => x.stack === "app.dev.dotenv")!.fingerprint).not.toBe(fp(a, "app.dev.dotenv"));
  });

  it("narrows by --filter and --target", () => {
    const envs = [dev(), plainEnv("other", "x", { config: { a: 1 } })];
    expect(planFor(envs, { filter: ["other/*"] }).pairs.map((p) => p.stack)).toEqual(["other.x.json"]);
    expect(planFor(envs, { targets: ["dotenv"] }).pairs.map((p) => p.stack)).toEqual(["app.dev.dotenv"]);
  });

  it("blocks a pair whose names break the store's rules, and only that pair", () => {
    const bad = plainEnv("app", "bad", { environmentVariables: { "not-a-var": "x", OK: "y" } });
    const p = planFor([bad, dev()]);
    const blocked = p.pairs.find((x) => x.stack === "app.bad.dotenv")!;
    expect(blocked.refusal?.kind).toBe("invalid-entries");
    expect(blocked.refusal?.kind === "invalid-entries" && blocked.refusal.problems.map((x) => x.message)).toEqual([
      expect.stringMatching(/"not-a-var" is not a dotenv variable name: it must start with a letter or _/),
    ]);
    expect(p.pairs.find((x) => x.stack === "app.dev.dotenv")!.refusal).toBeUndefined();
  });

  it("reports two bindings that write one environment into one target", () => {
    const m = parseManifest(
      `
version: 1
source: { kind: local, folder: envs }
targets: { t: { kind: file, path: "/o/{env}.env" } }
bindings:
  - { id: one, environments: "a/*", target: t }
  - { id: two, environments: "*/b", target: t }
`,
      "m.yaml",
    );
    const e = plainEnv("a", "b", { environmentVariables: { A: "1" } });
    const p = plan({ manifest: m, environments: [e], matches: matchBindings(m, [e.ref], Selection.all), fingerprintKey: "k" });
    expect(p.pairs).toHaveLength(2);
    for (const pair of p.pairs) {
      expect(pair.refusal?.kind === "invalid-entries" && pair.refusal.problems[0]?.message).toMatch(/binding "one" and binding "two" both write acme\/a\/b into target "t"/);
    }
  });

  it("skips a pair with no value at the binding's path, and blocks one whose environment failed", () => {
    const failures = new Map([["app/broken", new EnvironmentError(ref("app", "broken"), "environment app/broken has errors")]]);
    const p = planFor([plainEnv("app", "empty", { other: 1 })], {}, failures);
    expect(p.pairs.find((x) => x.stack === "app.empty.dotenv")!.refusal).toMatchObject({ kind: "no-value" });
    expect(p.pairs.find((x) => x.stack === "app.broken.dotenv")!.refusal).toMatchObject({ kind: "environment-error", message: "environment app/broken has errors" });
  });

  it("needs an object for the keys shape", () => {
    const p = planFor([plainEnv("app", "scalar", { environmentVariables: "just a string" })]);
    const b = p.pairs[0]!.refusal;
    expect(b?.kind === "invalid-entries" && b.problems[0]?.message).toMatch(/the keys shape needs an object/);
  });

  it("never puts a value in the printed plan", () => {
    const p = planFor([dev()]);
    const runPlan = decide(p.pairs, classifyStacks([], p.pairs, Selection.all, new Set()), {
      operation: "sync",
      dryRun: false,
      refresh: false,
      force: false,
      deletions: { allowAll: false, max: 0 },
      manifest: "/m/environments.yaml",
    });
    expect(runPlan.steps.length).toBeGreaterThan(0);
    expect(JSON.stringify(runPlanToJson(runPlan))).not.toContain(CANARY);
    expect(runPlanToText(runPlan)).not.toContain(CANARY);
    expect(JSON.stringify(p)).not.toContain(CANARY); // SecretValue renders as [secret]
  });

  it("refuses two pairs whose entries land in one place, each naming the other", () => {
    const m = parseManifest(
      `version: 1\nsource: { kind: local, folder: envs }\ntargets:\n  a: { kind: file, path: "/out/{env}.env" }\n  b: { kind: file, path: "/out/{env}.env" }\n  sm1: { kind: aws-secrets-manager, region: eu-west-1 }\n  sm2: { kind: aws-secrets-manager, region: eu-west-1 }\n  sm3: { kind: aws-secrets-manager, region: us-east-1 }\nbindings:\n  - { environments: "app/*", target: a }\n  - { environments: "app/*", target: b }\n  - { environments: "app/*", target: sm1, name: "{env}/{key}" }\n  - { environments: "app/*", target: sm2, name: "{env}/{key}" }\n  - { environments: "app/*", target: sm3, name: "{env}/{key}" }\n`,
      "m.yaml",
    );
    const envs = [plainEnv("app", "dev", { environmentVariables: { HOST: "h" } })];
    const p = plan({ manifest: m, environments: envs, matches: matchBindings(m, envs.map((e) => e.ref), Selection.all), fingerprintKey: "k" });
    const by = Object.fromEntries(p.pairs.map((x) => [x.targetId, x.refusal?.kind === "invalid-entries" ? x.refusal.problems.map((q) => q.message).join("; ") : undefined]));
    expect(by.a).toMatch(/\/out\/dev\.env is also written by app\.dev\.b \(binding "b", target "b"\)/);
    expect(by.b).toMatch(/also written by app\.dev\.a/);
    expect(by.sm1).toMatch(/eu-west-1#dev\/HOST is also written by app\.dev\.sm2/);
    expect(by.sm2).toMatch(/also written by app\.dev\.sm1/);
    expect(by.sm3).toBeUndefined(); // another region is another place
  });
});

