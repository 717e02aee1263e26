import { describe, expect, it } from "vitest";
import { errorPaths, run } from "./helpers.js";

describe("imports", () => {
  const base = `
values:
  shared: { a: 1, nested: { x: base, y: base } }
  list: [1, 2]
  scalar: base
  onlyBase: kept
`;
  const over = `
values:
  shared: { b: 2, nested: { y: over } }
  list: [3]
  scalar: { now: object }
`;

  it("deep-merges objects in import order, the environment's own values last", () => {
    const r = run(
      `
imports: [base, over]
values:
  shared: { nested: { z: own } }
  scalar: own
`,
      { base, over },
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.plain).toEqual({
      shared: { a: 1, b: 2, nested: { x: "base", y: "over", z: "own" } },
      list: [3], // arrays are replaced, not concatenated
      scalar: "own",
      onlyBase: "kept",
    });
  });

  it("replaces rather than merges when the types differ, and null overrides", () => {
    const r = run(`imports: [base]\nvalues:\n  shared: null\n  scalar: { x: 1 }\n`, { base });
    expect(r.plain).toMatchObject({ shared: null, scalar: { x: 1 } });
  });

  it("does not merge a merge:false import but lets imports.<name> reach it", () => {
    const r = run(
      `
imports:
  - base
  - over: { merge: false }
values:
  fromOver: \${imports.over.scalar.now}
  fromBase: \${imports.base.onlyBase}
  merged: \${shared.nested.x}
`,
      { base, over },
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.plain).toMatchObject({ fromOver: "object", fromBase: "kept", merged: "base", scalar: "base", list: [1, 2] });
    expect(r.plain).not.toHaveProperty("shared.b");
  });

  it("lets references reach imported keys the environment does not redefine", () => {
    const r = run(`imports: [base]\nvalues:\n  shared: { own: 1 }\n  ref: \${shared.a}\n  whole: \${shared}\n`, { base });
    expect(r.plain).toMatchObject({ ref: 1, whole: { a: 1, own: 1, nested: { x: "base", y: "base" } } });
  });

  it("evaluates an imported environment in its own scope", () => {
    const inner = `values:\n  greeting: hello \${name}\n  name: inner\n`;
    const r = run(`imports: [inner]\nvalues:\n  name: outer\n`, { inner });
    expect(r.plain).toEqual({ greeting: "hello inner", name: "outer" });
  });

  it("reports an unknown import at its entry, with its line", () => {
    const r = run(`imports:\n  - nope\nvalues:\n  a: 1\n`);
    expect(r.diagnostics).toEqual([{ environment: "proj/root", path: "imports[0]", summary: expect.stringContaining('"nope"'), line: 2, column: 5 }]);
    expect(r.plain).toEqual({ a: 1 });
  });

  it("reports import cycles in the environment that closes them", () => {
    const r = run(`imports: [a]\n`, { a: "imports: [b]\n", b: "imports: [a]\n" });
    expect(r.diagnostics).toEqual([
      expect.objectContaining({ environment: "b", path: "imports[0]", summary: 'in imported environment "b": cyclic import of a' }),
    ]);
  });

  it("reports errors inside an imported environment with their path there", () => {
    const r = run(`imports: [bad]\n`, { bad: "values:\n  x: \${missing}\n" });
    expect(r.diagnostics).toEqual([expect.objectContaining({ environment: "bad", path: "values.x", summary: expect.stringMatching(/^in imported environment "bad": unknown property "missing"/) })]);
  });

  it("keeps fn::final values from being overridden, with a warning only", () => {
    const a = `values:\n  frozen: { fn::final: { x: 1 } }\n  inner: { k: { fn::final: v } }\n`;
    const r = run(`imports: [a]\nvalues:\n  frozen: { x: 2, y: 3 }\n  inner: { k: changed, other: ok }\n`, { a });
    expect(r.diagnostics).toEqual([]);
    expect(r.warnings).toHaveLength(2);
    expect(r.plain).toEqual({ frozen: { x: 1 }, inner: { k: "v", other: "ok" } });
  });

  it("supports inline references to other environments", () => {
    const r = run(`values:\n  port: \${environments.shared.db.port}\n`, { "shared/db": "values:\n  port: 5432\n" });
    expect(r.plain).toEqual({ port: 5432 });
    expect(errorPaths(run(`values:\n  port: \${environments.shared.nope.port}\n`))).toEqual(["values.port"]);
  });
});
