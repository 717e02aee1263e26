/**
 * The planner: pure functions from (manifest, environments) to pairs. No I/O, no Pulumi: a plan
 * can be printed, diffed and tested on its own.
 */
import { createHmac } from "node:crypto";
import picomatch from "picomatch";
import type { EntryProblem, NameContext, PlannedEntry, ProgramInput, Shape, TargetKind } from "../../programs/contract.js";
import { findTargetKind, targetKinds } from "../../programs/registry.js";
import type { Binding, Manifest } from "../manifest/schema.js";
import { type EnvironmentError, type ResolvedEnvironment } from "../sources/source.js";
import { envFullName, envId, type EnvironmentRef } from "../../programs/environment-ref.js";
import { containsSecret, containsUnknown, selectPath, toPlain, type ValueNode } from "../values.js";
import { SecretValue } from "../../programs/secret-value.js";
import { valueText } from "../../programs/shared/readback.js";
import { checkCollisions } from "../../programs/shared/rules.js";
import { locationOf, providerConfig, type ProviderConfigReport } from "./provider-config.js";
import { Selection } from "./selection.js";
import { renderTemplate } from "../manifest/template.js";

/** Why a pair cannot run (a plan-time refusal), or has nothing to write (`no-value`). */
export type PairRefusal =
  /** `retryable`: the source failed (a server error, the network), not the environment: trying again may work. */
  | { kind: "environment-error"; message: string; retryable?: boolean }
  | { kind: "invalid-entries"; problems: EntryProblem[] }
  | { kind: "no-value"; message: string }
  /** The provider's settings are incomplete or wrong, in the manifest or the environment. */
  | { kind: "provider-config"; message: string };

/** The revision of its environment a pair writes: its number, and how the binding pinned it. */
export interface PairRevision {
  number: number;
  /** The revision tag the binding pins (resolved to `number` when the environment was opened). */
  tag?: string;
  /** Set when the binding pins a revision (a number or a tag); absent for the latest. */
  pinned?: true;
}

/** "revision 7", "revision 3 (tag stable)", "revision 3 (pinned)": for messages and reports. */
export function revisionLabel(r: PairRevision): string {
  return `revision ${r.number}${r.tag !== undefined ? ` (tag ${r.tag})` : r.pinned ? " (pinned)" : ""}`;
}

/**
 * The key of one opened (environment, revision): `project/name` for the latest, and
 * `project/name@<revision or tag>` for a pinned one.
 */
export function openKey(ref: EnvironmentRef, revision?: number | string): string {
  return revision === undefined ? envId(ref) : `${envId(ref)}@${revision}`;
}

/** One environment written into one target: one Pulumi stack, one inline program. */
export interface Pair {
  /** The stack name: stable, unique, made of `[A-Za-z0-9_.-]`. */
  stack: string;
  env: EnvironmentRef;
  targetId: string;
  kind: string;
  bindingId: string;
  shape: Shape;
  /** The target's settings with templated settings rendered for this pair. */
  settings: Record<string, unknown>;
  /** Where the pair writes, for people. */
  location: string;
  entries: PlannedEntry[];
  retainOnDelete: boolean;
  /** The revision the entries come from, where the source knows it (not a local source). */
  revision?: PairRevision;
  /**
   * Credentials from the environment (binding `credentials:`, or its `environmentVariables` with
   * `providerConfigFrom: environment`); not part of the fingerprint.
   */
  credentials?: Record<string, SecretValue>;
  /** With `providerConfigFrom: environment`: where each provider setting and the credentials come from. */
  provider?: ProviderConfigReport;
  /** Keyed hash of everything the program depends on: changes exactly when the pair's input does. */
  fingerprint: string;
  /** Set when the pair cannot run; the reason is reported and the others carry on. */
  refusal?: PairRefusal;
}

/** Stack tags recording what a stack belongs to (for people: runs read the stack's record). */
export const STACK_TAGS = {
  environment: "esc-sync:environment",
  target: "esc-sync:target",
} as const;

/** The binding's id: its own, or its target's. */
export function bindingId(b: Binding): string {
  return b.id ?? b.target;
}

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** True when the binding selects the environment. */
export function bindingSelects(b: Binding, ref: EnvironmentRef): boolean {
  const id = envId(ref);
  return picomatch.isMatch(id, asList(b.environments)) && !picomatch.isMatch(id, asList(b.exclude));
}

