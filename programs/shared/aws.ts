/**
 * What the two AWS kinds share: the region and credential settings, and the explicit provider
 * built from them. Credentials themselves come from the usual AWS chain (environment, profile,
 * web identity, instance or task role) and never reach state.
 */
import * as aws from "@pulumi/aws";
import { z } from "zod";

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

/** The pair's explicit AWS provider: region, profile and role to assume, nothing secret. */
export function awsProvider(s: AwsConnection): aws.Provider {
  return new aws.Provider("aws", {
    region: s.region,
    ...(s.profile !== undefined ? { profile: s.profile } : {}),
    ...(s.roleArn !== undefined ? { assumeRoles: [{ roleArn: s.roleArn, sessionName: "esc-sync" }] } : {}),
  });
}

/** `region` or `region/account` (the account of the assumed role), for people. */
export function awsLocation(s: AwsConnection): string {
  return s.roleArn !== undefined ? `${s.region}/${s.roleArn.split(":")[4]}` : s.region;
}
