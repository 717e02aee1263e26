/**
 * The key of the plan's fingerprints, and how a command may use it: derived once per session,
 * created (written to the user's state folder) only by a command that writes stacks.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stateHome } from "./backend.js";
import { ConfigError } from "./errors.js";

/**
 * How a command uses the fingerprint key. `write`: it updates stacks (and may create the key
 * file). `read`: it prints fingerprints (`inventory`, `migrate adopt --dry-run`): it needs the
 * key, refuses at once without one, never creates one. `compare`: it compares fingerprints with
 * the stacks' records (`plan`, `drift`, `sync --dry-run`): without the key it refuses as soon as
 * a selected pair has a record, and works while none has (every pair is new whatever the key).
 * `unused`: it compares none (`prune`): a key of its own, in memory only.
 */
export type KeyAccess = "read" | "compare" | "write" | "unused";

/**
 * The key of the plan's fingerprints: `$ESC_SYNC_FINGERPRINT_KEY`, else derived from the state
 * passphrase, else a random key kept in the user's state folder. Never printed. With `read`
 * access no key is created: without one, a report could only guess (every pair "changed"), so it
 * is a {@link ConfigError} naming the variables to set.
 */
export function fingerprintKey(env: NodeJS.ProcessEnv = process.env, access: "read" | "write" = "write"): string {
  if (env.ESC_SYNC_FINGERPRINT_KEY) return env.ESC_SYNC_FINGERPRINT_KEY;
  if (env.PULUMI_CONFIG_PASSPHRASE) return createHash("sha256").update("esc-sync fingerprint\0" + env.PULUMI_CONFIG_PASSPHRASE).digest("hex");
  const file = join(stateHome(env), "fingerprint.key");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  if (access === "read") {
    throw new ConfigError(
      "no fingerprint key: this command compares keyed fingerprints of the values (with the stacks' records, or with another run's), and without the key it cannot tell a synced pair from a changed one",
      [],
      "export PULUMI_CONFIG_PASSPHRASE (the passphrase the stacks were written with) or ESC_SYNC_FINGERPRINT_KEY, then run it again",
    );
  }
  mkdirSync(stateHome(env), { recursive: true, mode: 0o700 });
  const key = randomBytes(32).toString("hex");
  writeFileSync(file, key + "\n", { mode: 0o600 });
  return key;
}