/** The (environment, binding) matches of a run, before any environment is opened. */
export function matchBindings(manifest: Manifest, refs: readonly EnvironmentRef[], sel: Selection): { ref: EnvironmentRef; binding: Binding }[] {
  const out: { ref: EnvironmentRef; binding: Binding }[] = [];
  for (const ref of refs) {
    for (const binding of manifest.bindings) {
      if (bindingSelects(binding, ref) && sel.includesPair(ref, binding.target)) out.push({ ref, binding });
    }
  }
  return out;
}

/** Bindings that select no environment at all: worth a warning, since a typo is likely. */
export function idleBindings(manifest: Manifest, refs: readonly EnvironmentRef[]): Binding[] {
  return manifest.bindings.filter((b) => !refs.some((r) => bindingSelects(b, r)));
}

/**
 * The globs of bindings that do select environments but match none themselves (`paymnets/*`
 * beside `payments/*`): as likely a typo as an idle binding, and as quiet without a warning.
 */
export function deadGlobs(manifest: Manifest, refs: readonly EnvironmentRef[]): { binding: Binding; glob: string }[] {
  const ids = refs.map(envId);
  return manifest.bindings.flatMap((b) => {
    const globs = asList(b.environments);
    if (globs.length < 2 || !refs.some((r) => bindingSelects(b, r))) return [];
    return globs.filter((g) => !ids.some((id) => picomatch.isMatch(id, g))).map((glob) => ({ binding: b, glob }));
  });
}

/** A stack name from a pair's parts, with characters stack names do not allow replaced by `_`. */
export function stackName(ref: EnvironmentRef, targetId: string): string {
  return [ref.project, ref.name, targetId].map((p) => p.replace(/[^A-Za-z0-9_.-]/g, "_")).join(".");
}

/** Input to {@link planPairs}. */
export interface PlanInput {
  manifest: Manifest;
  /** The environments the matches refer to, opened and resolved at their latest revision. */
  environments: readonly ResolvedEnvironment[];
  /** Environments opened at the revision a binding pins, by {@link openKey} (`project/name@stable`). */
  pinned?: ReadonlyMap<string, ResolvedEnvironment>;
  /** Environments that could not be opened, by {@link openKey} (`project/name` for the latest). */
  failures?: ReadonlyMap<string, EnvironmentError>;
  matches: readonly { ref: EnvironmentRef; binding: Binding }[];
  /** Key for the fingerprints (never printed). */
  fingerprintKey: string | Buffer;
  /** The run's selection: `sync:` blocks are honoured for its targets only. */
  selection?: Selection;
}

/** The pairs of a run, plus problems that span pairs (the run plan of their decisions is `decide.ts`'s). */
export interface PairPlan {
  pairs: Pair[];
  warnings: string[];
  /** With a shard: how many of the selection's pairs belong to the other shards. */
  otherShards?: number;
}

