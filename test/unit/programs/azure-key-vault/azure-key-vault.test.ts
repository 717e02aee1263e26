import { describe, expect, it } from "vitest";
import { azureKeyVaultTarget as kind } from "../../../../programs/azure-key-vault/index.js";
import {
  entry,
  expectExplicitProvider,
  expectSecretObject,
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

const SECRET = "azure-native:keyvault:Secret";
const PROVIDER = "pulumi:providers:azure-native";
const SUBSCRIPTION = "00000000-1111-2222-3333-444444444444";

const settings = parseSettings(kind, { subscriptionId: SUBSCRIPTION, resourceGroupName: "rg-secrets", vaultName: "kv-payments-prod" });

describe("azure-key-vault settings", () => {
  it("validates subscription, resource group and vault names", () => {
    expect(kind.settingsSchema.safeParse({ subscriptionId: "nope", resourceGroupName: "rg", vaultName: "kv-ok" }).success).toBe(false);
    expect(kind.settingsSchema.safeParse({ subscriptionId: SUBSCRIPTION, resourceGroupName: "rg.", vaultName: "kv-ok" }).success).toBe(false);
    expect(kind.settingsSchema.safeParse({ subscriptionId: SUBSCRIPTION, resourceGroupName: "r", vaultName: "kv--x" }).success).toBe(false);
    expect(kind.settingsSchema.safeParse({ subscriptionId: SUBSCRIPTION, resourceGroupName: "r", vaultName: "1kv" }).success).toBe(false);
    expect(kind.settingsSchema.safeParse({ subscriptionId: SUBSCRIPTION, resourceGroupName: "r", vaultName: "kv" }).success).toBe(false);
    expect(kind.location(settings)).toBe("https://kv-payments-prod.vault.azure.net");
  });
  it("needs the azure-native plugin of the installed SDK", () => {
    expect(kind.plugins).toEqual([{ name: "azure-native", version: "3.28.0" }]);
  });
  it("turns _ and . into -, idempotently", () => {
    expect(kind.normalizeName("payments-prod-DB_PASSWORD.v2", settings)).toBe("payments-prod-DB-PASSWORD-v2");
    expect(kind.normalizeName("payments-prod-DB-PASSWORD-v2", settings)).toBe("payments-prod-DB-PASSWORD-v2");
  });
});

describe("azure-key-vault program", () => {
  it("keys shape: one secret per key in the vault, value secret, through the explicit provider", async () => {
    const entries = keyEntries({ DB_PASSWORD: "hunter2", API_URL: "https://api" }, (k) => `payments-prod-${k.replace(/_/g, "-")}`, false);
    const { resources, outputs } = await runProgram(kind.program(programInput(settings, "keys", entries, { retainOnDelete: true })));

    const provider = expectExplicitProvider(resources, PROVIDER);
    expect(provider.inputs.subscriptionId).toBe(SUBSCRIPTION);
    expect(provider.inputs.clientSecret).toBeUndefined();
    const secrets = ofType(resources, SECRET);
    expect(secrets.map((r) => r.name)).toEqual(["payments-prod-DB-PASSWORD", "payments-prod-API-URL"]);
    const db = one(resources, SECRET, "payments-prod-DB-PASSWORD");
    expect(db.inputs).toEqual({
      resourceGroupName: "rg-secrets",
      vaultName: "kv-payments-prod",
      secretName: "payments-prod-DB-PASSWORD",
      properties: expect.anything(),
      tags: {
        "managed-by": "esc-sync",
        "esc-environment": "acme/payments/prod",
        "esc-target": "primary",
        description: expect.stringContaining("key DB_PASSWORD of ESC environment acme/payments/prod"),
      },
    });
    // azure-native does not mark properties.value secret itself: this is the program's doing.
    expectSecretObject(db.inputs.properties, { value: "hunter2", contentType: "text/plain" });
    expectSecretObject(one(resources, SECRET, "payments-prod-API-URL").inputs.properties, { value: "https://api", contentType: "text/plain" });
    for (const s of secrets) expect(s.retainOnDelete).toBe(true);
    expect(outputs).toEqual({ names: ["payments-prod-DB-PASSWORD", "payments-prod-API-URL"] });
  });

  it("json shape: one secret holding the document, content type application/json", async () => {
    const doc = { DB_PASSWORD: "hunter2" };
    const { resources } = await runProgram(kind.program(programInput(settings, "json", [jsonEntry("payments-prod", doc)])));
    expectExplicitProvider(resources, PROVIDER);
    const secret = one(resources, SECRET, "payments-prod");
    expectSecretObject(secret.inputs.properties, { value: JSON.stringify(doc), contentType: "application/json" });
    expect(secret.retainOnDelete).toBe(false);
    expect(resources).toHaveLength(2);
  });
});

describe("azure-key-vault check", () => {
  it("accepts valid names and values at the limit", () => {
    expect(kind.check([entry("a-B-9", textOfBytes(25 * 1024)), entry("x".repeat(127), "v")], settings, "keys")).toEqual([]);
  });
  it("states the naming rules (after _ and . become -)", () => {
    const problems = kind.check([entry("db/password", "v"), entry("x".repeat(128), "v"), entry("", "v")], settings, "keys");
    expect(messages(problems)).toEqual([
      'secret name "db/password" is invalid: Azure Key Vault secret names must contain only 0-9, a-z, A-Z and -',
      `secret name "${"x".repeat(128)}" is invalid: Azure Key Vault secret names must be 1 to 127 characters long`,
      'secret name "" is invalid: Azure Key Vault secret names must be 1 to 127 characters long',
    ]);
  });
  it("states the size rule", () => {
    expect(messages(kind.check([entry("big", textOfBytes(25 * 1024 + 1))], settings, "json"))).toEqual([
      'value of secret "big" is 25,601 bytes: Azure Key Vault secret values cannot exceed 25,600 bytes (25 KiB)',
    ]);
  });
  it("reports keys that collide once _ and . become -", () => {
    const problems = kind.check(
      [entry("app-DB_URL", "1", { key: "DB_URL" }), entry("app-DB.URL", "2", { key: "DB.URL" }), entry("app-DB-URL", "3", { key: "DB-URL" })],
      settings,
      "keys",
    );
    expect(problems).toEqual([
      {
        name: "app-DB-URL",
        message:
          'keys "DB_URL", "DB.URL" and "DB-URL" all map to secret "app-DB-URL": Azure Key Vault secret names must be unique after the store\'s transform (_ and . become -); rename one of them or change the naming template',
      },
    ]);
  });
});
