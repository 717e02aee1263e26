/**
 * A damaged state backend under a running serve: a stack's state file truncated by hand and a
 * lock file left by a host that is gone. Each costs only the pair it touches, with one clear line
 * naming what and how to fix it; serve stays up; the next cycle after the fault is removed
 * converges; no stack loses its record. And a full disk: the state folder on a small tmpfs of
 * serve's own (a mount namespace; rootless where user namespaces are allowed) filled to the last
 * byte: the pairs that must write their state fail, one line each with the fix, the others are
 * untouched, no state file is damaged, and once space is freed the next cycle converges.
 */
import { randomUUID } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_TO_FILES, Sandbox } from "../support/sandbox.js";
import { ServeProcess, type LogLine } from "../support/serve.js";
import { figures, leftovers, tmpfsWrapper, walk } from "./support.js";

const CANARY = "canary-faults-backend-2f8c";
const ADMIN = "admin-faults-backend-not-a-value";
const ENVS = 4;

describe("backend faults under serve", () => {
  const box = new Sandbox({ ESC_SYNC_WEBHOOK_SECRET: "whsec-faults-backend-not-used", ESC_SYNC_ADMIN_TOKEN: ADMIN });
  const pids: number[] = [];
  let serve: ServeProcess;
  const write = (version: string) => {
    for (let i = 1; i <= ENVS; i++) box.writeEnvironment("app", `e${i}`, `values:\n  environmentVariables:\n    VERSION: "${version}"\n    SECRET:\n      fn::secret: ${CANARY}-${i}\n`);
  };
  const stackFile = (stack: string) => walk(join(box.backendDir, ".pulumi", "stacks"), (n) => n === `${stack}.json`)[0]!;
  const fileIs = (i: number, version: string) => readFileSync(join(box.outDir, `e${i}.env`), "utf8") === `SECRET=${CANARY}-${i}\nVERSION=${version}\n`;
  /** Every stack's state file parses and holds its resources (the record is not lost). */
  const records = () =>
    walk(join(box.backendDir, ".pulumi", "stacks"), (n) => n.endsWith(".json")).map((f) => {
      try {
        const s = JSON.parse(readFileSync(f, "utf8")) as { checkpoint?: { latest?: { resources?: unknown[] } } };
        return (s.checkpoint?.latest?.resources ?? []).length > 0;
      } catch {
        return false;
      }
    });
  /** A reconcile asked for now; resolves with its pair lines and its closing line. */
  async function reconcile(): Promise<{ pairs: LogLine[]; done: LogLine }> {
    const from = serve.lines.length;
    expect((await serve.post("/sync", "", { Authorization: `Bearer ${ADMIN}` })).status).toBe(202);
    const done = await serve.waitFor((l) => l.msg === "cycle done" && l.trigger === "reconcile", 240_000, from);
    const pairs = serve.lines.slice(from).filter((l) => l.msg === "pair done" || l.msg === "pair not synced");
    return { pairs, done };
  }

  beforeAll(async () => {
    write("1");
    box.writeManifest(APP_TO_FILES);
    expect((await box.run(["sync"])).code).toBe(0);
    serve = await ServeProcess.start(box, ["--reconcile-every", "1h", "--stale-lock-minutes", "60"]);
    pids.push(serve.pid);
    await serve.reconciled();
  });
  afterAll(async () => {
    await serve?.stop("SIGKILL");
    expect(leftovers(pids, box.dir)).toEqual([]);
    box.cleanup();
  });

  it("a truncated state file costs its pair only, with the fix; a dead host's lock is cleared; then it converges", async () => {
    const damaged = stackFile("app.e1.out");
    const original = readFileSync(damaged);
    truncateSync(damaged, Math.floor(original.length / 2));
    const lockDir = join(box.backendDir, ".pulumi", "locks", "organization", "esc-sync", "app.e2.out");
    mkdirSync(lockDir, { recursive: true });
    writeFileSync(join(lockDir, `${randomUUID()}.json`), JSON.stringify({ pid: 4242, username: "someone", hostname: "evicted-pod-7f9c", timestamp: new Date(Date.now() - 3 * 3600_000).toISOString() }));
    write("2");
    const first = await reconcile();
    const by = (stack: string) => first.pairs.find((l) => l.stack === stack)!;
    const e1 = by("app.e1.out");
    const e2 = by("app.e2.out");
    figures("backend truncated+dead-lock", {
      e1: `${e1.status}`,
      e1Message: JSON.stringify(e1.message),
      e1Hint: JSON.stringify(e1.hint),
      e1Lines: first.pairs.filter((l) => l.stack === "app.e1.out").length,
      e2: `${e2.status}`,
      e2Message: JSON.stringify(e2.message ?? ""),
      others: first.pairs.filter((l) => !["app.e1.out", "app.e2.out"].includes(String(l.stack))).map((l) => l.status).join(","),
    });
    expect(e1.status).toBe("refused");
    // Says what is wrong with it (not Pulumi Cloud's unrelated "PULUMI_ACCESS_TOKEN must be set").
    expect(String(e1.message)).toMatch(/^the state of stack app\.e1\.out cannot be read: its checkpoint is damaged, truncated or not JSON \(failed to load checkpoint: [^)]+\)/);
    expect(String(e1.message)).not.toMatch(/PULUMI_ACCESS_TOKEN|login/);
    expect(String(e1.hint)).toMatch(/restore the stack's state file/);
    expect(first.pairs.filter((l) => l.stack === "app.e1.out")).toHaveLength(1);
    expect(e2.status).toBe("updated");
    expect(String(e2.message)).toMatch(/stale lock/);
    for (const i of [2, 3, 4]) expect(fileIs(i, "2")).toBe(true);
    expect((await serve.get("/healthz")).status).toBe(200);

    // The fix the hint gives is the operator's: here, the state file restored from its backup.
    writeFileSync(damaged, original);
    const second = await reconcile();
    expect(Number(second.done.failed)).toBe(0);
    for (let i = 1; i <= ENVS; i++) expect(fileIs(i, "2")).toBe(true);
    expect(records().every(Boolean)).toBe(true);
    figures("backend after fix", { reconcile: JSON.stringify(second.done.byStatus), records: records().length, recordsOk: records().filter(Boolean).length });
  });
});

