/**
 * A session: one loaded manifest, its source of environments, its state backend and its
 * redactor, answering `plan(selection, flags)` with a pure run plan and `execute(plan)` with a
 * summary. Commands are thin uses of it; a long-running process may use one session for many
 * cycles: it keeps no global state and installs no process-wide handlers.
 */
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import pLimit from "p-limit";
import { envId, type EnvironmentRef } from "../programs/environment-ref.js";
import { parseDuration } from "./duration.js";
import { ConfigError, UserError } from "./errors.js";
import { loadManifest, resolveManifestPaths, type LoadedManifest } from "./manifest/load.js";
import type { Manifest } from "./manifest/schema.js";
import { decide, type RunFlags, type RunPlan } from "./planner/decide.js";
import { needsEngine } from "./planner/work.js";
import { bindingId, deadGlobs, idleBindings, matchBindings, openKey, planPairs, programInput, type PairPlan } from "./planner/plan.js";
import type { Selection } from "./planner/selection.js";
import { findTargetKind } from "../programs/registry.js";
import type { SecretValue } from "../programs/secret-value.js";
import { StoreReadError } from "../programs/shared/reader.js";
import { chooseAdoptions, type Adoptions } from "./planner/adopt.js";
import { backendOf, checkedBackend, defaultBackendDir, legacyBackendDir } from "./backend.js";
import { fingerprintKey, type KeyAccess } from "./fingerprint-key.js";
import { Redactor } from "./redact.js";
import type { EventSink, RunSummary } from "./runner/events.js";
import { execute } from "./runner/execute.js";
import { listStacks, readFileBackend } from "./runner/backend-stacks.js";
import { classifyStacks, type StackClassification } from "./planner/stacks.js";
import type { Backend } from "./runner/stack.js";
import { resolveToolchain, type Toolchain } from "./runner/toolchain.js";
import { EscApiError } from "./sources/esc-client.js";
import { openSource } from "./sources/open.js";
import { EnvironmentError, type EnvironmentSource, type ResolvedEnvironment } from "./sources/source.js";

/** How a session is opened. */
export interface SessionOptions {
  /** Path of the manifest file. */
  manifest: string;
  /** The manifest already loaded from that path (a command that checks it before the source is built). */
  loaded?: LoadedManifest;
  /** `--backend-url`: overrides the manifest's backend. */
  backendUrl?: string | undefined;
  /** `--concurrency`: overrides the manifest's. */
  concurrency?: number | undefined;
  /** `--esc-rps`: ESC API requests per second (pulumi-cloud source). */
  escRps?: number | undefined;
  /** Variables read for tokens, the passphrase and the state folder. Default: the process's. */
  env?: NodeJS.ProcessEnv;
  /** The redactor every output passes through; a session of its own by default. */
  redactor?: Redactor;
  /** The source of environments, instead of the one the manifest names (embedding, tests). */
  source?: EnvironmentSource;
  /**
   * How the session uses the fingerprint key (see {@link KeyAccess}): a command that only reports
   * never creates one, and never compares a stack's record without the key it was written with.
   * Default `write`.
   */
  access?: KeyAccess;
}

/** The environments of one cycle, opened and planned into pairs. No state read yet. */
export interface Prepared {
  selection: Selection;
  plan: PairPlan;
  /** The selected environments at their latest revision. */
  environments: ResolvedEnvironment[];
  /** Environments opened at a revision a binding pins, by `openKey` (`project/name@stable`). */
  pinned: Map<string, ResolvedEnvironment>;
  /** Warnings: idle bindings, environments that could not be read, source retries. */
  warnings: string[];
  /** Ids of bindings that select no environment at all. */
  idleBindings: Set<string>;
}

/** How `execute` behaves towards locks and the caller. */
export interface ExecuteOptions {
  emit: EventSink;
  signal?: AbortSignal | undefined;
  /** A lock from another host older than this is stale. Default 30. */
  staleLockMinutes?: number | undefined;
  /** How long to wait for a stack locked by a live run. Default 60. */
  lockWaitSeconds?: number | undefined;
  /** A pair's deadline (`--pair-timeout`). Default: the manifest's `pairTimeout`. */
  pairTimeoutMs?: number | undefined;
}

/** How long a cancelled operation gets to stop before its processes are killed. */
const KILL_GRACE_MS = 10_000;

