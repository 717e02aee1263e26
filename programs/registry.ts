/**
 * Every target kind, by key. A new kind is a folder under `programs/` plus one line here; the
 * `satisfies` clause makes the compiler refuse a module that does not fit the contract.
 */
import type { TargetKind } from "./contract.js";
import { awsParameterStoreTarget } from "./aws-parameter-store/index.js";
import { awsSecretsManagerTarget } from "./aws-secrets-manager/index.js";
import { azureKeyVaultTarget } from "./azure-key-vault/index.js";
import { fileTarget } from "./file/index.js";
import { gcpSecretManagerTarget } from "./gcp-secret-manager/index.js";
import { githubActionsTarget } from "./github-actions/index.js";
import { vaultKvTarget } from "./vault-kv/index.js";

export const targetKinds = {
  file: fileTarget,
  "aws-secrets-manager": awsSecretsManagerTarget,
  "aws-parameter-store": awsParameterStoreTarget,
  "azure-key-vault": azureKeyVaultTarget,
  "gcp-secret-manager": gcpSecretManagerTarget,
  "github-actions": githubActionsTarget,
  "vault-kv": vaultKvTarget,
} satisfies Record<string, TargetKind<any>>;

/** Looks a kind up by name; undefined for an unknown kind. */
export function findTargetKind(kind: string): TargetKind<any> | undefined {
  return Object.hasOwn(targetKinds, kind) ? (targetKinds as Record<string, TargetKind<any>>)[kind] : undefined;
}
