/**
 * Ownership and adoption with the `file` target: esc-sync never overwrites a file it did not
 * write; `migrate adopt` lists (dry run) and takes such files over; the next sync converges.
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_TO_FILES, Sandbox, statuses } from "../support/sandbox.js";

const CANARY = "canary-adopt-4b2d";

describe("adoption", () => {
  const box = new Sandbox();
  const texts: string[] = [];
  beforeAll(() => {
    box.writeEnvironment("app", "a", `values:\n  environmentVariables:\n    SAME: same\n    TOKEN:\n      fn::secret: ${CANARY}-esc\n`);
    box.writeEnvironment("app", "b", `values:\n  environmentVariables:\n    ONLY: esc\n`);
    box.writeManifest(APP_TO_FILES);
    mkdirSync(join(box.dir, "out"));
    // Written by hand before esc-sync ever ran.
    writeFileSync(join(box.dir, "out/a.env"), `SAME=same\nTOKEN=${CANARY}-by-hand\n`);
  });
  afterAll(() => box.cleanup());

  it("refuses to overwrite a file it did not write, and says how to adopt it", async () => {
    const { result, report } = await box.syncJson();
    texts.push(result.stdout, result.stderr);
    expect(result.code).toBe(1);
    expect(statuses(report)).toEqual({ "app.a.out": "failed", "app.b.out": "created" });
    expect(report.pairs.find((p) => p.stack === "app.a.out")!.message).toMatch(/out\/a\.env already exists and was not written by esc-sync: adopt it with `esc-sync migrate adopt`/);
    expect(box.read("out/a.env")).toContain("by-hand");
  });

  it("lists on a dry run what would be adopted and what differs from ESC, by fingerprint", async () => {
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
    const r = await box.run(["migrate", "adopt", "--output", "json"]);
    texts.push(r.stdout, r.stderr);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Parameters<typeof statuses>[0];
    expect(statuses(report)).toEqual({ "app.a.out": "updated" }); // its stack exists since the refused sync
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
    expect(again.stdout).toMatch(/Nothing to adopt/);
  });

  it("never shows a value", () => {
    for (const t of texts) expect(t).not.toContain(CANARY);
  });
});
