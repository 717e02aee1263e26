/**
 * Credentials taken from the environment (binding `credentials:`): every cloud kind's explicit
 * provider gets them as secrets, keeps the usual credential chain without them, and stops with a
 * message naming the expected fields (never a value) when they do not fit.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { TargetKind } from "../../../programs/contract.js";
import { awsParameterStoreTarget } from "../../../programs/aws-parameter-store/index.js";
import { awsSecretsManagerTarget } from "../../../programs/aws-secrets-manager/index.js";
import { azureKeyVaultTarget } from "../../../programs/azure-key-vault/index.js";
import { gcpSecretManagerTarget } from "../../../programs/gcp-secret-manager/index.js";
import { githubActionsTarget } from "../../../programs/github-actions/index.js";
import { vaultKvTarget } from "../../../programs/vault-kv/index.js";
import { SecretValue } from "../../../programs/secret-value.js";
import { expectExplicitProvider, expectSecret, keyEntries, one, parseSettings, programInput, runProgram, type Registration } from "./fixtures.js";

/** Credentials as the planner hands them over: string leaves by their path. */
function creds(values: Record<string, string>): Record<string, SecretValue> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, new SecretValue(v)]));
}

async function providerOf<S extends object>(kind: TargetKind<S>, raw: unknown, providerType: string, credentials?: Record<string, string>): Promise<Registration> {
  const input = programInput(parseSettings(kind, raw), "keys", keyEntries({ DB_PASSWORD: "hunter2" }), credentials ? { credentials: creds(credentials) } : {});
  const { resources } = await runProgram(kind.program(input));
  expectExplicitProvider(resources, providerType);
  return one(resources, providerType);
}

/** Runs the program and returns the message it stops with. */
async function failure<S extends object>(kind: TargetKind<S>, raw: unknown, credentials: Record<string, string>): Promise<string> {
  const input = programInput(parseSettings(kind, raw), "keys", keyEntries({ DB_PASSWORD: "hunter2" }), { credentials: creds(credentials) });
  const err = await runProgram(kind.program(input)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "the program should fail").toBeInstanceOf(Error);
  const message = (err as Error).message;
  for (const value of Object.values(credentials)) if (value.length > 3) expect(message).not.toContain(value);
  return message;
}

const AWS_LOGIN = { accessKeyId: "ASIAEXAMPLE", secretAccessKey: "wJalrXUtnFEMI-secret", sessionToken: "FQoGZXIvYXdz-session" };

describe.each([
  { kind: awsSecretsManagerTarget as TargetKind<any>, raw: { region: "eu-west-1", roleArn: "arn:aws:iam::123456789012:role/esc-sync" } },
  { kind: awsParameterStoreTarget as TargetKind<any>, raw: { region: "eu-west-1" } },
])("$kind.kind credentials", ({ kind, raw }) => {
  const PROVIDER = "pulumi:providers:aws";

  it("passes an aws-login output to the provider as secrets", async () => {
    const provider = await providerOf(kind, raw, PROVIDER, AWS_LOGIN);
    expect(provider.inputs.region).toBe("eu-west-1");
    expectSecret(provider.inputs.accessKey, AWS_LOGIN.accessKeyId);
    expectSecret(provider.inputs.secretKey, AWS_LOGIN.secretAccessKey);
    expectSecret(provider.inputs.token, AWS_LOGIN.sessionToken);
  });

  it("takes long-lived keys without a session token", async () => {
    const provider = await providerOf(kind, raw, PROVIDER, { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "s3cr3t-key" });
    expectSecret(provider.inputs.accessKey, "AKIAEXAMPLE");
    expect(provider.inputs.token).toBeUndefined();
  });

  it("keeps the usual chain without credentials", async () => {
    const provider = await providerOf(kind, raw, PROVIDER);
    expect(provider.inputs.accessKey).toBeUndefined();
    expect(provider.inputs.secretKey).toBeUndefined();
    expect(provider.inputs.token).toBeUndefined();
  });

  it("names the fields it misses or does not know, never a value", async () => {
    expect(await failure(kind, raw, { accessKeyId: "AKIAEXAMPLE" })).toBe(
      `credentials for ${kind.kind} from the environment (binding credentials: or providerConfigFrom: environment): missing secretAccessKey; expected accessKeyId and secretAccessKey, ` +
        "and sessionToken for temporary credentials (the output of fn::open::aws-login), or no credentials: to use the usual credential chain",
    );
    expect(await failure(kind, raw, { ...AWS_LOGIN, AWS_REGION: "eu-west-1" })).toContain("unexpected field AWS_REGION; expected accessKeyId and secretAccessKey");
    expect(await failure(kind, raw, { AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY: "s3cr3t-key" })).toContain(
      "unexpected fields AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY;",
    );
  });

  it("treats an empty field as missing", async () => {
    expect(await failure(kind, raw, { accessKeyId: "", secretAccessKey: "s3cr3t-key" })).toContain("missing accessKeyId;");
  });
});

