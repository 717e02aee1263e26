/**
 * Runs that meet other runs and hard stops: a stack locked by a live process (waited for, then a
 * clear failure), a stale lock (cleared), SIGINT with pairs in flight (no lock left, the next
 * run converges), SIGKILL of the whole process group mid-run (the next run recovers).
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { APP_TO_FILES, Sandbox, statuses } from "../support/sandbox.js";
import { CLI, recordedToolchain } from "../support/toolchain.js";

const CANARY = "canary-locks-77aa01";
const boxes: Sandbox[] = [];
afterEach(() => {
  for (const b of boxes.splice(0)) b.cleanup();
});

function project(envs: number, version: string): Sandbox {
  const box = new Sandbox();
  boxes.push(box);
  writeEnvs(box, envs, version);
  box.writeManifest(APP_TO_FILES);
  return box;
}

function writeEnvs(box: Sandbox, envs: number, version: string): void {
  for (let i = 1; i <= envs; i++) {
    box.writeEnvironment("app", `e${i}`, `values:\n  environmentVariables:\n    VERSION: "${version}"\n    SECRET:\n      fn::secret: ${CANARY}-${i}\n`);
  }
}

function expectFiles(box: Sandbox, envs: number, version: string): void {
  for (let i = 1; i <= envs; i++) expect(box.read(`out/e${i}.env`)).toBe(`SECRET=${CANARY}-${i}\nVERSION=${version}\n`);
}

/** Every lock file left in the backend. */
function locks(box: Sandbox): string[] {
  const dir = join(box.backendDir, ".pulumi", "locks");
  if (!existsSync(dir)) return [];
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith(".json") ? [join(d, e.name)] : []));
  return walk(dir);
}

