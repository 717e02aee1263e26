/** `aws-secrets-manager`: one AWS Secrets Manager secret per entry. */
import type { TargetKind } from "../contract.js";
import { awsLocation, awsProviderConfig } from "../shared/aws.js";
import { lazyProgram } from "../shared/lazy.js";
import { pluginOf } from "../shared/plugins.js";
import { awsSecretsManagerFindExisting } from "./adopt.js";
import { checkEntries, normalizeName } from "./naming.js";
import { awsSecretsManagerReader } from "./reader.js";
import { readBack as awsSecretsManagerReadBack } from "./readback.js";
import { awsSecretsManagerSettings, type AwsSecretsManagerSettings } from "./schema.js";

export const awsSecretsManagerTarget: TargetKind<AwsSecretsManagerSettings> = {
  kind: "aws-secrets-manager",
  description: "AWS Secrets Manager: one secret per entry (JSON document or one key), in one region",
  settingsSchema: awsSecretsManagerSettings,
  defaultName: { json: "{project}/{env}", keys: "{project}/{env}/{key}" },
  syncConventionKey: "awsSecretsManager",
  providerConfig: awsProviderConfig,
  plugins: [pluginOf("@pulumi/aws")],
  normalizeName: (name) => normalizeName(name),
  check: (entries) => checkEntries(entries),
  location: awsLocation,
  program: lazyProgram(async () => (await import("./program.js")).awsSecretsManagerProgram),
  reader: (settings) => awsSecretsManagerReader(settings),
  findExisting: (input, signal) => awsSecretsManagerFindExisting(input, signal),
  readBack: (resources, shape) => awsSecretsManagerReadBack(resources, shape),
};
