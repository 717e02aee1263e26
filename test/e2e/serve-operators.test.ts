/**
 * serve for operators, end to end with the real Pulumi CLI on a local source: `GET /status` (every
 * pair's last result, time, error and hint; no values), `POST /sync` (401 without the bearer
 * token, 403 when serve has none), `POST /pause` and `/resume` (a delivery accepted while paused is
 * queued and synced on resume; readiness says paused), and `--notify` (JSON and Slack format)
 * posting to a loopback receiver when a pair fails and when it recovers. Canaries: no token, webhook
 * secret or secret value in anything serve printed, answered or sent. Also: a port in use, an
 * address that cannot be bound and a missing watch folder end serve with exit 1 and one clear JSON
 * line.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sign } from "../../orchestrator/serve/signature.js";
import { APP_TO_FILES, Sandbox } from "../support/sandbox.js";
import { ServeProcess, waitUntil } from "../support/serve.js";
import { CLI, recordedToolchain, REPO } from "../support/toolchain.js";

const ADMIN = "admin-canary-token-3e9a";
const HOOK_SECRET = "whsec-canary-ops-51c0";
const SECRET = "canary-ops-secret-9b2d";
const env = (value: string) => `values:\n  environmentVariables:\n    VALUE: ${value}\n    TOKEN:\n      fn::secret: ${SECRET}\n`;

/** A loopback HTTP receiver that records every request it gets. */
async function receiver(): Promise<{ url: string; got: { path: string; body: string }[]; close: () => Promise<void> }> {
  const got: { path: string; body: string }[] = [];
  const server: Server = createHttpServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d));
    req.on("end", () => {
      got.push({ path: req.url ?? "", body });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got, close: () => new Promise((r) => server.close(() => r())) };
}

