/**
 * `esc-sync migrate import`: bring the secrets of an existing store into an ESC environment
 * (`migrate adopt`, taking over entries that already exist in targets, is commands/adopt.ts).
 */
import { findTargetKind } from "../../programs/registry.js";
import type { CommandContext } from "../command-context.js";
import { ConfigError } from "../errors.js";
import { loadManifest, resolveManifestPaths } from "../manifest/load.js";
import { CloudDestination, DestinationError, LocalDestination, type ImportDestination } from "../migrate/destination.js";
import { runImport } from "../migrate/import.js";
import { keyMapping } from "../migrate/mapping.js";
import { DefinitionError } from "../migrate/merge.js";
import { buildReport, reportToText, type ImportReport } from "../migrate/report.js";
import { PulumiCloudSource } from "../sources/pulumi-cloud.js";
import type { EnvironmentRef } from "../../programs/environment-ref.js";
import { parsePropertyPath } from "../values.js";
import { StoreReadError } from "../../programs/shared/reader.js";
import { Session } from "../session.js";

export interface ImportCommandOptions {
  manifest: string;
  from: string;
  into: string;
  prefix?: string | undefined;
  filter?: string[] | undefined;
  stripPrefix?: string | undefined;
  path: string;
  jsonAs: "string" | "object";
  overwrite: boolean;
  maxBytes: number;
  dryRun: boolean;
  output: "text" | "json";
}

export async function importCommand(opts: ImportCommandOptions, ctx: CommandContext): Promise<number> {
  const env = ctx.env;
  const loaded = await loadManifest(opts.manifest);
  const manifest = resolveManifestPaths(loaded);
  const target = manifest.targets[opts.from];
  if (!target) throw new ConfigError(`--from ${opts.from}: no such target in ${loaded.file} (known: ${Object.keys(manifest.targets).join(", ")})`);
  const kind = findTargetKind(target.kind);
  if (!kind) throw new ConfigError(`--from ${opts.from}: unknown kind ${target.kind}`);
  if (!kind.reader) {
    throw new ConfigError(`--from ${opts.from}: ${kind.kind} stores cannot be read through their API (their values are write-only), so they cannot be imported: import from where the values come from instead`);
  }
  // A target that takes provider settings from each environment (providerConfigFrom:
  // environment) may lack them here: the store is read with the manifest's settings only.
  const { kind: _kind, providerConfigFrom: _from, ...raw } = target;
  const checked = kind.settingsSchema.safeParse(raw);
  if (!checked.success) {
    const missing = [...new Set(checked.error.issues.map((i) => String(i.path[0] ?? "")))].join(", ");
    throw new ConfigError(
      `--from ${opts.from}: the target has no ${missing} in ${loaded.file} (it takes ${missing} from each environment): migrate import reads the store with the manifest's settings only; set ${missing} on the target, or use another target for the import`,
    );
  }
  const reader = kind.reader(checked.data);

  const path = parsePath(opts.path);
  if (!Number.isInteger(opts.maxBytes) || opts.maxBytes < 1) throw new ConfigError("--max-bytes must be a positive whole number");
  // The session builds the source (and adds its token and the passphrase to the redactor); its
  // fingerprint key is unused here, so none is created.
  const session = await Session.open({ manifest: opts.manifest, loaded, env, redactor: ctx.redactor, access: "unused" });
  const source = session.source;
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

  const redactor = ctx.redactor.add(env.VAULT_TOKEN, env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN, env.AZURE_CLIENT_SECRET);
  const base = {
    from: { target: opts.from, kind: kind.kind, location: reader.location },
    into: `${ref.org}/${ref.project}/${ref.name}`,
    path: opts.path,
    dryRun: opts.dryRun,
  };
  let report: ImportReport;
  // Ctrl-C or SIGTERM (the CLI's signal) stops reading and writing; the ETag makes a rerun safe.
  const signal = ctx.signal;
  try {
    const result = await runImport({
      reader,
      destination,
      signal,
      dryRun: opts.dryRun,
      options: {
        mapping: keyMapping({ prefix: opts.prefix, filter: opts.filter, stripPrefix: opts.stripPrefix }),
        path,
        jsonAs: opts.jsonAs,
        overwrite: opts.overwrite,
        maxBytes: opts.maxBytes,
      },
      onValue: (entry) => redactor.add(entry.value?.reveal()),
    });
    report = buildReport(base, result);
  } catch (error) {
    if (signal.aborted) {
      report = buildReport(base, undefined, "interrupted: nothing was written unless the update had already been sent; run again (what was imported is then unchanged)");
    } else {
      if (!(error instanceof StoreReadError || error instanceof DestinationError || error instanceof DefinitionError)) throw error;
      const where = error instanceof StoreReadError ? `cannot read ${opts.from} (${kind.kind}, ${reader.location}): ` : "";
      report = buildReport(base, undefined, where + error.message);
    }
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
