/**
 * The `sync:` convention end to end in process: an environment's own `sync:` block, planned by
 * the real planner, then written by the kind's real program under Pulumi mocks.
 */
import { describe, expect, it } from "vitest";
import { parseManifest } from "../../../orchestrator/manifest/load.js";
import { planPairs as plan, programInput } from "../../../orchestrator/planner/plan.js";
import type { ResolvedEnvironment } from "../../../orchestrator/sources/source.js";
import type { ValueNode } from "../../../orchestrator/values.js";
import { findTargetKind } from "../../../programs/registry.js";
import { expectSecret, expectSecretObject, one, runProgram } from "./fixtures.js";

const manifest = parseManifest(
  `
version: 1
source: { kind: pulumi-cloud, org: acme }
targets:
  sm: { kind: aws-secrets-manager, region: eu-west-1 }
  gh: { kind: github-actions, owner: acme, repository: shop }
  vault: { kind: vault-kv, address: "https://vault.example.com", mount: secret, pathTemplate: "apps/{project}/{env}" }
  kv: { kind: azure-key-vault, subscriptionId: 00000000-0000-0000-0000-000000000000, resourceGroupName: rg, vaultName: shop-vault }
`,
  "m.yaml",
);

const o = (fields: Record<string, ValueNode>): ValueNode => ({ value: fields });
const secret = (value: string): ValueNode => ({ value, secret: true });

async function written(sync: ValueNode) {
  const env: ResolvedEnvironment = { ref: { org: "acme", project: "shop", name: "prod" }, properties: { sync } };
  const [pair] = plan({ manifest, environments: [env], matches: [], fingerprintKey: "k" }).pairs;
  expect(pair?.refusal).toBeUndefined();
  const { resources } = await runProgram(findTargetKind(pair!.kind)!.program(programInput(pair!)));
  return resources;
}

describe("sync: blocks through the kinds' programs", () => {
  it("awsSecretsManager {name, value}: one secret of that name holding the value", async () => {
    const resources = await written(o({ awsSecretsManager: o({ name: { value: "shop/prod/db" }, value: o({ user: { value: "u" }, password: secret("p4ss") }) }) }));
    expect(one(resources, "aws:secretsmanager/secret:Secret").inputs.name).toBe("shop/prod/db");
    expectSecret(one(resources, "aws:secretsmanager/secretVersion:SecretVersion").inputs.secretString, '{"user":"u","password":"p4ss"}');
  });

  it("githubSecrets {name, value}: an Actions secret, its name upper-cased", async () => {
    const resources = await written(o({ githubSecrets: o({ name: { value: "deploy_token" }, value: secret("t0k3n") }) }));
    const s = one(resources, "github:index/actionsSecret:ActionsSecret");
    expect(s.inputs.secretName).toBe("DEPLOY_TOKEN");
    expect(s.inputs.repository).toBe("shop");
    expectSecret(s.inputs.value, "t0k3n");
  });

  it("vaultSecret {path, value}: one KV v2 secret at the examples' API path, split into mount and path, nested values kept nested", async () => {
    const resources = await written(
      o({ vaultSecret: o({ path: { value: "secret/data/teams/shop/prod" }, value: o({ A: { value: "1" }, B: secret("two"), C: o({ haha: secret("three") }) }) }) }),
    );
    const s = one(resources, "vault:kv/secretV2:SecretV2");
    expect(s.inputs.mount).toBe("secret");
    expect(s.inputs.name).toBe("teams/shop/prod");
    expectSecret(s.inputs.dataJson, JSON.stringify({ A: "1", B: "two", C: { haha: "three" } }));
  });

  it("azureKeyVault {name, value}: a scalar item is text/plain, an object item application/json", async () => {
    const scalar = one(await written(o({ azureKeyVault: o({ name: { value: "db-password" }, value: secret("p4ss") }) })), "azure-native:keyvault:Secret");
    expect(scalar.inputs.secretName).toBe("db-password");
    expectSecretObject(scalar.inputs.properties, { value: "p4ss", contentType: "text/plain" });
    const doc = one(await written(o({ azureKeyVault: o({ name: { value: "db" }, value: o({ user: secret("u") }) }) })), "azure-native:keyvault:Secret");
    expectSecretObject(doc.inputs.properties, { value: '{"user":"u"}', contentType: "application/json" });
  });
});
