/**
 * How a run behaves around its pairs: bounded concurrency (measured on the real CLI processes),
 * one failing pair among good ones, previews, and input refused before any Pulumi call.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Sandbox, statuses } from "../support/sandbox.js";
import { loggingPulumi, maxStacksInFlight } from "../support/pulumi-log.js";

const CANARY = "canary-b41d-never-shown";

const boxes: Sandbox[] = [];
function sandbox(env?: NodeJS.ProcessEnv): Sandbox {
  const box = new Sandbox(env);
  boxes.push(box);
  return box;
}
afterEach(() => {
  for (const b of boxes.splice(0)) b.cleanup();
});

const manifest = (targets: string, bindings: string, concurrency = 4) => `
version: 1
source: { kind: local, folder: environments }
state: { backend: file://./state }
concurrency: ${concurrency}
targets:
${targets}
bindings:
${bindings}
`;

describe("a run", () => {
  it("never has more than K stacks in flight at --concurrency K", async () => {
    const box = sandbox();
    for (let i = 1; i <= 6; i++) box.writeEnvironment("svc", `e${i}`, `values:\n  environmentVariables:\n    N: "${i}"\n`);
    box.writeManifest(manifest(`  out: { kind: file, path: "out/{env}.env" }`, `  - { environments: "svc/*", target: out }`, 6));
    const { root, log } = loggingPulumi(box.dir);
    const result = await box.run(["sync", "--concurrency", "2"], { env: { ESC_SYNC_PULUMI_ROOT: root } });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(existsSync(join(box.dir, "out", "e6.env"))).toBe(true);
    const max = maxStacksInFlight(log);
    expect(max).toBeLessThanOrEqual(2);
    expect(max).toBe(2); // the bound was reached: pairs did run side by side
  });

  it("carries on when one pair fails, and exits 1", async () => {
    const box = sandbox();
    box.writeEnvironment("app", "a", `values:\n  environmentVariables:\n    TOKEN:\n      fn::secret: ${CANARY}\n`);
    box.writeEnvironment("app", "b", `values:\n  environmentVariables:\n    TOKEN: plain\n`);
    // taken/a.env is someone else's file, so the create fails when it runs (a path that cannot work,
    // like one below a file, is refused at plan time instead: bad-input.test.ts).
    mkdirSync(join(box.dir, "taken"));
    writeFileSync(join(box.dir, "taken", "a.env"), "SOMEONE=else\n");
    box.writeManifest(
      manifest(
        `  good: { kind: file, path: "out/{env}.env" }\n  bad: { kind: file, path: "taken/{env}.env" }`,
        `  - { environments: "app/*", target: good }\n  - { environments: "app/a", target: bad }`,
      ),
    );
    const { result, report } = await box.syncJson();
    expect(result.code).toBe(1);
    expect(statuses(report)).toEqual({ "app.a.good": "created", "app.b.good": "created", "app.a.bad": "failed" });
    const failed = report.pairs.find((p) => p.stack === "app.a.bad")!;
    expect(failed.message).toMatch(/taken\/a\.env already exists and was not written by esc-sync/);
    expect(report.summary).toMatchObject({ failed: 1, exitCode: 1 });
    expect(box.read("out/a.env")).toBe(`TOKEN=${CANARY}\n`);
    expect(result.stdout + result.stderr).not.toContain(CANARY);
    expect(box.stateText()).not.toContain(CANARY);
  });

  it("previews with --dry-run and writes nothing", async () => {
    const box = sandbox();
    box.writeEnvironment("app", "a", `values:\n  environmentVariables:\n    X: "1"\n`);
    box.writeManifest(manifest(`  out: { kind: file, path: "out/{env}.env" }`, `  - { environments: "app/*", target: out }`));
    const before = await box.syncJson(["--dry-run"]);
    expect(before.result.code).toBe(0);
    expect(statuses(before.report)).toEqual({ "app.a.out": "changes-pending" });
    expect(existsSync(join(box.dir, "out"))).toBe(false);
    // A dry run never writes to the backend: not even its folder, let alone a stack.
    expect(existsSync(box.backendDir)).toBe(false);
    expect((before.report as unknown as { runPlan: { steps: { decision: { action: string } }[] } }).runPlan.steps.map((s) => s.decision.action)).toEqual(["run"]);
    await box.syncJson();
    // The state folder holds ciphertext only, and is private all the same.
    expect(statSync(box.backendDir).mode & 0o777).toBe(0o700);
    const after = await box.syncJson(["--dry-run"]);
    expect(statuses(after.report)).toEqual({ "app.a.out": "unchanged" });
  });

  it("refuses to start without a passphrase, before writing anything", async () => {
    const box = sandbox({ PULUMI_CONFIG_PASSPHRASE: "" });
    box.writeEnvironment("app", "a", `values:\n  environmentVariables:\n    X: "1"\n`);
    box.writeManifest(manifest(`  out: { kind: file, path: "out/{env}.env" }`, `  - { environments: "app/*", target: out }`));
    const result = await box.run(["sync"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/PULUMI_CONFIG_PASSPHRASE/);
    expect(result.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
    expect(existsSync(join(box.dir, "state"))).toBe(false);
  });

  it("rejects a bad manifest with every problem and its line, before any Pulumi call", async () => {
    const box = sandbox();
    box.writeManifest(`version: 1\nsource: { kind: local, folder: environments }\ntargets:\n  out: { kind: file }\n  x: { kind: s3-bucket }\nbindings:\n  - { environments: "*", target: nowhere }\n`);
    const { root, log } = loggingPulumi(box.dir);
    const result = await box.run(["sync"], { env: { ESC_SYNC_PULUMI_ROOT: root } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/environments\.yaml:4:\d+: targets\.out\.path: required/);
    expect(result.stderr).toMatch(/environments\.yaml:5:\d+: targets\.x\.kind: unknown target kind "s3-bucket"/);
    expect(existsSync(log)).toBe(false); // no Pulumi process was started
  });

  it("plans without calling Pulumi while the backend holds nothing yet", async () => {
    const box = sandbox({ PULUMI_CONFIG_PASSPHRASE: "" });
    box.writeEnvironment("app", "a", `values:\n  environmentVariables:\n    SECRET:\n      fn::secret: ${CANARY}\n`);
    box.writeManifest(manifest(`  out: { kind: file, path: "out/{env}.env" }`, `  - { environments: "app/*", target: out }`));
    const { root, log } = loggingPulumi(box.dir);
    const result = await box.run(["plan", "--output", "json"], { env: { ESC_SYNC_PULUMI_ROOT: root } });
    expect(result.code).toBe(0);
    const plan = JSON.parse(result.stdout);
    expect(plan.steps[0]).toMatchObject({ stack: "app.a.out", entries: [{ name: "SECRET", secret: true }], decision: { action: "run", why: "new" } });
    expect(result.stdout).not.toContain(CANARY);
    expect(existsSync(log)).toBe(false);
  });

  it("a wrong passphrase is said once, plainly, and the other pairs are not run", async () => {
    const box = sandbox();
    for (let i = 1; i <= 3; i++) box.writeEnvironment("svc", `e${i}`, `values:\n  environmentVariables:\n    N: "${i}"\n`);
    box.writeManifest(manifest(`  out: { kind: file, path: "out/{env}.env" }`, `  - { environments: "svc/*", target: out }`, 1));
    expect((await box.run(["sync"])).code).toBe(0);
    const r = await box.run(["sync", "--force", "--output", "json"], { env: { PULUMI_CONFIG_PASSPHRASE: "not-the-passphrase" } });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { pairs: { stack: string; status: string; message?: string }[] };
    const failed = report.pairs.filter((p) => p.status === "failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.message).toMatch(/^the passphrase does not decrypt this backend's state/);
    expect(report.pairs.filter((p) => p.status === "skipped").map((p) => p.message)).toEqual([expect.stringMatching(/^not run: the passphrase/), expect.stringMatching(/^not run: the passphrase/)]);
    expect(r.stdout + r.stderr).not.toMatch(/Command failed|not-the-passphrase/);
  });
});

