/**
 * The manifest mistakes of a new user's first hour (issue #22), each reported in one pass with
 * its fix: four typos at once (the unknown target id among them), "did you mean" for a mistyped
 * key, one line for a YAML error (with the quoting fix for `{env}` in a flow map), and a binding
 * glob that matches nothing beside one that does.
 */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../../orchestrator/errors.js";
import { parseManifest } from "../../../../orchestrator/manifest/load.js";
import { deadGlobs } from "../../../../orchestrator/planner/plan.js";

function rejected(text: string): ConfigError {
  try {
    parseManifest(text, "m.yaml");
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected the manifest to be rejected");
}

const HEADER = "version: 1\nsource: { kind: local, folder: environments }\n";

describe("the manifest, checked in one pass", () => {
  it("four typos are four problems at once, the unknown target id included", () => {
    const err = rejected(
      [
        "version: 1",
        "source: { kind: local, folder: environments }",
        "concurency: 4", //                                        3: top-level key
        "targets:",
        "  dotenv: { kind: file, path: out/x.env, mdoe: '0600' }", // 5: a target's setting
        "bindings:",
        "  - environments: 'payments/*'",
        "    target: dotnev", //                                   8: an unknown target id
        "    shap: keys", //                                       9: a binding's key
      ].join("\n"),
    );
    const lines = err.problems.map((p) => `${p.line}: ${p.path}: ${p.message}`);
    expect(lines).toEqual([
      `3: concurency: unknown setting "concurency" at the top level: did you mean "concurrency"? rename it`,
      `5: targets.dotenv.mdoe: unknown setting "mdoe": did you mean "mode"? rename it`,
      `8: bindings[0].target: no target "dotnev" in targets (known: dotenv)`,
      `9: bindings[0].shap: unknown setting "shap": did you mean "shape"? rename it`,
    ]);
    expect(err.message).toMatch(/^m\.yaml has 4 problems\n/);
  });

  it("an unknown key far from every known one lists the known ones instead of guessing", () => {
    const err = rejected(`${HEADER}targets:\n  out: { kind: file, path: o.env }\nbindings:\n  - { environments: "a/*", target: out, colour: blue }\n`);
    expect(err.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^unknown setting "colour": remove it or check its spelling \(known: id, environments, exclude, target, from, shape, name/)]);
  });

  it("a YAML error is one line; {env} unquoted in a flow map gets the quoting fix", () => {
    const err = rejected(`${HEADER}targets:\n  out: { kind: file, path: out/{env}.env }\nbindings: []\n`);
    expect(err.problems).toHaveLength(1);
    expect(err.message).toBe(
      `m.yaml is not valid YAML\n  - m.yaml:4:32: Unexpected flow-map-start at node end: quote the value holding { }: inside a { … } mapping, { opens another mapping; write path: "out/{env}.env"`,
    );
  });

  it("any other YAML error is one line too, with the line to fix", () => {
    const err = rejected(`version: 1\nsource: { kind: local, folder: environments\n`);
    expect(err.problems).toHaveLength(1);
    expect(err.hint).toMatch(/fix that line/);
  });

  it("a glob of a binding that matches nothing beside one that does is found (an idle binding is warned about elsewhere)", () => {
    const manifest = parseManifest(
      `${HEADER}targets:\n  out: { kind: file, path: "o/{env}.env" }\nbindings:\n  - { id: a, environments: ["payments/*", "paymnets/*"], target: out }\n  - { id: b, environments: ["nothing/*"], target: out }\n`,
      "m.yaml",
    );
    const refs = [{ org: "o", project: "payments", name: "dev" }];
    expect(deadGlobs(manifest, refs).map((d) => [d.binding.id, d.glob])).toEqual([["a", "paymnets/*"]]);
  });
});
