/**
 * The environments behind the loopback ESC server: a folder laid out as
 * `<folder>/<project>/<env>.yaml`, plus revision history and revision tags kept in memory. The
 * folder is re-read on every access, so a test may edit a file directly and the server sees a new
 * revision. Files hold secrets as plaintext (tests write them so); each revision also keeps the
 * stored form, with secrets as ciphertext, which is what the definition GET returns.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SecretBox } from "./secrets.js";

/** ESC project and environment names; also keeps paths inside the folder. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface StoredRevision {
  number: number;
  /** The definition with plaintext secrets: what the file holds, what evaluation reads. */
  yaml: string;
  /** The definition as stored: secrets as ciphertext. */
  stored: string;
  created: string;
}

export interface StoredTag {
  name: string;
  revision: number;
  created: string;
  modified: string;
}

/** Revision tag names: `latest` is built in; a tag may not look like a revision number. */
export const TAG_PATTERN = /^[A-Za-z][A-Za-z0-9._-]*$/;

/** An environment tag (a key/value label), as the official client's `EnvironmentTag` has it. */
export interface StoredEnvironmentTag {
  id: string;
  name: string;
  value: string;
  created: string;
  modified: string;
  editorLogin: string;
  editorName: string;
}

export interface StoredEnvironment {
  project: string;
  name: string;
  yaml: string;
  revision: number;
  etag: string;
  created: string;
  modified: string;
}

export class EnvironmentStore {
  readonly #history = new Map<string, StoredRevision[]>();
  readonly #tags = new Map<string, Map<string, StoredTag>>();
  /** Environment tags (labels, not revision tags), by name. */
  readonly #envTags = new Map<string, Map<string, StoredEnvironmentTag>>();
  /** Retracted revision numbers: they can no longer be read or opened. */
  readonly #retracted = new Map<string, Set<number>>();

  constructor(
    readonly folder: string,
    private readonly box: SecretBox,
  ) {}

  /** Every environment in the folder, sorted by `project/name`. */
  list(): StoredEnvironment[] {
    const out: StoredEnvironment[] = [];
    if (!existsSync(this.folder)) return out;
    for (const project of readdirSync(this.folder).sort()) {
      if (!NAME_PATTERN.test(project) || !statSync(join(this.folder, project)).isDirectory()) continue;
      for (const file of readdirSync(join(this.folder, project)).sort()) {
        const match = /^(.+)\.ya?ml$/.exec(file);
        if (!match || !NAME_PATTERN.test(match[1]!)) continue;
        const env = this.get(project, match[1]!);
        if (env) out.push(env);
      }
    }
    return out;
  }

  /** The latest revision, or undefined when no such environment exists. */
  get(project: string, name: string): StoredEnvironment | undefined {
    const history = this.#sync(project, name);
    if (!history) return undefined;
    const latest = history[history.length - 1]!;
    return {
      project,
      name,
      yaml: latest.yaml,
      revision: latest.number,
      etag: etagOf(latest),
      created: history[0]!.created,
      modified: latest.created,
    };
  }

