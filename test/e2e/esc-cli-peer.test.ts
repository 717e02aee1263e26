/**
 * The official `esc` CLI (v0.25.0, built by scripts/provision.sh) as a peer of esc-sync against the
 * loopback ESC server, the official evaluator behind it: what the real client calls must work, and
 * what esc-sync reads through `@pulumi/esc-sdk` must equal what `esc env open` prints.
 */
import { execFile } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EscClient } from "../../orchestrator/sources/esc-client.js";
import { PulumiCloudSource } from "../../orchestrator/sources/pulumi-cloud.js";
import { toPlain, type Plain } from "../../orchestrator/values.js";
import { startEscServer, type EscServer } from "../support/esc-server/index.js";
import { escCliPath } from "../support/esc-server/official.js";
import { ciphertextsOf } from "../support/esc-server/secrets.js";

const run = promisify(execFile);
const ORG = "acme";
const TOKEN = "pul-canary-esc-cli-token-5c1d";
const SECRET = "canary-esc-cli-secret-e02b";
const SECRET_2 = "canary-esc-cli-set-secret-77aa";

const FILES: Record<string, string> = {
  "app/base": "values:\n  region: eu-west-1\n  nothing: null\n",
  "app/dev": `imports:
  - app/base
values:
  name: dev
  port: 8080
  enabled: true
  empty:
  list: [1, null, "two"]
  url: https://\${name}.example.com:\${port}
  password:
    fn::secret: ${SECRET}
  fromJson:
    fn::fromJSON: '{"a": null, "b": [1, 2]}'
  environmentVariables:
    APP_NAME: \${name}
    APP_PASSWORD: \${password}
    APP_PORT: \${port}
`,
};

