import { describe, expect, it } from "vitest";
import { backoffDelay, backoffStep, parseRetryAfter, sleep, withRetry, type RetryEvent } from "../../../orchestrator/retry.js";

class Failure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** A sleep that records the delays asked for and returns at once. */
function recordingSleep() {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms: number) => {
      delays.push(ms);
    },
  };
}

describe("withRetry", () => {
  it("retries retryable failures with growing, jittered delays and reports each retry", async () => {
    const { delays, sleep } = recordingSleep();
    const events: RetryEvent[] = [];
    let calls = 0;
    const result = await withRetry(
      async (attempt) => {
        calls++;
        if (attempt < 3) throw new Failure(`boom ${attempt}`, true);
        return "ok";
      },
      { baseDelayMs: 100, maxDelayMs: 10_000, random: () => 0.5, sleep, onRetry: (e) => events.push(e) },
    );
    expect(result).toBe("ok");
    expect(calls).toBe(3);
    // Equal jitter with random 0.5: three quarters of 100, then of 200.
    expect(delays).toEqual([75, 150]);
    expect(events.map((e) => [e.attempt, e.delayMs, e.reason, e.fromRetryAfter])).toEqual([
      [1, 75, "boom 1", false],
      [2, 150, "boom 2", false],
    ]);
    expect(events[0]!.maxAttempts).toBe(5);
  });

  it("throws a non-retryable error at once", async () => {
    const { delays, sleep } = recordingSleep();
    let calls = 0;
    const error = new Failure("denied", false);
    await expect(
      withRetry(
        async () => {
          calls++;
          throw error;
        },
        { sleep },
      ),
    ).rejects.toBe(error);
    expect(calls).toBe(1);
    expect(delays).toEqual([]);
  });

  it("gives up after maxAttempts and throws the last error", async () => {
    const { delays, sleep } = recordingSleep();
    let calls = 0;
    await expect(
      withRetry(
        async (attempt) => {
          calls++;
          throw new Failure(`attempt ${attempt}`, true);
        },
        { maxAttempts: 3, sleep },
      ),
    ).rejects.toThrow("attempt 3");
    expect(calls).toBe(3);
    expect(delays).toHaveLength(2);
  });

  it("waits what the server asked (Retry-After), capped by maxRetryAfterMs", async () => {
    const { delays, sleep } = recordingSleep();
    const events: RetryEvent[] = [];
    const waits = [0, 1000, 120_000];
    await withRetry(
      async (attempt) => {
        if (attempt <= waits.length) throw new Failure("429", true, waits[attempt - 1]);
        return undefined;
      },
      { sleep, maxRetryAfterMs: 5000, onRetry: (e) => events.push(e) },
    );
    expect(delays).toEqual([0, 1000, 5000]);
    expect(events.every((e) => e.fromRetryAfter)).toBe(true);
  });

  it("uses the caller's isRetryable and retryAfterMs", async () => {
    const { delays, sleep } = recordingSleep();
    let calls = 0;
    await withRetry(
      async () => {
        calls++;
        if (calls === 1) throw new Error("ECONNRESET");
        return calls;
      },
      { sleep, isRetryable: (e) => e instanceof Error && e.message === "ECONNRESET", retryAfterMs: () => 7 },
    );
    expect(calls).toBe(2);
    expect(delays).toEqual([7]);
  });

  it("does not start when the signal is already aborted", async () => {
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
      }, { signal: controller.signal }),
    ).rejects.toThrow("stop");
    expect(calls).toBe(0);
  });

  it("stops waiting when the signal aborts during a backoff", async () => {
    const controller = new AbortController();
    let calls = 0;
    const run = withRetry(
      async () => {
        calls++;
        throw new Failure("busy", true, 60_000);
      },
      { signal: controller.signal, onRetry: () => queueMicrotask(() => controller.abort(new Error("cancelled"))) },
    );
    await expect(run).rejects.toThrow("cancelled");
    expect(calls).toBe(1);
  });

  it("throws the abort reason when the operation fails because of the abort", async () => {
    const controller = new AbortController();
    const reason = new Error("user cancelled");
    await expect(
      withRetry(
        async () => {
          controller.abort(reason);
          throw new Failure("socket closed", true);
        },
        { signal: controller.signal, sleep: async () => {} },
      ),
    ).rejects.toBe(reason);
  });
});

describe("backoffDelay", () => {
  it("keeps between half and all of the exponential step, capped", () => {
    expect(backoffDelay(1, 100, 1000, () => 0)).toBe(50);
    expect(backoffDelay(1, 100, 1000, () => 0.999999)).toBe(100);
    expect(backoffDelay(3, 100, 1000, () => 0)).toBe(200);
    expect(backoffDelay(10, 100, 1000, () => 0)).toBe(500);
    expect(backoffDelay(10, 100, 1000, () => 0.999999)).toBe(1000);
  });
});

describe("backoffStep", () => {
  it("doubles from the first step and stops at the cap, without jitter", () => {
    // serve's retries of failed environments: 5 s, 10 s, 20 s, ... at most 5 min.
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((a) => backoffStep(a, 5_000, 300_000))).toEqual([5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
    expect(backoffStep(0, 100, 1000)).toBe(100);
    expect(backoffStep(3, 100, 150)).toBe(150);
  });
});

describe("parseRetryAfter", () => {
  it("reads delay-seconds and HTTP dates", () => {
    expect(parseRetryAfter("0")).toBe(0);
    expect(parseRetryAfter("1")).toBe(1000);
    expect(parseRetryAfter(" 2.5 ")).toBe(2500);
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:03 GMT", now)).toBe(3000);
    expect(parseRetryAfter("Tue, 31 Dec 2024 23:59:00 GMT", now)).toBe(0);
  });

  it("ignores absent and malformed values", () => {
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter("")).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter("-1")).toBeUndefined();
  });
});

describe("sleep", () => {
  it("rejects with the abort reason", async () => {
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    controller.abort(new Error("abort now"));
    await expect(waiting).rejects.toThrow("abort now");
  });

  it("resolves after a short delay", async () => {
    await expect(sleep(1)).resolves.toBeUndefined();
  });
});
