/**
 * Everything ends: a pair whose engine operation hangs (a `file` target whose path is a named pipe
 * nobody writes to: the dynamic provider's read of it blocks forever; a path under /proc, where
 * Node's recursive mkdir spins, is refused at plan time now) is cancelled at its deadline, its
 * processes ended and its lock released, while the other pairs finish; the run's own --timeout
 * ends a run; and what an orchestrator killed with SIGKILL left running, the next run ends.
 * Processes are counted by the mark every process of a run inherits.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { markedProcesses } from "../../orchestrator/runner/processes.js";
import { Sandbox } from "../support/sandbox.js";

const MANIFEST = `
version: 1
source: { kind: local, folder: environments }
state: { backend: file://./state }
targets:
  out: { kind: file, path: "out/{env}.env" }
  hang: { kind: file, path: "fifo/{env}.env" }
bindings:
  - { environments: "app/*", target: out }
  - { environments: "app/*", target: hang }
`;

/** Processes marked as started by the orchestrator with this pid. */
const processesOf = (pid: number) => markedProcesses().filter((p) => p.run.startsWith(`${pid}.`));

function lockFiles(box: Sandbox): string[] {
  const dir = join(box.backendDir, ".pulumi", "locks");
  if (!existsSync(dir)) return [];
  const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [e.name]));
  return walk(dir);
}

const boxes: Sandbox[] = [];
afterEach(() => {
  for (const b of boxes.splice(0)) b.cleanup();
});

function sandbox(): Sandbox {
  const box = new Sandbox();
  boxes.push(box);
  box.writeEnvironment("app", "one", `values:\n  environmentVariables:\n    A: "1"\n`);
  box.writeManifest(MANIFEST);
  // A FIFO without a writer: opening it to read (the provider checks what is there before it
  // writes) never returns.
  mkdirSync(join(box.dir, "fifo"));
  execFileSync("mkfifo", [join(box.dir, "fifo", "one.env")]);
  return box;
}

describe("deadlines", () => {
  it("a hanging pair ends at --pair-timeout, the others finish, and no process or lock of the run remains", async () => {
    const box = sandbox();
    let pid = 0;
    const r = await box.run(["sync", "--output", "json", "--pair-timeout", "15s"], { onSpawn: (p) => (pid = p) });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { pairs: { stack: string; status: string; message?: string }[] };
    const byStack = Object.fromEntries(report.pairs.map((p) => [p.stack, p]));
    expect(byStack["app.one.out"]?.status).toBe("created");
    expect(byStack["app.one.hang"]).toMatchObject({ status: "failed", message: expect.stringMatching(/^timed out after 15s: the operation was cancelled.*lock released/) });
    expect(box.read("out/one.env")).toBe("A=1\n");
    expect(processesOf(pid)).toEqual([]);
    expect(lockFiles(box)).toEqual([]);
  });

  it("--timeout ends the whole run: the running pair is interrupted, nothing is left running", async () => {
    const box = sandbox();
    let pid = 0;
    const started = Date.now();
    const r = await box.run(["sync", "--output", "json", "--timeout", "10s", "--pair-timeout", "10m", "-t", "hang"], { onSpawn: (p) => (pid = p) });
    expect(r.code).toBe(1);
    // The deadline plus the grace a cancelled operation gets, far below the pair's own 10 minutes.
    expect(Date.now() - started).toBeLessThan(120_000);
    const report = JSON.parse(r.stdout) as { pairs: { stack: string; status: string; message?: string }[] };
    expect(report.pairs).toEqual([expect.objectContaining({ stack: "app.one.hang", status: "failed", message: expect.stringMatching(/^interrupted/) })]);
    expect(processesOf(pid)).toEqual([]);
  });

  it("after a SIGKILL of the orchestrator, the next run ends the processes it left", async () => {
    const box = sandbox();
    let pid = 0;
    const run = box.run(["sync", "-t", "hang", "--pair-timeout", "10m"], { onSpawn: (p) => (pid = p) });
    // Wait until the hanging pair's dynamic provider runs, then kill the orchestrator outright.
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && processesOf(pid).filter((p) => p.pair === "app.one.hang").length < 2) await delay(500);
    expect(processesOf(pid).length).toBeGreaterThan(1);
    process.kill(pid, "SIGKILL");
    await run;
    await delay(500);
    const left = processesOf(pid);
    expect(left.length).toBeGreaterThan(0); // what a SIGKILL leaves: the reason for the reaping
    const next = await box.run(["sync", "-t", "out"]);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(next.stdout).toMatch(/ended \d+ process\(es\) left running by an earlier esc-sync run that was killed/);
    await delay(500);
    expect(processesOf(pid)).toEqual([]);
  });
});
