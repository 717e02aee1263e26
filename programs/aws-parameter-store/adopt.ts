/**
 * `migrate adopt` for `aws-parameter-store`: which planned parameters exist already (through the
 * kind's reader), and what the program needs to import them. A parameter is imported by its full
 * name.
 */
import type { ProgramInput, StoreReader } from "../contract.js";
import type { SecretValue } from "../secret-value.js";
import { findExistingWith } from "../shared/adopt.js";
import { normalizeName } from "./naming.js";
import { awsParameterStoreReader } from "./reader.js";
import type { AwsParameterStoreSettings } from "./schema.js";

/** The planned parameters that exist now, by planned name, with their (decrypted) values. */
export function awsParameterStoreFindExisting(
  input: ProgramInput<AwsParameterStoreSettings>,
  signal?: AbortSignal,
  reader: StoreReader = awsParameterStoreReader(input.settings, input.credentials),
): Promise<Map<string, SecretValue>> {
  return findExistingWith(input, { reader, storeName: (e) => normalizeName(e.name, input.settings) }, signal);
}

/** `aws.ssm.Parameter`'s import id: the parameter's name. */
export function parameterImportId(name: string): string {
  return name;
}

/**
 * What an adopted parameter may hold differently from the program for the import to succeed
 * (its value, a String or StringList type, another tier or key); the next sync writes them.
 */
export const PARAMETER_IGNORED = ["value", "insecureValue", "type", "tier", "keyId", "description", "tags", "dataType", "allowedPattern", "overwrite"];
