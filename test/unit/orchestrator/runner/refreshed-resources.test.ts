/**
 * What `drift` reads back after a refresh: the inputs esc-sync wrote (from the state before the
 * refresh) beside what the store holds now (the outputs after it). Found with the real AWS
 * provider (test/e2e/aws-parameter-store-real.test.ts): the Terraform bridge rewrites a refreshed
 * resource's inputs from what it read, so an SSM parameter overwritten outside esc-sync looked as
 * if esc-sync had written the new value, and `drift` said `pending` instead of `drifted`.
 */
import { describe, expect, it } from "vitest";
import { refreshedResources } from "../../../../orchestrator/runner/state.js";
import { readBack } from "../../../../programs/aws-parameter-store/readback.js";
import type { StateResource } from "../../../../programs/contract.js";

const TYPE = "aws:ssm/parameter:Parameter";
const param = (name: string, input: string, output: string | undefined): StateResource => ({
  urn: `urn:pulumi:s::esc-sync::${TYPE}::${name}`,
  type: TYPE,
  inputs: { name, value: input },
  outputs: output === undefined ? undefined : { name, value: output },
});

describe("refreshedResources", () => {
  it("keeps the inputs of before the refresh and the outputs of after it", () => {
    const before = [param("/a", "written", "written"), param("/b", "b", "b")];
    // The bridge's refresh: inputs and outputs both hold what it read.
    const after = [param("/a", "edited by hand", "edited by hand"), param("/b", "b", "b")];
    const merged = refreshedResources(before, after);
    expect(merged.map((r) => [r.inputs.value, r.outputs?.value])).toEqual([
      ["written", "edited by hand"],
      ["b", "b"],
    ]);
    const r = readBack(merged, "keys");
    expect(r.applied.get("/a")).toBe("written");
    expect(r.actual.get("/a")).toBe("edited by hand");
  });

  it("keeps a resource the refresh found gone, without outputs, so that its entry reads as missing", () => {
    const before = [param("/a", "a", "a"), param("/gone", "g", "g")];
    const merged = refreshedResources(before, [param("/a", "a", "a")]);
    expect(merged.map((r) => [r.inputs.name, r.outputs])).toEqual([
      ["/a", { name: "/a", value: "a" }],
      ["/gone", undefined],
    ]);
    const r = readBack(merged, "keys");
    expect(r.applied.get("/gone")).toBe("g");
    expect(r.actual.has("/gone")).toBe(false);
  });
});
