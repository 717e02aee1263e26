#!/usr/bin/env node
/**
 * The `esc-sync` command line. Flags are checked here, and errors become exit codes here and
 * only here: 0 every pair succeeded, 1 a pair failed or the input is wrong (a {@link UserError}:
 * its message and hint, no stack trace), 2 (drift) differences found. Any other exception is the
 * only "internal error". The process's signal handlers and its redactor live here too, once.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import type { CommandContext } from "./command-context.js";
import { adoptCommand } from "./commands/adopt.js";
import { driftCommand } from "./commands/drift.js";
import { driftMergeCommand } from "./commands/drift-merge.js";
import { inventoryCommand } from "./commands/inventory.js";
import { importCommand } from "./commands/migrate.js";
import { planCommand } from "./commands/plan.js";
import { pruneCommand } from "./commands/prune.js";
import { pulumiCommand } from "./commands/pulumi.js";
import { schemaCommand } from "./commands/schema.js";
import { serveCommand } from "./commands/serve.js";
import { webhookRegisterCommand } from "./commands/webhook.js";
import { syncCommand } from "./commands/sync.js";
import { DURATION_HINT, parseDuration } from "./duration.js";
import { ConfigError, UserError } from "./errors.js";
import { parseShard } from "./planner/shard.js";
import { nearest } from "./esc-eval/spell.js";
import { Redactor } from "./redact.js";
import { killRun, ownRunMark } from "./runner/processes.js";

const ISSUES_URL = "https://github.com/esc-sync/esc-sync/issues";
const COMMANDS = "plan, sync, drift, prune, inventory, serve, webhook, migrate or schema";

function version(): string {
  const pkg = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "package.json");
  return (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version;
}

/** A whole number at least `min`: what counts and budgets must be. */
function wholeNumber(flag: string, min: number) {
  return (value: unknown): number | undefined => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new ConfigError(`--${flag} ${String(value)}: must be a whole number of at least ${min}`);
    return n;
  };
}

const selection = {
  manifest: { alias: "m", type: "string", default: "environments.yaml", describe: "The manifest file" },
  filter: { alias: "f", type: "string", array: true, describe: "Only environments matching these globs over project/name" },
  target: { alias: "t", type: "string", array: true, describe: "Only these target ids" },
  concurrency: { alias: "c", type: "number", describe: "Pairs run at once (default: the manifest's)", coerce: wholeNumber("concurrency", 1) },
  "backend-url": { type: "string", describe: "Pulumi state backend, e.g. file:///srv/state or s3://bucket (default: the manifest's)" },
  "allow-empty": { type: "boolean", default: false, describe: "Succeed when --filter selects no environment (by default a mistake: exit 1)" },
} as const;
/** `--shard i/n` (plan, sync, drift, prune); in an Indexed Job, JOB_COMPLETION_INDEX and ESC_SYNC_SHARD_COUNT instead. */
const scaleOptions = {
  "esc-rps": { type: "number", describe: "ESC API requests per second, shared by all calls (pulumi-cloud source; default 300); a 429's Retry-After pauses them all", coerce: wholeNumber("esc-rps", 1) },
  shard: { type: "string", describe: "Only this shard's pairs, INDEX/COUNT (e.g. 1/3): n runs share the work; default in an Indexed Job: $JOB_COMPLETION_INDEX/$ESC_SYNC_SHARD_COUNT", coerce: (v: unknown) => (v === undefined ? undefined : parseShard(String(v))) },
} as const;
const output = { output: { alias: "o", choices: ["text", "json"] as const, default: "text" as const, describe: "Output format" } } as const;
/** A duration flag: milliseconds, or a clear error. */
function duration(flag: string) {
  return (value: unknown): number | undefined => {
    if (value === undefined) return undefined;
    const ms = parseDuration(String(value));
    if (ms === undefined) throw new ConfigError(`--${flag} ${String(value)}: must be ${DURATION_HINT}`);
    return ms;
  };
}

