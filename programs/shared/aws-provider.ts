/**
 * The explicit AWS provider of a pair. Credentials come from the binding's `credentials:` (an
 * `fn::open::aws-login` output: `accessKeyId`, `secretAccessKey`, `sessionToken`) when it gives
 * them, as secrets; otherwise from the usual AWS chain (environment, profile, web identity,
 * instance or task role), and then none reaches state.
 */
import * as aws from "@pulumi/aws";
import type { SecretValue } from "../secret-value.js";
import type { AwsConnection } from "./aws.js";
import { credentialsFor, type CredentialSpec } from "./credentials.js";

/** What the AWS kinds read from a binding's `credentials:`. */
export function awsCredentialSpec(target: string): CredentialSpec {
  return {
    target,
    fields: ["accessKeyId", "secretAccessKey", "sessionToken"],
    expected: "accessKeyId and secretAccessKey, and sessionToken for temporary credentials",
    source: "the output of fn::open::aws-login",
  };
}

/**
 * The pair's explicit AWS provider: region, profile and role to assume, and the environment's
 * credentials when the binding names them (`target` is the kind, for messages).
 */
export function awsProvider(s: AwsConnection, credentials?: Readonly<Record<string, SecretValue>>, target = "aws"): aws.Provider {
  const creds = credentialsFor(credentials, awsCredentialSpec(target));
  const sessionToken = creds?.optional("sessionToken");
  return new aws.Provider("aws", {
    region: s.region,
    ...(s.profile !== undefined ? { profile: s.profile } : {}),
    ...(s.roleArn !== undefined ? { assumeRoles: [{ roleArn: s.roleArn, sessionName: "esc-sync" }] } : {}),
    ...(creds !== undefined
      ? {
          accessKey: creds.required("accessKeyId"),
          secretKey: creds.required("secretAccessKey"),
          ...(sessionToken !== undefined ? { token: sessionToken } : {}),
        }
      : {}),
  });
}
