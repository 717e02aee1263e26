/** `aws-parameter-store`: one SecureString SSM parameter per entry. */
import type { TargetKind } from "../contract.js";
import { awsLocation, awsProviderConfig } from "../shared/aws.js";
import { lazyProgram } from "../shared/lazy.js";
import { pluginOf } from "../shared/plugins.js";
import { awsParameterStoreFindExisting } from "./adopt.js";
import { checkEntries, normalizeName } from "./naming.js";
import { awsParameterStoreReader } from "./reader.js";
import { readBack as awsParameterStoreReadBack } from "./readback.js";
import { awsParameterStoreSettings, type AwsParameterStoreSettings } from "./schema.js";

export const awsParameterStoreTarget: TargetKind<AwsParameterStoreSettings> = {
  kind: "aws-parameter-store",
  description: "AWS SSM Parameter Store: one SecureString parameter per entry, keys under a path",
  settingsSchema: awsParameterStoreSettings,
  defaultName: { json: "/{project}/{env}", keys: "/{project}/{env}/{key}" },
  syncConventionKey: "awsParameterStore",
  providerConfig: awsProviderConfig,
  plugins: [pluginOf("@pulumi/aws")],
  normalizeName,
  check: (entries, settings) => checkEntries(entries, settings),
  location: (s) => `${awsLocation(s)}${s.pathPrefix ?? ""}`,
  program: lazyProgram(async () => (await import("./program.js")).awsParameterStoreProgram),
  reader: (settings) => awsParameterStoreReader(settings),
  findExisting: (input, signal) => awsParameterStoreFindExisting(input, signal),
  readBack: (resources, shape) => awsParameterStoreReadBack(resources, shape),
};
