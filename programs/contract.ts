/**
 * The contract every target kind implements. The orchestrator only ever talks to a kind through
 * this interface, found by key in `programs/registry.ts`: it never switches on kind names.
 */
import type { z } from "zod";
import type { PulumiFn } from "@pulumi/pulumi/automation/index.js";
import type { EnvironmentRef } from "./environment-ref.js";
import type { SecretValue } from "./secret-value.js";

/** `json`: one entry holding a JSON document. `keys`: one entry per key. */
export type Shape = "json" | "keys";

/** What a naming template (and a templated setting) may refer to. */
export interface NameContext {
  org: string;
  project: string;
  env: string;
  /** The target's id in the manifest. */
  target: string;
  /** The environment key; only for the `keys` shape. */
  key?: string;
}

/** One entry a pair writes: a secret in a store, a key in a file. */
export interface PlannedEntry {
  /** The name in the store, after the naming template and the kind's normalisation. */
  name: string;
  /** The environment key it comes from (`keys` shape); absent for the `json` shape. */
  key?: string;
  /** The text written. Never printed: {@link SecretValue} renders as `[secret]`. */
  value: SecretValue;
  /** True when ESC marks the value, or any part of it, secret. */
  secret: boolean;
  /**
   * Whether the text is the JSON of an object or array rather than a plain string. Absent: as the
   * shape says (`json`: a document, `keys`: text). Stores with typed fields (Vault KV) keep such a
   * value as a nested object; stores with a content type (Key Vault) label it `application/json`.
   */
  json?: boolean;
}

/** A provider plugin a kind's program needs, installed once per run before fanning out. */
export interface PluginRequirement {
  name: string;
  version: string;
}

/** Everything a kind's program needs to write one pair. */
export interface ProgramInput<S> {
  /** The target's settings, with templated settings already rendered for this pair. */
  settings: S;
  shape: Shape;
  env: EnvironmentRef;
  targetId: string;
  bindingId: string;
  entries: PlannedEntry[];
  /** Keep the entries in the store when their resource is deleted from the stack. */
  retainOnDelete: boolean;
  /**
   * Credentials taken from the environment itself where the binding says so (`credentials:
   * aws.login`): the string leaves under that path, by their path below it (`accessKeyId`,
   * `oidc.token`). Absent: the provider finds credentials in the usual places.
   */
  credentials?: Record<string, SecretValue>;
  /**
   * `migrate adopt`: entries that already exist in the store and are taken over rather than
   * created. Their resources get Pulumi's `import` option (with the id the store needs) and
   * ignore differences for this one update; the next sync writes ESC's values.
   */
  adopt?: ReadonlySet<string>;
}

/**
 * Where a kind's provider settings and credentials are found in an environment, the way a Pulumi
 * stack with that environment attached finds them: a source holding `:` is a `pulumiConfig` key
 * (`aws:region`), any other an `environmentVariables` name (`AWS_REGION`). Sources are listed in
 * order of preference; the first one the environment has is used.
 */
export interface ProviderConfigSources<S> {
  /** Setting → its sources. These settings may be left out of a target that takes them from environments. */
  readonly settings: Partial<Record<keyof S & string, readonly string[]>>;
  /** Credential field, as the program reads {@link ProgramInput.credentials} → its sources. */
  readonly credentials: Readonly<Record<string, readonly string[]>>;
  /**
   * The credential fields the provider needs once the environment gives any: each item lists
   * alternatives (`["oidc.token", "clientSecret"]`: either). Checked at plan time, so that half a
   * login is refused with the missing names rather than failing inside the program.
   */
  readonly requiredCredentials?: readonly (readonly string[])[];
}

/** A problem with one entry, found at plan time. States the store's rule. */
export interface EntryProblem {
  /** The entry's name, or undefined for a problem with the pair as a whole (count limits). */
  name?: string;
  message: string;
}

/** One resource of a pair's stack, as the exported state holds it (secrets decrypted). */
export interface StateResource {
  urn: string;
  type: string;
  inputs: Record<string, unknown>;
  /** Undefined when a refresh found the resource gone from the store. */
  outputs: Record<string, unknown> | undefined;
}

/** What a store holds for a pair, read back from its state after a refresh. */
export interface EntryReadback {
  /** Entry name → the value esc-sync last wrote (from the resources' inputs). */
  applied: Map<string, string>;
  /** Entry name → the value the store holds now; absent when the entry is gone. */
  actual: Map<string, string>;
  /**
   * What the store holds beyond the written entries' values that the next `sync --refresh`
   * rewrites: a line or key esc-sync did not write, text laid out otherwise than esc-sync writes
   * it, a file mode. Each is an entry of the drift report. Absent: nothing of the kind.
   */
  findings?: StoreFinding[];
}

/**
 * Why an entry differs when its value alone does not say: `extra`, held by the store but not
 * written by esc-sync (a line added to a dotenv file, a key added to a JSON document); `format`,
 * the same values in another text (comments, order, spacing, quoting); `mode`, a file's
 * permissions.
 */
export type DriftReason = "extra" | "format" | "mode";

/** One difference the entry values do not show; see {@link EntryReadback.findings}. */
export interface StoreFinding {
  /** The entry it is reported as: an extra key's name, `doc#/key` inside a document, `(file)`. */
  name: string;
  /**
   * `drifted` unless said otherwise; `missing` for a file gone that held no entry; `pending` for
   * what esc-sync took over as it was (`migrate adopt`) and the next sync rewrites.
   */
  status?: "drifted" | "missing" | "pending";
  reason?: DriftReason;
  /** For people, and never a value: "0644, esc-sync writes 0600". */
  detail?: string;
  /** The text the store holds for it, for its keyed fingerprint. Never printed. */
  value?: string;
}

