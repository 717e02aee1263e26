/**
 * The GitHub Action (action.yml) run here as a runner would run it, as far as that can be done
 * without GitHub: every `run:` step of the composite, with its `env:` and `working-directory`
 * evaluated from the inputs (defaults from action.yml) and `github.action_path` (this checkout),
 * in a copy of the embedded default, with fake $GITHUB_STEP_SUMMARY, $GITHUB_OUTPUT and
 * $RUNNER_TEMP; then the action's `outputs:` resolved from what the step wrote. The `uses:` steps
 * (actions/cache) cannot run here: actionlint checks them (scripts/actionlint/check.mjs). An
 * expression this harness does not know fails the test rather than being passed through.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../support/toolchain.js";

interface Step { name?: string; id?: string; uses?: string; run?: string; shell?: string; env?: Record<string, string>; "working-directory"?: string }
interface Action { inputs: Record<string, { default?: string }>; outputs: Record<string, { value: string }>; runs: { using: string; steps: Step[] } }

const action = parse(readFileSync(join(REPO, "action.yml"), "utf8")) as Action;
const CANARY = "demo-payments-dev-password"; // a secret of environments/payments/dev.yaml

let scratch: string;
let workspace: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "esc-sync-action-"));
  workspace = join(scratch, "workspace");
  mkdirSync(workspace);
  cpSync(join(REPO, "environments.yaml"), join(workspace, "environments.yaml"));
  cpSync(join(REPO, "environments"), join(workspace, "environments"), { recursive: true });
});
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Evaluates the `${{ … }}` expressions this action uses; throws on any other. */
function evaluate(text: string, inputs: Record<string, string>, steps: Record<string, Record<string, string>> = {}): string {
  return text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => {
    let m: RegExpExecArray | null;
    if ((m = /^inputs\.([\w-]+)$/.exec(expr))) {
      if (!(m[1]! in action.inputs)) throw new Error(`action.yml uses input ${m[1]}, which it does not declare`);
      return inputs[m[1]!] ?? action.inputs[m[1]!]!.default ?? "";
    }
    if (expr === "github.action_path") return REPO;
    if ((m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr))) {
      if (!(m[1]! in steps)) throw new Error(`action.yml's outputs name step ${m[1]}, which has no id among the steps run`);
      return steps[m[1]!]![m[2]!] ?? "";
    }
    throw new Error(`the test harness does not know the expression \${{ ${expr} }}: teach it, or keep action.yml to inputs, github.action_path and steps outputs`);
  });
}

/** Runs the composite's `run:` steps with these inputs; returns the action's outputs, summary and exit code. */
function runAction(inputs: Record<string, string>) {
  const runDir = mkdtempSync(join(scratch, "run-"));
  const summaryFile = join(runDir, "summary.md");
  const steps: Record<string, Record<string, string>> = {};
  let code = 0;
  let stderr = "";
  const skipped: string[] = [];
  for (const step of action.runs.steps) {
    if (step.uses) {
      skipped.push(step.uses);
      continue;
    }
    const outputFile = join(runDir, `output-${step.id ?? "anon"}`);
    writeFileSync(outputFile, "");
    const env: NodeJS.ProcessEnv = {
      HOME: process.env.HOME,
      PATH: process.env.PATH,
      PULUMI_CONFIG_PASSPHRASE: "action-test",
      GITHUB_STEP_SUMMARY: summaryFile,
      GITHUB_OUTPUT: outputFile,
      GITHUB_WORKSPACE: workspace,
      RUNNER_TEMP: runDir,
      ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, evaluate(String(v), inputs)])),
    };
    const cwd = resolve(workspace, evaluate(step["working-directory"] ?? ".", inputs));
    expect(step.shell).toBe("bash");
    const r = spawnSync("bash", ["-e", "-c", evaluate(step.run!, inputs)], { cwd, env, encoding: "utf8", timeout: 300_000 });
    stderr += r.stderr;
    const written = Object.fromEntries(
      readFileSync(outputFile, "utf8").split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    if (step.id) steps[step.id] = written;
    code = r.status ?? 1;
    if (code !== 0) break;
  }
  const outputs = Object.fromEntries(Object.entries(action.outputs).map(([k, o]) => [k, evaluate(o.value, inputs, steps)]));
  const summary = existsSync(summaryFile) ? readFileSync(summaryFile, "utf8") : "";
  return { code, outputs, summary, stderr, skipped };
}

