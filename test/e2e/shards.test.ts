/**
 * Sharding end to end, with the real CLI on one `file://` backend: the plans of `--shard i/3` are
 * disjoint and together the unsharded plan; three shards run at once sync every pair exactly once
 * and delete only the orphans they own; the shards' drift reports merged equal the unsharded one.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { shardOf } from "../../orchestrator/planner/shard.js";
import { APP_TO_FILES, type Sandbox, type SyncReport } from "../support/sandbox.js";
import { sandboxState } from "../support/states.js";

const CANARY = "canary-shards-5be0c1";
const NAMES = Array.from({ length: 12 }, (_, i) => `e${String(i).padStart(2, "0")}`);
const SHARDS = [0, 1, 2];
const stackOf = (name: string) => `app.${name}.out`;

/** `plan --output json`'s steps, by stack: the decision's action. */
async function planSteps(box: Sandbox, extra: string[] = []): Promise<Record<string, string>> {
  const r = await box.run(["plan", "--output", "json", ...extra]);
  expect(r.code, r.stderr).toBe(0);
  const json = JSON.parse(r.stdout) as { steps: { stack: string; decision: { action: string } }[] };
  return Object.fromEntries(json.steps.map((s) => [s.stack, s.decision.action]));
}

/** Runs the three shards' `sync --output json` at once. */
async function syncShards(box: Sandbox, extra: string[] = []): Promise<SyncReport[]> {
  const results = await Promise.all(SHARDS.map((i) => box.run(["sync", "--output", "json", "--shard", `${i}/3`, ...extra])));
  return results.map((r) => {
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout) as SyncReport;
  });
}

const fresh = sandboxState("12 environments, never synced", (box) => {
  for (const n of NAMES) box.writeEnvironment("app", n, `values:\n  environmentVariables:\n    KEY: "${CANARY}-${n}"\n`);
  box.writeManifest(APP_TO_FILES);
});

const synced = fresh.next("synced by three shards at once", (box) => syncShards(box));

describe("--shard i/n", () => {
  afterAll(() => fresh.cleanup());

  it("plans disjoint shards whose union is the unsharded plan", async () => {
    const { box } = await fresh.enter();
    const whole = await planSteps(box);
    expect(Object.keys(whole).sort()).toEqual(NAMES.map(stackOf));
    const parts = await Promise.all(SHARDS.map((i) => planSteps(box, ["--shard", `${i}/3`])));
    const seen = parts.flatMap((p) => Object.keys(p));
    expect(seen.sort()).toEqual(Object.keys(whole).sort());
    expect(new Set(seen).size).toBe(seen.length);
    parts.forEach((p, i) => {
      for (const stack of Object.keys(p)) expect(shardOf(stack, 3)).toBe(i);
      expect(Object.values(p).every((a) => a === "run")).toBe(true);
    });
    // Every shard has work: a partition that put everything in one shard would pass the rest.
    for (const p of parts) expect(Object.keys(p).length).toBeGreaterThan(0);
  });

  it("syncs every pair exactly once when three shards run at once over one backend, and each then finds its pairs unchanged", async () => {
    const { box, value: reports } = await synced.enter();
    const created = reports.flatMap((r) => r.pairs.filter((p) => p.status === "created").map((p) => p.stack));
    expect(created.sort()).toEqual(NAMES.map(stackOf));
    expect(reports.flatMap((r) => r.pairs).length).toBe(NAMES.length);
    for (const n of NAMES) expect(box.read(`out/${n}.env`)).toBe(`KEY=${CANARY}-${n}\n`);
    const again = await syncShards(box);
    expect(again.flatMap((r) => r.pairs.map((p) => [p.stack, p.status])).sort()).toEqual(NAMES.map((n) => [stackOf(n), "unchanged"]));
    expect(box.stateText()).not.toContain(CANARY);
    for (const r of [...reports, ...again]) expect(JSON.stringify(r)).not.toContain(CANARY);
  });

  it("deletes only the orphans a shard owns, never another shard's stacks", async () => {
    const { box } = await synced.enter();
    // One orphan per shard at least, so that every shard has a deletion to make.
    const gone = SHARDS.map((i) => NAMES.find((n) => shardOf(stackOf(n), 3) === i)!);
    for (const n of gone) box.removeEnvironment("app", n);
    const reports = await syncShards(box, ["--allow-deletes"]);
    reports.forEach((r, i) => {
      for (const p of r.pairs) expect(shardOf(p.stack, 3), `${p.stack} in shard ${i}`).toBe(i);
      expect(r.pairs.filter((p) => p.status === "deleted").map((p) => p.stack)).toEqual([stackOf(gone[i]!)]);
    });
    for (const n of NAMES) expect(existsSync(join(box.dir, `out/${n}.env`)), n).toBe(!gone.includes(n));
    const whole = await planSteps(box);
    expect(Object.keys(whole).sort()).toEqual(NAMES.filter((n) => !gone.includes(n)).map(stackOf));
    expect(Object.values(whole).every((a) => a === "skip-unchanged")).toBe(true);
  });

  it("merges the shards' drift reports into the unsharded report (JSON, and Markdown from the same data)", async () => {
    const { box } = await synced.enter();
    // Some drift to report: one target file edited, one removed.
    writeFileSync(join(box.dir, `out/${NAMES[1]}.env`), "KEY=edited\n");
    box.removeEnvironment("app", NAMES[2]!);
    const whole = await box.run(["drift", "--output", "json"]);
    expect(whole.code, whole.stderr).toBe(2);
    const files = await Promise.all(
      SHARDS.map(async (i) => {
        const out = join(box.dir, `drift-${i}.json`);
        const r = await box.run(["drift", "--output", "json", "--out", out, "--shard", `${i}/3`]);
        expect([0, 2]).toContain(r.code);
        return out;
      }),
    );
    const merged = await box.run(["drift", "merge", ...files, "--output", "json"]);
    expect(merged.code, merged.stderr).toBe(2);
    const strip = (text: string) => ({ ...JSON.parse(text), generatedAt: "-" });
    expect(strip(merged.stdout)).toEqual(strip(whole.stdout));
    expect(strip(merged.stdout).summary.pairs).toBe(NAMES.length);
    const md = await box.run(["drift", "merge", ...files, "--output", "markdown"]);
    expect(md.stdout).toContain(`${NAMES.length} pair(s)`);
    expect(md.stdout + merged.stdout).not.toContain(CANARY);
    // A report given twice is refused, naming the stack and both files.
    const twice = await box.run(["drift", "merge", files[0]!, files[0]!]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/cannot merge these drift reports[\s\S]*is also in/);
  });
});
