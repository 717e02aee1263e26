/** The webhook secret serve verifies deliveries with, and `webhook register` registers. */
import { readFileSync } from "node:fs";
import { ConfigError } from "../errors.js";

/** The webhook secret from `ESC_SYNC_WEBHOOK_SECRET`, or the file `ESC_SYNC_WEBHOOK_SECRET_FILE` names. */
export function webhookSecret(env: NodeJS.ProcessEnv): string | undefined {
  if (env.ESC_SYNC_WEBHOOK_SECRET) return env.ESC_SYNC_WEBHOOK_SECRET;
  const file = env.ESC_SYNC_WEBHOOK_SECRET_FILE;
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new ConfigError(`ESC_SYNC_WEBHOOK_SECRET_FILE=${file} cannot be read: check the path (a mounted Kubernetes secret, e.g.)`);
  }
  const secret = text.trim();
  if (!secret) throw new ConfigError(`ESC_SYNC_WEBHOOK_SECRET_FILE=${file} is empty: put the webhook's secret in it`);
  return secret;
}
