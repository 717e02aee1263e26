/**
 * How one engine operation is retried, with fakes for the stack and the operation (the real
 * lock messages and error classes of the Automation API): throttling and live locks are waited
 * for and reported, stale locks cleared, anything else fails at once.
 */
import { hostname } from "node:os";
import * as automation from "@pulumi/pulumi/automation/index.js";
import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../orchestrator/runner/events.js";
import { EngineFailure } from "../../orchestrator/runner/failures.js";
import { engineOp, type PairContext } from "../../orchestrator/runner/pair.js";
import { EngineEventTally } from "../../orchestrator/runner/stack.js";

const info = { stack: "app.a.out", environment: "o/app/a", target: "out", kind: "file", location: "/x", entries: [], fingerprint: "" };

function harness(overrides: Partial<PairContext> = {}) {
  const events: RunEvent[] = [];
  const notes: string[] = [];
  let cancelled = 0;
  const stack = { cancel: async () => void cancelled++ } as unknown as automation.Stack;
  const ctx = { emit: (e: RunEvent) => events.push(e), lockWaitMs: 60_000, staleLockMs: 30 * 60_000, ...overrides } as PairContext;
  return { ctx, events, notes, stack, cancelled: () => cancelled, tally: new EngineEventTally() };
}

/** The error the Automation API raises for a locked stack, with the CLI's lock lines. */
function lockedError(host: string, pid: number, at: Date): Error {
  const text = `the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with \`pulumi cancel\`.\n  file:///s/.pulumi/locks/organization/esc-sync/x/1.json: created by root@${host} (pid ${pid}) at ${at.toISOString()}`;
  return new (automation.ConcurrentUpdateError as unknown as new (r: { toString(): string }) => Error)({ toString: () => text });
}

/** An operation failing with the given errors in turn, then succeeding. */
function failing(...errors: Error[]) {
  let calls = 0;
  const op = async () => {
    const e = errors[calls++];
    if (e) throw e;
    return "done";
  };
  return { op, calls: () => calls };
}

describe("engine operations", () => {
  it("retries provider throttling, and reports each retry with its cause", async () => {
    const h = harness();
    const f = failing(new Error("error: ThrottlingException: Rate exceeded"), new Error("429 Too Many Requests"));
    await expect(engineOp(h.ctx, info, h.stack, h.tally, h.notes, f.op)).resolves.toBe("done");
    expect(f.calls()).toBe(3);
    const retries = h.events.filter((e) => e.kind === "pair-retry");
    expect(retries.map((e) => e.kind === "pair-retry" && [e.attempt, e.cause])).toEqual([
      [1, "provider throttling"],
      [2, "provider throttling"],
    ]);
  });

  it("fails at once on a permanent error", async () => {
    const h = harness();
    const f = failing(new Error("AccessDeniedException: not authorized"));
    await expect(engineOp(h.ctx, info, h.stack, h.tally, h.notes, f.op)).rejects.toThrow(/AccessDenied/);
    await expect(engineOp(h.ctx, info, h.stack, h.tally, h.notes, failing(new Error("AccessDeniedException: not authorized")).op)).rejects.toMatchObject({ kind: "failed", retryable: false });
    expect(f.calls()).toBe(1);
    expect(h.events).toEqual([]);
  });

  it("waits for a lock held by a live process, then gives up after the wait", async () => {
    // A fresh error per attempt, as the CLI gives.
    const live = () => lockedError(hostname(), process.pid, new Date());
    const waited = harness();
    const f = failing(live(), live());
    await expect(engineOp(waited.ctx, info, waited.stack, waited.tally, waited.notes, f.op)).resolves.toBe("done");
    expect(waited.cancelled()).toBe(0);
    expect(waited.events.filter((e) => e.kind === "pair-retry").map((e) => e.kind === "pair-retry" && e.cause)).toEqual([
      "stack locked by another run",
      "stack locked by another run",
    ]);
    const impatient = harness({ lockWaitMs: 0 });
    const gaveUp = await engineOp(impatient.ctx, info, impatient.stack, impatient.tally, impatient.notes, failing(live()).op).catch((e: unknown) => e);
    expect(gaveUp).toBeInstanceOf(EngineFailure);
    expect(gaveUp).toMatchObject({ kind: "locked", retryable: false, message: expect.stringMatching(/^the stack is locked by another run \(root@\S+ pid \d+ since .*\), still after waiting$/) });
    // The cause stays the Automation API's own error, an Error (not a string put over it).
    expect((gaveUp as EngineFailure).cause).toBeInstanceOf(automation.ConcurrentUpdateError);
  });

  it("clears a stale lock (its process gone, or old and foreign) and says so", async () => {
    const gone = harness();
    await expect(engineOp(gone.ctx, info, gone.stack, gone.tally, gone.notes, failing(lockedError(hostname(), 2 ** 22 + 7, new Date())).op)).resolves.toBe("done");
    expect(gone.cancelled()).toBe(1);
    expect(gone.notes).toEqual([expect.stringMatching(/^cleared a stale lock: its process, pid \d+ on \S+, is gone$/)]);
    const old = harness();
    await expect(engineOp(old.ctx, info, old.stack, old.tally, old.notes, failing(lockedError("pod-x", 1, new Date(Date.now() - 2 * 3600_000))).op)).resolves.toBe("done");
    expect(old.cancelled()).toBe(1);
  });
});
