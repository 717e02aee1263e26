import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../../orchestrator/errors.js";
import { manifestJsonSchema } from "../../../../orchestrator/manifest/json-schema.js";
import { loadManifest, parseManifest } from "../../../../orchestrator/manifest/load.js";

const repo = join(import.meta.dirname, "..", "..", "..", "..");

function problemsOf(text: string) {
  try {
    parseManifest(text, "m.yaml");
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error("expected the manifest to be rejected");
}

describe("manifest", () => {
  it("accepts the embedded default and fills defaults", async () => {
    const { manifest } = await loadManifest(join(repo, "environments.yaml"));
    expect(manifest.source.kind).toBe("local");
    expect(manifest.state.secretsProvider).toBe("passphrase");
    expect(Object.keys(manifest.targets).length).toBeGreaterThanOrEqual(2);
    const shapes = new Set(manifest.bindings.map((b) => b.shape));
    expect(shapes).toEqual(new Set(["keys", "json"]));
  });

  it("reports every problem at once, each with its path and line", () => {
    const problems = problemsOf(
      [
        "version: 1", //                                   1
        "source: { kind: local, folder: envs }", //        2
        "colour: blue", //                                 3
        "targets:", //                                     4
        "  a:", //                                         5
        "    kind: nosuch", //                             6
        "  b:", //                                         7
        "    kind: file", //                               8
        "    mode: 'rw'", //                               9
        "bindings:", //                                   10
        "  - environments: 'app/*'", //                   11
        "    target: missing", //                         12
        "    shape: keys", //                             13
        "    name: '{project}-{nope}'", //                14
      ].join("\n"),
    );
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p]));
    expect(byPath["colour"]?.message).toMatch(/unknown setting "colour"/);
    expect(byPath["colour"]?.line).toBe(3);
    expect(byPath["targets.a.kind"]?.message).toMatch(/unknown target kind "nosuch": use one of .*file/);
    expect(byPath["targets.a.kind"]?.line).toBe(6);
    expect(byPath["targets.b.path"]?.message).toMatch(/required/);
    expect(byPath["targets.b.mode"]?.message).toMatch(/octal/);
    expect(byPath["targets.b.mode"]?.line).toBe(9);
    // Cross-references in the same pass, though the schema failed: nothing waits for a second run.
    expect(byPath["bindings[0].target"]?.message).toMatch(/no target "missing" in targets \(known: a, b\)/);
    expect(problems.filter((p) => p.path === "bindings[0].name").map((p) => p.message)).toEqual([
      "unknown placeholder {nope}: use {org}, {project}, {env}, {target} or {key}",
      "a keys binding writes one entry per key: its name template needs {key}",
    ]);
    expect(problems.length).toBe(7);
  });

  it("checks references, ids and templates across fields", () => {
    const problems = problemsOf(
      [
        "version: 1",
        "source: { kind: local, folder: envs }",
        "targets:",
        "  out: { kind: file, path: 'out/{project}/{wrong}.env' }",
        "bindings:",
        "  - environments: 'app/*'",
        "    target: missing",
        "  - environments: 'app/*'",
        "    target: out",
        "    name: '{project}-{nope}'",
        "  - environments: 'app/*'",
        "    target: out",
      ].join("\n"),
    );
    const messages = problems.map((p) => `${p.path}@${p.line}: ${p.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^bindings\[0\]\.target@7: no target "missing" in targets \(known: out\)/),
        expect.stringMatching(/^bindings\[1\]\.name@10: unknown placeholder \{nope\}/),
        expect.stringMatching(/^bindings\[1\]\.name@10: a keys binding writes one entry per key: its name template needs \{key\}/),
        expect.stringMatching(/^bindings\[2\]\.target@12: bindings\[1\] and bindings\[2\] both write to target "out" and neither has an id/),
        expect.stringMatching(/^targets\.out\.path@4: unknown placeholder \{wrong\}/),
      ]),
    );
  });

  it("refuses a binding whose glob is broken, and a pairTimeout that is not a duration", () => {
    const problems = problemsOf(
      `version: 1\nsource: { kind: local, folder: e }\npairTimeout: soon\ntargets:\n  out: { kind: file, path: "o/{env}" }\nbindings:\n  - { environments: "payments/[*", target: out }\n`,
    );
    expect(problems.map((p) => [p.path, p.line])).toEqual([
      ["pairTimeout", 3],
      ["bindings[0].environments", 7],
    ]);
    expect(problems[1]!.message).toMatch(/invalid glob "payments\/\[\*": Missing closing: "\]"/);
    expect(problems[0]!.message).toMatch(/a duration such as 90s, 15m or 1h30m/);
  });

  it("a misspelt required setting is one problem, naming the setting meant", () => {
    const problems = problemsOf(`version: 1\nsource: { kind: local, folder: e }\ntargets:\n  out: { kind: file, path: "o/{env}" }\nbindings:\n  - { enviroments: "app/*", target: out }\n`);
    expect(problems.map((p) => [p.path, p.message])).toEqual([["bindings[0].enviroments", `unknown setting "enviroments": did you mean "environments" (required)? rename it`]]);
  });

  it("two bindings without ids on one target: says the id defaults to the target, and how to fix it", () => {
    const problems = problemsOf(
      `version: 1\nsource: { kind: local, folder: e }\ntargets:\n  out: { kind: file, path: "o/{env}" }\nbindings:\n  - { environments: "a/*", target: out }\n  - { environments: "b/*", target: out }\n`,
    );
    expect(problems.map((p) => p.message)).toEqual([expect.stringMatching(/^bindings\[0\] and bindings\[1\] both write to target "out" and neither has an id .*: give each an id/)]);
  });

  it("takes a binding's revision as a positive number or a tag, on a pulumi-cloud source only", () => {
    const cloud = (revision: string) =>
      `version: 1\nsource: { kind: pulumi-cloud, org: acme }\ntargets:\n  out: { kind: file, path: "o/{env}" }\nbindings:\n  - { environments: "app/*", target: out, revision: ${revision} }\n`;
    expect(parseManifest(cloud("stable"), "m.yaml").bindings[0]!.revision).toBe("stable");
    expect(parseManifest(cloud("12"), "m.yaml").bindings[0]!.revision).toBe(12);
    expect(parseManifest(cloud("'v1.2-rc_3'"), "m.yaml").bindings[0]!.revision).toBe("v1.2-rc_3");
    expect(parseManifest(cloud("stable").replace(", revision: stable", ""), "m.yaml").bindings[0]!.revision).toBeUndefined();
    for (const bad of ["0", "-1", "1.5", "'12'", "''", "'has space'", "[1]"]) {
      const problems = problemsOf(cloud(bad));
      expect(problems.map((p) => p.path), bad).toEqual(["bindings[0].revision"]);
    }
    expect(problemsOf(cloud("'12'"))[0]!.message).toMatch(/write a revision number without quotes/);

    // A local folder has no revisions: refused when the manifest loads, with the fix.
    const problems = problemsOf(
      `version: 1\nsource: { kind: local, folder: e }\ntargets:\n  out: { kind: file, path: "o/{env}" }\nbindings:\n  - environments: "app/*"\n    target: out\n    revision: stable\n`,
    );
    expect(problems.map((p) => [p.path, p.line])).toEqual([["bindings[0].revision", 8]]);
    expect(problems[0]!.message).toMatch(/a local source has no revisions: remove revision: "stable" from this binding, or use a pulumi-cloud source/);
  });

  it("points at the line of a YAML syntax error", () => {
    const problems = problemsOf("version: 1\nsource:\n  kind: local\n folder: [unclosed\n");
    expect(problems[0]?.line).toBeGreaterThan(1);
    expect(problems[0]?.file).toBe("m.yaml");
  });

  it("names a missing manifest and how to fix it", async () => {
    await expect(loadManifest("/nonexistent/environments.yaml")).rejects.toThrow(/not found: pass --manifest FILE/);
  });

  it("publishes a JSON Schema that matches the zod schema", () => {
    const committed = JSON.parse(readFileSync(join(repo, "schema", "environments.schema.json"), "utf8"));
    expect(committed, "schema/environments.schema.json is stale: run `npm run schema`").toEqual(manifestJsonSchema());
    // Editors need the target kinds and the binding shapes spelled out.
    const text = JSON.stringify(committed);
    expect(text).toContain('"file"');
    expect(text).toContain('"keys"');
  });
});
