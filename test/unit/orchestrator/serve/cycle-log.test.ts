import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { cycleLogReporter } from "../../../../orchestrator/serve/cycle-log.js";

const pair = { stack: "app.a.out", environment: "o/app/a", target: "out", kind: "file", location: "/x", entries: [], fingerprint: "" };
const changes = { create: 1, update: 0, delete: 0, replace: 0, same: 0 };

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ base: undefined, timestamp: false }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

describe("cycleLogReporter", () => {
  it("logs each pair, warnings, and the run's summary as `cycle done` on finish", () => {
    const { logger, lines } = capture();
    const r = cycleLogReporter(logger, "change", Date.now());
    r.sink({ kind: "run-start", operation: "sync", pairs: [pair], concurrency: 1, at: 0 });
    r.sink({ kind: "warning", message: "careful", at: 0 });
    r.sink({ kind: "pair-done", pair: { ...pair, revision: { number: 7 } }, operation: "sync", step: "up", status: "created", changes, durationMs: 3, at: 1 });
    r.sink({ kind: "pair-done", pair, operation: "sync", step: "up", status: "failed", changes, message: "it broke", hint: "fix it", durationMs: 4, at: 2 });
    r.sink({ kind: "run-done", operation: "sync", summary: { pairs: 2, byStatus: { created: 1, failed: 1 }, failed: 1, durationMs: 5, exitCode: 1 }, at: 3 });
    expect(lines.map((l) => l.msg)).toEqual(["careful", "pair done", "pair not synced"]);
    expect(lines[0]).toEqual({ level: 40, trigger: "change", msg: "careful" });
    expect(lines[1]).toEqual({ level: 30, trigger: "change", stack: "app.a.out", environment: "o/app/a", target: "out", status: "created", durationMs: 3, changes, revision: 7, msg: "pair done" });
    expect(lines[2]).toMatchObject({ level: 40, status: "failed", message: "it broke", hint: "fix it" });
    r.finish();
    expect(lines[3]).toMatchObject({ level: 30, trigger: "change", pairs: 2, byStatus: { created: 1, failed: 1 }, failed: 1, msg: "cycle done" });
    expect(typeof lines[3]!.durationMs).toBe("number");
  });

  it("writes no `cycle done` for a run that never ended", () => {
    const { logger, lines } = capture();
    const r = cycleLogReporter(logger, "reconcile", Date.now());
    r.finish();
    expect(lines).toEqual([]);
  });
});