/** Computes the pairs: entries, names, rule checks, collisions, fingerprints. Pure. */
export function planPairs(input: PlanInput): PairPlan {
  const byId = new Map(input.environments.map((e) => [envId(e.ref), e]));
  const pairs: Pair[] = [];
  const warnings: string[] = [];
  for (const { ref, binding } of input.matches) {
    const target = input.manifest.targets[binding.target]!;
    const kind = findTargetKind(target.kind)!;
    const base = { org: ref.org, project: ref.project, env: ref.name, target: binding.target };
    const { kind: _kind, providerConfigFrom: targetFrom, ...rawSettings } = target;
    const settings = renderSettings(kind, rawSettings, base);
    const pair: Pair = {
      stack: stackName(ref, binding.target),
      env: ref,
      targetId: binding.target,
      kind: kind.kind,
      bindingId: bindingId(binding),
      shape: binding.shape,
      settings,
      location: locationOf(kind, settings),
      entries: [],
      retainOnDelete: binding.retainOnDelete,
      fingerprint: "",
    };
    // A binding that pins a revision reads the environment at that revision, the others the latest.
    const key = openKey(ref, binding.revision);
    const failure = input.failures?.get(key);
    const resolved = binding.revision === undefined ? byId.get(key) : input.pinned?.get(key);
    if (failure || !resolved) {
      const at = binding.revision === undefined ? "" : ` at revision ${JSON.stringify(binding.revision)}`;
      pair.refusal = { kind: "environment-error", message: failure?.message ?? `environment ${envFullName(ref)} was not opened${at}`, ...(failure?.retryable ? { retryable: true } : {}) };
    } else {
      if (resolved.revision !== undefined) {
        pair.revision = {
          number: resolved.revision,
          ...(typeof binding.revision === "string" ? { tag: binding.revision } : {}),
          ...(binding.revision !== undefined ? { pinned: true as const } : {}),
        };
      }
      const useEnv = (binding.providerConfigFrom ?? targetFrom) === "environment";
      const config = providerConfig(kind, binding.target, rawSettings, resolved, useEnv, binding.credentials);
      if ("problem" in config) pair.refusal = { kind: "provider-config", message: config.problem };
      else {
        applyProviderConfig(pair, kind, config, base);
        const built = buildEntries(kind, pair.settings, binding, resolved, base);
        const creds = binding.credentials === undefined ? undefined : credentialsAt(resolved, binding.credentials);
        if ("refusal" in built) pair.refusal = built.refusal;
        else if (creds && "refusal" in creds) pair.refusal = creds.refusal;
        else {
          if (creds) pair.credentials = creds.credentials;
          checkEntries(pair, kind, built.entries);
        }
      }
    }
    pair.fingerprint = fingerprint(pair, input.fingerprintKey);
    pairs.push(pair);
  }
  for (const env of input.environments) {
    for (const pair of syncBlockPairs(input.manifest, env, input.selection ?? Selection.all, warnings)) {
      pair.fingerprint = fingerprint(pair, input.fingerprintKey);
      pairs.push(pair);
    }
  }
  // Two bindings writing one environment into one target would fight over the same stack.
  const seen = new Map<string, Pair>();
  for (const p of pairs) {
    const other = seen.get(p.stack);
    if (other) {
      const message = `${bindingLabel(other.bindingId)} and ${bindingLabel(p.bindingId)} both write ${envFullName(p.env)} into target "${p.targetId}": narrow one of them (exclude) or use two targets`;
      p.refusal = { kind: "invalid-entries", problems: [{ message }] };
      other.refusal = { kind: "invalid-entries", problems: [{ message }] };
    } else seen.set(p.stack, p);
  }
  refuseSharedPlaces(pairs);
  // The shard narrows last: collisions and shared places are found across every shard's pairs,
  // so that each shard refuses exactly what an unsharded run would.
  const selection = input.selection ?? Selection.all;
  if (!selection.shard) return { pairs, warnings };
  const own = pairs.filter((p) => selection.ownsStack(p.stack));
  return { pairs: own, warnings, otherShards: pairs.length - own.length };
}

/** Sets a pair's settings (rendered), location, provider report and credentials from its provider config. */
function applyProviderConfig(
  pair: Pair,
  kind: TargetKind<any>,
  config: { settings: Record<string, unknown>; report?: ProviderConfigReport; credentials?: Record<string, SecretValue> },
  base: NameContext,
): void {
  pair.settings = renderSettings(kind, config.settings, base);
  pair.location = kind.location(pair.settings);
  if (config.report) pair.provider = config.report;
  if (config.credentials) pair.credentials = config.credentials;
}

/** What a kind's program (or `findExisting`) receives for a pair. */
export function programInput(pair: Pair, adopt?: ReadonlySet<string>): ProgramInput<any> {
  return {
    settings: pair.settings,
    shape: pair.shape,
    env: pair.env,
    targetId: pair.targetId,
    bindingId: pair.bindingId,
    entries: pair.entries,
    retainOnDelete: pair.retainOnDelete,
    ...(pair.credentials ? { credentials: pair.credentials } : {}),
    ...(adopt ? { adopt } : {}),
  };
}

