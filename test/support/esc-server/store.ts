/**
 * The environments behind the loopback ESC server: a folder laid out as
 * `<folder>/<project>/<env>.yaml`, plus revision history kept in memory. The folder is re-read on
 * every access, so a test may edit a file directly and the server sees a new revision.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** ESC project and environment names; also keeps paths inside the folder. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface StoredRevision {
  number: number;
  yaml: string;
  created: string;
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

  constructor(readonly folder: string) {}

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

  /** One revision (`latest` or a number), or undefined. */
  at(project: string, name: string, version: string): StoredRevision | undefined {
    const history = this.#sync(project, name);
    if (!history) return undefined;
    if (version === "latest") return history[history.length - 1];
    if (!/^\d+$/.test(version)) return undefined;
    return history.find((r) => r.number === Number(version));
  }

  /** Revisions newest first, those below `before` when given, at most `count`. */
  revisions(project: string, name: string, before?: number, count?: number): StoredRevision[] | undefined {
    const history = this.#sync(project, name);
    if (!history) return undefined;
    const newestFirst = [...history].reverse().filter((r) => before === undefined || r.number < before);
    return count === undefined ? newestFirst : newestFirst.slice(0, count);
  }

  /** Writes a new definition; returns the new latest revision. */
  update(project: string, name: string, yaml: string): StoredEnvironment {
    const history = this.#sync(project, name);
    if (!history) throw new Error(`no environment ${project}/${name}`);
    writeFileSync(this.#file(project, name), yaml);
    history.push({ number: history[history.length - 1]!.number + 1, yaml, created: new Date().toISOString() });
    return this.get(project, name)!;
  }

  /** Creates an empty environment; false when it exists already. */
  create(project: string, name: string): boolean {
    if (this.get(project, name)) return false;
    mkdirSync(join(this.folder, project), { recursive: true });
    writeFileSync(this.#file(project, name), "");
    this.#history.delete(key(project, name));
    return this.#sync(project, name) !== undefined;
  }

  /** Deletes an environment; false when there was none. */
  delete(project: string, name: string): boolean {
    const file = this.#existingFile(project, name);
    this.#history.delete(key(project, name));
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
      history = [{ number: 1, yaml, created: new Date().toISOString() }];
      this.#history.set(key(project, name), history);
    } else if (history[history.length - 1]!.yaml !== yaml) {
      history.push({ number: history[history.length - 1]!.number + 1, yaml, created: new Date().toISOString() });
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
  const hash = createHash("sha256").update(revision.yaml).digest("hex").slice(0, 16);
  return `"${revision.number}-${hash}"`;
}