export class Session {
  #toolchain: Toolchain | undefined;
  #key: string | undefined;
  /** `compare` access without a key: fingerprints are of an in-memory key, good for no record. */
  #keyMissing: ConfigError | undefined;
  #sourceRetries: string[] = [];
  /** When the current cycle began: `plan` starts one, `execute` ends it. */
  #cycleStart = Date.now();

  private constructor(
    readonly manifest: Manifest,
    /** The manifest file, absolute: recorded in every stack written. */
    readonly manifestFile: string,
    readonly manifestDir: string,
    readonly source: EnvironmentSource,
    readonly redactor: Redactor,
    readonly concurrency: number,
    private readonly backendUrl: string | undefined,
    private readonly env: NodeJS.ProcessEnv,
    private readonly access: KeyAccess,
  ) {}

  /** Loads and checks the manifest and builds its source. Throws a {@link ConfigError} for bad input. */
  static async open(opts: SessionOptions): Promise<Session> {
    const env = opts.env ?? process.env;
    const loaded = opts.loaded ?? (await loadManifest(opts.manifest));
    const manifest = resolveManifestPaths(loaded);
    const redactor = (opts.redactor ?? new Redactor()).add(env.PULUMI_ACCESS_TOKEN, env.PULUMI_CONFIG_PASSPHRASE);
    const retries: string[] = [];
    const source = opts.source ?? openSource(manifest, env, (note) => retries.push(note), opts.escRps);
    const access = opts.access ?? "write";
    // Up front: a report without the key could only guess which pairs changed.
    const key = access === "read" ? fingerprintKey(env, "read") : undefined;
    const session = new Session(manifest, resolve(loaded.file), loaded.dir, source, redactor, opts.concurrency ?? manifest.concurrency, opts.backendUrl, env, access);
    session.#sourceRetries = retries;
    // Derived once: every later use of the session's key is this one.
    if (key !== undefined) session.#key = key;
    return session;
  }

  /** Checks a selection against the manifest: an unknown target id is the user's to fix. */
  checkSelection(selection: Selection): void {
    const unknown = selection.targets.filter((t) => !this.manifest.targets[t]);
    if (unknown.length) {
      throw new ConfigError(`--target ${unknown.join(", ")}: no such target in ${this.manifestFile} (known: ${Object.keys(this.manifest.targets).join(", ")})`);
    }
  }