/** Sets the entries of a pair and blocks it when the store's rules refuse any of them. */
function checkEntries(pair: Pair, kind: TargetKind<any>, entries: PlannedEntry[]): void {
  pair.entries = entries;
  // The kind's own check states the store's rule; the same shared collision check, run on the
  // names as planned, catches what a kind did not report.
  const fromKind = kind.check(entries, pair.settings, pair.shape);
  const reported = new Set(fromKind.map((p) => p.name));
  const generic = checkCollisions(entries, (n) => n, { store: `the ${kind.kind} target`, noun: "entry" });
  const problems = [...fromKind, ...generic.filter((p) => !reported.has(p.name))];
  if (problems.length) pair.refusal = { kind: "invalid-entries", problems };
}

/**
 * The string leaves under a property path, keyed by their path below it: how a binding takes a
 * target's credentials from the environment (for example an `fn::open::aws-login` output).
 */
function credentialsAt(env: ResolvedEnvironment, path: string): { credentials: Record<string, SecretValue> } | { refusal: PairRefusal } {
  const node = selectPath(env.properties, path);
  const where = `${envFullName(env.ref)} at "${path}"`;
  if (node === undefined || node.value === null || typeof node.value !== "object") {
    return { refusal: { kind: "environment-error", message: `no credentials object in ${where} (binding credentials:)` } };
  }
  if (containsUnknown(node)) return { refusal: { kind: "environment-error", message: `the credentials in ${where} could not be computed` } };
  const out: Record<string, SecretValue> = {};
  const walk = (n: ValueNode, prefix: string) => {
    const v = n.value;
    if (v !== null && typeof v === "object") {
      for (const [k, child] of Array.isArray(v) ? v.entries() : Object.entries(v)) walk(child, prefix ? `${prefix}.${k}` : String(k));
    } else if (v !== null) out[prefix] = new SecretValue(String(v));
  };
  walk(node, "");
  return { credentials: out };
}

/** Binding ids of `sync:` block pairs: `sync:<key>`. */
const SYNC_PREFIX = "sync:";

/** How a binding is named in messages: a manifest binding, or an environment's own `sync:` block. */
export function bindingLabel(id: string): string {
  return id.startsWith(SYNC_PREFIX) ? `the environment's sync.${id.slice(SYNC_PREFIX.length)} block` : `binding "${id}"`;
}

/**
 * Two pairs writing one place (one file, one secret name in one store) would overwrite each
 * other on every run: both are refused, each naming the other.
 */
function refuseSharedPlaces(pairs: Pair[]): void {
  const claimedBy = new Map<string, Pair[]>();
  for (const p of pairs) {
    if (p.refusal && p.refusal.kind !== "invalid-entries") continue;
    const kind = findTargetKind(p.kind)!;
    const places = kind.places ? kind.places(p.settings, p.entries) : p.entries.map((e) => `${p.location}#${e.name}`);
    for (const place of new Set(places.map((pl) => `${p.kind}|${pl}`))) claimedBy.set(place, [...(claimedBy.get(place) ?? []), p]);
  }
  const reported = new Set<string>();
  for (const [place, claimants] of claimedBy) {
    if (claimants.length < 2) continue;
    const where = place.slice(place.indexOf("|") + 1);
    for (const p of claimants) {
      const others = claimants.filter((o) => o !== p).map((o) => `${o.stack} (${bindingLabel(o.bindingId)}, target "${o.targetId}")`);
      const key = `${p.stack}|${others.join()}`;
      if (reported.has(key)) continue;
      reported.add(key);
      const problem = { message: `${where} is also written by ${others.join(", ")}: two pairs may not write one place; change a target's path or naming template, or narrow a binding` };
      const earlier = p.refusal?.kind === "invalid-entries" ? p.refusal.problems : [];
      p.refusal = { kind: "invalid-entries", problems: [...earlier, problem] };
    }
  }
}

/**
 * Pairs from an environment's own `sync:` block (the convention of Pulumi's ESC sync examples):
 * `sync: { awsSecretsManager: { name, value } }` writes one entry into the manifest's target of
 * the kind whose `syncConventionKey` is `awsSecretsManager`. An item may name its target
 * (`target: id`) where the manifest has several of that kind; a list of items writes several
 * entries. Items that cannot be placed become warnings, not silent skips.
 */
