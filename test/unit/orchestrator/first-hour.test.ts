/**
 * A new user's first hour (issue #22), the parts that need no engine: the fingerprint key of
 * read-only commands, the `file` target's plan-time path checks and cheap look at the disk, its
 * write errors in one line, the run plan's "changed in place" decision, the plan's width, the
 * `pulumi` passthrough's stack names, and the provisioning lock.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import * as realFs from "node:fs";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../../orchestrator/errors.js";
import { qualifyStackArgs } from "../../../orchestrator/commands/pulumi.js";
import { decide, type RunFlags } from "../../../orchestrator/planner/decide.js";
import { programInput } from "../../../orchestrator/planner/plan.js";
import { runPlanToText } from "../../../orchestrator/reporters/plan.js";
import { renderTable } from "../../../orchestrator/reporters/table.js";
import { classifyStacks } from "../../../orchestrator/planner/stacks.js";
import { fingerprintKey } from "../../../orchestrator/fingerprint-key.js";
import { Session } from "../../../orchestrator/session.js";
import { fileCheckInPlace } from "../../../programs/file/in-place.js";
import { checkFilePath } from "../../../programs/file/path-check.js";
import { fileProvider } from "../../../programs/file/provider.js";
import { renderFile } from "../../../programs/file/render.js";
import { filePair } from "../../support/pairs.js";
import { Selection } from "../../../orchestrator/planner/selection.js";

const dir = mkdtempSync(join(tmpdir(), "esc-sync-first-hour-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const REPO = join(import.meta.dirname, "..", "..", "..");

describe("the fingerprint key of a command that only reports", () => {
  const state = join(dir, "xdg");
  const keyFile = join(state, "esc-sync", "fingerprint.key");

  it("without a passphrase, a key or a key file: a ConfigError naming what to set, and no key written", () => {
    expect(() => fingerprintKey({ XDG_STATE_HOME: state }, "read")).toThrow(ConfigError);
    expect(() => fingerprintKey({ XDG_STATE_HOME: state }, "read")).toThrow(/no fingerprint key: .*cannot tell a synced pair from a changed one/);
    expect(existsSync(keyFile)).toBe(false);
  });

  it("Session.open for a report refuses up front, before any environment is read, and writes no key", async () => {
    const manifest = join(dir, "m.yaml");
    writeFileSync(manifest, "version: 1\nsource: { kind: local, folder: nowhere }\ntargets: {}\n");
    const err = await Session.open({ manifest, env: { XDG_STATE_HOME: state }, access: "read" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).hint).toMatch(/export PULUMI_CONFIG_PASSPHRASE .* or ESC_SYNC_FINGERPRINT_KEY/);
    expect(existsSync(keyFile)).toBe(false);
  });

  it("plan and drift (compare): fine while no selected pair has a record; refused, with the count, once one has", async () => {
    const manifest = join(dir, "m2.yaml");
    writeFileSync(manifest, "version: 1\nsource: { kind: local, folder: nowhere }\ntargets: {}\n");
    const session = await Session.open({ manifest, env: { XDG_STATE_HOME: state }, access: "compare" });
    session.fingerprintKey(); // no key anywhere: an in-memory one, never written
    const pair = filePair("a");
    const prepared = { selection: Selection.all, plan: { pairs: [pair], warnings: [] }, environments: [], pinned: new Map(), warnings: [], idleBindings: new Set<string>() };
    const flags = { operation: "sync" as const, dryRun: false, refresh: false, force: false, deletions: { allowAll: false, max: 0 } };
    expect(session.decide(prepared, classifyStacks([], [pair], Selection.all, new Set(["out"])), flags).steps[0]!.decision).toMatchObject({ action: "run", why: "new" });
    const record = { environment: "o/app/a", target: "out", binding: "out", kind: "file", fingerprint: "fp-written-with-the-passphrase", entries: ["A"], location: pair.location, manifest };
    const synced = classifyStacks([{ name: pair.stack, record, resources: 1, pendingOperations: 0 }], [pair], Selection.all, new Set(["out"]));
    expect(() => session.decide(prepared, synced, flags)).toThrow(/^no fingerprint key: .* \(1 of the selected pair\(s\) have a stack record to compare\)$/);
    expect(existsSync(keyFile)).toBe(false);
  });

  it("the passphrase or ESC_SYNC_FINGERPRINT_KEY gives the key a sync used; only a writing command creates a key file", () => {
    const fromPassphrase = fingerprintKey({ XDG_STATE_HOME: state, PULUMI_CONFIG_PASSPHRASE: "p" }, "read");
    expect(fromPassphrase).toBe(fingerprintKey({ XDG_STATE_HOME: state, PULUMI_CONFIG_PASSPHRASE: "p" }, "write"));
    expect(fingerprintKey({ XDG_STATE_HOME: state, ESC_SYNC_FINGERPRINT_KEY: "k" }, "read")).toBe("k");
    expect(existsSync(keyFile)).toBe(false);
    const created = fingerprintKey({ XDG_STATE_HOME: state }, "write");
    expect(existsSync(keyFile)).toBe(true);
    // Once a sync made one, a report reads the same key.
    expect(fingerprintKey({ XDG_STATE_HOME: state }, "read")).toBe(created);
  });
});

describe("file target: the path, checked at plan time", () => {
  it("refuses /proc and /sys (pseudo-filesystems), naming the fix", () => {
    expect(checkFilePath("/proc/self/out.env")).toEqual([{ message: expect.stringMatching(/^path \/proc\/self\/out\.env is under \/proc, a pseudo-filesystem where files cannot be created: set the target's path to a file on a real filesystem/) }]);
    expect(checkFilePath("/sys/kernel/x/y.env")[0]?.message).toMatch(/is under \/sys, a pseudo-filesystem/);
  });

  it("refuses a path whose folder is a file", () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "x");
    expect(checkFilePath(join(file, "sub", "out.env"))).toEqual([{ message: `path ${join(file, "sub", "out.env")} cannot be created: ${file} is a file, not a folder: set the target's path to a file on a real filesystem (e.g. out/{project}/{env}.env beside the manifest), or move that file away` }]);
  });

  it("accepts a path whose folders do not exist yet, on a real filesystem", () => {
    expect(checkFilePath(join(dir, "not", "yet", "there.env"))).toEqual([]);
  });
});

describe("file target: write errors in one line (what, where, why, fix)", () => {
  // The provider loads node:fs with `require` (it runs in Pulumi's provider process): make that
  // module's mkdirSync fail the way a read-only or forbidden folder does, for one call.
  const cjsFs = createRequire(import.meta.url)("node:fs") as typeof realFs;
  const withFailingMkdir = async (code: string, fn: () => Promise<unknown>) => {
    const original = cjsFs.mkdirSync;
    (globalThis as { require?: unknown }).require = createRequire(import.meta.url);
    cjsFs.mkdirSync = (() => {
      throw Object.assign(new Error(`${code}: raw text, mkdir`), { code });
    }) as typeof realFs.mkdirSync;
    try {
      return await fn().catch((e: unknown) => e);
    } finally {
      cjsFs.mkdirSync = original;
      delete (globalThis as { require?: unknown }).require;
    }
  };
  const folder = join(dir, "ro");
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

  for (const [code, why] of [
    ["EROFS", `${folder} is on a read-only filesystem: set the target's path to a writable place (EROFS)`],
    ["EACCES", `permission denied in ${folder}: give the user running esc-sync write access there, or set the target's path elsewhere (EACCES)`],
    ["ENOTDIR", `a part of ${folder} is a file, not a folder: move that file away, or set the target's path elsewhere (ENOTDIR)`],
  ] as const) {
    it(`${code}: one line, no raw error text, nothing written`, async () => {
      const err = await withFailingMkdir(code, () => fileProvider.create!({ path: join(folder, "app.env"), content: "A=1\n", mode: "0600" }));
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(new RegExp(`^cannot write ${esc(join(folder, "app.env"))}: ${esc(why)}$`));
      expect(existsSync(folder)).toBe(false);
    });
  }
});

describe("file target: a cheap look at the disk", () => {
  const path = join(dir, "look", "app.env");
  const p = filePair("a", { valueFor: () => "v" });
  const input = () => ({ ...programInput(p), settings: { path, mode: "0600" } });

  it("a missing file, a changed mode, an edited text; nothing when it holds what esc-sync writes", () => {
    expect(fileCheckInPlace(input())).toBe(`${path} is missing`);
    mkdirSync(join(dir, "look"), { recursive: true });
    writeFileSync(path, renderFile(p.shape, p.entries), { mode: 0o644 });
    chmodSync(path, 0o644);
    expect(fileCheckInPlace(input())).toBe(`${path} has mode 0644, esc-sync writes 0600`);
    chmodSync(path, 0o600);
    expect(fileCheckInPlace(input())).toBeUndefined();
    writeFileSync(path, readFileSync(path, "utf8") + "EXTRA=1\n");
    expect(fileCheckInPlace(input())).toBe(`${path} was changed outside esc-sync`);
  });

  it("the run plan runs an unchanged pair found changed in place, saying what was found", () => {
    const pair = filePair("a", { valueFor: () => "v" });
    const stacks = [{ name: pair.stack, record: { environment: "o/app/a", target: "out", binding: "out", kind: "file", fingerprint: pair.fingerprint, entries: pair.entries.map((e) => e.name), location: pair.location, manifest: "/m" }, resources: 1, pendingOperations: 0 }];
    const flags: RunFlags = { operation: "sync", dryRun: false, refresh: false, force: false, deletions: { allowAll: false, max: 0 }, manifest: "/m" };
    const inventory = classifyStacks(stacks, [pair], Selection.all, new Set(["out"]));
    expect(decide([pair], inventory, flags).steps[0]!.decision).toEqual({ action: "skip-unchanged" });
    const changed = decide([pair], inventory, { ...flags, changedInPlace: new Map([[pair.stack, "/out/a.env is missing"]]) });
    expect(changed.steps[0]!.decision).toEqual({ action: "run", why: "changed-in-place", deletes: [], note: "/out/a.env is missing" });
    expect(runPlanToText(changed)).toContain(`${pair.stack}: run: target changed: /out/a.env is missing`);
  });
});

describe("output width", () => {
  it("a plan fits 120 columns on a terminal of 120 (paths keep their end); without a width nothing is cut", () => {
    const long = (i: number) => filePair(`environment-with-a-long-name-${i}`, { valueFor: () => "v", entryNames: ["DATABASE_URL", "OTEL_EXPORTER_OTLP_ENDPOINT", "STRIPE_API_KEY", "LOG_LEVEL"] });
    const pairs = [1, 2, 3].map(long);
    const runPlan = decide(pairs, classifyStacks([], pairs, Selection.all, new Set(["out"])), { operation: "sync", dryRun: false, refresh: false, force: false, deletions: { allowAll: false, max: 0 }, manifest: "/m" });
    const wide = runPlanToText(runPlan);
    expect(Math.max(...wide.split("\n").map((l) => l.length))).toBeGreaterThan(120);
    const narrow = runPlanToText(runPlan, 120).split("\n");
    for (const line of narrow) expect([...line].length, line).toBeLessThanOrEqual(120);
    expect(narrow[1]).toMatch(/…/);
  });

  it("a cut path keeps its file name; other text keeps its start", () => {
    const t = renderTable(["A", "B"], [["/very/long/path/to/the/file.env", "DATABASE_URL, OTEL_ENDPOINT"]], { width: 30, shrink: [0, 1] });
    expect(t.split("\n")[1]).toBe("…/the/file.env  DATABASE_URL,…");
  });
});

describe("an empty plan says why", () => {
  it("a shard holding none of the selection's pairs says so, not that no binding selects anything", async () => {
    const manifest = join(dir, "m3.yaml");
    writeFileSync(manifest, "version: 1\nsource: { kind: local, folder: nowhere }\ntargets: {}\n");
    const session = await Session.open({ manifest, env: { ESC_SYNC_FINGERPRINT_KEY: "k" } });
    const flags = { operation: "sync" as const, dryRun: false, refresh: false, force: false, deletions: { allowAll: false, max: 0 } };
    const empty = classifyStacks([], [], Selection.all, new Set());
    const base = { environments: [], pinned: new Map(), warnings: [], idleBindings: new Set<string>() };
    const sharded = session.decide({ ...base, selection: Selection.of({ shard: { index: 1, count: 3 } }), plan: { pairs: [], warnings: [], otherShards: 2 } }, empty, flags);
    expect(runPlanToText(sharded)).toBe("No pairs: shard 1/3 holds none of the selection's 2 pair(s): they belong to the other shards.");
    const none = session.decide({ ...base, selection: Selection.all, plan: { pairs: [], warnings: [] } }, empty, flags);
    expect(runPlanToText(none)).toBe("No pairs: no binding selects any environment.");
  });
});

describe("esc-sync pulumi: stack names", () => {
  it("a short --stack is qualified on a self-managed backend (Pulumi needs it outside a project folder)", () => {
    expect(qualifyStackArgs(["stack", "export", "--stack", "payments.dev.dotenv"], "file:///s")).toEqual(["stack", "export", "--stack", "organization/esc-sync/payments.dev.dotenv"]);
    expect(qualifyStackArgs(["stack", "export", "-s=a.b.c"], "s3://bucket")).toEqual(["stack", "export", "-s=organization/esc-sync/a.b.c"]);
    expect(qualifyStackArgs(["stack", "export", "--stack", "acme/esc-sync/a.b.c"], "file:///s")).toEqual(["stack", "export", "--stack", "acme/esc-sync/a.b.c"]);
    expect(qualifyStackArgs(["stack", "export", "--stack", "a.b.c"], "https://api.pulumi.com")).toEqual(["stack", "export", "--stack", "a.b.c"]);
  });
});

describe("scripts/lib/lock.sh", () => {
  /** Runs bash with the lock library; resolves with its exit code and stderr. */
  const bash = (script: string, onStderr?: (text: string) => void) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn("bash", ["-c", `set -euo pipefail; . "${REPO}/scripts/lib/lock.sh"; LOCK_TAG=test; ${script}`], { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d) => {
        stderr += d;
        onStderr?.(stderr);
      });
      child.on("close", (code) => resolve({ code, stderr }));
    });
  const waitFor = async (cond: () => boolean) => {
    while (!cond()) await new Promise((r) => setTimeout(r, 20));
  };

  it("a second holder waits (and says so) until the first releases; their critical sections never overlap", async () => {
    const lock = join(dir, "locks", "tools.lock");
    const log = join(dir, "lock.log");
    const release = join(dir, "release");
    const first = bash(`lock_acquire "${lock}" "the cache"; echo first-in >>"${log}"; touch "${dir}/held"; while [ ! -e "${release}" ]; do sleep 0.05; done; echo first-out >>"${log}"; lock_release "${lock}"`);
    await waitFor(() => existsSync(join(dir, "held")));
    let waiting = false;
    const second = bash(`lock_acquire "${lock}" "the cache"; echo second-in >>"${log}"; lock_release "${lock}"`, (t) => (waiting ||= /waiting for another run using the cache/.test(t)));
    await waitFor(() => waiting);
    writeFileSync(release, "");
    expect((await first).code).toBe(0);
    expect((await second).code).toBe(0);
    expect(readFileSync(log, "utf8")).toBe("first-in\nfirst-out\nsecond-in\n");
  });

  it("a lock held past ESC_SYNC_LOCK_TIMEOUT fails with the file to remove", async () => {
    const lock = join(dir, "locks", "busy.lock");
    mkdirSync(join(dir, "locks"), { recursive: true });
    // Its own process group, ended whole: the sleep holding the lock must not outlive the test.
    const holder = spawn("flock", [lock, "-c", `touch "${dir}/busy-held"; sleep 30`], { stdio: "ignore", detached: true });
    try {
      await waitFor(() => existsSync(join(dir, "busy-held")));
      const r = await bash(`ESC_SYNC_LOCK_TIMEOUT=1 lock_acquire "${lock}" "the cache"`);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`error: the cache stayed locked for 1s \\(lock ${lock}\\): if no other run is going on, remove that file and run again`));
    } finally {
      process.kill(-holder.pid!, "SIGKILL");
    }
  });
});
