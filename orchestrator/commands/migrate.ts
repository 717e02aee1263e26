/**
 * `esc-sync migrate ...`: bring existing secrets into ESC (`migrate import`), and adopt entries
 * that already exist in targets (`migrate adopt`, issue 7 part 2: registered below by its own
 * module when it lands).
 */
import type { Argv } from "yargs";
import { findTargetKind } from "../../programs/registry.js";
import { openSource } from "../app.js";
import { ConfigError } from "../errors.js";
import { loadManifest, resolveManifestPaths } from "../manifest/load.js";
import { CloudDestination, DestinationError, LocalDestination, type ImportDestination } from "../migrate/destination.js";
import { runImport } from "../migrate/import.js";
import { keyMapping } from "../migrate/mapping.js";
import { DefinitionError } from "../migrate/merge.js";
import { buildReport, reportToText, type ImportReport } from "../migrate/report.js";
import { Redactor } from "../redact.js";
import { PulumiCloudSource } from "../sources/pulumi-cloud.js";
import type { EnvironmentRef } from "../sources/source.js";
import { parsePropertyPath } from "../values.js";
import { StoreReadError } from "../../programs/shared/reader.js";
import { adoptCommand } from "./adopt.js";

/** Adds the `migrate` commands to the CLI. */
export function registerMigrate<T>(y: Argv<T>, setExitCode: (code: number) => void): Argv<T> {
  return y.command("migrate <command>", "Bring existing secrets under ESC: import them from a store", (m) =>
    m
      .command(
        "import",
        "Copy a store's secrets into an ESC environment as fn::secret values (merges; never overwrites an edit made meanwhile)",
        (c) =>
          c.options({
            manifest: { alias: "m", type: "string", default: "environments.yaml", describe: "The manifest" },
            from: { type: "string", demandOption: true, describe: "Id of the target (in the manifest) whose store is read" },
            into: { type: "string", demandOption: true, describe: "The ESC environment written: org/project/env (or project/env)" },
            prefix: { type: "string", describe: "Only names starting with this (e.g. /prod/app/)" },
            filter: { alias: "f", type: "string", array: true, describe: "Only names matching these globs (e.g. 'prod/app/*')" },
            "strip-prefix": { type: "string", describe: "Removed from names to make the keys (default: --prefix; '' keeps names whole)" },
            path: { type: "string", default: "environmentVariables", describe: "Property path under values: where the keys go ('' = values itself)" },
            "json-as": { choices: ["string", "object"] as const, default: "string" as const, describe: "A JSON secret becomes its text (string) or nested values, each leaf secret (object)" },
            overwrite: { type: "boolean", default: false, describe: "Replace keys whose value differs, instead of reporting conflicts" },
            "max-bytes": { type: "number", default: 65536, describe: "Skip larger values" },
            "dry-run": { type: "boolean", default: false, describe: "Show the keys that would be added or changed (never values); write nothing" },
            output: { alias: "o", choices: ["text", "json"] as const, default: "text" as const, describe: "Output format" },
          }),
        async (args) => {
          setExitCode(await importCommand(args));
        },
      )
      .command(
        "adopt",
        "Take over entries that already exist in the targets (Pulumi import) instead of creating them; the next sync writes ESC's values",
        (c) =>
          c.options({
            manifest: { alias: "m", type: "string", default: "environments.yaml", describe: "The manifest" },
            filter: { alias: "f", type: "string", array: true, describe: "Only environments matching these globs over project/name" },
            target: { alias: "t", type: "string", array: true, describe: "Only these target ids" },
            concurrency: { alias: "c", type: "number", describe: "Pairs run at once (default: the manifest's)" },
            "backend-url": { type: "string", describe: "Pulumi state backend (default: the manifest's)" },
            "dry-run": { type: "boolean", default: false, describe: "List what would be adopted and what differs from ESC (fingerprints); change nothing" },
            output: { alias: "o", choices: ["text", "json"] as const, default: "text" as const, describe: "Output format" },
          }),
        async (args) => {
          setExitCode(await adoptCommand({ ...args, refresh: false }));
        },
      )
      .demandCommand(1, "Name a migrate command: import or adopt."),
  );
}

export interface ImportCommandOptions {
  manifest: string;
  from: string;
  into: string;
  prefix?: string | undefined;
  filter?: string[] | undefined;
  "strip-prefix"?: string | undefined;
  path: string;
  "json-as": "string" | "object";
  overwrite: boolean;
  "max-bytes": number;
  "dry-run": boolean;
  output: "text" | "json";
}

