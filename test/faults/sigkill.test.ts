/**
 * serve killed with SIGKILL in the middle of a cycle (only serve: the Pulumi processes it started
 * are orphaned, as when the node-level OOM killer picks it), then started again on the same
 * backend: the processes it left are ended, the locks it left are cleared, the interrupted
 * updates are recovered (no pending operation left in any stack), every target converges, and no
 * entry is written twice.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { markedProcesses } from "../../orchestrator/runner/processes.js";
import { APP_TO_FILES, Sandbox } from "../support/sandbox.js";
import { ServeProcess, waitUntil } from "../support/serve.js";
import { figures, leftovers, walk } from "./support.js";

const CANARY = "canary-faults-kill-5e61";
const ENVS = 8;

describe("SIGKILL of serve mid-cycle, then a restart", () => {
  const box = new Sandbox({ ESC_SYNC_WEBHOOK_SECRET: "whsec-faults-kill-not-used" });
  const pids: number[] = [];
  let serve: ServeProcess | undefined;
  const write = (version: string) => {
    for (let i = 1; i <= ENVS; i++) box.writeEnvironment("app", `e${i}`, `values:\n  environmentVariables:\n    VERSION: "${version}"\n    SECRET:\n      fn::secret: ${CANARY}-${i}\n`);
  };
  const locks = () => walk(join(box.backendDir, ".pulumi", "locks"), (n) => n.endsWith(".json"));
  const stacks = () => walk(join(box.backendDir, ".pulumi", "stacks"), (n) => n.endsWith(".json"));

  afterAll(async () => {
    await serve?.stop("SIGKILL");
    expect(leftovers(pids, box.dir)).toEqual([]);
    box.cleanup();
  });

  it("recovers: orphans ended, locks cleared, pending operations gone, every file right, no entry twice", async () => {
    write("1");
    box.writeManifest(APP_TO_FILES);
    expect((await box.run(["sync"])).code).toBe(0);
    write("2");
    const first = await ServeProcess.start(box, ["--reconcile-every", "1h"]);
    pids.push(first.pid);
    // Updates in flight: two stacks locked at once.
    await waitUntil("two stacks locked", () => locks().length >= 2, 180_000);
    first.child.kill("SIGKILL");
    await first.exited;
    const locksLeft = locks().length;
    const orphans = markedProcesses().filter((p) => p.run.startsWith(`${first.pid}.`)).length;
    const doneBeforeKill = first.lines.filter((l) => l.msg === "pair done").length;

    serve = await ServeProcess.start(box, ["--reconcile-every", "1h"]);
    pids.push(serve.pid);
    const done = await serve.reconciled();
    await waitUntil("the orphans ended", () => markedProcesses().every((p) => !p.run.startsWith(`${first.pid}.`)), 60_000);
    const files = Array.from({ length: ENVS }, (_, i) => readFileSync(join(box.outDir, `e${i + 1}.env`), "utf8"));
    const duplicated = files.filter((f) => {
      const keys = f.split("\n").filter(Boolean).map((l) => l.slice(0, l.indexOf("=")));
      return new Set(keys).size !== keys.length;
    }).length;
    const pending = stacks().filter((f) => {
      const s = JSON.parse(readFileSync(f, "utf8")) as { checkpoint?: { latest?: { pending_operations?: unknown[] } } };
      return (s.checkpoint?.latest?.pending_operations ?? []).length > 0;
    }).length;
    const cleared = serve.lines.filter((l) => /lock/.test(String(l.message ?? "")) || /lock/.test(l.msg)).length;
    figures("sigkill", {
      envs: ENVS,
      pairsDoneBeforeKill: doneBeforeKill,
      locksLeftByKill: locksLeft,
      orphansLeftByKill: orphans,
      lockMessagesAtRestart: cleared,
      restartReconcile: JSON.stringify(done.byStatus),
      failedAfterRestart: Number(done.failed),
      locksAfter: locks().length,
      pendingOperationsAfter: pending,
      duplicatedEntryFiles: duplicated,
      wrongFiles: files.filter((f, i) => f !== `SECRET=${CANARY}-${i + 1}\nVERSION=2\n`).length,
    });
    expect(locksLeft).toBeGreaterThan(0);
    expect(Number(done.failed)).toBe(0);
    expect(locks()).toEqual([]);
    expect(pending).toBe(0);
    expect(duplicated).toBe(0);
    files.forEach((f, i) => expect(f).toBe(`SECRET=${CANARY}-${i + 1}\nVERSION=2\n`));
    expect(first.stdout + serve.stdout + serve.stderr).not.toContain(CANARY);
  });
});
