/**
 * The command line in process (`runCli`), for what is decided before any manifest is read: each
 * command's own flags (yargs' strict mode, with the nearest declared flag for a misspelt one),
 * unknown commands, value checks; and `cli.ts` runs nothing when imported.
 */
import { describe, expect, it } from "vitest";
import { runCli } from "../../../../orchestrator/cli/program.js";
import { Redactor } from "../../../../orchestrator/redact.js";

async function cli(...args: string[]) {
  let stderr = "";
  const code = await runCli(args, { redactor: new Redactor(), signal: new AbortController().signal, env: {} }, { stderr: (t) => void (stderr += t) });
  return { code, stderr };
}

describe("the command line, in process", () => {
  it("names unknown flags with the nearest one the command declares, and only its own", async () => {
    expect(await cli("sync", "--dryrun", "--bogus")).toEqual({ code: 1, stderr: "error: unknown flags: --dryrun (did you mean --dry-run?), --bogus\nhint: esc-sync --help lists the commands; esc-sync <command> --help their flags\n" });
    // Misspelt with a dash, yargs camel-cases it too: still named once, as typed.
    expect((await cli("sync", "--dry-runn")).stderr).toMatch(/^error: unknown flag: --dry-runn \(did you mean --dry-run\?\)\n/);
    // A flag of another command is unknown here: serve's --listen on sync; sync's --dry-run on inventory.
    expect((await cli("sync", "--listen", "x")).stderr).toMatch(/^error: unknown flag: --listen\n/);
    expect((await cli("inventory", "--dry-run")).stderr).toMatch(/^error: unknown flag: --dry-run\n/);
    // drift's selection flags are not drift merge's.
    expect((await cli("drift", "merge", "--shard", "1/2", "a.json")).stderr).toMatch(/^error: unknown flag: --shard\n/);
  });

  it("migrate adopt declares --esc-rps (it opens every selected environment): its value is checked like everywhere else", async () => {
    expect(await cli("migrate", "adopt", "--esc-rps", "0")).toMatchObject({ code: 1, stderr: expect.stringMatching(/^error: --esc-rps 0: must be a whole number of at least 1\n/) });
    expect((await cli("plan", "--esc-rps", "0")).stderr).toMatch(/^error: --esc-rps 0: must be a whole number of at least 1\n/);
  });

  it("unknown commands: the nearest declared one; a stray argument; a missing subcommand", async () => {
    expect((await cli("synk")).stderr).toMatch(/^error: unknown command: Did you mean sync\?\n/);
    expect((await cli("zzzzzzzz")).stderr).toMatch(/^error: unknown command: zzzzzzzz\n/);
    expect((await cli("sync", "extra")).stderr).toMatch(/^error: Unknown argument: extra\n/);
    expect((await cli("webhook")).stderr).toMatch(/^error: Name a webhook command: register/);
    const none = await cli();
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: Name a command: plan, sync, drift, prune, migrate, inventory, serve, webhook or schema \(esc-sync --help\)\.\n/);
  });

  it("values: whole numbers, durations, exclusive flags; never an internal error", async () => {
    for (const [args, message] of [
      [["serve", "--max-queue", "0"], /--max-queue 0: must be a whole number of at least 1/],
      [["serve", "--reconcile-every", "often"], /--reconcile-every often: must be a duration such as 90s, 15m or 1h30m/],
      [["prune", "--allow-deletes", "--max-deletes", "1"], /--allow-deletes and --max-deletes cannot be used together/],
      [["plan", "--shard", "3/2"], /shard/],
    ] as const) {
      const r = await cli(...args);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stderr, args.join(" ")).toMatch(message);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    }
  });

  it("importing cli.ts runs nothing: it is the program only when node runs it", async () => {
    const before = process.exitCode;
    const cliModule = await import("../../../../orchestrator/cli.js");
    expect(typeof cliModule.main).toBe("function");
    expect(process.exitCode).toBe(before);
  });
});
