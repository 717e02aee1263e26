/**
 * Plan-time checks of a `file` target's path, so that what cannot work is refused before any
 * engine runs: a pseudo-filesystem (`/proc`, `/sys`: Node's recursive mkdir never returns under
 * `/proc`, so the write would spin until the pair's deadline) and a file where a folder must be.
 * Reads the filesystem (stat only), writes nothing.
 */
import { statfsSync, statSync, type Stats } from "node:fs";
import { dirname, resolve } from "node:path";
import type { EntryProblem } from "../contract.js";

/**
 * statfs(2) magic numbers of Linux pseudo-filesystems, as the kernel's UAPI header
 * `/usr/include/linux/magic.h` defines them (checked against this machine's copy, and against
 * `statfsSync("/proc")`, `("/sys")`): no regular files can be created there.
 */
const PSEUDO_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, "proc"],
  [0x62656572, "sysfs"],
  [0x27e0eb, "cgroup"],
  [0x63677270, "cgroup2"],
  [0x64626720, "debugfs"],
  [0x74726163, "tracefs"],
  [0x73636673, "securityfs"],
  [0xcafe4a11, "bpf"],
  [0x6165676c, "pstore"],
]);

/** Folders that are pseudo-filesystems on every Linux, checked by name too (statfs may be denied). */
const PSEUDO_ROOTS = ["/proc", "/sys"];

const FIX = "set the target's path to a file on a real filesystem (e.g. out/{project}/{env}.env beside the manifest)";

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** The problems of writing a file at `path` (absolute), or none. */
export function checkFilePath(path: string): EntryProblem[] {
  const abs = resolve(path);
  const root = PSEUDO_ROOTS.find((r) => abs === r || abs.startsWith(r + "/"));
  if (root) return [{ message: `path ${abs} is under ${root}, a pseudo-filesystem where files cannot be created: ${FIX}` }];
  // (A folder in the file's place is left to the write, which says so: it may be moved away by then.)
  // The nearest ancestor that exists must be a folder (a file in the way is ENOTDIR at write time).
  let dir = dirname(abs);
  let st = statOrUndefined(dir);
  while (!st && dirname(dir) !== dir) {
    dir = dirname(dir);
    st = statOrUndefined(dir);
  }
  if (st && !st.isDirectory()) return [{ message: `path ${abs} cannot be created: ${dir} is a file, not a folder: ${FIX}, or move that file away` }];
  try {
    const fsType = PSEUDO_FILESYSTEMS.get(Number(statfsSync(dir).type));
    if (fsType) return [{ message: `path ${abs} is on a ${fsType} pseudo-filesystem (${dir}) where files cannot be created: ${FIX}` }];
  } catch {
    // statfs unavailable: the write reports what it finds.
  }
  return [];
}
