/**
 * Differential test: the project's local evaluator (orchestrator/esc-eval) against the official
 * one (github.com/pulumi/esc/eval, through esc-eval built by scripts/provision.sh), on generated
 * definitions: literals, nesting, interpolation, imports, every built-in the local evaluator
 * supports, secrets, and errors. For each case both must agree on whether the environment has
 * errors and, when it has none, on every value and every secret flag.
 *
 * A few hundred cases by default; more with ESC_DIFF_RUNS=5000 (and a fixed seed with
 * ESC_DIFF_SEED=<n> to replay one run).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { evaluate, type DefinitionLoader } from "../../../../orchestrator/esc-eval/index.js";
import { propertiesFromApi } from "../../../../orchestrator/sources/esc-client.js";
import type { Properties } from "../../../../orchestrator/values.js";
import { startOfficialEvaluator, type OfficialEvaluator } from "../../../support/esc-server/official.js";

const RUNS = Number(process.env.ESC_DIFF_RUNS ?? 300);
const SEED = process.env.ESC_DIFF_SEED === undefined ? undefined : Number(process.env.ESC_DIFF_SEED);

const ROOT_KEYS = ["a", "b", "c", "d"] as const;
const BASE_KEYS = ["a", "p", "q"] as const;
const REFERENCES = [...new Set([...ROOT_KEYS, ...BASE_KEYS])].flatMap((k) => [k, `${k}.x`, `${k}[0]`, `${k}.y.z`]);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const text = fc.oneof(
  fc.stringMatching(/^[a-z0-9 _-]{0,8}$/),
  fc.constantFrom("true", "1", "null", "", "~", "1e3", "0x1F", "a: b", "x,y", "ünï", "$$", "a$$b"),
);
const plainJson: fc.Arbitrary<Json> = fc.letrec<{ v: Json }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -1000, max: 1000 }),
    fc.constantFrom(1.5, -0.25, 0.1, 1e21, 2 ** 53),
    text,
    fc.array(tie("v"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom("x", "y", "z", "k"), tie("v"), { maxKeys: 3 }),
  ),
})).v;

const interpolation = fc
  .tuple(text, fc.constantFrom(...REFERENCES), fc.boolean())
  .map(([prefix, ref, wrap]) => (wrap ? `${prefix}\${${ref}}-` : `\${${ref}}`));

/** One expression of a definition, as the YAML data it is written as. */
const expression: fc.Arbitrary<unknown> = fc.letrec<{ e: unknown; s: unknown }>((tie) => ({
  // What fits where a string is expected (join, split, secret, base64).
  s: fc.oneof(text, interpolation),
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    plainJson.filter((v) => v === null || typeof v !== "object"),
    interpolation,
    fc.array(tie("e"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom("x", "y", "z"), tie("e"), { maxKeys: 3 }),
    text.map((t) => ({ "fn::secret": t })),
    fc.tuple(text, fc.array(tie("s"), { maxLength: 3 })).map(([sep, items]) => ({ "fn::join": [sep, items] })),
    fc.tuple(fc.constantFrom(",", " ", ""), tie("s")).map(([sep, s]) => ({ "fn::split": [sep, s] })),
    fc.array(fc.array(tie("e"), { maxLength: 2 }), { maxLength: 3 }).map((lists) => ({ "fn::concat": lists })),
    tie("e").map((e) => ({ "fn::toJSON": e })),
    plainJson.map((j) => ({ "fn::fromJSON": JSON.stringify(j) })),
    fc.constantFrom("{", "[1,", "nul").map((broken) => ({ "fn::fromJSON": broken })),
    tie("e").map((e) => ({ "fn::toString": e })),
    tie("s").map((s) => ({ "fn::toBase64": s })),
    text.map((t) => ({ "fn::fromBase64": Buffer.from(t).toString("base64") })),
    fc.constantFrom("@@@", "YQ").map((bad) => ({ "fn::fromBase64": bad })),
    tie("e").map((e) => ({ "fn::final": e })),
    // A secret inside other built-ins: the secrecy must propagate.
    text.map((t) => ({ "fn::toJSON": { k: { "fn::secret": t } } })),
    text.map((t) => ({ "fn::join": ["-", [{ "fn::secret": t }, "x"]] })),
  ),
})).e;

