/**
 * Conformance with Pulumi ESC's own evaluator test data (see the README of the cases folder):
 * every case folder found is evaluated and compared, with no per-case exceptions.
 *
 * The cases live outside the repository (`ESC_CONFORMANCE_DIR`, else `../shared/esc-conformance`
 * beside the clone). A user's clone has neither: the cases are then reported as not found and
 * skipped, so that the test command passes there; CI has them and runs every one.
 */
import { toRedacted } from "../../../support/value-nodes.js";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { evaluate, type Definition, type EvaluationDiagnostic } from "../../../../orchestrator/esc-eval/index.js";
import { toPlain, type Plain, type Properties, type ValueNode } from "../../../../orchestrator/values.js";

const repoRoot = path.resolve(import.meta.dirname, "../../../..");
const fromEnv = process.env.ESC_CONFORMANCE_DIR;
const casesDir = fromEnv ? path.resolve(fromEnv) : path.resolve(repoRoot, "../shared/esc-conformance");
// Asked for by name, the cases must be there; only the default place may be absent.
const skip = !fromEnv && !existsSync(casesDir);

/** One diagnostic of `expected.json`: where ESC reports it (`file` is an environment's name). */
interface ExpectedDiagnostic {
  path: string;
  summary: string;
  file?: string;
  line?: number;
  column?: number;
}

interface Expected {
  errors: ExpectedDiagnostic[];
  warnings?: ExpectedDiagnostic[];
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

/**
 * Compares where diagnostics are, as the README asks: one at each listed path (of the listed
 * file, where one is given) and none anywhere else. Wording is not compared. Returns what is
 * missing and what is extra, as `file: path` with ESC's summary or ours, for a readable failure.
 */
function compareLocations(expected: readonly ExpectedDiagnostic[], reported: readonly EvaluationDiagnostic[]): { missing: string[]; extra: string[] } {
  const where = (file: string | undefined, p: string | undefined) => `${file ?? "(any file)"}: ${p === undefined || p === "" ? "(document)" : p}`;
  const matches = (e: ExpectedDiagnostic, r: EvaluationDiagnostic) => (r.path ?? "") === e.path && (e.file === undefined || r.environment === e.file);
  return {
    missing: expected.filter((e) => !reported.some((r) => matches(e, r))).map((e) => `${where(e.file, e.path)} (ESC: ${e.summary})`),
    extra: reported.filter((r) => !expected.some((e) => matches(e, r))).map((r) => `${where(r.environment, r.path)} (ours: ${r.summary})`),
  };
}

describe("ESC conformance cases", () => {
  if (skip) {
    // Printed so that whoever runs the suite sees that this part did not run, and why.
    console.warn(`ESC conformance cases not found at ${casesDir}, skipped (set ESC_CONFORMANCE_DIR to run them)`);
    it.skip(`cases not found at ${casesDir}, skipped`, () => {});
    return;
  }

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

    it("reports an error at exactly the paths and files ESC does", () => {
      expect(compareLocations(expected.errors, result.diagnostics)).toEqual({ missing: [], extra: [] });
    });

    it("reports a warning at exactly the paths and files ESC does", () => {
      expect(compareLocations(expected.warnings ?? [], result.warnings ?? [])).toEqual({ missing: [], extra: [] });
    });
  });
});

// The comparison itself must be able to fail: checked on made-up diagnostics, cases or not.
describe("conformance comparison", () => {
  const esc: ExpectedDiagnostic[] = [
    { path: "values.a", summary: "x", file: "root" },
    { path: "", summary: "yaml: broken" },
  ];
  it("accepts the same locations in any wording, and any file where ESC names none", () => {
    expect(compareLocations(esc, [
      { path: "values.a", summary: "other words", environment: "root" },
      { path: "", summary: "our yaml message", environment: "whatever" },
    ])).toEqual({ missing: [], extra: [] });
  });
  it("finds a missing error, an extra one, and one in the wrong file", () => {
    expect(compareLocations(esc, [
      { path: "values.a", summary: "x", environment: "imported" },
      { path: "", summary: "yaml", environment: "root" },
      { path: "values.b", summary: "y", environment: "root" },
    ])).toEqual({
      missing: ["root: values.a (ESC: x)"],
      extra: ["imported: values.a (ours: x)", "root: values.b (ours: y)"],
    });
  });
});
