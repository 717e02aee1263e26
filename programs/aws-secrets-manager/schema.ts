/** Settings of an `aws-secrets-manager` target and the store's limits. */
import { z } from "zod";
import { awsCredentialSettings, awsRegion } from "../shared/aws.js";

/** AWS Secrets Manager: secret names are at most 512 characters. */
export const MAX_NAME_LENGTH = 512;
/** AWS Secrets Manager: a secret value (SecretString) is at most 64 KiB. */
export const MAX_VALUE_BYTES = 64 * 1024;
/** Default recovery window: AWS's own default, so a deleted secret can be restored for 30 days. */
export const DEFAULT_RECOVERY_WINDOW_DAYS = 30;

export const awsSecretsManagerSettings = z.strictObject({
  /** The region the secrets live in, e.g. `eu-west-1`. */
  region: awsRegion,
  /** KMS key (id, ARN or alias) that encrypts the secrets; the account's `aws/secretsmanager` key when absent. */
  kmsKeyId: z.string().min(1).optional(),
  /**
   * Days a deleted secret can still be restored (and its name stays reserved): 7 to 30, or 0 to
   * delete at once without recovery. 0 is never a default: it has to be written down.
   */
  recoveryWindowInDays: z
    .number()
    .int()
    .refine((n) => n === 0 || (n >= 7 && n <= 30), "must be between 7 and 30 days, or 0 to delete without recovery")
    .default(DEFAULT_RECOVERY_WINDOW_DAYS),
  ...awsCredentialSettings,
});

export type AwsSecretsManagerSettings = z.infer<typeof awsSecretsManagerSettings>;