function syncBlockPairs(manifest: Manifest, env: ResolvedEnvironment, sel: Selection, warnings: string[]): Pair[] {
  const block = env.properties.sync?.value;
  if (block === undefined || block === null || typeof block !== "object" || Array.isArray(block)) return [];
  const where = `${envFullName(env.ref)}: sync`;
  const byTarget = new Map<string, { kind: TargetKind<any>; key: string; items: { name: string; node: ValueNode }[] }>();
  for (const [key, node] of Object.entries(block)) {
    const kind = Object.values(targetKinds).find((k) => (k as TargetKind<any>).syncConventionKey === key) as TargetKind<any> | undefined;
    if (!kind) {
      warnings.push(`${where}.${key}: no target kind takes a "${key}" sync block (known: ${syncKeys().join(", ")})`);
      continue;
    }
    const items = Array.isArray(node.value) ? node.value : [node];
    items.forEach((item, i) => {
      const at = `${where}.${key}${Array.isArray(node.value) ? `[${i}]` : ""}`;
      const fields = item.value !== null && typeof item.value === "object" && !Array.isArray(item.value) ? item.value : undefined;
      const name = fields?.name?.value ?? fields?.path?.value;
      const value = fields?.value;
      if (typeof name !== "string" || !value) {
        warnings.push(`${at}: needs "name" (or "path") and "value"`);
        return;
      }
      const wanted = fields?.target?.value;
      const candidates = Object.entries(manifest.targets).filter(([id, t]) => t.kind === kind.kind && (typeof wanted !== "string" || id === wanted));
      if (candidates.length !== 1) {
        warnings.push(
          candidates.length === 0
            ? `${at}: no ${kind.kind} target${typeof wanted === "string" ? ` with id "${wanted}"` : ""} in the manifest: add one to sync this block`
            : `${at}: ${candidates.length} ${kind.kind} targets (${candidates.map(([id]) => id).join(", ")}): say which with "target: <id>"`,
        );
        return;
      }
      const targetId = candidates[0]![0];
      if (!sel.includesPair(env.ref, targetId)) return;
      const group = byTarget.get(targetId) ?? { kind, key, items: [] };
      group.items.push({ name, node: value });
      byTarget.set(targetId, group);
    });
  }
  const pairs: Pair[] = [];
  for (const [targetId, { kind, key, items }] of byTarget) {
    const { kind: _kind, providerConfigFrom: targetFrom, ...rawSettings } = manifest.targets[targetId]!;
    const base = { org: env.ref.org, project: env.ref.project, env: env.ref.name, target: targetId };
    // As in the examples, the environment configures its own providers unless the target says not to.
    const config = providerConfig(kind, targetId, rawSettings, env, (targetFrom ?? "environment") === "environment");
    let settings = renderSettings(kind, "problem" in config ? rawSettings : config.settings, base);
    // A kind that addresses a whole secret by a path (Vault) places it from the item's path, and
    // writes the value's keys as the secret's fields.
    const single = items.length === 1 ? items[0]! : undefined;
    const placed = kind.syncConventionSecret && single ? kind.syncConventionSecret(single.name, settings) : undefined;
    if (placed && "settings" in placed) settings = placed.settings;
    const asFields = placed !== undefined && isObject(single!.node);
    const shape: Shape = asFields ? "keys" : "json";
    // `json` says which texts are documents: an object or array is one, a scalar is a string
    // (Key Vault's content type; Vault keeps a nested object as an object, as the examples did).
    const entries: PlannedEntry[] = asFields
      ? Object.entries(single!.node.value as Record<string, ValueNode>).map(([k, child]) => ({
          name: kind.normalizeName(k, settings),
          key: k,
          value: new SecretValue(entryText(child)),
          secret: containsSecret(child),
          json: isStructured(child),
        }))
      : items.map((it) => ({
          name: kind.normalizeName(it.name, settings),
          value: new SecretValue(entryText(it.node)),
          secret: containsSecret(it.node),
          json: isStructured(it.node),
        }));
    const pair: Pair = {
      stack: stackName(env.ref, targetId),
      env: env.ref,
      targetId,
      kind: kind.kind,
      bindingId: `${SYNC_PREFIX}${key}`,
      shape,
      settings,
      location: locationOf(kind, settings),
      entries: [],
      retainOnDelete: false,
      ...(env.revision !== undefined ? { revision: { number: env.revision } } : {}),
      fingerprint: "",
    };
    if ("problem" in config) pair.refusal = { kind: "provider-config", message: config.problem };
    else if (placed && "problem" in placed) {
      pair.refusal = { kind: "invalid-entries", problems: [{ message: `${where}.${key}: ${placed.problem}` }] };
    } else if (items.some((it) => containsUnknown(it.node))) {
      pair.refusal = { kind: "environment-error", message: `${where}.${key} has values that could not be computed` };
    } else {
      if (config.report) pair.provider = config.report;
      if (config.credentials) pair.credentials = config.credentials;
      checkEntries(pair, kind, entries);
    }
    pairs.push(pair);
  }
  return pairs;
}

