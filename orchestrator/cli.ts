#!/usr/bin/env node
/**
 * The `esc-sync` command line. Errors become exit codes here and only here:
 * 0 every pair succeeded, 1 a pair failed or the input is wrong, 2 (drift) differences found.
 */
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { ConfigError } from "./errors.js";
import { planCommand } from "./commands/plan.js";
import { syncCommand } from "./commands/sync.js";
import { driftCommand } from "./commands/drift.js";
import { schemaCommand } from "./commands/schema.js";
import { registerMigrate } from "./commands/migrate.js";

const ISSUES_URL = "https://github.com/esc-sync/esc-sync/issues";

async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const common = {
    manifest: { alias: "m", type: "string", default: "environments.yaml", describe: "The manifest" },
    filter: { alias: "f", type: "string", array: true, describe: "Only environments matching these globs over project/name" },
    target: { alias: "t", type: "string", array: true, describe: "Only these target ids" },
    concurrency: { alias: "c", type: "number", describe: "Pairs run at once (default: the manifest's)" },
    output: { alias: "o", choices: ["text", "json"] as const, default: "text" as const, describe: "Output format" },
  } as const;
  const cli = yargs(argv)
    .scriptName("esc-sync")
    .usage("$0 <command> [options]\n\nSync Pulumi ESC environments into secret stores through the Pulumi Automation API.")
    .command(
      "plan",
      "Show the pairs a sync would run and the entries each writes (no Pulumi call, no values)",
      (y) => y.options(common),
      async (args) => {
        exitCode = await planCommand(args);
      },
    )
    .command(
      "sync",
      "Bring every selected pair up to date (pulumi up per pair)",
      (y) =>
        y.options({
          ...common,
          "dry-run": { type: "boolean", default: false, describe: "Preview: show what would change, change nothing" },
          refresh: { type: "boolean", default: false, describe: "Refresh from the targets first, so that drift is repaired" },
          "backend-url": { type: "string", describe: "Pulumi state backend (default: the manifest's)" },
        }),
      async (args) => {
        exitCode = await syncCommand(args);
      },
    )
    .command(
      "drift",
      "Report what differs between ESC and every target, changing no target (exit 0 in sync, 2 differences, 1 errors)",
      (y) =>
        y.options({
          manifest: common.manifest,
          filter: common.filter,
          target: common.target,
          concurrency: common.concurrency,
          format: { alias: "o", choices: ["table", "markdown", "json", "junit"] as const, default: "table" as const, describe: "Report format" },
          out: { type: "string", describe: "Write the report to this file instead of stdout" },
          "backend-url": { type: "string", describe: "Pulumi state backend (default: the manifest's)" },
        }),
      async (args) => {
        exitCode = await driftCommand(args);
      },
    )
    .command(
      "schema",
      "Print the manifest's JSON Schema (for editors)",
      (y) => y,
      async () => {
        exitCode = schemaCommand();
      },
    );
  await registerMigrate(cli, (code) => (exitCode = code))
    .demandCommand(1, "Name a command: plan, sync, drift, migrate or schema.")
    .strict()
    .help()
    .alias("h", "help")
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      throw new ConfigError(msg);
    })
    .parseAsync();
  return exitCode;
}

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`error: ${err.message}\n`);
    } else {
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.stderr.write(`internal error: ${text}\nThis is a bug in esc-sync: please report it at ${ISSUES_URL}\n`);
    }
    process.exitCode = 1;
  },
);
