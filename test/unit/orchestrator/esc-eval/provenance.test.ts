import { describe, expect, it } from "vitest";
import { run } from "./helpers.js";

const CANARY = "canary-provenance-3f9a1c";

const shared = `
values:
  db:
    host: db.internal
    port: 5432
    password:
      fn::secret: ${CANARY}
  region: eu-west-1
`;

describe("provenance: where each value comes from", () => {
  it("follows imports and plain references to the declaration that defines a value", () => {
    const r = run(
      `
imports: [shared/common]
values:
  copy: \${db.password}
  vars:
    DB_PASSWORD: \${copy}
`,
      { "shared/common": shared },
    );
    expect(r.diagnostics).toEqual([]);
    // Inherited through the import: defined in the imported environment.
    expect(r.provenance!["db.password"]).toEqual({ definedIn: { environment: "shared/common", path: "db.password" }, derivedFrom: ["shared/common:db.password"] });
    // A chain of references keeps the first declaration as its origin and lists every hop.
    expect(r.provenance!["vars.DB_PASSWORD"]!.definedIn).toEqual({ environment: "shared/common", path: "db.password" });
    expect(r.provenance!["vars.DB_PASSWORD"]!.derivedFrom).toEqual(["proj/root:copy", "proj/root:vars.DB_PASSWORD", "shared/common:db.password"]);
  });

  it("traces an interpolated secret to each of its parts, defined where it is written", () => {
    const r = run(
      `
imports: [shared/common]
values:
  user: app
  databaseUrl: postgres://\${user}:\${db.password}@\${db.host}:\${db.port}/app
`,
      { "shared/common": shared },
    );
    const p = r.provenance!["databaseUrl"]!;
    expect(p.definedIn).toEqual({ environment: "proj/root", path: "databaseUrl" });
    expect(p.derivedFrom).toEqual(["proj/root:databaseUrl", "proj/root:user", "shared/common:db.host", "shared/common:db.password", "shared/common:db.port"]);
    // A value built from no secret part does not list the secret.
    expect(r.provenance!["user"]!.derivedFrom).toEqual(["proj/root:user"]);
  });

  it("traces fn:: results to their arguments, down to a decoded document's members", () => {
    const r = run(
      `
imports: [shared/common]
values:
  joined:
    fn::join: [",", ["\${region}", "\${db.host}"]]
  doc:
    fn::fromJSON: '{"a": {"b": 1}}'
  encoded:
    fn::toBase64: \${db.password}
  own:
    fn::secret: not-a-canary
`,
      { "shared/common": shared },
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.provenance!["joined"]!.derivedFrom).toEqual(["proj/root:joined", "shared/common:db.host", "shared/common:region"]);
    expect(r.provenance!["doc.a.b"]!.derivedFrom).toEqual(["proj/root:doc"]);
    expect(r.provenance!["encoded"]!.derivedFrom).toEqual(["proj/root:encoded", "shared/common:db.password"]);
    expect(r.provenance!["own"]).toEqual({ definedIn: { environment: "proj/root", path: "own" }, derivedFrom: ["proj/root:own"] });
  });

  it("keeps an overriding value's own origin, and the imported one for keys it does not override", () => {
    const r = run(
      `
imports: [shared/common]
values:
  db:
    host: override.internal
`,
      { "shared/common": shared },
    );
    expect(r.provenance!["db.host"]!.definedIn).toEqual({ environment: "proj/root", path: "db.host" });
    expect(r.provenance!["db.port"]!.definedIn).toEqual({ environment: "shared/common", path: "db.port" });
  });

  it("holds names and paths only, never a value", () => {
    const r = run(`imports: [shared/common]\nvalues:\n  url: x://\${db.password}\n`, { "shared/common": shared });
    expect(JSON.stringify(r.provenance)).not.toContain(CANARY);
    expect(JSON.stringify(r.plain)).toContain(CANARY);
  });
});
