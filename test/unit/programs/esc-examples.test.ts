/**
 * Side by side with Pulumi's ESC sync examples (github.com/pulumi/esc-examples, `sync/<target>/`):
 * their six `sync:` blocks, unchanged and in one environment, planned by esc-sync's planner and
 * written by its programs under Pulumi mocks, land where the examples' programs put them, holding
 * the same values. What each example's program writes is described in `EXAMPLES` below, from its
 * `target/index.ts` and the `pulumi env open … sync.<key>.value > sync.json` step of its
 * deployment settings; each intended difference is stated in the test that allows it, with why.
 */
import { describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { parseManifest } from "../../../orchestrator/manifest/load.js";
import { planPairs as plan, programInput, type Pair } from "../../../orchestrator/planner/plan.js";
import type { ResolvedEnvironment } from "../../../orchestrator/sources/source.js";
import type { ValueNode } from "../../../orchestrator/values.js";
import { findTargetKind } from "../../../programs/registry.js";
import { one, runProgram, type Registration } from "./fixtures.js";

/** `my-project/my-imported-env`, the environment every example imports (values made up). */
const IMPORTED = { foo: "imported-foo", bar: "imported-bar", password: "canary-examples-password-5e1" };

const o = (fields: Record<string, ValueNode>): ValueNode => ({ value: fields });
const plain = (value: string): ValueNode => ({ value });
const secret = (value: string): ValueNode => ({ value, secret: true });

/** The `value:` the object-valued examples share, as ESC evaluates it (the password is a secret). */
const objectValue = () =>
  o({ myConfigKey: plain(IMPORTED.foo), myNestedKey: o({ haha: plain(IMPORTED.bar) }), mySecret: secret(IMPORTED.password) });
const objectPlain = { myConfigKey: IMPORTED.foo, myNestedKey: { haha: IMPORTED.bar }, mySecret: IMPORTED.password };

/** The six examples' `sync:` blocks, unchanged but for the resolved imports, in one environment. */
const environment: ResolvedEnvironment = {
  ref: { org: "acme", project: "my-project", name: "dev" },
  properties: {
    sync: o({
      awsParameterStore: o({ value: objectValue(), name: plain("/namespaced/name-in-parameter-store") }),
      awsSecretsManager: o({ value: objectValue(), name: plain("name-in-secrets-manager") }),
      azureKeyVault: o({ value: secret(IMPORTED.password), name: plain("MY_AZURE_KEY_VAULT_SECRET_NAME") }),
      gcpSecretManager: o({ value: objectValue(), name: plain("my-gcp-secret") }),
      githubSecrets: o({ value: secret(IMPORTED.password), name: plain("MY_GITHUB_SECRET_NAME") }),
      vaultSecret: o({ value: objectValue(), path: plain("secret/data/my-application-config") }),
    }),
    // What the examples' stacks read from the attached environment (`pulumi config env add`).
    pulumiConfig: o({
      "aws:region": plain("us-west-2"),
      "gcp:project": plain("my-gcp-project"),
      "vault:address": plain("https://vault.example.com:8200"),
      "github:owner": plain("pulumi"),
      "azure-native:subscriptionId": plain("00000000-0000-0000-0000-000000000000"),
    }),
  },
};

/**
 * One target per example. The settings the examples kept in their stacks' config (Key Vault's
 * vault and resource group, GitHub's repository) are the target's; the providers' region,
 * project, address, owner and subscription come from the environment. `recoveryWindowInDays: 0`
 * and `customMetadata: false` ask for the examples' behaviour.
 */
const manifest = parseManifest(
  `
version: 1
source: { kind: pulumi-cloud, org: acme }
targets:
  ssm: { kind: aws-parameter-store, providerConfigFrom: environment }
  sm: { kind: aws-secrets-manager, providerConfigFrom: environment, recoveryWindowInDays: 0 }
  kv: { kind: azure-key-vault, providerConfigFrom: environment, resourceGroupName: my-rg, vaultName: my-vault }
  gsm: { kind: gcp-secret-manager, providerConfigFrom: environment }
  gh: { kind: github-actions, providerConfigFrom: environment, repository: esc-examples }
  vault: { kind: vault-kv, providerConfigFrom: environment, customMetadata: false }
`,
  "m.yaml",
);

/** What `pulumi env open <env> sync.<key>.value` printed into `sync.json`: indented JSON, sorted keys, strings quoted. */
function envOpen(value: unknown): string {
  const sorted = (v: unknown): unknown =>
    v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])])) : v;
  return JSON.stringify(sorted(value), null, 2);
}

