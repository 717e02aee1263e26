/**
 * What the two AWS kinds share: the region and credential settings (the provider built from
 * them is in `aws-provider.ts`, so that validating settings does not load the AWS SDK).
 */
import { z } from "zod";
import type { ProviderConfigSources } from "../contract.js";

export const awsRegion = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, "must be an AWS region such as eu-west-1");

/** Settings fields every AWS kind accepts besides `region`. */
export const awsCredentialSettings = {
  /** Role to assume (after the usual credential chain), session name `esc-sync`. */
  roleArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, "must be an IAM role ARN such as arn:aws:iam::123456789012:role/esc-sync")
    .optional(),
  /** Named profile from the shared AWS config files. */
  profile: z.string().min(1).optional(),
};

export interface AwsConnection {
  region: string;
  roleArn?: string | undefined;
  profile?: string | undefined;
}

/** `region` or `region/account` (the account of the assumed role), for people. */
export function awsLocation(s: AwsConnection): string {
  return s.roleArn !== undefined ? `${s.region}/${s.roleArn.split(":")[4]}` : s.region;
}

/**
 * What an AWS provider reads from an attached environment: the region and profile, and the keys
 * of `fn::open::aws-login` as its `environmentVariables` usually pass them on.
 */
export const awsProviderConfig: ProviderConfigSources<AwsConnection> = {
  settings: { region: ["aws:region", "AWS_REGION", "AWS_DEFAULT_REGION"], profile: ["aws:profile", "AWS_PROFILE"] },
  credentials: {
    accessKeyId: ["aws:accessKey", "AWS_ACCESS_KEY_ID"],
    secretAccessKey: ["aws:secretKey", "AWS_SECRET_ACCESS_KEY"],
    sessionToken: ["aws:token", "AWS_SESSION_TOKEN"],
  },
  requiredCredentials: [["accessKeyId"], ["secretAccessKey"]],
};
