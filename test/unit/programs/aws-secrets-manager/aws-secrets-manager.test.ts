import { describe, expect, it } from "vitest";
import { awsSecretsManagerTarget as kind } from "../../../../programs/aws-secrets-manager/index.js";
import {
  entry,
  expectExplicitProvider,
  expectSecret,
  jsonEntry,
  keyEntries,
  messages,
  ofType,
  one,
  parseSettings,
  programInput,
  runProgram,
  textOfBytes,
} from "../fixtures.js";

const SECRET = "aws:secretsmanager/secret:Secret";
const VERSION = "aws:secretsmanager/secretVersion:SecretVersion";
const PROVIDER = "pulumi:providers:aws";

const settings = parseSettings(kind, { region: "eu-west-1" });

describe("aws-secrets-manager settings", () => {
  it("defaults the recovery window to 30 days", () => {
    expect(settings.recoveryWindowInDays).toBe(30);
  });
  it("accepts 0 only when written down, and 7 to 30", () => {
    expect(parseSettings(kind, { region: "eu-west-1", recoveryWindowInDays: 0 }).recoveryWindowInDays).toBe(0);
    expect(parseSettings(kind, { region: "eu-west-1", recoveryWindowInDays: 7 }).recoveryWindowInDays).toBe(7);
    for (const bad of [1, 6, 31, 7.5]) {
      expect(kind.settingsSchema.safeParse({ region: "eu-west-1", recoveryWindowInDays: bad }).success).toBe(false);
    }
  });
  it("rejects unknown settings and malformed role ARNs", () => {
    expect(kind.settingsSchema.safeParse({ region: "eu-west-1", regoin: "x" }).success).toBe(false);
    expect(kind.settingsSchema.safeParse({ region: "eu-west-1", roleArn: "esc-sync" }).success).toBe(false);
  });
  it("needs the aws plugin of the installed SDK", () => {
    expect(kind.plugins).toEqual([{ name: "aws", version: "7.48.0" }]);
  });
});

