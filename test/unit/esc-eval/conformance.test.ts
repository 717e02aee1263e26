/**
 * Conformance with Pulumi ESC's own evaluator test data (see the README of the cases folder):
 * every case folder found is evaluated and compared, with no per-case exceptions.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { evaluate, type Definition } from "../../../orchestrator/esc-eval/index.js";
import { toPlain, toRedacted, type Plain, type Properties, type ValueNode } from "../../../orchestrator/values.js";

const repoRoot = path.resolve(import.meta.dirname, "../../..");
const casesDir = process.env.ESC_CONFORMANCE_DIR ?? path.resolve(repoRoot, "../shared/esc-conformance");

interface Expected {
  errors: { path: string; summary: string }[];
  revealed: Plain;
  redacted: Plain;
}

const cases = existsSync(casesDir)
  ? readdirSync(casesDir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(path.join(casesDir, e.name, "env.yaml")))
      .map((e) => e.name)
      .sort()
  : [];

/** The README's rendering: a value that could not be computed shows as "[unknown]". */
function showUnknowns(node: ValueNode): ValueNode {
  if (node.unknown) return { value: "[unknown]", ...(node.secret ? { secret: true } : {}) };
  const v = node.value;
  if (Array.isArray(v)) return { ...node, value: v.map(showUnknowns) };
  if (v !== null && typeof v === "object") return { ...node, value: Object.fromEntries(Object.entries(v).map(([k, c]) => [k, showUnknowns(c)])) };
  return node;
}

function render(properties: Properties, how: (node: ValueNode) => Plain): Plain {
  return how(showUnknowns({ value: properties }));
}

describe("ESC conformance cases", () => {
  it("finds the cases", () => {
    expect(cases.length, `no case folders in ${casesDir}`).toBeGreaterThan(0);
  });

  describe.each(cases)("%s", (name) => {
    const dir = path.join(casesDir, name);
    const expected = JSON.parse(readFileSync(path.join(dir, "expected.json"), "utf8")) as Expected;
    // Named after its folder, as ESC's own test harness names the environment under test.
    const definition: Definition = { name, yaml: readFileSync(path.join(dir, "env.yaml"), "utf8") };
    const load = (ref: string): Definition | undefined => {
      const file = path.join(dir, `${ref}.yaml`);
      return existsSync(file) ? { name: ref, yaml: readFileSync(file, "utf8") } : undefined;
    };
    const result = evaluate(definition, load);
    // `null` is ESC's "no environment at all" (empty or unreadable definition): no properties.
    const noValues = {} as Plain;

    it("reveals the same values", () => {
      expect(render(result.properties, toPlain)).toEqual(expected.revealed ?? noValues);
    });

    it("redacts the same values", () => {
      expect(render(result.properties, toRedacted)).toEqual(expected.redacted ?? noValues);
    });

    it("reports an error at every path ESC does, and none where ESC reports none", () => {
      const reported = result.diagnostics.map((d) => d.path ?? "");
      if (expected.errors.length === 0) expect(result.diagnostics).toEqual([]);
      for (const error of expected.errors) {
        expect(reported, `missing error at "${error.path}" (ESC: ${error.summary})`).toContain(error.path);
      }
    });
  });
});
