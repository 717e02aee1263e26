/**
 * The steps every command shares: load the manifest, open the source, select and open the
 * environments, plan. Then, for commands that run Pulumi: the backend, the toolchain, the stacks.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import pLimit from "p-limit";
import picomatch from "picomatch";
import { ConfigError } from "./errors.js";
import { loadManifest, resolveManifestPaths } from "./manifest/load.js";
import type { Manifest } from "./manifest/schema.js";
import { idleBindings, matchBindings, plan, type Plan, type Selection } from "./planner/plan.js";
import { processRedactor, type Redactor } from "./redact.js";
import type { Backend } from "./runner/stack.js";
import { LocalSource } from "./sources/local.js";
import { PulumiCloudSource } from "./sources/pulumi-cloud.js";
import { EnvironmentError, envId, type EnvironmentSource, type ResolvedEnvironment } from "./sources/source.js";

/** Options every command takes. */
export interface CommonOptions {
  manifest: string;
  filter?: string[];
  target?: string[];
  concurrency?: number;
}

/** A manifest loaded, environments opened, a plan made. */
export interface Prepared {
  manifest: Manifest;
  manifestDir: string;
  selection: Selection;
  source: EnvironmentSource;
  plan: Plan;
  environments: ResolvedEnvironment[];
  redactor: Redactor;
  concurrency: number;
  /** What the source retried (429, 5xx, resets), for the report. */
  sourceRetries: string[];
}

/** The user-level folder for esc-sync's state: `$XDG_STATE_HOME/esc-sync` or `~/.local/state/esc-sync`. */
export function stateHome(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME || join(homedir(), ".local", "state"), "esc-sync");
}

/** Builds the source the manifest names. */
export function openSource(manifest: Manifest, env: NodeJS.ProcessEnv = process.env, onRetry?: (note: string) => void): EnvironmentSource {
  const s = manifest.source;
  if (s.kind === "local") return new LocalSource(s.folder, s.org);
  const token = env.PULUMI_ACCESS_TOKEN;
  if (!token) {
    throw new ConfigError(
      "source pulumi-cloud needs an access token: set PULUMI_ACCESS_TOKEN (create one at https://app.pulumi.com/account/tokens)",
    );
  }
  return new PulumiCloudSource({
    org: s.org,
    token,
    apiUrl: s.apiUrl ?? env.PULUMI_API_URL ?? "https://api.pulumi.com",
    ...(onRetry
      ? { onRetry: (e) => onRetry(`ESC API: ${e.operation} failed (${e.reason.split("\n")[0]}); retried after ${(e.delayMs / 1000).toFixed(1)}s (attempt ${e.attempt + 1} of ${e.maxAttempts})`) }
      : {}),
  });
}

/**
 * The key of the plan's fingerprints: `$ESC_SYNC_FINGERPRINT_KEY`, else derived from the state
 * passphrase, else a random key kept in the user's state folder. Never printed.
 */
export function fingerprintKey(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ESC_SYNC_FINGERPRINT_KEY) return env.ESC_SYNC_FINGERPRINT_KEY;
  if (env.PULUMI_CONFIG_PASSPHRASE) return createHash("sha256").update("esc-sync fingerprint\0" + env.PULUMI_CONFIG_PASSPHRASE).digest("hex");
  const file = join(stateHome(env), "fingerprint.key");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(stateHome(env), { recursive: true, mode: 0o700 });
  const key = randomBytes(32).toString("hex");
  writeFileSync(file, key + "\n", { mode: 0o600 });
  return key;
}