const isObject = (node: ValueNode) => node.value !== null && typeof node.value === "object" && !Array.isArray(node.value);
const isStructured = (node: ValueNode) => node.value !== null && typeof node.value === "object";

function syncKeys(): string[] {
  return Object.values(targetKinds)
    .map((k) => (k as TargetKind<any>).syncConventionKey)
    .filter((k): k is string => !!k);
}

function renderSettings(kind: TargetKind<any>, settings: Record<string, unknown>, ctx: NameContext): Record<string, unknown> {
  const out = { ...settings };
  for (const key of kind.templatedSettings ?? []) {
    const value = out[key];
    if (typeof value === "string") out[key] = renderTemplate(value, ctx);
  }
  return out;
}

/** The text written for one value: a null as the empty string (ESC's `key:` or `~`, never the text "null"), else as read back. */
function entryText(node: ValueNode): string {
  const plain = toPlain(node);
  return plain === null ? "" : valueText(plain);
}

function buildEntries(
  kind: TargetKind<any>,
  settings: Record<string, unknown>,
  binding: Binding,
  env: ResolvedEnvironment,
  base: NameContext,
): { entries: PlannedEntry[] } | { refusal: PairRefusal } {
  const from = binding.from;
  const where = from === "" ? "its values" : `"${from}"`;
  const node = selectPath(env.properties, from);
  if (node === undefined) {
    return { refusal: { kind: "no-value", message: `${envFullName(env.ref)} has no value at ${where}; nothing to write (binding "${bindingId(binding)}")` } };
  }
  if (containsUnknown(node)) {
    return { refusal: { kind: "environment-error", message: `${envFullName(env.ref)} has values at ${where} that could not be computed` } };
  }
  const template = binding.name ?? kind.defaultName[binding.shape];
  const name = (ctx: NameContext) => kind.normalizeName(renderTemplate(template, ctx), settings);
  if (binding.shape === "json") {
    return { entries: [{ name: name(base), value: new SecretValue(JSON.stringify(toPlain(node))), secret: containsSecret(node) }] };
  }
  const v = node.value;
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    return {
      refusal: {
        kind: "invalid-entries",
        problems: [{ message: `the keys shape needs an object at ${where} of ${envFullName(env.ref)}; use shape: json for a single value` }],
      },
    };
  }
  const entries = Object.entries(v).map(([key, child]) => ({
    name: name({ ...base, key }),
    key,
    value: new SecretValue(entryText(child)),
    secret: containsSecret(child),
  }));
  return { entries };
}

/**
 * A keyed hash of the pair's input: kind, rendered settings, shape, names, values and options.
 * Keyed so that a printed fingerprint gives no way to guess a low-entropy secret.
 */
function fingerprint(pair: Pair, key: string | Buffer): string {
  const h = createHmac("sha256", key);
  h.update(JSON.stringify([pair.kind, pair.settings, pair.shape, pair.retainOnDelete, pair.refusal?.kind ?? null]));
  // A pinned pair records the revision it wrote: moving its tag runs it (and updates the record)
  // even where the new revision holds the same values. The latest revision is not hashed, so that
  // an edit elsewhere in an environment does not run every pair of it.
  if (pair.revision?.pinned) h.update(JSON.stringify(["revision", pair.revision.number, pair.revision.tag ?? null]));
  for (const e of [...pair.entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    // `json` only where the planner states it (sync: items), so that other pairs keep their fingerprints.
    h.update(JSON.stringify(e.json === undefined ? [e.name, e.secret, e.value.reveal()] : [e.name, e.secret, e.value.reveal(), e.json]));
  }
  return h.digest("hex").slice(0, 16);
}
