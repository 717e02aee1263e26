/**
 * The `file` target's cheap check of what is on disk, without an engine run: a file deleted, its
 * mode changed or its text edited outside esc-sync since the last sync. `sync` runs (and repairs)
 * such a pair without `--refresh`, as a reconciliation is expected to. Compares in memory; the
 * file's text is never kept or printed.
 */
import { readFileSync, statSync } from "node:fs";
import type { ProgramInput } from "../contract.js";
import { renderFile } from "./render.js";
import type { FileSettings } from "./schema.js";

export function fileCheckInPlace(input: ProgramInput<FileSettings>): string | undefined {
  const path = input.settings.path;
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT" ? `${path} is missing` : undefined;
  }
  const wanted = parseInt(input.settings.mode, 8);
  if (mode !== wanted) return `${path} has mode 0${mode.toString(8)}, esc-sync writes 0${wanted.toString(8)}`;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined; // unreadable: a refresh says why
  }
  return text === renderFile(input.shape, input.entries) ? undefined : `${path} was changed outside esc-sync`;
}