describe("aws-secrets-manager program", () => {
  // Found with the real provider (test/e2e/aws-secrets-manager-real.test.ts): the upstream
  // provider keeps a resource's region from its state when the resource does not state one, so
  // with the region only on the provider a region change in the manifest moved nothing.
  it("states the target's region on every Secret and SecretVersion, so that a region change replaces them", async () => {
    const input = programInput(parseSettings(kind, { region: "ap-southeast-2" }), "keys", keyEntries({ A: "1", B: "2" }, (k) => `app/${k}`));
    const { resources } = await runProgram(kind.program(input));
    const written = [...ofType(resources, SECRET), ...ofType(resources, VERSION)];
    expect(written).toHaveLength(4);
    for (const r of written) expect(r.inputs.region, `${r.type} ${r.name}`).toBe("ap-southeast-2");
  });

  it("json shape: one Secret and one secret SecretVersion through the explicit provider", async () => {
    const doc = { DB_PASSWORD: "hunter2", PORT: 5432 };
    const input = programInput(
      parseSettings(kind, { region: "eu-west-1", kmsKeyId: "alias/esc", roleArn: "arn:aws:iam::123456789012:role/esc-sync", profile: "ops" }),
      "json",
      [jsonEntry("payments/prod", doc)],
    );
    const { resources, outputs } = await runProgram(kind.program(input));

    const provider = expectExplicitProvider(resources, PROVIDER);
    expect(provider.inputs.region).toBe("eu-west-1");
    expect(provider.inputs.profile).toBe("ops");
    expect(JSON.parse(provider.inputs.assumeRoles)).toEqual([{ roleArn: "arn:aws:iam::123456789012:role/esc-sync", sessionName: "esc-sync" }]);
    expect(provider.inputs.accessKey).toBeUndefined();
    expect(provider.inputs.secretKey).toBeUndefined();

    const secret = one(resources, SECRET, "payments/prod");
    expect(secret.inputs).toEqual({
      name: "payments/prod",
      region: "eu-west-1",
      description: expect.stringContaining("acme/payments/prod"),
      recoveryWindowInDays: 30,
      kmsKeyId: "alias/esc",
      tags: { "managed-by": "esc-sync", "esc-environment": "acme/payments/prod", "esc-target": "primary" },
    });
    const version = one(resources, VERSION, "payments/prod");
    expect(version.inputs.secretId).toBe("payments/prod-id");
    expect(version.inputs.versionStages).toEqual(["AWSCURRENT"]);
    expect(version.inputs.region).toBe("eu-west-1");
    expectSecret(version.inputs.secretString, JSON.stringify(doc));
    expect(resources).toHaveLength(3);
    expect(outputs).toEqual({ names: ["payments/prod"] });
    expect(secret.retainOnDelete).toBe(false);
  });

  it("keys shape: one secret per key, every value secret, retainOnDelete passed on", async () => {
    const entries = keyEntries({ DB_PASSWORD: "hunter2", API_URL: "https://api" }, (k) => `payments/prod/${k}`, false);
    const input = programInput(settings, "keys", entries, { retainOnDelete: true });
    const { resources } = await runProgram(kind.program(input));

    const provider = expectExplicitProvider(resources, PROVIDER);
    expect(provider.inputs.assumeRoles).toBeUndefined();
    expect(ofType(resources, SECRET).map((r) => r.name)).toEqual(["payments/prod/DB_PASSWORD", "payments/prod/API_URL"]);
    // Values ESC does not mark secret still reach Pulumi as secrets.
    expectSecret(one(resources, VERSION, "payments/prod/DB_PASSWORD").inputs.secretString, "hunter2");
    expectSecret(one(resources, VERSION, "payments/prod/API_URL").inputs.secretString, "https://api");
    expect(one(resources, SECRET, "payments/prod/API_URL").inputs.description).toContain("key API_URL");
    for (const r of [...ofType(resources, SECRET), ...ofType(resources, VERSION)]) expect(r.retainOnDelete).toBe(true);
  });

  it("writes an empty value as a secret too (the SDK would drop a plain empty string)", async () => {
    const { resources } = await runProgram(kind.program(programInput(settings, "keys", [entry("EMPTY", "", { key: "EMPTY" })])));
    expectSecret(one(resources, VERSION).inputs.secretString, "");
  });

  it("passes an explicit recovery window of 0", async () => {
    const input = programInput(parseSettings(kind, { region: "us-east-1", recoveryWindowInDays: 0 }), "json", [jsonEntry("a", {})]);
    const { resources } = await runProgram(kind.program(input));
    expect(one(resources, SECRET).inputs.recoveryWindowInDays).toBe(0);
  });
});

describe("aws-secrets-manager check", () => {
  it("accepts valid names and values at the limit", () => {
    expect(kind.check([entry("a/b_c+d=e.f@g-h", textOfBytes(64 * 1024))], settings, "json")).toEqual([]);
  });
  it("states the naming rules", () => {
    const problems = kind.check([entry("bad name!", "v"), entry("x".repeat(513), "v"), entry("", "v")], settings, "keys");
    expect(messages(problems)).toEqual([
      'secret name "bad name!" is invalid: AWS Secrets Manager secret names must contain only alphanumerics and /_+=.@-',
      `secret name "${"x".repeat(513)}" is invalid: AWS Secrets Manager secret names must be 1 to 512 characters long`,
      'secret name "" is invalid: AWS Secrets Manager secret names must be 1 to 512 characters long',
    ]);
    expect(problems[0]!.name).toBe("bad name!");
  });
  it("states the size rule", () => {
    const [problem] = kind.check([entry("big", textOfBytes(64 * 1024 + 1), { key: "BIG" })], settings, "keys");
    expect(problem).toEqual({
      name: "big",
      message: 'value of secret "big" (key "BIG") is 65,537 bytes: AWS Secrets Manager secret values cannot exceed 65,536 bytes (64 KiB)',
    });
  });
  it("reports two keys mapping to one name", () => {
    const problems = kind.check([entry("app/x", "1", { key: "x" }), entry("app/x", "2", { key: "X" })], settings, "keys");
    expect(messages(problems)).toEqual([
      'keys "x" and "X" both map to secret "app/x": AWS Secrets Manager secret names must be unique; rename one of them or change the naming template',
    ]);
  });
  it("never prints a value", () => {
    const problems = kind.check([entry("bad name", "hunter2-" + textOfBytes(70_000))], settings, "json");
    expect(JSON.stringify(problems)).not.toContain("hunter2");
  });
});
