/**
 * The Pulumi program of an `azure-key-vault` pair: an explicit azure-native provider for the
 * subscription, then one `keyvault.Secret` per entry in an existing vault.
 */
import * as azure from "@pulumi/azure-native";
import type { PulumiFn } from "@pulumi/pulumi/automation/index.js";
import type { ProgramInput } from "../contract.js";
import { describeEntry, ownershipTags } from "../shared/ownership.js";
import { secretText, storeOptions } from "../shared/values.js";
import { normalizeName } from "./naming.js";
import type { AzureKeyVaultSettings } from "./schema.js";

/** Key Vault tag values are at most 256 characters. */
const MAX_TAG_VALUE = 256;

export function azureKeyVaultProgram(input: ProgramInput<AzureKeyVaultSettings>): PulumiFn {
  return async () => {
    const s = input.settings;
    // Credentials come from the usual places (Azure CLI, managed identity, OIDC / client
    // environment variables); only the subscription is configured.
    const provider = new azure.Provider("azure-native", { subscriptionId: s.subscriptionId });
    const names: string[] = [];
    for (const entry of input.entries) {
      const name = normalizeName(entry.name);
      new azure.keyvault.Secret(
        name,
        {
          resourceGroupName: s.resourceGroupName,
          vaultName: s.vaultName,
          secretName: name,
          properties: {
            value: secretText(entry),
            contentType: input.shape === "json" ? "application/json" : "text/plain",
          },
          // Key Vault secrets have no description field: it travels as a tag.
          tags: { ...ownershipTags(input), description: describeEntry(input, entry, MAX_TAG_VALUE) },
        },
        storeOptions(provider, input.retainOnDelete),
      );
      names.push(name);
    }
    return { names };
  };
}
