/**
 * One session, many cycles: what a long-running process (serve) will do. 50 plan + execute
 * cycles on one session leave no listener and no handle behind, and each cycle sees the edits
 * made since the last one.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { RunEvent } from "../../orchestrator/runner/events.js";
import { Session } from "../../orchestrator/session.js";
import { APP_TO_FILES, PASSPHRASE, Sandbox } from "../support/sandbox.js";
import { recordedToolchain } from "../support/toolchain.js";
import { Selection } from "../../orchestrator/planner/selection.js";

const CYCLES = 50;

describe("session cycles", () => {
  const box = new Sandbox();
  afterAll(() => box.cleanup());

  it(`runs ${CYCLES} plan + execute cycles in one process without leaking listeners or handles`, async () => {
    box.writeEnvironment("app", "one", "values:\n  environmentVariables:\n    N: '0'\n");
    box.writeManifest(APP_TO_FILES);
    const env = { ...process.env, ...box.env, ESC_SYNC_PULUMI_ROOT: recordedToolchain().pulumiRoot, PULUMI_CONFIG_PASSPHRASE: PASSPHRASE };
    const session = await Session.open({ manifest: `${box.dir}/environments.yaml`, env });
    const flags = { operation: "sync" as const, dryRun: false, refresh: false, force: false, deletions: { allowAll: false, max: 0 } };
    const cycle = async () => {
      const events: RunEvent[] = [];
      const summary = await session.execute(await session.plan(Selection.all, flags), { emit: (e) => events.push(e) });
      return { summary, statuses: events.flatMap((e) => (e.kind === "pair-done" ? [e.status] : [])), messages: events.flatMap((e) => (e.kind === "pair-done" && e.message ? [e.message] : [])) };
    };

    const first = await cycle();
    expect(first.statuses, first.messages.join("\n")).toEqual(["created"]);
    const listeners = () => ["SIGINT", "SIGTERM", "exit", "uncaughtException", "unhandledRejection"].map((n) => process.listenerCount(n));
    const handles = () => process.getActiveResourcesInfo().filter((r) => r !== "TTYWrap").length;
    // The baseline is taken after the first update: the Pulumi SDK installs its process handlers
    // once, lazily, when it first runs an inline program's update; what must not happen is growth
    // cycle after cycle.
    let before = { listeners: listeners(), handles: handles() };

    for (let i = 1; i <= CYCLES; i++) {
      // Every tenth cycle changes the environment: the session must see it, not a cached plan.
      const edit = i % 10 === 0;
      if (edit) box.writeEnvironment("app", "one", `values:\n  environmentVariables:\n    N: '${i}'\n`);
      const { summary, statuses } = await cycle();
      expect(summary.exitCode, `cycle ${i}`).toBe(0);
      expect(statuses, `cycle ${i}`).toEqual([edit ? "updated" : "unchanged"]);
      if (i === 10) before = { listeners: listeners(), handles: handles() };
    }
    expect(box.read("out/one.env")).toContain(`N=${CYCLES}`);
    expect(listeners()).toEqual(before.listeners);
    // Let finished child processes' pipes close before counting.
    await new Promise((r) => setTimeout(r, 200));
    expect(handles()).toBeLessThanOrEqual(before.handles);
  });
});
