/**
 * `migrate adopt` for `aws-secrets-manager`: which planned secrets exist already (through the
 * kind's reader), and what the program needs to import them.
 *
 * A secret is imported by its ARN (the name is not an id: the ARN ends with a random suffix), and
 * its current value by `<arn>|<versionId>` of the version labelled AWSCURRENT. Neither is known
 * from the name alone, so the program looks them up through the pair's own provider
 * (`getSecret` for the ARN, `getSecretVersions` for version ids and labels; never a value)
 * before importing.
 */
import type { ProgramInput, StoreReader } from "../contract.js";
import type { SecretValue } from "../secret-value.js";
import { findExistingWith } from "../shared/adopt.js";
import { normalizeName } from "./naming.js";
import { awsSecretsManagerReader } from "./reader.js";
import type { AwsSecretsManagerSettings } from "./schema.js";

/** The planned secrets that exist in the region now, by planned name, with their current values. */
export function awsSecretsManagerFindExisting(
  input: ProgramInput<AwsSecretsManagerSettings>,
  signal?: AbortSignal,
  reader: StoreReader = awsSecretsManagerReader(input.settings, input.credentials),
): Promise<Map<string, SecretValue>> {
  return findExistingWith(input, { reader, storeName: (e) => normalizeName(e.name) }, signal);
}

/** `aws.secretsmanager.Secret`'s import id. */
export function secretImportId(arn: string): string {
  return arn;
}

/** `aws.secretsmanager.SecretVersion`'s import id. */
export function secretVersionImportId(arn: string, versionId: string): string {
  return `${arn}|${versionId}`;
}

/**
 * What an adopted secret may hold differently from the program for the import to succeed; the
 * next sync (without them ignored) writes the description, tags and KMS key, and removes
 * replicas and a resource policy esc-sync does not declare. `recoveryWindowInDays` is not read
 * from AWS at all.
 */
export const SECRET_IGNORED = ["description", "tags", "kmsKeyId", "recoveryWindowInDays", "replicas", "forceOverwriteReplicaSecret", "policy"];

/** The current version keeps the store's value and labels until the next sync. */
export const VERSION_IGNORED = ["secretString", "secretBinary", "versionStages"];
