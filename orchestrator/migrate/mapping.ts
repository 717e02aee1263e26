/**
 * Which store entries an import takes and the ESC key each becomes. Pure.
 *
 * - `prefix`: only names starting with it (the store filters where it can).
 * - `filter`: globs over the store's names (`/prod/app/*`, `prod/**`); any one may match.
 * - `stripPrefix`: removed from the start of a name to make its key (default: `prefix`); leading
 *   `/` are removed after it, so `/prod/app/DB_PASSWORD` under `/prod/app/` becomes `DB_PASSWORD`.
 */
import picomatch from "picomatch";
import type { ReadFilter } from "../../programs/contract.js";

export interface KeyMappingOptions {
  prefix?: string | undefined;
  filter?: readonly string[] | undefined;
  /** Default: `prefix`. An empty string keeps names whole. */
  stripPrefix?: string | undefined;
}

export interface KeyMapping {
  /** What the reader is asked for: the prefix, and the globs as a name test. */
  readFilter: ReadFilter;
  /** The ESC key of a store name; undefined when nothing is left of the name. */
  keyOf(name: string): string | undefined;
}

export function keyMapping(options: KeyMappingOptions): KeyMapping {
  const prefix = options.prefix || undefined;
  const strip = options.stripPrefix ?? prefix ?? "";
  const globs = (options.filter ?? []).filter((g) => g !== "");
  const matchers = globs.map((g) => picomatch(g, { dot: true }));
  const include = matchers.length > 0 ? (name: string) => matchers.some((m) => m(name)) : undefined;
  return {
    readFilter: { ...(prefix !== undefined ? { prefix } : {}), ...(include ? { include } : {}) },
    keyOf(name) {
      const rest = strip !== "" && name.startsWith(strip) ? name.slice(strip.length) : name;
      const key = rest.replace(/^\/+/, "");
      return key === "" ? undefined : key;
    },
  };
}
