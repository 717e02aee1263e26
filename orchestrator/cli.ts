#!/usr/bin/env node
/**
 * The `esc-sync` process: its signal handlers, its redactor and its exit code, once. What a
 * command line means (parsing, dispatch, errors to exit codes) is `cli/program.ts`'s `runCli`,
 * which tests import and run in process; this module runs it only when it is the program itself.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { hideBin } from "yargs/helpers";
import { runCli } from "./cli/program.js";
import type { CommandContext } from "./command-context.js";
import { Redactor } from "./redact.js";
import { killRun, ownRunMark } from "./runner/processes.js";

/** Runs the command line of this process, with its signals; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
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
  try {
    return await runCli(argv, ctx);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** True when this module is the program node runs (directly, or through a bin link). */
function isProgram(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isProgram()) {
  main(hideBin(process.argv)).then((code) => {
    process.exitCode = code;
  });
}
