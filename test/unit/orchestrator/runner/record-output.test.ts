/**
 * The pair's record output settles only when every resource of the program was written. Found
 * with the real AWS provider (test/e2e/aws-secrets-manager-real.test.ts): Pulumi saved the stack's
 * outputs of an update whose create failed ("secret already exists"), so the next sync called the
 * failed pair unchanged and `migrate adopt` took its entry for managed. Under mocks, a resource
 * whose registration fails stands for the provider's failed create.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { withSettledRecord } from "../../../../orchestrator/runner/record-output.js";

const RECORD = { fingerprint: "abc", entries: ["a", "b"] };

async function mockStack(failing: string | undefined): Promise<void> {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        if (args.name === failing) throw new Error(`creating ${args.name}: already exists`);
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    "esc-sync",
    "stack",
    false,
  );
}

class Thing extends pulumi.CustomResource {
  constructor(name: string) {
    super("test:index:Thing", name, {});
  }
}

/** A program of two resources, returning its own output. */
const program = async () => {
  new Thing("a");
  new Thing("b");
  return { names: ["a", "b"] };
};

describe("the record output", () => {
  it("holds the record, beside the program's outputs, once every resource is written", async () => {
    await mockStack(undefined);
    const outputs = (await pulumi.runtime.runInPulumiStack(withSettledRecord(program, "esc-sync", RECORD))) as Record<string, unknown>;
    expect(outputs.names).toEqual(["a", "b"]);
    expect(outputs["esc-sync"]).toEqual(RECORD);
  });

  it("never settles when a resource fails: the update's outputs do not say it succeeded", async () => {
    await mockStack("b");
    // The failed registration also rejects the failed resource's own output promises, which no
    // one awaits here (in a real run the engine ends the program): set aside only those.
    const others = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    const unexpected: unknown[] = [];
    process.on("unhandledRejection", (reason) => {
      if (!/creating b: already exists/.test(String(reason))) unexpected.push(reason);
    });
    try {
      const run = pulumi.runtime.runInPulumiStack(withSettledRecord(program, "esc-sync", RECORD));
      await expect(run).rejects.toThrow(/creating b: already exists/);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.removeAllListeners("unhandledRejection");
      for (const l of others) process.on("unhandledRejection", l);
    }
    expect(unexpected).toEqual([]);
  });
});
