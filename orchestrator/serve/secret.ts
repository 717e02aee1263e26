/** The secrets serve reads from its environment: the webhook secret and the admin token. */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfigError } from "../errors.js";

/** `NAME`, or the trimmed content of the file `NAME_FILE` names (a mounted Kubernetes secret). */
function fromEnv(env: NodeJS.ProcessEnv, name: string, what: string): string | undefined {
  if (env[name]) return env[name];
  const file = env[`${name}_FILE`];
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new ConfigError(`${name}_FILE=${file} cannot be read: check the path (a mounted Kubernetes secret, e.g.)`);
  }
  const secret = text.trim();
  if (!secret) throw new ConfigError(`${name}_FILE=${file} is empty: put ${what} in it`);
  return secret;
}

/** The webhook secret from `ESC_SYNC_WEBHOOK_SECRET`, or the file `ESC_SYNC_WEBHOOK_SECRET_FILE` names. */
export function webhookSecret(env: NodeJS.ProcessEnv): string | undefined {
  return fromEnv(env, "ESC_SYNC_WEBHOOK_SECRET", "the webhook's secret");
}

/** The token of serve's admin endpoints (`POST /sync`, `/pause`, `/resume`): `ESC_SYNC_ADMIN_TOKEN[_FILE]`. */
export function adminToken(env: NodeJS.ProcessEnv): string | undefined {
  return fromEnv(env, "ESC_SYNC_ADMIN_TOKEN", "the admin token");
}

/**
 * Whether an `Authorization` header carries `Bearer <token>`. Both sides are hashed first, so that
 * the comparison takes the same time whatever the length or content of what was sent.
 */
export function bearerMatches(token: string, header: string | undefined): boolean {
  const given = header?.startsWith("Bearer ") ? header.slice("Bearer ".length).trim() : "";
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(given), digest(token)) && given.length > 0;
}