/** A duration flag where 0 means "none" (`--debounce 0s`). */
function durationOrZero(flag: string) {
  const parse = duration(flag);
  return (value: unknown): number | undefined => (value !== undefined && /^\s*0+(ms|s|m|h)?\s*$/.test(String(value)) ? 0 : parse(value));
}

const deadlines = {
  "pair-timeout": { type: "string", describe: "Cancel a pair's engine operation after this long, e.g. 15m (default: the manifest's pairTimeout, 15m)", coerce: duration("pair-timeout") },
  timeout: { type: "string", describe: "Cancel the whole run after this long, e.g. 1h: running pairs are interrupted, queued ones skipped", coerce: duration("timeout") },
} as const;

const locks = {
  "stale-lock-minutes": {
    type: "number",
    default: 30,
    describe: "A lock from another host older than this is stale and cleared (a lock of a dead process on this host always is); 0: never",
    coerce: wholeNumber("stale-lock-minutes", 0),
  },
  "lock-wait-seconds": { type: "number", default: 60, describe: "How long to wait for a stack locked by a live run before failing the pair", coerce: wholeNumber("lock-wait-seconds", 0) },
  ...deadlines,
} as const;
const deletions = {
  "allow-deletes": { type: "boolean", default: false, describe: "Delete target entries whose key, environment or binding is gone (moves included)" },
  "max-deletes": { type: "number", describe: "Delete at most this many target entries in all; pairs over the budget are held", coerce: wholeNumber("max-deletes", 0) },
} as const;

/** Options of a command that its subcommands do not inherit (yargs' options are global by default). */
function onlyHere<T extends Record<string, object>>(options: T): { [K in keyof T]: T[K] & { global: false } } {
  return Object.fromEntries(Object.entries(options).map(([k, o]) => [k, { ...o, global: false }])) as { [K in keyof T]: T[K] & { global: false } };
}

/** Every flag esc-sync knows, for suggestions. */
const KNOWN_FLAGS = ["manifest", "filter", "target", "concurrency", "backend-url", "allow-empty", "output", "format", "out", "dry-run", "refresh", "force", "allow-deletes", "max-deletes", "stale-lock-minutes", "lock-wait-seconds", "pair-timeout", "timeout", "from", "into", "prefix", "strip-prefix", "path", "json-as", "overwrite", "max-bytes", "secret", "shard", "esc-rps", "listen", "reconcile-every", "debounce", "shutdown-grace", "max-queue", "watch", "insecure-no-verify", "notify", "url", "name", "help", "version"];

/** yargs' "Unknown argument: dryrun", with the flag that was probably meant. */
function withFlagSuggestions(text: string): string {
  const m = /^Unknown arguments?: (.+)$/.exec(text);
  if (!m) return text;
  const parts = m[1]!.split(", ").map((name) => {
    const meant = nearest(name, KNOWN_FLAGS);
    return meant ? `--${name} (did you mean --${meant}?)` : `--${name}`;
  });
  return `unknown flag${parts.length > 1 ? "s" : ""}: ${parts.join(", ")}`;
}

/** Checks what the flags' types cannot: globs that select nothing by construction, backend URLs. */
function checkCommon(args: { filter?: string[] | undefined; "backend-url"?: string | undefined; "allow-deletes"?: boolean; "max-deletes"?: number | undefined; out?: string | undefined }): true {
  if (args.filter !== undefined && args.filter.length === 0) throw new ConfigError("--filter needs a glob over project/name, e.g. --filter 'payments/*'");
  if (args.out !== undefined) {
    const dir = dirname(resolve(args.out));
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(`--out ${args.out}: the folder ${dir} does not exist: create it first`);
  }
  if (args["allow-deletes"] && args["max-deletes"] !== undefined) {
    throw new ConfigError("--allow-deletes and --max-deletes cannot be used together: --allow-deletes allows every deletion, --max-deletes N at most N in all; choose one");
  }
  for (const f of args.filter ?? []) {
    if (f.trim() === "") throw new ConfigError("--filter needs a glob over project/name, e.g. --filter 'payments/*'");
  }
  const url = args["backend-url"];
  if (url !== undefined && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new ConfigError(`--backend-url ${url}: not a URL; use file:///absolute/path, file://./relative/path, s3://bucket, gs://bucket, azblob://container or https://api.pulumi.com`);
  }
  return true;
}

