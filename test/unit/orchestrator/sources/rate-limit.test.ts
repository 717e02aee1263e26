/** The ESC client's shared token bucket, on a fake clock: the rate, the burst, a 429's pause, abort. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TokenBucket } from "../../../../orchestrator/sources/rate-limit.js";

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

/** Starts `n` takes and records when (on the fake clock) each one was let through. */
function takes(bucket: TokenBucket, n: number, signal?: AbortSignal) {
  const at: number[] = [];
  const all = Array.from({ length: n }, () => bucket.take(signal).then(() => at.push(Date.now())));
  return { at, all };
}

describe("TokenBucket", () => {
  it("lets a burst through at once, then one request per 1/rps second", async () => {
    const { at } = takes(new TokenBucket({ rps: 4, burst: 2 }), 6);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(at).toEqual([0, 0, 250, 500, 750, 1000]);
  });

  it("holds every request back while paused (a 429's Retry-After), then resumes at the rate", async () => {
    const bucket = new TokenBucket({ rps: 10, burst: 1 });
    await bucket.take();
    bucket.pause(3_000);
    const { at } = takes(bucket, 3);
    await vi.advanceTimersByTimeAsync(2_999);
    expect(at).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(at).toEqual([3000, 3100, 3200]);
  });

  it("gives up waiting when the signal aborts, and keeps serving the others", async () => {
    const bucket = new TokenBucket({ rps: 1, burst: 1 });
    await bucket.take();
    const controller = new AbortController();
    const aborted = bucket.take(controller.signal);
    const later = bucket.take();
    controller.abort(new Error("stop"));
    await expect(aborted).rejects.toThrow("stop");
    let done = false;
    void later.then(() => (done = true));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(done).toBe(true);
  });

  it("refuses a rate of zero", () => {
    expect(() => new TokenBucket({ rps: 0 })).toThrow(/rps must be above 0/);
  });
});
