/**
 * A new user's first hour (issue #22), the parts that need the engine: a plain `sync` restores a
 * `file` entry deleted or edited by hand (no `--refresh`) and says what it repaired; a create that
 * fails says why in one line and leaves no stack behind; and a manifest whose stacks are still in
 * esc-sync 0.1's per-user default backend is told so (sync stops before writing, plan warns).
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync, rmSync, chmodSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Sandbox, statuses } from "../support/sandbox.js";

const CANARY = "canary-first-hour-5d2e";
const ENV = `values:\n  environmentVariables:\n    PLAIN: "1"\n    TOKEN:\n      fn::secret: ${CANARY}\n`;
const HEADER = `version: 1\nsource: { kind: local, folder: environments }\n`;
const TARGETS = `targets:\n  out: { kind: file, path: "out/{env}.env" }\nbindings:\n  - { environments: "app/*", target: out }\n`;

describe("a plain sync repairs a file target changed by hand", () => {
  const box = new Sandbox();
  afterAll(() => box.cleanup());

  it("a deleted file, an edited one and a re-moded one are written again without --refresh, each said", async () => {
    for (const name of ["gone", "edited", "moded", "kept"]) box.writeEnvironment("app", name, ENV);
    box.writeManifest(`${HEADER}state: { backend: file://./state }\n${TARGETS}`);
    expect((await box.run(["sync"])).code).toBe(0);
    const kept = statSync(join(box.dir, "out/kept.env")).mtimeMs;
    rmSync(join(box.dir, "out/gone.env"));
    writeFileSync(join(box.dir, "out/edited.env"), `PLAIN=2\nTOKEN=${CANARY}\n`, { mode: 0o600 });
    chmodSync(join(box.dir, "out/moded.env"), 0o644);

    const plan = await box.run(["plan"]);
    expect(plan.stdout).toContain(`app.gone.out: run: target changed: ${join(box.dir, "out/gone.env")} is missing`);
    expect(plan.stdout).toContain(`app.edited.out: run: target changed: ${join(box.dir, "out/edited.env")} was changed outside esc-sync`);
    expect(plan.stdout).toContain(`app.moded.out: run: target changed: ${join(box.dir, "out/moded.env")} has mode 0644, esc-sync writes 0600`);

    const { result, report } = await box.syncJson();
    expect(result.code).toBe(0);
    expect(statuses(report)).toEqual({ "app.edited.out": "updated", "app.gone.out": "updated", "app.kept.out": "unchanged", "app.moded.out": "updated" });
    const message = (stack: string) => report.pairs.find((p) => p.stack === stack)!.message;
    expect(message("app.gone.out")).toMatch(/^repaired 2 entries changed outside esc-sync: PLAIN \(missing\), TOKEN \(missing\)/);
    expect(message("app.edited.out")).toMatch(/^repaired 1 entry changed outside esc-sync: PLAIN \(drifted\)/);
    expect(message("app.moded.out")).toMatch(/^repaired 1 entry changed outside esc-sync: \(file mode\) \(drifted\)/);
    for (const name of ["gone", "edited", "moded"]) {
      expect(box.read(`out/${name}.env`)).toBe(`PLAIN=1\nTOKEN=${CANARY}\n`);
      expect(box.mode(`out/${name}.env`)).toBe(0o600);
    }
    expect(statSync(join(box.dir, "out/kept.env")).mtimeMs).toBe(kept);
    expect(result.stdout.replaceAll(`TOKEN=${CANARY}`, "") + result.stderr).not.toContain(CANARY);
    // And then nothing is left to repair.
    expect(Object.values(statuses((await box.syncJson()).report))).toEqual(["unchanged", "unchanged", "unchanged", "unchanged"]);
  });
});

describe("a create that fails", () => {
  const box = new Sandbox();
  afterAll(() => box.cleanup());

  it("says why in one line (no stray 'update failed') and leaves no stack behind", async () => {
    box.writeEnvironment("app", "taken", ENV);
    box.writeManifest(`${HEADER}state: { backend: file://./state }\n${TARGETS}`);
    mkdirSync(join(box.dir, "out"));
    writeFileSync(join(box.dir, "out/taken.env"), "SOMEONE=else\n");
    const { result, report } = await box.syncJson();
    expect(result.code).toBe(1);
    const pair = report.pairs[0]!;
    expect(pair.status).toBe("failed");
    expect(pair.message).toMatch(/already exists and was not written by esc-sync: adopt it with `esc-sync migrate adopt`/);
    expect(pair.message).toMatch(/its new stack was removed \(nothing was written\)$/);
    expect(pair.message).not.toMatch(/update failed/);
    // (Pulumi keeps a .bak of a removed stack's checkpoint: not a stack.)
    const stacks = join(box.dir, "state/.pulumi/stacks/esc-sync");
    expect(existsSync(stacks) ? readdirSync(stacks).filter((f) => /^app\.taken\.out\.json(\.gz)?$/.test(f)) : []).toEqual([]);
    // The next run has nothing to warn about: no stack with resources and no record.
    const plan = await box.run(["plan"]);
    expect(plan.stdout).toMatch(/app\.taken\.out .* run: new/);
    expect(plan.stdout).not.toMatch(/no esc-sync record|empty stack/);
  });
});

describe("stacks in esc-sync 0.1's per-user default backend", () => {
  const box = new Sandbox();
  afterAll(() => box.cleanup());

  it("sync stops before writing, naming both folders and the fix; plan warns; the old backend keeps working when named", async () => {
    box.writeEnvironment("app", "a", ENV);
    box.writeManifest(`${HEADER}${TARGETS}`); // no state.backend: the default
    const legacy = join(box.dir, "xdg-state", "esc-sync", "backend");
    mkdirSync(legacy, { recursive: true });
    // What 0.1 did by default: this manifest's stacks in the user's state folder.
    expect((await box.run(["sync", "--backend-url", `file://${legacy}`])).code).toBe(0);

    const sync = await box.run(["sync"]);
    expect(sync.code).toBe(1);
    expect(sync.stderr).toContain(`error: 1 stack(s) written from ${join(box.dir, "environments.yaml")} are in ${legacy}, esc-sync's old default backend; the default is now ${join(box.dir, ".esc-sync/state")} beside the manifest, which holds none: a sync here would write every pair again beside them; nothing was written`);
    expect(sync.stderr).toContain(`hint: to keep using them, set state.backend: file://${legacy} in ${join(box.dir, "environments.yaml")}`);
    expect(existsSync(join(box.dir, ".esc-sync/state"))).toBe(false);

    const plan = await box.run(["plan"]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/warning: 1 stack\(s\) written from .* are in .*old default backend.*\(so this report shows every pair as new\)/);

    const named = await box.syncJson(["--backend-url", `file://${legacy}`]);
    expect(statuses(named.report)).toEqual({ "app.a.out": "unchanged" });
  });
});
