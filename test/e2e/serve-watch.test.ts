/**
 * `esc-sync serve --watch` on a local source, end to end with the real Pulumi CLI: ready after
 * the first reconcile, an edit reaches the file target, SIGTERM fails readiness first and exits 0
 * with no lock and no process left, also when it cancels a sync midway; the next start converges.
 * No secret value in any log line.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { markedProcesses } from "../../orchestrator/runner/processes.js";
import { APP_TO_FILES, Sandbox } from "../support/sandbox.js";
import { ServeProcess, waitUntil } from "../support/serve.js";

const SECRET = "canary-watch-secret-7d1f";
const env = (value: string, secret = SECRET) => `values:\n  environmentVariables:\n    VALUE: ${value}\n    TOKEN:\n      fn::secret: ${secret}\n`;

/** Files under the backend's lock folder: a lock left behind is one. */
function locks(box: Sandbox): string[] {
  const dir = join(box.backendDir, ".pulumi", "locks");
  const walk = (d: string): string[] => (existsSync(d) ? readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)])) : []);
  return walk(dir);
}

/** Processes still carrying a run mark of this serve. */
const leftovers = (pid: number) => markedProcesses().filter((p) => p.run.startsWith(`${pid}.`));

describe("serve --watch", () => {
  const box = new Sandbox();
  box.writeManifest(APP_TO_FILES);
  box.writeEnvironment("app", "dev", env("one"));
  afterAll(() => box.cleanup());

  it("syncs at start, then every edit; SIGTERM fails readiness first and exits 0 with nothing left", async () => {
    const serve = await ServeProcess.start(box, ["--watch", "--debounce", "0s", "--shutdown-grace", "60s"]);
    try {
      expect((await serve.get("/healthz")).status).toBe(200);
      await serve.reconciled();
      expect(box.read("out/dev.env")).toContain("VALUE=one");
      expect((await serve.get("/readyz")).status).toBe(200);

      box.writeEnvironment("app", "dev", env("two"));
      await waitUntil("the edit in out/dev.env", () => existsSync(join(box.outDir, "dev.env")) && box.read("out/dev.env").includes("VALUE=two"));

      // A sync in flight when SIGTERM comes: readiness fails at once, the sync finishes (grace), exit 0.
      const from = serve.lines.length;
      box.writeEnvironment("app", "dev", env("three"));
      await serve.waitFor((l) => l.msg === "cycle start" && l.trigger === "change", 30_000, from);
      serve.child.kill("SIGTERM");
      await serve.waitFor((l) => l.msg.startsWith("stopping"), 10_000, from);
      expect((await serve.get("/readyz")).status).toBe(503);
      const exit = await serve.exited;
      expect(exit.code).toBe(0);
      expect(box.read("out/dev.env")).toContain("VALUE=three");
      expect(locks(box)).toEqual([]);
      expect(leftovers(serve.pid)).toEqual([]);
    } finally {
      await serve.stop("SIGKILL");
      expect(serve.stdout + serve.stderr).not.toContain(SECRET);
    }
  });

  it("cancels a sync midway when the grace is over: no lock, no process, exit 0; the next start converges", async () => {
    const serve = await ServeProcess.start(box, ["--watch", "--debounce", "0s", "--shutdown-grace", "0s"]);
    try {
      await serve.reconciled();
      const from = serve.lines.length;
      box.writeEnvironment("app", "dev", env("four"));
      await serve.waitFor((l) => l.msg === "cycle start" && l.trigger === "change", 30_000, from);
      serve.child.kill("SIGTERM");
      const exit = await serve.exited;
      expect(exit.code).toBe(0);
      expect(locks(box)).toEqual([]);
      expect(leftovers(serve.pid)).toEqual([]);
    } finally {
      await serve.stop("SIGKILL");
      expect(serve.stdout + serve.stderr).not.toContain(SECRET);
    }
    const next = await ServeProcess.start(box, ["--watch"]);
    try {
      await next.reconciled();
      expect(box.read("out/dev.env")).toContain("VALUE=four");
      expect(box.read("out/dev.env")).toContain(`TOKEN=${SECRET}`);
    } finally {
      expect((await next.stop()).code).toBe(0);
      expect(next.stdout + next.stderr).not.toContain(SECRET);
    }
  });

  it("sees every save: five sed -i saves (a rename over the file) and an in-place write of one file each reach the target", async () => {
    box.writeEnvironment("app", "dev", env("save0"));
    const serve = await ServeProcess.start(box, ["--watch", "--debounce", "0s", "--reconcile-every", "1h"]);
    try {
      await serve.reconciled();
      expect(box.read("out/dev.env")).toContain("VALUE=save0");
      const file = join(box.envDir, "app", "dev.yaml");
      for (let i = 1; i <= 5; i++) {
        // GNU sed -i writes a temporary file beside the definition and renames it over it, as editors do.
        execFileSync("sed", ["-i", `s/VALUE: save${i - 1}/VALUE: save${i}/`, file]);
        await waitUntil(`sed -i save ${i} in out/dev.env`, () => box.read("out/dev.env").includes(`VALUE=save${i}`), 120_000);
      }
      writeFileSync(file, env("in-place"));
      await waitUntil("the in-place write in out/dev.env", () => box.read("out/dev.env").includes("VALUE=in-place"), 120_000);
      // Seen by the watcher, not by a reconcile: only the first reconcile ran.
      expect(serve.lines.filter((l) => l.msg === "cycle start" && l.trigger === "reconcile")).toHaveLength(1);
      expect(serve.lines.filter((l) => l.msg === "definition changed" && l.environment === "app/dev").length).toBeGreaterThanOrEqual(6);
    } finally {
      expect((await serve.stop()).code).toBe(0);
      expect(serve.stdout + serve.stderr).not.toContain(SECRET);
    }
  });

  it("retries an environment whose pair failed, without waiting for an edit or the next reconcile", async () => {
    // A new value (an unchanged pair would not run), and out/dev.env a folder: the pair fails until it is gone.
    box.writeEnvironment("app", "dev", env("five"));
    rmSync(join(box.outDir, "dev.env"), { recursive: true, force: true });
    mkdirSync(join(box.outDir, "dev.env"), { recursive: true });
    writeFileSync(join(box.outDir, "dev.env", "in-the-way"), "");
    const serve = await ServeProcess.start(box, ["--watch", "--debounce", "0s", "--reconcile-every", "1h"]);
    try {
      await serve.reconciled();
      const retry = await serve.waitFor((l) => l.msg.startsWith("a pair failed: retrying") && l.environment === "app/dev", 30_000);
      expect(retry.attempt).toBe(1);
      const from = serve.lines.length;
      rmSync(join(box.outDir, "dev.env"), { recursive: true });
      await waitUntil("the retried pair in out/dev.env", () => existsSync(join(box.outDir, "dev.env")) && box.read("out/dev.env").includes("VALUE=five"), 120_000);
      // The retry was a cycle of that environment, not a reconcile.
      expect(serve.lines.slice(from).some((l) => l.msg === "cycle start" && l.trigger === "change")).toBe(true);
      expect(serve.lines.filter((l) => l.msg === "cycle start" && l.trigger === "reconcile")).toHaveLength(1);
    } finally {
      expect((await serve.stop()).code).toBe(0);
      expect(serve.stdout + serve.stderr).not.toContain(SECRET);
    }
  });
});

