#!/usr/bin/env node
/**
 * The `esc-sync` command line. Errors become exit codes here and only here:
 * 0 every pair succeeded, 1 a pair failed or the input is wrong, 2 (drift) differences found.
 */
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { ConfigError } from "./errors.js";
import { processRedactor } from "./redact.js";
import { planCommand } from "./commands/plan.js";
import { syncCommand } from "./commands/sync.js";
import { driftCommand } from "./commands/drift.js";
import { pruneCommand } from "./commands/prune.js";
import { schemaCommand } from "./commands/schema.js";
import { registerMigrate } from "./commands/migrate.js";

const ISSUES_URL = "https://github.com/esc-sync/esc-sync/issues";

async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const selection = {
    manifest: { alias: "m", type: "string", default: "environments.yaml", describe: "The manifest" },
    filter: { alias: "f", type: "string", array: true, describe: "Only environments matching these globs over project/name" },
    target: { alias: "t", type: "string", array: true, describe: "Only these target ids" },
    concurrency: { alias: "c", type: "number", describe: "Pairs run at once (default: the manifest's)" },
  } as const;
  const common = {
    ...selection,
    output: { alias: "o", choices: ["text", "json"] as const, default: "text" as const, describe: "Output format" },
  } as const;
  const runFlags = {
    "backend-url": { type: "string", describe: "Pulumi state backend (default: the manifest's)" },
    "stale-lock-minutes": {
      type: "number",
      default: 30,
      describe: "A lock from another host older than this is stale and cleared (a lock of a dead process on this host always is); 0: never",
    },
    "lock-wait-seconds": { type: "number", default: 60, describe: "How long to wait for a stack locked by a live run before failing the pair" },
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
          force: { type: "boolean", default: false, describe: "Run pulumi up for every pair, even those whose input is unchanged since their last update" },
          ...runFlags,
          "allow-deletes": { type: "boolean", default: false, describe: "Delete target entries whose key, environment or binding is gone" },
          "max-deletes": { type: "number", describe: "Delete at most this many target entries in all; pairs over the budget are held back" },
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
          ...selection,
          format: { alias: "o", choices: ["table", "markdown", "json", "junit"] as const, default: "table" as const, describe: "Report format" },
          out: { type: "string", describe: "Write the report to this file instead of stdout" },
          ...runFlags,
        }),
      async (args) => {
        exitCode = await driftCommand(args);
      },
    )
    .command(
      "prune",
      "Remove the stacks (and the entries they wrote) of environments and bindings that no longer exist",
      (y) =>
        y.options({
          ...common,
          ...runFlags,
          "allow-deletes": { type: "boolean", default: false, describe: "Delete the entries of every orphaned stack" },
          "max-deletes": { type: "number", describe: "Delete at most this many entries in all" },
          "dry-run": { type: "boolean", default: false, describe: "List what would be removed, remove nothing" },
        }),
      async (args) => {
        exitCode = await pruneCommand({ ...args, refresh: false });
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
    // The token and every value learnt so far are hidden here too: errors from SDKs and the
    // Pulumi CLI can carry them.
    processRedactor.add(process.env.PULUMI_ACCESS_TOKEN, process.env.PULUMI_CONFIG_PASSPHRASE);
    if (err instanceof ConfigError) {
      process.stderr.write(processRedactor.text(`error: ${err.message}\n`));
    } else {
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.stderr.write(processRedactor.text(`internal error: ${text}\nThis is a bug in esc-sync: please report it at ${ISSUES_URL}\n`));
    }
    process.exitCode = 1;
  },
);
