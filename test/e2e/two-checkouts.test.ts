/**
 * A move is a delete: two checkouts of one repository on one shared backend (named in both
 * manifests; by default each checkout keeps its own, beside its manifest: readme.test.ts runs two
 * clones on the default). The second checkout's sync would move every pair's files away from the first: it is
 * held, says why and what to do, and touches nothing; with --allow-deletes it moves them, and
 * says so. And two targets writing one file are refused at plan time, nothing written.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Sandbox } from "../support/sandbox.js";

const manifest = (backend: string) => `
version: 1
source: { kind: local, folder: environments }
state: { backend: "file://${backend}" }
targets:
  out: { kind: file, path: "out/{env}.env" }
bindings:
  - { environments: "app/*", target: out }
`;

describe("two checkouts on one backend", () => {
  const backend = mkdtempSync(join(tmpdir(), "esc-sync-shared-backend-"));
  const first = new Sandbox();
  const second = new Sandbox();
  afterAll(() => {
    first.cleanup();
    second.cleanup();
    rmSync(backend, { recursive: true, force: true });
  });

  it("the second checkout's sync holds the move, says why, and leaves the first's files alone; --allow-deletes moves them", async () => {
    for (const box of [first, second]) {
      box.writeEnvironment("app", "a", `values:\n  environmentVariables:\n    K: "1"\n`);
      box.writeManifest(manifest(backend));
    }
    expect((await first.run(["sync"])).code).toBe(0);
    expect(first.read("out/a.env")).toBe("K=1\n");

    const held = await second.syncJson();
    expect(held.result.code).toBe(1);
    const pair = held.report.pairs.find((p) => p.stack === "app.a.out")!;
    expect(pair.status).toBe("held");
    expect(pair.message).toContain(`its target location changed from ${join(first.dir, "out/a.env")} to ${join(second.dir, "out/a.env")}`);
    expect(pair.message).toContain(`last written from another manifest (${join(first.dir, "environments.yaml")})`);
    expect(pair.hint).toMatch(/give each checkout or manifest its own state backend .* or run again with --allow-deletes/);
    expect(first.read("out/a.env")).toBe("K=1\n");
    expect(existsSync(join(second.dir, "out/a.env"))).toBe(false);

    const moved = await second.syncJson(["--allow-deletes"]);
    expect(moved.result.code).toBe(0);
    const after = moved.report.pairs.find((p) => p.stack === "app.a.out")!;
    expect(after.status).toBe("moved");
    expect(after.message).toContain(`moved from ${join(first.dir, "out/a.env")} to ${join(second.dir, "out/a.env")}: deleted K there`);
    expect(existsSync(join(first.dir, "out/a.env"))).toBe(false);
    expect(readFileSync(join(second.dir, "out/a.env"), "utf8")).toBe("K=1\n");
  });
});

describe("two targets writing one file", () => {
  const box = new Sandbox();
  afterAll(() => box.cleanup());

  it("plan exits 1 naming both pairs; sync writes nothing", async () => {
    box.writeEnvironment("app", "a", `values:\n  environmentVariables:\n    K: "1"\n`);
    box.writeManifest(`
version: 1
source: { kind: local, folder: environments }
state: { backend: file://./state }
targets:
  one: { kind: file, path: "out/{env}.env" }
  two: { kind: file, path: "out/{env}.env" }
bindings:
  - { environments: "app/*", target: one }
  - { environments: "app/*", target: two }
`);
    const plan = await box.run(["plan"]);
    expect(plan.code).toBe(1);
    expect(plan.stdout).toMatch(/app\.a\.one: refused: .*out\/a\.env is also written by app\.a\.two/);
    expect(plan.stdout).toMatch(/app\.a\.two: refused: .*out\/a\.env is also written by app\.a\.one/);
    const sync = await box.syncJson();
    expect(sync.result.code).toBe(1);
    expect(sync.report.pairs.map((p) => p.status)).toEqual(["refused", "refused"]);
    expect(existsSync(join(box.dir, "out"))).toBe(false);
  });
});
