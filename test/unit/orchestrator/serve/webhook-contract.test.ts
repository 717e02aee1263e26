/**
 * The contract between Pulumi's documented webhook deliveries, serve's parser and the loopback ESC
 * server's sender. The fixtures (`test/fixtures/esc-webhooks/`) are the docs' sample bodies, each
 * citing its source: serve must read every one, and every delivery the loopback server sends must
 * have the kind and the shape of the fixture of its kind. A sender or parser written from our own
 * expectations fails here.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KIND_FILTERS, readEvent } from "../../../../orchestrator/serve/events.js";
import { verifySignature } from "../../../../orchestrator/serve/signature.js";
import { startEscServer, type EscServer } from "../../../support/esc-server/index.js";
import { KIND_OF_FILTER, WebhookHub } from "../../../support/esc-server/webhooks.js";

interface Fixture {
  source: string;
  kind: string;
  filters: string[];
  body: Record<string, unknown>;
}

const FIXTURES = join(import.meta.dirname, "../../../fixtures/esc-webhooks");
const fixtures: Fixture[] = readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".json"))
  .map((f) => JSON.parse(readFileSync(join(FIXTURES, f), "utf8")) as Fixture);
const fixtureOf = (kind: string) => fixtures.find((f) => f.kind === kind);

/** A body's shape: every key path with the JSON type found there (arrays by their items' type). */
function shapeOf(value: unknown, path = ""): string[] {
  if (Array.isArray(value)) return [`${path}: array`, ...[...new Set(value.flatMap((v) => shapeOf(v, `${path}[]`)))]];
  if (value !== null && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => shapeOf(v, path ? `${path}.${k}` : k)).sort();
  return [`${path}: ${value === null ? "null" : typeof value}`];
}

describe("the documented deliveries (fixtures)", () => {
  it("cover every kind Pulumi documents, with the filters serve and the loopback sender both map to it", () => {
    expect(fixtures.map((f) => f.kind).sort()).toEqual(Object.keys(KIND_FILTERS).sort());
    for (const f of fixtures) {
      expect(f.source).toMatch(/^pulumi\/docs content\/docs\/esc\/concepts\/webhooks\.md/);
      expect([...KIND_FILTERS[f.kind as keyof typeof KIND_FILTERS]].sort(), f.kind).toEqual([...f.filters].sort());
      for (const filter of f.filters) expect(KIND_OF_FILTER[filter], filter).toBe(f.kind);
    }
  });

  it.each(fixtures.map((f) => [f.kind, f] as const))("serve reads the %s sample", (kind, f) => {
    const event = readEvent(kind, JSON.stringify(f.body));
    if (kind === "environment_tag") {
      expect(event).toEqual({ kind: "ignored", event: kind, reason: expect.stringContaining("environment tags") });
      return;
    }
    expect(event).toMatchObject({ kind: "sync", event: kind, org: "crazy-adventures", project: "website", name: "prod" });
    if (event.kind !== "sync") return;
    if ("action" in f.body) expect(event.action).toBe(f.body.action);
    expect(event.revision).toBe(f.body.revision);
    expect(event.tag).toBe(f.body.tagName);
    if (kind === "imported_environment_changed") expect(event.imported).toEqual({ project: "website", name: "base", revision: 10 });
  });

  it("a filter name sent as the kind is read as its kind (the fallback), and an unknown kind is ignored with the reason", () => {
    const body = JSON.stringify(fixtureOf("environment_revision")!.body);
    expect(readEvent("environment_revision_created", body)).toMatchObject({ kind: "sync", event: "environment_revision", action: "created", revision: 5 });
    expect(readEvent("environment_deleted", JSON.stringify({ ...fixtureOf("environment")!.body, action: undefined }))).toMatchObject({ kind: "sync", event: "environment", action: "deleted" });
    expect(readEvent("stack_update", body)).toEqual({ kind: "ignored", event: "stack_update", reason: expect.stringContaining('"stack_update"') });
    expect(readEvent("environment_revision", JSON.stringify({ projectName: "../x", environmentName: "dev" }))).toMatchObject({ kind: "ignored", reason: expect.stringContaining("projectName") });
    expect(() => readEvent("environment_revision", "{not json")).toThrow(SyntaxError);
  });

  it("the loopback sender builds, for every filter, a body of its kind's documented shape", () => {
    const hub = new WebhookHub({ login: "morty", name: "Morty Smith" });
    const details = { revision: 5, tagName: "stable", affectedRevisions: [2, 5], imported: { project: "website", name: "base", revision: 10 } };
    for (const f of fixtures) {
      for (const filter of f.filters) {
        const sent = JSON.parse(hub.payload(filter, "crazy-adventures", "website", "prod", details)) as Record<string, unknown>;
        expect(shapeOf(sent), filter).toEqual(shapeOf(f.body));
        if ("action" in f.body) expect(sent.action, filter).toBe(filter.slice(filter.lastIndexOf("_") + 1));
      }
    }
  });
});

