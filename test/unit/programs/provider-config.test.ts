/**
 * Provider configuration and credentials from the environment (`providerConfigFrom:
 * environment`, the default for `sync:` blocks): planned by the real planner from an
 * environment's `pulumiConfig` and `environmentVariables`, shown by the plan by source name only,
 * then handed to the kind's real program under Pulumi mocks, where they reach the pair's explicit
 * provider as secrets.
 */
import { describe, expect, it } from "vitest";
import { parseManifest } from "../../../orchestrator/manifest/load.js";
import { decide } from "../../../orchestrator/planner/decide.js";
import { planPairs as plan, programInput, type Pair } from "../../../orchestrator/planner/plan.js";
import { runPlanToJson, runPlanToText } from "../../../orchestrator/reporters/plan.js";
import { classifyStacks } from "../../../orchestrator/planner/stacks.js";
import type { ResolvedEnvironment } from "../../../orchestrator/sources/source.js";
import type { ValueNode } from "../../../orchestrator/values.js";
import { findTargetKind } from "../../../programs/registry.js";
import { expectSecret, one, runProgram } from "./fixtures.js";
import { Selection } from "../../../orchestrator/planner/selection.js";

const KEY_ID = "AKIACANARYKEYID4711";
const SECRET_KEY = "canary-secret-access-key-0b5e";
const SESSION = "canary-session-token-9f1a";
const VAULT_TOKEN = "hvs.canary-vault-token-77";
const GH_TOKEN = "ghp_canaryGithubToken3141";
const CANARIES = [KEY_ID, SECRET_KEY, SESSION, VAULT_TOKEN, GH_TOKEN];

const o = (fields: Record<string, ValueNode>): ValueNode => ({ value: fields });
const plain = (value: string): ValueNode => ({ value });
const secret = (value: string): ValueNode => ({ value, secret: true });

/** An environment as `fn::open::aws-login` + the usual `environmentVariables`/`pulumiConfig` leave it. */
function awsEnv(extra: Record<string, ValueNode> = {}, config: Record<string, ValueNode> = { "aws:region": plain("us-west-2") }): ResolvedEnvironment {
  return {
    ref: { org: "acme", project: "app", name: "prod" },
    properties: {
      pulumiConfig: o(config),
      environmentVariables: o({
        AWS_ACCESS_KEY_ID: secret(KEY_ID),
        AWS_SECRET_ACCESS_KEY: secret(SECRET_KEY),
        AWS_SESSION_TOKEN: secret(SESSION),
        DB_HOST: plain("db.internal"),
      }),
      app: o({ password: secret("app-password") }),
      ...extra,
    },
  };
}

function planOf(manifestText: string, env: ResolvedEnvironment) {
  const manifest = parseManifest(manifestText, "m.yaml");
  const matches = manifest.bindings.map((binding) => ({ ref: env.ref, binding }));
  return plan({ manifest, environments: [env], matches, fingerprintKey: "k" });
}

function printed(pairs: Pair[]): string {
  const runPlan = decide(pairs, classifyStacks([], pairs, Selection.all, new Set()), {
    operation: "sync",
    dryRun: false,
    refresh: false,
    force: false,
    deletions: { allowAll: false, max: 0 },
    manifest: "/m.yaml",
  });
  return `${JSON.stringify(runPlanToJson(runPlan))}\n${runPlanToText(runPlan)}`;
}

function expectNoCanary(text: string): void {
  for (const c of CANARIES) expect(text).not.toContain(c);
}

const AWS_FROM_ENV = `
version: 1
source: { kind: pulumi-cloud, org: acme }
targets:
  sm: { kind: aws-secrets-manager, providerConfigFrom: environment }
bindings:
  - { environments: "*/*", target: sm, from: app, shape: json, name: "{project}/{env}" }
`;

