/**
 * Two replicas of serve on one backend, the same manifest, both told of every change (a rolling
 * update, or replicas: 2). The model: no leader; each stack's Pulumi lock serialises the two, and
 * the second to get a lock finds the work done (unchanged) or does it again to the same result
 * (docs/operating-serve.md).
 * Both stay healthy and ready, every file ends right with no entry twice, no lock is left, and
 * the deletion guard holds on both (an environment removed is held, not deleted, by either).
 * One replica killed (SIGKILL) in the middle of a cycle: the other converges every environment
 * by itself (the dead one's stale locks cleared, its orphaned processes ended), no entry twice.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_TO_FILES, Sandbox } from "../support/sandbox.js";
import { ServeProcess, waitUntil, type LogLine } from "../support/serve.js";
import { descendants, figures, leftovers, walk } from "./support.js";

const CANARY = "canary-faults-replicas-90d3";
const ADMIN = "admin-faults-replicas-not-a-value";
const ENVS = 6;

describe("two replicas on one backend", () => {
  const box = new Sandbox({ ESC_SYNC_WEBHOOK_SECRET: "whsec-faults-replicas-not-used", ESC_SYNC_ADMIN_TOKEN: ADMIN });
  const pids: number[] = [];
  const replicas: ServeProcess[] = [];
  const write = (version: string) => {
    for (let i = 1; i <= ENVS; i++) box.writeEnvironment("app", `e${i}`, `values:\n  environmentVariables:\n    VERSION: "${version}"\n    SECRET:\n      fn::secret: ${CANARY}-${i}\n`);
  };
  const locks = () => walk(join(box.backendDir, ".pulumi", "locks"), (n) => n.endsWith(".json"));
  /** Both reconcile now; resolves with each one's pair lines and closing line. */
  async function bothReconcile(): Promise<{ pairs: LogLine[]; done: LogLine }[]> {
    const from = replicas.map((r) => r.lines.length);
    await Promise.all(replicas.map(async (r) => expect((await r.post("/sync", "", { Authorization: `Bearer ${ADMIN}` })).status).toBe(202)));
    return Promise.all(
      replicas.map(async (r, i) => {
        const done = await r.waitFor((l) => l.msg === "cycle done" && l.trigger === "reconcile", 300_000, from[i]);
        return { pairs: r.lines.slice(from[i]).filter((l) => l.msg === "pair done" || l.msg === "pair not synced"), done };
      }),
    );
  }

  beforeAll(async () => {
    write("1");
    box.writeManifest(APP_TO_FILES);
    for (let i = 0; i < 2; i++) {
      const r = await ServeProcess.start(box, ["--reconcile-every", "1h", "--lock-wait-seconds", "120"]);
      pids.push(r.pid);
      replicas.push(r);
    }
    await Promise.all(replicas.map((r) => r.reconciled()));
  });
  afterAll(async () => {
    for (const r of replicas) await r.stop("SIGKILL");
    expect(leftovers(pids, box.dir)).toEqual([]);
    box.cleanup();
  });

  it("both converge the same edits through the stack locks, healthy, no entry twice, no lock left", async () => {
    write("2");
    const [a, b] = await bothReconcile();
    const files = Array.from({ length: ENVS }, (_, i) => readFileSync(join(box.outDir, `e${i + 1}.env`), "utf8"));
    const duplicated = files.filter((f) => {
      const keys = f.split("\n").filter(Boolean).map((l) => l.slice(0, l.indexOf("=")));
      return new Set(keys).size !== keys.length;
    }).length;
    const ready = await Promise.all(replicas.map(async (r) => (await r.get("/readyz")).status));
    figures("two replicas edit", {
      envs: ENVS,
      replicaA: JSON.stringify(a!.done.byStatus),
      replicaB: JSON.stringify(b!.done.byStatus),
      failed: Number(a!.done.failed) + Number(b!.done.failed),
      lockWaits: [...replicas[0]!.lines, ...replicas[1]!.lines].filter((l) => /lock/i.test(String(l.message ?? ""))).length,
      duplicatedEntryFiles: duplicated,
      locksLeft: locks().length,
      readyz: ready.join(","),
    });
    expect(Number(a!.done.failed) + Number(b!.done.failed)).toBe(0);
    files.forEach((f, i) => expect(f).toBe(`SECRET=${CANARY}-${i + 1}\nVERSION=2\n`));
    expect(duplicated).toBe(0);
    expect(locks()).toEqual([]);
    expect(ready).toEqual([200, 200]);
  });

  it("neither replica bypasses the deletion guard", async () => {
    box.removeEnvironment("app", "e6");
    const results = await bothReconcile();
    const e6 = results.map((r) => r.pairs.find((l) => l.stack === "app.e6.out"));
    figures("two replicas delete", { e6: e6.map((l) => l?.status ?? "none").join(","), fileKept: existsSync(join(box.outDir, "e6.env")), locksLeft: locks().length });
    for (const l of e6) expect(l?.status).toBe("held");
    expect(existsSync(join(box.outDir, "e6.env"))).toBe(true);
    expect(locks()).toEqual([]);
    for (const r of replicas) expect(r.stdout + r.stderr).not.toContain(CANARY);
  });

  it("one replica killed mid-cycle: the other converges every environment by itself", async () => {
    const live = [1, 2, 3, 4, 5];
    for (const i of live) box.writeEnvironment("app", `e${i}`, `values:\n  environmentVariables:\n    VERSION: "3"\n    SECRET:\n      fn::secret: ${CANARY}-${i}\n`);
    const [a, b] = replicas as [ServeProcess, ServeProcess];
    const fromB = b.lines.length;
    await Promise.all(replicas.map(async (r) => expect((await r.post("/sync", "", { Authorization: `Bearer ${ADMIN}` })).status).toBe(202)));
    // Mid-cycle: A has Pulumi processes running for its pairs.
    await waitUntil("replica A running its pairs", () => descendants(a.pid).length > 0, 120_000);
    const killedWith = descendants(a.pid).length;
    await a.stop("SIGKILL");
    const holds = (i: number) => existsSync(join(box.outDir, `e${i}.env`)) && readFileSync(join(box.outDir, `e${i}.env`), "utf8") === `SECRET=${CANARY}-${i}\nVERSION=3\n`;
    await waitUntil("every environment at VERSION=3 through replica B", () => live.every(holds), 400_000);
    // B's next cycle finds nothing left to do, and ends what A left running (its orphans).
    const from = b.lines.length;
    expect((await b.post("/sync", "", { Authorization: `Bearer ${ADMIN}` })).status).toBe(202);
    const done = await b.waitFor((l) => l.msg === "cycle done" && l.trigger === "reconcile", 300_000, from);
    const linesB = b.lines.slice(fromB);
    const pairLines = (ls: LogLine[]) => ls.filter((l) => l.msg === "pair done" || l.msg === "pair not synced");
    const beforeAsk = pairLines(b.lines.slice(fromB, from));
    const lastCycle = pairLines(b.lines.slice(from));
    const files = live.map((i) => readFileSync(join(box.outDir, `e${i}.env`), "utf8"));
    const duplicated = files.filter((f) => {
      const keys = f.split("\n").filter(Boolean).map((l) => l.slice(0, l.indexOf("=")));
      return new Set(keys).size !== keys.length;
    }).length;
    const pending = walk(join(box.backendDir, ".pulumi", "stacks"), (n) => n.endsWith(".json")).filter((f) => ((JSON.parse(readFileSync(f, "utf8")) as { checkpoint?: { latest?: { pending_operations?: unknown[] } } }).checkpoint?.latest?.pending_operations ?? []).length > 0).length;
    const readyB = (await b.get("/readyz")).status;
    figures("two replicas kill", {
      envs: live.length,
      killedWithProcesses: killedWith,
      failedOnB: linesB.filter((l) => l.status === "failed").length,
      staleLocksCleared: linesB.filter((l) => /stale lock/.test(String(l.message ?? ""))).length,
      recoveredPending: linesB.filter((l) => /left pending/.test(String(l.message ?? ""))).length,
      pairsOnBBeforeAsked: beforeAsk.map((l) => `${String(l.stack).split(".")[1]}:${l.status}`).join(","),
      lastReconcileB: JSON.stringify(done.byStatus),
      lastReconcileNotes: JSON.stringify([...new Set(lastCycle.map((l) => String(l.message ?? "")).filter(Boolean))]),
      duplicatedEntryFiles: duplicated,
      locksLeft: locks().length,
      pendingOperationsLeft: pending,
      readyzB: readyB,
    });
    for (const i of live) expect(holds(i)).toBe(true);
    expect(Number(done.failed ?? 0) - Number((done.byStatus as { held?: number }).held ?? 0)).toBe(0);
    expect(duplicated).toBe(0);
    expect(locks()).toEqual([]);
    expect(pending).toBe(0);
    expect(readyB).toBe(200);
    expect(leftovers([a.pid], box.dir).filter((l) => l.startsWith("marked"))).toEqual([]);
  });
});
