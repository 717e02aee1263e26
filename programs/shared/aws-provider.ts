/**
 * The explicit AWS provider of a pair. Credentials themselves come from the usual AWS chain
 * (environment, profile, web identity, instance or task role) and never reach state.
 */
import * as aws from "@pulumi/aws";
import type { AwsConnection } from "./aws.js";

/** The pair's explicit AWS provider: region, profile and role to assume, nothing secret. */
export function awsProvider(s: AwsConnection): aws.Provider {
  return new aws.Provider("aws", {
    region: s.region,
    ...(s.profile !== undefined ? { profile: s.profile } : {}),
    ...(s.roleArn !== undefined ? { assumeRoles: [{ roleArn: s.roleArn, sessionName: "esc-sync" }] } : {}),
  });
}
