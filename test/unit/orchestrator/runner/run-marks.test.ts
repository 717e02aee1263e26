/**
 * Run marks: each execute has its own, so that the executes of one long-running process never
 * end each other's processes; orphans are only those whose orchestrator is gone.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { belongsTo, executionMark, killRun, ownerOf, ownRunMark, reapOrphans, RUN_MARK } from "../../../../orchestrator/runner/processes.js";

const children: ChildProcess[] = [];
function marked(mark: string): ChildProcess {
  const child = spawn("sleep", ["30"], { env: { ...process.env, [RUN_MARK]: mark }, stdio: "ignore" });
  children.push(child);
  return child;
}
const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;
const settle = () => new Promise((r) => setTimeout(r, 150));

afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

describe("run marks", () => {
  it("gives each execute its own mark under the process's", () => {
    const a = executionMark();
    const b = executionMark();
    expect(a).not.toBe(b);
    expect(ownerOf(a)).toBe(ownRunMark());
    expect(belongsTo(a, ownRunMark())).toBe(true);
    expect(belongsTo(a, b)).toBe(false);
    expect(belongsTo(`${ownRunMark()}1`, ownRunMark())).toBe(false);
  });

  it("kills one execute's processes only, and reaps only those of a dead orchestrator", async () => {
    const [markA, markB] = [executionMark(), executionMark()];
    const first = marked(markA);
    const second = marked(markB);
    const orphan = marked("999999999.1.4");
    await settle();
    expect(reapOrphans()).toBeGreaterThanOrEqual(1); // other orphans on the machine may go too
    await settle();
    expect(alive(orphan)).toBe(false);
    expect([alive(first), alive(second)]).toEqual([true, true]);
    expect(killRun(markA, "SIGKILL")).toBe(1);
    await settle();
    expect([alive(first), alive(second)]).toEqual([false, true]);
    // The orchestrator's own mark covers every execute under it (the CLI's second signal).
    expect(killRun(ownRunMark(), "SIGKILL")).toBe(1);
    await settle();
    expect(alive(second)).toBe(false);
  });
});
