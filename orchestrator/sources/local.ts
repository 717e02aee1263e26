/**
 * The local source: a folder of ESC environment definitions, `<folder>/<project>/<env>.yaml`,
 * evaluated in process the way Pulumi ESC evaluates them.
 */
import { existsSync, readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { evaluate, type Definition } from "../esc-eval/index.js";
import { ConfigError } from "../errors.js";
import { envId, type EnvironmentRef } from "../../programs/environment-ref.js";
import { EnvironmentError, importCandidates, type EnvironmentSource, type ResolvedEnvironment } from "./source.js";
import type { Provenance } from "../values.js";

const NAME = /^[A-Za-z0-9_.-]+$/;

/** Reads `<folder>/<project>/<name>.yaml`; undefined when there is no such file. */
export function readDefinition(folder: string, project: string, name: string): Definition | undefined {
  if (!NAME.test(project) || !NAME.test(name)) return undefined;
  const file = join(folder, project, `${name}.yaml`);
  if (!existsSync(file)) return undefined;
  return { name: `${project}/${name}`, yaml: readFileSync(file, "utf8") };
}

/**
 * Resolves an `imports:` entry: `project/name`, or a bare `name` in the importer's own project
 * (then in the `default` project, as ESC does for names without a project).
 */
export function folderLoader(folder: string) {
  return (ref: string, importer: string): Definition | undefined => {
    for (const candidate of importCandidates(ref, importer)) {
      const [project, name] = candidate.split("/") as [string, string];
      const found = readDefinition(folder, project, name);
      if (found) return found;
    }
    return undefined;
  };
}

/** The evaluator names environments as imports do (`project/name`); reports name the organisation too. */
function withOrg(provenance: Provenance, org: string): Provenance {
  const full = (name: string) => `${org}/${name.includes("/") ? name : `default/${name}`}`;
  return Object.fromEntries(
    Object.entries(provenance).map(([path, p]) => [
      path,
      {
        ...(p.definedIn ? { definedIn: { ...p.definedIn, environment: full(p.definedIn.environment) } } : {}),
        // `project/name:path`: names hold no ":", so the first one ends the name.
        derivedFrom: p.derivedFrom.map((d) => `${full(d.slice(0, d.indexOf(":")))}${d.slice(d.indexOf(":"))}`),
      },
    ]),
  );
}

/** A folder of ESC definitions as an {@link EnvironmentSource}. */
export class LocalSource implements EnvironmentSource {
  readonly description: string;
  constructor(
    private readonly folder: string,
    private readonly org: string,
  ) {
    this.description = `local ${relative(process.cwd(), folder) || "."}`;
  }

  async list(): Promise<EnvironmentRef[]> {
    let projects;
    try {
      projects = await readdir(this.folder, { withFileTypes: true });
    } catch {
      throw new ConfigError(`environment folder ${this.folder} cannot be read: check source.folder in the manifest`);
    }
    const refs: EnvironmentRef[] = [];
    for (const p of projects.filter((d) => d.isDirectory() && NAME.test(d.name)).sort((a, b) => a.name.localeCompare(b.name))) {
      const files = await readdir(join(this.folder, p.name), { withFileTypes: true });
      for (const f of files.filter((d) => d.isFile() && d.name.endsWith(".yaml")).sort((a, b) => a.name.localeCompare(b.name))) {
        const name = f.name.slice(0, -".yaml".length);
        if (NAME.test(name)) refs.push({ org: this.org, project: p.name, name });
      }
    }
    return refs;
  }

  async definition(ref: EnvironmentRef): Promise<string | undefined> {
    return readDefinition(this.folder, ref.project, ref.name)?.yaml;
  }

  async open(ref: EnvironmentRef, _signal?: AbortSignal, revision?: number | string): Promise<ResolvedEnvironment> {
    if (revision !== undefined) {
      throw new EnvironmentError(
        ref,
        `environment ${envId(ref)}: a local source has no revisions (revision ${JSON.stringify(revision)} asked): remove revision from the binding, or use a pulumi-cloud source`,
      );
    }
    const definition = readDefinition(this.folder, ref.project, ref.name);
    if (!definition) throw new EnvironmentError(ref, `environment ${envId(ref)} not found in ${this.folder}`);
    const result = evaluate(definition, folderLoader(this.folder));
    if (result.diagnostics.length > 0) {
      // A problem in an imported definition is at a line of that file, not of the importer.
      const fileOf = (environment: string | undefined) => {
        const [project, name] = (environment ?? definition.name).includes("/") ? (environment ?? definition.name).split("/") : ["default", environment!];
        return relative(process.cwd(), join(this.folder, project!, `${name}.yaml`));
      };
      const lines = result.diagnostics.map(
        (d) => `${fileOf(d.environment)}${d.line ? `:${d.line}${d.column ? `:${d.column}` : ""}` : ""}: ${d.path ? `${d.path}: ` : ""}${d.summary}`,
      );
      throw new EnvironmentError(ref, `environment ${envId(ref)} has errors:\n  ${lines.join("\n  ")}`, result.diagnostics, false, result.secrets);
    }
    return { ref, properties: result.properties, secrets: result.secrets, ...(result.provenance ? { provenance: withOrg(result.provenance, this.org) } : {}) };
  }
}