  /** Lists and opens the selected environments and plans their pairs. No Pulumi call. */
  async prepare(selection: Selection, signal?: AbortSignal): Promise<Prepared> {
    this.#cycleStart = Date.now();
    this.checkSelection(selection);
    this.#sourceRetries.length = 0;
    const refs = await this.listEnvironments(signal);
    const idle = idleBindings(this.manifest, refs);
    const warnings = [
      ...idle.map((b) => `binding "${bindingId(b)}" selects no environment (${JSON.stringify(b.environments)} matches none of ${refs.length}): check its glob`),
      ...deadGlobs(this.manifest, refs).map(
        ({ binding, glob }) => `binding "${bindingId(binding)}": its glob "${glob}" matches none of the ${refs.length} environment(s) (its other globs do): check its spelling`,
      ),
    ];
    const matches = matchBindings(this.manifest, refs, selection);
    // Every environment in the selection is opened: any of them may carry its own sync: block.
    const inFilter = refs.filter((r) => selection.includesEnvironment(r));
    if (selection.filtersEnvironments && inFilter.length === 0 && !selection.allowEmpty) {
      throw new UserError(
        `--filter ${selection.filter.join(" ")} selects none of the ${refs.length} environment(s) of ${this.source.description}`,
        "check the glob (it matches project/name, e.g. 'payments/*'); pass --allow-empty where an empty selection is expected",
      );
    }
    // Each (environment, revision) a binding pins is opened once more, besides the latest.
    const pins = new Map<string, { ref: EnvironmentRef; revision: number | string }>();
    for (const { ref, binding } of matches) {
      if (binding.revision !== undefined) pins.set(openKey(ref, binding.revision), { ref, revision: binding.revision });
    }
    const { environments, failures } = await this.openAll([...inFilter.map((ref) => ({ ref })), ...pins.values()], signal);
    const latest = environments.filter((e) => e.key === envId(e.env.ref)).map((e) => e.env);
    const pinned = new Map(environments.filter((e) => e.key !== envId(e.env.ref)).map((e) => [e.key, e.env]));
    this.redactor.addEnvironments(environments.map((e) => e.env));
    this.redactor.replaceScopes([...failures].map(([key, err]) => [`failed ${key}`, err.secrets] as const));
    // An environment no binding reads at its latest revision matters (at that revision) only
    // through a sync: block it may hold.
    const bound = new Set(matches.filter((m) => m.binding.revision === undefined).map((m) => envId(m.ref)));
    const pinnedOnly = new Set([...pins.values()].map((p) => envId(p.ref)));
    for (const [id, err] of [...failures]) {
      if (bound.has(id) || pins.has(id)) continue;
      failures.delete(id);
      warnings.push(
        pinnedOnly.has(id)
          ? `${err.message.split("\n")[0]}: its latest revision's sync: block could not be read (its bindings read the revision they pin)`
          : `${err.message.split("\n")[0]}: not synced (no binding selects it; a sync: block in it could not be read)`,
      );
    }
    const plan = planPairs({ manifest: this.manifest, environments: latest, pinned, failures, matches, fingerprintKey: this.fingerprintKey(), selection });
    // Credentials a pair takes from its environment are hidden even where ESC does not mark them
    // secret (a plain VAULT_TOKEN): a provider's error may echo them. One scope per stack, so a
    // long-running serve holds only what the pairs use now.
    this.redactor.replaceScopes(plan.pairs.flatMap((p) => (p.credentials ? [[`credentials ${p.stack}`, Object.values(p.credentials).map((c) => c.reveal())] as const] : [])));
    return { selection, plan, environments: latest, pinned, warnings: [...warnings, ...plan.warnings, ...this.#sourceRetries], idleBindings: new Set(idle.map(bindingId)) };
  }

  /**
   * The backend's stacks, classified against the prepared pairs (`planner/stacks.ts`). Reads state only (no engine, no
   * decryption); a `file://` backend that does not exist yet holds nothing and is not created.
   */
  async stacks(prepared: Prepared): Promise<StackClassification> {
    const backend = this.backend({ create: false, needPassphrase: false });
    const selection = prepared.selection;
    const stacks = backend ? await listStacks(backend, await this.toolchain(), this.concurrency, (name) => selection.ownsStack(name)) : [];
    if (this.usesDefaultBackend && stacks.length === 0) await this.checkLegacyBackend(prepared);
    const inventory = classifyStacks(stacks, prepared.plan.pairs, prepared.selection, new Set(Object.keys(this.manifest.targets)), prepared.idleBindings);
    for (const s of inventory.unknown) prepared.warnings.push(`stack ${s.name} holds resources but no esc-sync record: left alone`);
    if (inventory.foreign.length > 0) {
      const targets = [...new Set(inventory.foreign.map((s) => s.record!.target))].sort().join(", ");
      prepared.warnings.push(
        `${inventory.foreign.length} stack(s) belong to targets this manifest does not define (${targets}): left alone; to remove a target's entries, remove its bindings and sync (or prune) before removing the target`,
      );
    }
    return inventory;
  }

  /**
   * esc-sync 0.1 kept every manifest's stacks in one folder per user. A manifest that names no
   * backend, whose folder beside it holds no stack yet while the old folder holds stacks written
   * from this very manifest, is being upgraded: a sync would write every pair again beside those
   * stacks, so it stops and says how to keep them; a report says so as a warning.
   */
  private async checkLegacyBackend(prepared: Prepared): Promise<void> {
    const legacy = legacyBackendDir(this.env);
    const found = await readFileBackend({ url: pathToFileURL(legacy).href, secretsProvider: this.manifest.state.secretsProvider });
    const ours = (found?.stacks ?? []).filter((s) => s.record?.manifest === this.manifestFile);
    if (ours.length === 0) return;
    const message =
      `${ours.length} stack(s) written from ${this.manifestFile} are in ${legacy}, esc-sync's old default backend; ` +
      `the default is now ${defaultBackendDir(this.manifestDir)} beside the manifest, which holds none`;
    const hint =
      `to keep using them, set state.backend: file://${legacy} in ${this.manifestFile} (or pass --backend-url file://${legacy}); ` +
      `to start afresh beside the manifest instead, set state.backend: file://./.esc-sync/state`;
    if (this.access === "write") throw new ConfigError(`${message}: a sync here would write every pair again beside them; nothing was written`, [], hint);
    prepared.warnings.push(`${message} (so this report shows every pair as new): ${hint}`);
  }

  /** The run plan of prepared pairs against the inventory. Pure but for the kinds' cheap local looks at their stores. */
  decide(prepared: Prepared, inventory: StackClassification, flags: Omit<RunFlags, "manifest">): RunPlan {
    // Without the key, a record's fingerprint cannot be compared: say so rather than guess "changed".
    const compared = prepared.plan.pairs.filter((p) => inventory.byName.get(p.stack)?.record).length;
    if (this.#keyMissing && compared > 0) {
      throw new ConfigError(
        `${this.#keyMissing.summary} (${compared} of the selected pair(s) have a stack record to compare)`,
        [],
        this.#keyMissing.hint,
      );
    }
    const changedInPlace = flags.operation === "sync" && !flags.refresh ? this.changedInPlace(prepared, inventory) : undefined;
    const runPlan = decide(prepared.plan.pairs, inventory, { ...flags, manifest: this.manifestFile, ...(changedInPlace ? { changedInPlace } : {}) });
    runPlan.warnings.unshift(...prepared.warnings);
    if (runPlan.steps.length === 0) runPlan.emptyReason = emptyReason(prepared);
    return runPlan;
  }

  /** Per synced pair whose kind can look at its store cheaply (a file), what changed there since. */
  private changedInPlace(prepared: Prepared, inventory: StackClassification): Map<string, string> {
    const found = new Map<string, string>();
    for (const pair of prepared.plan.pairs) {
      const check = findTargetKind(pair.kind)?.checkInPlace;
      if (!check || pair.refusal || !inventory.byName.get(pair.stack)?.record) continue;
      const what = check(programInput(pair));
      if (what) found.set(pair.stack, what);
    }
    return found;
  }

  /**
   * What the prepared pairs' stores hold already, for `migrate adopt`, and the entries chosen to
   * adopt (`planner/adopt.ts`). A store that cannot be read is the user's to fix (credentials,
   * endpoint): a {@link UserError} naming it.
   */
  async adoptions(prepared: Prepared, stacks: StackClassification, signal: AbortSignal): Promise<Adoptions> {
    const found = new Map<string, ReadonlyMap<string, SecretValue> | undefined>();
    for (const pair of prepared.plan.pairs) {
      if (pair.refusal) continue;
      const kind = findTargetKind(pair.kind)!;
      if (!kind.findExisting) {
        found.set(pair.stack, undefined);
        continue;
      }
      try {
        found.set(pair.stack, await kind.findExisting(programInput(pair), signal));
      } catch (err) {
        if (!(err instanceof StoreReadError)) throw err;
        throw new UserError(
          `cannot read target "${pair.targetId}" (${pair.location}) for ${pair.stack}: ${err.message}`,
          err.retryable ? "the store answered with a transient error: run again later" : "check the target's settings and the credentials esc-sync runs with",
        );
      }
    }
    return chooseAdoptions(prepared.plan.pairs, stacks, found, this.fingerprintKey());
  }

  /** `prepare`, `inventory` and `decide` in one: the run plan of a selection. */
  async plan(selection: Selection, flags: Omit<RunFlags, "manifest">, signal?: AbortSignal): Promise<RunPlan> {
    const prepared = await this.prepare(selection, signal);
    return this.decide(prepared, await this.stacks(prepared), flags);
  }

  /** Carries out a run plan. Never throws for one pair; resolves with the summary. */
  async execute(runPlan: RunPlan, opts: ExecuteOptions): Promise<RunSummary> {
    const engine = runPlan.steps.some((s) => needsEngine(s.does));
    // A dry run or a report never creates the backend: a pair it does not hold needs no engine.
    const backend = this.backend({ create: !runPlan.dryRun && runPlan.operation !== "drift", needPassphrase: engine }) ?? this.backendUnchecked();
    const toolchain = await this.toolchain();
    return execute(runPlan, {
      backend,
      toolchain,
      concurrency: this.concurrency,
      emit: opts.emit,
      signal: opts.signal,
      fingerprintKey: this.fingerprintKey(),
      staleLockMs: (opts.staleLockMinutes ?? 30) * 60_000,
      lockWaitMs: (opts.lockWaitSeconds ?? 60) * 1000,
      pairTimeoutMs: opts.pairTimeoutMs ?? parseDuration(this.manifest.pairTimeout)!,
      graceMs: KILL_GRACE_MS,
      manifest: this.manifestFile,
      startedAt: this.#cycleStart,
    });
  }

  /** The key of this session's fingerprints (never printed); a `read` session never creates one. */
  fingerprintKey(): string {
    if (this.#key !== undefined) return this.#key;
    if (this.access === "unused") return (this.#key = randomBytes(32).toString("hex"));
    if (this.access !== "compare") return (this.#key = fingerprintKey(this.env, this.access));
    try {
      this.#key = fingerprintKey(this.env, "read");
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // Fine while no stack's record is compared (every pair new): decide() refuses otherwise.
      this.#keyMissing = err;
      this.#key = randomBytes(32).toString("hex");
    }
    return this.#key;
  }

  /** The Pulumi CLI a run uses and the environment that points it at this session's backend. */
  async pulumiCli(): Promise<{ command: string; env: Record<string, string> }> {
    const toolchain = await this.toolchain();
    return { command: toolchain.command.command, env: { ...toolchain.env, PULUMI_BACKEND_URL: this.backendUnchecked().url } };
  }

  private async toolchain(): Promise<Toolchain> {
    if (!this.#toolchain) {
      const toolchain = await resolveToolchain(this.env);
      // The session's variables (the passphrase, tokens, cloud credentials) reach the CLI even
      // when they are not the process's own: a session may be given its environment.
      const own = Object.fromEntries(Object.entries(this.env).filter((e): e is [string, string] => e[1] !== undefined));
      this.#toolchain = { ...toolchain, env: { ...own, ...toolchain.env } };
    }
    return this.#toolchain;
  }

  /** True when neither `--backend-url` nor the manifest names a backend: the state is kept beside the manifest. */
  get usesDefaultBackend(): boolean {
    return this.backendUrl === undefined && this.manifest.state.backend === undefined;
  }

  /** The backend: `--backend-url`, else the manifest's, else `.esc-sync/state` beside the manifest. */
  private backendUnchecked(): Backend {
    return backendOf(this.backendUrl, this.manifest, this.manifestDir);
  }

  /** The state backend, checked (see {@link checkedBackend}); undefined where a `file://` folder holds nothing yet. */
  private backend(opts: { create: boolean; needPassphrase: boolean }): Backend | undefined {
    return checkedBackend(this.backendUnchecked(), { ...opts, isDefault: this.usesDefaultBackend, env: this.env });
  }

  private async listEnvironments(signal?: AbortSignal): Promise<EnvironmentRef[]> {
    try {
      return await this.source.list(signal);
    } catch (err) {
      if (!(err instanceof EnvironmentError)) throw err;
      const status = err instanceof EscApiError ? err.status : undefined;
      const hint =
        status === 401 || status === 403
          ? "check PULUMI_ACCESS_TOKEN (it must be valid for the organisation)"
          : err.retryable
            ? "check the API URL and the network, then run again"
            : "check the manifest's source";
      throw new UserError(`cannot list the environments of ${this.source.description}: ${err.message}`, hint);
    }
  }

  /**
   * Opens each (environment, revision) once, a few at a time; one failing does not stop the
   * others. Results and failures are keyed by `openKey` (`project/name`, `project/name@stable`).
   */
  private async openAll(wanted: readonly { ref: EnvironmentRef; revision?: number | string }[], signal?: AbortSignal) {
    const environments: { key: string; env: ResolvedEnvironment }[] = [];
    const failures = new Map<string, EnvironmentError>();
    const limit = pLimit(this.source.openConcurrency ?? Math.max(this.concurrency, 4));
    await Promise.all(
      wanted.map(({ ref, revision }) =>
        limit(async () => {
          const key = openKey(ref, revision);
          try {
            environments.push({ key, env: await (revision === undefined ? this.source.open(ref, signal) : this.source.open(ref, signal, revision)) });
          } catch (err) {
            if (err instanceof EnvironmentError) failures.set(key, err);
            else throw err;
          }
        }),
      ),
    );
    // The order asked (the listing's), not of completion: plans and reports are stable.
    const order = new Map(wanted.map((w, i) => [openKey(w.ref, w.revision), i]));
    environments.sort((a, b) => order.get(a.key)! - order.get(b.key)!);
    return { environments, failures };
  }
}

/** Why a selection plans no pair: its shard holds none, the flags select none, or no binding matches. */
function emptyReason(prepared: Prepared): string {
  const { selection, plan } = prepared;
  if (selection.shard && (plan.otherShards ?? 0) > 0) {
    return `shard ${selection.shard.index}/${selection.shard.count} holds none of the selection's ${plan.otherShards} pair(s): they belong to the other shards`;
  }
  if (selection.narrowed) return "the selection (--filter, --target) holds no pair";
  return "no binding selects any environment";
}

