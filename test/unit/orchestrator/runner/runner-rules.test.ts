/** The runner's pure rules: stale locks, and reading the inventory. (The deletion guard: run-plan.test.ts.) */
import { describe, expect, it } from "vitest";
import { describeExport } from "../../../../orchestrator/runner/backend-stacks.js";
import { classifyStacks } from "../../../../orchestrator/planner/stacks.js";
import { parseLocks } from "../../../../orchestrator/runner/failures.js";
import { staleReason } from "../../../../orchestrator/runner/locks.js";
import type { Pair } from "../../../../orchestrator/planner/plan.js";
import type { EnvironmentRef } from "../../../../programs/environment-ref.js";
import { Selection } from "../../../../orchestrator/planner/selection.js";

/** A whole planned pair (classifyStacks reads only its stack name, but takes real pairs). */
function plannedPair(stack: string, env: EnvironmentRef, targetId: string): Pair {
  return {
    stack,
    env,
    targetId,
    kind: "file",
    bindingId: targetId,
    shape: "keys",
    settings: {},
    location: `out/${env.name}.env`,
    entries: [],
    retainOnDelete: false,
    fingerprint: "f",
  };
}

describe("stale locks", () => {
  const message = `the stack is currently locked by 2 lock(s). Either wait for the other process(es) to end or delete the lock file with \`pulumi cancel\`.
  file:///s/.pulumi/locks/organization/esc-sync/x/1.json: created by root@vm (pid 4242) at 2026-11-28T07:45:39Z
  file:///s/.pulumi/locks/organization/esc-sync/x/2.json: created by ci@pod-1 (pid 7) at 2026-11-28T05:00:00Z`;
  const now = () => Date.parse("2026-11-28T08:00:00Z");

  it("reads every lock of the CLI's message", () => {
    expect(parseLocks(message)).toEqual([
      { user: "root", host: "vm", pid: 4242, createdAt: new Date("2026-11-28T07:45:39Z") },
      { user: "ci", host: "pod-1", pid: 7, createdAt: new Date("2026-11-28T05:00:00Z") },
    ]);
  });
  it("calls a lock on this host stale exactly when its process is gone", () => {
    const [local] = parseLocks(message);
    expect(staleReason(local!, { maxAgeMs: 0, host: "vm", alive: () => true, now })).toBeUndefined();
    expect(staleReason(local!, { maxAgeMs: 0, host: "vm", alive: () => false, now })).toBe("its process, pid 4242 on vm, is gone");
  });
  it("calls a lock from another host stale only past the age limit", () => {
    const [, remote] = parseLocks(message);
    expect(staleReason(remote!, { maxAgeMs: 30 * 60_000, host: "vm", now })).toBe("taken 180 min ago on host pod-1, more than --stale-lock-minutes 30");
    expect(staleReason(remote!, { maxAgeMs: 4 * 3600_000, host: "vm", now })).toBeUndefined();
    expect(staleReason(remote!, { maxAgeMs: 0, host: "vm", now })).toBeUndefined(); // 0: never by age
  });
});

describe("inventory", () => {
  const exported = (record?: object, resources = 1, pending = 0) => ({
    deployment: {
      resources: [
        { type: "pulumi:pulumi:Stack", outputs: record ? { "esc-sync": record } : {} },
        { type: "pulumi:providers:pulumi-nodejs" },
        ...Array.from({ length: resources }, () => ({ type: "pulumi-nodejs:dynamic/esc-sync:File" })),
      ],
      ...(pending ? { pending_operations: Array.from({ length: pending }, () => ({})) } : {}),
    },
  });
  const record = (env: string, target: string) => ({ environment: env, target, binding: target, kind: "file", fingerprint: "f", entries: ["A"] });

  it("reads the record, the resources and the pending operations of an export", () => {
    expect(describeExport("s", exported(record("o/app/a", "t"), 2, 1))).toEqual({
      name: "s",
      record: { environment: "o/app/a", target: "t", binding: "t", kind: "file", fingerprint: "f", entries: ["A"] },
      resources: 2,
      pendingOperations: 1,
    });
    expect(describeExport("s", exported(undefined, 0))).toEqual({ name: "s", resources: 0, pendingOperations: 0 });
  });

  it("sorts stacks into orphans (within the selection), empty leftovers and unknown ones", () => {
    const stacks = [
      describeExport("app.a.t", exported(record("o/app/a", "t"))), // planned
      describeExport("app.b.t", exported(record("o/app/b", "t"))), // orphan
      describeExport("web.c.t", exported(record("o/web/c", "t"))), // orphan outside --filter
      describeExport("empty", exported(undefined, 0)), // leftover
      describeExport("hand", exported(undefined, 3)), // someone else's
      describeExport("app.z.other", exported(record("o/app/z", "other"))), // another manifest's target
    ];
    const planned = [plannedPair("app.a.t", { org: "o", project: "app", name: "a" }, "t")];
    const inv = classifyStacks(stacks, planned, Selection.of({ filter: ["app/*"] }), new Set(["t"]));
    expect(inv.orphans.map((s) => s.name)).toEqual(["app.b.t"]);
    expect(inv.leftovers.map((s) => s.name)).toEqual(["empty"]);
    expect(inv.unknown.map((s) => s.name)).toEqual(["hand"]);
    expect(inv.foreign.map((s) => s.name)).toEqual(["app.z.other"]);
  });

  it("keeps the stacks of a binding that selects nothing out of the orphans (a mistyped glob deletes nothing)", () => {
    const stacks = [describeExport("app.b.t", exported(record("o/app/b", "t")))];
    const inv = classifyStacks(stacks, [], Selection.all, new Set(["t"]), new Set(["t"]));
    expect(inv.orphans).toEqual([]);
    expect(inv.idle.map((s) => s.name)).toEqual(["app.b.t"]);
  });
});
