/**
 * `esc-sync plan --output json` shows the steps exactly as the runner executes them: every step's
 * work (`up`, `preview`, `inspect`, `destroy`, `report`) is the handler the sync then runs for it,
 * with the operation its events name and, for a report, the status it ends in. One state holds a
 * pair of each kind: unchanged, changed, new, one that would delete (held), an orphan, a refused one.
 */
import { afterAll, describe, expect, it } from "vitest";
import { APP_TO_FILES, Sandbox } from "../support/sandbox.js";

const env = (keys: string[]) => `values:\n  environmentVariables:\n${keys.map((k) => `    ${k}: "${k.toLowerCase()}"\n`).join("")}`;

interface PlanStep {
  stack: string;
  does: { kind: string; operation: string; status?: string; message?: string };
}
interface RunPair {
  stack: string;
  step: string;
  operation: string;
  status: string;
  message?: string;
}

describe("the plan is the run", () => {
  const box = new Sandbox();
  afterAll(() => box.cleanup());

  async function planThenRun(flags: string[]): Promise<{ planned: Map<string, PlanStep["does"]>; ran: Map<string, RunPair> }> {
    const plan = await box.run(["plan", "--output", "json", ...flags]);
    const steps = (JSON.parse(plan.stdout) as { steps: PlanStep[] }).steps;
    const { report } = await box.syncJson(flags);
    return { planned: new Map(steps.map((s) => [s.stack, s.does])), ran: new Map((report.pairs as unknown as RunPair[]).map((p) => [p.stack, p])) };
  }

  /** Each planned step ran with the handler, the operation and (a report) the status the plan gave it. */
  function expectSame(planned: Map<string, PlanStep["does"]>, ran: Map<string, RunPair>): void {
    expect([...ran.keys()].sort()).toEqual([...planned.keys()].sort());
    for (const [stack, does] of planned) {
      const pair = ran.get(stack)!;
      expect({ stack, step: pair.step, operation: pair.operation }).toEqual({ stack, step: does.kind, operation: does.operation });
      if (does.kind === "report") {
        expect({ stack, status: pair.status }).toEqual({ stack, status: does.status });
        expect(pair.message ?? "").toContain(does.message ?? "");
      }
    }
  }

  it("first sync: every pair new, each planned as an update and run as one", async () => {
    for (const name of ["same", "changed", "drop", "gone"]) box.writeEnvironment("app", name, env(["K1", "K2"]));
    box.writeManifest(APP_TO_FILES);
    const { planned, ran } = await planThenRun([]);
    expect([...planned.values()].map((d) => d.kind)).toEqual(["up", "up", "up", "up"]);
    expectSame(planned, ran);
    expect([...ran.values()].map((p) => p.status)).toEqual(["created", "created", "created", "created"]);
  });

  it("then one of each: unchanged, changed, new, held deletes, an orphan held, a refused pair", async () => {
    box.writeEnvironment("app", "changed", env(["K1", "K2", "K3"]));
    box.writeEnvironment("app", "drop", env(["K1"]));
    box.removeEnvironment("app", "gone");
    box.writeEnvironment("app", "new", env(["N1"]));
    box.writeEnvironment("app", "broken", `values:\n  environmentVariables:\n    "bad name!": x\n`);
    const { planned, ran } = await planThenRun([]);
    expect(Object.fromEntries([...planned].map(([s, d]) => [s, d.kind === "report" ? `report ${d.status}` : d.kind]))).toEqual({
      "app.broken.out": "report refused",
      "app.changed.out": "up",
      "app.drop.out": "report held",
      "app.gone.out": "report held",
      "app.new.out": "up",
      "app.same.out": "report unchanged",
    });
    expectSame(planned, ran);
  });

  it("with --allow-deletes the held steps become an update and a destroy, and run as planned", async () => {
    box.removeEnvironment("app", "broken");
    const { planned, ran } = await planThenRun(["--allow-deletes"]);
    expect(planned.get("app.drop.out")!.kind).toBe("up");
    expect(planned.get("app.gone.out")).toMatchObject({ kind: "destroy", operation: "destroy" });
    expectSame(planned, ran);
    expect(ran.get("app.gone.out")!.status).toBe("deleted");
  });

  it("a dry run executes the plan it prints: previews, and a new pair's 'would create' known without the engine", async () => {
    box.writeEnvironment("app", "fresh", env(["F1"]));
    const { result, report } = await box.syncJson(["--dry-run"]);
    expect(result.code).toBe(0);
    const embedded = (report as unknown as { runPlan: { steps: PlanStep[] } }).runPlan.steps;
    const planned = new Map(embedded.map((s) => [s.stack, s.does]));
    expect(planned.get("app.fresh.out")).toMatchObject({ kind: "preview", operation: "preview", wouldCreate: ["F1"] });
    expectSame(planned, new Map((report.pairs as unknown as RunPair[]).map((p) => [p.stack, p])));
  });
});
