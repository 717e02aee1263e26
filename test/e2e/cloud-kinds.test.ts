/**
 * Cloud target kinds through the real CLI. `plan` lists what each kind would write and refuses
 * names with the store's rule; `sync` with a plugin that cannot be installed here fails those
 * pairs with the side-load instructions while the `file` pairs are written. Each test starts from
 * a fresh copy of the same sandbox (see test/support/states.ts).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { statuses } from "../support/sandbox.js";
import { sandboxState } from "../support/states.js";

const CANARY = "canary-kinds-0c77e2";

/** One environment and a target of every kind, each with its binding. */
const project = sandboxState("every kind", (box) => {
  box.writeEnvironment(
    "shop",
    "prod",
    `values:\n  environmentVariables:\n    db_password:\n      fn::secret: ${CANARY}\n    api_url: https://api.example.com\n`,
  );
  box.writeManifest(`
version: 1
source: { kind: local, folder: environments, org: acme }
state: { backend: file://./state }
targets:
  files: { kind: file, path: "out/{project}-{env}.env" }
  sm: { kind: aws-secrets-manager, region: eu-west-1 }
  ssm: { kind: aws-parameter-store, region: eu-west-1, pathPrefix: /apps }
  kv: { kind: azure-key-vault, subscriptionId: 00000000-0000-0000-0000-000000000000, resourceGroupName: rg, vaultName: kv-shop }
  gsm: { kind: gcp-secret-manager, project: acme-prod }
  gh: { kind: github-actions, owner: acme, repository: "{project}" }
  vault: { kind: vault-kv, address: "https://vault.example.com", mount: secret, pathTemplate: "apps/{project}/{env}" }
bindings:
  - { id: files, environments: "*/*", target: files }
  - { id: sm, environments: "*/*", target: sm, name: "{project}/{env}/{key}" }
  - { id: ssm, environments: "*/*", target: ssm, name: "{project}/{env}/{key}" }
  - { id: kv, environments: "*/*", target: kv, name: "{env}-{key}" }
  - { id: gsm, environments: "*/*", target: gsm, name: "{project}_{env}_{key}" }
  - { id: gh, environments: "*/*", target: gh, name: "{key}" }
  - { id: vault, environments: "*/*", target: vault, shape: json, name: "config" }
`);
});

describe("cloud target kinds", () => {
  afterAll(() => project.cleanup());

  it("plans every kind: the names each pair writes, after each store's transform", async () => {
    const { box } = await project.enter();
    const r = await box.run(["plan", "--output", "json"]);
    expect(r.code, r.stderr).toBe(0);
    const names = Object.fromEntries(
      (JSON.parse(r.stdout) as { steps: { target: string; entries: { name: string }[] }[] }).steps.map((p) => [p.target, p.entries.map((e) => e.name).sort()]),
    );
    expect(names).toEqual({
      files: ["api_url", "db_password"],
      sm: ["shop/prod/api_url", "shop/prod/db_password"],
      ssm: ["/apps/shop/prod/api_url", "/apps/shop/prod/db_password"],
      kv: ["prod-api-url", "prod-db-password"], // Key Vault: _ becomes -
      gsm: ["shop_prod_api_url", "shop_prod_db_password"],
      gh: ["API_URL", "DB_PASSWORD"], // GitHub: upper-cased
      vault: ["config"],
    });
    expect(r.stdout).not.toContain(CANARY);
  });

  it("refuses names the store does not allow, stating the store's rule", async () => {
    const { box } = await project.enter();
    box.writeEnvironment("shop", "bad", `values:\n  environmentVariables:\n    "github_token": x\n    "my key!": y\n`);
    const r = await box.run(["plan", "--filter", "shop/bad"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/shop\.bad\.gh: .*GITHUB_TOKEN.*GITHUB_/);
    expect(r.stdout).toMatch(/shop\.bad\.sm: .*my key!.*alphanumeric|shop\.bad\.sm: .*my key!.*\/_\+=\.@-/);
  });

  it("syncs the file pairs and fails the AWS pair with the plugin's side-load command, exit 1", async () => {
    const { box } = await project.enter();
    const { result, report } = await box.syncJson(["--target", "files", "--target", "sm"]);
    expect(result.code).toBe(1);
    expect(statuses(report)).toEqual({ "shop.prod.files": "created", "shop.prod.sm": "failed" });
    const sm = report.pairs.find((p) => p.stack === "shop.prod.sm")!;
    expect(sm.message).toMatch(/provider plugin aws v7\.48\.0 is not installed and could not be installed/);
    expect(sm.message).toMatch(/pulumi plugin install resource aws 7\.48\.0 --file PATH/);
    expect(existsSync(join(box.dir, "out/shop-prod.env"))).toBe(true);
    expect(result.stdout + result.stderr).not.toContain(CANARY);
  });
});
