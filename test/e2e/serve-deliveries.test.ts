/**
 * `esc-sync serve` given the deliveries Pulumi documents (test/fixtures/esc-webhooks/, copied from
 * pulumi/docs), over the loopback ESC server and the real Pulumi CLI: the docs' sample
 * `environment_revision` body, signed, brings an edit to its target without --watch and without a
 * reconcile; a revision every pair already wrote does not start the engine; an
 * `environment_revision_tag` delivery sent by the loopback server syncs the pair pinned to that
 * tag, and a retraction moves the pinned pair to the replacement; a delivery without `Pulumi-Webhook-Kind` is 400 naming the header; an unknown kind is 202
 * with its reason and counted by kind; a rotation is propagated at once and logged with its time.
 * No token, webhook secret or secret value in any line; every line of serve is JSON.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import parsePrometheus from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sign } from "../../orchestrator/serve/signature.js";
import { startEscServer, type EscServer } from "../support/esc-server/index.js";
import { Sandbox } from "../support/sandbox.js";
import { ServeProcess, waitUntil } from "../support/serve.js";

const TOKEN = "pul-canary-token-deliveries-41aa";
const HOOK_SECRET = "whsec-canary-deliveries-0c7e";
const SECRET = "canary-deliveries-secret-d93b";

/** The docs' sample body of `kind`, renamed to an environment of this test. */
function sample(kind: string, project: string, name: string, fields: Record<string, unknown> = {}): string {
  const fixture = JSON.parse(readFileSync(join(import.meta.dirname, "../fixtures/esc-webhooks", `${kind}.json`), "utf8")) as { body: Record<string, unknown> };
  const body = fixture.body as { organization: Record<string, unknown> };
  return JSON.stringify({ ...body, organization: { ...body.organization, githubLogin: "acme" }, projectName: project, environmentName: name, ...fields });
}

