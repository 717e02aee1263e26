/**
 * `esc-sync serve` driven exactly as Pulumi Cloud drives it: an organisation webhook registered
 * on the loopback ESC server, real signed deliveries (with retries) on every change made through
 * the API. The hook does not subscribe to `imported_environment_changed`: serve finds importers
 * itself. Bad deliveries get their documented status and sync nothing; a lost delivery is caught
 * by the reconcile; reordered deliveries converge; /metrics parses and counts the run. No token,
 * webhook secret or secret value in any log line.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import parsePrometheus from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sign } from "../../orchestrator/serve/signature.js";
import { startEscServer, type EscServer } from "../support/esc-server/index.js";
import { cloudToFiles, Sandbox } from "../support/sandbox.js";
import { ServeProcess, waitUntil, type LogLine } from "../support/serve.js";

const TOKEN = "pul-canary-token-serve-5c2e";
const HOOK_SECRET = "whsec-canary-serve-8b1d";
const SECRET = "canary-serve-secret-a77f";

describe("serve with webhooks from the loopback ESC server", () => {
  const box = new Sandbox({ PULUMI_ACCESS_TOKEN: TOKEN, ESC_SYNC_WEBHOOK_SECRET: HOOK_SECRET });
  let server: EscServer;
  let serve: ServeProcess;
  const logs: string[] = [];

  const api = async (method: string, path: string, body?: string, contentType = "application/x-yaml") => {
    const r = await fetch(`${server.url}${path}`, { method, headers: { Authorization: `token ${TOKEN}`, "Content-Type": contentType }, ...(body !== undefined ? { body } : {}) });
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r;
  };
  const patch = (project: string, name: string, yaml: string) => api("PATCH", `/api/esc/environments/acme/${project}/${name}`, yaml);
  const app = (value: string) => `imports: [common/base]\nvalues:\n  environmentVariables:\n    VALUE: ${value}\n    TOKEN:\n      fn::secret: ${SECRET}\n`;
  const base = (shared: string) => `values:\n  environmentVariables:\n    SHARED: ${shared}\n`;
  const out = (env: string) => join(box.outDir, `app-${env}.env`);
  const holds = (env: string, text: string) => existsSync(out(env)) && box.read(`out/app-${env}.env`).includes(text);
  /** The change cycles (not reconciles) logged from `from` on, by the environments they took. */
  const changeCycles = (from = 0) => serve.lines.slice(from).filter((l) => l.msg === "cycle start" && l.trigger === "change").map((l) => l.environments as string[]);

  /** Waits (up to 3 minutes: the machine may be busy) and, on a timeout, shows serve's log. */
  const settle = (what: string, check: () => boolean) =>
    waitUntil(what, check, 180_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\nserve's log:\n${serve.stdout.slice(-6000)}`);
    });

  async function startServe(args: string[] = []): Promise<void> {
    serve = await ServeProcess.start(box, ["--debounce", "0s", ...args]);
    await serve.reconciled();
    await api("POST", "/api/orgs/acme/hooks", JSON.stringify({
      organizationName: "acme",
      displayName: "esc-sync",
      payloadUrl: `${serve.url}/webhooks/esc`,
      secret: HOOK_SECRET,
      active: true,
      format: "raw",
      filters: ["environment_revision_created", "environment_created", "environment_deleted"],
    }), "application/json");
  }
  async function stopServe(): Promise<void> {
    const exit = await serve.stop();
    logs.push(serve.stdout + serve.stderr);
    expect(exit.code).toBe(0);
    for (const hook of await (await api("GET", "/api/orgs/acme/hooks")).json() as { name: string }[]) await api("DELETE", `/api/orgs/acme/hooks/${hook.name}`);
  }

  beforeAll(async () => {
    box.writeEnvironment("common", "base", base("s1"));
    box.writeEnvironment("app", "dev", app("one"));
    box.writeEnvironment("app", "prod", app("one"));
    server = await startEscServer({ folder: box.envDir, org: "acme", token: TOKEN });
    box.writeManifest(cloudToFiles(server.url, "app/*", "out/{project}-{env}.env"));
    await startServe(["--reconcile-every", "1h"]);
  });
  afterAll(async () => {
    await serve?.stop("SIGKILL");
    await server.close();
    box.cleanup();
  });

  it("an edit reaches its target; an imported environment's edit reaches every importer's", async () => {
    expect(box.read("out/app-dev.env")).toContain("SHARED=s1");
    let from = serve.lines.length;
    await patch("app", "dev", app("two"));
    await settle("app/dev's edit in its file", () => holds("dev", "VALUE=two"));
    expect(changeCycles(from)).toContainEqual(["app/dev"]);

    from = serve.lines.length;
    await patch("common", "base", base("s2"));
    await settle("the imported edit in both importers' files", () => holds("dev", "SHARED=s2") && holds("prod", "SHARED=s2"));
    expect(changeCycles(from).flat()).toEqual(expect.arrayContaining(["common/base", "app/dev", "app/prod"]));
    // Only revision events were delivered (the hook's filters), with their kind, each accepted.
    await server.webhooks.settled();
    expect(new Set(server.webhooks.deliveries.map((d) => d.kind))).toEqual(new Set(["environment_revision"]));
    expect(server.webhooks.deliveries.every((d) => d.responseCode === 202)).toBe(true);
  });

  it("a created environment is synced; a deleted one is held by the deletion guard", async () => {
    await api("POST", "/api/esc/environments/acme", JSON.stringify({ project: "app", name: "fresh" }), "application/json");
    await patch("app", "fresh", app("new"));
    await settle("the new environment's file", () => holds("fresh", "VALUE=new"));
    const from = serve.lines.length;
    await api("DELETE", "/api/esc/environments/acme/app/fresh");
    const held = await serve.waitFor((l) => l.msg === "pair not synced" && l.stack === "app.fresh.out", 180_000, from);
    expect(held.status).toBe("held");
    expect(String(held.hint)).toMatch(/--allow-deletes/);
    expect(existsSync(out("fresh"))).toBe(true);
  });

  it("answers bad deliveries with their status codes and syncs nothing for them", async () => {
    const from = serve.lines.length;
    const payload = server.webhooks.payload("environment_revision_created", "acme", "app", "dev", { revision: 99 });
    const headers = (body: string, kind = "environment_revision", id = `test-${Math.random()}`) => ({ "Pulumi-Webhook-ID": id, "Pulumi-Webhook-Kind": kind, "Pulumi-Webhook-Signature": sign(HOOK_SECRET, body) });

    expect((await serve.post("/webhooks/esc", payload, { ...headers(payload), "Pulumi-Webhook-Signature": sign("wrong-secret", payload) })).status).toBe(401);
    const { "Pulumi-Webhook-Signature": _, ...unsigned } = headers(payload);
    expect((await serve.post("/webhooks/esc", payload, unsigned)).status).toBe(401);
    const big = JSON.stringify({ projectName: "app", environmentName: "dev", pad: "x".repeat(1024 * 1024) });
    expect((await serve.post("/webhooks/esc", big, headers(big))).status).toBe(413);
    expect((await serve.post("/webhooks/esc", "{not json", headers("{not json"))).status).toBe(400);
    const unknown = await serve.post("/webhooks/esc", payload, headers(payload, "environment_tag"));
    expect(unknown.status).toBe(202);
    expect(JSON.parse(unknown.text)).toMatchObject({ status: "ignored" });
    const { "Pulumi-Webhook-Kind": _kind, ...kindless } = headers(payload);
    const noKind = await serve.post("/webhooks/esc", payload, kindless);
    expect(noKind.status).toBe(400);
    expect(noKind.text).toContain("Pulumi-Webhook-Kind");
    // A delivery already taken, sent again (same id, valid signature): acknowledged, not acted on.
    const taken = server.webhooks.deliveries.find((d) => d.responseCode === 202)!;
    const replay = await serve.post("/webhooks/esc", taken.payload, headers(taken.payload, taken.kind, taken.id));
    expect(replay.status).toBe(202);
    expect(JSON.parse(replay.text)).toMatchObject({ status: "duplicate" });

    await new Promise((r) => setTimeout(r, 1500));
    expect(changeCycles(from)).toEqual([]);
    const results = serve.lines.slice(from).filter((l: LogLine) => l.msg === "webhook delivery").map((l) => l.result);
    expect(results).toEqual(["unauthorized", "unauthorized", "too_large", "malformed", "ignored", "malformed", "duplicate"]);
  });

  it("/metrics parses as Prometheus text and shows the counts of the run", async () => {
    const { status, text } = await serve.get("/metrics");
    expect(status).toBe(200);
    const families = new Map(parsePrometheus(text).map((f) => [f.name, f]));
    const value = (name: string, labels: Record<string, string> = {}) =>
      Number(families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value ?? NaN);
    const delivered = server.webhooks.deliveries.filter((d) => d.responseCode === 202).length;
    expect(value("esc_sync_webhook_deliveries_total", { result: "accepted" })).toBe(delivered);
    expect(value("esc_sync_webhook_deliveries_total", { result: "unauthorized" })).toBe(2);
    expect(value("esc_sync_webhook_deliveries_total", { result: "too_large" })).toBe(1);
    expect(value("esc_sync_webhook_deliveries_total", { result: "malformed" })).toBe(2);
    expect(value("esc_sync_webhook_deliveries_total", { result: "duplicate" })).toBe(1);
    // Every pair the log reports, by status, is counted once.
    const logged = new Map<string, number>();
    for (const l of serve.lines.filter((l) => l.msg === "pair done" || l.msg === "pair not synced")) logged.set(String(l.status), (logged.get(String(l.status)) ?? 0) + 1);
    expect(logged.get("created")).toBeGreaterThanOrEqual(3); // dev and prod at start, fresh
    expect(logged.get("held")).toBe(1);
    for (const [status, n] of logged) expect(value("esc_sync_syncs_total", { status }), status).toBe(n);
    const histogram = families.get("esc_sync_sync_duration_seconds");
    expect(histogram?.type).toBe("HISTOGRAM");
    expect(Number(histogram?.metrics[0]?.count)).toBe([...logged.values()].reduce((a, b) => a + b, 0));
    expect(value("esc_sync_queue_depth")).toBe(0);
    expect(value("esc_sync_last_successful_reconcile_timestamp_seconds")).toBeGreaterThan(Date.now() / 1000 - 3600);
  });

  it("restarted with --allow-deletes it removes the deleted environment's entries; a lost delivery is caught by the reconcile; reordered deliveries converge", async () => {
    await stopServe();
    await startServe(["--allow-deletes", "--reconcile-every", "4s"]);
    expect(existsSync(out("fresh"))).toBe(false);

    server.webhooks.dropNext(1);
    await patch("app", "dev", app("lost"));
    await settle("the reconcile to bring the lost edit", () => holds("dev", "VALUE=lost"));

    server.webhooks.hold();
    await patch("app", "prod", app("first"));
    await patch("app", "prod", app("second"));
    server.webhooks.release("reverse");
    await server.webhooks.settled();
    await settle("the last edit in app/prod's file", () => holds("prod", "VALUE=second"));
    await stopServe();
    for (const text of logs) {
      for (const canary of [TOKEN, HOOK_SECRET, SECRET]) expect(text).not.toContain(canary);
    }
  });
});
