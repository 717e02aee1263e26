/**
 * `esc-sync webhook register` against the loopback ESC server (the organisation hooks API), and
 * serve's refusals before it starts: no webhook secret, a bad --listen, --watch on a cloud source.
 * No token and no webhook secret in any output.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEscServer, type EscServer } from "../support/esc-server/index.js";
import { APP_TO_FILES, cloudToFiles, Sandbox } from "../support/sandbox.js";
import { ServeProcess } from "../support/serve.js";

const TOKEN = "pul-canary-token-register-41c0";
const HOOK_SECRET = "whsec-canary-register-e5a2";

describe("webhook register and serve's refusals", () => {
  const box = new Sandbox({ PULUMI_ACCESS_TOKEN: TOKEN });
  let server: EscServer;
  beforeAll(async () => {
    box.writeEnvironment("app", "dev", "values: {}\n");
    server = await startEscServer({ folder: box.envDir, org: "acme", token: TOKEN });
    box.writeManifest(cloudToFiles(server.url, "app/*", "out/{env}.env"));
  });
  afterAll(async () => {
    await server.close();
    box.cleanup();
  });

  it("creates a signed organisation webhook for the environment events serve acts on", async () => {
    const file = join(box.dir, "hook-secret");
    writeFileSync(file, `${HOOK_SECRET}\n`);
    const r = await box.run(["webhook", "register", "--url", "https://esc-sync.example.com/webhooks/esc", "--output", "json"], { env: { ESC_SYNC_WEBHOOK_SECRET_FILE: file } });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { name: string; events: string[] };
    const hook = server.webhooks.get({ org: "acme" }, out.name)!;
    expect(hook).toMatchObject({ payloadUrl: "https://esc-sync.example.com/webhooks/esc", secret: HOOK_SECRET, active: true, format: "raw" });
    expect(hook.filters).toEqual(expect.arrayContaining(["environment_revision_created", "environment_deleted", "imported_environment_changed", "environment_revision_tag_updated"]));
    // Rotations too: a rotated secret must reach every target at once.
    expect(hook.filters).toEqual(expect.arrayContaining(["environment_rotation_succeeded", "environment_rotation_failed"]));
    for (const text of [r.stdout, r.stderr]) for (const canary of [TOKEN, HOOK_SECRET]) expect(text).not.toContain(canary);
  });

  it("says what is wrong with a rejected token, naming neither token nor secret", async () => {
    const r = await box.run(["webhook", "register", "--url", "https://esc-sync.example.com/webhooks/esc"], { env: { PULUMI_ACCESS_TOKEN: "pul-wrong-canary-99", ESC_SYNC_WEBHOOK_SECRET: HOOK_SECRET } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/401/);
    expect(r.stderr).toMatch(/hint: check PULUMI_ACCESS_TOKEN/);
    for (const canary of ["pul-wrong-canary-99", HOOK_SECRET]) expect(r.stderr + r.stdout).not.toContain(canary);
  });

  it("serve refuses to start without a secret, with a bad --listen, or --watch on a cloud source", async () => {
    const noSecret = await box.run(["serve"]);
    expect(noSecret.code).toBe(1);
    expect(noSecret.stderr).toMatch(/ESC_SYNC_WEBHOOK_SECRET/);
    expect(noSecret.stderr).toMatch(/--insecure-no-verify/);
    const listen = await box.run(["serve", "--insecure-no-verify", "--listen", "localhost"]);
    expect(listen.code).toBe(1);
    expect(listen.stderr).toMatch(/--listen localhost: must be host:port/);
    const watch = await box.run(["serve", "--watch"], { env: { ESC_SYNC_WEBHOOK_SECRET: HOOK_SECRET } });
    expect(watch.code).toBe(1);
    expect(watch.stderr).toMatch(/--watch watches a local source's folder/);
    for (const r of [noSecret, listen, watch]) expect(r.stderr + r.stdout).not.toContain(HOOK_SECRET);
  });

  it("a full queue answers 503 with Retry-After (the sender retries); --insecure-no-verify warns", async () => {
    const local = new Sandbox();
    local.writeManifest(APP_TO_FILES);
    local.writeEnvironment("app", "dev", "values:\n  environmentVariables:\n    A: one\n");
    const serve = await ServeProcess.start(local, ["--insecure-no-verify", "--max-queue", "1", "--shutdown-grace", "0s"]);
    try {
      expect(serve.lines.find((l) => l.level === 40 && l.msg.includes("--insecure-no-verify"))).toBeDefined();
      // The first reconcile is running: one environment may wait, a second may not.
      const event = (name: string) => JSON.stringify({ organization: { githubLogin: "local" }, projectName: "app", environmentName: name, action: "created", revision: 2 });
      const first = await serve.post("/webhooks/esc", event("one"), { "Pulumi-Webhook-Kind": "environment_revision", "Pulumi-Webhook-ID": "d-1" });
      expect(first.status).toBe(202);
      const second = await serve.post("/webhooks/esc", event("two"), { "Pulumi-Webhook-Kind": "environment_revision", "Pulumi-Webhook-ID": "d-2" });
      expect(second.status).toBe(503);
      expect(second.headers.get("retry-after")).toMatch(/^\d+$/);
      expect((await serve.get("/readyz")).status).toBe(503);
    } finally {
      expect((await serve.stop()).code).toBe(0);
      local.cleanup();
    }
  });
});