describe("providerConfigFrom: environment", () => {
  it("acceptance: pulumiConfig aws:region and AWS credentials in environmentVariables configure the pair's provider, with none in the manifest or the process", async () => {
    for (const v of ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"]) {
      expect(process.env[v], `${v} must not be set for this test`).toBeUndefined();
    }
    const p = planOf(AWS_FROM_ENV, awsEnv());
    const pair = p.pairs[0]!;
    expect(pair.refusal).toBeUndefined();
    expect(pair.settings).toMatchObject({ region: "us-west-2", recoveryWindowInDays: 30 });
    expect(pair.location).toBe("us-west-2");
    expect(pair.provider).toEqual({
      settings: { region: "pulumiConfig aws:region" },
      credentials: ["environmentVariables AWS_ACCESS_KEY_ID", "environmentVariables AWS_SECRET_ACCESS_KEY", "environmentVariables AWS_SESSION_TOKEN"],
    });

    // The plan names where each came from, never a credential.
    const out = printed(p.pairs);
    expect(out).toContain("app.prod.sm: provider: region from pulumiConfig aws:region; credentials from environmentVariables AWS_ACCESS_KEY_ID");
    expect(out).toContain('"provider":{"settings":{"region":"pulumiConfig aws:region"}');
    expectNoCanary(out);
    expectNoCanary(JSON.stringify(p)); // the pair itself prints SecretValues as [secret]

    // The program: one explicit provider in that region, the credentials as secrets.
    const { resources } = await runProgram(findTargetKind(pair.kind)!.program(programInput(pair)));
    const provider = one(resources, "pulumi:providers:aws");
    expect(provider.inputs.region).toBe("us-west-2");
    expectSecret(provider.inputs.accessKey, KEY_ID);
    expectSecret(provider.inputs.secretKey, SECRET_KEY);
    expectSecret(provider.inputs.token, SESSION);
    expect(one(resources, "aws:secretsmanager/secret:Secret").provider).toBe(`${provider.urn}::${provider.name}-id`);
    // What the engine would write into state besides the provider: no credential anywhere.
    expectNoCanary(JSON.stringify(resources.filter((r) => r !== provider).map((r) => r.inputs)));
  });

  it("migrate adopt's AWS readers use the environment's credentials too, instead of the process's chain", async () => {
    const pair = planOf(AWS_FROM_ENV, awsEnv()).pairs[0]!;
    const { awsClientConfig } = await import("../../../programs/aws-secrets-manager/reader.js");
    expect(await awsClientConfig({ region: "us-west-2", profile: "dev" }, pair.credentials)).toEqual({
      region: "us-west-2",
      credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET_KEY, sessionToken: SESSION },
    });
    expect(await awsClientConfig({ region: "us-west-2", profile: "dev" })).toEqual({ region: "us-west-2", profile: "dev" });
  });

  it("the manifest wins over the environment, and the plan says what it wins over", () => {
    const p = planOf(AWS_FROM_ENV.replace("providerConfigFrom: environment", "region: eu-west-1, providerConfigFrom: environment"), awsEnv());
    expect(p.pairs[0]!.settings.region).toBe("eu-west-1");
    expect(p.pairs[0]!.provider?.settings).toEqual({ region: "manifest (over pulumiConfig aws:region)" });
    expect(printed(p.pairs)).toContain("region from manifest (over pulumiConfig aws:region)");
  });

  it("falls back to environmentVariables AWS_REGION when pulumiConfig has no region", () => {
    const p = planOf(AWS_FROM_ENV, awsEnv({ environmentVariables: o({ AWS_REGION: plain("ap-south-1") }) }, {}));
    expect(p.pairs[0]!.settings.region).toBe("ap-south-1");
    expect(p.pairs[0]!.provider).toEqual({ settings: { region: "environmentVariables AWS_REGION" }, credentials: ["esc-sync's process (the provider's usual credential chain)"] });
    expect(p.pairs[0]!.credentials).toBeUndefined();
  });

  it("refuses a pair whose environment gives no region, naming where to put one", () => {
    const p = planOf(AWS_FROM_ENV, awsEnv({}, {}));
    expect(p.pairs[0]!.refusal).toEqual({
      kind: "provider-config",
      message:
        'target "sm" has no region for environment acme/app/prod: set region in the manifest, or give the environment pulumiConfig aws:region or environmentVariables AWS_REGION or environmentVariables AWS_DEFAULT_REGION',
    });
    expect(printed(p.pairs)).toMatch(/refused: target "sm" has no region/);
    // No location to show until an environment gives the region.
    expect(p.pairs[0]!.location).toBe("(region from the environment)");
  });

  it("refuses a region the environment gives wrong, and a setting it marks secret, without printing it", () => {
    const bad = planOf(AWS_FROM_ENV, awsEnv({}, { "aws:region": plain("Mars") }));
    expect(bad.pairs[0]!.refusal).toMatchObject({ kind: "provider-config", message: 'target "sm" region (from pulumiConfig aws:region of environment acme/app/prod): must be an AWS region such as eu-west-1' });
    const hidden = planOf(AWS_FROM_ENV, awsEnv({}, { "aws:region": secret("canary-region-us-east-9") }));
    const message = hidden.pairs[0]!.refusal?.kind === "provider-config" ? hidden.pairs[0]!.refusal.message : "";
    expect(message).toMatch(/pulumiConfig aws:region of environment acme\/app\/prod is secret, but it sets region/);
    expect(message).not.toContain("canary-region");
  });

  it("refuses half a login at plan time, naming what is missing, never a value", () => {
    const half: ResolvedEnvironment = { ...awsEnv(), properties: { ...awsEnv().properties, environmentVariables: o({ AWS_ACCESS_KEY_ID: secret(KEY_ID) }) } };
    const p = planOf(AWS_FROM_ENV, half);
    expect(p.pairs[0]!.refusal).toEqual({
      kind: "provider-config",
      message:
        "environment acme/app/prod gives environmentVariables AWS_ACCESS_KEY_ID but not the rest of the provider's credentials: pulumiConfig aws:secretKey or environmentVariables AWS_SECRET_ACCESS_KEY. Give them too, or none, so that esc-sync's own process provides the credentials",
    });
    expectNoCanary(printed(p.pairs));
  });

  it("is off by default for manifest bindings: the environment's variables are values, not credentials", () => {
    const p = planOf(AWS_FROM_ENV.replace("providerConfigFrom: environment", "region: eu-west-1"), awsEnv());
    expect(p.pairs[0]!.provider).toBeUndefined();
    expect(p.pairs[0]!.credentials).toBeUndefined();
    expect(p.pairs[0]!.settings.region).toBe("eu-west-1");
  });

  it("can be turned on per binding, and a binding's credentials: path wins over environmentVariables", () => {
    const base = AWS_FROM_ENV.replace("providerConfigFrom: environment", "region: eu-west-1");
    const perBinding = planOf(base.replace('shape: json, name: "{project}/{env}" }', 'shape: json, name: "{project}/{env}", providerConfigFrom: environment }'), awsEnv());
    expect(perBinding.pairs[0]!.credentials?.accessKeyId?.reveal()).toBe(KEY_ID);
    const login = { login: o({ accessKeyId: secret("AKIAFROMLOGIN"), secretAccessKey: secret("from-login") }) };
    const explicit = planOf(
      base.replace('shape: json, name: "{project}/{env}" }', 'shape: json, name: "{project}/{env}", providerConfigFrom: environment, credentials: login }'),
      awsEnv(login),
    );
    expect(explicit.pairs[0]!.credentials?.accessKeyId?.reveal()).toBe("AKIAFROMLOGIN");
    expect(explicit.pairs[0]!.provider?.credentials).toEqual(["binding credentials: login"]);
  });

  it("a manifest target may leave out a provider setting only when it takes it from the environment", () => {
    expect(() => parseManifest(AWS_FROM_ENV.replace(", providerConfigFrom: environment", ""), "m.yaml")).toThrow(
      expect.objectContaining({ problems: [expect.objectContaining({ path: "targets.sm.region", message: expect.stringMatching(/add providerConfigFrom: environment/) })] }),
    );
    // ... and a binding that opts out then has nothing to use: refused, naming the fix.
    const out = planOf(AWS_FROM_ENV.replace('shape: json, name: "{project}/{env}" }', 'shape: json, name: "{project}/{env}", providerConfigFrom: manifest }'), awsEnv());
    expect(out.pairs[0]!.refusal).toMatchObject({ kind: "provider-config", message: expect.stringMatching(/has no region .*add providerConfigFrom: environment/) });
  });
});