describe("the GitHub Action's steps, run here", () => {
  it("is a composite whose only non-shell step is the tools cache", () => {
    expect(action.runs.using).toBe("composite");
    expect(action.runs.steps.filter((s) => s.uses).map((s) => s.uses)).toEqual(["actions/cache@v4"]);
    const cache = action.runs.steps.find((s) => s.uses)! as Step & { with: { path: string; key: string } };
    expect(cache.with.path).toBe("~/.cache/esc-sync/tools");
    // The key names the pins of scripts/provision.sh, so that a new pin starts a new cache.
    const provision = readFileSync(join(REPO, "scripts", "provision.sh"), "utf8");
    expect(cache.with.key).toContain(`pulumi-${/PULUMI_VERSION=(\S+)/.exec(provision)![1]}`);
    expect(cache.with.key).toContain(`node-${/NODE_VERSION=(\S+)/.exec(provision)![1]}`);
  });

  it("drift before any sync: exit 2 fails the step, the summary and both reports say why", () => {
    const r = runAction({ command: "drift" });
    expect(r.skipped).toEqual(["actions/cache@v4"]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.outputs["exit-code"]).toBe("2");
    const json = JSON.parse(readFileSync(r.outputs["json-report"]!, "utf8"));
    expect(json.summary.exitCode).toBe(2);
    expect(r.outputs.report).toBe(r.outputs["json-report"]);
    expect(readFileSync(r.outputs["junit-report"]!, "utf8")).toContain("<testsuite");
    expect(r.summary).toContain("## esc-sync drift");
    for (const pair of json.pairs as { stack: string }[]) expect(r.summary).toContain(pair.stack);
    expect(r.summary + readFileSync(r.outputs["json-report"]!, "utf8")).not.toContain(CANARY);
  });

  it("drift with fail-on-drift false passes the step and still reports exit 2", () => {
    const r = runAction({ command: "drift", "fail-on-drift": "false", output: "junit" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.outputs["exit-code"]).toBe("2");
    expect(r.outputs.report).toBe(r.outputs["junit-report"]);
    expect(r.outputs.report).toMatch(/\.xml$/);
  });

  it("sync writes the files, a Markdown table of the pairs, and the JSON report's path", () => {
    const r = runAction({ command: "sync" });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(workspace, "out", "payments", "dev.env"), "utf8")).toMatch(/^LOG_LEVEL=debug$/m);
    const json = JSON.parse(readFileSync(r.outputs["json-report"]!, "utf8"));
    expect(json.operation).toBe("sync");
    expect(r.outputs["junit-report"]).toBe("");
    expect(r.summary).toContain("| stack | environment | target | status | message |");
    for (const pair of json.pairs as { stack: string; status: string }[]) expect(r.summary).toContain(`| ${pair.stack} |`);
    expect(r.summary).toContain(`${json.summary.pairs} pair(s)`);
    expect(r.summary).not.toContain(CANARY);
  });

  it("drift after the sync: in sync, exit 0; plan with a shard lists only that shard's pairs", () => {
    const drift = runAction({ command: "drift" });
    expect(drift.code, drift.stderr).toBe(0);
    expect(JSON.parse(readFileSync(drift.outputs.report!, "utf8")).summary.exitCode).toBe(0);
    const all = runAction({ command: "plan" });
    const shard0 = runAction({ command: "plan", shard: "0/2" });
    const shard1 = runAction({ command: "plan", shard: "1/2" });
    for (const r of [all, shard0, shard1]) expect(r.code, r.stderr).toBe(0);
    const stacks = (r: ReturnType<typeof runAction>) => (JSON.parse(readFileSync(r.outputs.report!, "utf8")).steps as { stack: string }[]).map((s) => s.stack).sort();
    expect([...stacks(shard0), ...stacks(shard1)].sort()).toEqual(stacks(all));
    expect(shard0.outputs.report).toContain("plan-0-of-2");
    expect(shard0.summary).toContain("## esc-sync plan (shard 0/2)");
  });

  it("drift-merge: the shards' JSON drift reports become one report, summary and JUnit", () => {
    const shards = ["0/2", "1/2"].map((shard) => runAction({ command: "drift", shard }));
    for (const r of shards) expect(r.code, r.stderr).toBe(0);
    const whole = runAction({ command: "drift" });
    const merged = runAction({ command: "drift-merge", reports: shards.map((r) => r.outputs["json-report"]).join(" "), output: "junit" });
    expect(merged.code, merged.stderr).toBe(0);
    const stacks = (file: string) => (JSON.parse(readFileSync(file, "utf8")).pairs as { stack: string }[]).map((p) => p.stack);
    expect(stacks(merged.outputs["json-report"]!)).toEqual(stacks(whole.outputs["json-report"]!));
    expect(merged.outputs.report).toMatch(/\.xml$/);
    expect(merged.summary).toContain("## esc-sync drift-merge");
  });

  it("refuses bad inputs with one ::error line naming the input, before running anything", () => {
    for (const [inputs, named] of [
      [{ command: "deploy" }, "input command"],
      [{ command: "sync", output: "junit" }, "input output"],
      [{ command: "drift", shard: "3" }, "input shard"],
      [{ command: "drift", manifest: "nope.yaml" }, "input manifest"],
      [{ command: "drift-merge", reports: "none-*.json" }, "input reports"],
    ] as const) {
      const r = runAction(inputs);
      expect(r.code).toBe(1);
      const errors = r.stderr.split("\n").filter((l) => l.startsWith("::error"));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(named);
      expect(r.summary).toBe("");
    }
  });
});
