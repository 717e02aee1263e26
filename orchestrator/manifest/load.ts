/**
 * Loads and validates the manifest in stages (YAML, schema, cross-field rules), collecting every
 * problem with its path and line so that a user fixes them all in one go.
 */
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, relative, resolve } from "node:path";
import { isNode, LineCounter, parseDocument, type Document } from "yaml";
import { nearest } from "../suggest.js";
import type { z } from "zod";
import { findTargetKind, targetKinds } from "../../programs/registry.js";
import { ConfigError, type Problem } from "../errors.js";
import { manifestSchema, type Manifest } from "./schema.js";
import { templatePlaceholders } from "./template.js";

/** A validated manifest and where it came from. */
export interface LoadedManifest {
  manifest: Manifest;
  /** Absolute path of the manifest file. */
  file: string;
  /** Folder that relative paths in the manifest are resolved against. */
  dir: string;
}

const NAME_PLACEHOLDERS = new Set(["org", "project", "env", "target", "key"]);
const SETTING_PLACEHOLDERS = new Set(["org", "project", "env", "target"]);

/** Reads, parses and validates a manifest file. Throws {@link ConfigError} listing every problem. */
export async function loadManifest(file: string): Promise<LoadedManifest> {
  const abs = resolve(file);
  let text: string;
  try {
    text = await readFile(abs, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === "ENOENT"
        ? `manifest ${abs} not found: pass --manifest FILE or run from a folder holding environments.yaml`
        : code === "EISDIR"
          ? `manifest ${abs} is a folder: pass the manifest file itself${manifestNear(abs)}`
          : `cannot read manifest ${abs}: ${code ?? String(err)}`,
    );
  }
  return { manifest: parseManifest(text, abs), file: abs, dir: dirname(abs) };
}

/** A manifest file that exists near a folder given as the manifest (`-m environments`), to suggest. */
function manifestNear(dir: string): string {
  const candidates = [resolve(dir, "environments.yaml"), `${dir.replace(/\/+$/, "")}.yaml`, resolve(dirname(dir), "environments.yaml")];
  const found = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  if (!found) return " (--manifest FILE, e.g. environments.yaml)";
  const rel = relative(process.cwd(), found);
  return ` (--manifest ${rel.startsWith("..") || rel.startsWith("/") ? found : `./${rel}`})`;
}

/** Parses and validates manifest text. `file` is used in messages only. */
export function parseManifest(text: string, file: string): Manifest {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // The first error only: the parser's next ones are mostly the same mistake, token by token.
    const first = doc.errors[0]!;
    const pos = lines.linePos(first.pos[0]);
    const line = text.split("\n")[(pos?.line ?? 1) - 1] ?? "";
    const fix = flowMapFix(line);
    throw new ConfigError(
      `${file} is not valid YAML`,
      [{ file, line: pos?.line, column: pos?.col, message: (first.message.split("\n")[0] ?? first.message) + (fix ? `: ${fix}` : "") }],
      fix ? undefined : "fix that line (the YAML parser stops making sense of what follows it)",
    );
  }
  const locate = (path: readonly PropertyKey[]): Pick<Problem, "line" | "column"> => nodePosition(doc, lines, path);
  const raw: unknown = doc.toJS() ?? {};

  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const schemaProblems = pairMisspellings(parsed.error.issues.flatMap((issue) => describeIssue(issue, raw)));
    // Cross-references too, as far as the raw document allows: every mistake in one pass.
    const reported = new Set(schemaProblems.map((p) => p.path));
    const crossProblems = crossFieldProblems(lenientManifest(raw))
      .map((p) => ({ ...p, path: formatPath(p.pathKeys) }))
      .filter((p) => !reported.has(p.path));
    const problems = dedupe(
      [...schemaProblems, ...crossProblems].map((p) => ({ file, ...locate(p.pathKeys), path: p.path, message: p.message })),
    ).sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    throw new ConfigError(`${file} has ${countLabel(problems.length, "problem")}`, problems);
  }

  const problems = crossFieldProblems(parsed.data).map((p) => ({ file, ...locate(p.pathKeys), path: formatPath(p.pathKeys), message: p.message }));
  if (problems.length > 0) throw new ConfigError(`${file} has ${countLabel(problems.length, "problem")}`, problems);
  return parsed.data;
}

/** Makes relative paths in target settings absolute, against the manifest's folder. */
export function resolveManifestPaths(loaded: LoadedManifest): Manifest {
  const targets: Manifest["targets"] = {};
  for (const [id, target] of Object.entries(loaded.manifest.targets)) {
    const kind = findTargetKind(target.kind);
    const copy: Record<string, unknown> = { ...target };
    for (const key of kind?.pathSettings ?? []) {
      const value = copy[key];
      if (typeof value === "string") copy[key] = resolve(loaded.dir, value);
    }
    targets[id] = copy as Manifest["targets"][string];
  }
  const source =
    loaded.manifest.source.kind === "local"
      ? { ...loaded.manifest.source, folder: resolve(loaded.dir, loaded.manifest.source.folder) }
      : loaded.manifest.source;
  return { ...loaded.manifest, source, targets };
}

