import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { vaultKvTarget as kind } from "../../../../programs/vault-kv/index.js";
import { entry, expectExplicitProvider, expectSecret, jsonEntry, keyEntries, messages, one, parseSettings, programInput, runProgram, textOfBytes } from "../fixtures.js";

// The vault SDK marks `dataJson` secret by itself, which would hide a program passing it in
// plain. Record what the program hands to the constructor, so the test sees the program's doing.
const constructed = vi.hoisted(() => [] as { name: string; args: Record<string, unknown> }[]);
vi.mock("@pulumi/vault", async (importOriginal) => {
  const original = await importOriginal<typeof import("@pulumi/vault")>();
  class SecretV2 extends original.kv.SecretV2 {
    constructor(name: string, args: any, opts?: any) {
      constructed.push({ name, args });
      super(name, args, opts);
    }
  }
  return { ...original, Provider: original.Provider, kv: { ...original.kv, SecretV2 } };
});

const SECRET = "vault:kv/secretV2:SecretV2";
const PROVIDER = "pulumi:providers:vault";

const settings = parseSettings(kind, { address: "https://vault.example.com:8200", pathTemplate: "payments/prod" });

async function expectProgramPassedSecret(value: unknown): Promise<void> {
  expect(pulumi.Output.isInstance(value), "the program passes an Output").toBe(true);
  expect(await (value as any).isSecret, "the program marks it secret").toBe(true);
}

describe("vault-kv settings", () => {
  it("defaults the mount and the path template, which is templated", () => {
    const s = parseSettings(kind, { address: "https://vault.example.com:8200" });
    expect(s.mount).toBe("secret");
    expect(s.pathTemplate).toBe("{project}/{env}");
    expect(kind.templatedSettings).toEqual(["pathTemplate"]);
    expect(kind.settingsSchema.safeParse({ address: "vault.example.com" }).success).toBe(false);
    expect(kind.settingsSchema.safeParse({ address: "https://v", mount: "/secret/" }).success).toBe(false);
    expect(kind.location(parseSettings(kind, { address: "https://v:8200/", namespace: "admin", pathTemplate: "a/b" }))).toBe("https://v:8200/admin/secret/a/b");
  });
  it("needs the vault plugin of the installed SDK", () => {
    expect(kind.plugins).toEqual([{ name: "vault", version: "7.8.0" }]);
  });
});

