/**
 * The Pulumi CLI as esc-sync's workspaces run it: the SDK's own `PulumiCommand`, less the CLI
 * processes whose answers esc-sync never reads. The Automation API runs, besides the operation
 * itself: `stack select` in `Stack.select` (every later command names its stack with `--stack`),
 * and after each `up`, `refresh` and `destroy` two `stack output` and one `stack history` for the
 * result object (esc-sync counts changes from the engine's events and reads its record from the
 * state). Three or four processes per pair, out of four to seven.
 *
 * Why here, and not by patching `Stack`/`LocalWorkspace` methods: the SDK offers no option to skip
 * those calls (`Stack.up` calls `this.outputs()` and `this.info()` unconditionally; `Stack` and
 * `LocalWorkspace` have private constructors, so they cannot be subclassed), but it does take the
 * CLI to run as a public option (`LocalWorkspaceOptions.pulumiCommand`), and every process it
 * starts, through its older `runPulumiCmd` paths and its newer generated CLI API alike, goes
 * through that object's `run` (automation/cmd.ts). `run` is marked `@internal` in the SDK's
 * typings: test/unit/pulumi-command-contract.test.ts drives the real SDK (the exact version in
 * package.json) against a fake CLI and fails loudly when an upgrade changes that seam or the calls.
 */
import type * as automation from "@pulumi/pulumi/automation/index.js";

/** What a CLI process gave back (the SDK's internal `CommandResult` has these fields). */
interface CliResult {
  stdout: string;
  stderr: string;
  code: number;
  err?: Error;
}

/** The SDK's process boundary (`PulumiCommand.run`, internal in its typings). */
interface CommandRunner {
  run(args: string[], cwd: string, additionalEnv: Record<string, string>, onOutput?: (data: string) => void, onError?: (data: string) => void, signal?: AbortSignal): Promise<CliResult>;
}

/** The engine operations after which the SDK reads outputs and history for its result object. */
const ENGINE_OPERATIONS = new Set(["up", "refresh", "destroy"]);

function answered(stdout: string): CliResult {
  return { stdout, stderr: "", code: 0, toString: () => `code: 0\n stdout: ${stdout}\n stderr: \n err?: \n` } as CliResult;
}

/**
 * A command for one workspace (it follows that workspace's calls: give each workspace its own).
 * `stack select` is answered at once; `stack output` and `stack history` right after an engine
 * operation are answered empty. Any other call, and those same reads made on their own (a caller
 * asking for `stack.outputs()`), run the real CLI.
 */
export function leanCommand(command: automation.PulumiCommand): automation.PulumiCommand {
  const inner = command as unknown as CommandRunner;
  if (typeof inner.run !== "function") {
    throw new Error("@pulumi/pulumi's PulumiCommand has no run() any more: orchestrator/runner/pulumi-command.ts needs updating for this SDK version");
  }
  let afterOperation = false;
  const lean: CommandRunner & Pick<automation.PulumiCommand, "command" | "version"> = {
    command: command.command,
    version: command.version,
    async run(args, ...rest) {
      const verb = args[0] === "stack" ? `stack ${args[1]}` : args[0]!;
      if (verb === "stack select") return answered("");
      if (afterOperation && verb === "stack output") return answered("{}");
      if (afterOperation && verb === "stack history") return answered("[]");
      afterOperation = false;
      const result = await inner.run.call(command, args, ...rest);
      afterOperation = ENGINE_OPERATIONS.has(verb);
      return result;
    },
  };
  // The SDK types its option as the class (private constructor): this object has what it uses.
  return lean as unknown as automation.PulumiCommand;
}