  /** One revision (a number, `latest` or another tag), or undefined. */
  at(project: string, name: string, version: string): StoredRevision | undefined {
    const history = this.#sync(project, name);
    if (!history) return undefined;
    if (version === "latest") return history[history.length - 1];
    if (!/^\d+$/.test(version)) {
      const tag = this.#tags.get(key(project, name))?.get(version);
      return tag === undefined ? undefined : history.find((r) => r.number === tag.revision);
    }
    if (this.#retracted.get(key(project, name))?.has(Number(version))) return undefined;
    return history.find((r) => r.number === Number(version));
  }

  /** The revision tags (`latest` included) by name; undefined when no such environment exists. */
  tags(project: string, name: string): StoredTag[] | undefined {
    const history = this.#sync(project, name);
    if (!history) return undefined;
    const latest = history[history.length - 1]!;
    const builtIn: StoredTag = { name: "latest", revision: latest.number, created: history[0]!.created, modified: latest.created };
    const own = [...(this.#tags.get(key(project, name))?.values() ?? [])];
    return [builtIn, ...own].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Creates (`create`) or moves a tag to `revision`. Returns "ok", or why not: "exists" (create of
   * an existing tag), "missing" (move of an unknown tag), "no-revision", "reserved" (`latest`).
   */
  setTag(project: string, name: string, tag: string, revision: number, mode: "create" | "move"): "ok" | "exists" | "missing" | "no-revision" | "reserved" {
    const history = this.#sync(project, name);
    if (!history || !history.some((r) => r.number === revision)) return "no-revision";
    if (tag === "latest") return "reserved";
    let tags = this.#tags.get(key(project, name));
    if (!tags) this.#tags.set(key(project, name), (tags = new Map()));
    const existing = tags.get(tag);
    if (mode === "create" && existing) return "exists";
    if (mode === "move" && !existing) return "missing";
    const now = new Date().toISOString();
    tags.set(tag, { name: tag, revision, created: existing?.created ?? now, modified: now });
    return "ok";
  }

  /**
   * Retracts a revision, as `esc env version retract` documents it (pulumi/esc
   * `cmd/esc/cli/env_version_retract.go`): it can no longer be read or opened, and the tags that
   * pointed at it move to the replacement (default: the latest non-retracted revision before it).
   * The latest revision cannot be retracted.
   */
  retract(project: string, name: string, revision: number, replacement?: number): "ok" | "latest" | "no-revision" | "no-replacement" {
    const history = this.#sync(project, name);
    const retracted = this.#retracted.get(key(project, name)) ?? new Set<number>();
    if (!history || !history.some((r) => r.number === revision) || retracted.has(revision)) return "no-revision";
    if (history[history.length - 1]!.number === revision) return "latest";
    const to = replacement ?? [...history].reverse().find((r) => r.number < revision && !retracted.has(r.number))?.number;
    if (to === undefined || to === revision || retracted.has(to) || !history.some((r) => r.number === to)) return "no-replacement";
    retracted.add(revision);
    this.#retracted.set(key(project, name), retracted);
    const now = new Date().toISOString();
    for (const tag of this.#tags.get(key(project, name))?.values() ?? []) if (tag.revision === revision) Object.assign(tag, { revision: to, modified: now });
    return "ok";
  }

  /** The environment's tags (labels); undefined when no such environment exists. */
  environmentTags(project: string, name: string): Map<string, StoredEnvironmentTag> | undefined {
    if (!this.#sync(project, name)) return undefined;
    let tags = this.#envTags.get(key(project, name));
    if (!tags) this.#envTags.set(key(project, name), (tags = new Map()));
    return tags;
  }

  /** Deletes a tag; false when there was none (or it is `latest`). */
  deleteTag(project: string, name: string, tag: string): boolean {
    return this.#tags.get(key(project, name))?.delete(tag) ?? false;
  }

  /** Revisions newest first, those below `before` when given (0: all), at most `count`. */
  revisions(project: string, name: string, before?: number, count?: number): StoredRevision[] | undefined {
    const history = this.#sync(project, name);
    if (!history) return undefined;
    // `before=0` means "from the latest", as Pulumi Cloud reads it (the official CLI sends it).
    const newestFirst = [...history].reverse().filter((r) => before === undefined || before === 0 || r.number < before);
    return count === undefined ? newestFirst : newestFirst.slice(0, count);
  }

  /** Writes a new definition (plaintext form for the file, stored form); returns the new latest revision. */
  update(project: string, name: string, yaml: string, stored: string): StoredEnvironment {
    const history = this.#sync(project, name);
    if (!history) throw new Error(`no environment ${project}/${name}`);
    writeFileSync(this.#file(project, name), yaml);
    history.push({ number: history[history.length - 1]!.number + 1, yaml, stored, created: new Date().toISOString() });
    return this.get(project, name)!;
  }

  /** Creates an empty environment; false when it exists already. */
  create(project: string, name: string): boolean {
    if (this.get(project, name)) return false;
    mkdirSync(join(this.folder, project), { recursive: true });
    writeFileSync(this.#file(project, name), "");
    this.#history.delete(key(project, name));
    this.#tags.delete(key(project, name));
    return this.#sync(project, name) !== undefined;
  }

  /** Deletes an environment; false when there was none. */
  delete(project: string, name: string): boolean {
    const file = this.#existingFile(project, name);
    this.#history.delete(key(project, name));
    this.#tags.delete(key(project, name));
    this.#retracted.delete(key(project, name));
    this.#envTags.delete(key(project, name));
    if (!file) return false;
    rmSync(file);
    return true;
  }

  /** Reads the file and records a new revision when it changed behind the server's back. */
  #sync(project: string, name: string): StoredRevision[] | undefined {
    if (!NAME_PATTERN.test(project) || !NAME_PATTERN.test(name)) return undefined;
    const file = this.#existingFile(project, name);
    if (!file) {
      this.#history.delete(key(project, name));
      return undefined;
    }
    const yaml = readFileSync(file, "utf8");
    let history = this.#history.get(key(project, name));
    if (!history) {
      history = [{ number: 1, yaml, stored: this.box.encryptDefinition(yaml), created: new Date().toISOString() }];
      this.#history.set(key(project, name), history);
    } else if (history[history.length - 1]!.yaml !== yaml) {
      history.push({ number: history[history.length - 1]!.number + 1, yaml, stored: this.box.encryptDefinition(yaml), created: new Date().toISOString() });
    }
    return history;
  }

  #file(project: string, name: string): string {
    return join(this.folder, project, `${name}.yaml`);
  }

  #existingFile(project: string, name: string): string | undefined {
    for (const ext of ["yaml", "yml"]) {
      const file = join(this.folder, project, `${name}.${ext}`);
      if (existsSync(file)) return file;
    }
    return undefined;
  }
}

function key(project: string, name: string): string {
  return `${project}/${name}`;
}

function etagOf(revision: StoredRevision): string {
  const hash = createHash("sha256").update(revision.stored).digest("hex").slice(0, 16);
  return `"${revision.number}-${hash}"`;
}
