/**
 * Loads a kind's program module (and with it the provider SDK, which is slow to import) only when
 * a pair actually runs, so that listing kinds or validating a manifest stays fast.
 */
import type { PulumiFn } from "@pulumi/pulumi/automation/index.js";
import type { ProgramInput } from "../contract.js";

export function lazyProgram<S>(load: () => Promise<(input: ProgramInput<S>) => PulumiFn>): (input: ProgramInput<S>) => PulumiFn {
  return (input) => async () => (await load())(input)();
}
