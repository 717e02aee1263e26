/**
 * A stack's state file cut short by a full disk. Before each write of a stack's checkpoint,
 * Pulumi's file backend copies the current file to `<stack>.json.bak` (pkg/backend/diy/state.go,
 * `backupTarget`); the blob library it writes through (gocloud.dev fileblob) closes, and so
 * renames into place, a write that failed half-way. After `no space left on device` the state
 * then no longer parses, and the last checkpoint Pulumi wrote whole is the `.bak`. Putting it back
 * is a rename, which needs no free space, so it can be done at once, while the disk is still full.
 * The same library leaves a lock file cut short when the disk fills as the lock is taken; every
 * later operation on the stack then fails reading it (`unexpected end of JSON input`).
 */
import { readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PROJECT_NAME } from "./stack.js";

async function parses(file: string, key?: string): Promise<boolean> {
  try {
    const value = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    return key === undefined || typeof value[key] === "object";
  } catch {
    return false;
  }
}

/** The state folder of a plain `file://` backend, or undefined for any other backend. */
function stateRoot(backendUrl: string): string | undefined {
  if (!backendUrl.startsWith("file://") || backendUrl.includes("?")) return undefined;
  return join(fileURLToPath(backendUrl), ".pulumi");
}

/**
 * Removes what a failed lock write left in the lock folder of `stack`: a lock file that does not
 * parse, and the library's empty temp file (`<lock>.json.<n>.tmp`, which it does not delete when
 * the write fails); Pulumi reads every file there as a lock and fails on these (`unexpected end of
 * JSON input`). A lock being taken is one small write, renamed into place whole: a live run's
 * lock always parses. Returns how many were removed.
 */
export async function removeCutLocks(backendUrl: string, stack: string): Promise<number> {
  const root = stateRoot(backendUrl);
  if (!root) return 0;
  const dir = join(root, "locks", "organization", PROJECT_NAME, stack);
  let removed = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const file = join(dir, name);
    const cut = /\.json\.[0-9a-f]+\.tmp$/.test(name) ? (await stat(file).catch(() => undefined))?.size === 0 : name.endsWith(".json") && !(await parses(file));
    if (!cut) continue;
    await rm(file, { force: true });
    await rm(`${file}.attrs`, { force: true });
    removed++;
  }
  return removed;
}

/**
 * Puts back a `file://` backend's checkpoint of `stack` that a failed write cut short, from the
 * backup Pulumi made during this operation (written at or after `since`, ms). True when it did;
 * false where there is nothing to do or nothing safe to do (another backend, a state file that
 * parses, no backup of this operation, a backup cut short too).
 */
export async function restoreCutCheckpoint(backendUrl: string, stack: string, since: number): Promise<boolean> {
  const root = stateRoot(backendUrl);
  if (!root) return false;
  const file = join(root, "stacks", PROJECT_NAME, `${stack}.json`);
  const backup = `${file}.bak`;
  try {
    if (await parses(file, "checkpoint")) return false;
    // Only a backup of this operation is the last good checkpoint; an older one would lose steps.
    if ((await stat(backup)).mtimeMs < since - 1000 || !(await parses(backup, "checkpoint"))) return false;
    await rename(backup, file);
  } catch {
    return false;
  }
  // The blob library's attributes (an MD5 of the content) go with it; a stale one is not read back.
  await rename(`${backup}.attrs`, `${file}.attrs`).catch(() => undefined);
  return true;
}
