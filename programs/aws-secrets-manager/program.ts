/**
 * The Pulumi program of an `aws-secrets-manager` pair: an explicit AWS provider for the target's
 * region and credentials, then one `Secret` + `SecretVersion` per entry.
 */
import * as aws from "@pulumi/aws";
import type { PulumiFn } from "@pulumi/pulumi/automation/index.js";
import type { ProgramInput } from "../contract.js";
import { awsProvider } from "../shared/aws-provider.js";
import { describeEntry, ownershipTags } from "../shared/ownership.js";
import { secretText, storeOptions } from "../shared/values.js";
import { normalizeName } from "./naming.js";
import type { AwsSecretsManagerSettings } from "./schema.js";

export function awsSecretsManagerProgram(input: ProgramInput<AwsSecretsManagerSettings>): PulumiFn {
  return async () => {
    const s = input.settings;
    const provider = awsProvider(s, input.credentials, "aws-secrets-manager");
    const tags = ownershipTags(input);
    const names: string[] = [];
    for (const entry of input.entries) {
      const name = normalizeName(entry.name);
      const secret = new aws.secretsmanager.Secret(
        name,
        {
          name,
          description: describeEntry(input, entry, 2048),
          recoveryWindowInDays: s.recoveryWindowInDays,
          ...(s.kmsKeyId !== undefined ? { kmsKeyId: s.kmsKeyId } : {}),
          tags,
        },
        storeOptions(provider, input.retainOnDelete),
      );
      new aws.secretsmanager.SecretVersion(
        name,
        // AWSCURRENT stated, so that a value put into the secret outside esc-sync (a new version
        // that takes the label) is a difference the next sync undoes by moving the label back.
        { secretId: secret.id, secretString: secretText(entry), versionStages: ["AWSCURRENT"] },
        storeOptions(provider, input.retainOnDelete),
      );
      names.push(name);
    }
    return { names };
  };
}
