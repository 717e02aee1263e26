/**
 * The Pulumi program of an `azure-key-vault` pair: an explicit azure-native provider for the
 * subscription, then one `keyvault.Secret` per entry in an existing vault. Entries being adopted
 * (`migrate adopt`) import the existing secret by its ARM id.
 */
import * as azure from "@pulumi/azure-native";
import type { PulumiFn } from "@pulumi/pulumi/automation/index.js";
import type { ProgramInput } from "../contract.js";
import { credentialsFor, type Credentials } from "../shared/credentials.js";
import { describeEntry, ownershipTags } from "../shared/ownership.js";
import { secretText, storeOptions } from "../shared/store-inputs.js";
import { SECRET_IGNORED, keyVaultSecretImportId } from "./adopt.js";
import { normalizeName } from "./naming.js";
import type { AzureKeyVaultSettings } from "./schema.js";

/** Key Vault tag values are at most 256 characters. */
const MAX_TAG_VALUE = 256;

export function azureKeyVaultProgram(input: ProgramInput<AzureKeyVaultSettings>): PulumiFn {
  return async () => {
    const s = input.settings;
    // Without credentials from the environment they come from the usual places (Azure CLI,
    // managed identity, OIDC / client environment variables); only the subscription is configured.
    const creds = credentialsFor(input.credentials, {
      target: "azure-key-vault",
      fields: ["clientId", "tenantId", "clientSecret", "oidc.token"],
      ignored: ["subscriptionId"],
      expected: "clientId, tenantId and oidc.token (OIDC) or clientSecret",
      source: "the output of fn::open::azure-login",
    });
    const provider = new azure.Provider("azure-native", { subscriptionId: s.subscriptionId, ...(creds ? azureLogin(creds) : {}) });
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
            // A document is JSON; a scalar (a sync: item's string) is text, whatever the shape.
            contentType: (entry.json ?? input.shape === "json") ? "application/json" : "text/plain",
          },
          // Key Vault secrets have no description field: it travels as a tag.
          tags: { ...ownershipTags(input), description: describeEntry(input, entry, MAX_TAG_VALUE) },
        },
        storeOptions(
          provider,
          input.retainOnDelete,
          input.adopt?.has(entry.name) ? { import: keyVaultSecretImportId(s, name), ignoreChanges: SECRET_IGNORED } : {},
        ),
      );
      names.push(name);
    }
    return { names };
  };
}

/**
 * The provider's login from an `fn::open::azure-login` output: OIDC when it carries a token, else
 * the client secret. Its `subscriptionId` is not used: the target's setting names the vault's.
 */
function azureLogin(creds: Credentials): azure.ProviderArgs {
  const clientId = creds.required("clientId");
  const tenantId = creds.required("tenantId");
  const oidcToken = creds.optional("oidc.token");
  if (oidcToken !== undefined) return { clientId, tenantId, oidcToken, useOidc: true };
  const clientSecret = creds.optional("clientSecret");
  if (clientSecret === undefined) throw creds.missing("oidc.token or clientSecret");
  return { clientId, tenantId, clientSecret };
}