describe("serve acting on deliveries as Pulumi sends them", () => {
  const box = new Sandbox({ PULUMI_ACCESS_TOKEN: TOKEN, ESC_SYNC_WEBHOOK_SECRET: HOOK_SECRET });
  let server: EscServer;
  let serve: ServeProcess;
  let ids = 0;

  const api = async (method: string, path: string, body?: string, contentType = "application/json") => {
    const r = await fetch(`${server.url}${path}`, { method, headers: { Authorization: `token ${TOKEN}`, "Content-Type": contentType }, ...(body !== undefined ? { body } : {}) });
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r;
  };
  const app = (value: string) => `values:\n  environmentVariables:\n    VALUE: ${value}\n    TOKEN:\n      fn::secret: ${SECRET}\n`;
  /** The latest revision, as the API says it. */
  const latest = async () => Number((await api("GET", "/api/esc/environments/acme/app/dev")).headers.get("pulumi-esc-revision"));
  const deliver = (kind: string | undefined, body: string) =>
    serve.post("/webhooks/esc", body, { "Pulumi-Webhook-ID": `hand-${++ids}`, ...(kind ? { "Pulumi-Webhook-Kind": kind } : {}), "Pulumi-Webhook-Signature": sign(HOOK_SECRET, body) });
  const cycles = (from: number, trigger: string) => serve.lines.slice(from).filter((l) => l.msg === "cycle start" && l.trigger === trigger);
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const families = parsePrometheus((await serve.get("/metrics")).text);
    return Number(families.find((f) => f.name === name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value ?? NaN);
  };
  const settle = (what: string, check: () => boolean) =>
    waitUntil(what, check, 180_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\nserve's log:\n${serve.stdout.slice(-6000)}`);
    });

  beforeAll(async () => {
    box.writeEnvironment("app", "dev", app("one"));
    server = await startEscServer({ folder: box.envDir, org: "acme", token: TOKEN });
    await api("POST", "/api/esc/environments/acme/app/dev/versions/tags", JSON.stringify({ name: "stable", revision: 1 }));
    box.writeManifest(`
version: 1
source: { kind: pulumi-cloud, org: acme, apiUrl: "${server.url}" }
state: { backend: file://./state }
targets:
  out: { kind: file, path: "out/{env}.env" }
  pinned: { kind: file, path: "out/pinned-{env}.env" }
bindings:
  - { environments: "app/*", target: out }
  - { id: pinned, environments: "app/*", target: pinned, revision: stable }
`);
    serve = await ServeProcess.start(box, ["--debounce", "0s", "--reconcile-every", "1h"]);
    await serve.reconciled();
  });
  afterAll(async () => {
    await serve?.stop("SIGKILL");
    await server?.close();
    box.cleanup();
  });

  it("the docs' environment_revision sample, signed, brings an edit to its target without --watch or a reconcile", async () => {
    expect(box.read("out/dev.env")).toContain("VALUE=one");
    // Edited behind the API's back: the loopback server sends nothing; only the delivery tells serve.
    box.writeEnvironment("app", "dev", app("two"));
    const revision = await latest();
    const from = serve.lines.length;
    const r = await deliver("environment_revision", sample("environment_revision", "app", "dev", { revision }));
    expect(r.status).toBe(202);
    expect(JSON.parse(r.text)).toEqual({ status: "accepted" });
    await settle("the edit in out/dev.env", () => box.read("out/dev.env").includes("VALUE=two"));
    expect(cycles(from, "change").map((l) => l.environments)).toEqual([["app/dev"]]);
    expect(cycles(0, "reconcile")).toHaveLength(1);
    // The pinned pair still holds the tagged revision.
    expect(box.read("out/pinned-dev.env")).toContain("VALUE=one");
  });

  it("a revision every pair already wrote (late, or twice) does not start the engine", async () => {
    await settle("the change cycle's end", () => serve.lines.some((l) => l.msg === "cycle done" && l.trigger === "change"));
    const revision = await latest();
    const from = serve.lines.length;
    for (const r of [revision, revision - 1]) {
      const answer = await deliver("environment_revision", sample("environment_revision", "app", "dev", { revision: r }));
      expect(answer.status).toBe(202);
      expect(JSON.parse(answer.text)).toMatchObject({ status: "already-synced" });
    }
    // The answer is given before anything is queued: nothing was.
    expect(cycles(from, "change")).toEqual([]);
    expect(await metric("esc_sync_webhook_events_total", { kind: "environment_revision", outcome: "already_synced" })).toBe(2);
    expect(await metric("esc_sync_queue_depth")).toBe(0);
    // /status says which revision each pair wrote: the latest, and the tagged one for the pinned pair.
    const status = JSON.parse((await serve.get("/status")).text) as { pairs: { stack: string; ok: boolean; revision?: unknown }[] };
    expect(status.pairs).toEqual([
      expect.objectContaining({ stack: "app.dev.out", ok: true, revision: { number: revision } }),
      expect.objectContaining({ stack: "app.dev.pinned", ok: true, revision: { number: 1, tag: "stable", pinned: true } }),
    ]);
    expect(JSON.stringify(status)).not.toContain(SECRET);
  });

  it("an environment_revision_tag delivery from the loopback server syncs the pair pinned to that tag", async () => {
    await api("POST", "/api/orgs/acme/hooks", JSON.stringify({ organizationName: "acme", displayName: "esc-sync", payloadUrl: `${serve.url}/webhooks/esc`, secret: HOOK_SECRET, active: true, format: "raw", groups: ["environments"] }));
    await api("PATCH", "/api/esc/environments/acme/app/dev/versions/tags/stable", JSON.stringify({ revision: await latest() }));
    await settle("the tagged revision in out/pinned-dev.env", () => box.read("out/pinned-dev.env").includes("VALUE=two"));
    await server.webhooks.settled();
    const tagged = server.webhooks.deliveries.filter((d) => d.kind === "environment_revision_tag");
    expect(tagged).toHaveLength(1);
    expect(tagged[0]!.responseCode).toBe(202);
    expect(JSON.parse(tagged[0]!.payload)).toMatchObject({ tagName: "stable", action: "updated" });
  });

  it("answers a delivery without Pulumi-Webhook-Kind with 400 naming the header, and an unknown kind with 202 and the reason, counted by kind", async () => {
    const body = sample("environment_revision", "app", "dev", { revision: 1 });
    const missing = await deliver(undefined, body);
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.text).error).toContain("Pulumi-Webhook-Kind");
    const unknown = await deliver("stack_update_succeeded", body);
    expect(unknown.status).toBe(202);
    expect(JSON.parse(unknown.text)).toEqual({ status: "ignored", reason: expect.stringContaining("stack_update_succeeded") });
    const tag = await deliver("environment_tag", sample("environment_tag", "app", "dev"));
    expect(JSON.parse(tag.text)).toMatchObject({ status: "ignored", reason: expect.stringContaining("environment tags") });
    expect(await metric("esc_sync_webhook_events_total", { kind: "stack_update_succeeded", outcome: "ignored" })).toBe(1);
    expect(await metric("esc_sync_webhook_events_total", { kind: "environment_tag", outcome: "ignored" })).toBe(1);
    const logged = serve.lines.find((l) => l.msg === "webhook delivery" && l.kind === "stack_update_succeeded");
    expect(logged).toMatchObject({ result: "ignored" });
    // An environment tag set through the API: delivered by the loopback server, acknowledged, nothing synced.
    const from = serve.lines.length;
    await api("POST", "/api/esc/environments/acme/app/dev/tags", JSON.stringify({ name: "team", value: "payments" }));
    await server.webhooks.settled();
    const labelled = server.webhooks.deliveries.filter((d) => d.kind === "environment_tag");
    expect(labelled.map((d) => [d.responseCode, JSON.parse(d.responseBody).status])).toEqual([[202, "ignored"]]);
    expect(cycles(from, "change")).toEqual([]);
  });

  it("a rotation is synced at once and logged as propagated with the time from delivery to the last target written", async () => {
    box.writeEnvironment("app", "dev", app("rotated"));
    const revision = await latest();
    const from = serve.lines.length;
    const r = await deliver("environment_rotation_succeeded", sample("environment_revision", "app", "dev", { revision, action: undefined }));
    expect(r.status).toBe(202);
    const line = await serve.waitFor((l) => l.msg === "rotation propagated", 180_000, from).catch((err: unknown) => {
      throw new Error(`${String(err).slice(0, 200)}\nserve's log since the delivery:\n${serve.lines.slice(from).map((l) => JSON.stringify(l)).join("\n")}`);
    });
    // Read back as drift reads it: the file target holds the rotated value.
    expect(line).toMatchObject({ environment: "app/dev", revision, readback: "in-sync", level: 30 });
    expect(typeof line.durationMs).toBe("number");
    expect(box.read("out/dev.env")).toContain("VALUE=rotated");
    expect(await metric("esc_sync_rotations_propagated_total")).toBe(1);
  });

  it("a retraction of the revision a tag points at moves the tag, and the pinned pair follows it", async () => {
    // stable is at revision 2 (the tag test); retracting 2 moves it to 1, whose VALUE is one.
    await api("POST", "/api/esc/environments/acme/app/dev/versions/2/retract", JSON.stringify({ reason: "bad value" }));
    await settle("the replacement revision in out/pinned-dev.env", () => box.read("out/pinned-dev.env").includes("VALUE=one"));
    await server.webhooks.settled();
    const retracted = server.webhooks.deliveries.find((d) => d.kind === "environment_revision" && (JSON.parse(d.payload) as { action?: string }).action === "retracted");
    expect(retracted).toMatchObject({ responseCode: 202 });
    expect(box.read("out/dev.env")).toContain("VALUE=rotated");
  });

  it("stops on SIGTERM with every line JSON and no canary anywhere", async () => {
    const exit = await serve.stop();
    expect(exit.code).toBe(0);
    const text = serve.stdout + serve.stderr;
    for (const canary of [TOKEN, HOOK_SECRET, SECRET]) expect(text).not.toContain(canary);
    for (const line of text.split("\n").filter((l) => l.trim() !== "")) expect(() => JSON.parse(line), line).not.toThrow();
    expect(serve.lines.some((l) => String(l.msg).includes("SIGTERM"))).toBe(true);
  });
});
