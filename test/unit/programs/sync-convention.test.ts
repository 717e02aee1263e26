/**
 * The `sync:` convention end to end in process: an environment's own `sync:` block, planned by
 * the real planner, then written by the kind's real program under Pulumi mocks.
 */
import { describe, expect, it } from "vitest";
import { parseManifest } from "../../../orchestrator/manifest/load.js";
import { plan, programInput } from "../../../orchestrator/planner/plan.js";
import type { ResolvedEnvironment } from "../../../orchestrator/sources/source.js";
import type { ValueNode } from "../../../orchestrator/values.js";
import { findTargetKind } from "../../../programs/registry.js";
import { expectSecret, one, runProgram } from "./fixtures.js";

const manifest = parseManifest(
  `
version: 1
source: { kind: pulumi-cloud, org: acme }
targets:
  sm: { kind: aws-secrets-manager, region: eu-west-1 }
  gh: { kind: github-actions, owner: acme, repository: shop }
  vault: { kind: vault-kv, address: "https://vault.example.com", mount: secret, pathTemplate: "apps/{project}/{env}" }
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
    expectSecret(s.inputs.plaintextValue, "t0k3n");
  });

  it("vaultSecret {path, value}: one KV secret at that path, the value's keys as its fields", async () => {
    const resources = await written(o({ vaultSecret: o({ path: { value: "teams/shop/prod" }, value: o({ A: { value: "1" }, B: secret("two") }) }) }));
    const s = one(resources, "vault:kv/secretV2:SecretV2");
    expect(s.inputs.name).toBe("teams/shop/prod");
    expectSecret(s.inputs.dataJson, JSON.stringify({ A: "1", B: "two" }));
  });
});
