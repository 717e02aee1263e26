/**
 * Reads the secrets of an `aws-secrets-manager` target through the AWS SDK v3, for
 * `migrate import`: `ListSecrets` (name prefix filter, every page), then `GetSecretValue` for
 * each name the filter accepts, a few at a time. A secret holding `SecretBinary` is skipped:
 * ESC holds text.
 *
 * Credentials and endpoint come from the SDK's usual chain: `AWS_PROFILE`/`profile`, the
 * environment, SSO, instance roles; `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_SECRETS_MANAGER`)
 * points the client at another endpoint, such as an emulator.
 */
import type { fromTemporaryCredentials as FromTemporaryCredentials } from "@aws-sdk/credential-providers";
import type { ReadFilter, StoreEntry, StoreReader } from "../contract.js";
import { SecretValue } from "../secret-value.js";
import { awsLocation, type AwsConnection } from "../shared/aws.js";
import { StoreReadError, describeError, mapBounded, readError } from "../shared/reader.js";
import type { AwsSecretsManagerSettings } from "./schema.js";

/** Static AWS credentials, as the SDK clients take them. */
interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Values fetched at once: well below the API's default rate limits. */
const CONCURRENCY = 4;

/**
 * The AWS client settings a reader uses: region, profile, and with `roleArn` the role assumed
 * (session `esc-sync`) on top of the credential chain, as the target's provider does. The pair's
 * credentials from its environment (`migrate adopt` of a pair with `credentials:` or
 * `providerConfigFrom: environment`) replace the usual chain, as they do for the provider.
 */
export async function awsClientConfig(
  s: AwsConnection,
  pairCredentials?: Readonly<Record<string, SecretValue>>,
): Promise<{ region: string; profile?: string; credentials?: AwsCredentialIdentity | ReturnType<typeof FromTemporaryCredentials> }> {
  const fixed = staticCredentials(pairCredentials);
  const base = { region: s.region, ...(s.profile !== undefined && !fixed ? { profile: s.profile } : {}), ...(fixed ? { credentials: fixed } : {}) };
  if (s.roleArn === undefined) return base;
  const { fromTemporaryCredentials } = await import("@aws-sdk/credential-providers");
  return {
    ...base,
    credentials: fromTemporaryCredentials({
      params: { RoleArn: s.roleArn, RoleSessionName: "esc-sync" },
      clientConfig: base,
      ...(fixed ? { masterCredentials: fixed } : {}),
    }),
  };
}

/** An access key pair (and session token) from the pair's credentials; undefined without one. */
function staticCredentials(c: Readonly<Record<string, SecretValue>> | undefined): AwsCredentialIdentity | undefined {
  const id = c?.["accessKeyId"];
  const key = c?.["secretAccessKey"];
  if (id === undefined || key === undefined) return undefined;
  const token = c?.["sessionToken"];
  return { accessKeyId: id.reveal(), secretAccessKey: key.reveal(), ...(token !== undefined ? { sessionToken: token.reveal() } : {}) };
}

/** The pair's `credentials` (see {@link awsClientConfig}) are used when given. */
export function awsSecretsManagerReader(settings: AwsSecretsManagerSettings, credentials?: Readonly<Record<string, SecretValue>>): StoreReader {
  return {
    location: awsLocation(settings),
    list: (filter, signal) => listSecrets(settings, filter, signal, credentials),
  };
}

async function* listSecrets(
  settings: AwsSecretsManagerSettings,
  filter: ReadFilter,
  signal?: AbortSignal,
  credentials?: Readonly<Record<string, SecretValue>>,
): AsyncGenerator<StoreEntry> {
  const config = await awsClientConfig(settings, credentials);
  const sm = await import("@aws-sdk/client-secrets-manager");
  const client = new sm.SecretsManagerClient(config);
  const options = signal ? { abortSignal: signal } : {};
  try {
    const found: { name: string; arn: string }[] = [];
    let token: string | undefined;
    do {
      let page;
      try {
        page = await client.send(
          new sm.ListSecretsCommand({
            MaxResults: 100,
            ...(token ? { NextToken: token } : {}),
            // AWS matches this prefix case-insensitively: the exact test follows below.
            ...(filter.prefix ? { Filters: [{ Key: "name", Values: [filter.prefix] }] } : {}),
          }),
          options,
        );
      } catch (error) {
        throw readError("ListSecrets", error);
      }
      for (const s of page.SecretList ?? []) {
        if (!s.Name || !s.ARN) continue;
        if (filter.prefix && !s.Name.startsWith(filter.prefix)) continue;
        if (filter.include && !filter.include(s.Name)) continue;
        found.push({ name: s.Name, arn: s.ARN });
      }
      token = page.NextToken || undefined;
    } while (token);
    found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

    const entries = await mapBounded(found, CONCURRENCY, async ({ name, arn }): Promise<StoreEntry> => {
      try {
        const out = await client.send(new sm.GetSecretValueCommand({ SecretId: arn }), options);
        if (typeof out.SecretString === "string") return { name, value: new SecretValue(out.SecretString) };
        if (out.SecretBinary !== undefined) {
          return { name, value: undefined, binary: true, skippedReason: "binary secret (SecretBinary): ESC values are text" };
        }
        return { name, value: undefined, skippedReason: "the secret has no current value (AWSCURRENT)" };
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        return { name, value: undefined, error: describeError("GetSecretValue", error) };
      }
    });
    yield* entries;
  } finally {
    client.destroy();
  }
}
