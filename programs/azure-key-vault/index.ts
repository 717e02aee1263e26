/** `azure-key-vault`: one Azure Key Vault secret per entry, in an existing vault. */
import type { TargetKind } from "../contract.js";
import { lazyProgram } from "../shared/lazy.js";
import { pluginOf } from "../shared/plugins.js";
import { azureKeyVaultFindExisting } from "./adopt.js";
import { checkEntries, normalizeName } from "./naming.js";
import { azureKeyVaultReader } from "./reader.js";
import { azureKeyVaultSettings, type AzureKeyVaultSettings } from "./schema.js";

export const azureKeyVaultTarget: TargetKind<AzureKeyVaultSettings> = {
  kind: "azure-key-vault",
  description: "Azure Key Vault: one secret per entry in an existing vault (_ and . in names become -)",
  settingsSchema: azureKeyVaultSettings,
  defaultName: { json: "{project}-{env}", keys: "{project}-{env}-{key}" },
  syncConventionKey: "azureKeyVault",
  // What fn::open::azure-login gives, as ARM_* (or AZURE_*) environment variables pass it on.
  providerConfig: {
    settings: { subscriptionId: ["azure-native:subscriptionId", "ARM_SUBSCRIPTION_ID", "AZURE_SUBSCRIPTION_ID"] },
    credentials: {
      clientId: ["azure-native:clientId", "ARM_CLIENT_ID", "AZURE_CLIENT_ID"],
      tenantId: ["azure-native:tenantId", "ARM_TENANT_ID", "AZURE_TENANT_ID"],
      clientSecret: ["azure-native:clientSecret", "ARM_CLIENT_SECRET", "AZURE_CLIENT_SECRET"],
      "oidc.token": ["azure-native:oidcToken", "ARM_OIDC_TOKEN", "AZURE_OIDC_TOKEN"],
    },
    requiredCredentials: [["clientId"], ["tenantId"], ["oidc.token", "clientSecret"]],
  },
  plugins: [pluginOf("@pulumi/azure-native")],
  normalizeName: (name) => normalizeName(name),
  check: (entries) => checkEntries(entries),
  location: (s) => `https://${s.vaultName}.vault.azure.net`,
  program: lazyProgram(async () => (await import("./program.js")).azureKeyVaultProgram),
  reader: (settings) => azureKeyVaultReader(settings),
  findExisting: (input, signal) => azureKeyVaultFindExisting(input, signal),
};