function build(argv: string[], ctx: CommandContext, setExitCode: (code: number) => void): Argv {
  const run = (fn: () => Promise<number> | number) => async () => setExitCode(await fn());
  return yargs(argv)
    .scriptName("esc-sync")
    .usage("$0 <command> [options]\n\nSync Pulumi ESC environments into secret stores through the Pulumi Automation API.")
    .command(
      "plan",
      "Show the run plan of a sync: each pair, the entries it writes and what a sync would do (reads the state; changes nothing)",
      (y) => y.options({ ...selection, ...scaleOptions, ...output, refresh: { type: "boolean", default: false }, force: { type: "boolean", default: false }, ...deletions }).check(checkCommon),
      (args) => run(() => planCommand({ ...args, backendUrl: args["backend-url"], escRps: (args as { "esc-rps"?: number })["esc-rps"], allowEmpty: args["allow-empty"], allowDeletes: args["allow-deletes"], maxDeletes: args["max-deletes"] }, ctx))(),
    )
    .command(
      "sync",
      "Bring every selected pair up to date (pulumi up per pair whose input changed)",
      (y) =>
        y
          .options({
            ...selection,
            ...scaleOptions,
            ...output,
            "dry-run": { type: "boolean", default: false, describe: "Show the run plan and preview what would change; change nothing, write no state" },
            refresh: { type: "boolean", default: false, describe: "Refresh from the targets first, so that drift is repaired" },
            force: { type: "boolean", default: false, describe: "Run pulumi up for every pair, even those whose input is unchanged since their last update" },
            ...locks,
            ...deletions,
          })
          .check(checkCommon),
      (args) =>
        run(() =>
          syncCommand(
            { ...args, dryRun: args["dry-run"], backendUrl: args["backend-url"], escRps: (args as { "esc-rps"?: number })["esc-rps"], allowEmpty: args["allow-empty"], allowDeletes: args["allow-deletes"], maxDeletes: args["max-deletes"], staleLockMinutes: args["stale-lock-minutes"], lockWaitSeconds: args["lock-wait-seconds"], pairTimeoutMs: args["pair-timeout"], timeoutMs: args.timeout },
            ctx,
          ),
        )(),
    )
    .command(
      "drift",
      "Report what differs between ESC and every target, changing no target (exit 0 in sync, 2 differences, 1 errors)",
      (y) =>
        y
          .command(
            "merge <reports..>",
            "Merge the JSON drift reports of several shards (drift --shard i/n --output json) into one report",
            (m) =>
              m
                .positional("reports", { type: "string", array: true, demandOption: true, describe: "The shards' JSON reports" })
                .options({ output: { alias: ["o"], choices: ["table", "markdown", "json", "junit"] as const, default: "table" as const, describe: "Report format" }, out: { type: "string", describe: "Write the report to this file instead of stdout" } })
                .check(checkCommon),
            (args) => run(() => driftMergeCommand({ reports: (args.reports ?? []).map(String), output: args.output, out: args.out }, ctx))(),
          )
          // Not global: `drift merge` reads files, and takes none of these.
          .options(
            onlyHere({
              ...selection,
              ...scaleOptions,
              output: { alias: ["o", "format"], choices: ["table", "markdown", "json", "junit"] as const, default: "table" as const, describe: "Report format (--format is a deprecated alias)" },
              out: { type: "string", describe: "Write the report to this file instead of stdout" },
              ...locks,
            }),
          )
          .check(checkCommon, false),
      (args) =>
        run(() => driftCommand({ ...args, backendUrl: args["backend-url"], escRps: (args as { "esc-rps"?: number })["esc-rps"], allowEmpty: args["allow-empty"], staleLockMinutes: args["stale-lock-minutes"], lockWaitSeconds: args["lock-wait-seconds"], pairTimeoutMs: args["pair-timeout"], timeoutMs: args.timeout }, ctx))(),
    )
    .command(
      "prune",
      "Remove the stacks (and the entries they wrote) of environments and bindings that no longer exist",
      (y) =>
        y
          .options({ ...selection, ...scaleOptions, ...output, ...locks, ...deletions, "dry-run": { type: "boolean", default: false, describe: "List what would be removed, remove nothing" } })
          .check(checkCommon),
      (args) =>
        run(() =>
          pruneCommand(
            { ...args, dryRun: args["dry-run"], backendUrl: args["backend-url"], escRps: (args as { "esc-rps"?: number })["esc-rps"], allowEmpty: args["allow-empty"], allowDeletes: args["allow-deletes"], maxDeletes: args["max-deletes"], staleLockMinutes: args["stale-lock-minutes"], lockWaitSeconds: args["lock-wait-seconds"], pairTimeoutMs: args["pair-timeout"], timeoutMs: args.timeout },
            ctx,
          ),
        )(),
    )
    .command("migrate", "Bring existing secrets under ESC: import them from a store, or adopt entries that already exist in targets", (m) =>
      m
        .command(
          "import",
          "Copy a store's secrets into an ESC environment as fn::secret values (merges; never overwrites an edit made meanwhile)",
          (c) =>
            c.options({
              manifest: selection.manifest,
              from: { type: "string", demandOption: true, describe: "Id of the target (in the manifest) whose store is read" },
              into: { type: "string", demandOption: true, describe: "The ESC environment written: org/project/env (or project/env)" },
              prefix: { type: "string", describe: "Only names starting with this (e.g. /prod/app/)" },
              filter: { alias: "f", type: "string", array: true, describe: "Only names matching these globs (e.g. 'prod/app/*')" },
              "strip-prefix": { type: "string", describe: "Removed from names to make the keys (default: --prefix; '' keeps names whole)" },
              path: { type: "string", default: "environmentVariables", describe: "Property path under values: where the keys go ('' = values itself)" },
              "json-as": { choices: ["string", "object"] as const, default: "string" as const, describe: "A JSON secret becomes its text (string) or nested values, each leaf secret (object)" },
              overwrite: { type: "boolean", default: false, describe: "Replace keys whose value differs, instead of reporting conflicts" },
              "max-bytes": { type: "number", default: 65536, describe: "Skip larger values", coerce: wholeNumber("max-bytes", 1) },
              "dry-run": { type: "boolean", default: false, describe: "Show the keys that would be added or changed (never values); write nothing" },
              ...output,
            }),
          (args) => run(() => importCommand({ ...args, "max-bytes": args["max-bytes"] ?? 65536 }, ctx))(),
        )
        .command(
          "adopt",
          "Take over entries that already exist in the targets (Pulumi import) instead of creating them; the next sync writes ESC's values",
          (c) =>
            c
              .options({
                ...selection,
                ...output,
                ...locks,
                "dry-run": { type: "boolean", default: false, describe: "List what would be adopted and what differs from ESC (fingerprints); change nothing" },
              })
              .check(checkCommon),
          (args) =>
            run(() =>
              adoptCommand({ ...args, dryRun: args["dry-run"], backendUrl: args["backend-url"], escRps: (args as { "esc-rps"?: number })["esc-rps"], allowEmpty: args["allow-empty"], staleLockMinutes: args["stale-lock-minutes"], lockWaitSeconds: args["lock-wait-seconds"], pairTimeoutMs: args["pair-timeout"], timeoutMs: args.timeout }, ctx),
            )(),
        )
        .demandCommand(1, "Name a migrate command: import or adopt (esc-sync migrate --help)."),
    )
    .command(
      "inventory",
      "List where every entry lives and where its value comes from (records and plan only: no store read, no value printed)",
      (y) =>
        y
          .options({
            ...selection,
            secret: { type: "string", describe: "Only entries derived from this value: ORG/PROJECT/ENV:PATH (through imports, interpolation, fn::)" },
            output: { alias: ["o", "format"], choices: ["table", "json", "csv", "markdown"] as const, default: "table" as const, describe: "Output format" },
            out: { type: "string", describe: "Write the inventory to this file (mode 0600) instead of stdout" },
          })
          .check(checkCommon),
      (args) => run(() => inventoryCommand({ ...args, backendUrl: args["backend-url"], allowEmpty: args["allow-empty"] }, ctx))(),
    )
    .command(
      "serve",
      "Keep every selected pair in sync: react to ESC webhooks (or --watch the local folder) within seconds, reconcile periodically",
      (y) =>
        y
          .options({
            ...selection,
            listen: { type: "string", default: "127.0.0.1:8080", describe: "host:port to listen on (0.0.0.0:8080 in a container)" },
            "reconcile-every": { type: "string", default: "15m", describe: "A full reconcile this often (and at start): catches lost webhooks", coerce: duration("reconcile-every") },
            debounce: { type: "string", default: "2s", describe: "An environment synced less than this ago waits: a burst of edits gives two syncs at most", coerce: durationOrZero("debounce") },
            "shutdown-grace": { type: "string", default: "30s", describe: "On SIGTERM, the running sync may finish within this; then it is cancelled", coerce: durationOrZero("shutdown-grace") },
            "max-queue": { type: "number", default: 1000, describe: "Environments waiting at most; past that a webhook gets 503 with Retry-After", coerce: wholeNumber("max-queue", 1) },
            watch: { type: "boolean", default: false, describe: "Watch the local source's folder for changes (no webhooks needed)" },
            "insecure-no-verify": { type: "boolean", default: false, describe: "Accept unsigned webhook deliveries (local development only)" },
            notify: { type: "string", array: true, describe: "POST a short JSON message here when a pair fails or is held, and when it recovers (repeatable; slack:URL or a hooks.slack.com URL: Slack format)" },
            "esc-rps": scaleOptions["esc-rps"],
            "stale-lock-minutes": locks["stale-lock-minutes"],
            "lock-wait-seconds": locks["lock-wait-seconds"],
            "pair-timeout": deadlines["pair-timeout"],
            ...deletions,
          })
          .check(checkCommon),
      (args) =>
        run(() =>
          serveCommand(
            {
              ...args,
              backendUrl: args["backend-url"],
              allowEmpty: args["allow-empty"],
              allowDeletes: args["allow-deletes"],
              maxDeletes: args["max-deletes"],
              staleLockMinutes: args["stale-lock-minutes"],
              lockWaitSeconds: args["lock-wait-seconds"],
              pairTimeoutMs: args["pair-timeout"],
              reconcileEveryMs: args["reconcile-every"]!,
              debounceMs: args.debounce!,
              shutdownGraceMs: args["shutdown-grace"]!,
              maxQueue: args["max-queue"]!,
              insecureNoVerify: args["insecure-no-verify"],
              escRps: args["esc-rps"],
            },
            ctx,
          ),
        )(),
    )
    .command("webhook", "Manage the ESC webhook serve listens to", (w) =>
      w
        .command(
          "register",
          "Create the organisation webhook that sends every environment event to serve's URL, signed with ESC_SYNC_WEBHOOK_SECRET",
          (c) =>
            c.options({
              manifest: selection.manifest,
              url: { type: "string", demandOption: true, describe: "serve's webhook URL as Pulumi Cloud reaches it, e.g. https://esc-sync.example.com/webhooks/esc" },
              name: { type: "string", default: "esc-sync", describe: "The webhook's display name" },
              ...output,
            }),
          (args) => run(() => webhookRegisterCommand(args, ctx))(),
        )
        .demandCommand(1, "Name a webhook command: register (esc-sync webhook --help)."),
    )
    .command("schema", "Print the manifest's JSON Schema (for editors)", (y) => y, () => run(() => schemaCommand())())
    // Handled before parsing (its arguments are Pulumi's); listed here for --help.
    .command("pulumi <args..>", "Run the Pulumi CLI esc-sync uses, pointed at the manifest's backend: esc-sync pulumi stack ls --all", (y) => y, () => undefined)
    .demandCommand(1, `Name a command: ${COMMANDS} (esc-sync --help).`)
    .recommendCommands()
    .strict()
    .help()
    .alias("h", "help")
    .version(version())
    .alias("v", "version")
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      // yargs reports its own checks (and our coerce/check functions) as YError: the user's to fix.
      if (err && err.name !== "YError" && !(err instanceof UserError)) throw err;
      if (err instanceof UserError) throw err;
      const text = err?.message ?? msg;
      throw new ConfigError(text.startsWith("Did you mean") ? `unknown command: ${text}` : withFlagSuggestions(text), [], "esc-sync --help lists the commands; esc-sync <command> --help their flags");
    });
}

