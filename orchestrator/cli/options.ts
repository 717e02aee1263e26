/**
 * The flags commands share, declared once for yargs: each command spreads the groups it takes
 * into its own `options({...})`, so its handler's arguments are typed from its own declaration
 * (yargs adds the camel-case key of every kebab-case flag: `--dry-run` arrives as `dryRun`).
 * Values are checked here, before anything runs, with messages that name the flag.
 */
import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DURATION_HINT, parseDuration } from "../duration.js";
import { ConfigError } from "../errors.js";
import { parseShard } from "../planner/shard.js";

/** A whole number at least `min`: what counts and budgets must be. */
export function wholeNumber(flag: string, min: number) {
  return (value: unknown): number | undefined => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new ConfigError(`--${flag} ${String(value)}: must be a whole number of at least ${min}`);
    return n;
  };
}

/** A duration flag: milliseconds, or a clear error. */
export function duration(flag: string) {
  return (value: unknown): number | undefined => {
    if (value === undefined) return undefined;
    const ms = parseDuration(String(value));
    if (ms === undefined) throw new ConfigError(`--${flag} ${String(value)}: must be ${DURATION_HINT}`);
    return ms;
  };
}

/** A duration flag where 0 means "none" (`--debounce 0s`). */
export function durationOrZero(flag: string) {
  const parse = duration(flag);
  return (value: unknown): number | undefined => (value !== undefined && /^\s*0+(ms|s|m|h)?\s*$/.test(String(value)) ? 0 : parse(value));
}

export const manifestOption = {
  manifest: { alias: "m", type: "string", default: "environments.yaml", describe: "The manifest file" },
} as const;

/** What every command that reads the manifest and selects pairs takes. */
export const selection = {
  ...manifestOption,
  filter: { alias: "f", type: "string", array: true, describe: "Only environments matching these globs over project/name" },
  target: { alias: "t", type: "string", array: true, describe: "Only these target ids" },
  concurrency: { alias: "c", type: "number", describe: "Pairs run at once (default: the manifest's)", coerce: wholeNumber("concurrency", 1) },
  "backend-url": { type: "string", describe: "Pulumi state backend, e.g. file:///srv/state or s3://bucket (default: the manifest's)" },
  "allow-empty": { type: "boolean", default: false, describe: "Succeed when --filter selects no environment (by default a mistake: exit 1)" },
} as const;

/** The ESC API's request rate: every command that opens environments of a pulumi-cloud source. */
export const escRate = {
  "esc-rps": { type: "number", describe: "ESC API requests per second, shared by all calls (pulumi-cloud source; default 300); a 429's Retry-After pauses them all", coerce: wholeNumber("esc-rps", 1) },
} as const;

/** `--shard i/n` (plan, sync, drift, prune); in an Indexed Job, JOB_COMPLETION_INDEX and ESC_SYNC_SHARD_COUNT instead. */
export const shard = {
  shard: { type: "string", describe: "Only this shard's pairs, INDEX/COUNT (e.g. 1/3): n runs share the work; default in an Indexed Job: $JOB_COMPLETION_INDEX/$ESC_SYNC_SHARD_COUNT", coerce: (v: unknown) => (v === undefined ? undefined : parseShard(String(v))) },
} as const;

export const textOrJson = { output: { alias: "o", choices: ["text", "json"] as const, default: "text" as const, describe: "Output format" } } as const;

export const deadlines = {
  "pair-timeout": { type: "string", describe: "Cancel a pair's engine operation after this long, e.g. 15m (default: the manifest's pairTimeout, 15m)", coerce: duration("pair-timeout") },
  timeout: { type: "string", describe: "Cancel the whole run after this long, e.g. 1h: running pairs are interrupted, queued ones skipped", coerce: duration("timeout") },
} as const;

export const lockOptions = {
  "stale-lock-minutes": {
    type: "number",
    default: 30,
    describe: "A lock from another host older than this is stale and cleared (a lock of a dead process on this host always is); 0: never",
    coerce: wholeNumber("stale-lock-minutes", 0),
  },
  "lock-wait-seconds": { type: "number", default: 60, describe: "How long to wait for a stack locked by a live run before failing the pair", coerce: wholeNumber("lock-wait-seconds", 0) },
} as const;

/** Every engine command's locks and deadlines. */
export const locks = { ...lockOptions, ...deadlines } as const;

export const deletions = {
  "allow-deletes": { type: "boolean", default: false, describe: "Delete target entries whose key, environment or binding is gone (moves included)" },
  "max-deletes": { type: "number", describe: "Delete at most this many target entries in all; pairs over the budget are held", coerce: wholeNumber("max-deletes", 0) },
} as const;

export const dryRun = (describe: string) => ({ "dry-run": { type: "boolean", default: false, describe } }) as const;

/** Options of a command that its subcommands do not inherit (yargs' options are global by default). */
export function onlyHere<T extends Record<string, object>>(options: T): { [K in keyof T]: T[K] & { global: false } } {
  return Object.fromEntries(Object.entries(options).map(([k, o]) => [k, { ...o, global: false }])) as { [K in keyof T]: T[K] & { global: false } };
}

/** What the flags' types cannot check: globs that select nothing by construction, folders, backend URLs. */
export function checkCommon(args: { readonly [key: string]: unknown }): true {
  const filter = Array.isArray(args.filter) ? args.filter.map(String) : undefined;
  const out = typeof args.out === "string" ? args.out : undefined;
  const url = typeof args.backendUrl === "string" ? args.backendUrl : undefined;
  if (filter !== undefined && filter.length === 0) throw new ConfigError("--filter needs a glob over project/name, e.g. --filter 'payments/*'");
  if (out !== undefined) {
    const dir = dirname(resolve(out));
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(`--out ${out}: the folder ${dir} does not exist: create it first`);
  }
  if (args.allowDeletes === true && args.maxDeletes !== undefined) {
    throw new ConfigError("--allow-deletes and --max-deletes cannot be used together: --allow-deletes allows every deletion, --max-deletes N at most N in all; choose one");
  }
  for (const f of filter ?? []) {
    if (f.trim() === "") throw new ConfigError("--filter needs a glob over project/name, e.g. --filter 'payments/*'");
  }
  if (url !== undefined && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new ConfigError(`--backend-url ${url}: not a URL; use file:///absolute/path, file://./relative/path, s3://bucket, gs://bucket, azblob://container or https://api.pulumi.com`);
  }
  return true;
}
