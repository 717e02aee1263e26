/**
 * `serve --watch`: which environment definitions of the local source's folder changed. chokidar
 * rather than a recursive `fs.watch`: on Linux, `fs.watch` stops reporting a file once a save
 * replaced it by a rename (`sed -i`, most editors), and it misses folders created later;
 * chokidar watches each folder, follows renames, new and removed files and folders.
 */
import { watch, type FSWatcher } from "chokidar";
import { existsSync, statSync } from "node:fs";
import { relative, sep } from "node:path";
import type { Logger } from "pino";
import { ServeStartError } from "./start-error.js";

const DEFINITION = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)\.yaml$/;

/** `project/name` for `<folder>/<project>/<name>.yaml`, undefined for any other path. */
export function environmentOfPath(folder: string, path: string): string | undefined {
  const m = DEFINITION.exec(relative(folder, path).split(sep).join("/"));
  return m ? `${m[1]}/${m[2]}` : undefined;
}

export interface DefinitionWatcher {
  close(): Promise<void>;
}

/**
 * Calls `onChange(env)` whenever a definition under `folder` is written, replaced, created or
 * removed; `onError` when the watch fails (the reconcile still catches what it misses). Resolves
 * once the folder is being watched.
 */
export async function watchDefinitions(folder: string, onChange: (env: string) => void, onError: (err: Error) => void): Promise<DefinitionWatcher> {
  const watcher: FSWatcher = watch(folder, {
    ignoreInitial: true,
    // A save by rename shows as unlink + add: chokidar reports it as one change.
    atomic: true,
    // Editors' and sed's temporary files are not definitions; only .yaml files and folders are followed.
    ignored: (path, stats) => stats?.isFile() === true && !path.endsWith(".yaml"),
  });
  watcher.on("all", (_event, path) => {
    const env = environmentOfPath(folder, path);
    if (env) onChange(env);
  });
  watcher.on("error", (err) => onError(err instanceof Error ? err : new Error(String(err))));
  await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  return { close: () => watcher.close() };
}

/**
 * serve's watcher: every definition changed under `folder` is logged (`definition changed`) and
 * handed to `changed` (false: the queue is full, the reconcile catches it). Throws a
 * {@link ServeStartError} when the folder does not exist, so that serve ends before it listens.
 */
export async function watchForChanges(folder: string, logger: Logger, changed: (env: string) => boolean): Promise<DefinitionWatcher> {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new ServeStartError(`--watch: the local source's folder ${folder} does not exist`, "create it, or fix source.folder in the manifest");
  }
  return watchDefinitions(
    folder,
    (env) => {
      logger.info({ environment: env }, "definition changed");
      if (!changed(env)) logger.warn({ environment: env }, "too many syncs waiting: the next reconcile will catch this change");
    },
    // A folder swapped or removed, or the inotify limit reached: log it and rely on the reconcile.
    (err) => logger.error({ folder }, `watching the folder failed: ${err.message}; changes are caught by the reconcile (every --reconcile-every)`),
  );
}
