/** Settings of an `azure-key-vault` target and the store's limits. */
import { z } from "zod";

/** Key Vault: secret names are 1 to 127 characters. */
export const MAX_NAME_LENGTH = 127;
/** Key Vault: a secret value is at most 25 KB (25,600 bytes). */
export const MAX_VALUE_BYTES = 25 * 1024;

export const azureKeyVaultSettings = z.strictObject({
  /** Subscription that holds the vault. */
  subscriptionId: z.guid({ message: "must be a subscription id (a GUID)" }),
  /** Resource group of the vault. */
  resourceGroupName: z
    .string()
    .regex(/^[-\p{L}\p{N}_.()]{0,89}[-\p{L}\p{N}_()]$/u, "must be a resource group name: 1 to 90 letters, digits, _ . - ( ), not ending with ."),
  /** Vault name (`https://<vaultName>.vault.azure.net`). */
  vaultName: z
    .string()
    .regex(/^[A-Za-z](?!.*--)[A-Za-z0-9-]{1,22}[A-Za-z0-9]$/, "must be a Key Vault name: 3 to 24 alphanumerics and -, starting with a letter, no --"),
});

export type AzureKeyVaultSettings = z.infer<typeof azureKeyVaultSettings>;
