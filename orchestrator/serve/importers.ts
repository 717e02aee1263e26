/**
 * Which environments import which, computed by esc-sync from the definitions themselves: an event
 * for one environment syncs it and every environment that imports it, directly or through
 * others, whether or not the service sends an event per importer.
 */
import { parse } from "yaml";
import { importCandidates } from "../sources/source.js";

/**
 * The environments a definition imports, as `project/name`. An `imports:` item is a name or a
 * one-key map (`- name: {merge: false}`); a bare name may be in the importer's project or in
 * `default` ({@link importCandidates}): both are listed, since an extra importer costs one sync
 * and a missing one a stale target. Unreadable YAML imports nothing: evaluation reports it elsewhere.
 */
export function importsOf(importer: string, yaml: string): string[] {
  let doc: unknown;
  try {
    doc = parse(yaml);
  } catch {
    return [];
  }
  const list = doc !== null && typeof doc === "object" ? (doc as { imports?: unknown }).imports : undefined;
  if (!Array.isArray(list)) return [];
  const out: string[] = [];
  for (const item of list) {
    const ref = typeof item === "string" ? item : item !== null && typeof item === "object" ? Object.keys(item)[0] : undefined;
    if (!ref) continue;
    // `{project/name}` references and interpolations are left out: they name no fixed environment.
    if (ref.includes("${")) continue;
    out.push(...importCandidates(ref, importer));
  }
  return out;
}

/** The import graph of an organisation's environments, kept up to date one definition at a time. */
export class ImportGraph {
  /** importer → what it imports. */
  #imports = new Map<string, string[]>();

  /** Records (or forgets, with `undefined`) one environment's definition. */
  set(env: string, yaml: string | undefined): void {
    if (yaml === undefined) this.#imports.delete(env);
    else this.#imports.set(env, importsOf(env, yaml));
  }

  /** Replaces the whole graph. */
  reset(definitions: ReadonlyMap<string, string>): void {
    this.#imports.clear();
    for (const [env, yaml] of definitions) this.set(env, yaml);
  }

  /**
   * `env` and every environment that imports it, transitively, `env` first. Cycles (which ESC
   * refuses anyway) end the walk.
   */
  affected(env: string): string[] {
    const seen = new Set([env]);
    const queue = [env];
    while (queue.length > 0) {
      const current = queue.shift()!;
      for (const [importer, imports] of this.#imports) {
        if (!seen.has(importer) && imports.includes(current)) {
          seen.add(importer);
          queue.push(importer);
        }
      }
    }
    return [...seen];
  }
}

/**
 * Whether a definition holds a rotated value (`fn::rotate`, `fn::rotate::<provider>`): a new
 * revision of such an environment may be a rotation, which serve propagates without the debounce.
 */
export function holdsRotation(yaml: string): boolean {
  let doc: unknown;
  try {
    doc = parse(yaml);
  } catch {
    return false;
  }
  const walk = (node: unknown): boolean =>
    Array.isArray(node) ? node.some(walk) : node !== null && typeof node === "object" ? Object.entries(node).some(([k, v]) => k === "fn::rotate" || k.startsWith("fn::rotate::") || walk(v)) : false;
  return walk(doc);
}