describe("serve's operator endpoints and --notify", () => {
  const box = new Sandbox({ ESC_SYNC_WEBHOOK_SECRET: HOOK_SECRET, ESC_SYNC_ADMIN_TOKEN: ADMIN });
  let serve: ServeProcess;
  let rx: Awaited<ReturnType<typeof receiver>>;
  const answers: string[] = [];

  const admin = async (path: string, body?: string, token: string | null = ADMIN) => {
    const r = await fetch(serve.url + path, { method: "POST", headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { "Content-Type": "application/json" } : {}) }, ...(body ? { body } : {}) });
    const text = await r.text();
    answers.push(text);
    return { status: r.status, json: JSON.parse(text) as Record<string, unknown> };
  };
  const status = async () => {
    const r = await serve.get("/status");
    answers.push(r.text);
    return JSON.parse(r.text) as { paused: boolean; queueDepth: number; pairs: { stack: string; status: string; ok: boolean; lastSyncedAt?: string; lastResultAt: string; error?: string; hint?: string }[] };
  };
  const settle = (what: string, check: () => boolean | Promise<boolean>) =>
    waitUntil(what, check, 180_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\nserve's log:\n${serve.stdout.slice(-6000)}`);
    });

  beforeAll(async () => {
    rx = await receiver();
    box.writeManifest(APP_TO_FILES);
    box.writeEnvironment("app", "dev", env("one"));
    box.writeEnvironment("app", "prod", env("one"));
    serve = await ServeProcess.start(box, ["--debounce", "0s", "--reconcile-every", "1h", "--notify", `${rx.url}/json`, "--notify", `slack:${rx.url}/slack`]);
    await serve.reconciled();
  });
  afterAll(async () => {
    await serve?.stop("SIGKILL");
    await rx?.close();
    box.cleanup();
  });

  it("GET /status shows every pair's last result and time, without values", async () => {
    const s = await status();
    expect(s.paused).toBe(false);
    expect(s.pairs.map((p) => p.stack)).toEqual(["app.dev.out", "app.prod.out"]);
    for (const p of s.pairs) {
      expect(p).toMatchObject({ status: "created", ok: true });
      expect(Date.parse(p.lastSyncedAt!)).toBeGreaterThan(0);
    }
  });

  it("POST /sync needs the bearer token, and with it syncs what its filter names at once", async () => {
    expect((await admin("/sync", undefined, null)).status).toBe(401);
    expect((await admin("/sync", undefined, "not-the-token")).status).toBe(401);
    expect((await admin("/sync", "{not json")).status).toBe(400);
    expect((await admin("/sync", JSON.stringify({ filter: "nothing/*" }))).status).toBe(404);
    box.writeEnvironment("app", "dev", env("two"));
    const r = await admin("/sync", JSON.stringify({ filter: ["app/dev"] }));
    expect(r).toEqual({ status: 202, json: { status: "queued", environments: ["app/dev"] } });
    await settle("the edit in out/dev.env", () => box.read("out/dev.env").includes("VALUE=two"));
    expect(box.read("out/prod.env")).toContain("VALUE=one");
  });

  it("POST /pause holds syncs while deliveries are accepted and queued; readiness says paused; POST /resume runs them", async () => {
    await settle("no cycle running", async () => !JSON.parse((await serve.get("/status")).text).busy);
    expect((await admin("/pause")).json).toMatchObject({ status: "paused" });
    const ready = await serve.get("/readyz");
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toEqual({ status: "paused" });

    box.writeEnvironment("app", "prod", env("while-paused"));
    const body = JSON.stringify({ organization: { name: "local", githubLogin: "local" }, projectName: "app", environmentName: "prod", action: "created", revision: 1 });
    const delivered = await serve.post("/webhooks/esc", body, { "Pulumi-Webhook-ID": "paused-1", "Pulumi-Webhook-Kind": "environment_revision", "Pulumi-Webhook-Signature": sign(HOOK_SECRET, body) });
    expect(delivered.status).toBe(202);
    expect(JSON.parse(delivered.text)).toEqual({ status: "accepted", paused: true });
    // Queued, not run: nothing runs while paused.
    const s = await status();
    expect(s).toMatchObject({ paused: true, queueDepth: 1 });
    expect(box.read("out/prod.env")).toContain("VALUE=one");

    expect((await admin("/resume")).json).toMatchObject({ status: "resumed", queued: 1 });
    await settle("the queued edit in out/prod.env", () => box.read("out/prod.env").includes("VALUE=while-paused"));
    expect(JSON.parse((await serve.get("/readyz")).text)).toEqual({ status: "ready" });
  });

  it("--notify posts once when a pair fails and once when it recovers, as JSON and in Slack's format, with no value", async () => {
    // out/prod.env a folder: the pair fails until it is gone (serve retries it by itself).
    box.writeEnvironment("app", "prod", env("three"));
    rmSync(join(box.outDir, "prod.env"), { force: true });
    mkdirSync(join(box.outDir, "prod.env"));
    writeFileSync(join(box.outDir, "prod.env", "in-the-way"), "");
    expect((await admin("/sync", JSON.stringify({ filter: "app/prod" }))).status).toBe(202);
    await settle("the failure notices", () => rx.got.length >= 2);
    const failing = rx.got.find((g) => g.path === "/json")!;
    expect(JSON.parse(failing.body)).toMatchObject({ event: "pair-failing", stack: "app.prod.out", environment: "local/app/prod", target: "out", status: "failed", error: expect.any(String) });
    const slack = JSON.parse(rx.got.find((g) => g.path === "/slack")!.body) as { text: string };
    expect(slack.text).toMatch(/app\/prod → out is failed/);
    const during = (await status()).pairs.find((p) => p.stack === "app.prod.out")!;
    expect(during).toMatchObject({ status: "failed", ok: false, error: expect.any(String) });
    expect(during.lastSyncedAt).toBeDefined();

    rmSync(join(box.outDir, "prod.env"), { recursive: true });
    await settle("the recovery notices", () => rx.got.filter((g) => g.body.includes("recovered")).length >= 2);
    expect(box.read("out/prod.env")).toContain("VALUE=three");
    const recovered = rx.got.filter((g) => g.path === "/json").map((g) => JSON.parse(g.body) as { event: string });
    expect(recovered.map((n) => n.event)).toEqual(["pair-failing", "pair-recovered"]);
    expect((await status()).pairs.find((p) => p.stack === "app.prod.out")).toMatchObject({ ok: true });
  });

  it("stops with every line JSON; no canary in its output, its answers or what it sent", async () => {
    expect((await serve.stop()).code).toBe(0);
    const text = serve.stdout + serve.stderr;
    for (const line of text.split("\n").filter((l) => l.trim() !== "")) expect(() => JSON.parse(line), line).not.toThrow();
    const everything = [text, ...answers, ...rx.got.map((g) => g.body)].join("\n");
    for (const canary of [ADMIN, HOOK_SECRET, SECRET]) expect(everything).not.toContain(canary);
  });
});