/** What to read from a store: a name prefix (applied by the store where it can) and a name test. */
export interface ReadFilter {
  /** Only names starting with this (a path for hierarchical stores, e.g. `/prod/app/`). */
  prefix?: string;
  /**
   * Only names this accepts. Readers call it before fetching a value, so that a filtered-out
   * secret is never read.
   */
  include?: (name: string) => boolean;
}

/**
 * One entry read from a store, for `migrate import`. Exactly one of `value`, `skippedReason` or
 * `error` tells what became of it.
 */
export interface StoreEntry {
  /** The name as the store shows it (`prod/app/db`, `/prod/app/DB_PASSWORD`, `app/prod/FIELD`). */
  name: string;
  /** The text of the entry. Never printed: {@link SecretValue} renders as `[secret]`. */
  value: SecretValue | undefined;
  /** True when the store holds bytes that are not text (then `value` is undefined). */
  binary?: boolean;
  /** Why the entry is not imported (binary, disabled, a type ESC cannot hold...). States the rule. */
  skippedReason?: string;
  /** Reading this one entry failed. Safe to show: names the call and status, never a value or token. */
  error?: string;
}

/**
 * Reads the entries of one configured store through that store's own API client, to bring them
 * into ESC. SDKs are loaded when {@link StoreReader.list} runs, not when the reader is built.
 * Endpoints and credentials come from the settings and the SDK's standard environment
 * variables (`AWS_ENDPOINT_URL`, `VAULT_TOKEN`...), so an emulator needs no special code path.
 */
export interface StoreReader {
  /** Where it reads, for people: a region, a vault URL, a project. */
  readonly location: string;
  /**
   * Every entry that passes `filter`, in a stable order. A failure of the whole listing (no
   * credentials, access denied, unreachable endpoint) throws an Error whose message names the
   * call and the status and carries no value or token.
   */
  list(filter: ReadFilter, signal?: AbortSignal): AsyncIterable<StoreEntry>;
}

/**
 * A target kind: its settings schema, the store's naming and size rules, and the Pulumi program
 * that writes a pair into the store.
 */
export interface TargetKind<S extends object = object> {
  readonly kind: string;
  /** One line for `--help` and the README. */
  readonly description: string;
  /** The target's settings (without `kind`), validated when the manifest is loaded. */
  readonly settingsSchema: z.ZodType<S>;
  /** Settings whose string values are templates rendered per pair (`{project}`, `{env}`...). */
  readonly templatedSettings?: readonly (keyof S & string)[];
  /** Settings that are filesystem paths: made absolute against the manifest's folder. */
  readonly pathSettings?: readonly (keyof S & string)[];
  /** Naming template used when a binding gives none. */
  readonly defaultName: Record<Shape, string>;
  /** Key of this kind in an environment's `sync:` block (Pulumi's ESC sync examples). */
  readonly syncConventionKey?: string;
  /**
   * For kinds that address a whole secret by a path (Vault): the settings that place a `sync:`
   * item's secret, from the item's `path` as the ESC examples write it (`secret/data/my-app`), or
   * a problem naming why the path cannot be used. The item's object value is then written as the
   * secret's fields.
   */
  syncConventionSecret?(path: string, settings: S): { settings: S } | { problem: string };
  /**
   * Provider settings and credentials an environment may give (`providerConfigFrom:
   * environment`, the default for `sync:` blocks). Absent: the kind takes none from environments.
   */
  readonly providerConfig?: ProviderConfigSources<S>;
  /** Provider plugins the program needs; empty for plugin-free kinds. */
  readonly plugins: readonly PluginRequirement[];
  /** How the store normalises a name (upper-casing, replacing characters). Applied before checks. */
  normalizeName(name: string, settings: S): string;
  /** The store's rules for names, sizes and counts; an empty list when everything fits. */
  check(entries: readonly PlannedEntry[], settings: S, shape: Shape): EntryProblem[];
  /**
   * Where the pair writes: a file path, `region/account`, a vault URL. Shown to people, and kept
   * in the stack's record: a pair whose location changes moves (its old entries are deleted).
   */
  location(settings: S): string;
  /**
   * The places a pair's entries occupy in the store, so that two pairs writing one place are
   * refused at plan time. Default: one place per entry, `location#name`; a kind whose entries
   * share one object (the keys of one file) claims that object.
   */
  places?(settings: S, entries: readonly PlannedEntry[]): string[];
  /** Builds the inline Pulumi program that writes one pair. */
  program(input: ProgramInput<S>): PulumiFn;
  /**
   * A cheap local look at the store, without an engine run (a `file` target: stat and read the
   * file): what differs from what the pair writes (missing, mode, edited), or undefined. A pair
   * unchanged by its input but changed in place is then run and repaired by a plain `sync`.
   * Absent for stores that cost API reads to look at (they need `--refresh`).
   */
  checkInPlace?(input: ProgramInput<S>): string | undefined;
  /**
   * Reads entries back from the pair's refreshed state, in the form planned entries have
   * (`PlannedEntry.value` text). Absent for stores whose values cannot be read back (GitHub
   * secrets, Azure Key Vault through ARM): their entries are reported as unverifiable.
   */
  readBack?(resources: readonly StateResource[], shape: Shape): EntryReadback;
  /**
   * The pair's entries that exist in the store now, by planned name, with their values: what
   * `migrate adopt` can take over. Absent for kinds that cannot adopt.
   */
  findExisting?(input: ProgramInput<S>, signal?: AbortSignal): Promise<Map<string, SecretValue>>;
  /**
   * Reads what the store holds, through its own API, for `migrate import`. Absent for stores
   * whose values cannot be read (GitHub Actions secrets are write-only).
   */
  reader?: (settings: S) => StoreReader;
}
