/**
 * Diagnostics say what is wrong and where, never the value: a canary secret is put through every
 * error path of the evaluator (each `fn::` that can fail on its input, every kind of bad access
 * and interpolation), and no diagnostic may quote it, whole or in part. The evaluator also hands
 * the redaction layer every secret it met, those of failed expressions included.
 */
import { describe, expect, it } from "vitest";
import { jsonProblem } from "../../../../orchestrator/esc-eval/builtins.js";
import { run } from "./helpers.js";

const CANARY = "hunter2-canary-7Qx9";
/** Fragments a message could leak: the whole value, its start, its end. */
const FRAGMENTS = [CANARY, CANARY.slice(0, 6), CANARY.slice(-6)];

const cases: Record<string, string> = {
  "fn::fromJSON of a secret that is not JSON": `BAD: { fn::fromJSON: "\${pw}" }`,
  "fn::fromJSON of an interpolated secret": `BAD: { fn::fromJSON: "{\\"a\\": \${pw}}" }`,
  "fn::fromJSON of a secret literal": `BAD: { fn::fromJSON: { fn::secret: "${CANARY}" } }`,
  "fn::fromBase64 of a secret": `BAD: { fn::fromBase64: "\${pw}" }`,
  "fn::join with a secret as the list": `BAD: { fn::join: [",", "\${pw}"] }`,
  "fn::join with a secret delimiter and a bad list": `BAD: { fn::join: ["\${pw}", [1, {a: b}]] }`,
  "fn::split of a secret with a bad delimiter": `BAD: { fn::split: [[x], "\${pw}"] }`,
  "fn::concat of a secret": `BAD: { fn::concat: "\${pw}" }`,
  "fn::toBase64 of an object holding a secret": `BAD: { fn::toBase64: { a: "\${pw}" } }`,
  "property of a secret string": `BAD: "\${pw.field}"`,
  "index into a secret string": `BAD: "\${pw[0]}"`,
  "unknown property next to a secret": `BAD: "\${obj.pasword}"`,
  "index out of bounds in a list of secrets": `BAD: "\${list[5]}"`,
  "name subscript on a list of secrets": `BAD: "\${list.x}"`,
  "integer subscript on an object holding a secret": `BAD: "\${obj[0]}"`,
  "a secret interpolated into a reference to nowhere": `BAD: "\${nowhere}-\${pw}"`,
  "a non-literal fn::secret": `BAD: { fn::secret: { a: "\${pw}" } }`,
};

function definition(line: string): string {
  return [
    "values:",
    `  pw: { fn::secret: "${CANARY}" }`,
    `  obj: { password: "\${pw}" }`,
    `  list: ["\${pw}"]`,
    "  environmentVariables:",
    `    ${line}`,
    "",
  ].join("\n");
}

describe("no value in any diagnostic", () => {
  for (const [name, line] of Object.entries(cases)) {
    it(name, () => {
      const r = run(definition(line));
      // Each case is an error case: a test that reports nothing proves nothing.
      expect(r.diagnostics.length).toBeGreaterThan(0);
      const text = JSON.stringify([r.diagnostics, r.warnings]);
      for (const fragment of FRAGMENTS) expect(text).not.toContain(fragment);
      // Each diagnostic still says where: a path and a line.
      for (const d of r.diagnostics) {
        expect(d.path).toBeTruthy();
        expect(d.line).toBeGreaterThan(0);
      }
      // The redaction layer learns the secret even though no value holds it.
      expect(r.secrets).toContain(CANARY);
    });
  }

  it("the input of a failed fn::fromJSON is handed to the redaction layer, interpolated or not", () => {
    const r = run(definition(`BAD: { fn::fromJSON: "x-\${pw}" }`));
    expect(r.secrets).toContain(`x-${CANARY}`);
  });

  it("fn::fromJSON says where the JSON is broken, not what it says", () => {
    const r = run(definition(`BAD: { fn::fromJSON: "{\\"a\\": 1,}" }`));
    expect(r.diagnostics.map((d) => d.summary)).toEqual([expect.stringMatching(/^decoding JSON string: not valid JSON/)]);
  });
});

describe("jsonProblem", () => {
  const problem = (text: string): string => {
    try {
      JSON.parse(text);
    } catch (err) {
      return jsonProblem(err);
    }
    throw new Error("valid JSON");
  };

  it("keeps the position V8 gives", () => {
    expect(problem('{"a": 1,}')).toBe("not valid JSON at line 1 column 9");
    expect(problem("{\n  x")).toBe("not valid JSON at line 2 column 3");
  });

  it("drops the token and the excerpt V8 quotes", () => {
    expect(problem(CANARY)).toBe("not valid JSON");
    expect(problem(`"${CANARY}`)).not.toContain("hunter");
  });

  it("says when the text ends early", () => {
    expect(problem('{"a": ')).toBe("not valid JSON: the text ends early");
  });
});
