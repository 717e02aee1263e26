/**
 * Bad input, one case per test: each gets a clear message naming what is wrong and how to fix
 * it, exit code 1, and no Pulumi call for what is known to be wrong before running.
 */
import { existsSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loggingPulumi } from "../support/pulumi-log.js";
import { startEscServer } from "../support/esc-server/index.js";
import { Sandbox, statuses } from "../support/sandbox.js";

const CANARY = "canary-bad-input-31f9";
const boxes: Sandbox[] = [];
afterEach(() => {
  for (const b of boxes.splice(0)) b.cleanup();
});

const GOOD_TARGETS = `targets:\n  out: { kind: file, path: "out/{env}.env" }\n`;
const GOOD_BINDINGS = `bindings:\n  - { environments: "app/*", target: out }\n`;
const HEADER = `version: 1\nsource: { kind: local, folder: environments }\nstate: { backend: file://./state }\n`;

/** A sandbox with one good environment and a pulumi that logs its calls. */
function sandbox(manifest: string, env: NodeJS.ProcessEnv = {}) {
  const box = new Sandbox(env);
  boxes.push(box);
  box.writeEnvironment("app", "good", `values:\n  environmentVariables:\n    TOKEN:\n      fn::secret: ${CANARY}\n`);
  box.writeManifest(manifest);
  const pulumi = loggingPulumi(box.dir);
  const run = (args: string[] = ["sync"]) => box.run(args, { env: { ESC_SYNC_PULUMI_ROOT: pulumi.root } });
  return { box, pulumi, run };
}

/** A config error: exit 1, the message, no Pulumi process at all, no stack trace, no secret. */
async function expectConfigError(s: ReturnType<typeof sandbox>, message: RegExp) {
  const r = await s.run();
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  expect(r.stdout + r.stderr).not.toContain(CANARY);
  expect(s.pulumi.calls()).toEqual([]);
  return r;
}

