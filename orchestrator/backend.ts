/**
 * Where a session keeps its state: the backend URL (`--backend-url`, the manifest's, or
 * `.esc-sync/state` beside the manifest), made absolute, and checked before a run: the passphrase
 * where the secrets provider needs one, a `file://` folder created (private) only when a run
 * writes. Also the user-level state folder, where esc-sync 0.1 kept every backend.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ConfigError } from "./errors.js";
import type { Manifest } from "./manifest/schema.js";
import type { Backend } from "./runner/stack.js";

/** The backend: `flag` (`--backend-url`), else the manifest's, else `.esc-sync/state` beside the manifest. */
export function backendOf(flag: string | undefined, manifest: Manifest, manifestDir: string): Backend {
  const url = flag ?? manifest.state.backend ?? pathToFileURL(defaultBackendDir(manifestDir)).href;
  return { url: normaliseBackendUrl(url, manifestDir), secretsProvider: manifest.state.secretsProvider };
}

/**
 * The backend, checked: a passphrase where the secrets provider needs one, a `file://` folder
 * created (private) only with `create` (and git-ignored where it is the default one). Undefined
 * when a `file://` folder does not exist and is not to be created: it holds no stack.
 */
export function checkedBackend(
  backend: Backend,
  opts: { create: boolean; needPassphrase: boolean; isDefault: boolean; env: NodeJS.ProcessEnv },
): Backend | undefined {
  if (opts.needPassphrase && backend.secretsProvider === "passphrase" && !opts.env.PULUMI_CONFIG_PASSPHRASE && !opts.env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    throw new ConfigError(
      "the passphrase secrets provider needs PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE): " +
        "export one and keep it, it decrypts the state; or set state.secretsProvider to a KMS in the manifest",
    );
  }
  if (backend.url.startsWith("file://")) {
    const path = fileURLToPath(backend.url);
    if (!existsSync(path)) {
      if (!opts.create) return undefined;
      mkdirSync(path, { recursive: true, mode: 0o700 });
      // The default folder is git-ignored wherever the manifest lives, as a cache folder is.
      if (opts.isDefault) ignoreInGit(dirname(path));
    }
  }
  return backend;
}

/** A `file://` URL made absolute (`~` and relative paths anchored), other URLs as they are. */
export function normaliseBackendUrl(url: string, manifestDir: string): string {
  if (!url.startsWith("file://")) return url;
  // Pulumi resolves a relative file:// path against its work directory, a temp folder: anchor it.
  let path = decodeURIComponent(url.slice("file://".length));
  if (path.startsWith("~")) path = join(homedir(), path.slice(1));
  if (!isAbsolute(path)) path = resolve(manifestDir, path);
  return pathToFileURL(path).href;
}

/**
 * Where a manifest that names no backend keeps its state: `.esc-sync/state` beside it, so that two
 * clones (or two manifests in two folders) never share stacks.
 */
export function defaultBackendDir(manifestDir: string): string {
  return join(manifestDir, ".esc-sync", "state");
}

/** The default backend of esc-sync 0.1 (one folder per user, shared by every clone): still read, to say so. */
export function legacyBackendDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateHome(env), "backend");
}

/** Writes `.gitignore` (`*`) into a folder esc-sync made for itself, unless one is there. */
export function ignoreInGit(dir: string): void {
  const file = join(dir, ".gitignore");
  if (!existsSync(file)) writeFileSync(file, "# written by esc-sync: its state and tools stay out of git\n*\n");
}

/** The user-level folder for esc-sync's state: `$XDG_STATE_HOME/esc-sync` or `~/.local/state/esc-sync`. */
export function stateHome(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME || join(homedir(), ".local", "state"), "esc-sync");
}