const values = (keys: readonly string[]) => fc.dictionary(fc.constantFrom(...keys), expression, { minKeys: 1, maxKeys: keys.length });

interface Case {
  root: string;
  base: string;
}

const definitions: fc.Arbitrary<Case> = fc.record({ root: values(ROOT_KEYS), base: values(BASE_KEYS), imports: fc.boolean() }).map(({ root, base, imports }) => ({
  root: stringify({ ...(imports ? { imports: ["app/base"] } : {}), values: root }),
  base: stringify({ values: base }),
}));

let official: OfficialEvaluator;

beforeAll(() => {
  official = startOfficialEvaluator();
});
afterAll(async () => {
  await official?.close();
});

interface Outcome {
  errors: boolean;
  properties: Properties;
  /** The error summaries, to show where the two disagree. */
  summaries: string[];
}

function local(c: Case): Outcome {
  const load: DefinitionLoader = (ref) => (ref === "app/base" ? { name: "app/base", yaml: c.base } : undefined);
  const result = evaluate({ name: "app/root", yaml: c.root }, load);
  return { errors: result.diagnostics.length > 0, properties: result.properties, summaries: result.diagnostics.map((d) => `${d.path ?? ""}: ${d.summary}`) };
}

async function reference(c: Case): Promise<Outcome> {
  const result = await official.evaluate({ name: "app/root", yaml: c.root, environments: { "app/base": c.base } });
  const errors = result.diagnostics.filter((d) => d.severity !== "warning");
  return { errors: errors.length > 0, properties: propertiesFromApi(result.properties as never), summaries: errors.map((d) => `${d.path ?? ""}: ${d.summary}`) };
}

describe("local evaluator = official evaluator", () => {
  it(`agrees on errors, values and secret flags (${RUNS} generated definitions)`, async () => {
    let agreedOnValues = 0;
    await fc.assert(
      fc.asyncProperty(definitions, async (c) => {
        const [mine, theirs] = [local(c), await reference(c)];
        const where = `\n--- root\n${c.root}--- base\n${c.base}--- local errors: ${JSON.stringify(mine.summaries)}\n--- official errors: ${JSON.stringify(theirs.summaries)}\n`;
        expect({ errors: mine.errors }, `errors differ for${where}`).toEqual({ errors: theirs.errors });
        if (theirs.errors) return;
        expect(mine.properties, `values differ for${where}`).toEqual(theirs.properties);
        agreedOnValues++;
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
    // Not a test of errors alone: most cases must evaluate, so that values are compared.
    expect(agreedOnValues).toBeGreaterThan(RUNS / 5);
  });

  it("reads plain integers as Go's YAML decoder does (a difference the generator found)", async () => {
    const c: Case = { root: "values:\n  a: 1_000\n  b: 0_\n  c: 017\n  d: -0o17\n  e: 0x1F\n  f: 12\n  g: 1.5\n  h: '1_000'\n", base: "values: {}\n" };
    const expected = { a: 1000, b: 0, c: 15, d: -15, e: 31, f: 12, g: 1.5, h: "1_000" };
    const plain = (o: Outcome) => Object.fromEntries(Object.entries(o.properties).map(([k, v]) => [k, v.value]));
    expect(plain(await reference(c))).toEqual(expected);
    expect(plain(local(c))).toEqual(expected);
  });

  it("finds a difference when there is one (the comparison can fail)", async () => {
    const c: Case = { root: "values:\n  a:\n    fn::secret: s\n", base: "values:\n  p: 1\n" };
    const theirs = await reference(c);
    expect(theirs.properties).toEqual({ a: { value: "s", secret: true } });
    expect(theirs.properties).not.toEqual({ a: { value: "s" } });
  });
});
