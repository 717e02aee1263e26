import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Scheduler, type Work } from "../../../../orchestrator/serve/scheduler.js";

/** A scheduler whose cycles end when the test says so, and a log of what ran. */
function harness(opts: { debounceMs?: number; maxQueue?: number } = {}) {
  const ran: Work[] = [];
  const finish: (() => void)[] = [];
  let running = 0;
  let peak = 0;
  const scheduler = new Scheduler({
    debounceMs: opts.debounceMs ?? 0,
    maxQueue: opts.maxQueue ?? 100,
    run: (work, signal) => {
      ran.push(work);
      running++;
      peak = Math.max(peak, running);
      return new Promise<void>((resolve) => {
        const done = () => {
          running--;
          resolve();
        };
        finish.push(done);
        signal.addEventListener("abort", done, { once: true });
      });
    },
  });
  // On the fake clock: the debounce passes when the test says, not in real time.
  const settle = () => vi.advanceTimersByTimeAsync(5);
  return { scheduler, ran, finish: async () => (finish.shift()!(), await settle()), settle, peak: () => peak };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("serve's scheduler", () => {
  it("coalesces requests for a running environment into one pending sync", async () => {
    const h = harness();
    h.scheduler.request(["app/dev"]);
    for (let i = 0; i < 20; i++) h.scheduler.request(["app/dev"]);
    expect(h.ran).toEqual([{ kind: "environments", environments: ["app/dev"] }]);
    expect(h.scheduler.depth).toBe(1);
    await h.finish();
    expect(h.ran).toHaveLength(2);
    await h.finish();
    expect(h.ran).toHaveLength(2);
    expect(h.scheduler.depth).toBe(0);
  });

  it("runs one cycle at a time, batching what waits, and never a reconcile beside a sync", async () => {
    const h = harness();
    h.scheduler.request(["app/dev"]);
    h.scheduler.reconcile();
    h.scheduler.request(["app/prod", "app/qa"]);
    await h.finish();
    // The waiting reconcile covers what waited with it.
    expect(h.ran[1]).toEqual({ kind: "reconcile" });
    h.scheduler.request(["app/dev"]);
    await h.finish();
    expect(h.ran[2]).toEqual({ kind: "environments", environments: ["app/dev"] });
    await h.finish();
    expect(h.peak()).toBe(1);
  });

  it("waits the debounce after an environment's last sync started", async () => {
    const h = harness({ debounceMs: 60 });
    h.scheduler.request(["app/dev"]);
    await h.finish();
    h.scheduler.request(["app/dev"]);
    h.scheduler.request(["app/other"]);
    await h.settle();
    // The other environment is due at once; app/dev waits for its debounce.
    expect(h.ran.map((w) => (w.kind === "environments" ? w.environments : "all"))).toEqual([["app/dev"], ["app/other"]]);
    await h.finish();
    // Within its debounce (60 ms after its last sync started), app/dev has not run again.
    await vi.advanceTimersByTimeAsync(30);
    expect(h.ran).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(50);
    expect(h.ran.at(-1)).toEqual({ kind: "environments", environments: ["app/dev"] });
    await h.finish();
  });

  it("refuses past the queue bound, and once stopping", async () => {
    const h = harness({ maxQueue: 2 });
    expect(h.scheduler.request(["a/1"])).toBe(true); // running: the queue is empty again
    expect(h.scheduler.request(["a/2", "a/3"])).toBe(true);
    expect(h.scheduler.request(["a/4"])).toBe(false);
    expect(h.scheduler.request(["a/2"])).toBe(true); // already waiting: no room needed
    const stopped = h.scheduler.stop(10);
    expect(h.scheduler.request(["a/5"])).toBe(false);
    // The grace passes (on the fake clock): the running cycle is aborted and stop resolves; nothing more starts.
    await vi.advanceTimersByTimeAsync(10);
    await stopped;
    await h.settle();
    expect(h.ran).toHaveLength(1);
  });

  it("while paused queues every request and the reconcile, runs nothing, and runs them on resume", async () => {
    const h = harness();
    h.scheduler.pause();
    expect(h.scheduler.paused).toBe(true);
    expect(h.scheduler.request(["app/dev"])).toBe(true);
    h.scheduler.request(["app/prod"]);
    await h.settle();
    expect(h.ran).toEqual([]);
    expect(h.scheduler.depth).toBe(2);
    h.scheduler.resume();
    expect(h.ran).toEqual([{ kind: "environments", environments: ["app/dev", "app/prod"] }]);
    await h.finish();
  });

  it("lets the running cycle finish when paused, and starts no other", async () => {
    const h = harness();
    h.scheduler.request(["app/dev"]);
    h.scheduler.pause();
    h.scheduler.request(["app/prod"]);
    await h.finish();
    expect(h.ran).toHaveLength(1);
    h.scheduler.resume();
    expect(h.ran).toHaveLength(2);
    await h.finish();
  });

  it("an urgent request skips the debounce", async () => {
    const h = harness({ debounceMs: 60_000 });
    h.scheduler.request(["app/dev"]);
    await h.finish();
    h.scheduler.request(["app/dev"]);
    await h.settle();
    expect(h.ran).toHaveLength(1);
    h.scheduler.request(["app/dev"], { urgent: true });
    await h.settle();
    expect(h.ran).toHaveLength(2);
    await h.finish();
  });
});
