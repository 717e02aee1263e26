/**
 * The Pulumi program of an `aws-secrets-manager` pair: an explicit AWS provider for the target's
 * region and credentials, then one `Secret` + `SecretVersion` per entry. Entries being adopted
 * (`migrate adopt`) import the existing secret and its current version instead of creating them.
 */
import * as aws from "@pulumi/aws";
import type { PulumiFn } from "@pulumi/pulumi/automation/index.js";
import type { ProgramInput } from "../contract.js";
import { awsProvider } from "../shared/aws-provider.js";
import { describeEntry, ownershipTags } from "../shared/ownership.js";
import { secretText, storeOptions } from "../shared/store-inputs.js";
import { SECRET_IGNORED, VERSION_IGNORED, secretImportId, secretVersionImportId } from "./adopt.js";
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
      const existing = input.adopt?.has(entry.name) ? await currentVersion(name, s.region, provider) : undefined;
      const secret = new aws.secretsmanager.Secret(
        name,
        {
          name,
          // Stated on every resource, not left to the provider's region: the upstream provider
          // keeps a resource's region from its state when the resource does not state one, so a
          // region changed in the manifest would move nothing (found with the real provider).
          region: s.region,
          description: describeEntry(input, entry, 2048),
          recoveryWindowInDays: s.recoveryWindowInDays,
          ...(s.kmsKeyId !== undefined ? { kmsKeyId: s.kmsKeyId } : {}),
          tags,
        },
        storeOptions(provider, input.retainOnDelete, existing ? { import: secretImportId(existing.arn), ignoreChanges: SECRET_IGNORED } : {}),
      );
      new aws.secretsmanager.SecretVersion(
        name,
        // AWSCURRENT stated, so that a value put into the secret outside esc-sync (a new version
        // that takes the label) is a difference the next sync undoes by moving the label back.
        { secretId: secret.id, region: s.region, secretString: secretText(entry), versionStages: ["AWSCURRENT"] },
        storeOptions(
          provider,
          input.retainOnDelete,
          existing?.versionId !== undefined
            ? { import: secretVersionImportId(existing.arn, existing.versionId), ignoreChanges: VERSION_IGNORED }
            : {},
        ),
      );
      names.push(name);
    }
    return { names };
  };
}

/**
 * The ARN of an existing secret and the id of its AWSCURRENT version (none when no version holds
 * that label: the program then writes one), looked up through the pair's provider: the ARN from
 * the secret's description (`getSecret`, DescribeSecret), the versions from `getSecretVersions`
 * (ListSecretVersionIds). Neither returns a value. The ARN is not taken from the version listing:
 * AWS documents its `ARN` as the secret's ARN, but moto 5.2.5 answers with the name there, which
 * the provider cannot import (found with the real provider, test/e2e/aws-secrets-manager-real).
 */
async function currentVersion(name: string, region: string, provider: aws.Provider): Promise<{ arn: string; versionId?: string }> {
  const [secret, found] = await Promise.all([
    aws.secretsmanager.getSecret({ name, region }, { provider }),
    aws.secretsmanager.getSecretVersions({ secretId: name, region }, { provider }),
  ]);
  const current = found.versions.find((v) => v.versionStages.includes("AWSCURRENT"));
  return { arn: secret.arn, ...(current ? { versionId: current.versionId } : {}) };
}