describe("serve without an admin token", () => {
  const box = new Sandbox({ ESC_SYNC_WEBHOOK_SECRET: HOOK_SECRET });
  afterAll(() => box.cleanup());

  it("refuses POST /sync, /pause and /resume with 403 naming ESC_SYNC_ADMIN_TOKEN", async () => {
    box.writeManifest(APP_TO_FILES);
    box.writeEnvironment("app", "dev", env("one"));
    const serve = await ServeProcess.start(box, ["--reconcile-every", "1h"]);
    try {
      for (const path of ["/sync", "/pause", "/resume"]) {
        const r = await serve.post(path, "", { Authorization: "Bearer anything" });
        expect(r.status, path).toBe(403);
        expect(JSON.parse(r.text).error).toContain("ESC_SYNC_ADMIN_TOKEN");
      }
    } finally {
      expect((await serve.stop()).code).toBe(0);
    }
  });
});

describe("serve that cannot start", () => {
  const box = new Sandbox({ ESC_SYNC_WEBHOOK_SECRET: HOOK_SECRET });
  afterAll(() => box.cleanup());
  const run = (args: string[]) => {
    const r = spawnSync(recordedToolchain().node, [CLI, "serve", ...args], { cwd: box.dir, env: box.env, encoding: "utf8", timeout: 120_000 });
    const lines = `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.trim() !== "");
    return { code: r.status, lines, text: `${r.stdout}${r.stderr}` };
  };
  const fatal = (lines: string[]) => lines.map((l) => JSON.parse(l) as { level: number; msg: string; hint?: string }).find((l) => l.level === 60);

  beforeAll(() => {
    box.writeManifest(APP_TO_FILES);
    box.writeEnvironment("app", "dev", env("one"));
  });

  it("a port in use: exit 1, one JSON line naming the port, no stack trace", async () => {
    const holder = createNetServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
    const port = (holder.address() as AddressInfo).port;
    try {
      const r = run(["--listen", `127.0.0.1:${port}`]);
      expect(r.code).toBe(1);
      expect(fatal(r.lines)).toMatchObject({ msg: `cannot listen on 127.0.0.1:${port}: the port is in use`, hint: expect.stringContaining("--listen") });
      for (const line of r.lines) expect(() => JSON.parse(line), line).not.toThrow();
      expect(r.lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 50)).toHaveLength(1);
      expect(r.text).not.toMatch(/This is a bug|internal error|\n\s+at /);
    } finally {
      holder.close();
    }
  });

  it("an address this machine does not have: exit 1 and one clear JSON line", () => {
    // TEST-NET-1 (RFC 5737): never assigned to a machine; binding fails at once, nothing is sent.
    const r = run(["--listen", "192.0.2.1:8080"]);
    expect(r.code).toBe(1);
    expect(fatal(r.lines)?.msg).toBe("cannot listen on 192.0.2.1:8080: no interface of this machine has that address");
    expect(r.text).not.toMatch(/This is a bug|internal error/);
  });

  it("--watch with the source folder missing: exit 1 and one clear line naming the folder", () => {
    box.writeManifest(APP_TO_FILES.replace("folder: environments", "folder: no-such-folder"));
    const r = run(["--listen", "127.0.0.1:0", "--watch"]);
    expect(r.code).toBe(1);
    expect(r.lines).toHaveLength(1);
    expect(fatal(r.lines)).toMatchObject({ msg: expect.stringMatching(/--watch: the local source's folder .*no-such-folder does not exist/), hint: expect.stringContaining("source.folder") });
    expect(r.text).not.toMatch(/This is a bug|internal error|\n\s+at /);
  });
});

describe("docs/serve.md's delivery by hand (curl, signature by openssl)", () => {
  const box = new Sandbox({ ESC_SYNC_WEBHOOK_SECRET: "try-it-secret" });
  afterAll(() => box.cleanup());

  it("is accepted, and syncs the environment it names", async () => {
    const doc = readFileSync(join(REPO, "docs/serve.md"), "utf8");
    const section = doc.slice(doc.indexOf("Send one by hand"));
    const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
    expect(block).toContain("openssl dgst -sha256 -hmac");
    box.writeManifest(APP_TO_FILES.replace('environments: "app/*"', 'environments: "payments/*"'));
    box.writeEnvironment("payments", "dev", env("one"));
    const serve = await ServeProcess.start(box, ["--debounce", "0s", "--reconcile-every", "1h"]);
    try {
      await serve.reconciled();
      box.writeEnvironment("payments", "dev", env("by-hand"));
      const r = spawnSync("bash", ["-c", block.replaceAll("http://127.0.0.1:8080", serve.url)], { encoding: "utf8", timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ status: "accepted" });
      await waitUntil("the edit in out/dev.env", () => box.read("out/dev.env").includes("VALUE=by-hand"), 180_000);
    } finally {
      expect((await serve.stop()).code).toBe(0);
    }
  });
});
