import { describe, expect, it } from "vitest";
import { run } from "./helpers.js";

describe("secret propagation", () => {
  const yaml = `
values:
  password: { fn::secret: hunter2 }
  user: admin
  interpolated: "postgres://\${user}:\${password}@db"
  reference: \${password}
  plainInterp: "user=\${user}"
  object:
    user: \${user}
    password: \${password}
  json: { fn::toJSON: "\${object}" }
  jsonPlain: { fn::toJSON: { user: "\${user}" } }
  joined: { fn::join: [",", [a, "\${password}"]] }
  string: { fn::toString: "\${object}" }
  b64: { fn::toBase64: "\${password}" }
  split: { fn::split: [",", "a,\${password}"] }
  concat: { fn::concat: [[x], ["\${password}"]] }
  final: { fn::final: { a: "\${password}", b: plain } }
`;
  const r = run(yaml);

  it("evaluates without errors", () => {
    expect(r.diagnostics).toEqual([]);
  });

  it("keeps the secret flag on fn::secret and references to it", () => {
    expect(r.properties.password).toEqual({ value: "hunter2", secret: true });
    expect(r.properties.reference).toEqual({ value: "hunter2", secret: true });
    expect(r.properties.user).toEqual({ value: "admin" });
  });

  it("makes a string interpolating a secret secret, and only that one", () => {
    expect(r.properties.interpolated).toEqual({ value: "postgres://admin:hunter2@db", secret: true });
    expect(r.properties.plainInterp).toEqual({ value: "user=admin" });
  });

  it("flags only the secret member of an object, not the object", () => {
    expect(r.redacted).toMatchObject({ object: { user: "admin", password: "[secret]" } });
  });

  it("makes built-in results computed from a secret secret", () => {
    for (const key of ["json", "joined", "string", "b64", "split", "concat", "final"]) {
      expect(r.properties[key]?.secret, key).toBe(true);
    }
    expect(r.properties.jsonPlain).toEqual({ value: '{"user":"admin"}' });
    expect(r.plain).toMatchObject({ json: '{"password":"hunter2","user":"admin"}', b64: "aHVudGVyMg==" });
  });

  it("makes everything decoded from a secret secret, down to the leaves", () => {
    const d = run(`
values:
  doc: { fn::secret: '{"a":{"b":[1,"x"]}}' }
  decoded: { fn::fromJSON: "\${doc}" }
  leaf: \${decoded.a.b[1]}
`);
    expect(d.diagnostics).toEqual([]);
    expect(d.properties.decoded).toEqual({
      value: { a: { value: { b: { value: [{ value: 1, secret: true }, { value: "x", secret: true }], secret: true } }, secret: true } },
      secret: true,
    });
    expect(d.properties.leaf).toEqual({ value: "x", secret: true });
  });

  it("reaches through fn::secret when accessing a property of it", () => {
    const d = run(`
values:
  s: { fn::secret: abc }
  copy: "\${s}!"
`);
    expect(d.properties.copy).toEqual({ value: "abc!", secret: true });
  });
});