describe("vault-kv program", () => {
  it("keys shape: one KV v2 secret at the path, one field per key, data secret", async () => {
    constructed.length = 0;
    const s = parseSettings(kind, { address: "https://vault.example.com:8200", mount: "kv", pathTemplate: "payments/prod", namespace: "admin" });
    const entries = keyEntries({ DB_PASSWORD: "hunter2", PORT: "5432" }, (k) => k, false);
    const { resources, outputs } = await runProgram(kind.program(programInput(s, "keys", entries, { retainOnDelete: true })));

    const provider = expectExplicitProvider(resources, PROVIDER);
    expect(provider.inputs.address).toBe("https://vault.example.com:8200");
    expect(provider.inputs.namespace).toBe("admin");
    expect(provider.inputs.token).toBeUndefined();
    const secret = one(resources, SECRET, "payments/prod");
    expect(secret.inputs).toEqual({
      mount: "kv",
      name: "payments/prod",
      dataJson: expect.anything(),
      customMetadata: expect.anything(),
    });
    expectSecret(secret.inputs.dataJson, JSON.stringify({ DB_PASSWORD: "hunter2", PORT: "5432" }));
    expect(secret.inputs.customMetadata).toEqual({
      data: {
        "managed-by": "esc-sync",
        "esc-environment": "acme/payments/prod",
        "esc-target": "primary",
        description: expect.stringContaining("ESC environment acme/payments/prod"),
      },
    });
    expect(secret.retainOnDelete).toBe(true);
    expect(resources).toHaveLength(2);
    expect(outputs).toEqual({ names: ["DB_PASSWORD", "PORT"] });
    expect(constructed).toHaveLength(1);
    await expectProgramPassedSecret(constructed[0]!.args.dataJson);
  });

  it("json shape: one field holding the document as nested JSON", async () => {
    constructed.length = 0;
    const doc = { db: { password: "hunter2", port: 5432 }, debug: false };
    const { resources } = await runProgram(kind.program(programInput(settings, "json", [jsonEntry("json", doc)])));
    expectExplicitProvider(resources, PROVIDER);
    const secret = one(resources, SECRET, "payments/prod");
    expectSecret(secret.inputs.dataJson, JSON.stringify({ json: doc }));
    expect(secret.retainOnDelete).toBe(false);
    expect(constructed).toHaveLength(1);
    await expectProgramPassedSecret(constructed[0]!.args.dataJson);
  });

  it("keeps a keys entry marked json (a sync: item's nested object) as a nested object, other fields as text", async () => {
    const entries = [entry("myConfigKey", "foo"), { ...entry("myNestedKey", '{"haha":"bar"}'), json: true }, { ...entry("n", "5"), json: false }];
    const { resources } = await runProgram(kind.program(programInput(settings, "keys", entries)));
    expectSecret(one(resources, SECRET).inputs.dataJson, JSON.stringify({ myConfigKey: "foo", myNestedKey: { haha: "bar" }, n: "5" }));
  });

  it("customMetadata: false writes the data only (no metadata/ permission needed), as the ESC examples did", async () => {
    const s = parseSettings(kind, { address: "https://v", pathTemplate: "payments/prod", customMetadata: false });
    const { resources } = await runProgram(kind.program(programInput(s, "keys", keyEntries({ A: "1" }))));
    const secret = one(resources, SECRET);
    expect(secret.inputs).toEqual({ mount: "secret", name: "payments/prod", dataJson: expect.anything() });
    expect(parseSettings(kind, { address: "https://v" }).customMetadata).toBe(true);
    expect(kind.settingsSchema.safeParse({ address: "https://v", customMetadata: "no" }).success).toBe(false);
  });

  it("writes nothing for a pair without entries", async () => {
    const { resources, outputs } = await runProgram(kind.program(programInput(settings, "keys", [])));
    expect(resources).toEqual([]);
    expect(outputs).toEqual({ names: [] });
  });
});

describe("vault-kv check", () => {
  it("accepts fields and a secret under the limit", () => {
    expect(kind.check([entry("A", textOfBytes(512 * 1024)), entry("b.c-d e", "v")], settings, "keys")).toEqual([]);
  });
  it("states the field and path rules", () => {
    expect(messages(kind.check([entry("", "v")], settings, "keys"))).toEqual(['field name "" is invalid: Vault KV field names cannot be empty']);
    const bad = parseSettings(kind, { address: "https://v", pathTemplate: "payments//prod" });
    expect(messages(kind.check([entry("A", "v")], bad, "keys"))).toEqual([
      'secret path "payments//prod" is invalid: Vault KV secret paths cannot be empty, start or end with /, or contain an empty segment (//)',
    ]);
    const dots = parseSettings(kind, { address: "https://v", pathTemplate: "a/../b" });
    expect(messages(kind.check([entry("A", "v")], dots, "keys"))).toEqual(['secret path "a/../b" is invalid: Vault KV secret paths cannot contain . or .. segments']);
  });
  it("states the size rule for the whole secret, as a pair-level problem", () => {
    const problems = kind.check([entry("A", textOfBytes(600 * 1024)), entry("B", textOfBytes(600 * 1024))], settings, "keys");
    expect(problems).toHaveLength(1);
    expect(problems[0]!.name).toBeUndefined();
    expect(problems[0]!.message).toMatch(/^secret "secret\/payments\/prod" would hold about 1,228,8\d\d bytes: a Vault KV secret \(all its fields together\) cannot exceed 1,048,576 bytes \(1 MiB\)$/);
  });
  it("reports two keys writing the same field", () => {
    expect(messages(kind.check([entry("X", "1", { key: "a" }), entry("X", "2", { key: "b" })], settings, "keys"))).toEqual([
      'keys "a" and "b" both map to field "X": Vault KV field names must be unique; rename one of them or change the naming template',
    ]);
  });
});