async function main(argv: string[]): Promise<number> {
  const redactor = new Redactor().add(process.env.PULUMI_ACCESS_TOKEN, process.env.PULUMI_CONFIG_PASSPHRASE);
  // One handler for the whole process: the first signal stops launching pairs and interrupts the
  // running ones (their locks released); a second exits at once.
  const controller = new AbortController();
  let signals = 0;
  // A command may take the notices over (serve logs them as JSON lines).
  const say = (text: string) => (ctx.notice ? ctx.notice(text) : process.stderr.write(text));
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      // No process of the run may outlive it: its CLIs and providers go first.
      killRun(ownRunMark(), "SIGKILL");
      say(`\n${sig} again: exiting now; stacks still running may stay locked (the next run clears stale locks)\n`);
      process.exit(130);
    }
    // Abort first: a live table erases itself, so that this message does not land inside it.
    controller.abort();
    say(`\n${sig}: stopping; running pairs are being interrupted (press again to exit at once)\n`);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const ctx: CommandContext = {
    redactor,
    signal: controller.signal,
    env: process.env,
    // --timeout: the whole run's deadline, armed when the command starts.
    startDeadline: (ms) => {
      const timer = setTimeout(() => {
        process.stderr.write(`\nthe run's --timeout has passed: stopping; running pairs are being interrupted\n`);
        controller.abort();
      }, ms);
      timer.unref();
    },
  };
  let exitCode = 0;
  try {
    if (argv[0] === "pulumi") {
      // Everything after `pulumi` is Pulumi's: no parsing of ours may eat its flags.
      return await pulumiCommand({ manifest: ctx.env.ESC_SYNC_MANIFEST ?? "environments.yaml", args: argv.slice(1) }, ctx);
    }
    // `--format` (drift, inventory) still works, but says what replaces it.
    if (argv.some((a) => a === "--format" || a.startsWith("--format="))) process.stderr.write("warning: --format is deprecated: use --output (or -o)\n");
    await build(argv, ctx, (code) => (exitCode = code)).parseAsync();
    return exitCode;
  } catch (err) {
    // Every value learnt so far is hidden here too: errors from SDKs and the CLI can carry them.
    if (err instanceof UserError) {
      process.stderr.write(redactor.text(`error: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ""}`));
      return err.exitCode;
    }
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(redactor.text(`internal error: ${text}\nThis is a bug in esc-sync: please report it at ${ISSUES_URL}\n`));
    return 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

main(hideBin(process.argv)).then((code) => {
  process.exitCode = code;
});