describe("serve, when a whole cycle fails", () => {
  const box = new Sandbox();
  box.writeManifest(APP_TO_FILES);
  box.writeEnvironment("app", "dev", env("one"));
  afterAll(() => box.cleanup());

  it("retries the failed first reconcile: not ready while it fails, ready and synced once it can be read", async () => {
    // The environment folder is away: listing fails, so the first reconcile throws.
    renameSync(box.envDir, `${box.envDir}.away`);
    const serve = await ServeProcess.start(box, ["--insecure-no-verify", "--reconcile-every", "1h"]);
    try {
      await serve.waitFor((l) => l.msg.startsWith("the reconcile failed: retrying") && l.attempt === 1, 60_000);
      expect((await serve.get("/readyz")).status).toBe(503);
      renameSync(`${box.envDir}.away`, box.envDir);
      await serve.reconciled();
      expect((await serve.get("/readyz")).status).toBe(200);
      expect(box.read("out/dev.env")).toContain("VALUE=one");
    } finally {
      expect((await serve.stop()).code).toBe(0);
      expect(serve.stdout + serve.stderr).not.toContain(SECRET);
    }
  });
});

describe("serve --watch, folders and files that come and go", () => {
  const box = new Sandbox();
  box.writeManifest(`
version: 1
source: { kind: local, folder: environments }
state: { backend: file://./state }
targets:
  out: { kind: file, path: "out/{project}-{env}.env" }
bindings:
  - { environments: "*/*", target: out }
`);
  box.writeEnvironment("app", "dev", env("one"));
  afterAll(() => box.cleanup());

  it("sees a project folder created after it started, the files in it saved by rename, and a file removed", async () => {
    const serve = await ServeProcess.start(box, ["--watch", "--debounce", "0s", "--reconcile-every", "1h"]);
    try {
      await serve.reconciled();
      // A new folder and a file in it, both created while serve runs.
      mkdirSync(join(box.envDir, "late"));
      writeFileSync(join(box.envDir, "late", "svc.yaml"), env("born-late"));
      await waitUntil("the new environment's file", () => box.read("out/late-svc.env").includes("VALUE=born-late"), 120_000);
      execFileSync("sed", ["-i", "s/VALUE: born-late/VALUE: renamed-save/", join(box.envDir, "late", "svc.yaml")]);
      await waitUntil("the save by rename in the new folder", () => box.read("out/late-svc.env").includes("VALUE=renamed-save"), 120_000);
      // Removed: its pair is an orphan, held by the deletion guard (no --allow-deletes).
      const from = serve.lines.length;
      rmSync(join(box.envDir, "late", "svc.yaml"));
      const held = await serve.waitFor((l) => l.msg === "pair not synced" && l.stack === "late.svc.out", 120_000, from);
      expect(held.status).toBe("held");
      expect(existsSync(join(box.outDir, "late-svc.env"))).toBe(true);
      expect(serve.lines.filter((l) => l.msg === "cycle start" && l.trigger === "reconcile")).toHaveLength(1);
    } finally {
      expect((await serve.stop()).code).toBe(0);
      expect(serve.stdout + serve.stderr).not.toContain(SECRET);
    }
  });
});
