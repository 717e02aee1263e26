/**
 * Provider configuration from the environment through the real CLI: an environment carrying
 * `pulumiConfig.aws:region` and AWS credentials in `environmentVariables` (as an
 * `fn::open::aws-login` environment passes them on), a manifest with neither, and a process
 * without AWS variables. `plan` shows where the region and the credentials come from, by name;
 * `sync` runs the pair (here failing on the AWS plugin, which cannot be installed on this
 * machine: the program itself is covered under mocks in test/unit/programs/provider-config.test.ts),
 * and no credential reaches any output or the state.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Sandbox, statuses } from "../support/sandbox.js";

const KEY_ID = "AKIAE2ECANARY0042";
const SECRET_KEY = "canary-e2e-secret-access-key-a9";
const VALUE = "canary-e2e-app-password-17";

const box = new Sandbox();
box.writeEnvironment(
  "app",
  "prod",
  `values:
  pulumiConfig:
    aws:region: us-west-2
    vault:address: https://vault.example.com:8200
  environmentVariables:
    AWS_ACCESS_KEY_ID:
      fn::secret: ${KEY_ID}
    AWS_SECRET_ACCESS_KEY:
      fn::secret: ${SECRET_KEY}
  app:
    password:
      fn::secret: ${VALUE}
  sync:
    vaultSecret:
      path: secret/data/my-application-config
      value:
        myNestedKey:
          haha: hi
`,
);
box.writeEnvironment("app", "dev", `values:\n  app:\n    password: dev-password\n`);
box.writeManifest(`
version: 1
source: { kind: local, folder: environments, org: acme }
state: { backend: file://./state }
targets:
  files: { kind: file, path: "out/{env}.json" }
  sm: { kind: aws-secrets-manager, providerConfigFrom: environment }
  vault: { kind: vault-kv, providerConfigFrom: environment }
bindings:
  - { id: files, environments: "app/*", target: files, from: app, shape: json }
  - { id: sm, environments: "app/*", target: sm, from: app, shape: json, name: "{project}/{env}" }
`);

function expectNoCredential(text: string): void {
  for (const c of [KEY_ID, SECRET_KEY, VALUE]) expect(text).not.toContain(c);
}

describe("provider configuration from the environment, through the CLI", () => {
  afterAll(() => box.cleanup());

  it("plan: the region and credentials come from the environment, shown by name; an environment without a region is refused, naming where to put one", async () => {
    const r = await box.run(["plan"]);
    expect(r.code, r.stderr).toBe(1); // app/dev gives no region
    expect(r.stdout).toContain("app.prod.sm: provider: region from pulumiConfig aws:region; credentials from environmentVariables AWS_ACCESS_KEY_ID, environmentVariables AWS_SECRET_ACCESS_KEY");
    expect(r.stdout).toContain("app.prod.vault: provider: address from pulumiConfig vault:address; credentials from esc-sync's process");
    expect(r.stdout).toMatch(/app\.dev\.sm: refused: target "sm" has no region for environment acme\/app\/dev: set region in the manifest, or give the environment pulumiConfig aws:region/);
    expectNoCredential(r.stdout + r.stderr);

    const json = await box.run(["plan", "--output", "json", "--filter", "app/prod"]);
    expect(json.code, json.stderr).toBe(0);
    const steps = (JSON.parse(json.stdout) as { steps: { stack: string; location: string; provider?: unknown }[] }).steps;
    const sm = steps.find((s) => s.stack === "app.prod.sm")!;
    expect(sm.location).toBe("us-west-2");
    expect(sm.provider).toEqual({
      settings: { region: "pulumiConfig aws:region" },
      credentials: ["environmentVariables AWS_ACCESS_KEY_ID", "environmentVariables AWS_SECRET_ACCESS_KEY"],
    });
    expect(steps.find((s) => s.stack === "app.prod.vault")!.location).toBe("https://vault.example.com:8200/secret/my-application-config");
    expectNoCredential(json.stdout + json.stderr);
  });

  it("sync: the pair runs with the environment's configuration (failing here only on the plugin), and no credential is in any output or the state", async () => {
    const { result, report } = await box.syncJson(["--filter", "app/prod", "--target", "files", "--target", "sm"]);
    expect(statuses(report)).toEqual({ "app.prod.files": "created", "app.prod.sm": "failed" });
    expect(report.pairs.find((p) => p.stack === "app.prod.sm")!.message).toMatch(/provider plugin aws v[\d.]+ is not installed/);
    expectNoCredential(result.stdout + result.stderr);
    expectNoCredential(box.stateText());
  });
});
