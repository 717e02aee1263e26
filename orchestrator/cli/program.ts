/**
 * The `esc-sync` command line without the process: parse, check, dispatch, and turn errors into
 * exit codes, here and only here: 0 every pair succeeded, 1 a pair failed or the input is wrong
 * (a {@link UserError}: its message and hint, no stack trace), 2 (drift) differences found; any
 * other exception is the only "internal error". Each command declares its own options (the
 * handler's arguments are typed from them), yargs' strict mode refuses what a command does not
 * declare, and a flag it does not know gets the nearest one it does. Importable: tests run the
 * whole command line in process; `cli.ts` adds the process (signals, exit code).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import yargs, { type ArgumentsCamelCase, type Argv, type Options } from "yargs";
import type { CommandContext } from "../command-context.js";
import { adoptCommand } from "../commands/adopt.js";
import { driftCommand } from "../commands/drift.js";
import { driftMergeCommand } from "../commands/drift-merge.js";
import { inventoryCommand } from "../commands/inventory.js";
import { importCommand } from "../commands/migrate.js";
import { planCommand } from "../commands/plan.js";
import { pruneCommand } from "../commands/prune.js";
import { pulumiCommand } from "../commands/pulumi.js";
import { schemaCommand } from "../commands/schema.js";
import { serveCommand } from "../commands/serve.js";
import { syncCommand } from "../commands/sync.js";
import { webhookRegisterCommand } from "../commands/webhook.js";
import { ConfigError, UserError } from "../errors.js";
import { REPO_ROOT } from "../runner/toolchain.js";
import { nearest } from "../suggest.js";
import { checkCommon, deletions, dryRun, duration, durationOrZero, escRate, lockOptions, locks, deadlines, manifestOption, onlyHere, selection, shard, textOrJson, wholeNumber } from "./options.js";

const ISSUES_URL = "https://github.com/esc-sync/esc-sync/issues";
const HELP_HINT = "esc-sync --help lists the commands; esc-sync <command> --help their flags";

function version(): string {
  return (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;
}

/** Where the command line's own words go (commands write their output themselves). */
export interface CliIo {
  stderr: (text: string) => void;
}

/**
 * Refuses, before yargs' own checks, a flag the command does not declare, with the one it most
 * likely meant (`--dryrun`: did you mean --dry-run?). yargs' strict mode stays behind it for what
 * is not a flag (a stray positional argument). `declared` is the command's own option object.
 */
function rejectUnknownFlags(argv: object, parsed: Argv["parsed"], declared: readonly string[]): void {
  if (!parsed) return;
  // What the command declares, with its aliases and yargs' camel-case keys (`dryRun`).
  const flags = [...declared, "help", "version"];
  const known = new Set(["_", "$0", ...flags, ...flags.flatMap((k) => parsed.aliases[k] ?? [])]);
  const unknown = Object.keys(argv).filter((k) => !known.has(k));
  // `--dry-runn` arrives twice (as given, and camel-cased by yargs): name it as given.
  const given = unknown.filter((k) => !unknown.some((o) => o !== k && (parsed.aliases[o] ?? []).includes(k) && o.includes("-")));
  if (given.length === 0) return;
  const parts = given.map((name) => {
    const meant = nearest(name, flags);
    return meant ? `--${name} (did you mean --${meant}?)` : `--${name}`;
  });
  throw new ConfigError(`unknown flag${parts.length > 1 ? "s" : ""}: ${parts.join(", ")}`, [], HELP_HINT);
}

interface Declared {
  /** Positional arguments the command takes (`drift merge <reports..>`). */
  positionals?: readonly string[];
  /** Its subcommands, whose own checks apply when one of them runs. */
  subcommands?: readonly string[];
}

/** A command's options, declared; a flag it does not declare is named (with the nearest it does). */
function own<T, O extends { [key: string]: Options }>(y: Argv<T>, options: O, more: Declared = {}) {
  const declared = [...Object.keys(options), ...(more.positionals ?? [])];
  return y.options(options).middleware((argv) => {
    if (!more.subcommands?.some((s) => argv._.includes(s))) rejectUnknownFlags(argv, y.parsed, declared);
  }, true);
}

