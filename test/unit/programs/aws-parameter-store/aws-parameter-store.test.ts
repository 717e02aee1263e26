import { describe, expect, it } from "vitest";
import { awsParameterStoreTarget as kind } from "../../../../programs/aws-parameter-store/index.js";
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

const PARAMETER = "aws:ssm/parameter:Parameter";
const PROVIDER = "pulumi:providers:aws";

const standard = parseSettings(kind, { region: "eu-west-1" });
const advanced = parseSettings(kind, { region: "eu-west-1", tier: "Advanced" });

describe("aws-parameter-store settings", () => {
  it("defaults to the Standard tier and normalises pathPrefix", () => {
    expect(standard.tier).toBe("Standard");
    expect(parseSettings(kind, { region: "eu-west-1", pathPrefix: "esc/" }).pathPrefix).toBe("/esc");
    expect(parseSettings(kind, { region: "eu-west-1", pathPrefix: "/teams/payments" }).pathPrefix).toBe("/teams/payments");
    expect(kind.settingsSchema.safeParse({ region: "eu-west-1", tier: "Premium" }).success).toBe(false);
    expect(kind.settingsSchema.safeParse({ region: "eu-west-1", pathPrefix: "/a b" }).success).toBe(false);
  });
  it("needs the aws plugin of the installed SDK", () => {
    expect(kind.plugins).toEqual([{ name: "aws", version: "7.48.0" }]);
  });
});

describe("aws-parameter-store names", () => {
  it("places names under pathPrefix and makes hierarchical names absolute, idempotently", () => {
    const s = parseSettings(kind, { region: "eu-west-1", pathPrefix: "/esc" });
    expect(kind.normalizeName("payments/prod/DB", s)).toBe("/esc/payments/prod/DB");
    expect(kind.normalizeName("/payments/prod/DB", s)).toBe("/esc/payments/prod/DB");
    expect(kind.normalizeName("/esc/payments/prod/DB", s)).toBe("/esc/payments/prod/DB");
    expect(kind.normalizeName("payments/prod", standard)).toBe("/payments/prod");
    expect(kind.normalizeName("FLAT_NAME", standard)).toBe("FLAT_NAME");
  });
});

describe("aws-parameter-store program", () => {
  it("keys shape: one SecureString parameter per key under the path, values secret", async () => {
    const s = parseSettings(kind, { region: "eu-west-1", tier: "Advanced", kmsKeyId: "alias/esc", pathPrefix: "/esc", profile: "ops" });
    const entries = keyEntries({ DB_PASSWORD: "hunter2", API_URL: "https://api" }, (k) => `/esc/payments/prod/${k}`, false);
    const { resources, outputs } = await runProgram(kind.program(programInput(s, "keys", entries, { retainOnDelete: true })));

    const provider = expectExplicitProvider(resources, PROVIDER);
    expect(provider.inputs.region).toBe("eu-west-1");
    expect(provider.inputs.profile).toBe("ops");
    const params = ofType(resources, PARAMETER);
    expect(params.map((p) => p.name)).toEqual(["/esc/payments/prod/DB_PASSWORD", "/esc/payments/prod/API_URL"]);
    const db = one(resources, PARAMETER, "/esc/payments/prod/DB_PASSWORD");
    expect(db.inputs).toEqual({
      name: "/esc/payments/prod/DB_PASSWORD",
      // Stated on the parameter, not only on the provider: the upstream provider keeps a
      // resource's region from its state otherwise, so a region change would move nothing.
      region: "eu-west-1",
      type: "SecureString",
      value: expect.anything(),
      tier: "Advanced",
      keyId: "alias/esc",
      description: expect.stringContaining("key DB_PASSWORD of ESC environment acme/payments/prod"),
      tags: { "managed-by": "esc-sync", "esc-environment": "acme/payments/prod", "esc-target": "primary" },
    });
    expectSecret(db.inputs.value, "hunter2");
    expectSecret(one(resources, PARAMETER, "/esc/payments/prod/API_URL").inputs.value, "https://api");
    for (const p of params) expect(p.retainOnDelete).toBe(true);
    expect(outputs).toEqual({ names: ["/esc/payments/prod/DB_PASSWORD", "/esc/payments/prod/API_URL"] });
  });

  it("json shape: one parameter holding the document", async () => {
    const doc = { a: 1, b: "two" };
    const s = parseSettings(kind, { region: "us-east-1", roleArn: "arn:aws:iam::123456789012:role/esc-sync" });
    const { resources } = await runProgram(kind.program(programInput(s, "json", [jsonEntry("/payments/prod", doc)])));
    const provider = expectExplicitProvider(resources, PROVIDER);
    expect(JSON.parse(provider.inputs.assumeRoles)).toEqual([{ roleArn: "arn:aws:iam::123456789012:role/esc-sync", sessionName: "esc-sync" }]);
    const param = one(resources, PARAMETER, "/payments/prod");
    expect(param.inputs.tier).toBe("Standard");
    expect(param.inputs.keyId).toBeUndefined();
    expectSecret(param.inputs.value, JSON.stringify(doc));
    expect(param.retainOnDelete).toBe(false);
    expect(resources).toHaveLength(2);
  });

  it("writes an empty value as a secret too (the SDK would drop a plain empty string)", async () => {
    const { resources } = await runProgram(kind.program(programInput(standard, "keys", [entry("/p/e/EMPTY", "", { key: "EMPTY" })])));
    expectSecret(one(resources, PARAMETER).inputs.value, "");
  });
});

