/**
 * A secret that makes an expression fail is quoted nowhere: the `fn::fromJSON` of a secret that
 * is not JSON (and its siblings) through `plan`, `sync` (text and JSON) and `drift` in every
 * format, with a good environment beside it that still syncs. Each test starts from the state it
 * needs (see test/support/states.ts).
 */
import { afterAll, describe, expect, it } from "vitest";
import { APP_TO_FILES } from "../support/sandbox.js";
import { sandboxState } from "../support/states.js";

const CANARY = "hunter2-e2e-canary-b41d";
const FRAGMENTS = [CANARY, CANARY.slice(0, 7), CANARY.slice(-6)];

/** A good environment and a bad one whose expressions fail on a secret. */
const written = sandboxState("a good and a bad environment", (box) => {
  box.writeEnvironment("app", "good", `values:\n  environmentVariables:\n    TOKEN: { fn::secret: ${CANARY}-good }\n`);
  box.writeEnvironment(
    "app",
    "bad",
    [
      "values:",
      `  pw: { fn::secret: "${CANARY}" }`,
      "  environmentVariables:",
      '    BAD: { fn::fromJSON: "${pw}" }',
      '    B64: { fn::fromBase64: "${pw}" }',
      '    FIELD: "${pw.field}"',
      "",
    ].join("\n"),
  );
  box.writeManifest(APP_TO_FILES);
});

/** Then `sync` in text: the good pair synced, the bad one failed. */
const synced = written.next("after a text sync", (box) => box.run(["sync"]));

describe("no secret in any message", () => {
  afterAll(() => written.cleanup());

  const expectClean = (text: string) => {
    for (const fragment of FRAGMENTS) expect(text).not.toContain(fragment);
  };

  it("plan names the failing paths and lines, not the value", async () => {
    const { box } = await written.enter();
    for (const output of ["text", "json"]) {
      const r = await box.run(["plan", "--output", output]);
      expect(r.code).toBe(1);
      expectClean(r.stdout + r.stderr);
      expect(r.stdout).toMatch(/values\.environmentVariables\.BAD/);
      expect(r.stdout).toMatch(/bad\.yaml:4/);
    }
  });

  it("sync in text and JSON: the bad pair fails without its value, the good one syncs", async () => {
    const { box, value: text } = await synced.enter();
    expect(text.code).toBe(1);
    expectClean(text.stdout + text.stderr);
    expect(text.stdout).toMatch(/decoding JSON string/);
    const { result, report } = await box.syncJson();
    expectClean(result.stdout + result.stderr);
    const byStack = Object.fromEntries(report.pairs.map((p) => [p.stack, p]));
    expect(byStack["app.good.out"]?.status).toMatch(/unchanged|created/);
    expect(byStack["app.bad.out"]?.message).toMatch(/decoding JSON string/);
    expect(box.read("out/good.env")).toContain(`${CANARY}-good`);
  });

  it("drift in every format", async () => {
    const { box } = await synced.enter();
    for (const format of ["table", "markdown", "json", "junit"]) {
      const r = await box.run(["drift", "--output", format]);
      expect(r.code, format).toBe(1);
      expectClean(r.stdout + r.stderr);
      expect(r.stdout, format).toMatch(/decoding JSON string|BAD/);
    }
  });
});
