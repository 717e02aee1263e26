/**
 * The deletion guard: a key removed from an environment, or an environment gone, deletes target
 * entries only with --allow-deletes or within --max-deletes; held-back pairs say what they would
 * delete, and the rest of the run proceeds. `prune` removes orphans behind the same guard.
 * Each test starts from the state it needs (see test/support/states.ts).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { APP_TO_FILES, statuses } from "../support/sandbox.js";
import { sandboxState } from "../support/states.js";

const env = (keys: string[]) => `values:\n  environmentVariables:\n${keys.map((k) => `    ${k}: "${k.toLowerCase()}"\n`).join("")}`;

/** Four environments synced, then edited so that three pairs would delete entries and one would not. */
const edited = sandboxState("synced, then edited", async (box) => {
  box.writeEnvironment("app", "a", env(["KEEP", "DROP"]));
  box.writeEnvironment("app", "b", env(["B1", "B2"]));
  box.writeEnvironment("app", "c", env(["C1", "C2"]));
  box.writeEnvironment("app", "d", env(["D1"]));
  box.writeManifest(APP_TO_FILES);
  expect((await box.run(["sync"])).code).toBe(0);
  box.writeEnvironment("app", "a", env(["KEEP"])); // one entry to delete
  box.removeEnvironment("app", "b"); // orphan: two entries to delete
  box.removeEnvironment("app", "c"); // orphan: two entries to delete
  box.writeEnvironment("app", "d", env(["D1", "D2"])); // no deletion: goes ahead whatever
});

/** Then a sync with --max-deletes 3: a and b go ahead, c is held back (still an orphan). */
const afterMaxDeletes = edited.next("after --max-deletes 3", (box) => box.syncJson(["--max-deletes", "3"]));

describe("deletion guard", () => {
  afterAll(() => edited.cleanup());

  it("holds back every deletion without a flag, and lets the rest proceed", async () => {
    const { box } = await edited.enter();
    const { result, report } = await box.syncJson();
    expect(result.code).toBe(1);
    expect(statuses(report)).toEqual({ "app.a.out": "held", "app.b.out": "held", "app.c.out": "held", "app.d.out": "updated" });
    const byStack = Object.fromEntries(report.pairs.map((p) => [p.stack, `${p.message ?? ""}\nhint: ${p.hint ?? ""}`]));
    expect(byStack["app.a.out"]).toMatch(/would delete 1 entry \(DROP\); nothing changed\nhint: run again with --allow-deletes, or --max-deletes 1 or more/);
    expect(byStack["app.b.out"]).toMatch(/no longer exists; would delete 2 entries \(B1, B2\)/);
    expect(box.read("out/a.env")).toContain("DROP=drop");
    expect(existsSync(join(box.dir, "out/b.env"))).toBe(true);
    expect(box.read("out/d.env")).toContain("D2=d2");
  });

  it("honours --max-deletes across the run, in stack order, never applying a pair halfway", async () => {
    const { box, value: { result, report } } = await afterMaxDeletes.enter();
    expect(result.code).toBe(1);
    // a (1) fits, b (2) fits in the remaining 2, c (2) does not.
    expect(statuses(report)).toMatchObject({ "app.a.out": "updated", "app.b.out": "deleted", "app.c.out": "held" });
    expect(box.read("out/a.env")).toBe("KEEP=keep\n");
    expect(existsSync(join(box.dir, "out/b.env"))).toBe(false);
    expect(existsSync(join(box.dir, "out/c.env"))).toBe(true);
  });

  it("prune lists orphans on --dry-run and removes them with --allow-deletes", async () => {
    const { box } = await afterMaxDeletes.enter();
    const dry = await box.run(["prune", "--dry-run", "--output", "json"]);
    expect(dry.code).toBe(0);
    const planned = JSON.parse(dry.stdout) as { pairs: { stack: string; status: string; entries: string[] }[] };
    expect(planned.pairs.map((p) => [p.stack, p.status, p.entries])).toEqual([["app.c.out", "changes-pending", ["C1", "C2"]]]);
    expect(existsSync(join(box.dir, "out/c.env"))).toBe(true);
    const prune = await box.run(["prune", "--allow-deletes", "--output", "json"]);
    expect(prune.code, prune.stdout).toBe(0);
    expect((JSON.parse(prune.stdout) as { pairs: { stack: string; status: string }[] }).pairs).toEqual([expect.objectContaining({ stack: "app.c.out", status: "deleted" })]);
    expect(existsSync(join(box.dir, "out/c.env"))).toBe(false);
    const after = await box.syncJson();
    expect(after.result.code).toBe(0);
    expect(statuses(after.report)).toEqual({ "app.a.out": "unchanged", "app.d.out": "unchanged" });
  });
});