/** …and the value checks commands that select pairs share. */
function selecting<T, O extends { [key: string]: Options }>(y: Argv<T>, options: O, more: Declared = {}) {
  return own(y, options, more).check((argv) => checkCommon(argv));
}

/** `synk`: the command meant, from the commands declared (yargs' own suggestion is text only). */
function checkCommandName(argv: readonly string[], commands: readonly string[]): void {
  const first = argv[0];
  if (first === undefined || first.startsWith("-") || commands.includes(first)) return;
  const meant = nearest(first, commands);
  throw new ConfigError(meant ? `unknown command: Did you mean ${meant}?` : `unknown command: ${first}`, [], HELP_HINT);
}

/** "a, b or c". */
function oneOf(names: readonly string[]): string {
  return names.length > 1 ? `${names.slice(0, -1).join(", ")} or ${names.at(-1)}` : (names[0] ?? "");
}

/** The parser, and the names of the commands it declares. */
function build(argv: string[], ctx: CommandContext, setExitCode: (code: number) => void): { cli: Argv; commands: string[] } {
  const run = (fn: () => Promise<number> | number) => async () => setExitCode(await fn());
  const commands: string[] = [];
  const cli = yargs(argv)
    .scriptName("esc-sync")
    .usage("$0 <command> [options]\n\nSync Pulumi ESC environments into secret stores through the Pulumi Automation API.");
  // Each top-level command is declared once, through this: its name is known from its declaration.
  const command = <U>(name: string, describe: string, builder: (y: Argv) => Argv<U>, handler?: (args: ArgumentsCamelCase<U>) => void | Promise<void>) => {
    commands.push(name.split(" ")[0]!);
    if (handler) cli.command(name, describe, builder, handler);
    else cli.command(name, describe, builder);
  };
  command(
    "plan",
    "Show the run plan of a sync: each pair, the entries it writes and what a sync would do (reads the state; changes nothing)",
    (y) => selecting(y, { ...selection, ...escRate, ...shard, ...textOrJson, refresh: { type: "boolean", default: false }, force: { type: "boolean", default: false }, ...deletions }),
    (args) => run(() => planCommand(args, ctx))(),
  );
  command(
    "sync",
    "Bring every selected pair up to date (pulumi up per pair whose input changed)",
    (y) =>
      selecting(y, {
          ...selection,
          ...escRate,
          ...shard,
          ...textOrJson,
          ...dryRun("Show the run plan and preview what would change; change nothing, write no state"),
          refresh: { type: "boolean", default: false, describe: "Refresh from the targets first, so that drift is repaired" },
          force: { type: "boolean", default: false, describe: "Run pulumi up for every pair, even those whose input is unchanged since their last update" },
          ...locks,
          ...deletions,
        }),
    (args) => run(() => syncCommand(args, ctx))(),
  );
  command(
    "drift",
    "Report what differs between ESC and every target, changing no target (exit 0 in sync, 2 differences, 1 errors)",
    (y) =>
      selecting(
        y
          .command(
            "merge <reports..>",
            "Merge the JSON drift reports of several shards (drift --shard i/n --output json) into one report",
            (m) =>
              selecting(
                m.positional("reports", { type: "string", array: true, demandOption: true, describe: "The shards' JSON reports" }),
                { output: { alias: ["o"], choices: ["table", "markdown", "json", "junit"] as const, default: "table" as const, describe: "Report format" }, out: { type: "string", describe: "Write the report to this file instead of stdout" } },
                { positionals: ["reports"] },
              ),
            (args) => run(() => driftMergeCommand({ ...args, reports: args.reports.map(String) }, ctx))(),
          ),
        // Not global: `drift merge` reads files, and takes none of these.
        onlyHere({
          ...selection,
          ...escRate,
          ...shard,
          output: { alias: ["o", "format"], choices: ["table", "markdown", "json", "junit"] as const, default: "table" as const, describe: "Report format (--format is a deprecated alias)" },
          out: { type: "string", describe: "Write the report to this file instead of stdout" },
          ...locks,
        }),
        { subcommands: ["merge"] },
      ),
    (args) => run(() => driftCommand(args, ctx))(),
  );
  command(
    "prune",
    "Remove the stacks (and the entries they wrote) of environments and bindings that no longer exist",
    (y) => selecting(y, { ...selection, ...escRate, ...shard, ...textOrJson, ...locks, ...deletions, ...dryRun("List what would be removed, remove nothing") }),
    (args) => run(() => pruneCommand(args, ctx))(),
  );
  command("migrate", "Bring existing secrets under ESC: import them from a store, or adopt entries that already exist in targets", (m) =>
    m
      .command(
        "import",
        "Copy a store's secrets into an ESC environment as fn::secret values (merges; never overwrites an edit made meanwhile)",
        (c) =>
          own(c, {
              ...manifestOption,
              from: { type: "string", demandOption: true, describe: "Id of the target (in the manifest) whose store is read" },
              into: { type: "string", demandOption: true, describe: "The ESC environment written: org/project/env (or project/env)" },
              prefix: { type: "string", describe: "Only names starting with this (e.g. /prod/app/)" },
              filter: { alias: "f", type: "string", array: true, describe: "Only names matching these globs (e.g. 'prod/app/*')" },
              "strip-prefix": { type: "string", describe: "Removed from names to make the keys (default: --prefix; '' keeps names whole)" },
              path: { type: "string", default: "environmentVariables", describe: "Property path under values: where the keys go ('' = values itself)" },
              "json-as": { choices: ["string", "object"] as const, default: "string" as const, describe: "A JSON secret becomes its text (string) or nested values, each leaf secret (object)" },
              overwrite: { type: "boolean", default: false, describe: "Replace keys whose value differs, instead of reporting conflicts" },
              "max-bytes": { type: "number", default: 65536, describe: "Skip larger values", coerce: wholeNumber("max-bytes", 1) },
              ...dryRun("Show the keys that would be added or changed (never values); write nothing"),
              ...textOrJson,
            }),
        (args) => run(() => importCommand({ ...args, maxBytes: args.maxBytes ?? 65536 }, ctx))(),
      )
      .command(
        "adopt",
        "Take over entries that already exist in the targets (Pulumi import) instead of creating them; the next sync writes ESC's values",
        // --esc-rps: adoption opens every selected environment, as a plan does.
        (c) => selecting(c, { ...selection, ...escRate, ...textOrJson, ...locks, ...dryRun("List what would be adopted and what differs from ESC (fingerprints); change nothing") }),
        (args) => run(() => adoptCommand(args, ctx))(),
      )
      .demandCommand(1, "Name a migrate command: import or adopt (esc-sync migrate --help)."),
  );
  command(
    "inventory",
    "List where every entry lives and where its value comes from (records and plan only: no store read, no value printed)",
    (y) =>
      selecting(y, {
          ...selection,
          secret: { type: "string", describe: "Only entries derived from this value: ORG/PROJECT/ENV:PATH (through imports, interpolation, fn::)" },
          output: { alias: ["o", "format"], choices: ["table", "json", "csv", "markdown"] as const, default: "table" as const, describe: "Output format" },
          out: { type: "string", describe: "Write the inventory to this file (mode 0600) instead of stdout" },
        }),
    (args) => run(() => inventoryCommand(args, ctx))(),
  );
  command(
    "serve",
    "Keep every selected pair in sync: react to ESC webhooks (or --watch the local folder) within seconds, reconcile periodically",
    (y) =>
      selecting(y, {
          ...selection,
          listen: { type: "string", default: "127.0.0.1:8080", describe: "host:port to listen on (0.0.0.0:8080 in a container)" },
          "reconcile-every": { type: "string", default: "15m", describe: "A full reconcile this often (and at start): catches lost webhooks", coerce: duration("reconcile-every") },
          debounce: { type: "string", default: "2s", describe: "An environment synced less than this ago waits: a burst of edits gives two syncs at most", coerce: durationOrZero("debounce") },
          "shutdown-grace": { type: "string", default: "30s", describe: "On SIGTERM, the running sync may finish within this; then it is cancelled", coerce: durationOrZero("shutdown-grace") },
          "max-queue": { type: "number", default: 1000, describe: "Environments waiting at most; past that a webhook gets 503 with Retry-After", coerce: wholeNumber("max-queue", 1) },
          watch: { type: "boolean", default: false, describe: "Watch the local source's folder for changes (no webhooks needed)" },
          "insecure-no-verify": { type: "boolean", default: false, describe: "Accept unsigned webhook deliveries (local development only)" },
          notify: { type: "string", array: true, describe: "POST a short JSON message here when a pair fails or is held, and when it recovers (repeatable; slack:URL or a hooks.slack.com URL: Slack format)" },
          ...escRate,
          ...lockOptions,
          "pair-timeout": deadlines["pair-timeout"],
          ...deletions,
        }),
    (args) => run(() => serveCommand({ ...args, reconcileEvery: args.reconcileEvery!, debounce: args.debounce!, shutdownGrace: args.shutdownGrace!, maxQueue: args.maxQueue! }, ctx))(),
  );
  command("webhook", "Manage the ESC webhook serve listens to", (w) =>
    w
      .command(
        "register",
        "Create the organisation webhook that sends every environment event to serve's URL, signed with ESC_SYNC_WEBHOOK_SECRET",
        (c) =>
          own(c, {
              ...manifestOption,
              url: { type: "string", demandOption: true, describe: "serve's webhook URL as Pulumi Cloud reaches it, e.g. https://esc-sync.example.com/webhooks/esc" },
              name: { type: "string", default: "esc-sync", describe: "The webhook's display name" },
              ...textOrJson,
            }),
        (args) => run(() => webhookRegisterCommand(args, ctx))(),
      )
      .demandCommand(1, "Name a webhook command: register (esc-sync webhook --help)."),
  );
  command("schema", "Print the manifest's JSON Schema (for editors)", (y) => own(y, {}), () => run(() => schemaCommand())());
  // Handled before parsing (its arguments are Pulumi's); listed here for --help.
  command("pulumi <args..>", "Run the Pulumi CLI esc-sync uses, pointed at the manifest's backend: esc-sync pulumi stack ls --all", (y) => y, () => undefined);
  cli
    .demandCommand(1, `Name a command: ${oneOf(commands.filter((c) => c !== "pulumi"))} (esc-sync --help).`)
    .strict()
    .help()
    .alias("h", "help")
    .version(version())
    .alias("v", "version")
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
    // Our own checks (coerce, check, the unknown-flag hook) throw UserErrors: as they are.
    if (err instanceof UserError) throw err;
    // yargs reports its own checks as YError: the user's to fix. Anything else is a bug.
    if (err && err.name !== "YError") throw err;
    throw new ConfigError(err?.message ?? msg, [], HELP_HINT);
    });
  return { cli, commands };
}