interface RawProblem {
  pathKeys: PropertyKey[];
  path: string;
  message: string;
  /** What the problem is, for the passes that pair problems up (never read from the message). */
  is?: "missing" | { unknownKey: string };
}

/** Turns a zod issue into problems a person can act on. */
function describeIssue(issue: z.core.$ZodIssue, raw: unknown): RawProblem[] {
  const pathKeys = issue.path as PropertyKey[];
  const path = formatPath(pathKeys);
  // An unknown target kind: say which kinds exist instead of zod's "invalid input".
  if (pathKeys[0] === "targets" && pathKeys.length === 3 && pathKeys[2] === "kind" && issue.code === "invalid_union") {
    const kind = valueAt(raw, pathKeys);
    const known = Object.keys(targetKinds).join(", ");
    const message =
      kind === undefined
        ? `missing "kind": one of ${known}`
        : `unknown target kind ${JSON.stringify(kind)}: use one of ${known}`;
    return [{ pathKeys, path, message }];
  }
  if (issue.code === "unrecognized_keys") {
    const known = knownKeysAt(pathKeys, raw);
    return issue.keys.map((key) => {
      const meant = meantKey(key, known.filter((k) => !(k in ((valueAt(raw, pathKeys) as object | undefined) ?? {}))));
      return {
        pathKeys: [...pathKeys, key],
        path: formatPath([...pathKeys, key]),
        is: { unknownKey: key },
        message: meant
          ? `unknown setting "${key}"${pathKeys.length ? "" : " at the top level"}: did you mean "${meant}"? rename it`
          : `unknown setting "${key}"${pathKeys.length ? "" : " at the top level"}: remove it or check its spelling${known.length ? ` (known: ${known.join(", ")})` : ""}`,
      };
    });
  }
  if ((issue.code === "invalid_type" || issue.code === "invalid_union") && valueAt(raw, pathKeys) === undefined) {
    if (issue.code === "invalid_union") return [{ pathKeys, path, message: "required", is: "missing" }];
    return [{ pathKeys, path, message: `required: ${issue.message.replace(/^Invalid input: /, "")}`, is: "missing" }];
  }
  return [{ pathKeys, path, message: issue.message }];
}

/**
 * A required setting missing beside an unknown one spelt like it (`enviroments:`) is one mistake:
 * one problem, saying which setting was meant.
 */
function pairMisspellings(problems: RawProblem[]): RawProblem[] {
  const missing = problems.filter((p) => p.is === "missing");
  const dropped = new Set<RawProblem>();
  const out = problems.map((p) => {
    const unknown = typeof p.is === "object" ? p.is.unknownKey : undefined;
    if (!unknown) return p;
    const parent = formatPath(p.pathKeys.slice(0, -1));
    const candidates = missing.filter((m) => formatPath(m.pathKeys.slice(0, -1)) === parent && !dropped.has(m));
    const meant = nearest(unknown, candidates.map((m) => String(m.pathKeys.at(-1))));
    if (!meant) return p;
    dropped.add(candidates.find((m) => String(m.pathKeys.at(-1)) === meant)!);
    return { ...p, message: `unknown setting "${unknown}": did you mean "${meant}" (required)? rename it` };
  });
  return out.filter((p) => !dropped.has(p));
}

/** The known key a mistyped one most likely meant: the nearest by edit distance, or one swap of two neighbouring letters away (`mdoe`). */
function meantKey(key: string, known: readonly string[]): string | undefined {
  const swapped = (a: string, b: string) => {
    if (a.length !== b.length) return false;
    const diff = [...a].flatMap((c, i) => (c === b[i] ? [] : [i]));
    return diff.length === 2 && diff[1] === diff[0]! + 1 && a[diff[0]!] === b[diff[1]!] && a[diff[1]!] === b[diff[0]!];
  };
  return nearest(key, known) ?? known.find((k) => swapped(k.toLowerCase(), key.toLowerCase()));
}

/** The settings an object of the manifest may hold, for "did you mean": from the schemas. */
function knownKeysAt(pathKeys: readonly PropertyKey[], raw: unknown): string[] {
  const shape = manifestSchema.shape;
  const keysOf = (schema: unknown): string[] => {
    let s = schema as { shape?: object; unwrap?: () => unknown; options?: unknown[]; element?: unknown };
    // Unwrap defaults and optionals (`state`, `bindings`), then arrays (`bindings`).
    for (let i = 0; i < 4 && !s.shape && !s.options; i++) s = (s.unwrap?.() ?? s.element ?? {}) as typeof s;
    if (s.shape) return Object.keys(s.shape);
    return [...new Set((s.options ?? []).flatMap((o) => keysOf(o)))];
  };
  if (pathKeys.length === 0) return Object.keys(shape);
  if (pathKeys.length === 1 && (pathKeys[0] === "source" || pathKeys[0] === "state")) return keysOf(shape[pathKeys[0]]);
  if (pathKeys.length === 2 && pathKeys[0] === "bindings") return keysOf(shape.bindings);
  if (pathKeys.length === 2 && pathKeys[0] === "targets") {
    const kind = findTargetKind(String((valueAt(raw, pathKeys) as { kind?: unknown } | undefined)?.kind));
    return kind ? ["kind", "providerConfigFrom", ...keysOf(kind.settingsSchema)] : [];
  }
  return [];
}