describe("aws-parameter-store check", () => {
  it("accepts valid names and values at the tier limits", () => {
    expect(kind.check([entry("/a/b-c_d.e/F", textOfBytes(4096))], standard, "keys")).toEqual([]);
    expect(kind.check([entry("/a/b", textOfBytes(8192))], advanced, "keys")).toEqual([]);
  });
  it("states the naming rules", () => {
    const deep = "/" + Array.from({ length: 16 }, (_, i) => `l${i}`).join("/");
    const problems = kind.check(
      [entry("/a b", "v"), entry("/AWS/x", "v"), entry("ssmThing", "v"), entry(deep, "v"), entry("/a//b", "v"), entry("/" + "x".repeat(1011), "v")],
      standard,
      "keys",
    );
    expect(messages(problems)).toEqual([
      'parameter name "/a b" is invalid: SSM Parameter Store parameter names must contain only alphanumerics and _.-/',
      'parameter name "/AWS/x" is invalid: SSM Parameter Store parameter names cannot begin with aws or ssm in any letter case, with or without a leading /',
      'parameter name "ssmThing" is invalid: SSM Parameter Store parameter names cannot begin with aws or ssm in any letter case, with or without a leading /',
      `parameter name "${deep}" is invalid: SSM Parameter Store parameter names cannot have more than 15 hierarchy levels`,
      'parameter name "/a//b" is invalid: SSM Parameter Store parameter names cannot contain an empty hierarchy level (// or a trailing /)',
      `parameter name "/${"x".repeat(1011)}" is invalid: SSM Parameter Store parameter names must be 1 to 1011 characters long`,
    ]);
  });
  it("checks the names after pathPrefix is applied", () => {
    const s = parseSettings(kind, { region: "eu-west-1", pathPrefix: "/aws-team" });
    expect(messages(kind.check([entry("app/X", "v")], s, "keys"))).toEqual([
      'parameter name "/aws-team/app/X" is invalid: SSM Parameter Store parameter names cannot begin with aws or ssm in any letter case, with or without a leading /',
    ]);
  });
  it("states the size rule of the tier", () => {
    expect(messages(kind.check([entry("/a/b", textOfBytes(4097))], standard, "json"))).toEqual([
      'value of parameter "/a/b" is 4,097 bytes: SSM Parameter Store parameter values in the Standard tier cannot exceed 4,096 bytes (4 KiB)',
    ]);
    expect(messages(kind.check([entry("/a/b", textOfBytes(8193))], advanced, "json"))).toEqual([
      'value of parameter "/a/b" is 8,193 bytes: SSM Parameter Store parameter values in the Advanced tier cannot exceed 8,192 bytes (8 KiB)',
    ]);
  });
  it("reports names that collide once placed under the prefix", () => {
    const s = parseSettings(kind, { region: "eu-west-1", pathPrefix: "/esc" });
    const problems = kind.check([entry("app/X", "1", { key: "a" }), entry("/esc/app/X", "2", { key: "b" })], s, "keys");
    expect(problems).toEqual([
      {
        name: "/esc/app/X",
        message:
          'keys "a" and "b" both map to parameter "/esc/app/X": SSM Parameter Store parameter names must be unique after the store\'s transform (names are placed under pathPrefix and get a leading /); rename one of them or change the naming template',
      },
    ]);
  });
});
