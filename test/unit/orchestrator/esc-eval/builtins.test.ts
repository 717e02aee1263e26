import { describe, expect, it } from "vitest";
import { errorPaths, run } from "./helpers.js";

describe("built-in functions", () => {
  it("fn::join joins strings, including from a reference", () => {
    const r = run(`values:\n  parts: [a, b]\n  j1: { fn::join: ["-", [x, y, z]] }\n  j2: { fn::join: ["", "\${parts}"] }\n  j3: { fn::join: [",", []] }\n`);
    expect(r.diagnostics).toEqual([]);
    expect(r.plain).toMatchObject({ j1: "x-y-z", j2: "ab", j3: "" });
  });

  it("fn::join checks its arguments as ESC does", () => {
    const r = run(`values:\n  n: 1\n  a: { fn::join: [",", [x, 1]] }\n  b: { fn::join: [1, [x]] }\n  c: { fn::join: [",", x] }\n  d: { fn::join: [",", [x], y] }\n  e: { fn::join: [",", "\${n}"] }\n`);
    expect(r.diagnostics.map((d) => [d.path, d.summary])).toEqual([
      ['values.d["fn::join"]', "the argument to fn::join must be a two-valued list"],
      ['values.a["fn::join"][1][1]', "expected string, got number"],
      ['values.b["fn::join"][0]', "expected string, got number"],
      ['values.c["fn::join"][1]', "expected array, got string"],
      ['values.e["fn::join"][1]', "expected array, got number"],
    ]);
    for (const k of ["a", "b", "c", "d", "e"]) expect(r.properties[k]?.unknown, k).toBe(true);
  });

  it("fn::split splits on a delimiter, or into characters on an empty one", () => {
    const r = run(`values:\n  s: { fn::split: [",", "a,,b"] }\n  c: { fn::split: ["", "h€𐀀"] }\n  e: { fn::split: [",", ""] }\n`);
    expect(r.plain).toMatchObject({ s: ["a", "", "b"], c: ["h", "€", "𐀀"], e: [""] });
  });

  it("fn::concat concatenates arrays and rejects non-arrays", () => {
    const r = run(`values:\n  l: [3]\n  c: { fn::concat: [[1], "\${l}", [[4]]] }\n`);
    expect(r.plain).toMatchObject({ c: [1, 3, [4]] });
    expect(errorPaths(run(`values:\n  c: { fn::concat: [[1], 2] }\n`))).toEqual(['values.c["fn::concat"][1]']);
    expect(errorPaths(run(`values:\n  c: { fn::concat: x }\n`))).toEqual(['values.c["fn::concat"]', 'values.c["fn::concat"]']);
  });

  it("fn::toJSON encodes as Go does: sorted keys, numbers as written, HTML characters escaped", () => {
    const r = run(`values:\n  j: { fn::toJSON: { b: [1, 2.50, true, null], a: "<&>", c: { z: 1, "y": é } } }\n  s: { fn::toJSON: plain }\n`);
    expect(r.plain).toMatchObject({ j: '{"a":"\\u003c\\u0026\\u003e","b":[1,2.5,true,null],"c":{"y":"é","z":1}}', s: '"plain"' });
  });

  it("fn::fromJSON decodes JSON and reports invalid JSON", () => {
    const r = run(`values:\n  o: { fn::fromJSON: '{"a":[1,{"b":null}],"c":1.50}' }\n  again: { fn::toJSON: "\${o}" }\n`);
    expect(r.plain).toMatchObject({ o: { a: [1, { b: null }], c: 1.5 }, again: '{"a":[1,{"b":null}],"c":1.50}' });
    const bad = run(`values:\n  o: { fn::fromJSON: "{nope" }\n  n: { fn::fromJSON: { a: 1 } }\n`);
    expect(bad.diagnostics.map((d) => [d.path, d.summary.split(":")[0]])).toEqual([
      ['values.n["fn::fromJSON"]', "expected string, got object"],
      ["values.o", "decoding JSON string"],
    ]);
  });

  it("fn::toString renders values as ESC does", () => {
    const r = run(`values:\n  a: { fn::toString: 42 }\n  b: { fn::toString: [x, "q\\"", 1] }\n  c: { fn::toString: { k: v, a: true } }\n  d: { fn::toString: null }\n  e: { fn::toString: "tab\\there" }\n`);
    expect(r.plain).toMatchObject({ a: "42", b: '"x","q\\"","1"', c: '"a"="true","k"="v"', d: "", e: "tab\there" });
  });

  it("fn::toBase64 and fn::fromBase64 round-trip UTF-8 text and reject bad input", () => {
    const r = run(`values:\n  e: { fn::toBase64: "héllo" }\n  d: { fn::fromBase64: "\${e}" }\n  bad: { fn::fromBase64: "abc" }\n  bad2: { fn::fromBase64: "a=bc" }\n  num: { fn::toBase64: 1 }\n`);
    expect(r.plain).toMatchObject({ e: "aMOpbGxv", d: "héllo" });
    expect(r.diagnostics.map((d) => d.path)).toEqual(["values.bad", "values.bad2", 'values.num["fn::toBase64"]']);
    expect(r.diagnostics[0]!.summary).toContain("decoding base64 string");
  });

  it("fn::secret accepts only a string literal", () => {
    const r = run(`values:\n  x: y\n  a: { fn::secret: 42 }\n  b: { fn::secret: "\${x}" }\n  c: { fn::secret: "a$$b" }\n`);
    expect(r.diagnostics.map((d) => [d.path, d.summary])).toEqual([
      ['values.a["fn::secret"]', "secret values must be string literals"],
      ['values.b["fn::secret"]', "secret values must be string literals"],
    ]);
    expect(r.properties.c).toEqual({ value: "a$b", secret: true });
  });

  it("fn::final passes its value through", () => {
    const r = run(`values:\n  f: { fn::final: { a: [1] } }\n  g: \${f.a[0]}\n`);
    expect(r.plain).toEqual({ f: { a: [1] }, g: 1 });
  });

  it("nests built-ins and references", () => {
    const r = run(`
values:
  hosts: { fn::split: [",", "a.example,b.example"] }
  urls: { fn::join: [";", "\${hosts}"] }
  doc: { fn::toJSON: { hosts: "\${hosts}", first: "\${hosts[0]}" } }
  back: { fn::fromJSON: "\${doc}" }
  first: \${back.first}
  encoded: { fn::toBase64: { fn::toString: "\${hosts}" } }
`);
    expect(r.diagnostics).toEqual([]);
    expect(r.plain).toMatchObject({
      urls: "a.example;b.example",
      doc: '{"first":"a.example","hosts":["a.example","b.example"]}',
      first: "a.example",
      encoded: Buffer.from('"a.example","b.example"').toString("base64"),
    });
  });
});
