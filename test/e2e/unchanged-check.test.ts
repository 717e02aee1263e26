/**
 * The unchanged check reads a `file://` backend's state files directly: it agrees with `--force`
 * on every pair after another process updated some stacks, and spends no CLI process per stack.
 * A created pair costs `stack init`, two tags and `up`; an updated one `up` alone.
 */
import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { loggingPulumi } from "../support/pulumi-log.js";
import { APP_TO_FILES, statuses } from "../support/sandbox.js";
import { sandboxState } from "../support/states.js";

const CANARY = "canary-unchanged-check-90d2";
const NAMES = ["e1", "e2", "e3", "e4", "e5", "e6"];
const value = (n: string, v: string) => `values:\n  environmentVariables:\n    KEY: "${CANARY}-${n}-${v}"\n`;

const synced = sandboxState("six pairs synced", async (box) => {
  for (const n of NAMES) box.writeEnvironment("app", n, value(n, "1"));
  box.writeManifest(APP_TO_FILES);
  const pulumi = loggingPulumi(box.dir);
  const first = await box.run(["sync"], { env: { ESC_SYNC_PULUMI_ROOT: pulumi.root } });
  expect(first.code, first.stderr).toBe(0);
});

/** Three environments edited; another process then synced one of them (and only that one). */
const updatedElsewhere = synced.next("three edited, one synced by another process", async (box) => {
  for (const n of ["e1", "e2", "e3"]) box.writeEnvironment("app", n, value(n, "2"));
  const other = await box.syncJson(["--filter", "app/e1"]);
  expect(statuses(other.report)).toEqual({ "app.e1.out": "updated" });
  // The first sync's Pulumi calls, and a fresh log for the tests.
  const pulumi = loggingPulumi(box.dir);
  const created = pulumi.calls();
  rmSync(pulumi.log);
  return created;
});

describe("the unchanged check", () => {
  afterAll(() => synced.cleanup());

  it("agrees with --force on every pair after another process updated some stacks", async () => {
    const { box } = await updatedElsewhere.enter();
    const plan = await box.run(["plan", "--output", "json"]);
    expect(plan.code, plan.stderr).toBe(0);
    const decided = Object.fromEntries((JSON.parse(plan.stdout) as { steps: { stack: string; decision: { action: string } }[] }).steps.map((s) => [s.stack, s.decision.action]));
    expect(decided).toEqual({ "app.e1.out": "skip-unchanged", "app.e2.out": "run", "app.e3.out": "run", "app.e4.out": "skip-unchanged", "app.e5.out": "skip-unchanged", "app.e6.out": "skip-unchanged" });
    // --force runs up for every pair: the engine's own verdict, pair by pair.
    const forced = await box.syncJson(["--force"]);
    expect(forced.result.code, forced.result.stderr).toBe(0);
    const engine = statuses(forced.report);
    for (const [stack, action] of Object.entries(decided)) expect(engine[stack], stack).toBe(action === "skip-unchanged" ? "unchanged" : "updated");
    expect(box.read("out/e1.env")).toBe(`KEY=${CANARY}-e1-2\n`);
    expect(plan.stdout + plan.stderr).not.toContain(CANARY);
  });

  it("reads the records without a CLI process per stack; a created pair costs init, two tags and up, a changed one up alone", async () => {
    const { box, value: created } = await updatedElsewhere.enter();
    // No select, no `stack output` or `stack history` after up.
    const verbs = (calls: string[], stack: string) => calls.filter((c) => c.includes(stack)).map((c) => c.split(" ").slice(0, c.startsWith("stack") ? 2 : 1).join(" ")).sort();
    expect(verbs(created, "app.e4.out")).toEqual(["stack init", "stack tag", "stack tag", "up"]);
    expect(created.filter((c) => c.startsWith("stack export"))).toEqual([]);
    const pulumi = loggingPulumi(box.dir);
    const run = await box.run(["sync", "--output", "json"], { env: { ESC_SYNC_PULUMI_ROOT: pulumi.root } });
    expect(run.code, run.stderr).toBe(0);
    const calls = pulumi.calls();
    expect(verbs(calls, "app.e2.out")).toEqual(["up"]);
    expect(verbs(calls, "app.e3.out")).toEqual(["up"]);
    // The unchanged pairs: no Pulumi process at all, and no listing or export of any stack.
    for (const n of ["e1", "e4", "e5", "e6"]) expect(verbs(calls, `app.${n}.out`)).toEqual([]);
    expect(calls.filter((c) => c.startsWith("stack export") || c.startsWith("stack ls"))).toEqual([]);
  });
});
