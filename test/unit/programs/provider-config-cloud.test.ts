/**
 * Provider configuration from an environment on the Pulumi Cloud source: what an
 * `fn::open::aws-login` environment gives (its login output, secret, passed on as
 * `environmentVariables`, with `pulumiConfig.aws:region`) arrives through the real
 * `@pulumi/esc-sdk` from the loopback ESC server, is planned by the real planner and reaches the
 * pair's explicit AWS provider as secrets under Pulumi mocks. The server's evaluator stands in
 * for the aws-login provider (which needs AWS): it answers with the shape an open session has.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseManifest } from "../../../orchestrator/manifest/load.js";
import { planPairs as plan, programInput } from "../../../orchestrator/planner/plan.js";
import { PulumiCloudSource } from "../../../orchestrator/sources/pulumi-cloud.js";
import type { ValueNode } from "../../../orchestrator/values.js";
import { findTargetKind } from "../../../programs/registry.js";
import { startEscServer, type EscServer, type EvaluateFn } from "../../support/esc-server/index.js";
import { expectSecret, one, runProgram } from "./fixtures.js";

const ORG = "acme";
const TOKEN = "pul-token-provider-config";
const LOGIN = { accessKeyId: "ASIACLOUDCANARY01", secretAccessKey: "cloud-canary-secret-key-77", sessionToken: "cloud-canary-session-88" };

const secret = (value: string): ValueNode => ({ value, secret: true });

/** What an open session of `app/prod` returns: the login output (secret), passed on, and the region. */
const evaluate: EvaluateFn = () => {
  const login: ValueNode = { value: { accessKeyId: secret(LOGIN.accessKeyId), secretAccessKey: secret(LOGIN.secretAccessKey), sessionToken: secret(LOGIN.sessionToken) } };
  return {
    properties: {
      aws: { value: { login } },
      pulumiConfig: { value: { "aws:region": { value: "us-west-2" } } },
      environmentVariables: {
        value: { AWS_ACCESS_KEY_ID: secret(LOGIN.accessKeyId), AWS_SECRET_ACCESS_KEY: secret(LOGIN.secretAccessKey), AWS_SESSION_TOKEN: secret(LOGIN.sessionToken) },
      },
      sync: { value: { awsSecretsManager: { value: { name: { value: "name-in-secrets-manager" }, value: secret("the-value") } } } },
    },
    diagnostics: [],
    secrets: [],
  };
};

let folder: string;
let server: EscServer;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), "esc-server-"));
  mkdirSync(join(folder, "app"), { recursive: true });
  writeFileSync(join(folder, "app", "prod.yaml"), "values:\n  aws:\n    login:\n      fn::open::aws-login: {}\n");
  server = await startEscServer({ folder, org: ORG, token: TOKEN, evaluate });
});

afterAll(async () => {
  await server?.close();
  rmSync(folder, { recursive: true, force: true });
});

describe("providerConfigFrom: environment on the Pulumi Cloud source", () => {
  it("an aws-login environment's credentials and region reach the sync: pair's provider as secrets", async () => {
    const source = new PulumiCloudSource({ org: ORG, token: TOKEN, apiUrl: server.url });
    const env = await source.open({ org: ORG, project: "app", name: "prod" });
    const manifest = parseManifest("version: 1\nsource: { kind: pulumi-cloud, org: acme }\ntargets:\n  sm: { kind: aws-secrets-manager, providerConfigFrom: environment }\n", "m.yaml");
    const [pair] = plan({ manifest, environments: [env], matches: [], fingerprintKey: "k" }).pairs;
    expect(pair?.refusal).toBeUndefined();
    expect(pair!.location).toBe("us-west-2");
    expect(pair!.provider?.credentials).toEqual([
      "environmentVariables AWS_ACCESS_KEY_ID",
      "environmentVariables AWS_SECRET_ACCESS_KEY",
      "environmentVariables AWS_SESSION_TOKEN",
    ]);
    const { resources } = await runProgram(findTargetKind(pair!.kind)!.program(programInput(pair!)));
    const provider = one(resources, "pulumi:providers:aws");
    expect(provider.inputs.region).toBe("us-west-2");
    expectSecret(provider.inputs.accessKey, LOGIN.accessKeyId);
    expectSecret(provider.inputs.secretKey, LOGIN.secretAccessKey);
    expectSecret(provider.inputs.token, LOGIN.sessionToken);
    expect(JSON.stringify(pair)).not.toContain(LOGIN.secretAccessKey);
  });
});
