/**
 * The main job end to end: the real Pulumi CLI, a file:// backend, `file` targets. Create,
 * nothing to do, a change in one environment, a binding removed; and no plaintext secret
 * anywhere along the way. Each test starts from the state it needs (see test/support/states.ts).
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { PASSPHRASE, statuses, type CliResult } from "../support/sandbox.js";
import { sandboxState } from "../support/states.js";
import { recordedToolchain } from "../support/toolchain.js";

const CANARY = "canary-7f3a9c-do-not-print";

const manifest = (withJsonBinding: boolean) => `
version: 1
source: { kind: local, folder: environments, org: acme }
state: { backend: file://./state }
concurrency: 3
targets:
  dotenv: { kind: file, path: "out/{project}/{env}.env" }
  json: { kind: file, path: "out/{project}/{env}.json" }
bindings:
  - id: vars
    environments: "app/*"
    target: dotenv
    from: environmentVariables
    shape: keys
${
  withJsonBinding
    ? `  - id: config
    environments: "app/*"
    target: json
    from: config
    shape: json
`
    : ""
}`;

const devEnv = (level: string) => `
imports: [shared/base]
values:
  password:
    fn::secret: ${CANARY}
  environmentVariables:
    DB_PASSWORD: \${password}
    LOG_LEVEL: ${level}
    REGION: \${region}
  config:
    region: \${region}
    password: \${password}
`;

/** Two environments (one importing a third) synced to both bindings: what most tests start from. */
const synced = sandboxState("synced", async (box) => {
  box.writeEnvironment("shared", "base", "values:\n  region: eu-west-1\n");
  box.writeEnvironment("app", "dev", devEnv("debug"));
  box.writeEnvironment("app", "prod", "values:\n  environmentVariables:\n    LOG_LEVEL: warn\n  config:\n    replicas: 3\n");
  box.writeManifest(manifest(true));
  return box.syncJson();
});

describe("sync end to end", () => {
  afterAll(() => synced.cleanup());

  // Every output a test saw, checked for the canary after each test (the last test checks more).
  const outputs: string[] = [];
  const seen = (...results: CliResult[]) => outputs.push(...results.flatMap((r) => [r.stdout, r.stderr]));
  afterEach(() => {
    for (const text of outputs.splice(0)) expect(text).not.toContain(CANARY);
  });

  it("creates every pair's file, with the evaluated values and mode 0600", async () => {
    const { box, value: { result, report } } = await synced.enter();
    seen(result);
    expect(result.code, result.stderr).toBe(0);
    expect(statuses(report)).toEqual({
      "app.dev.dotenv": "created",
      "app.dev.json": "created",
      "app.prod.dotenv": "created",
      "app.prod.json": "created",
    });
    expect(box.read("out/app/dev.env")).toBe(`DB_PASSWORD=${CANARY}\nLOG_LEVEL=debug\nREGION=eu-west-1\n`);
    expect(JSON.parse(box.read("out/app/dev.json"))).toEqual({ region: "eu-west-1", password: CANARY });
    expect(JSON.parse(box.read("out/app/prod.json"))).toEqual({ replicas: 3 });
    for (const f of ["out/app/dev.env", "out/app/dev.json", "out/app/prod.env", "out/app/prod.json"]) expect(box.mode(f)).toBe(0o600);
  });

  it("reports every pair unchanged on a second run", async () => {
    const { box } = await synced.enter();
    const { result, report } = await box.syncJson();
    seen(result);
    expect(result.code).toBe(0);
    expect(new Set(Object.values(statuses(report)))).toEqual(new Set(["unchanged"]));
  });

  it("updates only the pairs that use a changed value", async () => {
    const { box } = await synced.enter();
    box.writeEnvironment("app", "dev", devEnv("info"));
    const { result, report } = await box.syncJson();
    seen(result);
    expect(result.code).toBe(0);
    expect(statuses(report)).toEqual({
      "app.dev.dotenv": "updated",
      "app.dev.json": "unchanged", // LOG_LEVEL is not part of config
      "app.prod.dotenv": "unchanged",
      "app.prod.json": "unchanged",
    });
    expect(box.read("out/app/dev.env")).toContain("LOG_LEVEL=info\n");
  });

  it("keeps standard Pulumi state: `pulumi stack ls` lists the stacks", async () => {
    const { box } = await synced.enter();
    const { pulumiRoot } = recordedToolchain();
    const out = execFileSync(join(pulumiRoot, "bin", "pulumi"), ["stack", "ls", "--all", "--json"], {
      env: { ...process.env, PULUMI_BACKEND_URL: `file://${box.backendDir}`, PULUMI_CONFIG_PASSPHRASE: PASSPHRASE },
      cwd: box.dir,
      encoding: "utf8",
    });
    const names = (JSON.parse(out) as { name: string }[]).map((s) => s.name.split("/").pop()).sort();
    expect(names).toEqual(["app.dev.dotenv", "app.dev.json", "app.prod.dotenv", "app.prod.json"]);
  });

  it("removes a binding's files and stacks when the binding is removed (deletes allowed)", async () => {
    const { box } = await synced.enter();
    box.writeManifest(manifest(false));
    const { result, report } = await box.syncJson(["--allow-deletes"]);
    seen(result);
    expect(result.code, result.stderr).toBe(0);
    expect(statuses(report)).toEqual({
      "app.dev.dotenv": "unchanged",
      "app.prod.dotenv": "unchanged",
      "app.dev.json": "deleted",
      "app.prod.json": "deleted",
    });
    expect(existsSync(join(box.dir, "out/app/dev.json"))).toBe(false);
    expect(existsSync(join(box.dir, "out/app/prod.json"))).toBe(false);
    expect(existsSync(join(box.dir, "out/app/dev.env"))).toBe(true);
    // A third run finds nothing left to remove.
    const again = await box.syncJson();
    seen(again.result);
    expect(Object.keys(statuses(again.report)).sort()).toEqual(["app.dev.dotenv", "app.prod.dotenv"]);
  });

  it("never shows the canary secret: not in output, not in the state files", async () => {
    const { box, value: first } = await synced.enter();
    const plain = await box.run(["sync"]);
    const plan = await box.run(["plan", "--output", "json"]);
    const texts = [first.result, plain, plan].flatMap((r) => [r.stdout, r.stderr]);
    expect(texts.filter((t) => t.length > 0).length).toBeGreaterThanOrEqual(3); // there was output to check
    for (const text of texts) expect(text).not.toContain(CANARY);
    const state = box.stateText();
    expect(state).toContain("app.dev.dotenv"); // the state is really there...
    expect(state).not.toContain(CANARY); // ...and holds ciphertext only
    expect(box.read("out/app/dev.env")).toContain(CANARY); // while the target got the value
  });
});