describe("azure-key-vault credentials", () => {
  const raw = { subscriptionId: "00000000-1111-2222-3333-444444444444", resourceGroupName: "rg", vaultName: "kv-one" };
  const PROVIDER = "pulumi:providers:azure-native";
  const login = { clientId: "11111111-aaaa", tenantId: "22222222-bbbb", subscriptionId: "/subscriptions/00000000-1111-2222-3333-444444444444" };

  it("uses an OIDC azure-login output: client, tenant, token and useOidc", async () => {
    const provider = await providerOf(azureKeyVaultTarget, raw, PROVIDER, { ...login, "oidc.token": "eyJhbGciOi-oidc" });
    expect(provider.inputs.subscriptionId).toBe(raw.subscriptionId);
    expectSecret(provider.inputs.clientId, login.clientId);
    expectSecret(provider.inputs.tenantId, login.tenantId);
    expectSecret(provider.inputs.oidcToken, "eyJhbGciOi-oidc");
    expect(provider.inputs.useOidc).toBe("true");
    expect(provider.inputs.clientSecret).toBeUndefined();
  });

  it("uses a client secret", async () => {
    const provider = await providerOf(azureKeyVaultTarget, raw, PROVIDER, { ...login, clientSecret: "azure-client-secret" });
    expectSecret(provider.inputs.clientSecret, "azure-client-secret");
    expect(provider.inputs.oidcToken).toBeUndefined();
    expect(provider.inputs.useOidc).toBeUndefined();
  });

  it("keeps the usual chain without credentials", async () => {
    const provider = await providerOf(azureKeyVaultTarget, raw, PROVIDER);
    expect(provider.inputs.clientId).toBeUndefined();
    expect(provider.inputs.useOidc).toBeUndefined();
  });

  it("names what is missing", async () => {
    expect(await failure(azureKeyVaultTarget, raw, login)).toContain(
      "credentials for azure-key-vault from the environment (binding credentials: or providerConfigFrom: environment): missing oidc.token or clientSecret; expected clientId, tenantId and oidc.token (OIDC) or clientSecret (the output of fn::open::azure-login)",
    );
    expect(await failure(azureKeyVaultTarget, raw, { clientSecret: "azure-client-secret", tenantId: "t" })).toContain("missing clientId;");
    expect(await failure(azureKeyVaultTarget, raw, { ...login, "oidc.token": "eyJhbGciOi-oidc", "oidc.extra": "x" })).toContain("unexpected field oidc.extra;");
  });
});

describe("gcp-secret-manager credentials", () => {
  const raw = { project: "acme-payments" };
  const PROVIDER = "pulumi:providers:gcp";

  it("uses a gcp-login output's access token, the project from the settings", async () => {
    const provider = await providerOf(gcpSecretManagerTarget, raw, PROVIDER, { project: "123456789", accessToken: "ya29.token", expiry: "2030-01-01T00:00:00Z", tokenType: "Bearer" });
    expect(provider.inputs.project).toBe("acme-payments");
    expectSecret(provider.inputs.accessToken, "ya29.token");
  });

  it("keeps application default credentials without credentials", async () => {
    expect((await providerOf(gcpSecretManagerTarget, raw, PROVIDER)).inputs.accessToken).toBeUndefined();
  });

  it("names what is missing", async () => {
    expect(await failure(gcpSecretManagerTarget, raw, { project: "123456789" })).toContain(
      "missing accessToken; expected accessToken (the output of fn::open::gcp-login)",
    );
    expect(await failure(gcpSecretManagerTarget, raw, { credentials: '{"type":"service_account"}' })).toContain("unexpected field credentials;");
  });
});

describe("github-actions credentials", () => {
  const raw = { owner: "acme", repository: "payments" };
  const PROVIDER = "pulumi:providers:github";
  const saved = process.env["GITHUB_TOKEN"];
  afterEach(() => {
    if (saved === undefined) delete process.env["GITHUB_TOKEN"];
    else process.env["GITHUB_TOKEN"] = saved;
  });

  it("uses token (or githubToken) before GITHUB_TOKEN", async () => {
    process.env["GITHUB_TOKEN"] = "ghp_from_env";
    expectSecret((await providerOf(githubActionsTarget, raw, PROVIDER, { token: "ghs_from_esc" })).inputs.token, "ghs_from_esc");
    expectSecret((await providerOf(githubActionsTarget, raw, PROVIDER, { githubToken: "ghs_other" })).inputs.token, "ghs_other");
    expectSecret((await providerOf(githubActionsTarget, raw, PROVIDER)).inputs.token, "ghp_from_env");
  });

  it("names what is missing", async () => {
    expect(await failure(githubActionsTarget, raw, { GITHUB_TOKEN: "ghp_wrong_name" })).toContain(
      "credentials for github-actions from the environment (binding credentials: or providerConfigFrom: environment): unexpected field GITHUB_TOKEN; expected token (or githubToken)",
    );
    expect(await failure(githubActionsTarget, raw, { token: "" })).toContain("missing token or githubToken;");
  });
});

describe("vault-kv credentials", () => {
  const raw = { address: "https://vault.example.com:8200", pathTemplate: "payments/prod" };
  const PROVIDER = "pulumi:providers:vault";

  it("uses a vault-login output's token, address and namespace from the settings", async () => {
    const provider = await providerOf(vaultKvTarget, raw, PROVIDER, { address: "https://other:8200", namespace: "admin", token: "hvs.token" });
    expect(provider.inputs.address).toBe("https://vault.example.com:8200");
    expect(provider.inputs.namespace).toBeUndefined();
    expectSecret(provider.inputs.token, "hvs.token");
  });

  it("keeps VAULT_TOKEN (read by the plugin) without credentials", async () => {
    expect((await providerOf(vaultKvTarget, raw, PROVIDER)).inputs.token).toBeUndefined();
  });

  it("names what is missing", async () => {
    expect(await failure(vaultKvTarget, raw, { address: "https://other:8200" })).toContain(
      "missing token; expected token (the output of fn::open::vault-login)",
    );
  });
});
