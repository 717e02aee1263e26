/** Builds the source of environments a manifest names: a local folder, or Pulumi Cloud through its API. */
import { ConfigError } from "../errors.js";
import type { Manifest } from "../manifest/schema.js";
import { LocalSource } from "./local.js";
import { PulumiCloudSource } from "./pulumi-cloud.js";
import type { EnvironmentSource } from "./source.js";

/** Builds the source the manifest names. */
export function openSource(manifest: Manifest, env: NodeJS.ProcessEnv = process.env, onRetry?: (note: string) => void, rps?: number): EnvironmentSource {
  const s = manifest.source;
  if (s.kind === "local") return new LocalSource(s.folder, s.org);
  const token = env.PULUMI_ACCESS_TOKEN;
  if (!token) {
    throw new ConfigError("source pulumi-cloud needs an access token: set PULUMI_ACCESS_TOKEN (create one at https://app.pulumi.com/account/tokens)");
  }
  return new PulumiCloudSource({
    org: s.org,
    token,
    apiUrl: s.apiUrl ?? env.PULUMI_API_URL ?? "https://api.pulumi.com",
    ...(rps !== undefined ? { rps } : {}),
    ...(onRetry
      ? { onRetry: (e) => onRetry(`ESC API: ${e.operation} failed (${e.reason.split("\n")[0]}); retried after ${(e.delayMs / 1000).toFixed(1)}s (attempt ${e.attempt + 1} of ${e.maxAttempts})`) }
      : {}),
  });
}
