/**
 * `esc-sync migrate ...`: bring existing secrets into ESC, and adopt entries that already exist
 * in targets. (Being built: see issue 7.)
 */
import type { Argv } from "yargs";

/** Adds the `migrate` commands to the CLI. */
export function registerMigrate<T>(y: Argv<T>, setExitCode: (code: number) => void): Argv<T> {
  void setExitCode;
  return y;
}
