/**
 * Ownership and adoption with the `file` target: esc-sync never overwrites a file it did not
 * write; `migrate adopt` lists (dry run) and takes such files over; the next sync converges.
 * Each test starts from the state it needs (see test/support/states.ts).
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { APP_TO_FILES, statuses } from "../support/sandbox.js";
import { sandboxState } from "../support/states.js";

const CANARY = "canary-adopt-4b2d";

/** Two environments, and `out/a.env` written by hand before esc-sync ever ran. */
const byHand = sandboxState("a file written by hand", (box) => {
  box.writeEnvironment("app", "a", `values:\n  environmentVariables:\n    SAME: same\n    TOKEN:\n      fn::secret: ${CANARY}-esc\n`);
  box.writeEnvironment("app", "b", `values:\n  environmentVariables:\n    ONLY: esc\n`);
  box.writeManifest(APP_TO_FILES);
  mkdirSync(join(box.dir, "out"));
  writeFileSync(join(box.dir, "out/a.env"), `SAME=same\nTOKEN=${CANARY}-by-hand\n`);
});

/** Then a sync, which refuses app.a.out (its stack exists from then on) and creates app.b.out. */
const refused = byHand.next("after the refused sync", (box) => box.syncJson());

describe("adoption", () => {
  afterAll(() => byHand.cleanup());

  // Every output a test saw, checked for the canary after each test.
  const texts: string[] = [];
  afterEach(() => {
    for (const t of texts.splice(0)) expect(t).not.toContain(CANARY);
  });

  it("refuses to overwrite a file it did not write, and says how to adopt it", async () => {
    const { box, value: { result, report } } = await refused.enter();
    texts.push(result.stdout, result.stderr);
    expect(result.code).toBe(1);
    expect(statuses(report)).toEqual({ "app.a.out": "failed", "app.b.out": "created" });
    expect(report.pairs.find((p) => p.stack === "app.a.out")!.message).toMatch(/out\/a\.env already exists and was not written by esc-sync: adopt it with `esc-sync migrate adopt`/);
    expect(box.read("out/a.env")).toContain("by-hand");
  });

  it("lists on a dry run what would be adopted and what differs from ESC, by fingerprint", async () => {
    const { box } = await refused.enter();
    const r = await box.run(["migrate", "adopt", "--dry-run", "--output", "json"]);
    texts.push(r.stdout, r.stderr);
    expect(r.code, r.stderr).toBe(0);
    const { candidates } = JSON.parse(r.stdout) as { candidates: { stack: string; entry: string; differs: boolean; expected: string; actual: string }[] };
    expect(candidates.map((c) => [c.stack, c.entry, c.differs])).toEqual([
      ["app.a.out", "SAME", false],
      ["app.a.out", "TOKEN", true],
    ]);
    const token = candidates.find((c) => c.entry === "TOKEN")!;
    expect(token.expected).toMatch(/^[0-9a-f]{12}$/);
    expect(token.actual).not.toBe(token.expected);
    expect(box.read("out/a.env")).toContain("by-hand"); // a dry run changes nothing
  });

  it("adopts the file as it is, then the next sync brings it to ESC's values", async () => {
    const { box } = await refused.enter();
    const r = await box.run(["migrate", "adopt", "--output", "json"]);
    texts.push(r.stdout, r.stderr);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Parameters<typeof statuses>[0];
    expect(statuses(report)).toEqual({ "app.a.out": "created" }); // the refused sync's create left no stack behind
    expect(report.pairs[0]!.message).toMatch(/adopted SAME, TOKEN: the next sync writes ESC's values/);
    expect(box.read("out/a.env")).toContain("by-hand"); // taken over as it was

    const drift = await box.run(["drift", "--format", "json"]);
    texts.push(drift.stdout);
    const a = (JSON.parse(drift.stdout) as { pairs: { stack: string; status: string }[] }).pairs.find((p) => p.stack === "app.a.out")!;
    expect(a.status).toBe("pending");

    const sync = await box.syncJson();
    texts.push(sync.result.stdout, sync.result.stderr);
    expect(sync.result.code).toBe(0);
    expect(statuses(sync.report)).toEqual({ "app.a.out": "updated", "app.b.out": "unchanged" });
    expect(box.read("out/a.env")).toBe(`SAME=same\nTOKEN=${CANARY}-esc\n`);
    expect(readdirSync(join(box.dir, "out")).sort()).toEqual(["a.env", "b.env"]); // nothing duplicated
    const again = await box.run(["migrate", "adopt", "--dry-run"]);
    texts.push(again.stdout, again.stderr);
    expect(again.stdout).toMatch(/Nothing to adopt/);
  });

  it("never shows a value", async () => {
    // The outputs the tests above read are checked after each of them; here the refused sync's
    // and the text listing of a dry run, where a value that differs would be tempting to show.
    const { box, value: { result } } = await refused.enter();
    const dry = await box.run(["migrate", "adopt", "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/TOKEN/);
    const all = [result.stdout, result.stderr, dry.stdout, dry.stderr];
    expect(all.filter((t) => t.length > 0).length).toBeGreaterThanOrEqual(2); // there was output to check
    for (const t of all) expect(t).not.toContain(CANARY);
  });
});