/**
 * Runs one command line: parses `argv` (without the node and script paths), runs the command,
 * and returns its exit code. Never throws: a {@link UserError} is printed with its hint, anything
 * else as an internal error, both through the redactor.
 */
export async function runCli(argv: string[], ctx: CommandContext, io: CliIo = { stderr: (t) => void process.stderr.write(t) }): Promise<number> {
  let exitCode = 0;
  try {
    if (argv[0] === "pulumi") {
    // Everything after `pulumi` is Pulumi's: no parsing of ours may eat its flags.
    return await pulumiCommand({ manifest: ctx.env.ESC_SYNC_MANIFEST ?? "environments.yaml", args: argv.slice(1) }, ctx);
    }
    const { cli, commands } = build(argv, ctx, (code) => (exitCode = code));
    checkCommandName(argv, commands);
    // `--format` (drift, inventory) still works, but says what replaces it.
    if (argv.some((a) => a === "--format" || a.startsWith("--format="))) io.stderr("warning: --format is deprecated: use --output (or -o)\n");
    await cli.parseAsync();
    return exitCode;
  } catch (err) {
    // Every value learnt so far is hidden here too: errors from SDKs and the CLI can carry them.
    if (err instanceof UserError) {
    io.stderr(ctx.redactor.text(`error: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ""}`));
    return err.exitCode;
    }
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    io.stderr(ctx.redactor.text(`internal error: ${text}\nThis is a bug in esc-sync: please report it at ${ISSUES_URL}\n`));
    return 1;
  }
}