describe("a state backend that fills up under serve (ENOSPC)", () => {
  const box = new Sandbox({ ESC_SYNC_WEBHOOK_SECRET: "whsec-faults-enospc-not-used", ESC_SYNC_ADMIN_TOKEN: ADMIN });
  const tmpfs = tmpfsWrapper(box.backendDir, "16m");
  const pids: number[] = [];
  let serve: ServeProcess;
  const write = (envs: number[], version: string) => {
    for (const i of envs) box.writeEnvironment("app", `e${i}`, `values:\n  environmentVariables:\n    VERSION: "${version}"\n    SECRET:\n      fn::secret: ${CANARY}-${i}\n`);
  };
  const fileIs = (i: number, version: string) => readFileSync(join(box.outDir, `e${i}.env`), "utf8") === `SECRET=${CANARY}-${i}\nVERSION=${version}\n`;
  /** The state folder as serve sees it: the tmpfs, through its mount namespace. */
  const view = () => `/proc/${serve.pid}/root${box.backendDir}`;
  /** Per stack: its record's fingerprint, or "unreadable" (the record must never be lost). */
  const records = () =>
    Object.fromEntries(
      walk(join(view(), ".pulumi", "stacks"), (n) => n.endsWith(".json")).map((f) => {
        try {
          const s = JSON.parse(readFileSync(f, "utf8")) as { checkpoint?: { latest?: { resources?: { type: string; outputs?: { "esc-sync"?: { fingerprint?: string } } }[] } } };
          const stack = s.checkpoint?.latest?.resources?.find((r) => r.type === "pulumi:pulumi:Stack");
          return [f.slice(f.lastIndexOf("/") + 1), stack?.outputs?.["esc-sync"]?.fingerprint ?? "no record"];
        } catch {
          return [f.slice(f.lastIndexOf("/") + 1), "unreadable"];
        }
      }),
    );
  async function reconcile(): Promise<{ pairs: LogLine[]; done: LogLine; lines: LogLine[] }> {
    const from = serve.lines.length;
    expect((await serve.post("/sync", "", { Authorization: `Bearer ${ADMIN}` })).status).toBe(202);
    const done = await serve.waitFor((l) => (l.msg === "cycle done" && l.trigger === "reconcile") || String(l.msg).startsWith("cycle failed"), 240_000, from);
    const lines = serve.lines.slice(from);
    return { pairs: lines.filter((l) => l.msg === "pair done" || l.msg === "pair not synced"), done, lines };
  }
  /** Fills the tmpfs to the last byte; returns how many bytes that took. */
  function fill(file: string): number {
    const fd = openSync(file, "w");
    let bytes = 0;
    try {
      for (const chunk of [1 << 20, 1 << 12, 1]) {
        const buf = Buffer.alloc(chunk, 120);
        for (;;) {
          try {
            bytes += writeSync(fd, buf);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
            break;
          }
        }
      }
    } finally {
      closeSync(fd);
    }
    return bytes;
  }

  beforeAll(async () => {
    if ("skip" in tmpfs) return;
    write([1, 2, 3, 4], "1");
    box.writeManifest(APP_TO_FILES);
    mkdirSync(box.backendDir, { recursive: true });
    serve = await ServeProcess.start(box, ["--reconcile-every", "1h"], {}, tmpfs.wrap);
    pids.push(serve.pid);
    await serve.reconciled();
  });
  afterAll(async () => {
    await serve?.stop("SIGKILL");
    expect(leftovers(pids, box.dir)).toEqual([]);
    box.cleanup();
  });

  it.skipIf("skip" in tmpfs)(`costs only the pairs that write, with one clear line and the fix; converges once space is freed; no record lost${"skip" in tmpfs ? ` (skipped: ${tmpfs.skip})` : ""}`, async () => {
    // The state is on serve's tmpfs, not on the disk beneath it.
    expect(existsSync(join(view(), ".pulumi", "meta.yaml"))).toBe(true);
    expect(existsSync(join(box.backendDir, ".pulumi"))).toBe(false);
    const before = records();
    expect(Object.keys(before)).toHaveLength(4);
    const filler = join(view(), "filler");
    write([1, 2], "2");
    // Two ways a disk fills under an update: to the last byte (not even a lock can be written),
    // and with a few KiB left, so that the update runs out of space in the middle of writing its
    // checkpoint (Pulumi then leaves the state file cut short: esc-sync must put it back).
    for (const leave of [0, 40_000]) {
      rmSync(filler, { force: true });
      const filled = fill(filler);
      if (leave) truncateSync(filler, filled - leave);
      const full = await reconcile();
      const line = (i: number) => full.pairs.filter((l) => l.stack === `app.e${i}.out`);
      const e1 = line(1)[0];
      const during = records();
      figures(`backend enospc (${leave} bytes left)`, {
        tmpfs: "16m",
        how: "how" in tmpfs ? tmpfs.how : "",
        cycle: full.done.msg === "cycle done" ? JSON.stringify(full.done.byStatus) : JSON.stringify(full.done.msg),
        e1: `${e1?.status}`,
        e1Message: JSON.stringify(e1?.message ?? ""),
        e1Hint: JSON.stringify(e1?.hint ?? ""),
        linesPerPair: [1, 2, 3, 4].map((i) => line(i).length).join(","),
        others: [3, 4].map((i) => line(i)[0]?.status).join(","),
        recordsKept: Object.keys(during).filter((k) => during[k] === before[k]).length,
      });
      expect(full.done.msg).toBe("cycle done");
      for (const i of [1, 2]) {
        expect(line(i), JSON.stringify(line(i))).toHaveLength(1);
        expect(line(i)[0]!.status).toBe("failed");
        expect(String(line(i)[0]!.message)).toMatch(/^no space left on device: could not write \S+\/\.pulumi\/(stacks|locks)\//);
        expect(String(line(i)[0]!.hint)).toMatch(/^free space on the disk that holds that file/);
      }
      for (const i of [3, 4]) expect(line(i).map((l) => l.status)).toEqual(["unchanged"]);
      // No record lost: every state file parses and still holds the record of its last sync.
      expect(during).toEqual(before);
      expect((await serve.get("/healthz")).status).toBe(200);
    }

    rmSync(filler);
    const after = await reconcile();
    figures("backend enospc after freeing", { cycle: JSON.stringify(after.done.byStatus), failed: String(after.done.failed), records: Object.keys(records()).length });
    expect(after.done.msg).toBe("cycle done");
    expect(Number(after.done.failed)).toBe(0);
    for (const i of [1, 2]) expect(fileIs(i, "2")).toBe(true);
    for (const i of [3, 4]) expect(fileIs(i, "1")).toBe(true);
    const end = records();
    expect(Object.keys(end).sort()).toEqual(Object.keys(before).sort());
    expect(Object.values(end).every((f) => f !== "unreadable" && f !== "no record")).toBe(true);
    expect(serve.stdout + serve.stderr).not.toContain(CANARY);
  });
});