/**
 * The likely fix of a YAML error on a line with a `{ … }` mapping holding an unquoted template
 * (`path: out/{env}.env`): there `{` opens another mapping, so the value must be quoted.
 */
function flowMapFix(line: string): string | undefined {
  if (!/:\s*\{/.test(line)) return undefined;
  const m = /([A-Za-z_$][\w$-]*):[ \t]*((?:[^"'\s,{}][^,{}]*)?\{[^,{}]*\}[^,}]*)/.exec(line.replace(/^[^{]*\{/, ""));
  if (!m) return undefined;
  return `quote the value holding { }: inside a { … } mapping, { opens another mapping; write ${m[1]}: "${m[2]!.trim()}"`;
}

/**
 * The manifest as far as the raw document shows it, for the cross-field rules when the schema
 * failed: so that an unknown target id is reported beside a typo, not after it is fixed.
 */
function lenientManifest(raw: unknown): Manifest {
  const r = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);
  const targets = isObject(r.targets) ? Object.fromEntries(Object.entries(r.targets).filter(([, t]) => isObject(t))) : {};
  // Keep indexes: a problem names bindings[i] as the file has it.
  const bindings = (Array.isArray(r.bindings) ? r.bindings : []).map((b) => (isObject(b) ? b : {}));
  return { source: isObject(r.source) ? r.source : {}, targets, bindings } as unknown as Manifest;
}

/** Rules that span fields: references between targets and bindings, ids, templates, globs. Safe on a {@link lenientManifest}. */
function crossFieldProblems(m: Manifest): { pathKeys: PropertyKey[]; message: string }[] {
  const problems: { pathKeys: PropertyKey[]; message: string }[] = [];
  const seenIds = new Map<string, number>();
  m.bindings.forEach((b, i) => {
    const at = (...keys: PropertyKey[]) => ["bindings", i, ...keys];
    if (typeof b.target !== "string") return;
    const target = Object.hasOwn(m.targets, b.target) ? m.targets[b.target] : undefined;
    if (!target) {
      const known = Object.keys(m.targets);
      problems.push({
        pathKeys: at("target"),
        message: `no target "${b.target}" in targets${known.length ? ` (known: ${known.join(", ")})` : ": define it under targets"}`,
      });
    }
    const id = b.id ?? b.target;
    const first = seenIds.get(id);
    if (first !== undefined) {
      const implicit = !b.id && !m.bindings[first]!.id;
      problems.push({
        pathKeys: at(b.id ? "id" : "target"),
        message: implicit
          ? `bindings[${first}] and bindings[${i}] both write to target "${b.target}" and neither has an id (a binding's id defaults to its target): give each an id, e.g. id: ${b.target}-${i}`
          : `binding id "${id}" is also used by bindings[${first}]${b.id ? "" : ` (this binding has no id, so its id is its target's)`}: give each binding a distinct id`,
      });
    } else seenIds.set(id, i);
    if (typeof b.name === "string") {
      for (const p of templatePlaceholders(b.name)) {
        if (!NAME_PLACEHOLDERS.has(p)) problems.push({ pathKeys: at("name"), message: `unknown placeholder {${p}}: use {org}, {project}, {env}, {target} or {key}` });
      }
      if ((b.shape ?? "keys") === "keys" && !templatePlaceholders(b.name).includes("key")) {
        problems.push({ pathKeys: at("name"), message: `a keys binding writes one entry per key: its name template needs {key}` });
      }
    }
    if (b.revision !== undefined && m.source.kind === "local") {
      problems.push({
        pathKeys: at("revision"),
        message: `a local source has no revisions: remove revision: ${JSON.stringify(b.revision)} from this binding, or use a pulumi-cloud source (revisions and tags live in ESC)`,
      });
    }
  });
  for (const [id, target] of Object.entries(m.targets)) {
    const kind = typeof target.kind === "string" ? findTargetKind(target.kind) : undefined;
    for (const key of kind?.templatedSettings ?? []) {
      const value = (target as Record<string, unknown>)[key];
      if (typeof value !== "string") continue;
      for (const p of templatePlaceholders(value)) {
        if (!SETTING_PLACEHOLDERS.has(p)) {
          problems.push({ pathKeys: ["targets", id, key], message: `unknown placeholder {${p}}: use {org}, {project}, {env} or {target}` });
        }
      }
    }
  }
  return problems;
}

function nodePosition(doc: Document, lines: LineCounter, path: readonly PropertyKey[]): Pick<Problem, "line" | "column"> {
  // Walk up until a node exists: a missing key is reported at its parent.
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as unknown[], true);
    if (isNode(node) && node.range) {
      const pos = lines.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return {};
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const k of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** `bindings[1].target`, `targets.app.path`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((k, i) => (typeof k === "number" ? `[${k}]` : `${i === 0 ? "" : "."}${String(k)}`)).join("");
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}|${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function countLabel(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