describe("sync: blocks take provider configuration from their environment by default", () => {
  const SYNC = `
version: 1
source: { kind: pulumi-cloud, org: acme }
targets:
  vault: { kind: vault-kv, providerConfigFrom: environment }
  gh: { kind: github-actions, repository: app, providerConfigFrom: environment }
  sm: { kind: aws-secrets-manager, region: eu-west-1 }
`;
  const env: ResolvedEnvironment = {
    ref: { org: "acme", project: "app", name: "prod" },
    properties: {
      pulumiConfig: o({ "vault:address": plain("https://vault.acme.dev:8200"), "github:owner": plain("acme-corp"), "aws:region": plain("us-west-2") }),
      environmentVariables: o({ VAULT_TOKEN: secret(VAULT_TOKEN), GITHUB_TOKEN: secret(GH_TOKEN), AWS_ACCESS_KEY_ID: secret(KEY_ID), AWS_SECRET_ACCESS_KEY: secret(SECRET_KEY) }),
      sync: o({
        vaultSecret: o({ path: plain("secret/data/my-application-config"), value: o({ a: secret("1") }) }),
        githubSecrets: o({ name: plain("MY_GITHUB_SECRET_NAME"), value: secret("gh-value") }),
        awsSecretsManager: o({ name: plain("name-in-secrets-manager"), value: secret("sm-value") }),
      }),
    },
  };
  const pairs = plan({ manifest: parseManifest(SYNC, "m.yaml"), environments: [env], matches: [], fingerprintKey: "k" }).pairs;
  const byTarget = (id: string) => pairs.find((p) => p.targetId === id)!;

  it("vault: address from pulumiConfig vault:address, token from VAULT_TOKEN, secret to the provider", async () => {
    const pair = byTarget("vault");
    expect(pair.refusal).toBeUndefined();
    expect(pair.location).toBe("https://vault.acme.dev:8200/secret/my-application-config");
    const { resources } = await runProgram(findTargetKind(pair.kind)!.program(programInput(pair)));
    const provider = one(resources, "pulumi:providers:vault");
    expect(provider.inputs.address).toBe("https://vault.acme.dev:8200");
    expectSecret(provider.inputs.token, VAULT_TOKEN);
  });

  it("github: owner from pulumiConfig github:owner, token from GITHUB_TOKEN, secret to the provider", async () => {
    const pair = byTarget("gh");
    expect(pair.location).toBe("github.com/acme-corp/app");
    const { resources } = await runProgram(findTargetKind(pair.kind)!.program(programInput(pair)));
    const provider = one(resources, "pulumi:providers:github");
    expect(provider.inputs.owner).toBe("acme-corp");
    expectSecret(provider.inputs.token, GH_TOKEN);
  });

  it("aws: the manifest's region wins, the environment's credentials are used; the plan shows both without a value", () => {
    const pair = byTarget("sm");
    expect(pair.settings.region).toBe("eu-west-1");
    expect(pair.credentials?.secretAccessKey?.reveal()).toBe(SECRET_KEY);
    const out = printed(pairs);
    expect(out).toContain("app.prod.sm: provider: region from manifest (over pulumiConfig aws:region); credentials from environmentVariables AWS_ACCESS_KEY_ID, environmentVariables AWS_SECRET_ACCESS_KEY");
    expect(out).toContain("app.prod.vault: provider: address from pulumiConfig vault:address; credentials from environmentVariables VAULT_TOKEN");
    expectNoCanary(out);
  });

  it("a target with providerConfigFrom: manifest keeps its sync: pairs on the manifest and esc-sync's process", () => {
    const manifest = parseManifest(SYNC.replace("region: eu-west-1 }", "region: eu-west-1, providerConfigFrom: manifest }"), "m.yaml");
    const sm = plan({ manifest, environments: [env], matches: [], fingerprintKey: "k" }).pairs.find((p) => p.targetId === "sm")!;
    expect(sm.credentials).toBeUndefined();
    expect(sm.provider).toBeUndefined();
  });
});