/** What each example's `target/index.ts` creates, in the store's terms. */
const EXAMPLES = {
  // aws.ssm.Parameter(<name>, { type: SecureString, value: sync.json }): no `name` input, so
  // Pulumi auto-names the parameter <name>-<random suffix>.
  awsParameterStore: { type: "aws:ssm/parameter:Parameter", name: "/namespaced/name-in-parameter-store", autonamed: true, value: envOpen(objectPlain) },
  // aws.secretsmanager.Secret(<name>, { recoveryWindowInDays: 0 }) + SecretVersion(secretString: sync.json); auto-named.
  awsSecretsManager: { type: "aws:secretsmanager/secret:Secret", name: "name-in-secrets-manager", autonamed: true, value: envOpen(objectPlain) },
  // azure.keyvault.Secret({ secretName: <name>, vaultName, resourceGroupName, properties: { value: sync.json } }).
  azureKeyVault: { type: "azure-native:keyvault:Secret", name: "MY_AZURE_KEY_VAULT_SECRET_NAME", autonamed: false, value: envOpen(IMPORTED.password) },
  // gcp.secretmanager.Secret({ secretId: <name>, replication: automatic }) + SecretVersion(secretData: sync.json).
  gcpSecretManager: { type: "gcp:secretmanager/secret:Secret", name: "my-gcp-secret", autonamed: false, value: envOpen(objectPlain) },
  // github.ActionsSecret({ repository, secretName: <name>, plaintextValue: JSON.stringify(JSON.parse(sync.json), null, 2) }).
  githubSecrets: { type: "github:index/actionsSecret:ActionsSecret", name: "MY_GITHUB_SECRET_NAME", autonamed: false, value: JSON.stringify(IMPORTED.password, null, 2) },
  // vault.GenericSecret({ path: <path>, dataJson: sync.json }): the KV v2 API path of mount `secret`.
  vaultSecret: { type: "vault:index/genericSecret:GenericSecret", name: "secret/data/my-application-config", autonamed: false, value: envOpen(objectPlain) },
} as const;

const pairs = plan({ manifest, environments: [environment], matches: [], fingerprintKey: "k" }).pairs;
const pairOf = (bindingKey: keyof typeof EXAMPLES): Pair => {
  const pair = pairs.find((p) => p.bindingId === `sync:${bindingKey}`);
  expect(pair, `a pair for sync.${bindingKey}`).toBeDefined();
  expect(pair!.refusal, `sync.${bindingKey} is not refused`).toBeUndefined();
  return pair!;
};

async function written(bindingKey: keyof typeof EXAMPLES): Promise<Registration[]> {
  const pair = pairOf(bindingKey);
  return (await runProgram(findTargetKind(pair.kind)!.program(programInput(pair)))).resources;
}

/** A secret input's plain text. */
function reveal(input: unknown): unknown {
  expect(pulumi.runtime.isRpcSecret(input), "the value reaches the engine as a secret").toBe(true);
  return pulumi.runtime.unwrapRpcSecret(input);
}

/**
 * The value format is esc-sync's, on purpose (documented in each kind's README): a document is
 * compact JSON in the environment's key order and a string is written bare, where the examples
 * wrote `pulumi env open`'s output (indented, sorted keys, a string JSON-quoted). Same JSON value.
 */
function expectSameValue(escSync: unknown, examples: string): void {
  expect(typeof escSync).toBe("string");
  const text = escSync as string;
  const parsed = (() => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text; // a bare string
    }
  })();
  expect(parsed).toEqual(JSON.parse(examples));
}