/** Writes a lock like the Pulumi CLI's for one stack of the sandbox. */
function writeLock(box: Sandbox, stack: string, lock: { pid: number; hostname: string; timestamp: string }): void {
  const dir = join(box.backendDir, ".pulumi", "locks", "organization", "esc-sync", stack);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${randomUUID()}.json`), JSON.stringify({ ...lock, username: "someone" }));
}

/** Resolves once at least `n` stacks are locked: updates are in flight right then. */
async function locksHeld(box: Sandbox, n: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (locks(box).length < n) {
    if (Date.now() > deadline) throw new Error(`never saw ${n} stacks locked at once`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Starts the CLI in a process group of its own; resolves once `ready` matches its output. */
function startSync(box: Sandbox, ready: RegExp) {
  const { node } = recordedToolchain();
  const child = spawn(node, [CLI, "sync", "--concurrency", "3"], { cwd: box.dir, env: box.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  const started = new Promise<void>((resolve, reject) => {
    const check = () => {
      if (ready.test(out)) resolve();
    };
    child.stdout.on("data", (d) => {
      out += d;
      check();
    });
    child.stderr.on("data", (d) => (out += d));
    child.on("close", () => reject(new Error(`exited before ${ready}:\n${out}`)));
  });
  return { child, started, exited, output: () => out };
}

describe("locks and hard stops", () => {
  it("waits for a stack locked by a live run, then fails that pair clearly; the others go on", async () => {
    const box = project(2, "1");
    expect((await box.run(["sync"])).code).toBe(0);
    writeEnvs(box, 2, "2");
    const holder = spawn("sleep", ["120"]); // a live process on this host holds the lock
    try {
      writeLock(box, "app.e1.out", { pid: holder.pid!, hostname: hostname(), timestamp: new Date().toISOString() });
      const { result, report } = await box.syncJson(["--lock-wait-seconds", "3"]);
      expect(result.code).toBe(1);
      expect(statuses(report)).toEqual({ "app.e1.out": "failed", "app.e2.out": "updated" });
      const e1 = report.pairs.find((p) => p.stack === "app.e1.out") as { message?: string; retries?: { cause: string }[] };
      expect(e1.message).toMatch(new RegExp(`locked by another run \\(someone@${hostname()} pid ${holder.pid} since .*\\), still after waiting`));
      expect(e1.retries?.length).toBeGreaterThan(0);
      expect(e1.retries?.[0]?.cause).toBe("stack locked by another run");
      expect(box.read("out/e1.env")).toContain("VERSION=1"); // untouched
      expect(box.read("out/e2.env")).toContain("VERSION=2");
    } finally {
      holder.kill();
    }
  });

  it("two runs at once over one backend: both finish, nothing is corrupted", async () => {
    const box = project(4, "1");
    const [one, two] = await Promise.all([box.syncJson(["--concurrency", "2"]), box.syncJson(["--concurrency", "2"])]);
    for (const r of [one, two]) expect(r.result.code, r.result.stdout + r.result.stderr).toBe(0);
    expectFiles(box, 4, "1");
    expect(locks(box)).toEqual([]);
    const after = await box.syncJson();
    expect(new Set(Object.values(statuses(after.report)))).toEqual(new Set(["unchanged"]));
  });

  it("clears a stale lock (its process is gone, or it is old and from another host) and says so", async () => {
    const box = project(2, "1");
    expect((await box.run(["sync"])).code).toBe(0);
    writeEnvs(box, 2, "2");
    const gone = spawn("true");
    await new Promise((r) => gone.on("close", r));
    writeLock(box, "app.e1.out", { pid: gone.pid!, hostname: hostname(), timestamp: new Date().toISOString() });
    writeLock(box, "app.e2.out", { pid: 1, hostname: "evicted-pod-7f9c", timestamp: new Date(Date.now() - 3 * 3600_000).toISOString() });
    const { result, report } = await box.syncJson();
    expect(result.code, result.stdout).toBe(0);
    expect(statuses(report)).toEqual({ "app.e1.out": "updated", "app.e2.out": "updated" });
    const messages = Object.fromEntries(report.pairs.map((p) => [p.stack, p.message ?? ""]));
    expect(messages["app.e1.out"]).toMatch(/cleared a stale lock: its process, pid \d+ on \S+, is gone(;|$)/);
    expect(messages["app.e2.out"]).toMatch(/cleared a stale lock: taken 180 min ago on host evicted-pod-7f9c, more than --stale-lock-minutes 30(;|$)/);
    expect(locks(box)).toEqual([]);
    expectFiles(box, 2, "2");
  });

  it("on SIGINT interrupts the pairs in flight, leaves no lock, and the next run converges", async () => {
    const box = project(6, "1");
    const run = startSync(box, /syncing/);
    await run.started;
    await locksHeld(box, 2); // at least two updates in flight
    process.kill(run.child.pid!, "SIGINT");
    const { code } = await run.exited;
    expect(code).not.toBe(0);
    expect(run.output()).toMatch(/SIGINT: stopping/);
    expect(run.output()).toMatch(/interrupted/);
    expect(locks(box)).toEqual([]);
    const next = await box.syncJson();
    expect(next.result.code, next.result.stdout + next.result.stderr).toBe(0);
    expectFiles(box, 6, "1");
    for (const text of [run.output(), next.result.stdout, next.result.stderr]) expect(text).not.toContain(CANARY);
  });

  it("after SIGKILL of the whole run mid-update, the next run recovers and every file ends right", async () => {
    const box = project(6, "1");
    expect((await box.run(["sync"])).code).toBe(0);
    writeEnvs(box, 6, "2");
    const run = startSync(box, /syncing/);
    await run.started;
    await locksHeld(box, 2); // updates in flight: kill right in the middle of them
    process.kill(-run.child.pid!, "SIGKILL"); // the CLI and every Pulumi process it started
    await run.exited;
    // The kill left locks behind for the next run to deal with.
    expect(locks(box).length).toBeGreaterThan(0);
    const next = await box.syncJson();
    expect(next.result.code, next.result.stdout + next.result.stderr).toBe(0);
    expectFiles(box, 6, "2");
    expect(locks(box)).toEqual([]);
    // And a run after that has nothing left to do.
    const again = await box.syncJson();
    expect(new Set(Object.values(statuses(again.report)))).toEqual(new Set(["unchanged"]));
    expect(readFileSync(join(box.dir, "out", "e3.env"), "utf8")).toContain("VERSION=2");
  });
});
