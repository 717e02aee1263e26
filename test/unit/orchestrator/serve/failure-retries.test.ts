import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FailureRetries, RECONCILE } from "../../../../orchestrator/serve/failure-retries.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ base: undefined, timestamp: false }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

describe("FailureRetries", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it("retries a failed key after 5 s, doubling, capped by the reconcile interval, and logs each retry", async () => {
    const { logger, lines } = capture();
    const due: string[] = [];
    const counts: number[] = [];
    const retries = new FailureRetries({ logger, reconcileEveryMs: 30_000, onDue: (k) => due.push(k), onCount: (n) => counts.push(n) });
    const delays: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      retries.retryLater("app/a", "a pair failed: retrying the environment");
      delays.push(lines.at(-1)!.delayMs);
      await vi.advanceTimersByTimeAsync(30_000);
    }
    expect(delays).toEqual([5_000, 10_000, 20_000, 30_000]);
    expect(due).toEqual(["app/a", "app/a", "app/a", "app/a"]);
    expect(lines[0]).toEqual({ level: 30, environment: "app/a", attempt: 1, delayMs: 5_000, msg: "a pair failed: retrying the environment" });
    expect(retries.keys()).toEqual(["app/a"]);
    retries.succeeded("app/a");
    expect(retries.size).toBe(0);
    expect(counts.at(-1)).toBe(0);
    // Forgotten: the next failure starts over at 5 s.
    retries.retryLater("app/a", "again");
    expect(lines.at(-1)!.delayMs).toBe(5_000);
  });

  it("keeps one timer per key and names the reconcile as such", async () => {
    const { logger, lines } = capture();
    const due: string[] = [];
    const retries = new FailureRetries({ logger, reconcileEveryMs: 600_000, onDue: (k) => due.push(k), onCount: () => {} });
    retries.retryLater(RECONCILE, "the reconcile failed: retrying it");
    retries.retryLater(RECONCILE, "the reconcile failed: retrying it");
    expect(lines).toEqual([{ level: 30, reconcile: true, attempt: 1, delayMs: 5_000, msg: "the reconcile failed: retrying it" }]);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(due).toEqual([RECONCILE]);
  });

  it("fires nothing once its timers are cancelled, and still lists what failed", async () => {
    const { logger } = capture();
    const due: string[] = [];
    const retries = new FailureRetries({ logger, reconcileEveryMs: 600_000, onDue: (k) => due.push(k), onCount: () => {} });
    retries.retryLater("app/a", "x");
    retries.cancelTimers();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(due).toEqual([]);
    expect(retries.keys()).toEqual(["app/a"]);
  });
});
