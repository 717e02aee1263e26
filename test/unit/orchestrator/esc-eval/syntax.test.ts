import { describe, expect, it } from "vitest";
import { errorPaths, run } from "./helpers.js";

describe("definition syntax", () => {
  it("reports YAML errors with their line and no values", () => {
    const r = run(`values:\n  ok: 1\n  bad: [a, b\n`);
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ path: "", line: expect.any(Number) });
    expect(r.diagnostics[0]!.summary).toMatch(/^yaml: line \d+: /);
    expect(r.properties).toEqual({});
  });

  it("reports a structural error at the line where YAML finds it", () => {
    const r = run(`values:\n  a: 1\n  - b\n`);
    expect(r.diagnostics[0]).toMatchObject({ path: "", line: 3 });
  });

  it("treats an empty definition as an environment with no values", () => {
    expect(run("")).toMatchObject({ properties: {}, diagnostics: [] });
    expect(run("# only a comment\n")).toMatchObject({ properties: {}, diagnostics: [] });
  });

  it("reports reserved and duplicate keys, keeping the first definition", () => {
    const r = run(`values:\n  imports: x\n  environments: y\n  a: 1\n  a: 2\n  o:\n    k: 1\n    k: 2\n`);
    expect(errorPaths(r)).toEqual(["values.imports", "values.environments", "values.a", "values.o.k"]);
    expect(r.diagnostics[0]).toMatchObject({ summary: '"imports" is a reserved key', line: 2, column: 3 });
    expect(r.plain).toEqual({ a: 1, o: { k: 1 } });
  });

  it("rejects non-string keys, aliases and misplaced built-ins", () => {
    expect(run(`values:\n  1: x\n`).diagnostics[0]).toMatchObject({ summary: "mapping keys must be strings" });
    expect(run(`values:\n  a: &x 1\n  b: *x\n`).diagnostics[0]).toMatchObject({ summary: "alias nodes are not supported", path: "values.b" });
    expect(run(`values:\n  fn::toJSON: x\n`).diagnostics[0]).toMatchObject({ path: 'values["fn::toJSON"]' });
    expect(run(`values:\n  o: { fn::toJSON: x, other: y }\n`).diagnostics[0]!.summary).toContain("must be the only key");
    expect(run(`values:\n  o: { fn::qqqqqqqq: x }\n`).diagnostics[0]).toMatchObject({ summary: `unknown function "fn::qqqqqqqq" ('fn::' is a reserved prefix)`, path: "values.o" });
    expect(run(`values:\n  o: { fn::joinn: [",", [a]] }\n`).diagnostics[0]).toMatchObject({
      summary: `unknown function "fn::joinn" ('fn::' is a reserved prefix); did you mean "fn::join"?`,
      path: "values.o",
    });
  });

  it("checks the shape of imports", () => {
    expect(errorPaths(run(`imports: a\n`))).toEqual(["imports"]);
    expect(errorPaths(run(`imports:\n  - [a]\n`))).toEqual(["imports[0]"]);
    expect(errorPaths(run(`imports:\n  - a: { merge: maybe }\n`, { a: "values: {}\n" }))).toEqual(["imports[0].a.merge"]);
  });
});

describe("interpolation and property access", () => {
  it("follows dotted paths, indexes and quoted keys, through computed values", () => {
    const r = run(`
values:
  a: { list: [ { "key.with dots": deep } ], n: 5 }
  b: \${a.list[0]["key.with dots"]}
  c: \${b}-\${a.n}
  "weird \\"key\\"": w
  d: \${["weird \\"key\\""]}
  e: \${c}
`);
    expect(r.diagnostics).toEqual([]);
    expect(r.plain).toMatchObject({ b: "deep", c: "deep-5", d: "w", e: "deep-5" });
  });

  it("keeps the referenced value's type for a lone reference", () => {
    const r = run(`values:\n  n: 42\n  o: { x: [true] }\n  n2: \${n}\n  o2: \${o}\n  s: "\${n}"\n  t: "n=\${n}"\n`);
    expect(r.plain).toMatchObject({ n2: 42, o2: { x: [true] }, s: 42, t: "n=42" });
  });

  it("renders non-strings as ESC does when interpolating", () => {
    const r = run(`values:\n  f: 1.5\n  big: 1.0e7\n  b: false\n  z: null\n  l: [a, 1]\n  o: { k: v, a: [x] }\n  s: "\${f} \${big} \${b} [\${z}] \${l} \${o}"\n`);
    expect(r.plain).toMatchObject({ s: '1.5 1e+07 false [] "a","1" "a"="\\"x\\"","k"="v"' });
  });

  it("treats $$ as a literal $", () => {
    const r = run(`values:\n  a: x\n  s: "$\${a} $$\${a} cost: 5$$ and $"\n`);
    expect(r.plain).toMatchObject({ s: "${a} $x cost: 5$ and $" });
  });

  it("reports bad accesses at the referencing value, with the column of the accessor", () => {
    const r = run(`values:\n  a: { b: 1, name: n }\n  l: [1]\n  x: \${a.nam}\n  y: \${l[3]}\n  z: \${a.b.c}\n  w: \${l.x}\n  v: \${a[0]}\n`);
    expect(r.diagnostics.map((d) => [d.path, d.summary])).toEqual([
      ["values.v", "cannot access an object property using an integer index"],
      ["values.w", "cannot access an array element using a property name"],
      ["values.x", 'unknown property "nam"; did you mean "name"?'],
      ["values.y", "array index 3 out-of-bounds for array of length 1"],
      ["values.z", "receiver must be an array or an object"],
    ]);
    expect(r.diagnostics[2]).toMatchObject({ line: 4, column: 9 }); // at ".nam", as ESC points
    expect(r.properties.x).toMatchObject({ unknown: true });
  });

  it("reports malformed accesses", () => {
    expect(run(`values:\n  a: "\${foo"\n`).diagnostics[0]!.summary).toBe("missing closing brace '}' in interpolation");
    expect(run(`values:\n  a: "\${[0]}"\n`).diagnostics[0]!.summary).toContain("the first accessor must be a property name");
  });

  it("reports cycles at each value on the cycle, and leaves them unknown", () => {
    const r = run(`values:\n  a: \${b}\n  b: \${c.x}\n  c: { x: "\${a}" }\n  d: \${a}\n`);
    expect(r.diagnostics.map((d) => d.summary)).toEqual(["cyclic reference to a"]);
    expect(r.properties.d).toMatchObject({ unknown: true });
    expect(run(`values:\n  o: { self: "\${o}" }\n`).diagnostics[0]).toMatchObject({ path: "values.o", summary: "cyclic reference to o" });
  });

  it("allows references between siblings of one object", () => {
    expect(run(`values:\n  o: { a: "\${o.b}", b: x }\n`).plain).toEqual({ o: { a: "x", b: "x" } });
  });
});

describe("result shape", () => {
  it("lists object members in sorted key order and keeps odd keys as data", () => {
    const r = run(`values:\n  b: 1\n  a: { z: 1, "__proto__": 2, m: 3 }\n`);
    expect(Object.keys(r.properties)).toEqual(["a", "b"]);
    expect(Object.keys(r.properties.a!.value as object)).toEqual(["__proto__", "m", "z"]);
  });
});
