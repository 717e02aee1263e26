/**
 * Reads the parameters of an `aws-parameter-store` target through the AWS SDK v3, for
 * `migrate import`: `DescribeParameters` (name `BeginsWith` the prefix, every page), then
 * `GetParameters` with decryption, ten names a call. String, StringList (its comma-separated
 * text) and SecureString parameters are all read as text.
 *
 * Without a prefix, the target's `pathPrefix` scopes the listing. Credentials and endpoint come
 * from the SDK's usual chain; `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_SSM`) points it elsewhere.
 */
import type { ReadFilter, StoreEntry, StoreReader } from "../contract.js";
import { SecretValue } from "../secret-value.js";
import { awsClientConfig } from "../aws-secrets-manager/reader.js";
import { awsLocation } from "../shared/aws.js";
import { describeError, readError } from "../shared/reader.js";
import type { AwsParameterStoreSettings } from "./schema.js";

/** GetParameters takes at most ten names. */
const BATCH = 10;

/** The pair's `credentials` from its environment, when given, replace the usual chain (`migrate adopt`). */
export function awsParameterStoreReader(settings: AwsParameterStoreSettings, credentials?: Readonly<Record<string, SecretValue>>): StoreReader {
  return {
    location: `${awsLocation(settings)}${settings.pathPrefix ?? ""}`,
    list: (filter, signal) => listParameters(settings, filter, signal, credentials),
  };
}

async function* listParameters(
  settings: AwsParameterStoreSettings,
  filter: ReadFilter,
  signal?: AbortSignal,
  credentials?: Readonly<Record<string, SecretValue>>,
): AsyncGenerator<StoreEntry> {
  const config = await awsClientConfig(settings, credentials);
  const ssm = await import("@aws-sdk/client-ssm");
  const client = new ssm.SSMClient(config);
  const options = signal ? { abortSignal: signal } : {};
  const prefix = filter.prefix ?? (settings.pathPrefix !== undefined ? `${settings.pathPrefix}/` : undefined);
  try {
    const names: string[] = [];
    let token: string | undefined;
    do {
      let page;
      try {
        page = await client.send(
          new ssm.DescribeParametersCommand({
            MaxResults: 50,
            ...(token ? { NextToken: token } : {}),
            ...(prefix ? { ParameterFilters: [{ Key: "Name", Option: "BeginsWith", Values: [prefix] }] } : {}),
          }),
          options,
        );
      } catch (error) {
        throw readError("DescribeParameters", error);
      }
      for (const p of page.Parameters ?? []) {
        if (!p.Name) continue;
        if (prefix && !p.Name.startsWith(prefix)) continue;
        if (filter.include && !filter.include(p.Name)) continue;
        names.push(p.Name);
      }
      token = page.NextToken || undefined;
    } while (token);
    names.sort();

    for (let i = 0; i < names.length; i += BATCH) {
      const batch = names.slice(i, i + BATCH);
      let out;
      try {
        out = await client.send(new ssm.GetParametersCommand({ Names: batch, WithDecryption: true }), options);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const message = describeError("GetParameters", error);
        for (const name of batch) yield { name, value: undefined, error: message };
        continue;
      }
      const byName = new Map((out.Parameters ?? []).map((p) => [p.Name, p]));
      for (const name of batch) {
        const p = byName.get(name);
        if (p && typeof p.Value === "string") yield { name, value: new SecretValue(p.Value) };
        else yield { name, value: undefined, error: "GetParameters: the parameter was not found (deleted while reading?)" };
      }
    }
  } finally {
    client.destroy();
  }
}