describe("the ESC examples' six sync: blocks, in one environment, through esc-sync", () => {
  it("plan one pair per block, each in its own target, none refused, no warning", () => {
    const p = plan({ manifest, environments: [environment], matches: [], fingerprintKey: "k" });
    expect(p.warnings).toEqual([]);
    expect(p.pairs.map((x) => [x.bindingId, x.targetId, x.refusal?.kind ?? "ok"]).sort()).toEqual([
      ["sync:awsParameterStore", "ssm", "ok"],
      ["sync:awsSecretsManager", "sm", "ok"],
      ["sync:azureKeyVault", "kv", "ok"],
      ["sync:gcpSecretManager", "gsm", "ok"],
      ["sync:githubSecrets", "gh", "ok"],
      ["sync:vaultSecret", "vault", "ok"],
    ]);
  });

  it("awsSecretsManager: a secret named as the block says, in the environment's region, recovery window 0, the same value", async () => {
    const resources = await written("awsSecretsManager");
    const secret = one(resources, EXAMPLES.awsSecretsManager.type);
    // Intended difference: esc-sync names the secret exactly; the example's program gave no
    // `name`, so Pulumi auto-named it with a random suffix (name-in-secrets-manager-1a2b3c4).
    expect(secret.inputs.name).toBe(EXAMPLES.awsSecretsManager.name);
    expect(secret.inputs.recoveryWindowInDays).toBe(0);
    expect(one(resources, "pulumi:providers:aws").inputs.region).toBe("us-west-2");
    expectSameValue(reveal(one(resources, "aws:secretsmanager/secretVersion:SecretVersion").inputs.secretString), EXAMPLES.awsSecretsManager.value);
  });

  it("awsParameterStore: a SecureString parameter named as the block says, the same value", async () => {
    const resources = await written("awsParameterStore");
    const parameter = one(resources, EXAMPLES.awsParameterStore.type);
    // Intended difference: the exact name, where the example's program let Pulumi auto-name it.
    expect(parameter.inputs.name).toBe(EXAMPLES.awsParameterStore.name);
    expect(parameter.inputs.type).toBe("SecureString");
    expect(one(resources, "pulumi:providers:aws").inputs.region).toBe("us-west-2");
    expectSameValue(reveal(parameter.inputs.value), EXAMPLES.awsParameterStore.value);
  });

  it("azureKeyVault: a secret in the target's vault, text/plain, the same value", async () => {
    const resources = await written("azureKeyVault");
    const s = one(resources, EXAMPLES.azureKeyVault.type);
    // Intended difference: Key Vault names allow only 0-9a-zA-Z-, so esc-sync writes _ as -
    // (the example's name would be refused by Azure as it is).
    expect(s.inputs.secretName).toBe(EXAMPLES.azureKeyVault.name.replace(/_/g, "-"));
    expect([s.inputs.vaultName, s.inputs.resourceGroupName]).toEqual(["my-vault", "my-rg"]);
    expect(one(resources, "pulumi:providers:azure-native").inputs.subscriptionId).toBe("00000000-0000-0000-0000-000000000000");
    const properties = reveal(s.inputs.properties) as { value: string; contentType: string };
    expect(properties.contentType).toBe("text/plain");
    // Intended difference: the bare string, where the example wrote it JSON-quoted ("...").
    expect(properties.value).toBe(IMPORTED.password);
    expectSameValue(properties.value, EXAMPLES.azureKeyVault.value);
  });

  it("gcpSecretManager: a secret with that id in the environment's project, automatic replication, the same value", async () => {
    const resources = await written("gcpSecretManager");
    const s = one(resources, EXAMPLES.gcpSecretManager.type);
    expect(s.inputs.secretId).toBe(EXAMPLES.gcpSecretManager.name);
    expect(s.inputs.project).toBe("my-gcp-project");
    // `{ auto: {} }` is today's spelling of the example's `{ automatic: true }`.
    expect(s.inputs.replication).toEqual({ auto: {} });
    expectSameValue(reveal(one(resources, "gcp:secretmanager/secretVersion:SecretVersion").inputs.secretData), EXAMPLES.gcpSecretManager.value);
  });

  it("githubSecrets: an Actions secret of that name in the target's repository of the environment's owner, through value, the same value", async () => {
    const resources = await written("githubSecrets");
    const s = one(resources, EXAMPLES.githubSecrets.type);
    expect(s.inputs.secretName).toBe(EXAMPLES.githubSecrets.name);
    expect(s.inputs.repository).toBe("esc-examples");
    expect(one(resources, "pulumi:providers:github").inputs.owner).toBe("pulumi");
    // `value`, not the deprecated `plaintextValue` the example used.
    expect(s.inputs.plaintextValue).toBeUndefined();
    // Intended difference: the bare string, where the example wrote it JSON-quoted.
    expect(reveal(s.inputs.value)).toBe(IMPORTED.password);
    expectSameValue(reveal(s.inputs.value), EXAMPLES.githubSecrets.value);
  });

  it("vaultSecret: the KV v2 secret at the example's API path (mount secret, path my-application-config), nested values nested", async () => {
    const resources = await written("vaultSecret");
    const s = one(resources, "vault:kv/secretV2:SecretV2");
    // The example's GenericSecret at secret/data/my-application-config is this kv.SecretV2.
    expect(`${s.inputs.mount}/data/${s.inputs.name}`).toBe(EXAMPLES.vaultSecret.name);
    expect(one(resources, "pulumi:providers:vault").inputs.address).toBe("https://vault.example.com:8200");
    expect(JSON.parse(reveal(s.inputs.dataJson) as string)).toEqual(JSON.parse(EXAMPLES.vaultSecret.value));
    // customMetadata: false, as the example wrote data only (no update permission on metadata/).
    expect(s.inputs.customMetadata).toBeUndefined();
  });
});
