/** Adoption's choice, as data: what the stores hold is passed in; no store, no Pulumi. */
import { describe, expect, it } from "vitest";
import { SecretValue } from "../../../../programs/secret-value.js";
import { valueFingerprint } from "../../../../orchestrator/drift/compare.js";
import { chooseAdoptions } from "../../../../orchestrator/planner/adopt.js";
import { Selection } from "../../../../orchestrator/planner/selection.js";
import { classifyStacks, type ExistingStack } from "../../../../orchestrator/planner/stacks.js";
import { filePair } from "../../../support/pairs.js";

const CANARY = "canary-adopt-5c1e";
const store = (entries: Record<string, string>) => new Map(Object.entries(entries).map(([k, v]) => [k, new SecretValue(v)]));

describe("chooseAdoptions", () => {
  const a = filePair("a", { valueFor: (n) => `${CANARY}-${n}` });
  const b = filePair("b", { valueFor: (n) => `${CANARY}-${n}` });
  const synced: ExistingStack = {
    name: "app.b.out",
    record: { environment: "o/app/b", target: "out", binding: "out", kind: "file", fingerprint: "fp-b", entries: ["A"], location: "/out/b.env" },
    resources: 1,
    pendingOperations: 0,
  };
  const stacks = classifyStacks([synced], [a, b], Selection.all, new Set(["out"]));

  it("adopts the planned entries the store holds that no stack manages, with keyed fingerprints saying which differ", () => {
    const found = new Map([
      ["app.a.out", store({ A: `${CANARY}-A`, B: "changed by hand", EXTRA: "not planned" })],
      ["app.b.out", store({ A: "managed already", B: `${CANARY}-B` })],
    ]);
    const { candidates, notes, adopt } = chooseAdoptions([a, b], stacks, found, "k");
    expect(notes).toEqual([]);
    expect([...adopt].map(([s, n]) => [s, [...n]])).toEqual([
      ["app.a.out", ["A", "B"]],
      ["app.b.out", ["B"]],
    ]);
    expect(candidates.map((c) => [c.stack, c.entry, c.differs])).toEqual([
      ["app.a.out", "A", false],
      ["app.a.out", "B", true],
      ["app.b.out", "B", false],
    ]);
    expect(candidates[1]).toMatchObject({ environment: "o/app/a", target: "out", expected: valueFingerprint("k", `${CANARY}-B`), actual: valueFingerprint("k", "changed by hand") });
    expect(JSON.stringify(candidates)).not.toContain(CANARY);
  });

  it("notes a store its kind cannot list, skips refused and unread pairs, and adopts nothing where the store holds none", () => {
    const refused = filePair("r", { refusal: { kind: "no-value", message: "nothing" } });
    const empty = filePair("e");
    const found = new Map([
      ["app.a.out", undefined],
      ["app.r.out", store({ A: "x" })],
      ["app.e.out", store({})],
    ]);
    const { candidates, notes, adopt } = chooseAdoptions([a, refused, empty, b], stacks, found, "k");
    expect(notes).toEqual(["app.a.out: file cannot list what its store holds; nothing to adopt there"]);
    expect(candidates).toEqual([]);
    expect(adopt.size).toBe(0);
  });
});
