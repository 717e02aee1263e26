/**
 * `esc-sync migrate import` end to end: AWS Secrets Manager and SSM Parameter Store on a real
 * `moto` server (seeded through the AWS SDK), the real CLI, the real `@pulumi/esc-sdk` against
 * the loopback ESC server; then `esc-sync sync` of the imported environment to a `file` target,
 * and back into moto through the real AWS provider, to prove the values made the round trip
 * intact. Canary values must appear in no output.
 *
 * The AWS secrets are seeded once (tests only read them; the one that adds a parameter removes it
 * again); each test starts from the sandbox state it needs (see test/support/states.ts).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { DeleteParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { awsPulumiHome } from "../support/aws-provider.js";
import { startEscServer, type EscServer } from "../support/esc-server/index.js";
import { startMoto, type Moto } from "../support/moto.js";
import { Sandbox, statuses, type CliResult } from "../support/sandbox.js";
import { sandboxState } from "../support/states.js";

const TOKEN = "pul-canary-token-migrate-5c1";
const DB_CONFIG = { user: "svc-importer", password: "canary-json-pw-1f3a", port: 5432, tls: true, hosts: ["a.example", "b.example"] };
const API_TOKEN = "canary-plain-$token-${not.interpolated}-9e";
const SMTP_PASSWORD = "canary-securestring-77c0";
const REGION_NAME = "eu-west-1b";
const MULTILINE = 'canary-multi line1\n  line2 "quoted" # not a comment\n';
const NEW_ONE = "canary-late-arrival-4d2";
const CANARIES = [DB_CONFIG.password, API_TOKEN, "canary-plain-", SMTP_PASSWORD, "canary-multi", NEW_ONE, "canary-other-00"];

interface Report {
  operation: string;
  into: string;
  dryRun: boolean;
  written: boolean;
  created: boolean;
  secrets: { name: string; key?: string; status: string; action?: string; reason?: string }[];
  totals: Record<string, number>;
  error?: string;
  exitCode: number;
}

describe("migrate import from AWS (moto) into ESC (loopback server)", () => {
  let moto: Moto;
  let server: EscServer | undefined;
  const outputs: string[] = [];
  const ENV_PATH = "/api/esc/environments/acme/imported/app";
  const awsClient = () => ({ endpoint: moto.url, region: "us-east-1", credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });

  async function cli(box: Sandbox, args: string[], manifest = "environments.yaml"): Promise<CliResult> {
    const result = await box.run([...args, "--manifest", manifest]);
    outputs.push(result.stdout, result.stderr);
    return result;
  }

  async function importJson(box: Sandbox, args: string[], manifest?: string): Promise<{ result: CliResult; report: Report }> {
    const result = await cli(box, ["migrate", "import", "--into", "acme/imported/app", "--output", "json", ...args], manifest);
    let report: Report;
    try {
      report = JSON.parse(result.stdout) as Report;
    } catch {
      throw new Error(`migrate import printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
    }
    return { result, report };
  }

  const byKey = (report: Report) => Object.fromEntries(report.secrets.map((s) => [s.key ?? s.name, s]));

  /** The manifest and another environment, served by the loopback ESC server: nothing imported yet. */
  const configured = sandboxState(
    "configured",
    async (box) => {
      box.writeEnvironment("other", "keep", "values:\n  x: 1\n");
      // The server reads the folder on every request, so it serves whatever state is restored into it.
      server = await startEscServer({ folder: box.envDir, org: "acme", token: TOKEN });
      box.writeManifest(`
version: 1
source: { kind: pulumi-cloud, org: acme, apiUrl: "${server.url}" }
state: { backend: file://./state }
targets:
  aws-sm: { kind: aws-secrets-manager, region: us-east-1 }
  aws-sm-role: { kind: aws-secrets-manager, region: us-east-1, roleArn: "arn:aws:iam::123456789012:role/esc-sync-reader" }
  aws-ps: { kind: aws-parameter-store, region: us-east-1 }
  gh: { kind: github-actions, owner: acme, repository: app }
  out: { kind: file, path: "out/{project}-{env}.json" }
bindings:
  - { environments: "imported/*", target: out, shape: json }
`);
      return server;
    },
    () =>
      new Sandbox({
        PULUMI_ACCESS_TOKEN: TOKEN,
        ...moto.env,
        AWS_CONFIG_FILE: "/nonexistent/aws-config",
        AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
      }),
  );

  /** Then Secrets Manager imported: the environment created. */
  const fromSecretsManager = configured.next("imported from Secrets Manager", (box) => importJson(box, ["--from", "aws-sm", "--prefix", "prod/app/", "--json-as", "object"]));

  /** Then a key and a comment added by hand, and Parameter Store imported beside them. */
  const fromBoth = fromSecretsManager.next("imported from both stores", async (box) => {
    const before = readFileSync(join(box.envDir, "imported", "app.yaml"), "utf8");
    const edited = `# owned by the platform team\n${before.replace("environmentVariables:\n", "environmentVariables:\n    KEEP_ME: plain-value # a comment\n")}`;
    expect(edited).toContain("    KEEP_ME: plain-value");
    writeFileSync(join(box.envDir, "imported", "app.yaml"), edited);
    return importJson(box, ["--from", "aws-ps", "--prefix", "/prod/app/"]);
  });

  /** Then the imported environment synced to its file target. */
  const synced = fromBoth.next("synced", (box) => box.syncJson(["--manifest", "environments.yaml"]));

  beforeAll(async () => {
    moto = await startMoto();
    const aws = awsClient();
    const sm = new SecretsManagerClient(aws);
    await sm.send(new CreateSecretCommand({ Name: "prod/app/DB_CONFIG", SecretString: JSON.stringify(DB_CONFIG) }));
    await sm.send(new CreateSecretCommand({ Name: "prod/app/API_TOKEN", SecretString: API_TOKEN }));
    await sm.send(new CreateSecretCommand({ Name: "prod/app/CERT_BLOB", SecretBinary: new Uint8Array([0xff, 0x00, 0xfe, 0x81]) }));
    await sm.send(new CreateSecretCommand({ Name: "other/NOT_ME", SecretString: "canary-other-00" }));
    sm.destroy();
    const ssm = new SSMClient(aws);
    await ssm.send(new PutParameterCommand({ Name: "/prod/app/SMTP_PASSWORD", Type: "SecureString", Value: SMTP_PASSWORD }));
    await ssm.send(new PutParameterCommand({ Name: "/prod/app/REGION_NAME", Type: "String", Value: REGION_NAME }));
    await ssm.send(new PutParameterCommand({ Name: "/prod/app/MULTILINE", Type: "SecureString", Value: MULTILINE }));
    await ssm.send(new PutParameterCommand({ Name: "/other/IGNORED", Type: "String", Value: "canary-other-00" }));
    ssm.destroy();
  });

  afterAll(async () => {
    await server?.close();
    await moto?.stop();
    configured.cleanup();
  });

  // Every output a test saw (states it built included), checked for every value and the token.
  afterEach(() => {
    const all = outputs.splice(0).join("\n");
    for (const canary of [...CANARIES, TOKEN]) expect(all).not.toContain(canary);
  });

  it("dry run on a new environment: names only, nothing created or written", async () => {
    const { box, value: esc } = await configured.enter();
    const posts = esc.count("/api/esc/environments/acme", "POST");
    const patches = esc.count(ENV_PATH, "PATCH");
    const result = await cli(box, ["migrate", "import", "--from", "aws-sm", "--into", "acme/imported/app", "--prefix", "prod/app/", "--dry-run"]);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout).toMatch(/prod\/app\/DB_CONFIG\s+DB_CONFIG\s+to import\s+would add/);
    expect(result.stdout).toMatch(/prod\/app\/CERT_BLOB\s+CERT_BLOB\s+skipped\s+binary secret/);
    expect(result.stdout).toMatch(/Dry run: would add 2 keys and change 0, creating acme\/imported\/app; nothing written/);
    expect(result.stdout).not.toContain("NOT_ME");
    expect(esc.count("/api/esc/environments/acme", "POST")).toBe(posts);
    expect(esc.count(ENV_PATH, "PATCH")).toBe(patches);
  });

  it("reads through an assumed role when the target names one (STS AssumeRole on the emulator)", async () => {
    const { box } = await configured.enter();
    const result = await cli(box, ["migrate", "import", "--from", "aws-sm-role", "--into", "acme/imported/app", "--prefix", "prod/app/", "--dry-run"]);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout).toMatch(/prod\/app\/API_TOKEN\s+API_TOKEN\s+to import\s+would add/);
  });

  it("imports JSON, plain and binary secrets from Secrets Manager, creating the environment", async () => {
    const { box, value: { result, report } } = await fromSecretsManager.enter();
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(report.created).toBe(true);
    expect(report.written).toBe(true);
    const s = byKey(report);
    expect(s.DB_CONFIG).toMatchObject({ name: "prod/app/DB_CONFIG", status: "imported", action: "add" });
    expect(s.API_TOKEN).toMatchObject({ name: "prod/app/API_TOKEN", status: "imported", action: "add" });
    expect(s.CERT_BLOB).toMatchObject({ status: "skipped", reason: expect.stringMatching(/binary/) });
    expect(report.totals).toEqual({ imported: 2, unchanged: 0, conflict: 0, skipped: 1, failed: 0 });
    const yaml = readFileSync(join(box.envDir, "imported", "app.yaml"), "utf8");
    expect(yaml).toMatch(/fn::secret/);
  });

  it("imports plain Strings and SecureStrings from Parameter Store, keeping the other keys", async () => {
    const { box, value: { result, report } } = await fromBoth.enter();
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(report.created).toBe(false);
    expect(report.totals).toEqual({ imported: 3, unchanged: 0, conflict: 0, skipped: 0, failed: 0 });
    expect(Object.keys(byKey(report)).sort()).toEqual(["MULTILINE", "REGION_NAME", "SMTP_PASSWORD"]);
    const yaml = readFileSync(join(box.envDir, "imported", "app.yaml"), "utf8");
    expect(yaml).toContain("# owned by the platform team");
    expect(yaml).toContain("KEEP_ME: plain-value # a comment");
    expect(yaml).toContain("DB_CONFIG:");
  });

  it("syncs the environment to a file target with every value intact", async () => {
    const { box, value: { result, report } } = await synced.enter();
    outputs.push(result.stdout, result.stderr);
    expect(result.code, result.stderr).toBe(0);
    expect(statuses(report)).toEqual({ "imported.app.out": "created" });
    const values = JSON.parse(box.read("out/imported-app.json")) as Record<string, unknown>;
    expect(values).toEqual({
      DB_CONFIG,
      API_TOKEN,
      SMTP_PASSWORD,
      REGION_NAME,
      MULTILINE,
      KEEP_ME: "plain-value",
    });
  });

  it("and back out: the imported environment, synced through the real AWS provider into another region, holds what was imported", async () => {
    // The AWS provider built from upstream parts (test/support/aws-provider.ts: not pulumi-aws's
    // release), in a PULUMI_HOME of this test's own; read back with the plain AWS SDK.
    const home = awsPulumiHome();
    try {
      const { box } = await fromBoth.enter();
      writeFileSync(
        join(box.dir, "back.yaml"),
        readFileSync(join(box.dir, "environments.yaml"), "utf8")
          .replace("targets:\n", "targets:\n  aws-back: { kind: aws-secrets-manager, region: eu-west-2, recoveryWindowInDays: 0 }\n")
          .replace(/bindings:\n[\s\S]*$/, 'bindings:\n  - { environments: "imported/*", target: aws-back, name: "back/{key}" }\n'),
      );
      const result = await box.run(["sync", "--manifest", "back.yaml", "--output", "json"], { env: home.env });
      outputs.push(result.stdout, result.stderr);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const sm = new SecretsManagerClient({ ...awsClient(), region: "eu-west-2" });
      const value = async (name: string) => (await sm.send(new GetSecretValueCommand({ SecretId: `back/${name}`, VersionStage: "AWSCURRENT" }))).SecretString;
      expect(JSON.parse((await value("DB_CONFIG"))!)).toEqual(DB_CONFIG);
      expect(await value("API_TOKEN")).toBe(API_TOKEN);
      expect(await value("SMTP_PASSWORD")).toBe(SMTP_PASSWORD);
      expect(await value("REGION_NAME")).toBe(REGION_NAME);
      expect(await value("MULTILINE")).toBe(MULTILINE);
      sm.destroy();
    } finally {
      home.cleanup();
    }
  });

  it("a second run changes nothing and writes nothing", async () => {
    const { box } = await fromBoth.enter();
    const patches = server!.count(ENV_PATH, "PATCH");
    const sm = await importJson(box, ["--from", "aws-sm", "--prefix", "prod/app/", "--json-as", "object"]);
    const ps = await importJson(box, ["--from", "aws-ps", "--prefix", "/prod/app/"]);
    for (const { result, report } of [sm, ps]) {
      expect(result.code, result.stderr + result.stdout).toBe(0);
      expect(report.written).toBe(false);
      expect(report.totals.imported).toBe(0);
      expect(report.totals.conflict).toBe(0);
    }
    expect(sm.report.totals).toEqual({ imported: 0, unchanged: 2, conflict: 0, skipped: 1, failed: 0 });
    expect(ps.report.totals).toEqual({ imported: 0, unchanged: 3, conflict: 0, skipped: 0, failed: 0 });
    expect(server!.count(ENV_PATH, "PATCH")).toBe(patches);
  });

  it("reports a differing key as a conflict and leaves it; --overwrite replaces it", async () => {
    const { box } = await fromBoth.enter();
    const file = join(box.envDir, "imported", "app.yaml");
    const edited = readFileSync(file, "utf8").replace(/REGION_NAME:\n\s+fn::secret: \S+/, "REGION_NAME: edited-by-hand");
    expect(edited).toContain("REGION_NAME: edited-by-hand");
    writeFileSync(file, edited);
    const conflict = await importJson(box, ["--from", "aws-ps", "--prefix", "/prod/app/"]);
    expect(conflict.result.code).toBe(1);
    expect(byKey(conflict.report).REGION_NAME).toMatchObject({ status: "conflict", reason: expect.stringMatching(/different value.*--overwrite/) });
    expect(conflict.report.written).toBe(false);
    expect(readFileSync(file, "utf8")).toContain("REGION_NAME: edited-by-hand");

    const overwrite = await importJson(box, ["--from", "aws-ps", "--prefix", "/prod/app/", "--overwrite"]);
    expect(overwrite.result.code, overwrite.result.stdout).toBe(0);
    expect(byKey(overwrite.report).REGION_NAME).toMatchObject({ status: "imported", action: "update" });
    expect(readFileSync(file, "utf8")).not.toContain("edited-by-hand");
  });

  it("detects an edit made between the read and the write and overwrites nothing", async () => {
    const { box } = await fromBoth.enter();
    const ssm = new SSMClient(awsClient());
    await ssm.send(new PutParameterCommand({ Name: "/prod/app/NEW_ONE", Type: "SecureString", Value: NEW_ONE }));
    const file = join(box.envDir, "imported", "app.yaml");
    // A proxy in front of the ESC server makes the edit when the update arrives: after the CLI read.
    const proxy = await startEditingProxy(server!.url, "PATCH", () => {
      writeFileSync(file, readFileSync(file, "utf8").replace("KEEP_ME: plain-value", "KEEP_ME: edited-meanwhile"));
    });
    try {
      writeFileSync(join(box.dir, "proxied.yaml"), readFileSync(join(box.dir, "environments.yaml"), "utf8").replace(server!.url, proxy.url));
      const { result, report } = await importJson(box, ["--from", "aws-ps", "--prefix", "/prod/app/"], "proxied.yaml");
      expect(result.code).toBe(1);
      expect(report.written).toBe(false);
      expect(report.error).toMatch(/changed after it was read.*409.*nothing was written/);
      expect(byKey(report).NEW_ONE).toMatchObject({ status: "conflict", reason: expect.stringMatching(/changed while importing/) });
      const text = readFileSync(file, "utf8");
      expect(text).toContain("KEEP_ME: edited-meanwhile");
      expect(text).not.toContain("NEW_ONE");
      expect(proxy.hits).toBe(1);

      // Text output of the same outcome, and a dry run that names the key without its value.
      const dry = await cli(box, ["migrate", "import", "--from", "aws-ps", "--into", "acme/imported/app", "--prefix", "/prod/app/", "--dry-run"]);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toMatch(/\/prod\/app\/NEW_ONE\s+NEW_ONE\s+to import\s+would add/);
      expect(dry.stdout).toMatch(/Dry run: would add 1 key and change 0; nothing written/);
    } finally {
      await proxy.close();
      // The other tests read the seeded parameters only.
      await ssm.send(new DeleteParameterCommand({ Name: "/prod/app/NEW_ONE" }));
      ssm.destroy();
    }
  });

  it("refuses a store that cannot be read, and an unknown target", async () => {
    const { box } = await configured.enter();
    const gh = await cli(box, ["migrate", "import", "--from", "gh", "--into", "acme/imported/app"]);
    expect(gh.code).toBe(1);
    expect(gh.stderr).toMatch(/github-actions stores cannot be read/);
    const unknown = await cli(box, ["migrate", "import", "--from", "nope", "--into", "acme/imported/app"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/--from nope: no such target.*known: aws-sm, aws-sm-role, aws-ps, gh, out/);
  });

  it("never prints a value or the token", async () => {
    // What the tests above print is checked after each of them; here the imports and the sync
    // that built the states, and the Pulumi state the sync left.
    const results = [(await fromSecretsManager.enter()).value.result, (await fromBoth.enter()).value.result];
    const { box, value: sync } = await synced.enter();
    results.push(sync.result);
    const all = results.flatMap((r) => [r.stdout, r.stderr]).join("\n");
    expect(all).toMatch(/DB_CONFIG/); // there was output to check
    for (const canary of [...CANARIES, TOKEN]) expect(all).not.toContain(canary);
    expect(box.stateText()).not.toContain(SMTP_PASSWORD);
  });
});

/** An HTTP proxy that runs `onMatch` once, before forwarding the first request of `method`. */
async function startEditingProxy(target: string, method: string, onMatch: () => void): Promise<{ url: string; hits: number; close(): Promise<void> }> {
  const upstream = new URL(target);
  const state = { hits: 0 };
  const proxy: Server = createServer((req, res) => {
    if (req.method === method && state.hits === 0) {
      state.hits++;
      onMatch();
    }
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get hits() {
      return state.hits;
    },
    close: () => new Promise<void>((resolve) => proxy.close(() => resolve())),
  };
}