describe("the official esc CLI against the loopback ESC server", () => {
  let home: string;
  let folder: string;
  let other: string;
  let server: EscServer;
  let esc: string;
  const ref = { org: ORG, project: "app", name: "dev" };

  async function escRun(args: string[]): Promise<{ stdout: string; stderr: string }> {
    try {
      return await run(esc, args, {
        env: {
          PATH: process.env.PATH ?? "",
          HOME: home,
          PULUMI_HOME: join(home, ".pulumi"),
          PULUMI_BACKEND_URL: server.url,
          PULUMI_ACCESS_TOKEN: TOKEN,
          NO_COLOR: "1",
          TERM: "dumb",
        },
        timeout: 60_000,
      });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; code?: number };
      throw new Error(`esc ${args.join(" ")} failed (${e.code}): ${e.stderr ?? ""}${e.stdout ?? ""}`);
    }
  }

  beforeAll(async () => {
    esc = escCliPath();
    home = mkdtempSync(join(tmpdir(), "esc-cli-home-"));
    folder = mkdtempSync(join(tmpdir(), "esc-cli-envs-"));
    other = mkdtempSync(join(tmpdir(), "esc-cli-other-"));
    for (const [id, yaml] of Object.entries(FILES)) {
      const [project, name] = id.split("/") as [string, string];
      mkdirSync(join(folder, project), { recursive: true });
      writeFileSync(join(folder, project, `${name}.yaml`), yaml);
    }
    mkdirSync(join(other, "infra"), { recursive: true });
    writeFileSync(join(other, "infra", "shared.yaml"), "values:\n  x: 1\n");
    server = await startEscServer({ folder, org: ORG, otherOrgs: { globex: other }, token: TOKEN, official: true, pageSize: 2 });
  });

  afterAll(async () => {
    await server?.close();
    for (const dir of [home, folder, other]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("env ls lists every organisation's environments, across pages", async () => {
    const { stdout } = await escRun(["env", "ls"]);
    const lines = stdout.split("\n").map((l) => l.trim()).filter(Boolean);
    expect(lines).toEqual(expect.arrayContaining([`${ORG}/app/base`, `${ORG}/app/dev`, "globex/infra/shared"]));
  });

  it("env open prints what esc-sync reads through the SDK, nulls and secrets included", async () => {
    const { stdout } = await escRun(["env", "open", `${ORG}/app/dev`, "--format", "json"]);
    const printed = JSON.parse(stdout) as Plain;
    const source = new PulumiCloudSource({ org: ORG, token: TOKEN, apiUrl: server.url });
    const env = await source.open(ref);
    expect(toPlain({ value: env.properties })).toEqual(printed);
    expect(printed).toMatchObject({ nothing: null, empty: null, list: [1, null, "two"], url: "https://dev.example.com:8080", password: SECRET });
    expect(env.properties.password).toEqual({ value: SECRET, secret: true });
    expect(env.revision).toBe(1);
  });

  it("env open --format dotenv prints the environment variables", async () => {
    const { stdout } = await escRun(["env", "open", `${ORG}/app/dev`, "--format", "dotenv"]);
    expect(stdout).toContain('APP_NAME="dev"');
    expect(stdout).toContain(`APP_PASSWORD="${SECRET}"`);
    expect(stdout).toContain('APP_PORT="8080"');
  });

  it("env get shows the definition with ciphertext, and plaintext values only with --show-secrets", async () => {
    const definition = await escRun(["env", "get", `${ORG}/app/dev`, "--definition"]);
    expect(definition.stdout).not.toContain(SECRET);
    expect(definition.stdout).toContain("ciphertext");
    const hidden = await escRun(["env", "get", `${ORG}/app/dev`, "--value", "json"]);
    expect(hidden.stdout).not.toContain(SECRET);
    expect((JSON.parse(hidden.stdout) as Record<string, unknown>).password).toBe("[secret]");
    const shown = await escRun(["env", "get", `${ORG}/app/dev`, "--value", "json", "--show-secrets"]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ password: SECRET, name: "dev", nothing: null });
  });

  it("env set sends the ETag, keeps the other ciphertext, and makes a new revision", async () => {
    const client = new EscClient({ org: ORG, token: TOKEN, apiUrl: server.url });
    const before = await client.getEnvironmentYaml(ref);
    await escRun(["env", "set", `${ORG}/app/dev`, "extra", SECRET_2, "--secret"]);
    const patch = server.requests.filter((r) => r.method === "PATCH" && r.path.endsWith("/app/dev")).at(-1);
    expect(patch?.status).toBe(200);
    const after = await client.getEnvironmentYaml(ref);
    expect(after.revision).toBe(before.revision! + 1);
    expect(after.yaml).not.toContain(SECRET_2);
    expect(ciphertextsOf(after.yaml)).toEqual(expect.arrayContaining(ciphertextsOf(before.yaml)));
    const env = await new PulumiCloudSource({ org: ORG, token: TOKEN, apiUrl: server.url }).open(ref);
    expect(env.properties.extra).toEqual({ value: SECRET_2, secret: true });
    expect(env.revision).toBe(after.revision);

    // A stale ETag is refused: the CLI's tag is checked, not ignored.
    const stale = await client.updateEnvironmentYaml(ref, before.yaml, { etag: before.etag! }).catch((e: unknown) => e);
    expect((stale as { status?: number }).status).toBe(409);
  });

  it("env version history lists every revision from the latest (before=0)", async () => {
    const { stdout } = await escRun(["env", "version", "history", `${ORG}/app/dev`, "--output", "json"]);
    const { revisions } = JSON.parse(stdout) as { revisions: { number: number }[] };
    expect(revisions.map((r) => r.number)).toEqual([2, 1]);
    expect(server.requests.some((r) => r.path.endsWith("/app/dev/versions") && r.query.includes("before=0"))).toBe(true);
  });

  it("env version tag creates a tag that esc-sync resolves and reads", async () => {
    await escRun(["env", "version", "tag", `${ORG}/app/dev@stable`, "1"]);
    const client = new EscClient({ org: ORG, token: TOKEN, apiUrl: server.url });
    expect(await client.resolveRevision(ref, "stable")).toBe(1);
    const session = await client.openEnvironment(ref, { version: "stable" });
    const properties = await client.readOpenEnvironment(ref, session);
    expect(properties.extra).toBeUndefined();
    const { stdout } = await escRun(["env", "open", `${ORG}/app/dev@stable`, "--format", "json"]);
    expect(toPlain({ value: properties })).toEqual(JSON.parse(stdout));
    const tags = await escRun(["env", "version", "tag", "ls", `${ORG}/app/dev`]);
    expect(tags.stdout).toContain("stable");
  });

  it("env diff shows what changed between two revisions", async () => {
    const { stdout } = await escRun(["env", "diff", `${ORG}/app/dev@1`, "@2"]);
    expect(stdout).toMatch(/^\+.*extra/m);
    expect(stdout).not.toContain(SECRET_2);
  });

  it("env tag and env version retract work as the official CLI calls them, and send the deliveries Pulumi documents", async () => {
    const received: { kind: string; body: Record<string, unknown> }[] = [];
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d));
      req.on("end", () => {
        received.push({ kind: String(req.headers["pulumi-webhook-kind"]), body: JSON.parse(body) as Record<string, unknown> });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const hook = server.webhooks.create({ org: ORG }, { payloadUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, groups: ["environments"] });
    try {
      await escRun(["env", "tag", `${ORG}/app/dev`, "team", "payments"]);
      await escRun(["env", "tag", `${ORG}/app/dev`, "team", "billing"]);
      expect((await escRun(["env", "tag", "get", `${ORG}/app/dev`, "team"])).stdout).toContain("billing");
      await escRun(["env", "tag", "rm", `${ORG}/app/dev`, "team"]);
      await escRun(["env", "set", `${ORG}/app/dev`, "extra2", "three"]);
      await escRun(["env", "version", "retract", `${ORG}/app/dev@2`, "--reason", "peer test"]);
      const opened = await escRun(["env", "open", `${ORG}/app/dev@2`]).catch((e: unknown) => e);
      expect(opened).toBeInstanceOf(Error);
      await server.webhooks.settled();
      const seen = received.map((r) => `${r.kind}:${String(r.body.action)}:${String(r.body.tagName ?? r.body.revision)}`);
      expect(seen).toEqual(["environment_tag:created:team", "environment_tag:updated:team", "environment_tag:deleted:team", "environment_revision:created:3", "environment_revision:retracted:2"]);
    } finally {
      server.webhooks.remove({ org: ORG }, hook.name);
      receiver.close();
    }
  });

  it("never sees the token in any output", async () => {
    const outputs = await Promise.all([escRun(["env", "ls"]), escRun(["env", "get", `${ORG}/app/dev`])]);
    for (const { stdout, stderr } of outputs) expect(stdout + stderr).not.toContain(TOKEN);
  });
});
