/**
 * The Pulumi program of an `aws-parameter-store` pair: an explicit AWS provider, then one
 * SecureString `ssm.Parameter` per entry (the `keys` shape puts one parameter per key under a
 * path). Entries being adopted (`migrate adopt`) import the existing parameter by its name.
 */
import * as aws from "@pulumi/aws";
import type { PulumiFn } from "@pulumi/pulumi/automation/index.js";
import type { ProgramInput } from "../contract.js";
import { awsProvider } from "../shared/aws-provider.js";
import { describeEntry, ownershipTags } from "../shared/ownership.js";
import { secretText, storeOptions } from "../shared/store-inputs.js";
import { PARAMETER_IGNORED, parameterImportId } from "./adopt.js";
import { normalizeName } from "./naming.js";
import type { AwsParameterStoreSettings } from "./schema.js";

export function awsParameterStoreProgram(input: ProgramInput<AwsParameterStoreSettings>): PulumiFn {
  return async () => {
    const s = input.settings;
    const provider = awsProvider(s, input.credentials, "aws-parameter-store");
    const tags = ownershipTags(input);
    const names: string[] = [];
    for (const entry of input.entries) {
      const name = normalizeName(entry.name, s);
      new aws.ssm.Parameter(
        name,
        {
          name,
          // Stated, not left to the provider: see aws-secrets-manager/program.ts.
          region: s.region,
          type: "SecureString",
          value: secretText(entry),
          tier: s.tier,
          ...(s.kmsKeyId !== undefined ? { keyId: s.kmsKeyId } : {}),
          description: describeEntry(input, entry, 1024),
          tags,
        },
        storeOptions(
          provider,
          input.retainOnDelete,
          input.adopt?.has(entry.name) ? { import: parameterImportId(name), ignoreChanges: PARAMETER_IGNORED } : {},
        ),
      );
      names.push(name);
    }
    return { names };
  };
}
