import { describe, expect, it } from "vitest";
import { run } from "./helpers.js";

describe("constructs that only Pulumi Cloud can evaluate", () => {
  const cases: [string, string, string][] = [
    ["fn::open", "fn::open: { provider: aws-login, inputs: { oidc: { roleArn: x } } }", "fn::open"],
    ["fn::open::<provider>", "fn::open::aws-secrets: { region: us-east-1, get: { a: { secretId: x } } }", "fn::open::aws-secrets"],
    ["fn::rotate::<provider>", "fn::rotate::aws-iam: { inputs: { region: x }, state: { current: null } }", "fn::rotate::aws-iam"],
    ["fn::secret with ciphertext", "fn::secret: { ciphertext: ZXNjeAAAAAE= }", "fn::secret with ciphertext"],
    ["fn::validate", "fn::validate: { schema: { type: string }, value: x }", "fn::validate"],
  ];

  it.each(cases)("%s gives an unknown value and a diagnostic naming it", (_label, construct, name) => {
    const r = run(`values:\n  plain: ok\n  app:\n    creds:\n      ${construct}\n`);
    expect(r.diagnostics).toHaveLength(1);
    const [d] = r.diagnostics;
    expect(d).toMatchObject({ path: "values.app.creds", line: 5, column: 7 });
    expect(d!.summary).toContain(name);
    expect(d!.summary).toContain("cannot be evaluated locally");
    expect(d!.summary).toContain("pulumi-cloud");
    expect((r.properties.app!.value as Record<string, { unknown?: boolean }>).creds!.unknown).toBe(true);
    expect(r.plain).toMatchObject({ plain: "ok" });
  });

  it("keeps a ciphertext secret unknown and secret", () => {
    const r = run(`values:\n  s: { fn::secret: { ciphertext: abc } }\n`);
    expect(r.properties.s).toMatchObject({ unknown: true, secret: true });
  });

  it("makes what is computed from a provider value unknown, without more errors", () => {
    const r = run(`values:\n  o: { fn::open::vault: { path: x } }\n  url: "https://\${o.host}"\n`);
    expect(r.diagnostics).toHaveLength(1);
    expect(r.properties.url).toMatchObject({ unknown: true });
  });

  it("says context.pulumi needs Pulumi Cloud, while context environment names work", () => {
    const r = run(`values:\n  user: \${context.pulumi.user.login}\n  me: \${context.currentEnvironment.name}\n`);
    expect(r.diagnostics).toEqual([expect.objectContaining({ path: "values.user", summary: expect.stringContaining("pulumi-cloud") })]);
    expect(r.plain).toMatchObject({ me: "proj/root" });
  });

  it("reports errors inside a provider's inputs too, as ESC does", () => {
    const r = run(`values:\n  o: { fn::open::test: { a: "\${missing}" } }\n`);
    expect(r.diagnostics.map((d) => d.path)).toEqual(["values.o", 'values.o["fn::open::test"].a']);
  });
});
