import { describe, expect, it } from "vitest";
import { RotationTracker, type EnvOutcome } from "../../../../orchestrator/serve/rotations.js";

const ok = (lastWriteAt: number, pairs = 1): EnvOutcome => ({ lastWriteAt, pairs, bad: 0 });

describe("serve's rotation tracker", () => {
  it("does not count a cycle that started before the delivery (it opened the old values)", () => {
    const t = new RotationTracker();
    t.delivered("app/db", 1_000, ["app/db"], 7);
    expect(t.cycleEnded(900, ["app/db"], new Map([["app/db", ok(1_100)]]))).toEqual({ propagated: [], failing: [] });
    expect(t.cycleEnded(1_200, ["app/db"], new Map([["app/db", ok(1_500)]])).propagated).toEqual([{ environment: "app/db", revision: 7, affected: ["app/db"], pairs: 1, durationMs: 500 }]);
    expect(t.size).toBe(0);
  });

  it("waits until every environment built from the rotated one has synced, across cycles, and times to the last write", () => {
    const t = new RotationTracker();
    t.delivered("common/db", 0, ["common/db", "app/dev", "app/prod"]);
    // common/db has no pair of its own: covered, nothing written.
    expect(t.cycleEnded(10, ["common/db", "app/dev"], new Map([["app/dev", ok(400, 2)]])).propagated).toEqual([]);
    const { propagated } = t.cycleEnded(500, ["app/prod"], new Map([["app/prod", ok(900)]]));
    expect(propagated).toEqual([{ environment: "common/db", affected: ["common/db", "app/dev", "app/prod"], pairs: 3, durationMs: 900 }]);
  });

  it("a failed pair keeps the rotation waiting for the retry; a reconcile covers everything", () => {
    const t = new RotationTracker();
    t.delivered("app/db", 0, ["app/db"]);
    expect(t.cycleEnded(1, ["app/db"], new Map([["app/db", { lastWriteAt: 0, pairs: 1, bad: 1 }]]))).toEqual({ propagated: [], failing: ["app/db"] });
    expect(t.cycleEnded(2, "all", new Map([["app/db", ok(50)]])).propagated).toMatchObject([{ environment: "app/db", durationMs: 50 }]);
  });

  it("takes the first delivery of a rotation, and forgets one whose delivery was refused", () => {
    const t = new RotationTracker();
    expect(t.delivered("app/db", 0, ["app/db"])).toBe(true);
    expect(t.delivered("app/db", 5, ["app/db"])).toBe(false);
    t.cancel("app/db");
    expect(t.size).toBe(0);
  });
});