export async function importCommand(opts: ImportCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const loaded = await loadManifest(opts.manifest);
  const manifest = resolveManifestPaths(loaded);
  const target = manifest.targets[opts.from];
  if (!target) throw new ConfigError(`--from ${opts.from}: no such target in ${loaded.file} (known: ${Object.keys(manifest.targets).join(", ")})`);
  const kind = findTargetKind(target.kind);
  if (!kind) throw new ConfigError(`--from ${opts.from}: unknown kind ${target.kind}`);
  if (!kind.reader) {
    throw new ConfigError(`--from ${opts.from}: ${kind.kind} stores cannot be read through their API (their values are write-only), so they cannot be imported: import from where the values come from instead`);
  }
  const { kind: _kind, ...settings } = target;
  const reader = kind.reader(settings);

  const path = parsePath(opts.path);
  if (!Number.isInteger(opts["max-bytes"]) || opts["max-bytes"] < 1) throw new ConfigError("--max-bytes must be a positive whole number");
  const source = openSource(manifest, env);
  const ref = parseInto(opts.into, manifest.source.org);
  const destination: ImportDestination =
    source instanceof PulumiCloudSource
      ? new CloudDestination(source.client, ref)
      : manifest.source.kind === "local"
        ? new LocalDestination(manifest.source.folder, ref)
        : (() => {
            throw new ConfigError(`source ${manifest.source.kind} cannot be written`);
          })();
  if (manifest.source.kind === "local" && ref.org !== manifest.source.org) {
    throw new ConfigError(`--into ${opts.into}: the manifest's local source holds organisation ${manifest.source.org}, not ${ref.org}`);
  }

  const redactor = new Redactor().add(env.PULUMI_ACCESS_TOKEN, env.VAULT_TOKEN, env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN, env.AZURE_CLIENT_SECRET);
  const base = {
    from: { target: opts.from, kind: kind.kind, location: reader.location },
    into: `${ref.org}/${ref.project}/${ref.name}`,
    path: opts.path,
    dryRun: opts["dry-run"],
  };
  let report: ImportReport;
  // Ctrl-C or SIGTERM stops reading and writing; the ETag makes a rerun safe.
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error("interrupted"));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const result = await runImport({
      reader,
      destination,
      signal: controller.signal,
      dryRun: opts["dry-run"],
      options: {
        mapping: keyMapping({ prefix: opts.prefix, filter: opts.filter, stripPrefix: opts["strip-prefix"] }),
        path,
        jsonAs: opts["json-as"],
        overwrite: opts.overwrite,
        maxBytes: opts["max-bytes"],
      },
      onValue: (entry) => redactor.add(entry.value?.reveal()),
    });
    report = buildReport(base, result);
  } catch (error) {
    if (controller.signal.aborted) {
      report = buildReport(base, undefined, "interrupted: nothing was written unless the update had already been sent; run again (what was imported is then unchanged)");
    } else {
      if (!(error instanceof StoreReadError || error instanceof DestinationError || error instanceof DefinitionError)) throw error;
      const where = error instanceof StoreReadError ? `cannot read ${opts.from} (${kind.kind}, ${reader.location}): ` : "";
      report = buildReport(base, undefined, where + error.message);
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  const text = opts.output === "json" ? JSON.stringify(report, null, 2) : reportToText(report);
  process.stdout.write(redactor.text(text) + "\n");
  return report.exitCode;
}

function parsePath(text: string): string[] {
  let segments: (string | number)[];
  try {
    segments = parsePropertyPath(text);
  } catch (error) {
    throw new ConfigError(`--path: ${(error as Error).message}`);
  }
  if (segments.some((s) => typeof s === "number")) throw new ConfigError(`--path ${text}: must name object keys, not list indexes`);
  return segments as string[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function parseInto(text: string, defaultOrg: string): EnvironmentRef {
  const parts = text.split("/");
  const [org, project, name] = parts.length === 2 ? [defaultOrg, parts[0]!, parts[1]!] : parts.length === 3 ? [parts[0]!, parts[1]!, parts[2]!] : [];
  if (org === undefined || project === undefined || name === undefined || ![project, name].every((p) => NAME.test(p)) || org === "") {
    throw new ConfigError(`--into ${text}: must be org/project/env or project/env (letters, digits, . _ -)`);
  }
  return { org, project, name };
}