describe("every delivery the loopback ESC server sends", () => {
  const SECRET = "contract-hook-secret";
  const TOKEN = "contract-token";
  let folder: string;
  let esc: EscServer;
  let receiver: Server;
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), "webhook-contract-"));
    mkdirSync(join(folder, "common"));
    mkdirSync(join(folder, "app"));
    writeFileSync(join(folder, "common", "base.yaml"), "values:\n  shared: one\n");
    writeFileSync(join(folder, "app", "dev.yaml"), "imports: [common/base]\nvalues:\n  own: one\n");
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d));
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    esc = await startEscServer({ folder, org: "acme", token: TOKEN });
  });
  afterAll(async () => {
    await esc?.close();
    await new Promise((r) => receiver?.close(r));
    rmSync(folder, { recursive: true, force: true });
  });

  it("has the kind, headers and body shape Pulumi documents, and serve reads it", async () => {
    const call = async (method: string, path: string, body?: string, type = "application/json") => {
      const r = await fetch(`${esc.url}${path}`, { method, headers: { Authorization: `token ${TOKEN}`, "Content-Type": type }, ...(body !== undefined ? { body } : {}) });
      expect(r.ok, `${method} ${path}: ${r.status}`).toBe(true);
    };
    const port = (receiver.address() as AddressInfo).port;
    await call("POST", "/api/orgs/acme/hooks", JSON.stringify({ organizationName: "acme", displayName: "contract", payloadUrl: `http://127.0.0.1:${port}/`, secret: SECRET, active: true, format: "raw", groups: ["environments"] }));
    await call("POST", "/api/esc/environments/acme", JSON.stringify({ project: "app", name: "fresh" }));
    await call("PATCH", "/api/esc/environments/acme/common/base", "values:\n  shared: two\n", "application/x-yaml");
    await call("POST", "/api/esc/environments/acme/app/dev/versions/tags", JSON.stringify({ name: "stable", revision: 1 }));
    await call("PATCH", "/api/esc/environments/acme/app/dev/versions/tags/stable", JSON.stringify({ revision: 1 }));
    await call("DELETE", "/api/esc/environments/acme/app/dev/versions/tags/stable");
    await call("PATCH", "/api/esc/environments/acme/app/dev", "imports: [common/base]\nvalues:\n  own: two\n", "application/x-yaml");
    await call("PATCH", "/api/esc/environments/acme/app/dev", "imports: [common/base]\nvalues:\n  own: three\n", "application/x-yaml");
    await call("POST", "/api/esc/environments/acme/app/dev/versions/2/retract", JSON.stringify({ reason: "contract" }));
    await call("POST", "/api/esc/environments/acme/app/dev/tags", JSON.stringify({ name: "team", value: "payments" }));
    await call("PATCH", "/api/esc/environments/acme/app/dev/tags/team", JSON.stringify({ currentTag: { value: "payments" }, newTag: { value: "billing" } }));
    await call("DELETE", "/api/esc/environments/acme/app/dev/tags/team");
    await call("DELETE", "/api/esc/environments/acme/app/fresh");
    await esc.webhooks.settled();

    const kinds = received.map((r) => r.headers["pulumi-webhook-kind"]);
    // Every documented kind, each from a real change made through the API.
    expect(new Set(kinds)).toEqual(new Set(fixtures.map((f) => f.kind)));
    for (const { headers, body } of received) {
      const kind = String(headers["pulumi-webhook-kind"]);
      const fixture = fixtureOf(kind);
      expect(fixture, kind).toBeDefined();
      expect(shapeOf(JSON.parse(body)), kind).toEqual(shapeOf(fixture!.body));
      expect(headers["pulumi-webhook-id"]).toMatch(/^[0-9a-f-]{36}$/);
      expect(verifySignature(SECRET, Buffer.from(body), String(headers["pulumi-webhook-signature"]))).toBe(true);
      expect(readEvent(kind, body)).toMatchObject(kind === "environment_tag" ? { kind: "ignored" } : { kind: "sync", org: "acme" });
    }
    const actions = received.map((r) => `${String(r.headers["pulumi-webhook-kind"])}:${String((JSON.parse(r.body) as { action?: string }).action)}`);
    for (const a of ["environment:created", "environment:deleted", "environment_revision:created", "environment_revision:retracted", "environment_revision_tag:created", "environment_revision_tag:updated", "environment_revision_tag:deleted", "environment_tag:created", "environment_tag:updated", "environment_tag:deleted"]) expect(actions).toContain(a);
    const importer = received.find((r) => r.headers["pulumi-webhook-kind"] === "imported_environment_changed")!;
    expect(JSON.parse(importer.body)).toMatchObject({ projectName: "app", environmentName: "dev", importedEnvironmentReference: { projectName: "common", environmentName: "base" } });
  });
});
