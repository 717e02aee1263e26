/** What every cloud target kind promises through the contract, checked in one place. */
import { describe, expect, it } from "vitest";
import type { TargetKind } from "../../../programs/contract.js";
import { awsParameterStoreTarget } from "../../../programs/aws-parameter-store/index.js";
import { awsSecretsManagerTarget } from "../../../programs/aws-secrets-manager/index.js";
import { azureKeyVaultTarget } from "../../../programs/azure-key-vault/index.js";
import { gcpSecretManagerTarget } from "../../../programs/gcp-secret-manager/index.js";
import { githubActionsTarget } from "../../../programs/github-actions/index.js";
import { vaultKvTarget } from "../../../programs/vault-kv/index.js";
import { entry } from "./fixtures.js";

// kind, raw settings, sync-block key, a name the store accepts once normalised
const kinds: [TargetKind<any>, unknown, string, string][] = [
  [awsSecretsManagerTarget, { region: "eu-west-1" }, "awsSecretsManager", "payments/prod/DB_PASSWORD"],
  [awsParameterStoreTarget, { region: "eu-west-1", pathPrefix: "/esc" }, "awsParameterStore", "payments/prod/DB_PASSWORD"],
  [azureKeyVaultTarget, { subscriptionId: "00000000-1111-2222-3333-444444444444", resourceGroupName: "rg", vaultName: "kv-one" }, "azureKeyVault", "payments_prod_DB_PASSWORD"],
  [gcpSecretManagerTarget, { project: "acme-payments" }, "gcpSecretManager", "payments-prod-DB_PASSWORD"],
  [githubActionsTarget, { owner: "acme", repository: "payments" }, "githubSecrets", "db_password"],
  [vaultKvTarget, { address: "https://vault.example.com" }, "vaultSecret", "DB_PASSWORD"],
];

describe.each(kinds.map(([kind, raw, conventionKey, sample]) => ({ name: kind.kind, kind, raw, conventionKey, sample })))("$name", ({ kind, raw, conventionKey, sample }) => {
  const settings = kind.settingsSchema.parse(raw);

  it("has its sync-block key, a naming template per shape and one pinned plugin", () => {
    expect(kind.syncConventionKey).toBe(conventionKey);
    expect(Object.keys(kind.defaultName).sort()).toEqual(["json", "keys"]);
    expect(kind.defaultName.keys).toContain("{key}");
    expect(kind.plugins).toHaveLength(1);
    expect(kind.plugins[0]!.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("rejects a settings field it does not know", () => {
    expect(kind.settingsSchema.safeParse({ ...(raw as object), unknownSetting: 1 }).success).toBe(false);
    expect(kind.settingsSchema.safeParse({ ...(raw as object), kind: kind.kind }).success).toBe(false);
  });

  it("templates only settings it has", () => {
    const shape = (kind.settingsSchema as unknown as { shape: Record<string, unknown> }).shape;
    for (const name of kind.templatedSettings ?? []) expect(Object.keys(shape)).toContain(name);
  });

  it("normalises names idempotently", () => {
    for (const name of ["payments/prod/DB_PASSWORD", "db.url", "a-b_c", "/x/y"]) {
      const once = kind.normalizeName(name, settings);
      expect(kind.normalizeName(once, settings)).toBe(once);
    }
  });

  it("passes a well-formed pair and says where it writes", () => {
    const name = kind.normalizeName(sample, settings);
    expect(kind.check([entry(name, "hunter2", { key: "DB_PASSWORD" })], settings, "keys")).toEqual([]);
    expect(kind.location(settings)).not.toBe("");
  });
});