describe("bad input", () => {
  it("malformed YAML: file, line and column", async () => {
    await expectConfigError(sandbox(`version: 1\nsource: { kind: local, folder: environments\n`), /environments\.yaml is not valid YAML\n\s+- .*environments\.yaml:\d+:\d+: /);
  });

  it("an unknown target kind: names the known kinds", async () => {
    await expectConfigError(
      sandbox(`${HEADER}targets:\n  out: { kind: s3, bucket: b }\n${GOOD_BINDINGS}`),
      /environments\.yaml:5:\d+: targets\.out\.kind: unknown target kind "s3": use one of file, aws-secrets-manager/,
    );
  });

  it("a missing setting: says it is required", async () => {
    await expectConfigError(sandbox(`${HEADER}targets:\n  out: { kind: aws-secrets-manager }\n${GOOD_BINDINGS}`), /targets\.out\.region: required/);
  });

  it("a mistyped setting: names the setting and the expected type", async () => {
    await expectConfigError(sandbox(`${HEADER}concurrency: four\n${GOOD_TARGETS}${GOOD_BINDINGS}`), /environments\.yaml:4:\d+: concurrency: .*expected number/i);
  });

  it("a misspelt setting: unknown, with its path", async () => {
    await expectConfigError(sandbox(`${HEADER}targets:\n  out: { kind: file, path: "o/{env}", mdoe: "0600" }\n${GOOD_BINDINGS}`), /targets\.out\.mdoe: unknown setting "mdoe"/);
  });

  it("a binding that matches nothing: a warning, and the run goes on", async () => {
    const s = sandbox(`${HEADER}${GOOD_TARGETS}${GOOD_BINDINGS}  - { id: typo, environments: "ap/*", target: out }\n`);
    const r = await s.run(["sync", "--output", "json"]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { warnings: string[] }).warnings.join("\n")).toMatch(/binding "typo" selects no environment \(.*ap\/\*.*\): check its glob/);
  });

  it("an environment that fails to evaluate: its file and line; its pair fails, no Pulumi call for it", async () => {
    const s = sandbox(`${HEADER}${GOOD_TARGETS}${GOOD_BINDINGS}`);
    s.box.writeEnvironment("app", "broken", `values:\n  environmentVariables:\n    URL: \${missing.value}\n`);
    const r = await s.run(["sync", "--output", "json"]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as Parameters<typeof statuses>[0];
    expect(statuses(report)).toEqual({ "app.broken.out": "refused", "app.good.out": "created" });
    expect(report.pairs.find((p) => p.stack === "app.broken.out")!.message).toMatch(/environment app\/broken has errors:\n\s+environments\/app\/broken\.yaml:3:\d+: .*missing/);
    expect(s.pulumi.calls().filter((c) => c.includes("app.broken.out"))).toEqual([]);
  });

  it("a value too large for its store: the store's limit, and no Pulumi call for that pair", async () => {
    const s = sandbox(`${HEADER}targets:\n  sm: { kind: aws-secrets-manager, region: eu-west-1 }\nbindings:\n  - { environments: "app/*", target: sm, name: "{env}/{key}" }\n`);
    s.box.writeEnvironment("app", "good", `values:\n  environmentVariables:\n    BIG:\n      fn::secret: "${"x".repeat(70_000)}"\n`);
    const r = await s.run(["sync", "--output", "json"]);
    expect(r.code).toBe(1);
    const pair = (JSON.parse(r.stdout) as { pairs: { stack: string; status: string; message: string }[] }).pairs[0]!;
    expect(pair).toMatchObject({ stack: "app.good.sm", status: "refused" });
    expect(pair.message).toMatch(/good\/BIG.*(65,?536|64 KiB)/);
    expect(s.pulumi.calls().filter((c) => c.includes("app.good.sm"))).toEqual([]);
    expect(s.pulumi.calls().filter((c) => c.startsWith("plugin install"))).toEqual([]);
  });

  it("a name invalid after templating: the store's rule, and no Pulumi call for that pair", async () => {
    const s = sandbox(`${HEADER}${GOOD_TARGETS}bindings:\n  - { environments: "app/*", target: out, name: "{env}-{key}" }\n`);
    const r = await s.box.syncJson([]);
    expect(r.result.code).toBe(1);
    expect(r.report.pairs[0]!.message).toMatch(/"good-TOKEN" is not a dotenv variable name: it must start with a letter or _ and contain only letters, digits and _/);
    expect(s.pulumi.calls().filter((c) => c.includes("app.good.out"))).toEqual([]);
  });

  it("a rejected token: says which variable to fix, never the token", async () => {
    const server = await startEscServer({ folder: "/nonexistent", org: "acme", token: "pul-right" });
    try {
      const s = sandbox(`version: 1\nsource: { kind: pulumi-cloud, org: acme, apiUrl: "${server.url}" }\n${GOOD_TARGETS}${GOOD_BINDINGS}`, { PULUMI_ACCESS_TOKEN: "pul-wrong-canary-9c" });
      const r = await expectConfigError(s, /cannot list the environments of pulumi-cloud acme .*401[\s\S]*hint: check PULUMI_ACCESS_TOKEN/);
      expect(r.stderr).not.toContain("pul-wrong-canary-9c");
    } finally {
      await server.close();
    }
  });

  it("an unreachable API: says to check the URL and the network", async () => {
    // A port that was open a moment ago and is closed now: connection refused at once.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const s = sandbox(`version: 1\nsource: { kind: pulumi-cloud, org: acme, apiUrl: "http://127.0.0.1:${port}" }\n${GOOD_TARGETS}${GOOD_BINDINGS}`, { PULUMI_ACCESS_TOKEN: "pul-x" });
    await expectConfigError(s, /cannot list the environments of pulumi-cloud acme .*ECONNREFUSED[\s\S]*hint: check the API URL and the network/);
  });

  it("no access token for pulumi-cloud: says where to set one", async () => {
    const s = sandbox(`version: 1\nsource: { kind: pulumi-cloud, org: acme }\n${GOOD_TARGETS}${GOOD_BINDINGS}`, { PULUMI_ACCESS_TOKEN: "" });
    await expectConfigError(s, /source pulumi-cloud needs an access token: set PULUMI_ACCESS_TOKEN/);
  });

  it("flags are checked before anything runs: a clear message, exit 1, never an internal error (in process)", async () => {
    const s = sandbox(`${HEADER}${GOOD_TARGETS}${GOOD_BINDINGS}`);
    const cases: [string[], RegExp][] = [
      [["sync", "--concurrency", "0"], /--concurrency 0: must be a whole number of at least 1/],
      [["sync", "--max-deletes", "-1"], /--max-deletes -1: must be a whole number of at least 0/],
      [["sync", "--allow-deletes", "--max-deletes", "2"], /--allow-deletes and --max-deletes cannot be used together/],
      [["sync", "--target", "nope"], /--target nope: no such target .*\(known: out\)/],
      [["sync", "--filter", "nope/*"], /--filter nope\/\* selects none of the 1 environment\(s\)[\s\S]*hint: .*--allow-empty/],
      [["sync", "--pair-timeout", "soon"], /--pair-timeout soon: must be a duration such as 90s, 15m or 1h30m/],
      [["sync", "--filter", ""], /--filter needs a glob over project\/name/],
      [["sync", "--filter"], /--filter needs a glob over project\/name/],
      [["sync", "--backend-url", "/tmp/x"], /--backend-url \/tmp\/x: not a URL; use file:\/\/\/absolute\/path/],
      [["drift", "--out", "/nonexistent/x.xml"], /--out \/nonexistent\/x\.xml: the folder \/nonexistent does not exist/],
      [["synk"], /unknown command: Did you mean sync\?/],
      [["sync", "--dryrun"], /unknown flag: --dryrun \(did you mean --dry-run\?\)/],
      [["sync", "--dry-runn"], /^error: unknown flag: --dry-runn \(did you mean --dry-run\?\)\n/],
      // Each command's own flags: adopt opens environments, so it takes --esc-rps; drift merge reads files only.
      [["migrate", "adopt", "--esc-rps", "0"], /--esc-rps 0: must be a whole number of at least 1/],
      [["drift", "merge", "--filter", "app/*", "r.json"], /^error: unknown flag: --filter\n/],
      [["migrate"], /Name a migrate command: import or adopt/],
      [["sync", "-m", "."], /is a folder: pass the manifest file itself \(--manifest \.\/environments\.yaml\)/],
    ];
    for (const [args, message] of cases) {
      const r = await s.box.runInProcess(args, { env: { ESC_SYNC_PULUMI_ROOT: s.pulumi.root } });
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stderr, args.join(" ")).toMatch(message);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    }
    expect(s.pulumi.calls()).toEqual([]);
  });

  it("the real process: a flag's error is its stderr and exit code 1; --esc-rps is migrate adopt's own", async () => {
    const s = sandbox(`${HEADER}${GOOD_TARGETS}${GOOD_BINDINGS}`);
    for (const [args, message] of [
      [["synk"], /^error: unknown command: Did you mean sync\?\nhint: /],
      [["sync", "--dryrun"], /^error: unknown flag: --dryrun \(did you mean --dry-run\?\)\nhint: /],
    ] as const) {
      const r = await s.run([...args]);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stderr, args.join(" ")).toMatch(message);
      expect(r.stdout).toBe("");
    }
    // Accepted (it was "unknown flags: --esc-rps (did you mean --esc-rps?)"): a dry run with it lists nothing to adopt.
    const adopt = await s.run(["migrate", "adopt", "--esc-rps", "5", "--dry-run"]);
    expect(adopt.stderr).not.toMatch(/unknown flag|internal error/);
    expect(adopt.code, adopt.stderr).toBe(0);
    expect(s.pulumi.calls()).toEqual([]);
  });

  it("four typos at once: four problems in one pass (the unknown target id among them), each with its fix", async () => {
    const s = sandbox(`${HEADER}concurency: 4\ntargets:\n  dotenv: { kind: file, path: "out/{env}.env", mdoe: "0600" }\nbindings:\n  - environments: "app/*"\n    target: dotnev\n    shap: keys\n`);
    const r = await expectConfigError(s, /environments\.yaml has 4 problems/);
    for (const line of [
      /environments\.yaml:4:\d+: concurency: unknown setting "concurency" at the top level: did you mean "concurrency"\? rename it/,
      /environments\.yaml:6:\d+: targets\.dotenv\.mdoe: unknown setting "mdoe": did you mean "mode"\? rename it/,
      /environments\.yaml:9:\d+: bindings\[0\]\.target: no target "dotnev" in targets \(known: dotenv\)/,
      /environments\.yaml:10:\d+: bindings\[0\]\.shap: unknown setting "shap": did you mean "shape"\? rename it/,
    ]) expect(r.stderr).toMatch(line);
  });

  it("{env} unquoted in a flow map: one line, with the quoting fix", async () => {
    const r = await expectConfigError(
      sandbox(`${HEADER}targets:\n  out: { kind: file, path: out/{env}.env }\n${GOOD_BINDINGS}`),
      /environments\.yaml is not valid YAML\n {2}- .*environments\.yaml:5:\d+: .*: quote the value holding \{ \}: inside a \{ … \} mapping, \{ opens another mapping; write path: "out\/\{env\}\.env"\n$/,
    );
    expect(r.stderr.trim().split("\n")).toHaveLength(2);
  });

  it("a glob that matches nothing beside one that does: a warning naming it", async () => {
    const s = sandbox(`${HEADER}${GOOD_TARGETS}bindings:\n  - { environments: ["app/*", "apq/*"], target: out }\n`);
    const r = await s.run(["plan", "--output", "json"]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { warnings: string[] }).warnings).toContain(`binding "out": its glob "apq/*" matches none of the 1 environment(s) (its other globs do): check its spelling`);
  });

  it("file targets under /proc or /sys, or below a file: refused at plan time, naming the fix; no engine runs", async () => {
    const s = sandbox(`${HEADER}targets:\n  proc: { kind: file, path: "/proc/esc-sync/{env}.env" }\n  sys: { kind: file, path: "/sys/esc-sync/{env}.env" }\n  under: { kind: file, path: "a-file/{env}.env" }\nbindings:\n  - { environments: "app/*", target: proc }\n  - { environments: "app/*", target: sys }\n  - { environments: "app/*", target: under }\n`);
    writeFileSync(join(s.box.dir, "a-file"), "not a folder");
    const plan = await s.run(["plan"]);
    expect(plan.code).toBe(1);
    expect(plan.stdout).toMatch(/app\.good\.proc: refused: .*path \/proc\/esc-sync\/good\.env is under \/proc, a pseudo-filesystem where files cannot be created: set the target's path to a file on a real filesystem/);
    expect(plan.stdout).toMatch(/app\.good\.sys: refused: .*is under \/sys, a pseudo-filesystem/);
    expect(plan.stdout).toContain(`cannot be created: ${join(s.box.dir, "a-file")} is a file, not a folder`);
    const sync = await s.box.syncJson([]);
    expect(sync.result.code).toBe(1);
    expect(statuses(sync.report)).toEqual({ "app.good.proc": "refused", "app.good.sys": "refused", "app.good.under": "refused" });
    expect(s.pulumi.calls().filter((c) => /^(up|preview|stack init|stack select)\b/.test(c))).toEqual([]);
  });

  it("plan, drift and inventory without the passphrase, once a pair is synced: refused (never a guess), and no key written", async () => {
    const s = sandbox(`${HEADER}${GOOD_TARGETS}${GOOD_BINDINGS}`);
    expect((await s.run(["sync"])).code).toBe(0);
    const synced = s.pulumi.calls().length;
    for (const command of ["plan", "drift", "inventory"]) {
      const r = await s.box.run([command], { env: { PULUMI_CONFIG_PASSPHRASE: "", ESC_SYNC_PULUMI_ROOT: s.pulumi.root } });
      expect(r.code, command).toBe(1);
      expect(r.stderr, command).toMatch(/error: no fingerprint key: .*cannot tell a synced pair from a changed one[^\n]*\nhint: export PULUMI_CONFIG_PASSPHRASE/);
      if (command !== "inventory") expect(r.stderr, command).toContain("(1 of the selected pair(s) have a stack record to compare)");
    }
    expect(existsSync(join(s.box.dir, "xdg-state", "esc-sync", "fingerprint.key"))).toBe(false);
    expect(s.pulumi.calls().slice(synced).filter((c) => /^(up|refresh|preview)\b/.test(c))).toEqual([]);
  });

  it("old spellings and help: --format warns it is deprecated; drift merge --help lists only its own flags; -m on a folder names a file that exists", async () => {
    const s = sandbox(`${HEADER}${GOOD_TARGETS}${GOOD_BINDINGS}`);
    const inventory = await s.run(["inventory", "--format", "json"]);
    expect(inventory.code).toBe(0);
    expect(inventory.stderr).toContain("warning: --format is deprecated: use --output (or -o)");
    const help = await s.run(["drift", "merge", "--help"]);
    expect(help.stdout).toMatch(/^ {2}-o, --output /m);
    expect(help.stdout).not.toMatch(/-o, -o|^\s+(-f, )?--filter|^\s+--shard|^\s+--stale-lock-minutes/m);
    const folder = await s.run(["plan", "-m", "environments"]);
    expect(folder.stderr).toMatch(/environments is a folder: pass the manifest file itself \(--manifest \.\/environments\.yaml\)/);
  });

  it("migrate adopt against a store it cannot reach: names the target and what to check, exit 1", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const s = sandbox(`${HEADER}targets:\n  sm: { kind: aws-secrets-manager, region: eu-west-1 }\nbindings:\n  - { environments: "app/*", target: sm, name: "{env}/{key}" }\n`, {
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
      AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "secret-key-canary-77",
      AWS_MAX_ATTEMPTS: "1",
    });
    for (const args of [["migrate", "adopt", "--dry-run"], ["migrate", "adopt"]]) {
      const r = await s.run(args);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stderr).toMatch(/error: cannot read target "sm" \(eu-west-1\) for app\.good\.sm: [\s\S]*hint: /);
      expect(r.stderr).not.toMatch(/internal error|StoreReadError|\n\s+at /);
      expect(r.stdout + r.stderr).not.toContain("secret-key-canary-77");
      expect(r.stdout + r.stderr).not.toContain(CANARY);
    }
    expect(s.pulumi.calls()).toEqual([]);
  });
});

