import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { Notifier, parseNotifyTarget } from "../../../../orchestrator/serve/notify.js";
import { StatusBook, type Transition } from "../../../../orchestrator/serve/status.js";
import { noChanges, type PairInfo, type PairStatus, type RunEvent } from "../../../../orchestrator/runner/events.js";

const pair = (stack: string, revision?: PairInfo["revision"]): PairInfo => ({
  stack,
  environment: `acme/${stack.split(".").slice(0, 2).join("/")}`,
  target: "out",
  kind: "file",
  location: "out/x.env",
  entries: [],
  fingerprint: "f",
  ...(revision ? { revision } : {}),
});
const done = (p: PairInfo, status: PairStatus, extra: { message?: string; hint?: string } = {}): RunEvent => ({ kind: "pair-done", pair: p, operation: "sync", step: "up", status, changes: noChanges(), durationMs: 1, at: 0, ...extra });

describe("serve's status book", () => {
  it("keeps each pair's last result, last good sync and revision, and says when a pair goes bad or comes back", () => {
    let now = 1_000;
    const book = new StatusBook(() => now);
    expect(book.observe(done(pair("app.dev.out", { number: 3 }), "created"))).toBeUndefined();
    now = 2_000;
    const failing = book.observe(done(pair("app.dev.out", { number: 4 }), "failed", { message: "EACCES writing out/x.env", hint: "check the folder" }));
    expect(failing).toMatchObject({ kind: "failing", pair: { status: "failed", ok: false, error: "EACCES writing out/x.env", hint: "check the folder", revision: { number: 3 }, lastSyncedAt: new Date(1_000).toISOString() } });
    // Failing again is no new transition: one alert per failure, not per retry.
    expect(book.observe(done(pair("app.dev.out", { number: 4 }), "failed"))).toBeUndefined();
    now = 3_000;
    expect(book.observe(done(pair("app.dev.out", { number: 4 }), "updated"))).toMatchObject({ kind: "recovered", pair: { ok: true, revision: { number: 4 }, lastSyncedAt: new Date(3_000).toISOString() } });
    expect(book.list().map((p) => p.error)).toEqual([undefined]);
    // Skipped (interrupted, or nothing to write): no alert, and the revision written stays the last one.
    expect(book.observe(done(pair("app.dev.out", { number: 9 }), "skipped", { message: "interrupted before it started" }))).toBeUndefined();
    expect(book.syncedRevisions("app/dev")).toEqual([4]);
  });

  it("gives the revisions of the pairs following the latest; pinned pairs have no say, unknown ones block a skip", () => {
    const book = new StatusBook();
    book.observe(done(pair("app.dev.out", { number: 5 }), "unchanged"));
    book.observe(done(pair("app.dev.pinned", { number: 2, tag: "stable", pinned: true }), "unchanged"));
    expect(book.syncedRevisions("app/dev")).toEqual([5]);
    book.observe(done(pair("app.dev.other"), "held"));
    expect(book.syncedRevisions("app/dev")).toEqual([5, undefined]);
    expect(book.syncedRevisions("app/prod")).toEqual([]);
  });
});

describe("--notify", () => {
  const transition = (stack: string, kind: Transition["kind"]): Transition => ({ kind, pair: { stack, environment: "acme/app/dev", target: "out", location: "x", status: kind === "failing" ? "failed" : "updated", ok: kind !== "failing", lastResultAt: "2026-01-01T00:00:00.000Z", error: "cannot write: canary-value-1" } });

  it("reads JSON and Slack targets, and refuses what is not an http(s) URL", () => {
    expect(parseNotifyTarget("https://alerts.example.com/hook")).toEqual({ url: "https://alerts.example.com/hook", format: "json" });
    expect(parseNotifyTarget("https://hooks.slack.com/services/T/B/x")).toMatchObject({ format: "slack" });
    expect(parseNotifyTarget("slack:http://127.0.0.1:9/x")).toEqual({ url: "http://127.0.0.1:9/x", format: "slack" });
    expect(parseNotifyTarget("ftp://x")).toBeUndefined();
    expect(parseNotifyTarget("not a url")).toBeUndefined();
  });

  it("rate-limits per pair and kind, and in all; what leaves passes the redactor", () => {
    let now = 0;
    const results: string[] = [];
    const bodies: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (_url: string, init: { body: string }) => {
      bodies.push(init.body);
      return new Response("ok");
    }) as unknown as typeof fetch;
    try {
      const n = new Notifier({ targets: [{ url: "http://127.0.0.1:9/", format: "json" }], logger: pino({ enabled: false }), redact: (t) => t.replaceAll("canary-value-1", "[secret]"), perPairMs: 60_000, perMinute: 3, now: () => now, onResult: (r) => results.push(r) });
      n.notify(transition("a", "failing"));
      n.notify(transition("a", "failing"));
      n.notify(transition("a", "recovered"));
      n.notify(transition("b", "failing"));
      n.notify(transition("c", "failing"));
      expect(results).toEqual(["rate_limited", "rate_limited"]);
      now = 61_000;
      n.notify(transition("a", "failing"));
      expect(results).toEqual(["rate_limited", "rate_limited"]);
      expect(bodies).toHaveLength(4);
      expect(bodies.join("\n")).not.toContain("canary-value-1");
      expect(JSON.parse(bodies[0]!)).toMatchObject({ event: "pair-failing", stack: "a", error: "cannot write: [secret]" });
    } finally {
      globalThis.fetch = realFetch;
    }
  });
});
