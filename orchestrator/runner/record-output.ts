/**
 * The pair's record (see inventory.ts) as a stack output that exists exactly when the update
 * succeeded. Pulumi saves the stack's outputs as soon as the program returns them, also when a
 * resource then fails: a plain record would tell the next run that a failed pair is up to date
 * (found with the real AWS provider: a secret that already existed failed its create, and the
 * next sync and `migrate adopt` both took the pair for written). So the record waits for every
 * resource the program registered: a registration that fails never lets it settle.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PulumiFn } from "@pulumi/pulumi/automation/index.js";

/** `program`, returning its own outputs and `record` under `name` once all its resources are written. */
export function withSettledRecord(program: PulumiFn, name: string, record: unknown): PulumiFn {
  return async () => {
    const registered: pulumi.Resource[] = [];
    pulumi.runtime.registerStackTransformation((args) => {
      registered.push(args.resource);
      return undefined;
    });
    const outputs = (await program()) ?? {};
    // A resource's URN resolves when the engine answers its registration, after the step ran.
    return { ...outputs, [name]: pulumi.all(registered.map((r) => r.urn)).apply(() => record) };
  };
}