/** Loads the manifest, lists and opens the selected environments, and plans. No Pulumi call. */
export async function prepare(opts: CommonOptions, env: NodeJS.ProcessEnv = process.env): Promise<Prepared> {
  const loaded = await loadManifest(opts.manifest);
  const manifest = resolveManifestPaths(loaded);
  const selection: Selection = { filter: opts.filter ?? [], targets: opts.target ?? [] };
  const unknownTargets = (opts.target ?? []).filter((t) => !manifest.targets[t]);
  if (unknownTargets.length) {
    throw new ConfigError(`--target ${unknownTargets.join(", ")}: no such target in ${loaded.file} (known: ${Object.keys(manifest.targets).join(", ")})`);
  }
  const concurrency = opts.concurrency ?? manifest.concurrency;
  const sourceRetries: string[] = [];
  const source = openSource(manifest, env, (note) => sourceRetries.push(note));
  const refs = await listEnvironments(source);
  const warnings = idleBindings(manifest, refs).map(
    (b) => `binding "${b.id ?? b.target}" selects no environment (${JSON.stringify(b.environments)} matches none of ${refs.length}): check its glob`,
  );
  const matches = matchBindings(manifest, refs, selection);

  // Open each selected environment once, a few at a time; one failing does not stop the others.
  // Every environment in the selection is opened: any of them may carry its own sync: block.
  const inFilter = refs.filter((r) => !selection.filter?.length || picomatch.isMatch(envId(r), selection.filter));
  const bound = new Set(matches.map((m) => envId(m.ref)));
  const wanted = inFilter;
  const environments: ResolvedEnvironment[] = [];
  const failures = new Map<string, EnvironmentError>();
  const limit = pLimit(Math.max(concurrency, 4));
  await Promise.all(
    wanted.map((ref) =>
      limit(async () => {
        try {
          environments.push(await source.open(ref));
        } catch (err) {
          if (err instanceof EnvironmentError) failures.set(envId(ref), err);
          else throw err;
        }
      }),
    ),
  );
  const redactor = processRedactor.addEnvironments(environments).add(env.PULUMI_ACCESS_TOKEN, env.PULUMI_CONFIG_PASSPHRASE);
  for (const err of failures.values()) redactor.add(...err.secrets);
  // An environment no binding selects matters only through a sync: block it may hold.
  for (const [id, err] of [...failures]) {
    if (bound.has(id)) continue;
    failures.delete(id);
    warnings.push(`${err.message.split("\n")[0]}: not synced (no binding selects it; a sync: block in it could not be read)`);
  }
  const result = plan({ manifest, environments, failures, matches, fingerprintKey: fingerprintKey(env), selection });
  result.warnings.push(...warnings);
  return { manifest, manifestDir: loaded.dir, selection, source, plan: result, environments, redactor, concurrency, sourceRetries };
}

/** Lists the source's environments; a failure is the user's to fix (token, URL, folder). */
async function listEnvironments(source: EnvironmentSource) {
  try {
    return await source.list();
  } catch (err) {
    if (!(err instanceof EnvironmentError)) throw err;
    const hint = /\b401\b|\b403\b/.test(err.message)
      ? ": check PULUMI_ACCESS_TOKEN (it must be valid for the organisation)"
      : err.retryable
        ? ": check the API URL and the network, then run again"
        : "";
    throw new ConfigError(`cannot list the environments of ${source.description}: ${err.message}${hint}`);
  }
}

/**
 * The state backend: `--backend-url`, else the manifest's, else a `file://` folder in the user's
 * state folder. Checks the secrets provider's needs before any Pulumi call.
 */
export function resolveBackend(prepared: Prepared, override: string | undefined, env: NodeJS.ProcessEnv = process.env): Backend {
  const secretsProvider = prepared.manifest.state.secretsProvider;
  const backendEnv: Record<string, string> = {};
  if (secretsProvider === "passphrase") {
    if (!env.PULUMI_CONFIG_PASSPHRASE && !env.PULUMI_CONFIG_PASSPHRASE_FILE) {
      throw new ConfigError(
        "the passphrase secrets provider needs PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE): " +
          "export one and keep it, it decrypts the state; or set state.secretsProvider to a KMS in the manifest",
      );
    }
  }
  let url = override ?? prepared.manifest.state.backend ?? pathToFileURL(join(stateHome(env), "backend")).href;
  if (url.startsWith("file://")) {
    // Pulumi resolves a relative file:// path against its work directory, a temp folder: anchor it.
    let path = decodeURIComponent(url.slice("file://".length));
    if (path.startsWith("~")) path = join(homedir(), path.slice(1));
    if (!isAbsolute(path)) path = resolve(prepared.manifestDir, path);
    mkdirSync(path, { recursive: true });
    url = pathToFileURL(path).href;
  }
  return { url, secretsProvider, env: backendEnv };
}
